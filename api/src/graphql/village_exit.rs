//! A poverty village's survey and exit (贫困村出列): the criteria as they stand,
//! the township's proposal and notice, the county's decision and announcement.
//! The rules are `domain::village_exit`.

use crate::graphql::date::Day;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::VillageExitStage;
use entity::{region, village_exit};
use sea_orm::{ColumnTrait, QueryFilter};

use super::context::{actor, db, loaders, viewer};
use super::money::Money;
use super::notice::{NoticeInput, PaperNotice};
use super::region::{Village, find_region};
use super::relay::{NodeKind, decode_id_of, global_id};
use crate::access;
use crate::domain::{calendar, village_exit as rules};
use crate::error::ApiResult;

/// What a village's exit is judged on (出列标准).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ExitCriterion {
    /// Poverty incidence under 3% in the west, 2% elsewhere (贫困发生率).
    Incidence,
    /// Collective economy income of at least 50,000 yuan, last year or this (村集体经济收入).
    CollectiveIncome,
    /// A hardened road to the village (通硬化路).
    HardenedRoad,
    /// Safe drinking water (饮水安全).
    SafeDrinkingWater,
    /// Grid power for living and production (通动力电).
    GridPower,
    /// A standard clinic (标准化卫生室).
    StandardClinic,
    /// A school within reach (义务教育就学有保障).
    SchoolWithinReach,
    /// Broadband (通宽带).
    Broadband,
}

impl From<rules::Criterion> for ExitCriterion {
    fn from(c: rules::Criterion) -> Self {
        match c {
            rules::Criterion::Incidence => Self::Incidence,
            rules::Criterion::CollectiveIncome => Self::CollectiveIncome,
            rules::Criterion::HardenedRoad => Self::HardenedRoad,
            rules::Criterion::SafeDrinkingWater => Self::SafeDrinkingWater,
            rules::Criterion::GridPower => Self::GridPower,
            rules::Criterion::StandardClinic => Self::StandardClinic,
            rules::Criterion::SchoolWithinReach => Self::SchoolWithinReach,
            rules::Criterion::Broadband => Self::Broadband,
        }
    }
}

/// One criterion as the village stands on it (达标情况).
#[derive(SimpleObject)]
pub struct ExitCriterionStanding {
    /// The criterion (标准).
    criterion: ExitCriterion,
    /// Whether it is met (是否达标).
    met: bool,
    /// Where the village stands on it (说明).
    detail: String,
}

/// A village's exit criteria (出列标准核查): as they stand, or as proposed.
#[derive(SimpleObject)]
pub struct VillageExitCheck {
    /// People of its households still poor (贫困人口).
    poor_people: i64,
    /// Its rural registered population (农村户籍人口).
    rural_population: Option<i32>,
    /// Poor people over the rural population (贫困发生率).
    poverty_incidence: Option<f64>,
    /// The incidence under which it may exit (退出标准).
    exit_threshold: f64,
    /// Whether every criterion is met (是否达到出列标准).
    met: bool,
    /// Each criterion (各项标准).
    criteria: Vec<ExitCriterionStanding>,
}

impl From<rules::ExitCheck> for VillageExitCheck {
    fn from(check: rules::ExitCheck) -> Self {
        Self {
            poor_people: check.poor_people,
            rural_population: check.rural_population,
            poverty_incidence: check.incidence,
            exit_threshold: check.threshold,
            met: check.criteria.iter().all(|s| s.met),
            criteria: check
                .criteria
                .into_iter()
                .map(|s| ExitCriterionStanding {
                    criterion: s.criterion.into(),
                    met: s.met,
                    detail: s.detail,
                })
                .collect(),
        }
    }
}

/// A village's facilities as last surveyed (村情); null where not surveyed.
#[derive(SimpleObject)]
pub struct VillageSurvey {
    /// A hardened road to the village (通硬化路).
    hardened_road: Option<bool>,
    /// Safe drinking water (饮水安全).
    safe_drinking_water: Option<bool>,
    /// Grid power for living and production (通动力电).
    grid_power: Option<bool>,
    /// A standard clinic with a qualified doctor (标准化卫生室).
    standard_clinic: Option<bool>,
    /// A school within reach for compulsory education (义务教育就学有保障).
    school_within_reach: Option<bool>,
    /// Broadband (通宽带).
    broadband: Option<bool>,
    /// The day of the survey (调查日期).
    surveyed_on: Option<Day>,
}

