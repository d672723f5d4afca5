//! Accurate identification (精准识别): checks of the register's data that find
//! households whose records contradict themselves or the rules of assistance.
//! Each check is a condition on `household`, so its households are counted and
//! paged in SQL like any other list; only the ID-number check reads members in
//! Rust, as GB 11643 check characters are not computed in SQL.

use std::collections::BTreeSet;

use async_graphql::{Context, Enum, ID, Object};
use chrono::{Days, NaiveDate};
use entity::enums::{
    Gender, HelpKind, HouseholdStatus, LabourAbility, MeasureCategory, MeasureStatus,
};
use entity::{
    helper_pairing, household, household_income, measure, member, poverty_line, visit, visit_help,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};
use tokio::sync::OnceCell;

use super::context::{db, page, viewer};
use super::household::{Household, HouseholdOrder};
use super::region::{find_region, village_in};
use super::relay::{Conn, NodeKind, PageArgs, page_cost, paginate};
use crate::access;
use crate::codes::check_id_number;
use crate::domain::calendar;
use crate::error::{ApiError, ApiResult};

/// Members read at a time by the ID-number check.
const SCAN_BATCH: u64 = 5_000;
/// Longest look-back for visits, in days: ten years.
const MAX_STALE_VISIT_DAYS: i32 = 3_660;
/// Most of a household's latest visits the material-help check looks at.
const MAX_RECENT_VISITS: i32 = 50;

/// A kind of problem in the register's data (数据问题类型).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DataProblem {
    /// An active member's ID number is invalid or contradicts their gender (身份证号码有误).
    InvalidIdNumber,
    /// One ID number in two households (一人多户).
    PersonInTwoHouseholds,
    /// Poor, with an income far above the line (收入远超贫困标准).
    EnrolledFarAboveLine,
    /// Lifted out, with an income under the line (脱贫户收入低于标准).
    LiftedOutUnderLine,
    /// A member who lost the ability to work, without a safety net (丧失劳动力未兜底).
    LostLabourWithoutSafetyNet,
    /// A dilapidated house without a housing measure (危房未改造).
    DilapidatedWithoutHousingMeasure,
    /// No helper cadre paired now (未落实帮扶责任人).
    NoHelper,
    /// No recent visit (长期未走访).
    NoRecentVisit,
    /// Measures past their deadline (帮扶措施逾期).
    OverdueMeasures,
    /// Help only a formality: the latest visits brought goods or money and nothing else (帮扶形式化).
    MaterialHelpOnly,
}

impl DataProblem {
    const ALL: [DataProblem; 10] = [
        DataProblem::InvalidIdNumber,
        DataProblem::PersonInTwoHouseholds,
        DataProblem::EnrolledFarAboveLine,
        DataProblem::LiftedOutUnderLine,
        DataProblem::LostLabourWithoutSafetyNet,
        DataProblem::DilapidatedWithoutHousingMeasure,
        DataProblem::NoHelper,
        DataProblem::NoRecentVisit,
        DataProblem::OverdueMeasures,
        DataProblem::MaterialHelpOnly,
    ];

