//! A poverty village's exit (贫困村出列). The village's survey (村情: rural
//! population, collective income, road, water, power, clinic, school,
//! broadband) is recorded by those who work there; the township proposes the
//! exit when every criterion is met and notices it in the township for at
//! least five days; the county decides after the notice, on the criteria as
//! they stand then, and the village's exit year is its decision's year.

use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{RegionLevel, VillageExitStage};
use entity::{household, member, region, village_exit};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::calendar;
use super::money::Money;
use super::notice::{self, Notice, NoticeDays, PaperNotice};
use super::tally::POOR;
use super::text::free_text;
use super::write;
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Poverty incidence under which a village or county may exit: 3% in the
/// western provinces, 2% elsewhere.
const THRESHOLD_WEST: f64 = 0.03;
const THRESHOLD: f64 = 0.02;
/// Province codes of the western region (西部地区).
const WESTERN_PROVINCES: [&str; 12] = [
    "15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
];
/// The least collective economy income an exiting village earns in a year,
/// in fen (5万元), the county's standard.
pub const MIN_COLLECTIVE_INCOME_FEN: i64 = 5_000_000;
/// Most people a village's rural population may be recorded as.
const MAX_RURAL_POPULATION: i32 = 1_000_000;
/// Most collective income a village may be recorded with, in fen (1亿元).
const MAX_COLLECTIVE_INCOME_FEN: i64 = 10_000_000_000;
const MAX_TEXT: usize = 2_000;

/// The incidence under which the region with this division code may exit.
pub fn threshold(code: &str) -> f64 {
    if WESTERN_PROVINCES.contains(&&code[..2.min(code.len())]) {
        THRESHOLD_WEST
    } else {
        THRESHOLD
    }
}

/// What a village's exit is judged on (出列标准).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Criterion {
    /// Poverty incidence under the threshold (贫困发生率).
    Incidence,
    /// Collective economy income of last year or this (村集体经济收入).
    CollectiveIncome,
    HardenedRoad,
    SafeDrinkingWater,
    GridPower,
    StandardClinic,
    SchoolWithinReach,
    Broadband,
}

/// One criterion as a village stands on it: met or not, and what it stands at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Standing {
    pub criterion: Criterion,
    pub met: bool,
    pub detail: String,
}

/// A village's exit criteria as they stand, what a proposal records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExitCheck {
    /// People of its households still poor (enrolled or returned).
    pub poor_people: i64,
    pub rural_population: Option<i32>,
    pub incidence: Option<f64>,
    pub threshold: f64,
    pub criteria: Vec<Standing>,
}

impl ExitCheck {
    /// The criteria not met, by name, for an error that says what is missing.
    fn unmet(&self) -> Option<String> {
        let unmet: Vec<&str> = self
            .criteria
            .iter()
            .filter(|s| !s.met)
            .map(|s| s.detail.as_str())
            .collect();
        (!unmet.is_empty()).then(|| unmet.join("; "))
    }
}

/// The people of a village's households that are still poor.
async fn poor_people(db: &impl ConnectionTrait, village_id: i64) -> ApiResult<i64> {
    let poor_households = Query::select()
        .column(household::Column::Id)
        .from(household::Entity)
        .and_where(household::Column::VillageId.eq(village_id))
        .and_where(household::Column::Status.is_in(POOR))
        .to_owned();
    Ok(member::Entity::find()
        .filter(member::Column::IsActive.eq(true))
        .filter(member::Column::HouseholdId.in_subquery(poor_households))
        .count(db)
        .await? as i64)
}