impl VillageSurvey {
    pub fn of(v: &region::Model) -> Self {
        Self {
            hardened_road: v.hardened_road,
            safe_drinking_water: v.safe_drinking_water,
            grid_power: v.grid_power,
            standard_clinic: v.standard_clinic,
            school_within_reach: v.school_within_reach,
            broadband: v.broadband,
            surveyed_on: v.surveyed_on.map(Day),
        }
    }
}

/// Where a village stands on the exit criteria today.
pub async fn exit_check_of(ctx: &Context<'_>, v: &region::Model) -> ApiResult<VillageExitCheck> {
    Ok(rules::check(db(ctx)?, v, calendar::today()).await?.into())
}

/// A village's exits, newest first.
pub async fn exits_of(ctx: &Context<'_>, v: &region::Model) -> ApiResult<Vec<VillageExit>> {
    let exits = rules::exits_under(db(ctx)?, access::code_prefix(v), None).await?;
    Ok(exits.into_iter().map(VillageExit).collect())
}

pub struct VillageExit(pub village_exit::Model);

impl VillageExit {
    /// The exit with this row ID, as the caller may see it.
    pub async fn find(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Self>> {
        let found = access::select::<village_exit::Entity>(viewer(ctx)?)
            .filter(village_exit::Column::Id.eq(id))
            .one(db(ctx)?)
            .await?;
        Ok(found.map(Self))
    }
}

/// A poverty village's exit (贫困村出列): proposed by the township with the
/// criteria as they stood, noticed in the township, decided by the county.
#[Object]
impl VillageExit {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::VillageExit, self.0.id)
    }
    /// The village (行政村).
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Village>> {
        let village = loaders(ctx)?.regions.load_one(self.0.village_id).await?;
        Ok(village.map(Village))
    }
    /// Where it stands (阶段).
    async fn stage(&self) -> VillageExitStage {
        self.0.stage
    }
    /// Why the township proposes it (申请理由).
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// When the township proposed it (申请时间).
    async fn proposed_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The criteria as they stood when it was proposed (申请时核查).
    async fn criteria(&self) -> ApiResult<VillageExitCheck> {
        Ok(rules::proposed_on(&self.0)?.into())
    }
    /// First day of the township's notice (乡镇公示开始).
    async fn notice_starts_on(&self) -> Day {
        Day(self.0.notice_starts_on)
    }
    /// Last day of the township's notice (乡镇公示截止).
    async fn notice_ends_on(&self) -> Day {
        Day(self.0.notice_ends_on)
    }
    /// Whether the notice is up today (公示中).
    async fn notice_open(&self) -> bool {
        let today = calendar::today();
        self.0.stage == VillageExitStage::Notice
            && (self.0.notice_starts_on..=self.0.notice_ends_on).contains(&today)
    }
    /// The paper notice it was first posted as, if it was entered late (纸质公示).
    async fn paper_notice(&self) -> Option<PaperNotice> {
        rules::paper_notice(&self.0).map(Into::into)
    }
    /// The day the county decided it (县级审定日期).
    async fn decided_on(&self) -> Option<Day> {
        self.0.decided_on.map(Day)
    }
    /// The year the village exited, once approved and announced (出列年度).
    async fn exit_year(&self) -> Option<i32> {
        self.0.exit_year
    }
    /// The county's opinion (县级意见).
    async fn opinion(&self) -> Option<&str> {
        self.0.opinion.as_deref()
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

#[derive(Default)]
pub struct VillageExitQuery;

#[Object]
impl VillageExitQuery {
    /// Village exits under a region, newest first: the township's notices
    /// and the county's announcements (贫困村出列公示公告).
    async fn village_exits(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The county, a township or a village; the county if not given.")]
        region_id: Option<ID>,
        #[graphql(desc = "Only exits at this stage.")] stage: Option<VillageExitStage>,
    ) -> ApiResult<Vec<VillageExit>> {
        let prefix = match region_id {
            Some(id) => {
                let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
                access::code_prefix(&find_region(ctx, &id, "regionId", &kinds).await?).to_owned()
            }
            None => String::new(),
        };
        let exits = rules::exits_under(db(ctx)?, &prefix, stage).await?;
        Ok(exits.into_iter().map(VillageExit).collect())
    }
}

/// A village's collective economy income for a year (村集体经济收入).
#[derive(InputObject)]
pub struct CollectiveIncomeInput {
    /// The year it was earned (年度).
    year: i32,
    /// The amount in yuan (金额).
    amount: Money,
}

/// A village's survey (村情): each field replaces what was recorded; null
/// where not known.
#[derive(InputObject)]
pub struct VillageSurveyInput {
    /// Rural registered population (农村户籍人口).
    rural_population: Option<i32>,
    /// Collective economy income (村集体经济收入).
    collective_income: Option<CollectiveIncomeInput>,
    /// A hardened road to the village (通硬化路).
    hardened_road: Option<bool>,
    /// Safe drinking water (饮水安全).
    safe_drinking_water: Option<bool>,
    /// Grid power for living and production (通动力电).
    grid_power: Option<bool>,
    /// A standard clinic with a qualified doctor (标准化卫生室).
    standard_clinic: Option<bool>,
    /// A school within reach for compulsory education (义务教育就学有保障).
    school_within_reach: Option<bool>,
    /// Broadband (通宽带).
    broadband: Option<bool>,
}

fn village_row(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "villageId", &[NodeKind::Village])?.1)
}

