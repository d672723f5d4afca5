//! A project's lifecycle (项目全流程): the project library, the public notice
//! before approval (批复前公示), approval, implementation with progress reports,
//! completion, acceptance and the announcement of its result (验收结果公告),
//! due within 20 working days. [`STEPS`] is the one table of which step may be
//! taken in which stage; every step asks it first.

use chrono::{Datelike, Days, NaiveDate, Utc, Weekday};
use entity::enums::ProjectStatus;
use entity::{project, project_stage_change};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};

use super::{
    ProjectVersion, check_answers_for, check_project_version, covered_villages, project_to_change,
    record_step, snapshot,
};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::domain::calendar;
use crate::domain::notice::{self, Notice, PaperNotice};
use crate::domain::text::optional_free_text;
use crate::domain::write;
use crate::error::{ApiError, ApiResult};

/// Longest note of a step, in characters.
const MAX_NOTE_CHARS: usize = 2_000;
/// Working days within which an acceptance result is announced.
const ANNOUNCEMENT_WORKING_DAYS: u32 = 20;

/// What is asked of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Change what was entered (修改项目).
    Edit,
    /// Replace the beneficiary households (设定受益户).
    SetBeneficiaries,
    /// Publish the public notice before approval (批复前公示).
    PublishNotice,
    /// Approve (批复).
    Approve,
    /// Start work (开工).
    Start,
    /// Report progress (报告进度).
    ReportProgress,
    /// Complete work (完工).
    Complete,
    /// Accept after inspection (验收).
    Accept,
    /// Announce the acceptance result (验收结果公告).
    Announce,
}

use ProjectStatus::{Accepted, Approved, Completed, InProgress, Library};

/// Each step: the stages it may be taken in, the stage it leads to (none: the
/// project stays where it is), and how a refusal names it.
pub const STEPS: [(Step, &[ProjectStatus], Option<ProjectStatus>, &str); 9] = [
    (Step::Edit, &[Library], None, "be edited"),
    (
        Step::SetBeneficiaries,
        &[Library, Approved, InProgress, Completed],
        None,
        "have its beneficiaries set",
    ),
    (
        Step::PublishNotice,
        &[Library],
        None,
        "have its notice before approval published",
    ),
    (Step::Approve, &[Library], Some(Approved), "be approved"),
    (Step::Start, &[Approved], Some(InProgress), "be started"),
    (Step::ReportProgress, &[InProgress], None, "report progress"),
    (
        Step::Complete,
        &[InProgress],
        Some(Completed),
        "be completed",
    ),
    (Step::Accept, &[Completed], Some(Accepted), "be accepted"),
    (
        Step::Announce,
        &[Accepted],
        None,
        "have its acceptance announced",
    ),
];

/// The stage as messages name it (its GraphQL value).
pub fn stage_name(status: ProjectStatus) -> &'static str {
    match status {
        Library => "LIBRARY",
        Approved => "APPROVED",
        InProgress => "IN_PROGRESS",
        Completed => "COMPLETED",
        Accepted => "ACCEPTED",
    }
}

/// The stage `step` leads to from `from`, or why it may not be taken there.
pub fn next(from: ProjectStatus, step: Step) -> Result<ProjectStatus, String> {
    let Some((_, allowed, to, verb)) = STEPS.iter().find(|(s, ..)| *s == step) else {
        return Err(format!("{step:?} is not a step of the lifecycle"));
    };
    if allowed.contains(&from) {
        return Ok(to.unwrap_or(from));
    }
    let names: Vec<&str> = allowed.iter().map(|s| stage_name(*s)).collect();
    let stages = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    };
    Err(format!(
        "the project is in stage {}; only a project in stage {stages} can {verb}",
        stage_name(from)
    ))
}