/// Where a village stands on each exit criterion `today`.
pub async fn check(
    db: &impl ConnectionTrait,
    village: &region::Model,
    today: NaiveDate,
) -> ApiResult<ExitCheck> {
    let poor_people = poor_people(db, village.id).await?;
    let threshold = threshold(&village.code);
    let incidence = village
        .rural_population
        .filter(|p| *p > 0)
        .map(|p| poor_people as f64 / f64::from(p));
    let mut criteria = vec![Standing {
        criterion: Criterion::Incidence,
        met: incidence.is_some_and(|rate| rate < threshold),
        detail: match incidence {
            Some(rate) => format!(
                "poverty incidence {:.2}% ({poor_people} poor of {} people), under {:.0}% to exit",
                rate * 100.0,
                village.rural_population.unwrap_or(0),
                threshold * 100.0
            ),
            None => "the rural population is not recorded, so the incidence is unknown".into(),
        },
    }];
    let income = village
        .collective_income_year
        .zip(village.collective_income_fen);
    criteria.push(Standing {
        criterion: Criterion::CollectiveIncome,
        met: income.is_some_and(|(year, fen)| {
            year >= today.year() - 1 && fen >= MIN_COLLECTIVE_INCOME_FEN
        }),
        detail: match income {
            Some((year, fen)) => format!(
                "collective income {} yuan in {year}; at least {} yuan last year or this",
                Money(fen),
                Money(MIN_COLLECTIVE_INCOME_FEN)
            ),
            None => "the collective income is not recorded".into(),
        },
    });
    for (criterion, value, what) in [
        (
            Criterion::HardenedRoad,
            village.hardened_road,
            "a hardened road",
        ),
        (
            Criterion::SafeDrinkingWater,
            village.safe_drinking_water,
            "safe drinking water",
        ),
        (Criterion::GridPower, village.grid_power, "grid power"),
        (
            Criterion::StandardClinic,
            village.standard_clinic,
            "a standard clinic",
        ),
        (
            Criterion::SchoolWithinReach,
            village.school_within_reach,
            "a school within reach",
        ),
        (Criterion::Broadband, village.broadband, "broadband"),
    ] {
        criteria.push(Standing {
            criterion,
            met: value == Some(true),
            detail: match value {
                Some(true) => format!("has {what}"),
                Some(false) => format!("has no {what}"),
                None => format!("whether it has {what} is not surveyed"),
            },
        });
    }
    Ok(ExitCheck {
        poor_people,
        rural_population: village.rural_population,
        incidence,
        threshold,
        criteria,
    })
}

/// A village's survey (村情) as given: each field replaces what was recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Survey {
    pub rural_population: Option<i32>,
    /// The year and amount of its collective economy income.
    pub collective_income: Option<(i32, Money)>,
    pub hardened_road: Option<bool>,
    pub safe_drinking_water: Option<bool>,
    pub grid_power: Option<bool>,
    pub standard_clinic: Option<bool>,
    pub school_within_reach: Option<bool>,
    pub broadband: Option<bool>,
}

/// A village's survey as the audit trail and conflict errors show it.
fn survey_snapshot(v: &region::Model) -> Value {
    json!({
        "ruralPopulation": v.rural_population,
        "collectiveIncome": v.collective_income_fen.map(|f| Money(f).to_string()),
        "collectiveIncomeYear": v.collective_income_year,
        "hardenedRoad": v.hardened_road,
        "safeDrinkingWater": v.safe_drinking_water,
        "gridPower": v.grid_power,
        "standardClinic": v.standard_clinic,
        "schoolWithinReach": v.school_within_reach,
        "broadband": v.broadband,
        "surveyedOn": v.surveyed_on,
        "exitYear": v.exit_year,
        "version": v.version,
    })
}

/// A village the caller works in, locked, at the version the caller read.
async fn village_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
    version: Option<i32>,
) -> ApiResult<region::Model> {
    let village = write::one_locked(txn, region::Entity::find_by_id(id))
        .await?
        .filter(|r| r.level == RegionLevel::Village && access::reaches_village(viewer, r))
        .ok_or_else(|| ApiError::not_found("Village"))?;
    if let Some(version) = version {
        write::check_version("village", version, village.version, || {
            permissions::redact(viewer, "Village", survey_snapshot(&village))
        })?;
    }
    Ok(village)
}