#[derive(Default)]
pub struct VillageExitMutation;

#[Object]
impl VillageExitMutation {
    /// Records a village's survey from the version read (村情调查).
    async fn record_village_survey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The village (行政村).")] village_id: ID,
        #[graphql(desc = "The version of the village read (版本号).")] version: i32,
        #[graphql(desc = "The survey's figures (村级调查).")] input: VillageSurveyInput,
    ) -> ApiResult<Village> {
        let survey = rules::Survey {
            rural_population: input.rural_population,
            collective_income: input.collective_income.map(|i| (i.year, i.amount)),
            hardened_road: input.hardened_road,
            safe_drinking_water: input.safe_drinking_water,
            grid_power: input.grid_power,
            standard_clinic: input.standard_clinic,
            school_within_reach: input.school_within_reach,
            broadband: input.broadband,
        };
        let id = village_row(&village_id)?;
        let after =
            rules::record_survey(db(ctx)?, viewer(ctx)?, &actor(ctx)?, (id, version), survey)
                .await?;
        Ok(Village(after))
    }

    /// Proposes a poverty village's exit and notices it in the township
    /// (乡镇申请出列并公示): every criterion must be met.
    async fn propose_village_exit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The village (行政村).")] village_id: ID,
        #[graphql(desc = "Why, and where the township's check is kept (申请理由).")] reason: String,
        #[graphql(desc = "The township's notice (乡镇公示).")] notice: NoticeInput,
    ) -> ApiResult<VillageExit> {
        let id = village_row(&village_id)?;
        let notice = notice.parse("notice")?;
        let proposed =
            rules::propose(db(ctx)?, viewer(ctx)?, &actor(ctx)?, id, &reason, notice).await?;
        Ok(VillageExit(proposed))
    }

    /// Decides a village's exit after its notice, from the version read
    /// (县级审定并公告): an approval needs every criterion met as the village
    /// stands then.
    async fn decide_village_exit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The exit (出列申请).")] exit_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Whether the county approves it (是否批准).")] approved: bool,
        #[graphql(desc = "The county's opinion (县级意见).")] opinion: String,
    ) -> ApiResult<VillageExit> {
        let (_, id) = decode_id_of(&exit_id, "exitId", &[NodeKind::VillageExit])?;
        let decided = rules::decide(
            db(ctx)?,
            viewer(ctx)?,
            &actor(ctx)?,
            (id, version),
            approved,
            &opinion,
        )
        .await?;
        Ok(VillageExit(decided))
    }
}