    fn description(self) -> &'static str {
        match self {
            DataProblem::InvalidIdNumber => {
                "An active member's resident ID number fails GB 11643 (wrong check character, \
                 or no valid birth date), or its gender digit disagrees with the member's \
                 recorded gender: the members' ID numbers are at fault (身份证号码有误)."
            }
            DataProblem::PersonInTwoHouseholds => {
                "An active member's ID number is also active in another household, which may \
                 lie outside the region (一人多户)."
            }
            DataProblem::EnrolledFarAboveLine => {
                "Enrolled or returned to poverty, yet the per-capita net income of the latest \
                 recorded year is at least twice that year's poverty line (收入远超贫困标准仍在册)."
            }
            DataProblem::LiftedOutUnderLine => {
                "Lifted out of poverty, yet the per-capita net income of the latest recorded \
                 year is below that year's poverty line (脱贫户收入低于贫困标准)."
            }
            DataProblem::LostLabourWithoutSafetyNet => {
                "An active member has lost the ability to work, and the household has no social \
                 security measure that is not cancelled (丧失劳动力未落实兜底保障)."
            }
            DataProblem::DilapidatedWithoutHousingMeasure => {
                "The house is graded dilapidated, and there is no housing renovation or \
                 relocation measure that is not cancelled (危房未纳入改造或搬迁)."
            }
            DataProblem::NoHelper => {
                "Enrolled, returned or under monitoring, with no helper cadre paired now \
                 (未落实帮扶责任人)."
            }
            DataProblem::NoRecentVisit => {
                "Enrolled, returned or under monitoring, with no visit within the last \
                 `staleVisitDays` days (长期未入户走访)."
            }
            DataProblem::OverdueMeasures => {
                "A measure is past its deadline (时间节点) and neither done nor cancelled \
                 (帮扶措施逾期未完成)."
            }
            DataProblem::MaterialHelpOnly => {
                "Enrolled, returned or under monitoring, and the help recorded on its latest \
                 `recentVisits` visits (or on all, if fewer) is material help only: goods or \
                 money, no policy explained, problem solved, technical help or training \
                 (帮扶形式化，只送钱物)."
            }
        }
    }
}

/// The day a visit must be on or after to count as recent.
fn visits_since(today: NaiveDate, stale_visit_days: i32) -> ApiResult<NaiveDate> {
    let days = u64::try_from(stale_visit_days)
        .ok()
        .filter(|d| *d <= MAX_STALE_VISIT_DAYS as u64)
        .ok_or_else(|| {
            ApiError::bad_input(
                "staleVisitDays",
                format!("give a number of days from 0 to {MAX_STALE_VISIT_DAYS}"),
            )
        })?;
    today
        .checked_sub_days(Days::new(days))
        .ok_or_else(|| ApiError::bad_input("staleVisitDays", "too far back"))
}

/// How many of a household's latest visits the material-help check looks at.
fn recent_visit_count(recent_visits: i32) -> ApiResult<u64> {
    u64::try_from(recent_visits)
        .ok()
        .filter(|n| (1..=MAX_RECENT_VISITS as u64).contains(n))
        .ok_or_else(|| {
            ApiError::bad_input(
                "recentVisits",
                format!("give a number of visits from 1 to {MAX_RECENT_VISITS}"),
            )
        })
}

/// `"household"."id"` of the household a subquery is correlated with.
fn this_household() -> Expr {
    Expr::col((household::Entity, household::Column::Id))
}

/// Some row of `entity` belongs to the household and meets `condition`.
fn exists_for_household<E: EntityTrait>(
    entity: E,
    household_column: E::Column,
    condition: Condition,
) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(entity)
            .and_where(Expr::col((entity, household_column)).eq(this_household()))
            .cond_where(condition)
            .to_owned(),
    )
}

/// A measure of one of `categories` that is not cancelled.
fn live_measure(categories: &[MeasureCategory]) -> Expr {
    exists_for_household(
        measure::Entity,
        measure::Column::HouseholdId,
        Condition::all()
            .add(measure::Column::Category.is_in(categories.iter().copied()))
            .add(measure::Column::Status.ne(MeasureStatus::Cancelled)),
    )
}

/// The household's latest income year has a poverty line, and `compare`
/// (per-capita net, line) holds for it.
fn latest_income(compare: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    use household_income::Column as I;
    let latest = Alias::new("latest");
    let later = Alias::new("later");
    let newer_year = Query::select()
        .expr(Expr::val(1))
        .from_as(household_income::Entity, later.clone())
        .and_where(Expr::col((later.clone(), I::HouseholdId)).eq(this_household()))
        .and_where(Expr::col((later, I::Year)).gt(Expr::col((latest.clone(), I::Year))))
        .to_owned();
    let line = Expr::col((poverty_line::Entity, poverty_line::Column::AnnualFen));
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(household_income::Entity, latest.clone())
            .inner_join(
                poverty_line::Entity,
                Expr::col((poverty_line::Entity, poverty_line::Column::Year))
                    .equals((latest.clone(), I::Year)),
            )
            .and_where(Expr::col((latest.clone(), I::HouseholdId)).eq(this_household()))
            .and_where(Expr::not_exists(newer_year))
            .and_where(compare(Expr::col((latest, I::PerCapitaNetFen)), line))
            .to_owned(),
    )
}

