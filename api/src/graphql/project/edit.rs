//! The mutations that enter projects into the county project library
//! (项目入库), edit them while they are there, and name the households they
//! benefit. The rules and the writes are in `domain::project`.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use entity::enums::ProjectKind;

use super::super::money::Money;
use super::super::relay::{NodeKind, decode_id_of};
use super::Project;
use crate::domain::project::{self, NewProject, ProjectChanges, ProjectVersion};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{actor, db, viewer};

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
    planned_start: Option<Day>,
    /// Planned completion date, not before the planned start (计划完工日期).
    planned_end: Option<Day>,
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
    planned_start: MaybeUndefined<Day>,
    /// New planned completion date; null for none (计划完工日期).
    planned_end: MaybeUndefined<Day>,
    /// New performance targets, not empty (绩效目标).
    performance_targets: Option<String>,
    /// New poverty-reduction mechanism, not empty (带贫减贫机制).
    benefit_mechanism: Option<String>,
}

/// Raw IDs of one kind, in the order given.
fn raw_ids(ids: &[ID], field: &str, kind: NodeKind) -> ApiResult<Vec<i64>> {
    if ids.len() > MAX_IDS {
        return Err(ApiError::bad_input(
            field,
            format!("at most {MAX_IDS} IDs at a time"),
        ));
    }
    ids.iter()
        .enumerate()
        .map(|(i, id)| Ok(decode_id_of(id, &format!("{field}[{i}]"), &[kind])?.1))
        .collect()
}

fn enterprise_id(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "implementerEnterpriseId", &[NodeKind::Enterprise])?.1)
}

/// What a client left out (`None`), set to null (`Some(None)`) or gave.
fn given<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
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
        #[graphql(desc = "The project (扶贫项目).")] input: CreateProjectInput,
    ) -> ApiResult<Project> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let new = NewProject {
            name: input.name,
            kind: input.kind,
            year: input.year,
            village_ids: raw_ids(&input.village_ids, "villageIds", NodeKind::Village)?,
            implementer: input.implementer,
            implementer_enterprise_id: input
                .implementer_enterprise_id
                .as_ref()
                .map(enterprise_id)
                .transpose()?,
            budget: input.budget,
            planned_start: input.planned_start.map(Into::into),
            planned_end: input.planned_end.map(Into::into),
            performance_targets: input.performance_targets,
            benefit_mechanism: input.benefit_mechanism,
            beneficiary_household_ids: raw_ids(
                input
                    .beneficiary_household_ids
                    .as_deref()
                    .unwrap_or_default(),
                "beneficiaryHouseholdIds",
                NodeKind::Household,
            )?,
        };
        let key = input.idempotency_key.as_deref();
        let created = project::create(db(ctx)?, &actor, viewer, key, new).await?;
        Ok(Project(created))
    }

    /// Changes a project while it is in the library (修改项目); the county
    /// office, or the township of every village it covers before and after.
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project and what changes (项目变更).")] input: UpdateProjectInput,
    ) -> ApiResult<Project> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::Project])?;
        let changes = ProjectChanges {
            project: ProjectVersion {
                id,
                version: input.version,
            },
            name: input.name,
            kind: input.kind,
            year: input.year,
            village_ids: input
                .village_ids
                .map(|ids| raw_ids(&ids, "villageIds", NodeKind::Village))
                .transpose()?,
            implementer: input.implementer,
            implementer_enterprise_id: given(input.implementer_enterprise_id)
                .map(|id| id.as_ref().map(enterprise_id).transpose())
                .transpose()?,
            budget: input.budget,
            planned_start: given(input.planned_start.map_value(Into::into)),
            planned_end: given(input.planned_end.map_value(Into::into)),
            performance_targets: input.performance_targets,
            benefit_mechanism: input.benefit_mechanism,
        };
        let after = project::update(db(ctx)?, &actor, viewer, changes).await?;
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
        let (_, id) = decode_id_of(&id, "id", &[NodeKind::Project])?;
        let households = raw_ids(&household_ids, "householdIds", NodeKind::Household)?;
        let project = ProjectVersion { id, version };
        let after =
            project::set_beneficiaries(db(ctx)?, &actor, viewer, project, &households).await?;
        Ok(Project(after))
    }
}
