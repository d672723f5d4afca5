//! One household, one plan (一户一策): the measures planned for each household,
//! their time nodes, funds and progress, and when a measure is overdue.

use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{MeasureCategory, MeasureStatus};
use entity::measure;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    QueryFilter, Set,
};
use serde_json::{Value, json};

use super::calendar;
use super::household::reachable_household;
use super::money::Money;
use super::node::global_id;
use super::text::free_text;
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Longest task and standard, in characters (as the columns hold).
pub const MAX_TASK_CHARS: usize = 500;
/// Longest name of the person responsible, in characters.
pub const MAX_RESPONSIBLE_CHARS: usize = 100;
/// Targeted poverty alleviation began in 2014: no plan has an earlier time node.
const FIRST_DEADLINE_YEAR: i32 = 2014;
/// How many years ahead a time node may lie.
const DEADLINE_YEARS_AHEAD: i32 = 10;

/// The statuses a measure ends in.
const CLOSED: [MeasureStatus; 2] = [MeasureStatus::Done, MeasureStatus::Cancelled];

/// Whether a measure is past its time node without being done or cancelled.
pub fn is_overdue(measure: &measure::Model, today: NaiveDate) -> bool {
    measure.deadline < today && !is_closed(measure.status)
}

/// [`is_overdue`] as SQL over the `measure` table, for counts made in the database.
pub fn overdue_in_sql(today: NaiveDate) -> Expr {
    Expr::col((measure::Entity, measure::Column::Status))
        .is_not_in(CLOSED.map(|s| s.to_value()))
        .and(Expr::col((measure::Entity, measure::Column::Deadline)).lt(today))
}

fn is_closed(status: MeasureStatus) -> bool {
    CLOSED.contains(&status)
}

/// Done measures over those not cancelled; none when nothing is left to do.
pub fn completion_rate(total: i64, done: i64, cancelled: i64) -> Option<f64> {
    let planned = total - cancelled;
    (planned > 0).then(|| done as f64 / planned as f64)
}

/// A measure as the audit trail records it.
pub fn measure_snapshot(m: &measure::Model) -> Value {
    json!({
        "id": global_id("Measure", m.id),
        "household": global_id("Household", m.household_id),
        "category": m.category,
        "task": m.task,
        "standard": m.standard,
        "responsible": m.responsible,
        "deadline": m.deadline,
        "funds": Money(m.funds_fen).to_string(),
        "status": m.status,
        "completedOn": m.completed_on,
        "version": m.version,
    })
}

/// A time node from the first year of targeted poverty alleviation to ten years ahead.
pub fn check_deadline(deadline: NaiveDate, field: &str) -> ApiResult<NaiveDate> {
    let last_year = calendar::today().year() + DEADLINE_YEARS_AHEAD;
    if !(FIRST_DEADLINE_YEAR..=last_year).contains(&deadline.year()) {
        return Err(ApiError::bad_input(
            field,
            format!("a time node falls in {FIRST_DEADLINE_YEAR} to {last_year}"),
        ));
    }
    Ok(deadline)
}

fn check_funds(funds: Money, field: &str) -> ApiResult<i64> {
    if funds.0 < 0 {
        return Err(ApiError::bad_input(field, "funds may not be negative"));
    }
    Ok(funds.0)
}

/// A measure the caller reaches, locked for a change.
async fn measure_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<measure::Model> {
    let select = access::select::<measure::Entity>(viewer).filter(measure::Column::Id.eq(id));
    write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Measure"))
}

fn check_measure_version(viewer: &Viewer, stated: i32, current: &measure::Model) -> ApiResult<()> {
    write::check_version("measure", stated, current.version, || {
        permissions::redact(viewer, "Measure", measure_snapshot(current))
    })
}

/// A new measure of a household's plan, as given.
pub struct NewMeasure {
    pub household_id: i64,
    pub category: MeasureCategory,
    pub task: String,
    pub standard: String,
    pub responsible: String,
    pub deadline: NaiveDate,
    pub funds: Money,
}

/// Changes to a measure; fields left out stay as they are.
pub struct MeasureChanges {
    pub category: Option<MeasureCategory>,
    pub task: Option<String>,
    pub standard: Option<String>,
    pub responsible: Option<String>,
    pub deadline: Option<NaiveDate>,
    pub funds: Option<Money>,
}

