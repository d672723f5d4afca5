//! A household's lifecycle (动态管理): identification and exit through "two
//! public notices and one announcement" (两公示一公告), return to poverty,
//! removal, and monitoring for return to poverty (防返贫监测). Every change of
//! status or monitoring goes through `domain::lifecycle::change_status`: one
//! history row, a new card revision, a version bump and an audit entry.

mod monitoring;
mod proposals;
mod public;

use crate::graphql::date::Day;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::{
    FoundBy, HouseholdStatus, MonitoringCategory, ProposalKind, ProposalOrigin, ProposalStage,
    RiskType, StatusAction,
};
use entity::{
    household, monitoring_case, monitoring_line, objection, proposal, region, status_change,
};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, QueryFilter};

pub use monitoring::{MonitoringMutation, MonitoringQuery};
pub use proposals::ProposalMutation;
pub use public::{PublicNotice, PublicNoticeQuery};

use super::context::{db, loaders, page, viewer};
use super::household::Household;
use super::money::Money;
use super::relay::{
    Conn, KeyType, NodeKind, PageArgs, SortKey, decode_id_of, global_id, page_cost, paginate,
};
use crate::access;
use crate::domain::proposal::{evidence_of, notice_open};
use crate::domain::{calendar, notice};
use crate::error::{ApiError, ApiResult};
use crate::graphql::notice::PaperNotice;

pub struct Proposal(pub proposal::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for Proposal {
    type Row = entity::proposal::Model;
}

/// A proposal to identify a household as poor or to certify its exit, going
/// through democratic appraisal, notice in the village, township check,
/// notice in the township and county decision (识别/退出申请).
#[Object]
impl Proposal {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Proposal, self.0.id)
    }
    /// What is proposed (申请事项).
    async fn kind(&self) -> ProposalKind {
        self.0.kind
    }
    /// How it came: an application or a discovery; null for proposals made
    /// before the procedure recorded it (申请来源).
    async fn origin(&self) -> Option<ProposalOrigin> {
        self.0.origin
    }
    /// The village's democratic appraisal that passed it; null for proposals
    /// made before the procedure recorded it (民主评议).
    async fn appraisal(&self) -> Option<Appraisal> {
        appraisal_of(&self.0)
    }
    /// Where it stands (办理阶段).
    async fn stage(&self) -> ProposalStage {
        self.0.stage
    }
    /// The household concerned (申请户), when the reader reaches it.
    async fn household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        Ok(loaders(ctx)?
            .households
            .load_one(self.0.household_id)
            .await?
            .map(Household))
    }
    /// Why, as the public notice shows it (申请理由).
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// References to the evidence: documents, photos (佐证材料).
    async fn evidence(&self) -> Vec<String> {
        evidence_of(&self.0)
    }
    /// For an exit, the year the household is certified lifted out (脱贫年度).
    async fn exit_year(&self) -> Option<i32> {
        self.0.exit_year
    }
    /// First day of the first public notice, in the village (村级公示开始日期).
    async fn notice_starts_on(&self) -> Day {
        Day(self.0.notice_starts_on)
    }
    /// Last day of the first public notice, in the village (村级公示截止日期).
    async fn notice_ends_on(&self) -> Day {
        Day(self.0.notice_ends_on)
    }
    /// The paper notice the village's notice was first posted as, for a notice
    /// entered after its first day (纸质公示佐证).
    async fn paper_notice(&self) -> Option<PaperNotice> {
        notice::PaperNotice::from_columns(
            self.0.notice_posted_by.as_deref(),
            self.0.notice_posted_at.as_deref(),
            self.0.notice_evidence.as_deref(),
        )
        .map(PaperNotice::from)
    }
    /// Whether the notice was entered after its first day, from a paper notice (补录公示).
    async fn notice_backdated(&self) -> bool {
        notice::backdated(self.0.notice_starts_on, calendar::day_of(self.0.created_at))
    }
    /// Whether a notice, the village's or the township's, is running today and
    /// objections may still come (公示期内).
    async fn notice_open(&self) -> bool {
        notice_open(&self.0, calendar::today())
    }
    /// Objections received, oldest first (公示异议).
    async fn objections(&self, ctx: &Context<'_>) -> ApiResult<Vec<Objection>> {
        let objections = loaders(ctx)?
            .proposal_objections
            .load_one(self.0.id)
            .await?;
        Ok(objections
            .unwrap_or_default()
            .into_iter()
            .map(Objection)
            .collect())
    }
    /// The township's opinion when it checked the proposal (乡镇审核意见).
    async fn township_opinion(&self) -> Option<&str> {
        self.0.township_opinion.as_deref()
    }
    /// When the township checked it (乡镇审核时间).
    async fn township_checked_at(&self) -> Option<DateTime<Utc>> {
        self.0.township_checked_at
    }
    /// First day of the second public notice, in the township, once it passed
    /// the check (乡镇公示开始日期).
    async fn township_notice_starts_on(&self) -> Option<Day> {
        self.0.township_notice_starts_on.map(Day)
    }
    /// Last day of the township's notice (乡镇公示截止日期).
    async fn township_notice_ends_on(&self) -> Option<Day> {
        self.0.township_notice_ends_on.map(Day)
    }
    /// The paper notice the township's notice was first posted as, for a
    /// notice entered after its first day (乡镇纸质公示佐证).
    async fn township_paper_notice(&self) -> Option<PaperNotice> {
        notice::PaperNotice::from_columns(
            self.0.township_notice_posted_by.as_deref(),
            self.0.township_notice_posted_at.as_deref(),
            self.0.township_notice_evidence.as_deref(),
        )
        .map(PaperNotice::from)
    }
    /// The county's note on its decision, or the reason a proposal was withdrawn (县级审定意见).
    async fn decision_note(&self) -> Option<&str> {
        self.0.decision_note.as_deref()
    }
    /// When the county decided or the proposal was withdrawn; an approval is announced then (审定时间).
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A village's democratic appraisal of a household (民主评议).
#[derive(SimpleObject)]
pub struct Appraisal {
    /// The day it was held (评议日期).
    held_on: Day,
    /// How many attended (参会人数).
    attendance: i32,
    /// Votes for the proposal (赞成票).
    votes_for: i32,
    /// Votes against (反对票).
    votes_against: i32,
    /// Where its minutes are kept (会议记录编号).
    minutes_reference: String,
}

