//! "Two public notices and one announcement" (两公示一公告): a proposal is noticed
//! in the village, objections are recorded and resolved, the township checks
//! it, and the county decides after the notice has run; an approval changes the
//! household's status and is announced.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{ProposalKind, ProposalStage};
use entity::{household, household_income, objection, poverty_line, proposal};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::super::household::Household;
use super::super::money::Money;
use super::super::relay::{NodeKind, decode_id_of};
use super::super::{actor, db, viewer};
use super::{
    Objection, Proposal, StatusChangeOf, change_status, check_household_version, evidence_of,
    household_for_change, household_for_change_by_id, next_state, open_proposal, required_text,
};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::domain::calendar;
use crate::domain::lifecycle::{self, Action, OPEN_STAGES, stage_name};
use crate::domain::notice::{self, Notice};
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::graphql::notice::PaperNoticeInput;
use crate::permissions;

/// Longest reason, opinion, note or objection, in characters.
const MAX_TEXT: usize = 2_000;
/// Evidence references a proposal may carry.
const MAX_EVIDENCE: usize = 50;
/// A run of this many digits in a public text looks like an ID, phone or bank number.
const DIGIT_RUN: usize = 11;

/// A proposal to identify a household or certify its exit (申请识别或退出).
#[derive(InputObject, Serialize)]
pub struct ProposeInput {
    /// The household (申请户).
    household_id: ID,
    /// What is proposed (申请事项).
    kind: ProposalKind,
    /// Why; shown on the public notice, so no ID, phone or bank numbers (申请理由).
    reason: String,
    /// References to the evidence: documents, photos (佐证材料).
    evidence: Vec<String>,
    /// For an exit, the year certified lifted out; not for an identification (脱贫年度).
    exit_year: Option<i32>,
    /// First day of the notice; today if not given, at most 30 days back (公示开始日期).
    notice_starts_on: Option<NaiveDate>,
    /// Last day of the notice: a notice is up at least 5 days, its first and
    /// last included (公示截止日期).
    notice_ends_on: NaiveDate,
    /// For a notice that started before today: the paper notice it was first
    /// posted as, with its evidence (纸质公示佐证).
    paper_notice: Option<PaperNoticeInput>,
    /// Makes a retried request return the first proposal instead of a second (幂等键).
    idempotency_key: Option<String>,
}

/// An objection received during a public notice (公示异议).
#[derive(InputObject, Serialize)]
pub struct RecordObjectionInput {
    /// The proposal objected to (异议所指申请).
    proposal_id: ID,
    /// Who objected, if they gave a name; never shown publicly (异议人).
    objector: Option<String>,
    /// What the objection says (异议内容).
    content: String,
    /// The day it was received; today if not given (受理日期).
    received_on: Option<NaiveDate>,
    /// Makes a retried request return the first objection instead of a second (幂等键).
    idempotency_key: Option<String>,
}

/// Why a household may not exit in `year`, if it may not: not before the year
/// it was enrolled, each of the "two no-worries, three guarantees" and safe
/// water met, and per-capita net income above that year's poverty line.
pub(crate) async fn exit_refusal(
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
    let Some(line) = poverty_line::Entity::find_by_id(year).one(db).await? else {
        return Ok(Some(format!("there is no poverty line for {year}")));
    };
    if income.per_capita_net_fen <= line.annual_fen {
        return Ok(Some(format!(
            "per-capita net income in {year} is {} yuan, not above that year's poverty line of {} yuan",
            Money(income.per_capita_net_fen),
            Money(line.annual_fen)
        )));
    }
    Ok(None)
}

/// Refuses a public text with a run of digits as long as an ID, phone or bank number.
fn no_personal_numbers(text: &str, field: &str) -> ApiResult<()> {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= DIGIT_RUN {
            return Err(ApiError::bad_input(
                field,
                format!(
                    "`{field}` is shown publicly and may not hold a run of {DIGIT_RUN} or more digits (an ID, phone or bank number)"
                ),
            ));
        }
    }
    Ok(())
}