/// The IDs of the household's latest `count` visits, by day, then by entry.
fn latest_visits(count: u64) -> SelectStatement {
    Query::select()
        .column((visit::Entity, visit::Column::Id))
        .from(visit::Entity)
        .and_where(Expr::col((visit::Entity, visit::Column::HouseholdId)).eq(this_household()))
        .order_by((visit::Entity, visit::Column::VisitedOn), Order::Desc)
        .order_by((visit::Entity, visit::Column::Id), Order::Desc)
        .limit(count)
        .to_owned()
}

/// Help that is (`material`) or is not material help recorded on one of the
/// household's latest `count` visits.
fn help_on_latest_visits(count: u64, material: bool) -> Expr {
    let kind = if material {
        visit_help::Column::Kind.eq(HelpKind::MaterialHelp)
    } else {
        visit_help::Column::Kind.ne(HelpKind::MaterialHelp)
    };
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(visit_help::Entity)
            .and_where(visit_help::Column::VisitId.in_subquery(latest_visits(count)))
            .and_where(kind)
            .to_owned(),
    )
}

/// Households that must have a helper and visits: poor now, or monitored.
fn needs_assistance() -> Condition {
    Condition::any()
        .add(
            household::Column::Status.is_in([HouseholdStatus::Enrolled, HouseholdStatus::Returned]),
        )
        .add(household::Column::Monitoring.is_not_null())
}

/// ID numbers active in more than one household.
fn shared_id_numbers() -> SelectStatement {
    Query::select()
        .column(member::Column::IdNumber)
        .from(member::Entity)
        .and_where(member::Column::IsActive.eq(true))
        .group_by_col(member::Column::IdNumber)
        .and_having(
            Expr::col(member::Column::HouseholdId)
                .count_distinct()
                .gt(1),
        )
        .to_owned()
}

/// How the households with a problem are found: a condition on `household`,
/// or, for ID numbers, by reading members.
fn affected_by(
    problem: DataProblem,
    today: NaiveDate,
    visits_since: NaiveDate,
    recent_visits: u64,
) -> Affected {
    use household::Column as H;
    let poor = || H::Status.is_in([HouseholdStatus::Enrolled, HouseholdStatus::Returned]);
    let condition = Condition::all();
    Affected::Where(match problem {
        DataProblem::InvalidIdNumber => return Affected::InvalidIdNumbers(OnceCell::new()),
        DataProblem::PersonInTwoHouseholds => condition.add(exists_for_household(
            member::Entity,
            member::Column::HouseholdId,
            Condition::all()
                .add(member::Column::IsActive.eq(true))
                .add(member::Column::IdNumber.in_subquery(shared_id_numbers())),
        )),
        DataProblem::EnrolledFarAboveLine => condition
            .add(poor())
            .add(latest_income(|income, line| income.gte(line.mul(2)))),
        DataProblem::LiftedOutUnderLine => condition
            .add(H::Status.eq(HouseholdStatus::LiftedOut))
            .add(latest_income(|income, line| income.lt(line))),
        DataProblem::LostLabourWithoutSafetyNet => condition
            .add(exists_for_household(
                member::Entity,
                member::Column::HouseholdId,
                Condition::all()
                    .add(member::Column::IsActive.eq(true))
                    .add(member::Column::LabourAbility.eq(LabourAbility::Lost)),
            ))
            .add(live_measure(&[MeasureCategory::SocialSecurity]).not()),
        DataProblem::DilapidatedWithoutHousingMeasure => {
            condition.add(H::DilapidatedGrade.is_not_null()).add(
                live_measure(&[
                    MeasureCategory::HousingRenovation,
                    MeasureCategory::Relocation,
                ])
                .not(),
            )
        }
        DataProblem::NoHelper => condition.add(needs_assistance()).add(
            exists_for_household(
                helper_pairing::Entity,
                helper_pairing::Column::HouseholdId,
                Condition::all().add(helper_pairing::Column::EndedOn.is_null()),
            )
            .not(),
        ),
        DataProblem::NoRecentVisit => condition.add(needs_assistance()).add(
            exists_for_household(
                visit::Entity,
                visit::Column::HouseholdId,
                Condition::all().add(visit::Column::VisitedOn.gte(visits_since)),
            )
            .not(),
        ),
        DataProblem::OverdueMeasures => condition.add(exists_for_household(
            measure::Entity,
            measure::Column::HouseholdId,
            Condition::all()
                .add(measure::Column::Deadline.lt(today))
                .add(
                    measure::Column::Status
                        .is_not_in([MeasureStatus::Done, MeasureStatus::Cancelled]),
                ),
        )),
        DataProblem::MaterialHelpOnly => condition
            .add(needs_assistance())
            .add(help_on_latest_visits(recent_visits, true))
            .add(help_on_latest_visits(recent_visits, false).not()),
    })
}

