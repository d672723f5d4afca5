//! Monitoring for return to poverty (防返贫监测): households at risk are taken
//! in when found, helped, and let go once their risk is eliminated: after six
//! months at least, with a measure under way, labour in the household and two
//! years' income above the province's monitoring line.

use std::collections::HashSet;

use chrono::{Datelike, Months, NaiveDate, Utc};
use entity::enums::{FoundBy, LabourAbility, MeasureStatus, MonitoringCategory, RiskType};
use entity::{
    household, household_income, measure, member, monitoring_case, monitoring_line,
    monitoring_risk, region,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::calendar;
use super::household::change::{check_household_version, lock_household};
use super::lifecycle::{Action, StatusChangeOf, change_status, next_state};
use super::money::Money;
use super::text::free_text;
use super::write::{self, Created};
use crate::access::Viewer;
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};

/// How far back the day a risk was found may lie.
const MAX_BACKDATE_DAYS: i64 = 366;
/// How long a household stays monitored at least before its risk may be eliminated.
const MIN_MONITORED_MONTHS: u32 = 6;
/// Longest reason or note, in characters.
const MAX_TEXT: usize = 2_000;

/// A household found at risk of (returning to) poverty, as given.
#[derive(Serialize)]
pub struct NewCase {
    pub household_id: i64,
    /// The version of the household read.
    pub version: i32,
    pub category: MonitoringCategory,
    pub risks: Vec<RiskType>,
    pub found_by: FoundBy,
    /// Today if not given.
    pub started_on: Option<NaiveDate>,
    pub reason: String,
}

/// A monitoring case as the audit trail records it, with its risks.
fn case_snapshot(case: &monitoring_case::Model, risks: &[RiskType]) -> Value {
    json!({
        "household": case.household_id,
        "category": case.category,
        "foundBy": case.found_by,
        "risks": risks,
        "startedOn": case.started_on,
        "eliminatedOn": case.eliminated_on,
        "eliminationNote": case.elimination_note,
        "version": case.version,
    })
}

async fn risks_of(txn: &DatabaseTransaction, case_id: i64) -> ApiResult<Vec<RiskType>> {
    Ok(monitoring_risk::Entity::find()
        .filter(monitoring_risk::Column::CaseId.eq(case_id))
        .order_by_asc(monitoring_risk::Column::Risk)
        .all(txn)
        .await?
        .into_iter()
        .map(|r| r.risk)
        .collect())
}

async fn open_case(
    txn: &DatabaseTransaction,
    household_id: i64,
) -> ApiResult<Option<monitoring_case::Model>> {
    Ok(monitoring_case::Entity::find()
        .filter(monitoring_case::Column::HouseholdId.eq(household_id))
        .filter(monitoring_case::Column::EliminatedOn.is_null())
        .one(txn)
        .await?)
}

/// Closes a household's open case, if it has one, with `note`.
async fn close_case(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: monitoring_case::Model,
    note: &str,
    audit_action: &str,
) -> ApiResult<monitoring_case::Model> {
    let risks = risks_of(txn, before.id).await?;
    let now = Utc::now();
    let mut row: monitoring_case::ActiveModel = before.clone().into();
    row.eliminated_on = Set(Some(calendar::today().max(before.started_on)));
    row.elimination_note = Set(Some(note.to_owned()));
    row.version = Set(before.version + 1);
    row.updated_at = Set(now);
    let after = row.update(txn).await?;
    let change = Change {
        action: audit_action,
        entity_type: "MonitoringCase",
        entity_id: after.id,
        before: Some(case_snapshot(&before, &risks)),
        after: Some(case_snapshot(&after, &risks)),
    };
    audit::record(txn, actor, change).await?;
    Ok(after)
}

/// Ends the open monitoring case of a household leaving the register.
pub async fn end_open_case(
    txn: &DatabaseTransaction,
    actor: &Actor,
    household_id: i64,
    note: &str,
) -> ApiResult<()> {
    if let Some(case) = open_case(txn, household_id).await? {
        close_case(txn, actor, case, note, "monitoringCase.end").await?;
    }
    Ok(())
}

