//! Entering projects into the county project library (项目入库), editing them
//! while they are there, and naming the households they benefit.

use std::collections::BTreeSet;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{ProjectKind, ProjectStatus, RegionLevel};
use entity::{enterprise, household, project, project_beneficiary, project_village, region};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use super::super::money::Money;
use super::super::relay::{NodeKind, decode_id_of};
use super::super::{actor, db, required_text, viewer};
use super::lifecycle::{Step, next};
use super::{
    Project, check_answers_for, check_project_version, covered_villages, project_to_change,
    record_step, snapshot, with_ids,
};
use crate::access::{self, Viewer};
use crate::audit::{self, Change};
use crate::domain::calendar;
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
/// Most villages or beneficiary households one request names.
const MAX_IDS: usize = 1_000;

/// A new project for the county project library (新建项目入库).
#[derive(InputObject)]
pub struct CreateProjectInput {
    /// Project name, at most 200 characters (项目名称).
    name: String,
    /// Kind of project (项目类型).
    kind: ProjectKind,
    /// Plan year (计划年度).
    year: i32,
    /// The villages it covers, at least one (覆盖村).
    village_ids: Vec<ID>,
    /// Implementing unit, at most 100 characters (实施单位).
    implementer: String,
    /// The implementing enterprise, when an enterprise implements it (实施企业).
    implementer_enterprise_id: Option<ID>,
    /// Budget in yuan, more than zero (预算资金).
    budget: Money,
    /// Planned start date (计划开工日期).
    planned_start: Option<NaiveDate>,
    /// Planned completion date, not before the planned start (计划完工日期).
    planned_end: Option<NaiveDate>,
    /// Performance targets; required: a project enters the library only with them (绩效目标).
    performance_targets: Option<String>,
    /// How it benefits poor households; required: a project enters the library
    /// only with its poverty-reduction mechanism stated (带贫减贫机制).
    benefit_mechanism: Option<String>,
    /// Poor households it benefits: households the caller reaches, living in a
    /// covered village (受益贫困户).
    beneficiary_household_ids: Option<Vec<ID>>,
    /// Client-chosen key: a retried request returns the first project (幂等键).
    idempotency_key: Option<String>,
}

/// Changes to a project in the library; fields left out stay as they are (修改项目).
#[derive(InputObject)]
pub struct UpdateProjectInput {
    /// The project (项目).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// New name (项目名称).
    name: Option<String>,
    /// New kind (项目类型).
    kind: Option<ProjectKind>,
    /// New plan year (计划年度).
    year: Option<i32>,
    /// The villages it covers instead, at least one; every beneficiary must live
    /// in one of them (覆盖村).
    village_ids: Option<Vec<ID>>,
    /// New implementing unit (实施单位).
    implementer: Option<String>,
    /// New implementing enterprise; null for none (实施企业).
    implementer_enterprise_id: MaybeUndefined<ID>,
    /// New budget in yuan, more than zero (预算资金).
    budget: Option<Money>,
    /// New planned start date; null for none (计划开工日期).
    planned_start: MaybeUndefined<NaiveDate>,
    /// New planned completion date; null for none (计划完工日期).
    planned_end: MaybeUndefined<NaiveDate>,
    /// New performance targets, not empty (绩效目标).
    performance_targets: Option<String>,
    /// New poverty-reduction mechanism, not empty (带贫减贫机制).
    benefit_mechanism: Option<String>,
}

/// A statement a project enters the library only with.
fn statement(text: Option<&str>, field: &str, what: &str) -> ApiResult<String> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => required_text(text, field, MAX_STATEMENT_CHARS),
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

