//! Entering projects into the county project library (项目入库), editing them
//! while they are there, and naming the households they benefit.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{ProjectKind, ProjectStatus, RegionLevel};
use entity::{enterprise, household, project, project_beneficiary, project_village, region};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::lifecycle::{Step, next};
use super::{
    ProjectVersion, check_answers_for, check_project_version, covered_villages, project_to_change,
    record_step, snapshot, with_ids,
};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::domain::calendar;
use crate::domain::money::Money;
use crate::domain::node::global_id;
use crate::domain::text::{free_text, required_text};
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};

/// Longest project name, in characters (as the column holds).
const MAX_NAME_CHARS: usize = 200;
/// Longest implementing unit, in characters (as the column holds).
const MAX_IMPLEMENTER_CHARS: usize = 100;
/// Longest performance targets or mechanism, in characters.
const MAX_STATEMENT_CHARS: usize = 2_000;
/// Targeted poverty alleviation began in 2014: no project is planned earlier.
const FIRST_YEAR: i32 = 2014;
/// How many years ahead a project may be planned.
const YEARS_AHEAD: i32 = 5;

/// A new project for the county project library, as given.
pub struct NewProject {
    pub name: String,
    pub kind: ProjectKind,
    pub year: i32,
    /// The villages it covers, at least one.
    pub village_ids: Vec<i64>,
    pub implementer: String,
    pub implementer_enterprise_id: Option<i64>,
    pub budget: Money,
    pub planned_start: Option<NaiveDate>,
    pub planned_end: Option<NaiveDate>,
    /// Required: a project enters the library only with them.
    pub performance_targets: Option<String>,
    /// Required: a project enters the library only with it.
    pub benefit_mechanism: Option<String>,
    /// The poor households it benefits.
    pub beneficiary_household_ids: Vec<i64>,
}

/// Changes to a project in the library: `None` leaves a field as it is;
/// `Some(None)` clears one that may be empty.
pub struct ProjectChanges {
    pub project: ProjectVersion,
    pub name: Option<String>,
    pub kind: Option<ProjectKind>,
    pub year: Option<i32>,
    pub village_ids: Option<Vec<i64>>,
    pub implementer: Option<String>,
    pub implementer_enterprise_id: Option<Option<i64>>,
    pub budget: Option<Money>,
    pub planned_start: Option<Option<NaiveDate>>,
    pub planned_end: Option<Option<NaiveDate>>,
    pub performance_targets: Option<String>,
    pub benefit_mechanism: Option<String>,
}

/// A statement a project enters the library only with.
fn statement(text: Option<&str>, field: &str, what: &str) -> ApiResult<String> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => free_text(field, text, MAX_STATEMENT_CHARS),
        None => Err(ApiError::bad_input(
            field,
            format!("a project enters the county project library only with its {what} stated"),
        )),
    }
}

fn check_year(year: i32) -> ApiResult<i32> {
    let last = calendar::today().year() + YEARS_AHEAD;
    if !(FIRST_YEAR..=last).contains(&year) {
        return Err(ApiError::bad_input(
            "year",
            format!("a plan year is {FIRST_YEAR} to {last}"),
        ));
    }
    Ok(year)
}

fn check_budget(budget: Money) -> ApiResult<i64> {
    if budget.0 <= 0 {
        return Err(ApiError::bad_input(
            "budget",
            "the budget is more than zero",
        ));
    }
    Ok(budget.0)
}

fn check_dates(start: Option<NaiveDate>, end: Option<NaiveDate>) -> ApiResult<()> {
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        return Err(ApiError::bad_input(
            "plannedEnd",
            format!("the planned completion ({end}) is before the planned start ({start})"),
        ));
    }
    Ok(())
}

/// IDs without repeats, in the order given.
fn distinct(ids: &[i64]) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// The villages named by `ids`: at least one, each a village.
async fn villages_named(txn: &DatabaseTransaction, ids: &[i64]) -> ApiResult<Vec<region::Model>> {
    let raw = distinct(ids);
    if raw.is_empty() {
        return Err(ApiError::bad_input(
            "villageIds",
            "a project covers at least one village",
        ));
    }
    let villages = region::Entity::find()
        .filter(region::Column::Id.is_in(raw.iter().copied()))
        .filter(region::Column::Level.eq(RegionLevel::Village))
        .order_by_asc(region::Column::Code)
        .all(txn)
        .await?;
    if let Some(i) = raw
        .iter()
        .position(|id| !villages.iter().any(|v| v.id == *id))
    {
        return Err(ApiError::bad_input(
            format!("villageIds[{i}]"),
            "no such village",
        ));
    }
    Ok(villages)
}

