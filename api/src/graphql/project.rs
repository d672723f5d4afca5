//! Assistance projects (扶贫项目) and the villages they cover.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;
use entity::enums::{ProjectKind, ProjectStatus};
use entity::{project, project_village};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, JoinType, QueryFilter, QuerySelect, RelationTrait};

use super::enterprise::Enterprise;
use super::funds::{ProjectFunds, project_funds};
use super::money::Money;
use super::region::{Village, find_region, village_in};
use super::relay::{
    Conn, KeyType, NodeKind, PageArgs, ParentColumn, SortKey, decode_id_of, global_id, page_cost,
    paginate,
};
use super::{db, loaders, page, paginate_nested, viewer};
use crate::access;
use crate::error::{ApiError, ApiResult};

const BY_ID: SortKey<project::Entity> = SortKey {
    name: "id",
    column: project::Column::Id,
    key_type: KeyType::Int,
    descending: false,
    value_of: |m| m.id.to_string(),
};

/// Which projects to list (项目筛选条件).
#[derive(InputObject, Default)]
pub struct ProjectFilter {
    /// Only projects covering a village in this county, township or village (覆盖区域).
    region_id: Option<ID>,
    /// Only these kinds (项目类型).
    kind: Option<Vec<ProjectKind>>,
    /// Only these lifecycle stages (项目状态).
    status: Option<Vec<ProjectStatus>>,
    /// Only projects of this plan year (计划年度).
    year: Option<i32>,
}

/// Whose projects a nested list shows.
#[derive(Debug, Clone, Copy)]
pub enum ProjectsOf {
    /// The projects covering a village.
    Village(i64),
    /// The projects an enterprise implements.
    Enterprise(i64),
}

/// Projects named by a client's filter: all of them, or those of one owner.
pub async fn list(
    ctx: &Context<'_>,
    of: Option<ProjectsOf>,
    filter: Option<ProjectFilter>,
    args: PageArgs,
) -> ApiResult<Conn<Project>> {
    use project::Column as P;
    let filter = filter.unwrap_or_default();
    let mut condition = Condition::all();
    if let Some(id) = &filter.region_id {
        let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
        let region = find_region(ctx, id, "filter.regionId", &kinds).await?;
        let covering = Query::select()
            .column(project_village::Column::ProjectId)
            .from(project_village::Entity)
            .cond_where(village_in(project_village::Column::VillageId, &region))
            .to_owned();
        condition = condition.add(P::Id.in_subquery(covering));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(P::Kind.is_in(kind));
    }
    if let Some(status) = filter.status {
        condition = condition.add(P::Status.is_in(status));
    }
    if let Some(year) = filter.year {
        condition = condition.add(P::Year.eq(year));
    }
    let select = access::select::<project::Entity>(viewer(ctx)?).filter(condition);
    match of {
        Some(ProjectsOf::Village(village)) => {
            // A project covering several villages is listed under each of them.
            let covering = select.join(
                JoinType::InnerJoin,
                project_village::Relation::Project.def().rev(),
            );
            let parent = ParentColumn {
                table: "project_village",
                column: "village_id",
            };
            paginate_nested(ctx, covering, parent, village, BY_ID, args, Project).await
        }
        Some(ProjectsOf::Enterprise(enterprise)) => {
            let parent = ParentColumn {
                table: "project",
                column: "implementer_enterprise_id",
            };
            paginate_nested(ctx, select, parent, enterprise, BY_ID, args, Project).await
        }
        None => paginate(db(ctx)?, select, &BY_ID, page(ctx, args)?, Project).await,
    }
}

pub struct Project(pub project::Model);

/// An assistance project (扶贫项目).
#[Object]
impl Project {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Project, self.0.id)
    }
    /// Project name (项目名称).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Kind of project (项目类型).
    async fn kind(&self) -> ProjectKind {
        self.0.kind
    }
    /// Lifecycle stage (项目状态).
    async fn status(&self) -> ProjectStatus {
        self.0.status
    }
    /// Plan year (计划年度).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Implementing unit (实施单位).
    async fn implementer(&self) -> &str {
        &self.0.implementer
    }
    /// The implementing enterprise, when an enterprise implements it (实施企业).
    async fn implementer_enterprise(&self, ctx: &Context<'_>) -> ApiResult<Option<Enterprise>> {
        let Some(id) = self.0.implementer_enterprise_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .enterprises
            .load_one(id)
            .await?
            .map(Enterprise))
    }
    /// Budget (预算资金).
    async fn budget(&self) -> Money {
        Money(self.0.budget_fen)
    }
    /// Its money: allocated, disbursed, by fund source (项目资金).
    async fn funds(&self, ctx: &Context<'_>) -> ApiResult<ProjectFunds> {
        project_funds(ctx, self.0.id).await
    }
    /// Planned or actual start date (开工日期).
    async fn start_date(&self) -> Option<NaiveDate> {
        self.0.start_date
    }
    /// Planned or actual completion date (完工日期).
    async fn end_date(&self) -> Option<NaiveDate> {
        self.0.end_date
    }
    /// Villages the project covers, in code order (覆盖村).
    async fn villages(&self, ctx: &Context<'_>) -> ApiResult<Vec<Village>> {
        let villages = loaders(ctx)?.project_villages.load_one(self.0.id).await?;
        Ok(villages
            .unwrap_or_default()
            .into_iter()
            .map(Village)
            .collect())
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// Assistance projects (扶贫项目), in creation order.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Conn<Project>> {
        list(ctx, None, filter, PageArgs::new(first, after, last, before)).await
    }

    /// One project by ID.
    async fn project(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Project> {
        let (_, raw) = decode_id_of(&id, "id", &[NodeKind::Project])?;
        loaders(ctx)?
            .projects
            .load_one(raw)
            .await?
            .map(Project)
            .ok_or_else(|| ApiError::not_found("Project"))
    }
}