/// Whether an ID number passes GB 11643 and agrees with the recorded gender.
fn id_number_is_sound(id_number: &str, gender: Gender, today: NaiveDate) -> bool {
    check_id_number(id_number, today).is_ok_and(|facts| facts.gender == gender)
}

/// The households among `households` with an active member whose ID number is
/// not sound, in ID order: members are read in keyset batches.
async fn households_with_invalid_id_numbers(
    db: &DatabaseConnection,
    households: Select<household::Entity>,
    today: NaiveDate,
) -> ApiResult<Vec<i64>> {
    let reached = households
        .select_only()
        .column(household::Column::Id)
        .into_query();
    let mut flagged = BTreeSet::new();
    let mut last_member = 0;
    loop {
        let batch: Vec<(i64, i64, String, Gender)> = member::Entity::find()
            .select_only()
            .columns([
                member::Column::Id,
                member::Column::HouseholdId,
                member::Column::IdNumber,
                member::Column::Gender,
            ])
            .filter(member::Column::IsActive.eq(true))
            .filter(member::Column::HouseholdId.in_subquery(reached.clone()))
            .filter(member::Column::Id.gt(last_member))
            .order_by_asc(member::Column::Id)
            .limit(SCAN_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&(last, ..)) = batch.last() else {
            break;
        };
        last_member = last;
        flagged.extend(
            batch
                .iter()
                .filter(|(_, _, id_number, gender)| !id_number_is_sound(id_number, *gender, today))
                .map(|(_, household_id, ..)| *household_id),
        );
        if (batch.len() as u64) < SCAN_BATCH {
            break;
        }
    }
    Ok(flagged.into_iter().collect())
}

/// The households with a problem, given as a condition or found by reading members.
enum Affected {
    Where(Condition),
    /// Found on first use, then kept for the count and the page.
    InvalidIdNumbers(OnceCell<Vec<i64>>),
}

/// One kind of problem and what finds its households.
pub struct DataQualityCheck {
    kind: DataProblem,
    /// The region's households the viewer reaches.
    households: Select<household::Entity>,
    affected: Affected,
    today: NaiveDate,
}