/// The appraisal a proposal recorded, if it did.
fn appraisal_of(p: &proposal::Model) -> Option<Appraisal> {
    Some(Appraisal {
        held_on: Day(p.appraised_on?),
        attendance: p.appraisal_attendance?,
        votes_for: p.appraisal_votes_for?,
        votes_against: p.appraisal_votes_against?,
        minutes_reference: p.appraisal_minutes.clone()?,
    })
}

pub struct Objection(pub objection::Model);

/// An objection to a public notice (公示异议), open until the township or county resolves it.
#[Object]
impl Objection {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Objection, self.0.id)
    }
    /// The proposal objected to (异议所指申请).
    async fn proposal(&self, ctx: &Context<'_>) -> ApiResult<Option<Proposal>> {
        Ok(loaders(ctx)?
            .proposals
            .load_one(self.0.proposal_id)
            .await?
            .map(Proposal))
    }
    /// Who objected, if they gave a name (异议人); protected from those they may live next to.
    async fn objector(&self) -> Option<&str> {
        self.0.objector.as_deref()
    }
    /// What the objection says (异议内容).
    async fn content(&self) -> &str {
        &self.0.content
    }
    /// The day it was received (受理日期).
    async fn received_on(&self) -> Day {
        Day(self.0.received_on)
    }
    /// Whether it still awaits resolution (待处理).
    async fn open(&self) -> bool {
        self.0.upheld.is_none()
    }
    /// Whether it was found right, once resolved (异议是否成立).
    async fn upheld(&self) -> Option<bool> {
        self.0.upheld
    }
    /// How it was resolved (处理结果).
    async fn resolution(&self) -> Option<&str> {
        self.0.resolution.as_deref()
    }
    /// When it was resolved (处理时间).
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct StatusChange(pub status_change::Model);

/// One change of a household's status or monitoring (状态变更记录).
#[Object]
impl StatusChange {
    /// What happened (变更事项).
    async fn action(&self) -> StatusAction {
        self.0.action
    }
    /// Status before, if the household was on file (变更前状态).
    async fn from_status(&self) -> Option<HouseholdStatus> {
        self.0.from_status
    }
    /// Status after (变更后状态).
    async fn to_status(&self) -> HouseholdStatus {
        self.0.to_status
    }
    /// Monitoring category before (变更前监测类别).
    async fn from_monitoring(&self) -> Option<MonitoringCategory> {
        self.0.from_monitoring
    }
    /// Monitoring category after (变更后监测类别).
    async fn to_monitoring(&self) -> Option<MonitoringCategory> {
        self.0.to_monitoring
    }
    /// The year of an enrolment (识别年度) or an exit (脱贫年度).
    async fn year(&self) -> Option<i32> {
        self.0.year
    }
    /// Why (变更原因).
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// The reference of the decision behind a change filed from elsewhere, such
    /// as a provincial file (决定文号); a change decided here names its proposal.
    async fn decision(&self) -> Option<&str> {
        self.0.decision.as_deref()
    }
    /// The proposal whose decision made the change (依据申请).
    async fn proposal(&self, ctx: &Context<'_>) -> ApiResult<Option<Proposal>> {
        let Some(id) = self.0.proposal_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.proposals.load_one(id).await?.map(Proposal))
    }
    /// Who made the change (操作人).
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// When (变更时间).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

pub struct MonitoringCase(pub monitoring_case::Model);

