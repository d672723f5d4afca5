//! Supervision (监督): complaints and problem clues, like those to the 12317
//! hotline, about a household's treatment, a project, funds or cadres. Anyone
//! submits one, without an account, and follows it by its tracking number; the
//! county office and the townships handle it (assigned, answered, closed).
//! Who complained is seen only by the county office and auditors, through the
//! field policy; the complainant's view ([`ComplaintProgress`]) carries no
//! identity and no internal notes. The history of a complaint is its audit
//! trail (`auditEntries` with entity type `Complaint`), redacted by the same policy.

mod edit;

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entity::complaint;
use entity::enums::{ComplaintConclusion, ComplaintStatus, ComplaintSubject};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryTrait};

pub use edit::SupervisionMutation;

use super::context::{db, loaders, page, viewer};
use super::funds::FundEntry;
use super::household::Household;
use super::node::Node;
use super::project::Project;
use super::region::{find_region, region_node, village_in};
use super::relay::{Conn, KeyType, NodeKind, PageArgs, SortKey, global_id, page_cost, paginate};
use crate::access;
use crate::domain::calendar;
use crate::error::{ApiError, ApiResult};

/// Newest first.
const COMPLAINTS_NEWEST_FIRST: SortKey<complaint::Entity> = SortKey {
    name: "id",
    column: complaint::Column::Id,
    key_type: KeyType::Int,
    descending: true,
    value_of: |m| m.id.to_string(),
};

/// Longest tracking number accepted in a lookup, in characters.
const MAX_TRACKING_NUMBER_CHARS: usize = 32;

/// Assigned and not answered by its deadline, in the county's today.
fn is_overdue(complaint: &complaint::Model, today: NaiveDate) -> bool {
    complaint.status == ComplaintStatus::Assigned
        && complaint.deadline.is_some_and(|deadline| deadline < today)
}

/// The same as a condition: the overdue filter runs in SQL.
fn overdue_condition(today: NaiveDate) -> Condition {
    Condition::all()
        .add(complaint::Column::Status.eq(ComplaintStatus::Assigned))
        .add(complaint::Column::Deadline.lt(today))
}

