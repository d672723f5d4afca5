//! "Two public notices and one announcement" (两公示一公告): a household applies
//! or the village finds it; the village's democratic appraisal (民主评议) passes
//! it; it is noticed in the village; the township checks it and notices it in
//! the township; the county decides after both notices have run, objections
//! recorded and resolved during either; an approval changes the household's
//! status through the lifecycle and is announced.

use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{ProposalKind, ProposalOrigin, ProposalStage};
use entity::{household, household_income, objection, proposal};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::calendar;
use super::household::change::lock_household;
use super::income_line;
use super::lifecycle::{
    self, Action, OPEN_STAGES, StatusChangeOf, change_status, next_state, open_proposal, stage_name,
};
use super::money::Money;
use super::notice::{self, Notice, PaperNotice};
use super::text::{free_text, required_text};
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Longest reason, opinion, note or objection, in characters.
pub const MAX_TEXT: usize = 2_000;
/// Evidence references a proposal may carry.
const MAX_EVIDENCE: usize = 50;

/// Longest minutes reference of an appraisal, in characters.
const MAX_MINUTES: usize = 500;
/// Most people an appraisal meeting may record.
const MAX_ATTENDANCE: i32 = 10_000;
/// How long before its notice the appraisal may have been held.
const MAX_APPRAISAL_DAYS: u64 = 60;

/// The village's democratic appraisal (民主评议) of a household, as given:
/// the villagers' representatives meet, vote, and keep minutes.
pub struct Appraisal {
    pub held_on: NaiveDate,
    pub attendance: i32,
    pub votes_for: i32,
    pub votes_against: i32,
    /// Where the minutes are kept (会议记录).
    pub minutes: String,
}

impl Appraisal {
    /// Checks an appraisal held before a notice that starts on `notice_starts_on`:
    /// counts that add up, and a majority of those present for the proposal.
    fn check(&self, notice_starts_on: NaiveDate) -> ApiResult<String> {
        let minutes = free_text("appraisal.minutesReference", &self.minutes, MAX_MINUTES)?;
        if self.held_on > notice_starts_on {
            return Err(ApiError::bad_input(
                "appraisal.heldOn",
                format!(
                    "the appraisal comes before the notice, which starts on {notice_starts_on}"
                ),
            ));
        }
        if self.held_on + chrono::Days::new(MAX_APPRAISAL_DAYS) < notice_starts_on {
            return Err(ApiError::bad_input(
                "appraisal.heldOn",
                format!("the notice follows the appraisal within {MAX_APPRAISAL_DAYS} days"),
            ));
        }
        if !(1..=MAX_ATTENDANCE).contains(&self.attendance) {
            return Err(ApiError::bad_input(
                "appraisal.attendance",
                format!("between 1 and {MAX_ATTENDANCE} people attend an appraisal"),
            ));
        }
        if self.votes_for < 0 || self.votes_against < 0 {
            return Err(ApiError::bad_input(
                "appraisal.votesFor",
                "votes are not negative",
            ));
        }
        if i64::from(self.votes_for) + i64::from(self.votes_against) > i64::from(self.attendance) {
            return Err(ApiError::bad_input(
                "appraisal.votesFor",
                "more votes than people present",
            ));
        }
        if self.votes_for * 2 <= self.attendance {
            return Err(ApiError::bad_input(
                "appraisal.votesFor",
                format!(
                    "the appraisal did not pass it: {} of {} present voted for, not a majority",
                    self.votes_for, self.attendance
                ),
            ));
        }
        Ok(minutes)
    }
}

/// A proposal to identify a household or certify its exit, as given.
pub struct NewProposal {
    pub household_id: i64,
    pub kind: ProposalKind,
    pub origin: ProposalOrigin,
    pub appraisal: Appraisal,
    pub reason: String,
    pub evidence: Vec<String>,
    pub exit_year: Option<i32>,
    /// Today if not given.
    pub notice_starts_on: Option<NaiveDate>,
    pub notice_ends_on: NaiveDate,
    /// For a notice that started before today: the paper notice it was first posted as.
    pub paper_notice: Option<PaperNotice>,
}