/// Adds a measure to the plan of a household the caller reaches.
pub async fn add_measure(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewMeasure,
) -> ApiResult<measure::Model> {
    viewer.user()?;
    let task = free_text("task", &input.task, MAX_TASK_CHARS)?;
    let standard = free_text("standard", &input.standard, MAX_TASK_CHARS)?;
    let responsible = free_text("responsible", &input.responsible, MAX_RESPONSIBLE_CHARS)?;
    let deadline = check_deadline(input.deadline, "deadline")?;
    let funds_fen = check_funds(input.funds, "funds")?;
    let home = reachable_household(db, viewer, input.household_id).await?;
    let request = json!({
        "household": home.id,
        "category": input.category,
        "task": task,
        "standard": standard,
        "responsible": responsible,
        "deadline": deadline,
        "fundsFen": funds_fen,
    });
    write::create::<measure::Entity, _>(db, actor, key, "addMeasure", &request, async |txn| {
        let now = Utc::now();
        let added = measure::ActiveModel {
            household_id: Set(home.id),
            category: Set(input.category),
            task: Set(task),
            standard: Set(standard),
            responsible: Set(responsible),
            deadline: Set(deadline),
            funds_fen: Set(funds_fen),
            status: Set(MeasureStatus::Planned),
            completed_on: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(Created::new(
            added.id,
            "measure.create",
            "Measure",
            measure_snapshot(&added),
            added,
        ))
    })
    .await
}

/// Changes a measure's content; its status has [`set_measure_status`].
pub async fn update_measure(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: i64,
    version: i32,
    changes: MeasureChanges,
) -> ApiResult<measure::Model> {
    let task = changes
        .task
        .map(|t| free_text("task", &t, MAX_TASK_CHARS))
        .transpose()?;
    let standard = changes
        .standard
        .map(|t| free_text("standard", &t, MAX_TASK_CHARS))
        .transpose()?;
    let responsible = changes
        .responsible
        .map(|t| free_text("responsible", &t, MAX_RESPONSIBLE_CHARS))
        .transpose()?;
    let deadline = changes
        .deadline
        .map(|d| check_deadline(d, "deadline"))
        .transpose()?;
    let funds_fen = changes.funds.map(|f| check_funds(f, "funds")).transpose()?;
    if changes.category.is_none()
        && task.is_none()
        && standard.is_none()
        && responsible.is_none()
        && deadline.is_none()
        && funds_fen.is_none()
    {
        return Err(ApiError::bad_input(
            "input",
            "give at least one field to change",
        ));
    }
    let txn = write::begin(db).await?;
    let before = measure_to_change(&txn, viewer, id).await?;
    check_measure_version(viewer, version, &before)?;
    let mut changed: measure::ActiveModel = before.clone().into();
    if let Some(category) = changes.category {
        changed.category = Set(category);
    }
    if let Some(task) = task {
        changed.task = Set(task);
    }
    if let Some(standard) = standard {
        changed.standard = Set(standard);
    }
    if let Some(responsible) = responsible {
        changed.responsible = Set(responsible);
    }
    if let Some(deadline) = deadline {
        changed.deadline = Set(deadline);
    }
    if let Some(funds_fen) = funds_fen {
        changed.funds_fen = Set(funds_fen);
    }
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(Utc::now());
    let after = changed.update(&txn).await?;
    let change = Change {
        action: "measure.update",
        entity_type: "Measure",
        entity_id: after.id,
        before: Some(measure_snapshot(&before)),
        after: Some(measure_snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Moves a measure to a status: done records the county's today as the day it
/// was done; leaving done clears that day.
pub async fn set_measure_status(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: i64,
    version: i32,
    status: MeasureStatus,
) -> ApiResult<measure::Model> {
    let txn = write::begin(db).await?;
    let before = measure_to_change(&txn, viewer, id).await?;
    check_measure_version(viewer, version, &before)?;
    if before.status == status {
        return Err(ApiError::bad_input(
            "status",
            format!("the measure is already {}", status.to_value()),
        ));
    }
    let mut changed: measure::ActiveModel = before.clone().into();
    changed.status = Set(status);
    changed.completed_on = Set((status == MeasureStatus::Done).then(calendar::today));
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(Utc::now());
    let after = changed.update(&txn).await?;
    let change = Change {
        action: "measure.status",
        entity_type: "Measure",
        entity_id: after.id,
        before: Some(measure_snapshot(&before)),
        after: Some(measure_snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}
