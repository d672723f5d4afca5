//! Complaints and problem clues: anyone submits one; the county office
//! handles any complaint, a township officer those concerning the villages of
//! its township (row scope in `access`). [`TRANSITIONS`] is the one table of
//! which handling step may be taken in which status.

use chrono::{NaiveDate, Utc};
use entity::enums::{ComplaintConclusion, ComplaintStatus, ComplaintSubject, RegionLevel};
use entity::{complaint, fund_entry, household, project, project_village, region};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::{Value, json};

use super::calendar;
use super::node::global_id;
use super::text::{free_text, optional_free_text, optional_text, phone, required_text};
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
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

/// A complaint as the audit trail and conflict errors show it, keyed by the
/// fields of `Complaint` (so that the field policy redacts who complained).
fn complaint_snapshot(c: &complaint::Model) -> Value {
    let subject = c
        .household_id
        .map(|id| global_id("Household", id))
        .or_else(|| c.project_id.map(|id| global_id("Project", id)))
        .or_else(|| c.fund_entry_id.map(|id| global_id("FundEntry", id)));
    json!({
        "id": global_id("Complaint", c.id),
        "trackingNumber": c.tracking_number,
        "subjectKind": c.subject_kind,
        "subject": subject,
        "village": c.village_id.map(|id| global_id("Village", id)),
        "content": c.content,
        "complainantName": c.complainant_name,
        "complainantPhone": c.complainant_phone,
        "status": c.status,
        "assignedUnit": c.assigned_unit,
        "assignmentNote": c.assignment_note,
        "assignedOn": c.assigned_on,
        "deadline": c.deadline,
        "answer": c.answer,
        "rectification": c.rectification,
        "answeredOn": c.answered_on,
        "conclusion": c.conclusion,
        "closedOn": c.closed_on,
        "version": c.version,
    })
}

/// A record a complaint names as its subject, by the type of it.
#[derive(Debug, Clone, Copy)]
pub enum Named {
    Household(i64),
    Project(i64),
    FundEntry(i64),
    Village(i64),
}

impl Named {
    /// The GraphQL type of the record.
    fn type_name(self) -> &'static str {
        match self {
            Named::Household(_) => "Household",
            Named::Project(_) => "Project",
            Named::FundEntry(_) => "FundEntry",
            Named::Village(_) => "Village",
        }
    }

    fn id(self) -> i64 {
        match self {
            Named::Household(id)
            | Named::Project(id)
            | Named::FundEntry(id)
            | Named::Village(id) => id,
        }
    }
}

/// The types of record a subject kind may name, by their GraphQL type names.
pub fn referable(kind: ComplaintSubject) -> &'static [&'static str] {
    match kind {
        ComplaintSubject::HouseholdTreatment => &["Household"],
        ComplaintSubject::Project => &["Project"],
        ComplaintSubject::Funds => &["FundEntry", "Project"],
        ComplaintSubject::CadreConduct => &["Village"],
        ComplaintSubject::Other => &["Household", "Project", "FundEntry", "Village"],
    }
}

/// The record a subject reference names, and the village it settles.
#[derive(Default, Clone, Copy)]
struct Subject {
    household_id: Option<i64>,
    project_id: Option<i64>,
    fund_entry_id: Option<i64>,
    village_id: Option<i64>,
}

