//! Submitting and handling complaints. Anyone submits; the county office
//! handles any complaint, a township officer those concerning the villages of
//! its township (row scope in `access`). [`TRANSITIONS`] is the one table of
//! which handling step may be taken in which status.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{NaiveDate, Utc};
use entity::enums::{ComplaintConclusion, ComplaintStatus, ComplaintSubject, RegionLevel};
use entity::{complaint, fund_entry, household, project, project_village, region};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde_json::json;

use super::{Complaint, ComplaintProgress, snapshot};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::domain::calendar;
use crate::domain::text::phone;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::graphql::relay::{NodeKind, decode_id_of};
use crate::graphql::{RequestData, actor, data, db, optional_text, required_text, viewer};
use crate::permissions;

/// Longest content, answer and rectification, in characters.
const MAX_CONTENT_CHARS: usize = 5_000;
/// Longest complainant name, in characters (as the column holds).
const MAX_NAME_CHARS: usize = 50;
/// Longest name of the responsible unit, in characters (as the column holds).
const MAX_UNIT_CHARS: usize = 200;
/// Longest instructions to the unit, in characters.
const MAX_NOTE_CHARS: usize = 2_000;
/// Prefix of every tracking number (举报).
const TRACKING_PREFIX: &str = "JB";
/// The RFC 4648 base32 alphabet: no 0/1/8/9, so that nothing reads as O, I or B.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Random characters after the date.
const TRACKING_RANDOM_CHARS: usize = 6;
/// Draws before giving up on finding an unused number (2^30 per day: never in practice).
const TRACKING_ATTEMPTS: usize = 5;

/// A handling step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Assign to a unit with a deadline (交办).
    Assign,
    /// Record the unit's answer and what was corrected (答复).
    Answer,
    /// Close with a conclusion (办结).
    Close,
}

use ComplaintStatus::{Answered, Assigned, Closed, Received};

/// Each step: the status it may be taken in, the status it leads to, and how
/// a refusal names it.
pub const TRANSITIONS: [(Handling, ComplaintStatus, ComplaintStatus, &str); 3] = [
    (Handling::Assign, Received, Assigned, "be assigned"),
    (Handling::Answer, Assigned, Answered, "be answered"),
    (Handling::Close, Answered, Closed, "be closed"),
];

/// The status as messages name it (its GraphQL value).
fn status_name(status: ComplaintStatus) -> &'static str {
    match status {
        Received => "RECEIVED",
        Assigned => "ASSIGNED",
        Answered => "ANSWERED",
        Closed => "CLOSED",
    }
}

/// The status `step` leads to from `from`, or why it may not be taken there.
pub fn next(from: ComplaintStatus, step: Handling) -> Result<ComplaintStatus, String> {
    let Some((_, allowed, to, verb)) = TRANSITIONS.iter().find(|(s, ..)| *s == step) else {
        return Err(format!("{step:?} is not a handling step"));
    };
    if *allowed == from {
        return Ok(*to);
    }
    Err(format!(
        "the complaint is {}; only a complaint that is {} can {verb}",
        status_name(from),
        status_name(*allowed)
    ))
}

/// A new tracking number: `JB`, the county's date, six random base32 characters.
fn tracking_number(today: NaiveDate) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; TRACKING_RANDOM_CHARS];
    OsRng.fill_bytes(&mut bytes);
    let random: String = bytes
        .iter()
        .map(|b| BASE32[usize::from(*b) % BASE32.len()] as char)
        .collect();
    format!("{TRACKING_PREFIX}{}{random}", today.format("%Y%m%d"))
}

/// An unused tracking number; the unique index backs the check.
async fn unused_tracking_number(txn: &DatabaseTransaction) -> ApiResult<String> {
    for _ in 0..TRACKING_ATTEMPTS {
        let number = tracking_number(calendar::today());
        let taken = complaint::Entity::find()
            .filter(complaint::Column::TrackingNumber.eq(&number))
            .count(txn)
            .await?;
        if taken == 0 {
            return Ok(number);
        }
    }
    Err(ApiError::Internal(
        "no unused tracking number after several draws".into(),
    ))
}

/// The record a subject reference names, and the village it settles.
#[derive(Default, Clone, Copy)]
struct Subject {
    household_id: Option<i64>,
    project_id: Option<i64>,
    fund_entry_id: Option<i64>,
    village_id: Option<i64>,
}

/// What a subject kind may name.
fn referable(kind: ComplaintSubject) -> &'static [NodeKind] {
    match kind {
        ComplaintSubject::HouseholdTreatment => &[NodeKind::Household],
        ComplaintSubject::Project => &[NodeKind::Project],
        ComplaintSubject::Funds => &[NodeKind::FundEntry, NodeKind::Project],
        ComplaintSubject::CadreConduct => &[NodeKind::Village],
        ComplaintSubject::Other => &[
            NodeKind::Household,
            NodeKind::Project,
            NodeKind::FundEntry,
            NodeKind::Village,
        ],
    }
}