/// Raw IDs of one kind, without repeats, in the order given.
fn raw_ids(ids: &[ID], field: &str, kind: NodeKind) -> ApiResult<Vec<i64>> {
    if ids.len() > MAX_IDS {
        return Err(ApiError::bad_input(
            field,
            format!("at most {MAX_IDS} IDs at a time"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut raw = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let (_, id) = decode_id_of(id, &format!("{field}[{i}]"), &[kind])?;
        if seen.insert(id) {
            raw.push(id);
        }
    }
    Ok(raw)
}

/// The villages named by `ids`: at least one, each a village.
async fn villages_named(txn: &DatabaseTransaction, ids: &[ID]) -> ApiResult<Vec<region::Model>> {
    let raw = raw_ids(ids, "villageIds", NodeKind::Village)?;
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
    id: Option<&ID>,
) -> ApiResult<Option<i64>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let field = "implementerEnterpriseId";
    let (_, raw) = decode_id_of(id, field, &[NodeKind::Enterprise])?;
    let found = access::select::<enterprise::Entity>(viewer)
        .filter(enterprise::Column::Id.eq(raw))
        .one(txn)
        .await?;
    match found {
        Some(firm) => Ok(Some(firm.id)),
        None => Err(ApiError::bad_input(field, "no such enterprise")),
    }
}

/// The households named by `ids`: each one the caller reaches (else not found)
/// and living in one of `villages`.
async fn beneficiaries_named(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    ids: &[ID],
    field: &str,
    villages: &[region::Model],
) -> ApiResult<Vec<i64>> {
    let raw = raw_ids(ids, field, NodeKind::Household)?;
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

#[derive(Default)]
pub struct ProjectEditMutation;

#[Object]
impl ProjectEditMutation {
    /// Enters a project into the county project library (项目入库): the county
    /// office for any villages, a township officer for villages of its township.
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> ApiResult<Project> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        viewer.user()?;
        let name = required_text(&input.name, "name", MAX_NAME_CHARS)?;
        let implementer = required_text(&input.implementer, "implementer", MAX_IMPLEMENTER_CHARS)?;
        let year = check_year(input.year)?;
        let budget_fen = check_budget(input.budget)?;
        check_dates(input.planned_start, input.planned_end)?;
        let targets = statement(
            input.performance_targets.as_deref(),
            "performanceTargets",
            "performance targets (绩效目标)",
        )?;
        let mechanism = statement(
            input.benefit_mechanism.as_deref(),
            "benefitMechanism",
            "poverty-reduction mechanism (带贫减贫机制)",
        )?;
        let ids = input.beneficiary_household_ids.clone().unwrap_or_default();
        let request = json!({
            "name": name,
            "kind": input.kind,
            "year": year,
            "villages": input.village_ids,
            "implementer": implementer,
            "enterprise": input.implementer_enterprise_id,
            "budgetFen": budget_fen,
            "plannedStart": input.planned_start,
            "plannedEnd": input.planned_end,
            "targets": targets,
            "mechanism": mechanism,
            "beneficiaries": ids,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<project::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "createProject",
            &request,
            async |txn| {
                let villages = villages_named(txn, &input.village_ids).await?;
                check_answers_for(viewer, &villages)?;
                let enterprise =
                    enterprise_named(txn, viewer, input.implementer_enterprise_id.as_ref()).await?;
                let field = "beneficiaryHouseholdIds";
                let beneficiaries =
                    beneficiaries_named(txn, viewer, &ids, field, &villages).await?;
                let now = Utc::now();
                let created = project::ActiveModel {
                    name: Set(name),
                    kind: Set(input.kind),
                    status: Set(ProjectStatus::Library),
                    year: Set(year),
                    implementer: Set(implementer),
                    implementer_enterprise_id: Set(enterprise),
                    budget_fen: Set(budget_fen),
                    start_date: Set(input.planned_start),
                    end_date: Set(input.planned_end),
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
                    &actor,
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
                    NodeKind::Village,
                    &village_ids(&villages),
                );
                let after = with_ids(after, "beneficiaries", NodeKind::Household, &beneficiaries);
                Ok(Created::new(
                    created.id,
                    "project.create",
                    "Project",
                    after,
                    created,
                ))
            },
        )
        .await?;
        Ok(Project(created))
    }

    /// Changes a project while it is in the library (修改项目); the county
    /// office, or the township of every village it covers before and after.
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        input: UpdateProjectInput,
    ) -> ApiResult<Project> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let name = input
            .name
            .map(|t| required_text(&t, "name", MAX_NAME_CHARS))
            .transpose()?;
        let implementer = input
            .implementer
            .map(|t| required_text(&t, "implementer", MAX_IMPLEMENTER_CHARS))
            .transpose()?;
        let year = input.year.map(check_year).transpose()?;
        let budget_fen = input.budget.map(check_budget).transpose()?;
        let targets = input
            .performance_targets
            .map(|t| {
                statement(
                    Some(&t),
                    "performanceTargets",
                    "performance targets (绩效目标)",
                )
            })
            .transpose()?;
        let mechanism = input
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
            && input.kind.is_none()
            && year.is_none()
            && input.village_ids.is_none()
            && implementer.is_none()
            && input.implementer_enterprise_id.is_undefined()
            && budget_fen.is_none()
            && input.planned_start.is_undefined()
            && input.planned_end.is_undefined()
            && targets.is_none()
            && mechanism.is_none();
        if nothing {
            return Err(ApiError::bad_input(
                "input",
                "give at least one field to change",
            ));
        }
        let txn = write::begin(db(ctx)?).await?;
        let before = project_to_change(&txn, viewer, &input.id).await?;
        check_project_version(viewer, input.version, &before)?;
        let villages_before = covered_villages(&txn, before.id).await?;
        check_answers_for(viewer, &villages_before)?;
        next(before.status, Step::Edit).map_err(|why| ApiError::bad_input("id", why))?;
        let villages_after = match &input.village_ids {
            Some(ids) => {
                let villages = villages_named(&txn, ids).await?;
                check_answers_for(viewer, &villages)?;
                check_beneficiaries_stay(&txn, before.id, &villages).await?;
                Some(villages)
            }
            None => None,
        };
        let mut changed: project::ActiveModel = before.clone().into();
        let start = match input.planned_start {
            MaybeUndefined::Undefined => before.start_date,
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(start) => Some(start),
        };
        let end = match input.planned_end {
            MaybeUndefined::Undefined => before.end_date,
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(end) => Some(end),
        };
        check_dates(start, end)?;
        changed.start_date = Set(start);
        changed.end_date = Set(end);
        match &input.implementer_enterprise_id {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => changed.implementer_enterprise_id = Set(None),
            MaybeUndefined::Value(id) => {
                let firm = enterprise_named(&txn, viewer, Some(id)).await?;
                changed.implementer_enterprise_id = Set(firm);
            }
        }
        if let Some(name) = name {
            changed.name = Set(name);
        }
        if let Some(kind) = input.kind {
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
                NodeKind::Village,
                &village_ids(&villages_before),
            )),
            after: Some(with_ids(
                snapshot(&after),
                "villages",
                NodeKind::Village,
                &village_ids(&villages),
            )),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Project(after))
    }

    /// Replaces the households a project benefits (设定受益贫困户), until it is
    /// accepted: each one the caller reaches, living in a covered village.
    async fn set_project_beneficiaries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project (项目).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "The households it benefits, replacing those before (受益贫困户).")]
        household_ids: Vec<ID>,
    ) -> ApiResult<Project> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = project_to_change(&txn, viewer, &id).await?;
        check_project_version(viewer, version, &before)?;
        let villages = covered_villages(&txn, before.id).await?;
        check_answers_for(viewer, &villages)?;
        next(before.status, Step::SetBeneficiaries)
            .map_err(|why| ApiError::bad_input("id", why))?;
        let field = "householdIds";
        let chosen = beneficiaries_named(&txn, viewer, &household_ids, field, &villages).await?;
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
                NodeKind::Household,
                &earlier,
            )),
            after: Some(with_ids(
                snapshot(&after),
                "beneficiaries",
                NodeKind::Household,
                &chosen,
            )),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Project(after))
    }
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