/// An objection received during a public notice, as given.
#[derive(Serialize)]
pub struct NewObjection {
    pub proposal_id: i64,
    pub objector: Option<String>,
    pub content: String,
    /// Today if not given.
    pub received_on: Option<NaiveDate>,
}

/// The evidence references of a proposal.
pub fn evidence_of(proposal: &proposal::Model) -> Vec<String> {
    serde_json::from_str(&proposal.evidence).unwrap_or_default()
}

/// The notice a proposal is at: the village's until the township has
/// checked it, then the township's (none for a proposal checked before
/// the second notice was kept).
pub fn current_notice(proposal: &proposal::Model) -> Option<(NaiveDate, NaiveDate)> {
    match proposal.stage {
        ProposalStage::Notice => Some((proposal.notice_starts_on, proposal.notice_ends_on)),
        ProposalStage::TownshipChecked => proposal
            .township_notice_starts_on
            .zip(proposal.township_notice_ends_on),
        _ => None,
    }
}

/// Whether a proposal's notice is running on `today` and objections may still come.
pub fn notice_open(proposal: &proposal::Model, today: NaiveDate) -> bool {
    current_notice(proposal).is_some_and(|(starts, ends)| starts <= today && today <= ends)
}

/// Why a household may not exit in `year`, if it may not: not before the year
/// it was enrolled, each of the "two no-worries, three guarantees" and safe
/// water met, and per-capita net income above that year's poverty line.
async fn exit_refusal(
    db: &impl ConnectionTrait,
    home: &household::Model,
    year: i32,
) -> ApiResult<Option<String>> {
    if let Some(why) = lifecycle::exit_before_enrolment(home.enrolled_year, year) {
        return Ok(Some(why));
    }
    let guarantees = [
        (home.food_secure, "food (不愁吃)"),
        (home.clothing_secure, "clothing (不愁穿)"),
        (
            home.compulsory_education_secure,
            "compulsory education (义务教育)",
        ),
        (home.basic_medical_secure, "basic medical care (基本医疗)"),
        (home.housing_secure, "safe housing (住房安全)"),
        (home.safe_drinking_water, "safe drinking water (饮水安全)"),
    ];
    let unmet: Vec<&str> = guarantees
        .iter()
        .filter(|(met, _)| !met)
        .map(|(_, name)| *name)
        .collect();
    if !unmet.is_empty() {
        return Ok(Some(format!(
            "the household cannot exit while guarantees are unmet: {}",
            unmet.join(", ")
        )));
    }
    let Some(income) = household_income::Entity::find_by_id((home.id, year))
        .one(db)
        .await?
    else {
        return Ok(Some(format!(
            "the household has no income recorded for {year}, the exit year"
        )));
    };
    let Some((line, provincial)) = income_line::exit_line(db, home, year).await? else {
        return Ok(Some(format!("there is no poverty line for {year}")));
    };
    if income.per_capita_net_fen <= line {
        return Ok(Some(format!(
            "per-capita net income in {year} is {} yuan, not above that year's {}poverty line of {} yuan",
            Money(income.per_capita_net_fen),
            if provincial { "provincial " } else { "" },
            Money(line)
        )));
    }
    Ok(None)
}

/// A proposal as the audit trail records it.
fn proposal_snapshot(p: &proposal::Model) -> Value {
    json!({
        "household": p.household_id,
        "kind": p.kind,
        "origin": p.origin,
        "stage": p.stage,
        "reason": p.reason,
        "evidence": evidence_of(p),
        "exitYear": p.exit_year,
        "appraisal": p.appraised_on.map(|held_on| json!({
            "heldOn": held_on,
            "attendance": p.appraisal_attendance,
            "votesFor": p.appraisal_votes_for,
            "votesAgainst": p.appraisal_votes_against,
            "minutes": p.appraisal_minutes,
        })),
        "noticeStartsOn": p.notice_starts_on,
        "noticeEndsOn": p.notice_ends_on,
        "townshipOpinion": p.township_opinion,
        "townshipNoticeStartsOn": p.township_notice_starts_on,
        "townshipNoticeEndsOn": p.township_notice_ends_on,
        "decisionNote": p.decision_note,
        "decidedAt": p.decided_at,
        "version": p.version,
    })
}

