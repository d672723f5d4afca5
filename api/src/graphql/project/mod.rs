//! Assistance projects (扶贫项目): the villages they cover, the households they
//! benefit, and their lifecycle from the county project library to the
//! announcement of their acceptance. `edit` holds the mutations that enter and
//! edit projects in the library; `lifecycle` the step mutations. Their rules
//! and writes are in `domain::project`.

mod edit;
mod lifecycle;

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::enums::{ProjectKind, ProjectStatus};
use entity::{household, project, project_beneficiary, project_stage_change, project_village};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationDef,
    RelationTrait,
};

pub use edit::ProjectEditMutation;
pub use lifecycle::ProjectLifecycleMutation;

use super::asset::{ProjectAsset, assets_of};
use super::context::{loaders, page, paginate_nested, viewer};
use super::enterprise::Enterprise;
use super::funds::{ProjectFunds, project_funds};
use super::household::{Household, HouseholdOrder};
use super::money::Money;
use super::region::{Village, find_region, village_in};
use super::relay::{
    Conn, KeyType, NodeKind, PageArgs, ParentColumn, SortKey, decode_id_of, global_id, page_cost,
    paginate,
};
use crate::access;
use crate::domain::project::{announcement_due_on, announcement_overdue, is_announcement_overdue};
use crate::domain::{calendar, notice};
use crate::error::{ApiError, ApiResult};
use crate::graphql::notice::PaperNotice;

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
    /// Only accepted projects whose result is overdue for announcement (true),
    /// or only the others (false) (验收结果公告逾期).
    announcement_overdue: Option<bool>,
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
    if let Some(overdue) = filter.announcement_overdue {
        let late = announcement_overdue(calendar::today());
        condition = condition.add(if overdue { late } else { late.not() });
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
        None => paginate(ctx, select, &BY_ID, page(ctx, args)?, Project).await,
    }
}

