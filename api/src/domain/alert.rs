//! Live alerts (实时提醒): the events a cadre or officer is told of as they
//! happen, read from the audit trail so that every replica sees every one.
//! An alert reaches a reader only through the row scope a query has: the
//! subject (proposal, objection, measure, monitoring case, complaint) must be a
//! row the reader may read, and a reader is never told of their own act.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ProposalKind, Role};
use entity::{audit_entry, complaint, measure, monitoring_case, objection, proposal};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PrimaryKeyTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use super::plan::{measure_snapshot, overdue_in_sql};
use crate::access::{Scoped, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::ApiResult;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// A proposal (to enrol or to exit a household) entered its public notice.
    ProposalInNotice,
    /// An objection to a proposal in notice was recorded.
    ObjectionRecorded,
    /// A measure of a household's plan passed its time node undone.
    MeasureOverdue,
    /// A household was taken into monitoring (防返贫监测).
    MonitoringCaseOpened,
    /// A complaint about the reader's township was assigned for handling.
    ComplaintAssigned,
}

impl AlertKind {
    pub const ALL: [AlertKind; 5] = [
        AlertKind::ProposalInNotice,
        AlertKind::ObjectionRecorded,
        AlertKind::MeasureOverdue,
        AlertKind::MonitoringCaseOpened,
        AlertKind::ComplaintAssigned,
    ];

    /// The audit action that announces it.
    pub fn action(self) -> &'static str {
        match self {
            AlertKind::ProposalInNotice => "proposal.create",
            AlertKind::ObjectionRecorded => "objection.create",
            AlertKind::MeasureOverdue => OVERDUE_ACTION,
            AlertKind::MonitoringCaseOpened => "monitoringCase.create",
            AlertKind::ComplaintAssigned => "complaint.assign",
        }
    }

    pub fn of_action(action: &str) -> Option<AlertKind> {
        AlertKind::ALL
            .into_iter()
            .find(|kind| kind.action() == action)
    }
}

/// The audit action of a measure found overdue.
const OVERDUE_ACTION: &str = "measure.overdue";
/// Measures announced per sweep at most; the next sweep takes the rest.
const OVERDUE_BATCH: u64 = 500;

/// One alert, as one reader may be told of it.
#[derive(Debug, Clone)]
pub struct Alert {
    pub kind: AlertKind,
    /// The audit entry it comes from: its place in the change feed.
    pub sequence: i64,
    pub at: DateTime<Utc>,
    /// The ID of the proposal, objection, measure, monitoring case or complaint.
    pub subject_id: i64,
    /// The household concerned, where there is one.
    pub household_id: Option<i64>,
    /// One line to show, in Chinese, with nothing the subject's row does not
    /// show the same reader.
    pub summary: String,
}