impl DataQualityCheck {
    /// The affected households as a condition on `household`.
    async fn condition(&self, db: &DatabaseConnection) -> ApiResult<Condition> {
        match &self.affected {
            Affected::Where(condition) => Ok(condition.clone()),
            Affected::InvalidIdNumbers(found) => {
                let ids = self.invalid_id_households(db, found).await?;
                if ids.is_empty() {
                    return Ok(Condition::all().add(Expr::cust("1 = 0")));
                }
                // Our own integers, written into the SQL: a list of bound values could
                // exceed the backends' limit on parameters.
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                Ok(Condition::all().add(Expr::cust(format!(
                    "\"household\".\"id\" IN ({})",
                    list.join(",")
                ))))
            }
        }
    }

    async fn invalid_id_households<'a>(
        &self,
        db: &DatabaseConnection,
        found: &'a OnceCell<Vec<i64>>,
    ) -> ApiResult<&'a Vec<i64>> {
        found
            .get_or_try_init(|| {
                households_with_invalid_id_numbers(db, self.households.clone(), self.today)
            })
            .await
    }
}

/// One kind of problem in the register's data and the households it affects (数据质量检查).
#[Object]
impl DataQualityCheck {
    /// The kind of problem (问题类型).
    async fn kind(&self) -> DataProblem {
        self.kind
    }
    /// What the problem is and how it is found (问题说明).
    async fn description(&self) -> &'static str {
        self.kind.description()
    }
    /// Number of households affected (问题户数).
    async fn count(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        let db = db(ctx)?;
        match &self.affected {
            Affected::InvalidIdNumbers(found) => {
                Ok(self.invalid_id_households(db, found).await?.len() as u64)
            }
            Affected::Where(condition) => Ok(self
                .households
                .clone()
                .filter(condition.clone())
                .count(db)
                .await?),
        }
    }
    /// The households affected, in order of enrolment (问题户).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn households(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Items from the start of the list, or after `after`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); 20 when neither `first` nor `last` is given (每页条数)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of an edge of this list: the page starts after it (游标).")]
        after: Option<String>,
        #[graphql(
            desc = "Items from the end of the list, or before `before`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); not with `first` (每页条数)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor of an edge of this list: the page ends before it, paging backwards; with `last`, not with `after` (游标)."
        )]
        before: Option<String>,
    ) -> ApiResult<Conn<Household>> {
        let db = db(ctx)?;
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        let select = self.households.clone().filter(self.condition(db).await?);
        let key = HouseholdOrder::default().sort_key();
        paginate(ctx, select, &key, page, Household).await
    }
}

#[derive(Default)]
pub struct QualityQuery;

/// Number of checks `dataQuality` returns, for its complexity.
const CHECKS: usize = DataProblem::ALL.len();

#[Object]
impl QualityQuery {
    /// Checks of the register's data for the households of a county, township or
    /// village that the caller reaches, one per kind of problem (数据质量检查).
    /// Counts and lists are computed only when selected.
    #[graphql(
        complexity = "super::cost::priced(super::cost::DATA_QUALITY, CHECKS.saturating_mul(child_complexity))"
    )]
    async fn data_quality(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The county, township or village (区域).")] region_id: ID,
        #[graphql(
            default = 90,
            desc = "Days after which a household's last visit is too old (走访间隔天数)."
        )]
        stale_visit_days: i32,
        #[graphql(
            default = 3,
            desc = "How many of a household's latest visits the MATERIAL_HELP_ONLY check looks at (最近走访次数)."
        )]
        recent_visits: i32,
    ) -> ApiResult<Vec<DataQualityCheck>> {
        let today = calendar::today();
        let since = visits_since(today, stale_visit_days)?;
        let recent_visits = recent_visit_count(recent_visits)?;
        let region = find_region(
            ctx,
            &region_id,
            "regionId",
            &[NodeKind::County, NodeKind::Township, NodeKind::Village],
        )
        .await?;
        let households = access::select::<household::Entity>(viewer(ctx)?)
            .filter(village_in(household::Column::VillageId, &region));
        Ok(DataProblem::ALL
            .into_iter()
            .map(|kind| DataQualityCheck {
                kind,
                households: households.clone(),
                affected: affected_by(kind, today, since, recent_visits),
                today,
            })
            .collect())
    }
}