/// The enterprise named by `id`, if any.
async fn enterprise_named(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: Option<i64>,
) -> ApiResult<Option<i64>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let found = access::select::<enterprise::Entity>(viewer)
        .filter(enterprise::Column::Id.eq(id))
        .one(txn)
        .await?;
    match found {
        Some(firm) => Ok(Some(firm.id)),
        None => Err(ApiError::bad_input(
            "implementerEnterpriseId",
            "no such enterprise",
        )),
    }
}

/// The households named by `ids`: each one the caller reaches (else not found)
/// and living in one of `villages`.
async fn beneficiaries_named(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    ids: &[i64],
    field: &str,
    villages: &[region::Model],
) -> ApiResult<Vec<i64>> {
    let raw = distinct(ids);
    let homes = access::select::<household::Entity>(viewer)
        .filter(household::Column::Id.is_in(raw.iter().copied()))
        .all(txn)
        .await?;
    for (i, id) in raw.iter().enumerate() {
        let Some(home) = homes.iter().find(|h| h.id == *id) else {
            return Err(ApiError::not_found("Household"));
        };
        if !villages.iter().any(|v| v.id == home.village_id) {
            return Err(ApiError::bad_input(
                format!("{field}[{i}]"),
                format!(
                    "household {} does not live in a village the project covers",
                    home.number
                ),
            ));
        }
    }
    Ok(raw)
}

/// The households a project benefits now, by ID.
async fn beneficiaries_of(txn: &DatabaseTransaction, project_id: i64) -> ApiResult<Vec<i64>> {
    Ok(project_beneficiary::Entity::find()
        .filter(project_beneficiary::Column::ProjectId.eq(project_id))
        .order_by_asc(project_beneficiary::Column::HouseholdId)
        .all(txn)
        .await?
        .into_iter()
        .map(|b| b.household_id)
        .collect())
}