fn proposal_snapshot(p: &proposal::Model) -> Value {
    json!({
        "household": p.household_id,
        "kind": p.kind,
        "stage": p.stage,
        "reason": p.reason,
        "evidence": evidence_of(p),
        "exitYear": p.exit_year,
        "noticeStartsOn": p.notice_starts_on,
        "noticeEndsOn": p.notice_ends_on,
        "townshipOpinion": p.township_opinion,
        "decisionNote": p.decision_note,
        "decidedAt": p.decided_at,
        "version": p.version,
    })
}

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
    id: &ID,
) -> ApiResult<proposal::Model> {
    let (_, raw) = decode_id_of(id, "proposalId", &[NodeKind::Proposal])?;
    write::one_locked(
        txn,
        access::select::<proposal::Entity>(viewer).filter(proposal::Column::Id.eq(raw)),
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

#[derive(Default)]
pub struct ProposalMutation;

#[Object]
impl ProposalMutation {
    /// Proposes to identify or exit a household and starts its public notice (提出识别/退出申请并公示).
    async fn propose(&self, ctx: &Context<'_>, input: ProposeInput) -> ApiResult<Proposal> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let today = calendar::today();
        let reason = required_text(&input.reason, "reason", MAX_TEXT)?;
        no_personal_numbers(&reason, "reason")?;
        if input.evidence.len() > MAX_EVIDENCE {
            return Err(ApiError::bad_input(
                "evidence",
                format!("at most {MAX_EVIDENCE} evidence references"),
            ));
        }
        let evidence = input
            .evidence
            .iter()
            .map(|e| required_text(e, "evidence", 500))
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
        let paper = PaperNoticeInput::parse(input.paper_notice.as_ref(), "paperNotice")?;
        let notice = Notice::parse(
            input.notice_starts_on.unwrap_or(today),
            input.notice_ends_on,
            paper,
            today,
            notice::Fields {
                starts_on: "noticeStartsOn",
                ends_on: "noticeEndsOn",
                paper: "paperNotice",
            },
        )?;
        let key = input.idempotency_key.as_deref();
        let created = write::create::<proposal::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "propose",
            &input,
            async |txn| {
                let home = household_for_change(txn, viewer, &input.household_id, "householdId").await?;
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
                Ok(Created::new(created.id, "proposal.create", "Proposal", proposal_snapshot(&created), created))
            },
        )
        .await?;
        Ok(Proposal(created))
    }

    /// Records an objection received during a proposal's public notice (登记公示异议).
    async fn record_objection(
        &self,
        ctx: &Context<'_>,
        input: RecordObjectionInput,
    ) -> ApiResult<Objection> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let today = calendar::today();
        let content = required_text(&input.content, "content", MAX_TEXT)?;
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
        let key = input.idempotency_key.as_deref();
        let created = write::create::<objection::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "recordObjection",
            &input,
            async |txn| {
                let target = locked_proposal(txn, viewer, &input.proposal_id).await?;
                require_stage(&target, &OPEN_STAGES, "receive objections")?;
                if received_on < target.notice_starts_on || received_on > target.notice_ends_on {
                    return Err(ApiError::bad_input(
                        "receivedOn",
                        format!(
                            "objections are received during the notice, {} to {}",
                            target.notice_starts_on, target.notice_ends_on
                        ),
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
            },
        )
        .await?;
        Ok(Objection(created))
    }

    /// Resolves an objection: upheld (found right) or not, with how (处理公示异议).
    async fn resolve_objection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The objection (异议).")] objection_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Whether the objection was found right (异议是否成立).")] upheld: bool,
        #[graphql(desc = "How it was resolved (处理结果).")] resolution: String,
    ) -> ApiResult<Objection> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let resolution = required_text(&resolution, "resolution", MAX_TEXT)?;
        let (_, raw) = decode_id_of(&objection_id, "objectionId", &[NodeKind::Objection])?;
        let txn = write::begin(db(ctx)?).await?;
        let before = write::one_locked(
            &txn,
            access::select::<objection::Entity>(viewer).filter(objection::Column::Id.eq(raw)),
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
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Objection(after))
    }

    /// The township's check of a noticed proposal: passed, or rejected (乡镇审核).
    async fn check_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The proposal (申请).")] proposal_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Whether it passes the check (是否通过).")] passed: bool,
        #[graphql(desc = "The township's opinion (审核意见).")] opinion: String,
    ) -> ApiResult<Proposal> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let opinion = required_text(&opinion, "opinion", MAX_TEXT)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = locked_proposal(&txn, viewer, &proposal_id).await?;
        check_proposal_version(viewer, version, &before)?;
        require_stage(
            &before,
            &[ProposalStage::Notice],
            "be checked by the township",
        )?;
        // A township may turn a proposal down at once; it passes one only on what the notice brought.
        if passed {
            lifecycle::notice_over(&txn, &before, calendar::today(), "pass it").await?;
        }
        let mut row = bumped(&before);
        row.stage = Set(if passed {
            ProposalStage::TownshipChecked
        } else {
            ProposalStage::Rejected
        });
        row.township_checker_id = Set(Some(user_id));
        row.township_checked_at = Set(Some(Utc::now()));
        row.township_opinion = Set(Some(opinion));
        let after = save_proposal(&txn, &actor, "proposal.check", &before, row).await?;
        txn.commit().await?;
        Ok(Proposal(after))
    }

    /// The county's decision on a checked proposal after its notice has run;
    /// an approval changes the household's status and is announced (县级审定并公告).
    async fn decide_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The proposal (申请).")] proposal_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Whether it is approved (是否批准).")] approved: bool,
        #[graphql(desc = "The county's note (审定意见).")] note: String,
    ) -> ApiResult<Proposal> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let note = required_text(&note, "note", MAX_TEXT)?;
        let today = calendar::today();
        let txn = write::begin(db(ctx)?).await?;
        let before = locked_proposal(&txn, viewer, &proposal_id).await?;
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
            let after = save_proposal(&txn, &actor, "proposal.reject", &before, row).await?;
            txn.commit().await?;
            return Ok(Proposal(after));
        }
        row.stage = Set(ProposalStage::Approved);
        let home = household_for_change_by_id(&txn, viewer, before.household_id).await?;
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
        let after = save_proposal(&txn, &actor, "proposal.approve", &before, row).await?;
        let reason = format!("{} (proposal approved: {note})", before.reason);
        let change = StatusChangeOf {
            action,
            to,
            year,
            reason: &reason,
            proposal_id: Some(before.id),
        };
        change_status(&txn, &actor, &home, change).await?;
        txn.commit().await?;
        Ok(Proposal(after))
    }

    /// Withdraws a proposal still in progress (撤回申请).
    async fn withdraw_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The proposal (申请).")] proposal_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Why it is withdrawn (撤回原因).")] reason: String,
    ) -> ApiResult<Proposal> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let reason = required_text(&reason, "reason", MAX_TEXT)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = locked_proposal(&txn, viewer, &proposal_id).await?;
        check_proposal_version(viewer, version, &before)?;
        require_stage(&before, &OPEN_STAGES, "be withdrawn")?;
        let mut row = bumped(&before);
        row.stage = Set(ProposalStage::Withdrawn);
        row.decided_at = Set(Some(Utc::now()));
        row.decision_note = Set(Some(reason));
        let after = save_proposal(&txn, &actor, "proposal.withdraw", &before, row).await?;
        txn.commit().await?;
        Ok(Proposal(after))
    }

    /// Returns a household lifted out of poverty to poverty (返贫).
    async fn return_to_poverty(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household (农户).")] household_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Why it returned to poverty (返贫原因).")] reason: String,
    ) -> ApiResult<Household> {
        direct_change(
            ctx,
            &household_id,
            version,
            &reason,
            Action::ReturnToPoverty,
        )
        .await
    }

    /// Removes a wrongly included household from the register (清退).
    async fn remove_household(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household (农户).")] household_id: ID,
        #[graphql(desc = "Why it is removed, e.g. wrongly included (清退原因).")] reason: String,
        #[graphql(desc = "The version read (版本号).")] version: i32,
    ) -> ApiResult<Household> {
        direct_change(ctx, &household_id, version, &reason, Action::Remove).await
    }
}