/// `from` plus `days` working days (Monday to Friday). Public holidays are not
/// modelled: a holiday on a weekday counts as a working day.
fn add_working_days(from: NaiveDate, days: u32) -> NaiveDate {
    let mut date = from;
    let mut left = days;
    while left > 0 {
        date = date + Days::new(1);
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    date
}

/// The last day to announce the result of an acceptance on `accepted_on`.
pub fn announcement_due_on(accepted_on: NaiveDate) -> NaiveDate {
    add_working_days(accepted_on, ANNOUNCEMENT_WORKING_DAYS)
}

/// Whether a project's acceptance result is overdue for announcement on `today`.
pub fn is_announcement_overdue(project: &project::Model, today: NaiveDate) -> bool {
    project.status == Accepted
        && project.announced_on.is_none()
        && project
            .accepted_on
            .is_some_and(|on| announcement_due_on(on) < today)
}

/// The latest acceptance day whose announcement is overdue on `today`. The due
/// day never decreases as the acceptance day grows, so every earlier acceptance
/// is overdue too; the walk back is bounded (20 working days are under 30 days).
fn last_overdue_acceptance(today: NaiveDate) -> NaiveDate {
    let mut accepted = today - Days::new(1);
    while announcement_due_on(accepted) >= today {
        accepted = accepted - Days::new(1);
    }
    accepted
}

/// The projects overdue for announcement on `today`, as a condition for SQL.
pub fn announcement_overdue(today: NaiveDate) -> Condition {
    Condition::all()
        .add(project::Column::Status.eq(Accepted))
        .add(project::Column::AnnouncedOn.is_null())
        .add(project::Column::AcceptedOn.lte(last_overdue_acceptance(today)))
}

/// The day of the project's latest step: its history, or for a project loaded
/// without history (the demo county), the latest day it records.
async fn latest_step_on(
    txn: &DatabaseTransaction,
    p: &project::Model,
) -> ApiResult<Option<NaiveDate>> {
    let last = project_stage_change::Entity::find()
        .filter(project_stage_change::Column::ProjectId.eq(p.id))
        .order_by_desc(project_stage_change::Column::Id)
        .one(txn)
        .await?
        .map(|s| s.effective_on);
    let recorded = [
        last,
        p.notice_starts_on,
        p.approved_on,
        p.actual_start_date,
        p.actual_end_date,
        p.accepted_on,
        p.announced_on,
    ];
    Ok(recorded.into_iter().flatten().max())
}

/// A step's day: not after today, not before the project's latest step.
fn check_step_day(on: NaiveDate, field: &str, latest: Option<NaiveDate>) -> ApiResult<()> {
    let today = calendar::today();
    if on > today {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` may not be in the future (today is {today})"),
        ));
    }
    if let Some(latest) = latest.filter(|latest| on < *latest) {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` may not be before the project's previous step, on {latest}"),
        ));
    }
    Ok(())
}

/// Who may take a step on a project, beyond the policy's role rule: the county
/// office and the township of the project; for the work itself, also the user
/// of the implementing enterprise.
fn check_may_take(
    viewer: &Viewer,
    step: Step,
    project: &project::Model,
    villages: &[entity::region::Model],
) -> ApiResult<()> {
    let work = matches!(step, Step::Start | Step::ReportProgress | Step::Complete);
    if work && access::implements(viewer, project) {
        return Ok(());
    }
    check_answers_for(viewer, villages)
}

/// One step as asked for.
struct Asked<'a> {
    project: ProjectVersion,
    step: Step,
    /// The day it takes effect, and the argument that gave it.
    on: NaiveDate,
    on_field: &'a str,
    note: String,
    /// The audit action.
    action: &'a str,
}