/// An objection as the audit trail records it.
fn objection_snapshot(o: &objection::Model) -> Value {
    json!({
        "proposal": o.proposal_id,
        "objector": o.objector,
        "content": o.content,
        "receivedOn": o.received_on,
        "upheld": o.upheld,
        "resolution": o.resolution,
        "resolvedAt": o.resolved_at,
        "version": o.version,
    })
}

/// A proposal the viewer reaches (through its household), locked.
async fn locked_proposal(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<proposal::Model> {
    write::one_locked(
        txn,
        access::select::<proposal::Entity>(viewer).filter(proposal::Column::Id.eq(id)),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("Proposal"))
}

fn check_proposal_version(viewer: &Viewer, stated: i32, p: &proposal::Model) -> ApiResult<()> {
    write::check_version("proposal", stated, p.version, || {
        permissions::redact(viewer, "Proposal", proposal_snapshot(p))
    })
}

/// Refuses an action on a proposal that is not at one of `stages`.
fn require_stage(p: &proposal::Model, stages: &[ProposalStage], action: &str) -> ApiResult<()> {
    if stages.contains(&p.stage) {
        return Ok(());
    }
    let allowed: Vec<&str> = stages.iter().map(|s| stage_name(*s)).collect();
    Err(ApiError::bad_input(
        "proposalId",
        format!(
            "a proposal in stage {} cannot {action}; only one in {}",
            stage_name(p.stage),
            allowed.join(" or ")
        ),
    ))
}

/// Writes an updated proposal and its audit entry.
async fn save_proposal(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: &proposal::Model,
    row: proposal::ActiveModel,
) -> ApiResult<proposal::Model> {
    let after = row.update(txn).await?;
    let change = Change {
        action,
        entity_type: "Proposal",
        entity_id: after.id,
        before: Some(proposal_snapshot(before)),
        after: Some(proposal_snapshot(&after)),
    };
    audit::record(txn, actor, change).await?;
    Ok(after)
}

fn bumped(p: &proposal::Model) -> proposal::ActiveModel {
    let mut row: proposal::ActiveModel = p.clone().into();
    row.version = Set(p.version + 1);
    row.updated_at = Set(Utc::now());
    row
}

/// Proposes to identify or exit a household and starts its public notice.
pub async fn propose(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewProposal,
) -> ApiResult<proposal::Model> {
    let user_id = viewer.user()?.id;
    let today = calendar::today();
    let reason = free_text("reason", &input.reason, MAX_TEXT)?;
    if input.evidence.len() > MAX_EVIDENCE {
        return Err(ApiError::bad_input(
            "evidence",
            format!("at most {MAX_EVIDENCE} evidence references"),
        ));
    }
    let evidence = input
        .evidence
        .iter()
        .map(|e| free_text("evidence", e, 500))
        .collect::<ApiResult<Vec<_>>>()?;
    match (input.kind, input.exit_year) {
        (ProposalKind::Exit, None) => {
            return Err(ApiError::bad_input(
                "exitYear",
                "an exit proposal states the exit year",
            ));
        }
        (ProposalKind::Identification, Some(_)) => {
            return Err(ApiError::bad_input(
                "exitYear",
                "an identification proposal has no exit year",
            ));
        }
        (ProposalKind::Exit, Some(year)) if !(2013..=today.year()).contains(&year) => {
            return Err(ApiError::bad_input(
                "exitYear",
                format!("the exit year must be between 2013 and {}", today.year()),
            ));
        }
        _ => {}
    }
    let request = json!({
        "household": input.household_id,
        "kind": input.kind,
        "origin": input.origin,
        "appraisal": [
            json!(input.appraisal.held_on),
            json!(input.appraisal.attendance),
            json!(input.appraisal.votes_for),
            json!(input.appraisal.votes_against),
            json!(input.appraisal.minutes),
        ],
        "reason": input.reason,
        "evidence": input.evidence,
        "exitYear": input.exit_year,
        "noticeStartsOn": input.notice_starts_on,
        "noticeEndsOn": input.notice_ends_on,
        "paperNotice": input.paper_notice.as_ref().map(|p| [&p.posted_by, &p.posted_at, &p.evidence]),
    });
    let notice = Notice::parse(
        input.notice_starts_on.unwrap_or(today),
        input.notice_ends_on,
        input.paper_notice,
        today,
        notice::Fields {
            starts_on: "noticeStartsOn",
            ends_on: "noticeEndsOn",
            paper: "paperNotice",
        },
    )?;
    let minutes = input.appraisal.check(notice.starts_on)?;
    write::create::<proposal::Entity, _>(db, actor, key, "propose", &request, async |txn| {
        let home = lock_household(txn, viewer, input.household_id).await?;
        let action = match input.kind {
            ProposalKind::Identification => Action::Identify,
            ProposalKind::Exit => Action::Exit,
        };
        next_state(&home, action, "kind")?;
        if let Some(year) = input.exit_year
            && let Some(why) = exit_refusal(txn, &home, year).await?
        {
            return Err(ApiError::bad_input("exitYear", why));
        }
        if let Some(open) = open_proposal(txn, home.id).await? {
            return Err(ApiError::Conflict(format!(
                "the household already has a proposal in progress (stage {}); decide or withdraw it first",
                stage_name(open.stage)
            )));
        }
        let now = Utc::now();
        let created = proposal::ActiveModel {
            household_id: Set(home.id),
            kind: Set(input.kind),
            origin: Set(Some(input.origin)),
            appraised_on: Set(Some(input.appraisal.held_on)),
            appraisal_attendance: Set(Some(input.appraisal.attendance)),
            appraisal_votes_for: Set(Some(input.appraisal.votes_for)),
            appraisal_votes_against: Set(Some(input.appraisal.votes_against)),
            appraisal_minutes: Set(Some(minutes.clone())),
            stage: Set(ProposalStage::Notice),
            reason: Set(reason),
            evidence: Set(json!(evidence).to_string()),
            exit_year: Set(input.exit_year),
            notice_starts_on: Set(notice.starts_on),
            notice_ends_on: Set(notice.ends_on),
            notice_posted_by: Set(notice.paper.as_ref().map(|p| p.posted_by.clone())),
            notice_posted_at: Set(notice.paper.as_ref().map(|p| p.posted_at.clone())),
            notice_evidence: Set(notice.paper.map(|p| p.evidence)),
            proposer_id: Set(user_id),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(Created::new(
            created.id,
            "proposal.create",
            "Proposal",
            proposal_snapshot(&created),
            created,
        ))
    })
    .await
}

/// Records an objection received during a proposal's public notice.
pub async fn record_objection(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewObjection,
) -> ApiResult<objection::Model> {
    let user_id = viewer.user()?.id;
    let today = calendar::today();
    let content = free_text("content", &input.content, MAX_TEXT)?;
    let objector = match input.objector.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(name) => Some(required_text(name, "objector", 100)?),
    };
    let received_on = input.received_on.unwrap_or(today);
    if received_on > today {
        return Err(ApiError::bad_input(
            "receivedOn",
            "an objection cannot be received in the future",
        ));
    }
    write::create::<objection::Entity, _>(db, actor, key, "recordObjection", &input, async |txn| {
        let target = locked_proposal(txn, viewer, input.proposal_id).await?;
        require_stage(&target, &OPEN_STAGES, "receive objections")?;
        let Some((starts, ends)) = current_notice(&target) else {
            return Err(ApiError::bad_input(
                "proposalId",
                "the proposal is not under notice: it was checked before the township's notice was kept",
            ));
        };
        if received_on < starts || received_on > ends {
            return Err(ApiError::bad_input(
                "receivedOn",
                format!("objections are received during the notice, {starts} to {ends}"),
            ));
        }
        let now = Utc::now();
        let created = objection::ActiveModel {
            proposal_id: Set(target.id),
            objector: Set(objector),
            content: Set(content),
            received_on: Set(received_on),
            recorder_id: Set(user_id),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(Created::new(
            created.id,
            "objection.create",
            "Objection",
            objection_snapshot(&created),
            created,
        ))
    })
    .await
}

/// Resolves an open objection: upheld (found right) or not, with how.
pub async fn resolve_objection(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    objection_id: i64,
    version: i32,
    upheld: bool,
    resolution: &str,
) -> ApiResult<objection::Model> {
    let user_id = viewer.user()?.id;
    let resolution = free_text("resolution", resolution, MAX_TEXT)?;
    let txn = write::begin(db).await?;
    let before = write::one_locked(
        &txn,
        access::select::<objection::Entity>(viewer).filter(objection::Column::Id.eq(objection_id)),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("Objection"))?;
    write::check_version("objection", version, before.version, || {
        permissions::redact(viewer, "Objection", objection_snapshot(&before))
    })?;
    if before.upheld.is_some() {
        return Err(ApiError::bad_input(
            "objectionId",
            "the objection is already resolved",
        ));
    }
    let target = proposal::Entity::find_by_id(before.proposal_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("Proposal"))?;
    require_stage(&target, &OPEN_STAGES, "have objections resolved")?;
    let now = Utc::now();
    let mut row: objection::ActiveModel = before.clone().into();
    row.upheld = Set(Some(upheld));
    row.resolution = Set(Some(resolution));
    row.resolver_id = Set(Some(user_id));
    row.resolved_at = Set(Some(now));
    row.version = Set(before.version + 1);
    row.updated_at = Set(now);
    let after = row.update(&txn).await?;
    let change = Change {
        action: "objection.resolve",
        entity_type: "Objection",
        entity_id: after.id,
        before: Some(objection_snapshot(&before)),
        after: Some(objection_snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// The township's check of a proposal, as given.
pub struct TownshipCheck {
    pub passed: bool,
    pub opinion: String,
    /// The township's notice, which a pass needs (乡镇公示).
    pub township_notice: Option<notice::NoticeDays>,
}

/// The township's check of a proposal noticed in the village, from the
/// version read: rejected, or passed and noticed in the township, starting
/// after the village's notice has ended.
pub async fn check(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    (proposal_id, version): (i64, i32),
    verdict: TownshipCheck,
) -> ApiResult<proposal::Model> {
    let user_id = viewer.user()?.id;
    let TownshipCheck {
        passed,
        opinion,
        township_notice,
    } = verdict;
    let opinion = free_text("opinion", &opinion, MAX_TEXT)?;
    let today = calendar::today();
    let township_notice = match (passed, township_notice) {
        (true, None) => {
            return Err(ApiError::bad_input(
                "townshipNotice",
                "a proposal the township passes is noticed in the township: give its days",
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::bad_input(
                "townshipNotice",
                "a proposal the township rejects is not noticed again",
            ));
        }
        (_, given) => given
            .map(|n| {
                Notice::parse(
                    n.starts_on.unwrap_or(today),
                    n.ends_on,
                    n.paper,
                    today,
                    notice::Fields {
                        starts_on: "townshipNotice.startsOn",
                        ends_on: "townshipNotice.endsOn",
                        paper: "townshipNotice.paperNotice",
                    },
                )
            })
            .transpose()?,
    };
    let txn = write::begin(db).await?;
    let before = locked_proposal(&txn, viewer, proposal_id).await?;
    check_proposal_version(viewer, version, &before)?;
    require_stage(
        &before,
        &[ProposalStage::Notice],
        "be checked by the township",
    )?;
    // A township may turn a proposal down at once; it passes one only on what the notice brought.
    if passed {
        lifecycle::notice_over(&txn, &before, today, "pass it").await?;
    }
    let mut row = bumped(&before);
    if let Some(notice) = township_notice {
        if notice.starts_on <= before.notice_ends_on {
            return Err(ApiError::bad_input(
                "townshipNotice.startsOn",
                format!(
                    "the township's notice follows the village's, which ended on {}",
                    before.notice_ends_on
                ),
            ));
        }
        row.township_notice_starts_on = Set(Some(notice.starts_on));
        row.township_notice_ends_on = Set(Some(notice.ends_on));
        row.township_notice_posted_by = Set(notice.paper.as_ref().map(|p| p.posted_by.clone()));
        row.township_notice_posted_at = Set(notice.paper.as_ref().map(|p| p.posted_at.clone()));
        row.township_notice_evidence = Set(notice.paper.map(|p| p.evidence));
    }
    row.stage = Set(if passed {
        ProposalStage::TownshipChecked
    } else {
        ProposalStage::Rejected
    });
    row.township_checker_id = Set(Some(user_id));
    row.township_checked_at = Set(Some(Utc::now()));
    row.township_opinion = Set(Some(opinion));
    let after = save_proposal(&txn, actor, "proposal.check", &before, row).await?;
    txn.commit().await?;
    Ok(after)
}

/// The county's decision on a checked proposal after its notice has run; an
/// approval changes the household's status.
pub async fn decide(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    proposal_id: i64,
    version: i32,
    approved: bool,
    note: &str,
) -> ApiResult<proposal::Model> {
    let user_id = viewer.user()?.id;
    let note = free_text("note", note, MAX_TEXT)?;
    let today = calendar::today();
    let txn = write::begin(db).await?;
    let before = locked_proposal(&txn, viewer, proposal_id).await?;
    check_proposal_version(viewer, version, &before)?;
    require_stage(
        &before,
        &[ProposalStage::TownshipChecked],
        "be decided by the county",
    )?;
    let objections = lifecycle::notice_over(&txn, &before, today, "decide").await?;
    if approved && objections.iter().any(|o| o.upheld == Some(true)) {
        return Err(ApiError::bad_input(
            "approved",
            "an objection to the notice was upheld: the proposal cannot be approved",
        ));
    }
    let mut row = bumped(&before);
    row.decider_id = Set(Some(user_id));
    row.decided_at = Set(Some(Utc::now()));
    row.decision_note = Set(Some(note.clone()));
    if !approved {
        row.stage = Set(ProposalStage::Rejected);
        let after = save_proposal(&txn, actor, "proposal.reject", &before, row).await?;
        txn.commit().await?;
        return Ok(after);
    }
    row.stage = Set(ProposalStage::Approved);
    let home = lock_household(&txn, viewer, before.household_id).await?;
    let (action, year) = match before.kind {
        ProposalKind::Identification => (Action::Identify, Some(today.year())),
        ProposalKind::Exit => (Action::Exit, before.exit_year),
    };
    let to = next_state(&home, action, "proposalId")?;
    if let Some(year) = before.exit_year
        && let Some(why) = exit_refusal(&txn, &home, year).await?
    {
        return Err(ApiError::bad_input("approved", why));
    }
    let after = save_proposal(&txn, actor, "proposal.approve", &before, row).await?;
    let reason = format!("{} (proposal approved: {note})", before.reason);
    let change = StatusChangeOf {
        action,
        to,
        year,
        reason: &reason,
        proposal_id: Some(before.id),
    };
    change_status(&txn, actor, &home, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Withdraws a proposal still in progress.
pub async fn withdraw(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    proposal_id: i64,
    version: i32,
    reason: &str,
) -> ApiResult<proposal::Model> {
    let reason = free_text("reason", reason, MAX_TEXT)?;
    let txn = write::begin(db).await?;
    let before = locked_proposal(&txn, viewer, proposal_id).await?;
    check_proposal_version(viewer, version, &before)?;
    require_stage(&before, &OPEN_STAGES, "be withdrawn")?;
    let mut row = bumped(&before);
    row.stage = Set(ProposalStage::Withdrawn);
    row.decided_at = Set(Some(Utc::now()));
    row.decision_note = Set(Some(reason));
    let after = save_proposal(&txn, actor, "proposal.withdraw", &before, row).await?;
    txn.commit().await?;
    Ok(after)
}