pub struct Complaint(pub complaint::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for Complaint {
    type Row = entity::complaint::Model;
}

/// A complaint or problem clue and its handling (投诉举报), as those who
/// handle and oversee it see it.
#[Object]
impl Complaint {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Complaint, self.0.id)
    }
    /// Tracking number given to the complainant (受理编号).
    async fn tracking_number(&self) -> &str {
        &self.0.tracking_number
    }
    /// What it is about (事项类别).
    async fn subject_kind(&self) -> ComplaintSubject {
        self.0.subject_kind
    }
    /// The household, project or ledger entry complained about, if one was
    /// named and the reader reaches it; a village named is the `village` (被投诉对象).
    async fn subject(&self, ctx: &Context<'_>) -> ApiResult<Option<Node>> {
        let loaders = loaders(ctx)?;
        let c = &self.0;
        if let Some(id) = c.household_id {
            return Ok(loaders
                .households
                .load_one(id)
                .await?
                .map(|m| Household(m).into()));
        }
        if let Some(id) = c.project_id {
            return Ok(loaders
                .projects
                .load_one(id)
                .await?
                .map(|m| Project(m).into()));
        }
        if let Some(id) = c.fund_entry_id {
            return Ok(loaders
                .fund_entries
                .load_one(id)
                .await?
                .map(|m| FundEntry(m).into()));
        }
        Ok(None)
    }
    /// The village concerned, which decides the township handling it (所涉村).
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Node>> {
        let Some(id) = self.0.village_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.regions.load_one(id).await?.map(region_node))
    }
    /// What the complainant reports (投诉内容).
    async fn content(&self) -> &str {
        &self.0.content
    }
    /// The complainant's name; none when anonymous (投诉人姓名).
    async fn complainant_name(&self) -> Option<&str> {
        self.0.complainant_name.as_deref()
    }
    /// The complainant's phone; none when anonymous (投诉人电话).
    async fn complainant_phone(&self) -> Option<&str> {
        self.0.complainant_phone.as_deref()
    }
    /// Where it stands (办理状态).
    async fn status(&self) -> ComplaintStatus {
        self.0.status
    }
    /// When it was received (受理时间).
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The unit responsible for handling it (承办单位).
    async fn assigned_unit(&self) -> Option<&str> {
        self.0.assigned_unit.as_deref()
    }
    /// Instructions to the unit; never shown to the complainant (交办意见).
    async fn assignment_note(&self) -> Option<&str> {
        self.0.assignment_note.as_deref()
    }
    /// The day it was assigned (交办日期).
    async fn assigned_on(&self) -> Option<Day> {
        self.0.assigned_on.map(Day)
    }
    /// The day by which the unit answers (办理期限).
    async fn deadline(&self) -> Option<Day> {
        self.0.deadline.map(Day)
    }
    /// Assigned and not answered by its deadline, in the county's today (是否逾期).
    async fn overdue(&self) -> bool {
        is_overdue(&self.0, calendar::today())
    }
    /// The unit's answer (答复意见).
    async fn answer(&self) -> Option<&str> {
        self.0.answer.as_deref()
    }
    /// What was corrected (整改情况).
    async fn rectification(&self) -> Option<&str> {
        self.0.rectification.as_deref()
    }
    /// The day it was answered (答复日期).
    async fn answered_on(&self) -> Option<Day> {
        self.0.answered_on.map(Day)
    }
    /// What the handling found, once closed (核查结论).
    async fn conclusion(&self) -> Option<ComplaintConclusion> {
        self.0.conclusion
    }
    /// The day it was closed (办结日期).
    async fn closed_on(&self) -> Option<Day> {
        self.0.closed_on.map(Day)
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct ComplaintProgress(complaint::Model);

/// A complaint as its complainant follows it by tracking number (投诉办理进度):
/// where it stands, who handles it by when, and the answer; never who
/// complained, what was reported or the instructions given to the unit.
#[Object]
impl ComplaintProgress {
    /// Tracking number (受理编号).
    async fn tracking_number(&self) -> &str {
        &self.0.tracking_number
    }
    /// What it is about (事项类别).
    async fn subject_kind(&self) -> ComplaintSubject {
        self.0.subject_kind
    }
    /// Where it stands (办理状态).
    async fn status(&self) -> ComplaintStatus {
        self.0.status
    }
    /// When it was received (受理时间).
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The unit responsible for handling it (承办单位).
    async fn assigned_unit(&self) -> Option<&str> {
        self.0.assigned_unit.as_deref()
    }
    /// The day it was assigned (交办日期).
    async fn assigned_on(&self) -> Option<Day> {
        self.0.assigned_on.map(Day)
    }
    /// The day by which the unit answers (办理期限).
    async fn deadline(&self) -> Option<Day> {
        self.0.deadline.map(Day)
    }
    /// The unit's answer (答复意见).
    async fn answer(&self) -> Option<&str> {
        self.0.answer.as_deref()
    }
    /// What was corrected (整改情况).
    async fn rectification(&self) -> Option<&str> {
        self.0.rectification.as_deref()
    }
    /// The day it was answered (答复日期).
    async fn answered_on(&self) -> Option<Day> {
        self.0.answered_on.map(Day)
    }
    /// What the handling found, once closed (核查结论).
    async fn conclusion(&self) -> Option<ComplaintConclusion> {
        self.0.conclusion
    }
    /// The day it was closed (办结日期).
    async fn closed_on(&self) -> Option<Day> {
        self.0.closed_on.map(Day)
    }
}

/// Which complaints to list (投诉筛选条件).
#[derive(InputObject, Default)]
pub struct ComplaintFilter {
    /// Only complaints in this status (办理状态).
    status: Option<ComplaintStatus>,
    /// True: only those assigned and not answered by their deadline; false:
    /// only the others (是否逾期).
    overdue: Option<bool>,
    /// Only complaints concerning a village in this county, township or village (地区).
    region_id: Option<ID>,
    /// Only complaints of this kind (事项类别).
    subject_kind: Option<ComplaintSubject>,
}

#[derive(Default)]
pub struct SupervisionQuery;

#[Object]
impl SupervisionQuery {
    /// Complaints the caller handles or oversees, newest first (投诉举报列表).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn complaints(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which complaints; all the caller handles or oversees if not given (筛选条件)."
        )]
        filter: Option<ComplaintFilter>,
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
    ) -> ApiResult<Conn<Complaint>> {
        use complaint::Column as C;
        let filter = filter.unwrap_or_default();
        let region = match &filter.region_id {
            Some(id) => Some(
                find_region(
                    ctx,
                    id,
                    "filter.regionId",
                    &[NodeKind::County, NodeKind::Township, NodeKind::Village],
                )
                .await?,
            ),
            None => None,
        };
        let today = calendar::today();
        let select = access::select::<complaint::Entity>(viewer(ctx)?)
            .apply_if(filter.status, |q, status| q.filter(C::Status.eq(status)))
            .apply_if(filter.subject_kind, |q, kind| {
                q.filter(C::SubjectKind.eq(kind))
            })
            .apply_if(region, |q, region| {
                q.filter(village_in(C::VillageId, &region))
            })
            .apply_if(filter.overdue, |q, overdue| {
                let condition = overdue_condition(today);
                q.filter(if overdue { condition } else { condition.not() })
            });
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &COMPLAINTS_NEWEST_FIRST, page, Complaint).await
    }

    /// Where a complaint stands, for whoever holds its tracking number: no
    /// account needed, and nothing about who complained (投诉办理进度查询).
    async fn complaint_by_tracking_number(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tracking number given on submission (受理编号).")]
        tracking_number: String,
    ) -> ApiResult<ComplaintProgress> {
        let number = tracking_number.trim().to_uppercase();
        if number.is_empty() || number.chars().count() > MAX_TRACKING_NUMBER_CHARS {
            return Err(ApiError::bad_input(
                "trackingNumber",
                format!("a tracking number has 1 to {MAX_TRACKING_NUMBER_CHARS} characters"),
            ));
        }
        // The number is the complainant's key: found outside any row scope,
        // and shown only as the identity-free progress.
        complaint::Entity::find()
            .filter(complaint::Column::TrackingNumber.eq(number))
            .one(db(ctx)?)
            .await?
            .map(ComplaintProgress)
            .ok_or_else(|| ApiError::not_found("Complaint"))
    }
}