pub struct Project(pub project::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for Project {
    type Row = entity::project::Model;
}

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
    /// Planned start date (计划开工日期).
    async fn planned_start_date(&self) -> Option<Day> {
        self.0.start_date.map(Day)
    }
    /// Planned completion date (计划完工日期).
    async fn planned_end_date(&self) -> Option<Day> {
        self.0.end_date.map(Day)
    }
    /// Performance targets, stated when it entered the library (绩效目标).
    async fn performance_targets(&self) -> Option<&str> {
        self.0.performance_targets.as_deref()
    }
    /// How it benefits poor households (带贫减贫机制).
    async fn benefit_mechanism(&self) -> Option<&str> {
        self.0.benefit_mechanism.as_deref()
    }
    /// The paper notice it was first posted as, for a notice entered after its
    /// first day (纸质公示佐证).
    async fn paper_notice(&self) -> Option<PaperNotice> {
        notice::PaperNotice::from_columns(
            self.0.notice_posted_by.as_deref(),
            self.0.notice_posted_at.as_deref(),
            self.0.notice_evidence.as_deref(),
        )
        .map(PaperNotice::from)
    }
    /// First day of the public notice before approval (批复前公示开始日期).
    async fn notice_starts_on(&self) -> Option<Day> {
        self.0.notice_starts_on.map(Day)
    }
    /// Last day of the public notice before approval (批复前公示截止日期).
    async fn notice_ends_on(&self) -> Option<Day> {
        self.0.notice_ends_on.map(Day)
    }
    /// The day the county approved it (批复日期).
    async fn approved_on(&self) -> Option<Day> {
        self.0.approved_on.map(Day)
    }
    /// The day work actually started (实际开工日期).
    async fn actual_start_date(&self) -> Option<Day> {
        self.0.actual_start_date.map(Day)
    }
    /// The day work was actually completed (实际完工日期).
    async fn actual_end_date(&self) -> Option<Day> {
        self.0.actual_end_date.map(Day)
    }
    /// Progress in percent, 0 to 100, as last reported (实施进度).
    async fn progress_percent(&self) -> i32 {
        self.0.progress_percent
    }
    /// The day the county accepted it after inspection (验收日期).
    async fn accepted_on(&self) -> Option<Day> {
        self.0.accepted_on.map(Day)
    }
    /// The day the acceptance result was announced (验收结果公告日期).
    async fn announced_on(&self) -> Option<Day> {
        self.0.announced_on.map(Day)
    }
    /// The last day to announce the acceptance result: 20 working days
    /// (Monday to Friday; public holidays are not counted out) after acceptance (公告截止日期).
    async fn announcement_due_on(&self) -> Option<Day> {
        self.0.accepted_on.map(announcement_due_on).map(Day)
    }
    /// Accepted, not announced, and past the day the announcement was due (公告逾期).
    async fn announcement_overdue(&self) -> bool {
        is_announcement_overdue(&self.0, calendar::today())
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
    /// How many poor households it benefits, whoever asks (受益户数).
    async fn beneficiary_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let count = loaders(ctx)?
            .project_beneficiary_counts
            .load_one(self.0.id)
            .await?;
        Ok(count.unwrap_or(0))
    }
    /// The poor households it benefits, among those the caller reaches (受益贫困户).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn beneficiaries(
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
        let benefiting: RelationDef = project_beneficiary::Entity::belongs_to(household::Entity)
            .from(project_beneficiary::Column::HouseholdId)
            .to(household::Column::Id)
            .into();
        let select = access::select::<household::Entity>(viewer(ctx)?)
            .join(JoinType::InnerJoin, benefiting.rev());
        let parent = ParentColumn {
            table: "project_beneficiary",
            column: "project_id",
        };
        let key = HouseholdOrder::default().sort_key();
        let args = PageArgs::new(first, after, last, before);
        paginate_nested(ctx, select, parent, self.0.id, key, args, Household).await
    }
    /// Its lifecycle, oldest step first (项目流转记录).
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<ProjectStageChange>> {
        let steps = loaders(ctx)?.project_history.load_one(self.0.id).await?;
        Ok(steps
            .unwrap_or_default()
            .into_iter()
            .map(ProjectStageChange)
            .collect())
    }
    /// The assets it left once accepted, in registration order: those of
    /// village collectives for everyone, a household's for those who reach
    /// the household (项目资产).
    async fn assets(&self, ctx: &Context<'_>) -> ApiResult<Vec<ProjectAsset>> {
        assets_of(ctx, self.0.id).await
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct ProjectStageChange(pub project_stage_change::Model);

/// One step of a project's lifecycle (项目流转记录).
#[Object]
impl ProjectStageChange {
    /// The stage before the step; null when the project entered the library (原状态).
    async fn from_status(&self) -> Option<ProjectStatus> {
        self.0.from_status
    }
    /// The stage after the step: the same as before for a public notice, a
    /// progress report or an announcement (新状态).
    async fn to_status(&self) -> ProjectStatus {
        self.0.to_status
    }
    /// The day the step took effect, in the county (生效日期).
    async fn effective_on(&self) -> Day {
        Day(self.0.effective_on)
    }
    /// What was noted with the step (说明).
    async fn note(&self) -> &str {
        &self.0.note
    }
    /// The user who took the step (经办人); not for the public.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// When the step was recorded (记录时间).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
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
        #[graphql(desc = "Which projects; all if not given (筛选条件).")] filter: Option<
            ProjectFilter,
        >,
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
    ) -> ApiResult<Conn<Project>> {
        list(ctx, None, filter, PageArgs::new(first, after, last, before)).await
    }

    /// One project by ID.
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project (扶贫项目).")] id: ID,
    ) -> ApiResult<Project> {
        let (_, raw) = decode_id_of(&id, "id", &[NodeKind::Project])?;
        loaders(ctx)?
            .projects
            .load_one(raw)
            .await?
            .map(Project)
            .ok_or_else(|| ApiError::not_found("Project"))
    }
}