async fn insert_villages(
    txn: &DatabaseTransaction,
    project_id: i64,
    villages: &[region::Model],
) -> ApiResult<()> {
    project_village::Entity::insert_many(villages.iter().map(|v| project_village::ActiveModel {
        project_id: Set(project_id),
        village_id: Set(v.id),
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

async fn insert_beneficiaries(
    txn: &DatabaseTransaction,
    project_id: i64,
    households: &[i64],
) -> ApiResult<()> {
    if households.is_empty() {
        return Ok(());
    }
    project_beneficiary::Entity::insert_many(households.iter().map(|h| {
        project_beneficiary::ActiveModel {
            project_id: Set(project_id),
            household_id: Set(*h),
        }
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

fn village_ids(villages: &[region::Model]) -> Vec<i64> {
    villages.iter().map(|v| v.id).collect()
}

/// Rows named as the client named them, for the request's fingerprint.
fn named(type_name: &str, ids: &[i64]) -> Vec<String> {
    ids.iter().map(|id| global_id(type_name, *id)).collect()
}

/// Enters a project into the county project library (项目入库): the county
/// office for any villages, a township officer for villages of its township.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    new: NewProject,
) -> ApiResult<project::Model> {
    viewer.user()?;
    let name = free_text("name", &new.name, MAX_NAME_CHARS)?;
    let implementer = required_text(&new.implementer, "implementer", MAX_IMPLEMENTER_CHARS)?;
    let year = check_year(new.year)?;
    let budget_fen = check_budget(new.budget)?;
    check_dates(new.planned_start, new.planned_end)?;
    let targets = statement(
        new.performance_targets.as_deref(),
        "performanceTargets",
        "performance targets (绩效目标)",
    )?;
    let mechanism = statement(
        new.benefit_mechanism.as_deref(),
        "benefitMechanism",
        "poverty-reduction mechanism (带贫减贫机制)",
    )?;
    let ids = &new.beneficiary_household_ids;
    let request = json!({
        "name": name,
        "kind": new.kind,
        "year": year,
        "villages": named("Village", &new.village_ids),
        "implementer": implementer,
        "enterprise": new.implementer_enterprise_id.map(|id| global_id("Enterprise", id)),
        "budgetFen": budget_fen,
        "plannedStart": new.planned_start,
        "plannedEnd": new.planned_end,
        "targets": targets,
        "mechanism": mechanism,
        "beneficiaries": named("Household", ids),
    });
    write::create::<project::Entity, _>(db, actor, key, "createProject", &request, async |txn| {
        let villages = villages_named(txn, &new.village_ids).await?;
        check_answers_for(viewer, &villages)?;
        let enterprise = enterprise_named(txn, viewer, new.implementer_enterprise_id).await?;
        let field = "beneficiaryHouseholdIds";
        let beneficiaries = beneficiaries_named(txn, viewer, ids, field, &villages).await?;
        let now = Utc::now();
        let created = project::ActiveModel {
            name: Set(name),
            kind: Set(new.kind),
            status: Set(ProjectStatus::Library),
            year: Set(year),
            implementer: Set(implementer),
            implementer_enterprise_id: Set(enterprise),
            budget_fen: Set(budget_fen),
            start_date: Set(new.planned_start),
            end_date: Set(new.planned_end),
            performance_targets: Set(Some(targets)),
            benefit_mechanism: Set(Some(mechanism)),
            progress_percent: Set(0),
            actual_start_date: Set(None),
            actual_end_date: Set(None),
            notice_starts_on: Set(None),
            notice_ends_on: Set(None),
            approved_on: Set(None),
            accepted_on: Set(None),
            announced_on: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        insert_villages(txn, created.id, &villages).await?;
        insert_beneficiaries(txn, created.id, &beneficiaries).await?;
        let note = "entered the county project library".to_owned();
        let today = calendar::today();
        record_step(
            txn,
            actor,
            created.id,
            None,
            ProjectStatus::Library,
            today,
            note,
        )
        .await?;
        let after = with_ids(
            snapshot(&created),
            "villages",
            "Village",
            &village_ids(&villages),
        );
        let after = with_ids(after, "beneficiaries", "Household", &beneficiaries);
        Ok(Created::new(
            created.id,
            "project.create",
            "Project",
            after,
            created,
        ))
    })
    .await
}

/// Changes a project while it is in the library (修改项目); the county
/// office, or the township of every village it covers before and after.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    changes: ProjectChanges,
) -> ApiResult<project::Model> {
    let name = changes
        .name
        .map(|t| free_text("name", &t, MAX_NAME_CHARS))
        .transpose()?;
    let implementer = changes
        .implementer
        .map(|t| required_text(&t, "implementer", MAX_IMPLEMENTER_CHARS))
        .transpose()?;
    let year = changes.year.map(check_year).transpose()?;
    let budget_fen = changes.budget.map(check_budget).transpose()?;
    let targets = changes
        .performance_targets
        .map(|t| {
            statement(
                Some(&t),
                "performanceTargets",
                "performance targets (绩效目标)",
            )
        })
        .transpose()?;
    let mechanism = changes
        .benefit_mechanism
        .map(|t| {
            statement(
                Some(&t),
                "benefitMechanism",
                "poverty-reduction mechanism (带贫减贫机制)",
            )
        })
        .transpose()?;
    let nothing = name.is_none()
        && changes.kind.is_none()
        && year.is_none()
        && changes.village_ids.is_none()
        && implementer.is_none()
        && changes.implementer_enterprise_id.is_none()
        && budget_fen.is_none()
        && changes.planned_start.is_none()
        && changes.planned_end.is_none()
        && targets.is_none()
        && mechanism.is_none();
    if nothing {
        return Err(ApiError::bad_input(
            "input",
            "give at least one field to change",
        ));
    }
    let txn = write::begin(db).await?;
    let before = project_to_change(&txn, viewer, changes.project.id).await?;
    check_project_version(viewer, changes.project.version, &before)?;
    let villages_before = covered_villages(&txn, before.id).await?;
    check_answers_for(viewer, &villages_before)?;
    next(before.status, Step::Edit).map_err(|why| ApiError::bad_input("id", why))?;
    let villages_after = match &changes.village_ids {
        Some(ids) => {
            let villages = villages_named(&txn, ids).await?;
            check_answers_for(viewer, &villages)?;
            check_beneficiaries_stay(&txn, before.id, &villages).await?;
            Some(villages)
        }
        None => None,
    };
    let mut changed: project::ActiveModel = before.clone().into();
    let start = changes.planned_start.unwrap_or(before.start_date);
    let end = changes.planned_end.unwrap_or(before.end_date);
    check_dates(start, end)?;
    changed.start_date = Set(start);
    changed.end_date = Set(end);
    if let Some(firm) = changes.implementer_enterprise_id {
        changed.implementer_enterprise_id = Set(enterprise_named(&txn, viewer, firm).await?);
    }
    if let Some(name) = name {
        changed.name = Set(name);
    }
    if let Some(kind) = changes.kind {
        changed.kind = Set(kind);
    }
    if let Some(year) = year {
        changed.year = Set(year);
    }
    if let Some(implementer) = implementer {
        changed.implementer = Set(implementer);
    }
    if let Some(budget_fen) = budget_fen {
        changed.budget_fen = Set(budget_fen);
    }
    if let Some(targets) = targets {
        changed.performance_targets = Set(Some(targets));
    }
    if let Some(mechanism) = mechanism {
        changed.benefit_mechanism = Set(Some(mechanism));
    }
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(Utc::now());
    let after = changed.update(&txn).await?;
    let villages = match villages_after {
        Some(villages) => {
            project_village::Entity::delete_many()
                .filter(project_village::Column::ProjectId.eq(before.id))
                .exec(&txn)
                .await?;
            insert_villages(&txn, before.id, &villages).await?;
            villages
        }
        None => villages_before.clone(),
    };
    let change = Change {
        action: "project.update",
        entity_type: "Project",
        entity_id: after.id,
        before: Some(with_ids(
            snapshot(&before),
            "villages",
            "Village",
            &village_ids(&villages_before),
        )),
        after: Some(with_ids(
            snapshot(&after),
            "villages",
            "Village",
            &village_ids(&villages),
        )),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Replaces the households a project benefits (设定受益贫困户), until it is
/// accepted: each one the caller reaches, living in a covered village.
pub async fn set_beneficiaries(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    project: ProjectVersion,
    household_ids: &[i64],
) -> ApiResult<project::Model> {
    let txn = write::begin(db).await?;
    let before = project_to_change(&txn, viewer, project.id).await?;
    check_project_version(viewer, project.version, &before)?;
    let villages = covered_villages(&txn, before.id).await?;
    check_answers_for(viewer, &villages)?;
    next(before.status, Step::SetBeneficiaries).map_err(|why| ApiError::bad_input("id", why))?;
    let field = "householdIds";
    let chosen = beneficiaries_named(&txn, viewer, household_ids, field, &villages).await?;
    let earlier = beneficiaries_of(&txn, before.id).await?;
    project_beneficiary::Entity::delete_many()
        .filter(project_beneficiary::Column::ProjectId.eq(before.id))
        .exec(&txn)
        .await?;
    insert_beneficiaries(&txn, before.id, &chosen).await?;
    let mut changed: project::ActiveModel = before.clone().into();
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(Utc::now());
    let after = changed.update(&txn).await?;
    let mut chosen = chosen;
    chosen.sort_unstable();
    let change = Change {
        action: "project.beneficiaries",
        entity_type: "Project",
        entity_id: after.id,
        before: Some(with_ids(
            snapshot(&before),
            "beneficiaries",
            "Household",
            &earlier,
        )),
        after: Some(with_ids(
            snapshot(&after),
            "beneficiaries",
            "Household",
            &chosen,
        )),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Refuses new villages that would leave a beneficiary outside the project.
async fn check_beneficiaries_stay(
    txn: &DatabaseTransaction,
    project_id: i64,
    villages: &[region::Model],
) -> ApiResult<()> {
    let benefiting = Query::select()
        .column(project_beneficiary::Column::HouseholdId)
        .from(project_beneficiary::Entity)
        .and_where(project_beneficiary::Column::ProjectId.eq(project_id))
        .to_owned();
    let outside = household::Entity::find()
        .filter(household::Column::Id.in_subquery(benefiting))
        .filter(household::Column::VillageId.is_not_in(village_ids(villages)))
        .count(txn)
        .await?;
    if outside > 0 {
        return Err(ApiError::bad_input(
            "villageIds",
            format!(
                "{outside} beneficiary households live in villages the project would no longer \
                 cover; change its beneficiaries first"
            ),
        ));
    }
    Ok(())
}