/// Checks that the named record exists. The public may name a household it
/// cannot read: only its existence is checked, and nothing of it is returned.
async fn subject(
    txn: &DatabaseTransaction,
    kind: ComplaintSubject,
    id: Option<&ID>,
    village_id: Option<&ID>,
) -> ApiResult<Subject> {
    let village = match village_id {
        Some(id) => Some(village_exists(txn, id, "villageId").await?),
        None => None,
    };
    let Some(id) = id else {
        return Ok(Subject {
            village_id: village,
            ..Subject::default()
        });
    };
    let (node, raw) = decode_id_of(id, "subjectId", referable(kind))?;
    let unknown =
        || ApiError::bad_input("subjectId", format!("no {} has this ID", node.type_name()));
    // A household's or a village's own village is the register's to say.
    if matches!(node, NodeKind::Household | NodeKind::Village) && village.is_some() {
        return Err(ApiError::bad_input(
            "villageId",
            format!(
                "the village of a {} complaint follows from it: leave villageId out",
                node.type_name()
            ),
        ));
    }
    let subject = match node {
        NodeKind::Household => {
            let home = household::Entity::find_by_id(raw)
                .one(txn)
                .await?
                .ok_or_else(unknown)?;
            Subject {
                household_id: Some(home.id),
                village_id: Some(home.village_id),
                ..Subject::default()
            }
        }
        NodeKind::Project => {
            project::Entity::find_by_id(raw)
                .one(txn)
                .await?
                .ok_or_else(unknown)?;
            covered(txn, raw, village).await?;
            Subject {
                project_id: Some(raw),
                village_id: village,
                ..Subject::default()
            }
        }
        NodeKind::FundEntry => {
            let entry = fund_entry::Entity::find_by_id(raw)
                .one(txn)
                .await?
                .ok_or_else(unknown)?;
            covered(txn, entry.project_id, village).await?;
            Subject {
                fund_entry_id: Some(raw),
                village_id: village,
                ..Subject::default()
            }
        }
        _ => Subject {
            village_id: Some(village_exists(txn, id, "subjectId").await?),
            ..Subject::default()
        },
    };
    Ok(subject)
}

/// Refuses a village that the project (of a complaint about it or its funds)
/// does not cover: the complaint would reach a township with nothing to answer.
async fn covered(
    txn: &DatabaseTransaction,
    project_id: i64,
    village: Option<i64>,
) -> ApiResult<()> {
    let Some(village) = village else {
        return Ok(());
    };
    let covers = project_village::Entity::find_by_id((project_id, village))
        .one(txn)
        .await?
        .is_some();
    if covers {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            "villageId",
            "the project does not cover this village",
        ))
    }
}

async fn village_exists(txn: &DatabaseTransaction, id: &ID, field: &str) -> ApiResult<i64> {
    let (_, raw) = decode_id_of(id, field, &[NodeKind::Village])?;
    region::Entity::find_by_id(raw)
        .filter(region::Column::Level.eq(RegionLevel::Village))
        .one(txn)
        .await?
        .map(|village| village.id)
        .ok_or_else(|| ApiError::bad_input(field, "no village has this ID"))
}

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