/// Why the risk of a monitored household may not be marked eliminated today, if it may not.
async fn elimination_refusal(
    txn: &DatabaseTransaction,
    home: &household::Model,
    case: &monitoring_case::Model,
    today: NaiveDate,
) -> ApiResult<Option<String>> {
    let earliest_start = today
        .checked_sub_months(Months::new(MIN_MONITORED_MONTHS))
        .unwrap_or(NaiveDate::MIN);
    if case.started_on > earliest_start {
        return Ok(Some(format!(
            "the household has been monitored since {}; its risk can be eliminated after {MIN_MONITORED_MONTHS} months, from {}",
            case.started_on,
            case.started_on
                .checked_add_months(Months::new(MIN_MONITORED_MONTHS))
                .unwrap_or(case.started_on)
        )));
    }
    let measures = measure::Entity::find()
        .filter(measure::Column::HouseholdId.eq(home.id))
        .filter(measure::Column::Status.is_in([MeasureStatus::InProgress, MeasureStatus::Done]))
        .count(txn)
        .await?;
    if measures == 0 {
        return Ok(Some(
            "the household has no assistance measure under way or done".into(),
        ));
    }
    let labour = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .filter(member::Column::IsActive.eq(true))
        .filter(member::Column::LabourAbility.is_in([
            LabourAbility::Skilled,
            LabourAbility::Ordinary,
            LabourAbility::Weak,
        ]))
        .count(txn)
        .await?;
    if labour == 0 {
        return Ok(Some(
            "the household has no member able to work; it stays monitored".into(),
        ));
    }
    let incomes = household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.eq(home.id))
        .filter(household_income::Column::Year.lte(today.year()))
        .order_by_desc(household_income::Column::Year)
        .limit(2)
        .all(txn)
        .await?;
    let Some(latest) = incomes.first() else {
        return Ok(Some("the household has no income recorded".into()));
    };
    let previous_year = latest.year - 1;
    let Some(previous) = incomes.get(1).filter(|i| i.year == previous_year) else {
        return Ok(Some(format!(
            "the household has no income recorded for {previous_year}, the year before its latest ({})",
            latest.year
        )));
    };
    let village = region::Entity::find_by_id(home.village_id)
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("household {} has no village", home.id)))?;
    let province: String = village.code.chars().take(2).collect();
    for income in [previous, latest] {
        let Some(line) = monitoring_line::Entity::find_by_id((province.clone(), income.year))
            .one(txn)
            .await?
        else {
            return Ok(Some(format!(
                "there is no monitoring line for province {province} in {}",
                income.year
            )));
        };
        if income.per_capita_net_fen <= line.annual_fen {
            return Ok(Some(format!(
                "per-capita net income in {} is {} yuan, not above that year's monitoring line of {} yuan",
                income.year,
                Money(income.per_capita_net_fen),
                Money(line.annual_fen)
            )));
        }
    }
    Ok(None)
}

/// Takes a household found at risk into monitoring: the case, its risks, and
/// the household's change of monitoring.
pub async fn start(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewCase,
) -> ApiResult<monitoring_case::Model> {
    viewer.user()?;
    let today = calendar::today();
    let reason = free_text("reason", &input.reason, MAX_TEXT)?;
    if input.risks.is_empty() {
        return Err(ApiError::bad_input("risks", "name at least one risk"));
    }
    let distinct: HashSet<RiskType> = input.risks.iter().copied().collect();
    if distinct.len() != input.risks.len() {
        return Err(ApiError::bad_input("risks", "each risk may be named once"));
    }
    let started_on = input.started_on.unwrap_or(today);
    if started_on > today {
        return Err(ApiError::bad_input(
            "startedOn",
            "the day the risk was found cannot be in the future",
        ));
    }
    if (today - started_on).num_days() > MAX_BACKDATE_DAYS {
        return Err(ApiError::bad_input(
            "startedOn",
            format!("the day the risk was found may be at most {MAX_BACKDATE_DAYS} days back"),
        ));
    }
    write::create::<monitoring_case::Entity, _>(
        db,
        actor,
        key,
        "startMonitoring",
        &input,
        async |txn| {
            let mut audit = Vec::new();
            let home = lock_household(txn, viewer, input.household_id).await?;
            check_household_version(viewer, input.version, &home)?;
            let to = next_state(&home, Action::StartMonitoring(input.category), "category")?;
            let now = Utc::now();
            let case = monitoring_case::ActiveModel {
                household_id: Set(home.id),
                category: Set(input.category),
                found_by: Set(input.found_by),
                started_on: Set(started_on),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            monitoring_risk::Entity::insert_many(input.risks.iter().map(|risk| {
                monitoring_risk::ActiveModel {
                    case_id: Set(case.id),
                    risk: Set(*risk),
                }
            }))
            .exec_without_returning(txn)
            .await?;
            let change = Change {
                action: "monitoringCase.create",
                entity_type: "MonitoringCase",
                entity_id: case.id,
                before: None,
                after: Some(case_snapshot(&case, &input.risks)),
            };
            audit.push(change);
            let change = StatusChangeOf {
                action: Action::StartMonitoring(input.category),
                to,
                year: None,
                reason: &reason,
                proposal_id: None,
            };
            change_status(txn, actor, &home, change).await?;
            Ok(Created {
                id: case.id,
                row: case,
                audit,
            })
        },
    )
    .await
}

/// Marks the risk of a monitored household eliminated and ends its monitoring.
pub async fn eliminate_risk(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    household_id: i64,
    version: i32,
    note: &str,
) -> ApiResult<monitoring_case::Model> {
    let note = free_text("note", note, MAX_TEXT)?;
    let today = calendar::today();
    let txn = write::begin(db).await?;
    let home = lock_household(&txn, viewer, household_id).await?;
    check_household_version(viewer, version, &home)?;
    let to = next_state(&home, Action::EliminateRisk, "householdId")?;
    let case = open_case(&txn, home.id).await?.ok_or_else(|| {
        ApiError::bad_input("householdId", "the household has no open monitoring case")
    })?;
    if let Some(why) = elimination_refusal(&txn, &home, &case, today).await? {
        return Err(ApiError::bad_input("householdId", why));
    }
    let closed = close_case(&txn, actor, case, &note, "monitoringCase.eliminate").await?;
    let change = StatusChangeOf {
        action: Action::EliminateRisk,
        to,
        year: None,
        reason: &note,
        proposal_id: None,
    };
    change_status(&txn, actor, &home, change).await?;
    txn.commit().await?;
    Ok(closed)
}