/// Takes a step: locks the project, checks the version, the caller, the table
/// and the day, lets `apply` check and set what the step sets, then bumps the
/// version and appends the history row and the audit entry, in one transaction.
async fn take(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    asked: Asked<'_>,
    apply: impl FnOnce(&project::Model, &mut project::ActiveModel) -> ApiResult<()>,
) -> ApiResult<project::Model> {
    let txn = write::begin(db).await?;
    let before = project_to_change(&txn, viewer, asked.project.id).await?;
    check_project_version(viewer, asked.project.version, &before)?;
    let villages = covered_villages(&txn, before.id).await?;
    check_may_take(viewer, asked.step, &before, &villages)?;
    let to = next(before.status, asked.step).map_err(|why| ApiError::bad_input("id", why))?;
    let latest = latest_step_on(&txn, &before).await?;
    check_step_day(asked.on, asked.on_field, latest)?;
    let mut changed: project::ActiveModel = before.clone().into();
    apply(&before, &mut changed)?;
    changed.status = Set(to);
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(Utc::now());
    let after = changed.update(&txn).await?;
    record_step(
        &txn,
        actor,
        after.id,
        Some(before.status),
        to,
        asked.on,
        asked.note,
    )
    .await?;
    let change = Change {
        action: asked.action,
        entity_type: "Project",
        entity_id: after.id,
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

fn note_of(note: Option<String>) -> ApiResult<String> {
    Ok(optional_free_text("note", note.as_deref(), MAX_NOTE_CHARS)?.unwrap_or_default())
}

/// Publishes the public notice before approval of a project in the library
/// (批复前公示); a later notice replaces an earlier one. The notice is up at
/// least five days, its first and last included; one that started before
/// today was posted on paper first and needs that paper's evidence.
pub async fn publish_notice(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    project: ProjectVersion,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    paper: Option<PaperNotice>,
) -> ApiResult<project::Model> {
    let asked = Asked {
        project,
        step: Step::PublishNotice,
        on: starts_on,
        on_field: "startsOn",
        note: format!("public notice before approval from {starts_on} to {ends_on}"),
        action: "project.notice",
    };
    take(db, actor, viewer, asked, move |_, changed| {
        let fields = notice::Fields {
            starts_on: "startsOn",
            ends_on: "endsOn",
            paper: "paperNotice",
        };
        let notice = Notice::parse(starts_on, ends_on, paper, calendar::today(), fields)?;
        changed.notice_starts_on = Set(Some(notice.starts_on));
        changed.notice_ends_on = Set(Some(notice.ends_on));
        changed.notice_posted_by = Set(notice.paper.as_ref().map(|p| p.posted_by.clone()));
        changed.notice_posted_at = Set(notice.paper.as_ref().map(|p| p.posted_at.clone()));
        changed.notice_evidence = Set(notice.paper.map(|p| p.evidence));
        Ok(())
    })
    .await
}

/// Approves a project in the library (项目批复) on `on` (today if not
/// given), once its public notice has ended.
pub async fn approve(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    project: ProjectVersion,
    on: Option<NaiveDate>,
    note: Option<String>,
) -> ApiResult<project::Model> {
    let on = on.unwrap_or_else(calendar::today);
    let asked = Asked {
        project,
        step: Step::Approve,
        on,
        on_field: "on",
        note: note_of(note)?,
        action: "project.approve",
    };
    take(db, actor, viewer, asked, |before, changed| {
        match before.notice_ends_on {
            None => {
                return Err(ApiError::bad_input(
                    "id",
                    "a project is approved only after its public notice: publish it first",
                ));
            }
            Some(ends) => notice::check_ended(ends, on, "on", "approve it")?,
        }
        changed.approved_on = Set(Some(on));
        Ok(())
    })
    .await
}

/// Starts work on an approved project (项目开工) on `on`, today if not given.
pub async fn start(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    project: ProjectVersion,
    on: Option<NaiveDate>,
) -> ApiResult<project::Model> {
    let on = on.unwrap_or_else(calendar::today);
    let asked = Asked {
        project,
        step: Step::Start,
        on,
        on_field: "on",
        note: String::new(),
        action: "project.start",
    };
    take(db, actor, viewer, asked, |_, changed| {
        changed.actual_start_date = Set(Some(on));
        Ok(())
    })
    .await
}

/// Reports the progress of a project under way, as of today (报告实施进度);
/// progress never goes back.
pub async fn report_progress(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    project: ProjectVersion,
    percent: i32,
    note: Option<String>,
) -> ApiResult<project::Model> {
    if !(0..=100).contains(&percent) {
        return Err(ApiError::bad_input(
            "percent",
            "progress is 0 to 100 percent",
        ));
    }
    let note = note_of(note)?;
    let asked = Asked {
        project,
        step: Step::ReportProgress,
        on: calendar::today(),
        on_field: "today",
        note: if note.is_empty() {
            format!("progress {percent}%")
        } else {
            format!("progress {percent}%: {note}")
        },
        action: "project.progress",
    };
    take(db, actor, viewer, asked, |before, changed| {
        if percent < before.progress_percent {
            return Err(ApiError::bad_input(
                "percent",
                format!(
                    "progress may not go back: it was reported at {}%",
                    before.progress_percent
                ),
            ));
        }
        changed.progress_percent = Set(percent);
        Ok(())
    })
    .await
}

/// Completes work on a project under way (项目完工) on `on`, today if not
/// given: progress becomes 100%.
pub async fn complete(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    project: ProjectVersion,
    on: Option<NaiveDate>,
) -> ApiResult<project::Model> {
    let on = on.unwrap_or_else(calendar::today);
    let asked = Asked {
        project,
        step: Step::Complete,
        on,
        on_field: "on",
        note: String::new(),
        action: "project.complete",
    };
    take(db, actor, viewer, asked, |_, changed| {
        changed.actual_end_date = Set(Some(on));
        changed.progress_percent = Set(100);
        Ok(())
    })
    .await
}

/// Accepts a completed project after inspection (项目验收) on `on`, today if
/// not given; its result is then due for announcement within 20 working days.
pub async fn accept(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    project: ProjectVersion,
    on: Option<NaiveDate>,
    note: Option<String>,
) -> ApiResult<project::Model> {
    let on = on.unwrap_or_else(calendar::today);
    let asked = Asked {
        project,
        step: Step::Accept,
        on,
        on_field: "on",
        note: note_of(note)?,
        action: "project.accept",
    };
    take(db, actor, viewer, asked, |_, changed| {
        changed.accepted_on = Set(Some(on));
        Ok(())
    })
    .await
}

/// Records the announcement of an accepted project's result (验收结果公告)
/// on `on`, today if not given, once.
pub async fn announce(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    project: ProjectVersion,
    on: Option<NaiveDate>,
) -> ApiResult<project::Model> {
    let on = on.unwrap_or_else(calendar::today);
    let asked = Asked {
        project,
        step: Step::Announce,
        on,
        on_field: "on",
        note: "acceptance result announced".into(),
        action: "project.announce",
    };
    take(db, actor, viewer, asked, |before, changed| {
        if let Some(announced) = before.announced_on {
            return Err(ApiError::bad_input(
                "id",
                format!("the acceptance result was already announced on {announced}"),
            ));
        }
        changed.announced_on = Set(Some(on));
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAGES: [ProjectStatus; 5] = [Library, Approved, InProgress, Completed, Accepted];

    #[test]
    fn the_table_of_stages_and_steps() {
        let expected = |step: Step, from: ProjectStatus| -> Option<ProjectStatus> {
            match (step, from) {
                (Step::Edit | Step::PublishNotice, Library) => Some(Library),
                (Step::SetBeneficiaries, s) if s != Accepted => Some(s),
                (Step::Approve, Library) => Some(Approved),
                (Step::Start, Approved) => Some(InProgress),
                (Step::ReportProgress, InProgress) => Some(InProgress),
                (Step::Complete, InProgress) => Some(Completed),
                (Step::Accept, Completed) => Some(Accepted),
                (Step::Announce, Accepted) => Some(Accepted),
                _ => None,
            }
        };
        for (step, ..) in STEPS {
            for from in STAGES {
                match expected(step, from) {
                    Some(to) => assert_eq!(next(from, step), Ok(to), "{step:?} from {from:?}"),
                    None => {
                        let why = next(from, step).expect_err("refused");
                        assert!(why.contains(stage_name(from)), "{why}");
                    }
                }
            }
        }
        assert_eq!(
            next(InProgress, Step::Start),
            Err("the project is in stage IN_PROGRESS; only a project in stage APPROVED can be started".into())
        );
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn announcements_are_due_twenty_working_days_after_acceptance() {
        // Monday 2 November 2026: four weeks of working days later.
        assert_eq!(announcement_due_on(day(2026, 11, 2)), day(2026, 11, 30));
        // Friday, Saturday and Sunday acceptances share a due day.
        assert_eq!(announcement_due_on(day(2026, 11, 6)), day(2026, 12, 4));
        assert_eq!(announcement_due_on(day(2026, 11, 7)), day(2026, 12, 4));
        assert_eq!(announcement_due_on(day(2026, 11, 8)), day(2026, 12, 4));
    }

    #[test]
    fn the_overdue_cut_off_matches_the_due_day_of_every_acceptance() {
        for offset in 0..14 {
            let today = day(2026, 11, 23) + Days::new(offset);
            let cut_off = last_overdue_acceptance(today);
            for back in 0..60 {
                let accepted = today - Days::new(back);
                assert_eq!(
                    accepted <= cut_off,
                    announcement_due_on(accepted) < today,
                    "accepted {accepted}, today {today}"
                );
            }
        }
    }
}