/// A complaint to change, locked; NOT_FOUND outside the caller's scope.
async fn complaint_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: &ID,
) -> ApiResult<complaint::Model> {
    let (_, raw) = decode_id_of(id, "id", &[NodeKind::Complaint])?;
    let select = access::select::<complaint::Entity>(viewer).filter(complaint::Column::Id.eq(raw));
    write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Complaint"))
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
    deadline: NaiveDate,
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

/// A handling step's change to a complaint, before the common bookkeeping.
type Apply = Box<dyn FnOnce(&mut complaint::ActiveModel) + Send>;

/// Takes one handling step: scope, lock, version, transition, audit, one transaction.
async fn handle(
    ctx: &Context<'_>,
    id: &ID,
    version: i32,
    step: Handling,
    action: &str,
    apply: Apply,
) -> ApiResult<Complaint> {
    let actor = actor(ctx)?;
    let viewer = viewer(ctx)?;
    let txn = write::begin(db(ctx)?).await?;
    let before = complaint_to_change(&txn, viewer, id).await?;
    write::check_version("complaint", version, before.version, || {
        permissions::redact(viewer, "Complaint", snapshot(&before))
    })?;
    let to = next(before.status, step).map_err(|why| ApiError::bad_input("id", why))?;
    let mut changed: complaint::ActiveModel = before.clone().into();
    apply(&mut changed);
    changed.status = Set(to);
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(Utc::now());
    let after = changed.update(&txn).await?;
    let change = Change {
        action,
        entity_type: "Complaint",
        entity_id: after.id,
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    };
    audit::record(&txn, &actor, change).await?;
    txn.commit().await?;
    Ok(Complaint(after))
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
        input: SubmitComplaintInput,
    ) -> ApiResult<SubmitComplaintPayload> {
        let actor = submitter(ctx)?;
        let content = required_text(&input.content, "content", MAX_CONTENT_CHARS)?;
        let name = optional_text(
            input.complainant_name.as_deref(),
            "complainantName",
            MAX_NAME_CHARS,
        )?;
        let phone = phone("complainantPhone", input.complainant_phone.as_deref())?;
        let key = input.idempotency_key.as_deref();
        let request = json!({
            "subjectKind": input.subject_kind,
            "subjectId": input.subject_id,
            "villageId": input.village_id,
            "content": content,
            "complainantName": name,
            "complainantPhone": phone,
        });
        let submitted = write::create::<complaint::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "submitComplaint",
            &request,
            async |txn| {
                let subject = subject(
                    txn,
                    input.subject_kind,
                    input.subject_id.as_ref(),
                    input.village_id.as_ref(),
                )
                .await?;
                let now = Utc::now();
                let submitted = complaint::ActiveModel {
                    tracking_number: Set(unused_tracking_number(txn).await?),
                    subject_kind: Set(input.subject_kind),
                    household_id: Set(subject.household_id),
                    project_id: Set(subject.project_id),
                    fund_entry_id: Set(subject.fund_entry_id),
                    village_id: Set(subject.village_id),
                    content: Set(content),
                    complainant_name: Set(name),
                    complainant_phone: Set(phone),
                    submitted_by: Set(actor.user_id),
                    status: Set(Received),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                Ok(Created::new(
                    submitted.id,
                    "complaint.submit",
                    "Complaint",
                    snapshot(&submitted),
                    submitted,
                ))
            },
        )
        .await?;
        Ok(SubmitComplaintPayload::of(submitted))
    }

    /// Assigns a received complaint to the unit responsible, with a deadline (交办).
    async fn assign_complaint(
        &self,
        ctx: &Context<'_>,
        input: AssignComplaintInput,
    ) -> ApiResult<Complaint> {
        let unit = required_text(&input.unit, "unit", MAX_UNIT_CHARS)?;
        let note = optional_text(input.note.as_deref(), "note", MAX_NOTE_CHARS)?;
        let today = calendar::today();
        if input.deadline <= today {
            return Err(ApiError::bad_input(
                "deadline",
                format!("the deadline is a day after today ({today})"),
            ));
        }
        let deadline = input.deadline;
        let apply: Apply = Box::new(move |c| {
            c.assigned_unit = Set(Some(unit));
            c.assignment_note = Set(note);
            c.assigned_on = Set(Some(today));
            c.deadline = Set(Some(deadline));
        });
        handle(
            ctx,
            &input.id,
            input.version,
            Handling::Assign,
            "complaint.assign",
            apply,
        )
        .await
    }

    /// Records the unit's answer to an assigned complaint and what was corrected (答复).
    async fn answer_complaint(
        &self,
        ctx: &Context<'_>,
        input: AnswerComplaintInput,
    ) -> ApiResult<Complaint> {
        let answer = required_text(&input.answer, "answer", MAX_CONTENT_CHARS)?;
        let rectification = optional_text(
            input.rectification.as_deref(),
            "rectification",
            MAX_CONTENT_CHARS,
        )?;
        let apply: Apply = Box::new(move |c| {
            c.answer = Set(Some(answer));
            c.rectification = Set(rectification);
            c.answered_on = Set(Some(calendar::today()));
        });
        handle(
            ctx,
            &input.id,
            input.version,
            Handling::Answer,
            "complaint.answer",
            apply,
        )
        .await
    }

    /// Closes an answered complaint with what the handling found (办结).
    async fn close_complaint(
        &self,
        ctx: &Context<'_>,
        input: CloseComplaintInput,
    ) -> ApiResult<Complaint> {
        let conclusion = input.conclusion;
        let apply: Apply = Box::new(move |c| {
            c.conclusion = Set(Some(conclusion));
            c.closed_on = Set(Some(calendar::today()));
        });
        handle(
            ctx,
            &input.id,
            input.version,
            Handling::Close,
            "complaint.close",
            apply,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_moves_only_from_its_status() {
        let all = [Received, Assigned, Answered, Closed];
        for (step, from, to, _) in TRANSITIONS {
            for status in all {
                match next(status, step) {
                    Ok(reached) => {
                        assert_eq!(status, from, "{step:?} from {status:?}");
                        assert_eq!(reached, to);
                    }
                    Err(why) => {
                        assert_ne!(status, from, "{step:?} from {status:?}");
                        assert!(why.contains(status_name(status)), "{why}");
                    }
                }
            }
        }
    }

    #[test]
    fn tracking_numbers_carry_the_date_and_six_base32_characters() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default();
        let number = tracking_number(day);
        assert_eq!(number.len(), 16);
        assert!(number.starts_with("JB20261129"));
        assert!(number[10..].bytes().all(|b| BASE32.contains(&b)));
    }
}