/// Records a village's survey (村情), from the version the caller read.
pub async fn record_survey(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    (id, version): (i64, i32),
    survey: Survey,
) -> ApiResult<region::Model> {
    let today = calendar::today();
    if let Some(people) = survey.rural_population
        && !(0..=MAX_RURAL_POPULATION).contains(&people)
    {
        return Err(ApiError::bad_input(
            "ruralPopulation",
            format!("a village's rural population is between 0 and {MAX_RURAL_POPULATION}"),
        ));
    }
    if let Some((year, amount)) = survey.collective_income {
        if !(2013..=today.year()).contains(&year) {
            return Err(ApiError::bad_input(
                "collectiveIncome.year",
                format!("the income's year is between 2013 and {}", today.year()),
            ));
        }
        if !(0..=MAX_COLLECTIVE_INCOME_FEN).contains(&amount.0) {
            return Err(ApiError::bad_input(
                "collectiveIncome.amount",
                format!(
                    "a collective income is between 0 and {} yuan",
                    Money(MAX_COLLECTIVE_INCOME_FEN)
                ),
            ));
        }
    }
    let txn = write::begin(db).await?;
    let before = village_to_change(&txn, viewer, id, Some(version)).await?;
    let mut row: region::ActiveModel = before.clone().into();
    row.rural_population = Set(survey.rural_population);
    row.collective_income_year = Set(survey.collective_income.map(|(year, _)| year));
    row.collective_income_fen = Set(survey.collective_income.map(|(_, amount)| amount.0));
    row.hardened_road = Set(survey.hardened_road);
    row.safe_drinking_water = Set(survey.safe_drinking_water);
    row.grid_power = Set(survey.grid_power);
    row.standard_clinic = Set(survey.standard_clinic);
    row.school_within_reach = Set(survey.school_within_reach);
    row.broadband = Set(survey.broadband);
    row.surveyed_on = Set(Some(today));
    row.version = Set(before.version + 1);
    row.updated_at = Set(Utc::now());
    let after = row.update(&txn).await?;
    let change = Change {
        action: "region.survey",
        entity_type: "Village",
        entity_id: after.id,
        before: Some(survey_snapshot(&before)),
        after: Some(survey_snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// An exit as the audit trail and conflict errors show it.
fn exit_snapshot(e: &village_exit::Model) -> Value {
    json!({
        "village": e.village_id,
        "stage": e.stage,
        "reason": e.reason,
        "noticeStartsOn": e.notice_starts_on,
        "noticeEndsOn": e.notice_ends_on,
        "paperNotice": e.notice_evidence.is_some(),
        "decidedOn": e.decided_on,
        "exitYear": e.exit_year,
        "opinion": e.opinion,
        "version": e.version,
    })
}

/// The criteria an exit was proposed on, as recorded then.
pub fn proposed_on(exit: &village_exit::Model) -> ApiResult<ExitCheck> {
    serde_json::from_str(&exit.criteria)
        .map_err(|e| ApiError::Internal(format!("village exit {}: criteria: {e}", exit.id)))
}

/// The paper notice an exit's township notice was first posted as, if it was.
pub fn paper_notice(exit: &village_exit::Model) -> Option<PaperNotice> {
    PaperNotice::from_columns(
        exit.notice_posted_by.as_deref(),
        exit.notice_posted_at.as_deref(),
        exit.notice_evidence.as_deref(),
    )
}

/// The township proposes a poverty village's exit and notices it in the
/// township: the village has not exited, has no exit under way, and meets
/// every criterion now.
pub async fn propose(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    village_id: i64,
    reason: &str,
    notice: NoticeDays,
) -> ApiResult<village_exit::Model> {
    let user_id = viewer.user()?.id;
    let reason = free_text("reason", reason, MAX_TEXT)?;
    let today = calendar::today();
    let notice = Notice::parse(
        notice.starts_on.unwrap_or(today),
        notice.ends_on,
        notice.paper,
        today,
        notice::Fields {
            starts_on: "notice.startsOn",
            ends_on: "notice.endsOn",
            paper: "notice.paperNotice",
        },
    )?;
    let txn = write::begin(db).await?;
    // The village stays locked, so two proposals at once cannot both pass.
    let village = village_to_change(&txn, viewer, village_id, None).await?;
    if !village.is_poverty_village {
        return Err(ApiError::bad_input(
            "villageId",
            "only a designated poverty village exits (出列)",
        ));
    }
    if let Some(year) = village.exit_year {
        return Err(ApiError::bad_input(
            "villageId",
            format!("the village exited in {year}"),
        ));
    }
    if village.retired_on.is_some() {
        return Err(ApiError::bad_input("villageId", "the village is retired"));
    }
    let under_way = village_exit::Entity::find()
        .filter(village_exit::Column::VillageId.eq(village.id))
        .filter(village_exit::Column::Stage.eq(VillageExitStage::Notice))
        .one(&txn)
        .await?;
    if let Some(open) = under_way {
        return Err(ApiError::Conflict(format!(
            "the village's exit is already being noticed, until {}",
            open.notice_ends_on
        )));
    }
    let criteria = check(&txn, &village, today).await?;
    if let Some(unmet) = criteria.unmet() {
        return Err(ApiError::bad_input(
            "villageId",
            format!("the village does not meet the exit criteria yet: {unmet}"),
        ));
    }
    let now = Utc::now();
    let paper = notice.paper;
    let proposed = village_exit::ActiveModel {
        village_id: Set(village.id),
        stage: Set(VillageExitStage::Notice),
        criteria: Set(serde_json::to_string(&criteria)
            .map_err(|e| ApiError::Internal(format!("exit criteria: {e}")))?),
        reason: Set(reason),
        proposed_by: Set(Some(user_id)),
        notice_starts_on: Set(notice.starts_on),
        notice_ends_on: Set(notice.ends_on),
        notice_posted_by: Set(paper.as_ref().map(|p| p.posted_by.clone())),
        notice_posted_at: Set(paper.as_ref().map(|p| p.posted_at.clone())),
        notice_evidence: Set(paper.map(|p| p.evidence)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let change = Change {
        action: "village_exit.propose",
        entity_type: "VillageExit",
        entity_id: proposed.id,
        before: None,
        after: Some(exit_snapshot(&proposed)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(proposed)
}

/// The county decides an exit after its notice has ended, from the version
/// the caller read: an approval needs every criterion met as the village
/// stands now, and marks the village exited this year.
pub async fn decide(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    (exit_id, version): (i64, i32),
    approved: bool,
    opinion: &str,
) -> ApiResult<village_exit::Model> {
    let user_id = viewer.user()?.id;
    let opinion = free_text("opinion", opinion, MAX_TEXT)?;
    let today = calendar::today();
    let txn = write::begin(db).await?;
    let before = write::one_locked(&txn, village_exit::Entity::find_by_id(exit_id))
        .await?
        .ok_or_else(|| ApiError::not_found("VillageExit"))?;
    write::check_version("village exit", version, before.version, || {
        permissions::redact(viewer, "VillageExit", exit_snapshot(&before))
    })?;
    if before.stage != VillageExitStage::Notice {
        return Err(ApiError::bad_input(
            "exitId",
            "the exit has been decided already",
        ));
    }
    notice::check_ended(before.notice_ends_on, today, "exitId", "decide")?;
    let mut row: village_exit::ActiveModel = before.clone().into();
    row.decided_by = Set(Some(user_id));
    row.decided_on = Set(Some(today));
    row.opinion = Set(Some(opinion));
    row.version = Set(before.version + 1);
    row.updated_at = Set(Utc::now());
    if approved {
        let village = village_to_change(&txn, viewer, before.village_id, None).await?;
        if village.retired_on.is_some() {
            return Err(ApiError::bad_input(
                "approved",
                "the village was retired or merged during the notice: it no longer exits",
            ));
        }
        if let Some(unmet) = check(&txn, &village, today).await?.unmet() {
            return Err(ApiError::bad_input(
                "approved",
                format!("the village no longer meets the exit criteria: {unmet}"),
            ));
        }
        let mut exited: region::ActiveModel = village.clone().into();
        exited.exit_year = Set(Some(today.year()));
        exited.version = Set(village.version + 1);
        exited.updated_at = Set(Utc::now());
        let after = exited.update(&txn).await?;
        let change = Change {
            action: "region.exit",
            entity_type: "Village",
            entity_id: after.id,
            before: Some(survey_snapshot(&village)),
            after: Some(survey_snapshot(&after)),
        };
        audit::record(&txn, actor, change).await?;
        row.stage = Set(VillageExitStage::Approved);
        row.exit_year = Set(Some(today.year()));
    } else {
        row.stage = Set(VillageExitStage::Rejected);
    }
    let after = row.update(&txn).await?;
    let change = Change {
        action: if approved {
            "village_exit.approve"
        } else {
            "village_exit.reject"
        },
        entity_type: "VillageExit",
        entity_id: after.id,
        before: Some(exit_snapshot(&before)),
        after: Some(exit_snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// The exits of the villages under a division code, newest first; only
/// `stage` if given.
pub async fn exits_under(
    db: &impl ConnectionTrait,
    prefix: &str,
    stage: Option<VillageExitStage>,
) -> ApiResult<Vec<village_exit::Model>> {
    let mut select = village_exit::Entity::find()
        .filter(village_exit::Column::VillageId.in_subquery(access::villages_under(prefix)));
    if let Some(stage) = stage {
        select = select.filter(village_exit::Column::Stage.eq(stage));
    }
    Ok(select
        .order_by_desc(village_exit::Column::Id)
        .all(db)
        .await?)
}

/// Refuses an exit year set by hand for this year or later: such an exit is
/// proposed, noticed and decided (`propose`, `decide`). Earlier ones are
/// records of exits decided before the register.
pub fn check_recorded_exit(
    before: Option<i32>,
    after: Option<i32>,
    today: NaiveDate,
) -> ApiResult<()> {
    match after {
        Some(year) if after != before && year >= today.year() => Err(ApiError::bad_input(
            "exitYear",
            format!(
                "an exit in {year} is proposed by the township, noticed and decided by the \
                 county (proposeVillageExit); only earlier exits are recorded by hand"
            ),
        )),
        _ => Ok(()),
    }
}