/// A status change taken directly, without a proposal: return or removal. A
/// removal also ends the household's open monitoring case.
async fn direct_change(
    ctx: &Context<'_>,
    household_id: &ID,
    version: i32,
    reason: &str,
    action: Action,
) -> ApiResult<Household> {
    let actor = actor(ctx)?;
    let viewer = viewer(ctx)?;
    let reason = required_text(reason, "reason", MAX_TEXT)?;
    let txn = write::begin(db(ctx)?).await?;
    let home = household_for_change(&txn, viewer, household_id, "householdId").await?;
    check_household_version(viewer, version, &home)?;
    let to = next_state(&home, action, "householdId")?;
    if action == Action::Remove {
        if let Some(open) = open_proposal(&txn, home.id).await? {
            return Err(ApiError::bad_input(
                "householdId",
                format!(
                    "the household has a proposal in progress (stage {}); withdraw it first",
                    stage_name(open.stage)
                ),
            ));
        }
        let note = format!("ended by removal: {reason}");
        super::monitoring::end_open_case(&txn, &actor, home.id, &note).await?;
    }
    let change = StatusChangeOf {
        action,
        to,
        year: None,
        reason: &reason,
        proposal_id: None,
    };
    let after = change_status(&txn, &actor, &home, change).await?;
    txn.commit().await?;
    Ok(Household(after))
}
