//! Assistance projects (扶贫项目): entering them into the county project
//! library and editing them there (`library`), and their lifecycle from the
//! library to the announcement of their acceptance (`lifecycle`). What both
//! share is here: the project locked for a change, who answers for it, its
//! history and its audit snapshot.

mod library;
mod lifecycle;

use chrono::{NaiveDate, Utc};
use entity::enums::ProjectStatus;
use entity::{project, project_stage_change, project_village, region};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};

pub use library::{NewProject, ProjectChanges, create, set_beneficiaries, update};
pub use lifecycle::{
    accept, announce, announcement_due_on, announcement_overdue, approve, complete,
    is_announcement_overdue, publish_notice, report_progress, start,
};

use super::money::Money;
use super::node::global_id;
use super::write;
use crate::access::{self, Viewer};
use crate::audit::Actor;
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// A project as the caller read it: which one, and the version a change was made from.
#[derive(Debug, Clone, Copy)]
pub struct ProjectVersion {
    pub id: i64,
    pub version: i32,
}

/// A project, locked for a change. Every project exists for every caller;
/// who may change it is for `access::answers_for_villages` and the step.
async fn project_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<project::Model> {
    let select = access::select::<project::Entity>(viewer).filter(project::Column::Id.eq(id));
    write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Project"))
}

fn check_project_version(viewer: &Viewer, stated: i32, current: &project::Model) -> ApiResult<()> {
    write::check_version("project", stated, current.version, || {
        permissions::redact(viewer, "Project", snapshot(current))
    })
}

/// The villages a project covers, in code order.
async fn covered_villages(
    txn: &DatabaseTransaction,
    project_id: i64,
) -> ApiResult<Vec<region::Model>> {
    let covered = Query::select()
        .column(project_village::Column::VillageId)
        .from(project_village::Entity)
        .and_where(project_village::Column::ProjectId.eq(project_id))
        .to_owned();
    Ok(region::Entity::find()
        .filter(region::Column::Id.in_subquery(covered))
        .order_by_asc(region::Column::Code)
        .all(txn)
        .await?)
}

/// Refuses a caller who does not answer for the villages of a project.
fn check_answers_for(viewer: &Viewer, villages: &[region::Model]) -> ApiResult<()> {
    if access::answers_for_villages(viewer, villages) {
        return Ok(());
    }
    Err(ApiError::Forbidden(
        "only the county office, or the township of every village the project covers, may do this"
            .into(),
    ))
}

/// A project as the audit trail and conflict errors show it, keyed by GraphQL fields.
fn snapshot(p: &project::Model) -> Value {
    json!({
        "id": global_id("Project", p.id),
        "name": p.name,
        "kind": p.kind,
        "status": p.status,
        "year": p.year,
        "implementer": p.implementer,
        "implementerEnterprise": p.implementer_enterprise_id.map(|e| global_id("Enterprise", e)),
        "budget": Money(p.budget_fen).to_string(),
        "plannedStartDate": p.start_date,
        "plannedEndDate": p.end_date,
        "performanceTargets": p.performance_targets,
        "benefitMechanism": p.benefit_mechanism,
        "noticeStartsOn": p.notice_starts_on,
        "noticeEndsOn": p.notice_ends_on,
        "approvedOn": p.approved_on,
        "actualStartDate": p.actual_start_date,
        "actualEndDate": p.actual_end_date,
        "progressPercent": p.progress_percent,
        "acceptedOn": p.accepted_on,
        "announcedOn": p.announced_on,
        "version": p.version,
    })
}

/// A snapshot with a list of related rows of `type_name` added under `field`, as global IDs.
fn with_ids(mut snapshot: Value, field: &str, type_name: &str, ids: &[i64]) -> Value {
    let ids: Vec<String> = ids.iter().map(|id| global_id(type_name, *id)).collect();
    snapshot[field] = json!(ids);
    snapshot
}

/// Appends a step to a project's history, in the transaction of the step.
async fn record_step(
    txn: &DatabaseTransaction,
    actor: &Actor,
    project_id: i64,
    from: Option<ProjectStatus>,
    to: ProjectStatus,
    on: NaiveDate,
    note: String,
) -> ApiResult<()> {
    project_stage_change::ActiveModel {
        project_id: Set(project_id),
        from_status: Set(from),
        to_status: Set(to),
        effective_on: Set(on),
        note: Set(note),
        actor_id: Set(actor.user_id),
        actor: Set(actor.name.clone()),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
