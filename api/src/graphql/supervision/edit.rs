//! Submitting and handling complaints (`domain::supervision`). Anyone
//! submits; the county office handles any complaint, a township officer those
//! concerning the villages of its township.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::complaint;
use entity::enums::{ComplaintConclusion, ComplaintSubject};

use super::{Complaint, ComplaintProgress};
use crate::access::Viewer;
use crate::audit::Actor;
use crate::domain::supervision::{self, Assignment, Named, NewComplaint};
use crate::error::ApiResult;
use crate::graphql::context::{RequestData, actor, data, db, viewer};
use crate::graphql::relay::{NodeKind, decode_id_of};

/// Who submits: a signed-in user, or the public as the system actor `public`.
fn submitter(ctx: &Context<'_>) -> ApiResult<Actor> {
    let data = data::<RequestData>(ctx)?;
    match &data.viewer {
        Viewer::User(_) => actor(ctx),
        Viewer::Public => Ok(Actor {
            request_id: Some(data.request_id.clone()).filter(|id| !id.is_empty()),
            ..Actor::system("public")
        }),
    }
}

/// The record a complaint of `kind` names by its global ID.
fn named(kind: ComplaintSubject, id: &ID) -> ApiResult<Named> {
    let kinds: Vec<NodeKind> = supervision::referable(kind)
        .iter()
        .filter_map(|name| NodeKind::named(name))
        .collect();
    let (node, raw) = decode_id_of(id, "subjectId", &kinds)?;
    Ok(match node {
        NodeKind::Household => Named::Household(raw),
        NodeKind::Project => Named::Project(raw),
        NodeKind::FundEntry => Named::FundEntry(raw),
        _ => Named::Village(raw),
    })
}

fn complaint_id(id: &ID) -> ApiResult<i64> {
    decode_id_of(id, "id", &[NodeKind::Complaint]).map(|(_, raw)| raw)
}

/// A complaint or problem clue (投诉举报).
#[derive(InputObject)]
pub struct SubmitComplaintInput {
    /// What it is about (事项类别).
    subject_kind: ComplaintSubject,
    /// The record complained about, optional: a Household (for household
    /// treatment), a Project (for a project or funds), a FundEntry (for funds)
    /// or a Village (for cadre conduct); any of them for other matters (被投诉对象).
    subject_id: Option<ID>,
    /// The village concerned, when the subject is not a household or village (所涉村).
    village_id: Option<ID>,
    /// What happened, at most 5000 characters (投诉内容).
    content: String,
    /// The complainant's name, at most 50 characters; leave out to stay anonymous (投诉人姓名).
    complainant_name: Option<String>,
    /// The complainant's phone, 7 to 20 digits and hyphens; optional (投诉人电话).
    complainant_phone: Option<String>,
    /// Client-chosen key, for signed-in callers only: a retried request
    /// returns the first complaint (幂等键).
    idempotency_key: Option<String>,
}

/// What a submission gives back (投诉受理回执): the tracking number and where
/// the complaint stands, nothing of what was reported or by whom.
#[derive(SimpleObject)]
pub struct SubmitComplaintPayload {
    /// Keep it to follow the complaint (受理编号).
    tracking_number: String,
    /// The complaint as its complainant follows it (投诉办理进度).
    complaint: ComplaintProgress,
}

impl SubmitComplaintPayload {
    fn of(model: complaint::Model) -> Self {
        Self {
            tracking_number: model.tracking_number.clone(),
            complaint: ComplaintProgress(model),
        }
    }
}

/// Assigns a complaint to the unit that handles it (交办).
#[derive(InputObject)]
pub struct AssignComplaintInput {
    /// The complaint (投诉).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// The responsible unit, at most 200 characters (承办单位).
    unit: String,
    /// The day by which the unit answers, after today (办理期限).
    deadline: Day,
    /// Instructions to the unit, at most 2000 characters; never shown to the complainant (交办意见).
    note: Option<String>,
}

/// Records the unit's answer (答复).
#[derive(InputObject)]
pub struct AnswerComplaintInput {
    /// The complaint (投诉).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// The answer to the complainant, at most 5000 characters (答复意见).
    answer: String,
    /// What was corrected, at most 5000 characters; none when nothing was (整改情况).
    rectification: Option<String>,
}

/// Closes a complaint with what the handling found (办结).
#[derive(InputObject)]
pub struct CloseComplaintInput {
    /// The complaint (投诉).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// What the handling found (核查结论).
    conclusion: ComplaintConclusion,
}

#[derive(Default)]
pub struct SupervisionMutation;

#[Object]
impl SupervisionMutation {
    /// Submits a complaint or problem clue (提交投诉举报): anyone may, without an
    /// account. Returns the tracking number to follow it by.
    async fn submit_complaint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The complaint (投诉举报).")] input: SubmitComplaintInput,
    ) -> ApiResult<SubmitComplaintPayload> {
        let actor = submitter(ctx)?;
        let village_id = match &input.village_id {
            Some(id) => Some(decode_id_of(id, "villageId", &[NodeKind::Village])?.1),
            None => None,
        };
        let new = NewComplaint {
            subject_kind: input.subject_kind,
            subject: input
                .subject_id
                .as_ref()
                .map(|id| named(input.subject_kind, id))
                .transpose()?,
            village_id,
            content: input.content,
            complainant_name: input.complainant_name,
            complainant_phone: input.complainant_phone,
        };
        let key = input.idempotency_key.as_deref();
        supervision::submit(db(ctx)?, &actor, key, new)
            .await
            .map(SubmitComplaintPayload::of)
    }

    /// Assigns a received complaint to the unit responsible, with a deadline (交办).
    async fn assign_complaint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The complaint and who handles it by when (交办).")]
        input: AssignComplaintInput,
    ) -> ApiResult<Complaint> {
        let assignment = Assignment {
            unit: input.unit,
            deadline: input.deadline.0,
            note: input.note,
        };
        let id = complaint_id(&input.id)?;
        supervision::assign(
            db(ctx)?,
            &actor(ctx)?,
            viewer(ctx)?,
            id,
            input.version,
            assignment,
        )
        .await
        .map(Complaint)
    }

    /// Records the unit's answer to an assigned complaint and what was corrected (答复).
    async fn answer_complaint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The complaint and the answer (答复).")] input: AnswerComplaintInput,
    ) -> ApiResult<Complaint> {
        let id = complaint_id(&input.id)?;
        supervision::answer(
            db(ctx)?,
            &actor(ctx)?,
            viewer(ctx)?,
            id,
            input.version,
            &input.answer,
            input.rectification.as_deref(),
        )
        .await
        .map(Complaint)
    }

    /// Closes an answered complaint with what the handling found (办结).
    async fn close_complaint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The complaint and how it ended (办结).")] input: CloseComplaintInput,
    ) -> ApiResult<Complaint> {
        let id = complaint_id(&input.id)?;
        supervision::close(
            db(ctx)?,
            &actor(ctx)?,
            viewer(ctx)?,
            id,
            input.version,
            input.conclusion,
        )
        .await
        .map(Complaint)
    }
}