/// A household under monitoring for return to poverty, from the day its risk
/// was found to the day it was eliminated (防返贫监测记录).
#[Object]
impl MonitoringCase {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::MonitoringCase, self.0.id)
    }
    /// The household monitored (监测户).
    async fn household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        Ok(loaders(ctx)?
            .households
            .load_one(self.0.household_id)
            .await?
            .map(Household))
    }
    /// Monitoring category (监测类别).
    async fn category(&self) -> MonitoringCategory {
        self.0.category
    }
    /// How the risk was found (发现方式).
    async fn found_by(&self) -> FoundBy {
        self.0.found_by
    }
    /// The risks found (风险类型).
    async fn risks(&self, ctx: &Context<'_>) -> ApiResult<Vec<RiskType>> {
        let risks = loaders(ctx)?.case_risks.load_one(self.0.id).await?;
        Ok(risks
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.risk)
            .collect())
    }
    /// The day the risk was found (识别监测日期).
    async fn started_on(&self) -> Day {
        Day(self.0.started_on)
    }
    /// The day the risk was marked eliminated (风险消除日期), once it was.
    async fn eliminated_on(&self) -> Option<Day> {
        self.0.eliminated_on.map(Day)
    }
    /// Why the case was closed (风险消除说明).
    async fn elimination_note(&self) -> Option<&str> {
        self.0.elimination_note.as_deref()
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct MonitoringLine(pub monitoring_line::Model);

/// A province's income line for monitoring return to poverty in one year (防返贫监测收入标准).
#[Object]
impl MonitoringLine {
    /// First two digits of the province's division code (省级区划代码).
    async fn province_code(&self) -> &str {
        &self.0.province_code
    }
    /// The year (年度).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Annual per-capita net income at or below which a household is watched (元/人·年).
    async fn annual(&self) -> Money {
        Money(self.0.annual_fen)
    }
}

/// The proposals of a household, newest first.
pub async fn proposals_of(ctx: &Context<'_>, household_id: i64) -> ApiResult<Vec<Proposal>> {
    let mut rows = loaders(ctx)?
        .household_proposals
        .load_one(household_id)
        .await?
        .unwrap_or_default();
    rows.reverse();
    Ok(rows.into_iter().map(Proposal).collect())
}

/// The status history of a household, oldest first.
pub async fn history_of(ctx: &Context<'_>, household_id: i64) -> ApiResult<Vec<StatusChange>> {
    let rows = loaders(ctx)?
        .household_status_changes
        .load_one(household_id)
        .await?;
    Ok(rows
        .unwrap_or_default()
        .into_iter()
        .map(StatusChange)
        .collect())
}

/// The monitoring cases of a household, oldest first.
pub async fn monitoring_cases_of(
    ctx: &Context<'_>,
    household_id: i64,
) -> ApiResult<Vec<MonitoringCase>> {
    let rows = loaders(ctx)?
        .household_monitoring_cases
        .load_one(household_id)
        .await?;
    Ok(rows
        .unwrap_or_default()
        .into_iter()
        .map(MonitoringCase)
        .collect())
}

/// The IDs of the households in the villages under a region, for filters by region.
pub(crate) async fn households_in_region(
    ctx: &Context<'_>,
    region_id: &ID,
) -> ApiResult<sea_orm::sea_query::SelectStatement> {
    let (_, raw) = decode_id_of(
        region_id,
        "regionId",
        &[NodeKind::County, NodeKind::Township, NodeKind::Village],
    )?;
    let region: region::Model = access::select::<region::Entity>(viewer(ctx)?)
        .filter(region::Column::Id.eq(raw))
        .one(db(ctx)?)
        .await?
        .ok_or_else(|| ApiError::not_found("Region"))?;
    Ok(Query::select()
        .column(household::Column::Id)
        .from(household::Entity)
        .and_where(
            household::Column::VillageId
                .in_subquery(access::villages_under(access::code_prefix(&region))),
        )
        .to_owned())
}

/// Proposals, newest first.
pub(crate) const NEWEST_PROPOSAL_FIRST: SortKey<proposal::Entity> = SortKey {
    name: "proposal-desc",
    column: proposal::Column::Id,
    key_type: KeyType::Int,
    descending: true,
    value_of: |m| m.id.to_string(),
};

#[derive(Default)]
pub struct LifecycleQuery;

#[Object]
impl LifecycleQuery {
    /// Identification and exit proposals of the households the caller reaches,
    /// newest first (识别退出申请).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only proposals at this stage (办理阶段).")] stage: Option<ProposalStage>,
        #[graphql(desc = "Only proposals of this kind (申请事项).")] kind: Option<ProposalKind>,
        #[graphql(desc = "Only households under this county, township or village (所属区域).")]
        region_id: Option<ID>,
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
    ) -> ApiResult<Conn<Proposal>> {
        let mut select = access::select::<proposal::Entity>(viewer(ctx)?);
        if let Some(stage) = stage {
            select = select.filter(proposal::Column::Stage.eq(stage));
        }
        if let Some(kind) = kind {
            select = select.filter(proposal::Column::Kind.eq(kind));
        }
        if let Some(region_id) = region_id {
            let households = households_in_region(ctx, &region_id).await?;
            select = select.filter(proposal::Column::HouseholdId.in_subquery(households));
        }
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &NEWEST_PROPOSAL_FIRST, page, Proposal).await
    }
}