/// The alert an audit entry makes for `viewer`: none if the entry announces
/// nothing, if `viewer` made it, or if its subject is not a row `viewer` reads.
pub async fn for_viewer(
    db: &DatabaseConnection,
    viewer: &Viewer,
    entry: &audit_entry::Model,
) -> ApiResult<Option<Alert>> {
    let Some(kind) = AlertKind::of_action(&entry.action) else {
        return Ok(None);
    };
    let Viewer::User(user) = viewer else {
        return Ok(None);
    };
    if entry.actor_id == Some(user.id) {
        return Ok(None);
    }
    let id = entry.entity_id;
    let told = match kind {
        AlertKind::ProposalInNotice => read::<proposal::Entity>(db, viewer, id).await?.map(|p| {
            let what = match p.kind {
                ProposalKind::Identification => "贫困户识别",
                ProposalKind::Exit => "脱贫退出",
            };
            (
                Some(p.household_id),
                format!("{what}公示中，至 {}", p.notice_ends_on),
            )
        }),
        AlertKind::ObjectionRecorded => match read::<objection::Entity>(db, viewer, id).await? {
            Some(o) => proposal::Entity::find_by_id(o.proposal_id)
                .one(db)
                .await?
                .map(|p| {
                    (
                        Some(p.household_id),
                        format!("公示期间收到异议（{}）", o.received_on),
                    )
                }),
            None => None,
        },
        // No free text (the task) here: the field policy masks what such text
        // may carry for some readers, and the subject is there to be read.
        AlertKind::MeasureOverdue => read::<measure::Entity>(db, viewer, id).await?.map(|m| {
            (
                Some(m.household_id),
                format!("帮扶措施逾期（时间节点 {}）", m.deadline),
            )
        }),
        AlertKind::MonitoringCaseOpened => read::<monitoring_case::Entity>(db, viewer, id)
            .await?
            .map(|c| (Some(c.household_id), "新纳入防返贫监测".to_owned())),
        // Complaints are handled by the township they concern: only its
        // officers are the ones a complaint is assigned to.
        AlertKind::ComplaintAssigned if user.role == Role::TownshipOfficer => {
            read::<complaint::Entity>(db, viewer, id).await?.map(|c| {
                let deadline = c
                    .deadline
                    .map(|d| format!("，期限 {d}"))
                    .unwrap_or_default();
                (
                    c.household_id,
                    format!("投诉举报 {} 已交办{deadline}", c.tracking_number),
                )
            })
        }
        AlertKind::ComplaintAssigned => None,
    };
    Ok(told.map(|(household_id, summary)| Alert {
        kind,
        sequence: entry.id,
        at: entry.at,
        subject_id: id,
        household_id,
        summary,
    }))
}

/// The row `id` of `E`, if `viewer` may read it.
async fn read<E>(db: &DatabaseConnection, viewer: &Viewer, id: i64) -> ApiResult<Option<E::Model>>
where
    E: Scoped,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = i64>,
{
    Ok(E::find_by_id(id).filter(E::scope(viewer)).one(db).await?)
}

/// The audit actions that announce alerts, for the readers of the trail.
pub fn actions() -> [&'static str; 5] {
    AlertKind::ALL.map(AlertKind::action)
}

/// Announces, once per time node, each measure found past it undone: an audit
/// entry `measure.overdue` by `system:overdue`. Every replica sweeps; a
/// measure's mark is set in the transaction of its entry, on the condition
/// that it is not set yet, so that only one sweep announces it. A measure
/// whose time node is moved and passes again is announced again. Returns how
/// many were announced.
pub async fn announce_overdue_measures(
    db: &DatabaseConnection,
    today: NaiveDate,
) -> ApiResult<usize> {
    let not_announced = || {
        Expr::col(measure::Column::OverdueAlertedFor)
            .is_null()
            .or(Expr::col(measure::Column::OverdueAlertedFor)
                .ne(Expr::col(measure::Column::Deadline)))
    };
    let due = measure::Entity::find()
        .filter(overdue_in_sql(today))
        .filter(not_announced())
        .limit(OVERDUE_BATCH)
        .all(db)
        .await?;
    let actor = Actor::system("overdue");
    let mut announced = 0;
    for found in due {
        let txn = db.begin().await?;
        let marked = measure::Entity::update_many()
            .col_expr(
                measure::Column::OverdueAlertedFor,
                Expr::val(found.deadline),
            )
            .filter(measure::Column::Id.eq(found.id))
            .filter(measure::Column::Deadline.eq(found.deadline))
            .filter(overdue_in_sql(today))
            .filter(not_announced())
            .exec(&txn)
            .await?;
        if marked.rows_affected == 1 {
            audit::record(
                &txn,
                &actor,
                Change {
                    action: OVERDUE_ACTION,
                    entity_type: "Measure",
                    entity_id: found.id,
                    before: None,
                    after: Some(measure_snapshot(&found)),
                },
            )
            .await?;
            announced += 1;
        }
        txn.commit().await?;
    }
    Ok(announced)
}