/// Checks that the named record exists. The public may name a household it
/// cannot read: only its existence is checked, and nothing of it is returned.
async fn subject(
    txn: &DatabaseTransaction,
    named: Option<Named>,
    village_id: Option<i64>,
) -> ApiResult<Subject> {
    let village = match village_id {
        Some(id) => Some(village_exists(txn, id, "villageId").await?),
        None => None,
    };
    let Some(named) = named else {
        return Ok(Subject {
            village_id: village,
            ..Subject::default()
        });
    };
    let unknown =
        || ApiError::bad_input("subjectId", format!("no {} has this ID", named.type_name()));
    // A household's or a village's own village is the register's to say.
    if matches!(named, Named::Household(_) | Named::Village(_)) && village.is_some() {
        return Err(ApiError::bad_input(
            "villageId",
            format!(
                "the village of a {} complaint follows from it: leave villageId out",
                named.type_name()
            ),
        ));
    }
    let subject = match named {
        Named::Household(raw) => {
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
        Named::Project(raw) => {
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
        Named::FundEntry(raw) => {
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
        Named::Village(raw) => Subject {
            village_id: Some(village_exists(txn, raw, "subjectId").await?),
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

async fn village_exists(txn: &DatabaseTransaction, id: i64, field: &str) -> ApiResult<i64> {
    region::Entity::find_by_id(id)
        .filter(region::Column::Level.eq(RegionLevel::Village))
        .one(txn)
        .await?
        .map(|village| village.id)
        .ok_or_else(|| ApiError::bad_input(field, "no village has this ID"))
}

/// A complaint or problem clue, as its complainant gives it.
pub struct NewComplaint {
    pub subject_kind: ComplaintSubject,
    pub subject: Option<Named>,
    pub village_id: Option<i64>,
    pub content: String,
    pub complainant_name: Option<String>,
    pub complainant_phone: Option<String>,
}

/// Files a complaint, from a signed-in user or from the public (`actor`).
pub async fn submit(
    db: &DatabaseConnection,
    actor: &Actor,
    key: Option<&str>,
    new: NewComplaint,
) -> ApiResult<complaint::Model> {
    let content = free_text("content", &new.content, MAX_CONTENT_CHARS)?;
    let name = optional_text(
        new.complainant_name.as_deref(),
        "complainantName",
        MAX_NAME_CHARS,
    )?;
    let phone = phone("complainantPhone", new.complainant_phone.as_deref())?;
    let request = json!({
        "subjectKind": new.subject_kind,
        "subjectId": new.subject.map(|n| global_id(n.type_name(), n.id())),
        "villageId": new.village_id.map(|id| global_id("Village", id)),
        "content": content,
        "complainantName": name,
        "complainantPhone": phone,
    });
    write::create::<complaint::Entity, _>(
        db,
        actor,
        key,
        "submitComplaint",
        &request,
        async |txn| {
            let subject = subject(txn, new.subject, new.village_id).await?;
            let now = Utc::now();
            let submitted = complaint::ActiveModel {
                tracking_number: Set(unused_tracking_number(txn).await?),
                subject_kind: Set(new.subject_kind),
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
                complaint_snapshot(&submitted),
                submitted,
            ))
        },
    )
    .await
}

/// A complaint to change, locked; NOT_FOUND outside the caller's scope.
async fn complaint_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<complaint::Model> {
    let select = access::select::<complaint::Entity>(viewer).filter(complaint::Column::Id.eq(id));
    write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Complaint"))
}

/// A handling step's change to a complaint, before the common bookkeeping.
type Apply = Box<dyn FnOnce(&mut complaint::ActiveModel) + Send>;

/// Takes one handling step: scope, lock, version, transition, audit, one transaction.
async fn handle(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    (id, version): (i64, i32),
    step: Handling,
    action: &str,
    apply: Apply,
) -> ApiResult<complaint::Model> {
    let txn = write::begin(db).await?;
    let before = complaint_to_change(&txn, viewer, id).await?;
    write::check_version("complaint", version, before.version, || {
        permissions::redact(viewer, "Complaint", complaint_snapshot(&before))
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
        before: Some(complaint_snapshot(&before)),
        after: Some(complaint_snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Who handles a complaint by when, as the county office or township gives it.
pub struct Assignment {
    pub unit: String,
    pub deadline: NaiveDate,
    pub note: Option<String>,
}

/// Assigns a received complaint to the unit responsible, with a deadline.
pub async fn assign(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    id: i64,
    version: i32,
    assignment: Assignment,
) -> ApiResult<complaint::Model> {
    let unit = required_text(&assignment.unit, "unit", MAX_UNIT_CHARS)?;
    let note = optional_free_text("note", assignment.note.as_deref(), MAX_NOTE_CHARS)?;
    let today = calendar::today();
    if assignment.deadline <= today {
        return Err(ApiError::bad_input(
            "deadline",
            format!("the deadline is a day after today ({today})"),
        ));
    }
    let deadline = assignment.deadline;
    let apply: Apply = Box::new(move |c| {
        c.assigned_unit = Set(Some(unit));
        c.assignment_note = Set(note);
        c.assigned_on = Set(Some(today));
        c.deadline = Set(Some(deadline));
    });
    handle(
        db,
        actor,
        viewer,
        (id, version),
        Handling::Assign,
        "complaint.assign",
        apply,
    )
    .await
}

/// Records the unit's answer to an assigned complaint and what was corrected.
pub async fn answer(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    id: i64,
    version: i32,
    answer: &str,
    rectification: Option<&str>,
) -> ApiResult<complaint::Model> {
    let answer = free_text("answer", answer, MAX_CONTENT_CHARS)?;
    let rectification = optional_free_text("rectification", rectification, MAX_CONTENT_CHARS)?;
    let apply: Apply = Box::new(move |c| {
        c.answer = Set(Some(answer));
        c.rectification = Set(rectification);
        c.answered_on = Set(Some(calendar::today()));
    });
    handle(
        db,
        actor,
        viewer,
        (id, version),
        Handling::Answer,
        "complaint.answer",
        apply,
    )
    .await
}

/// Closes an answered complaint with what the handling found.
pub async fn close(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    id: i64,
    version: i32,
    conclusion: ComplaintConclusion,
) -> ApiResult<complaint::Model> {
    let apply: Apply = Box::new(move |c| {
        c.conclusion = Set(Some(conclusion));
        c.closed_on = Set(Some(calendar::today()));
    });
    handle(
        db,
        actor,
        viewer,
        (id, version),
        Handling::Close,
        "complaint.close",
        apply,
    )
    .await
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
