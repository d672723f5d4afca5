//! The status machine of a household (贫困状态流转): one table of what each
//! action may do from each status and monitoring state. Every lifecycle
//! mutation asks it first, and a provincial file's status history is replayed
//! through it, so that a status can only be reached the way the procedure
//! reaches it and a refused action reads the same everywhere.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::enums::{HouseholdStatus, MonitoringCategory, ProposalStage, StatusAction};
use entity::{household, objection, proposal, status_change};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};

use super::{calendar, card, notice, text};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};

/// Stages in which a proposal is still in progress.
pub const OPEN_STAGES: [ProposalStage; 2] = [ProposalStage::Notice, ProposalStage::TownshipChecked];

/// The stage as messages name it.
pub fn stage_name(stage: ProposalStage) -> &'static str {
    match stage {
        ProposalStage::Notice => "NOTICE",
        ProposalStage::TownshipChecked => "TOWNSHIP_CHECKED",
        ProposalStage::Approved => "APPROVED",
        ProposalStage::Rejected => "REJECTED",
        ProposalStage::Withdrawn => "WITHDRAWN",
    }
}

/// What a proposal's notices brought, once the last it had is over: its
/// objections, none of them unresolved. Refuses while the notice is up or an objection is open, so
/// that neither the township's check nor the county's decision comes before
/// everyone had their say.
pub async fn notice_over(
    db: &impl ConnectionTrait,
    proposal: &proposal::Model,
    today: NaiveDate,
    what: &str,
) -> ApiResult<Vec<objection::Model>> {
    // The last notice it had: the township's once it has one, else the village's.
    let ends_on = proposal
        .township_notice_ends_on
        .unwrap_or(proposal.notice_ends_on);
    notice::check_ended(ends_on, today, "proposalId", what)?;
    let objections = objection::Entity::find()
        .filter(objection::Column::ProposalId.eq(proposal.id))
        .order_by_asc(objection::Column::Id)
        .all(db)
        .await?;
    let open = objections.iter().filter(|o| o.upheld.is_none()).count();
    if open > 0 {
        return Err(ApiError::bad_input(
            "proposalId",
            format!(
                "{open} objection(s) to the notice are not resolved yet; {what} after they are"
            ),
        ));
    }
    Ok(objections)
}

/// The open proposal of a household, if any.
pub async fn open_proposal(
    db: &impl ConnectionTrait,
    household_id: i64,
) -> ApiResult<Option<proposal::Model>> {
    Ok(proposal::Entity::find()
        .filter(proposal::Column::HouseholdId.eq(household_id))
        .filter(proposal::Column::Stage.is_in(OPEN_STAGES))
        .order_by_desc(proposal::Column::Id)
        .one(db)
        .await?)
}

/// Where a household stands: its status and whether it is monitored now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub status: HouseholdStatus,
    pub monitoring: Option<MonitoringCategory>,
}

/// What is asked of a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Identify as poor and enrol (识别纳入), by a decided proposal.
    Identify,
    /// Certify lifted out (脱贫退出), by a decided proposal.
    Exit,
    /// Return to poverty (返贫).
    ReturnToPoverty,
    /// Remove as wrongly included (清退).
    Remove,
    /// Enter monitoring in a category (纳入监测).
    StartMonitoring(MonitoringCategory),
    /// Mark the monitored risk eliminated (风险消除).
    EliminateRisk,
}

impl Action {
    /// The action as the status history records it.
    pub fn recorded_as(self) -> StatusAction {
        match self {
            Action::Identify => StatusAction::Enrolled,
            Action::Exit => StatusAction::LiftedOut,
            Action::ReturnToPoverty => StatusAction::Returned,
            Action::Remove => StatusAction::Removed,
            Action::StartMonitoring(_) => StatusAction::MonitoringStarted,
            Action::EliminateRisk => StatusAction::RiskEliminated,
        }
    }

    fn describe(self) -> String {
        match self {
            Action::Identify => "be identified and enrolled".into(),
            Action::Exit => "exit poverty".into(),
            Action::ReturnToPoverty => "return to poverty".into(),
            Action::Remove => "be removed".into(),
            Action::StartMonitoring(category) => {
                format!("enter monitoring as {}", category_name(category))
            }
            Action::EliminateRisk => "have its risk eliminated".into(),
        }
    }
}

/// The status as messages name it.
pub fn status_name(status: HouseholdStatus) -> &'static str {
    match status {
        HouseholdStatus::Enrolled => "ENROLLED",
        HouseholdStatus::LiftedOut => "LIFTED_OUT",
        HouseholdStatus::Returned => "RETURNED",
        HouseholdStatus::Removed => "REMOVED",
        HouseholdStatus::NotPoor => "NOT_POOR",
    }
}

pub fn category_name(category: MonitoringCategory) -> &'static str {
    match category {
        MonitoringCategory::Unstable => "UNSTABLE",
        MonitoringCategory::Marginal => "MARGINAL",
        MonitoringCategory::SuddenDifficulty => "SUDDEN_DIFFICULTY",
    }
}

/// The action a recorded change stands for; `None` for the filing itself.
fn action_of(recorded: StatusAction, to_monitoring: Option<MonitoringCategory>) -> Option<Action> {
    Some(match recorded {
        StatusAction::Filed => return None,
        StatusAction::Enrolled => Action::Identify,
        StatusAction::LiftedOut => Action::Exit,
        StatusAction::Returned => Action::ReturnToPoverty,
        StatusAction::Removed => Action::Remove,
        // A start without a category is refused by the comparison of where it ends.
        StatusAction::MonitoringStarted => {
            Action::StartMonitoring(to_monitoring.unwrap_or(MonitoringCategory::Unstable))
        }
        StatusAction::RiskEliminated => Action::EliminateRisk,
    })
}

/// What a card says of a household's status, which only the procedure moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub state: State,
    /// The year it was identified as poor (识别年度).
    pub enrolled_year: Option<i32>,
    /// The year it was certified lifted out (脱贫年度).
    pub lifted_out_year: Option<i32>,
}

impl Standing {
    /// A household as it is put on file (建档): not poor, never enrolled.
    pub const FILED: Standing = Standing {
        state: State {
            status: HouseholdStatus::NotPoor,
            monitoring: None,
        },
        enrolled_year: None,
        lifted_out_year: None,
    };
}

/// A status change as a record from elsewhere documents it (a provincial
/// file): when, what, from where to where, and on whose decision.
#[derive(Debug, Clone, Copy)]
pub struct Documented<'a> {
    pub at: DateTime<Utc>,
    pub action: StatusAction,
    pub from_status: Option<HouseholdStatus>,
    pub from_monitoring: Option<MonitoringCategory>,
    pub to_status: HouseholdStatus,
    pub to_monitoring: Option<MonitoringCategory>,
    /// The year of an enrolment or exit.
    pub year: Option<i32>,
    /// The reference of the decision behind an enrolment or exit (决定文号).
    pub decision: Option<&'a str>,
    pub reason: &'a str,
    pub actor: &'a str,
}

/// Why a documented change cannot be applied: which entry, which of its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The entry's place among those replayed.
    pub entry: usize,
    pub field: &'static str,
    pub reason: String,
}

/// Longest decision reference, in characters.
pub const MAX_DECISION_CHARS: usize = 200;
/// Longest reason of a change, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Replays documented changes, oldest first, from where a household stands:
/// each must be a move the table allows from where the one before left it, and
/// an enrolment or exit must name its year and the decision that made it.
/// Returns where the household stands afterwards.
pub fn replay(from: Standing, entries: &[Documented<'_>]) -> Result<Standing, Refusal> {
    let now = Utc::now();
    let mut standing = from;
    for (entry, change) in entries.iter().enumerate() {
        let refuse = |field: &'static str, reason: String| Refusal {
            entry,
            field,
            reason,
        };
        if change.at > now {
            return Err(refuse(
                "at",
                "a change cannot be dated in the future".into(),
            ));
        }
        if change.actor.trim().is_empty() || change.reason.trim().is_empty() {
            return Err(refuse(
                "reason",
                "a change names who made it and why".into(),
            ));
        }
        if change.reason.chars().count() > MAX_REASON_CHARS {
            return Err(refuse(
                "reason",
                format!("a reason has at most {MAX_REASON_CHARS} characters"),
            ));
        }
        if let Some(refusal) = text::personal_number_refusal("reason", change.reason) {
            return Err(refuse("reason", refusal));
        }
        let Some(action) = action_of(change.action, change.to_monitoring) else {
            // The filing opens a history: nothing stands before it.
            if entry > 0 || from != Standing::FILED || change.from_status.is_some() {
                return Err(refuse(
                    "action",
                    "FILED opens a new household's history and nothing else".into(),
                ));
            }
            if change.to_status != HouseholdStatus::NotPoor || change.to_monitoring.is_some() {
                return Err(refuse(
                    "toStatus",
                    "a household is filed as NOT_POOR".into(),
                ));
            }
            continue;
        };
        if change.from_status != Some(standing.state.status)
            || change.from_monitoring != standing.state.monitoring
        {
            return Err(refuse(
                "fromStatus",
                format!(
                    "the household stood at {}{} before this change",
                    status_name(standing.state.status),
                    standing
                        .state
                        .monitoring
                        .map(|c| format!(", monitored as {}", category_name(c)))
                        .unwrap_or_default()
                ),
            ));
        }
        let to = next(standing.state, action).map_err(|why| refuse("action", why))?;
        if (to.status, to.monitoring) != (change.to_status, change.to_monitoring) {
            return Err(refuse(
                "toStatus",
                format!(
                    "this change leads to {}{}",
                    status_name(to.status),
                    to.monitoring
                        .map(|c| format!(", monitored as {}", category_name(c)))
                        .unwrap_or_default()
                ),
            ));
        }
        standing.state = to;
        if let Action::Identify | Action::Exit = action {
            let documented = change
                .decision
                .map(str::trim)
                .is_some_and(|d| !d.is_empty() && d.chars().count() <= MAX_DECISION_CHARS);
            if !documented {
                return Err(refuse(
                    "decision",
                    format!(
                        "an enrolment or exit names the decision that made it (决定文号), in 1 to {MAX_DECISION_CHARS} characters"
                    ),
                ));
            }
            let Some(year) = change.year else {
                return Err(refuse("year", "an enrolment or exit names its year".into()));
            };
            if year > calendar::day_of(change.at).year() {
                return Err(refuse(
                    "year",
                    format!("the year {year} is after the change was made"),
                ));
            }
            if action == Action::Identify {
                standing.enrolled_year = Some(year);
            } else {
                if let Some(why) = exit_before_enrolment(standing.enrolled_year, year) {
                    return Err(refuse("year", why));
                }
                standing.lifted_out_year = Some(year);
            }
        }
    }
    Ok(standing)
}

/// Why an exit in `year` cannot be: a household exits no earlier than the year
/// it was enrolled.
pub fn exit_before_enrolment(enrolled_year: Option<i32>, year: i32) -> Option<String> {
    let enrolled = enrolled_year.filter(|enrolled| year < *enrolled)?;
    Some(format!(
        "the exit year {year} is before the household was enrolled, in {enrolled}"
    ))
}

/// The state `action` leads to from `from`, or why it may not be taken; the
/// reason names the current status and the action.
pub fn next(from: State, action: Action) -> Result<State, String> {
    use HouseholdStatus::{Enrolled, LiftedOut, NotPoor, Removed, Returned};
    use MonitoringCategory::{Marginal, SuddenDifficulty, Unstable};
    let refuse = |why: &str| {
        let monitored = from
            .monitoring
            .map(|c| format!(", monitored as {}", category_name(c)))
            .unwrap_or_default();
        Err(format!(
            "a household in status {}{monitored} cannot {}: {why}",
            status_name(from.status),
            action.describe()
        ))
    };
    let to = |status| {
        Ok(State {
            status,
            monitoring: from.monitoring,
        })
    };
    match (action, from.status) {
        (Action::Identify, NotPoor) if from.monitoring.is_some() => refuse(
            "it is helped through monitoring; eliminate its risk before proposing to enrol it",
        ),
        (Action::Identify, NotPoor) => to(Enrolled),
        (Action::Identify, _) => refuse("only a household on file as not poor can be enrolled"),
        (Action::Exit, Enrolled | Returned) => to(LiftedOut),
        (Action::Exit, _) => refuse("only an enrolled or returned household can exit"),
        (Action::ReturnToPoverty, LiftedOut) => to(Returned),
        (Action::ReturnToPoverty, _) => {
            refuse("only a household lifted out of poverty can return to it")
        }
        (Action::Remove, Removed) => refuse("it is already removed"),
        (Action::Remove, _) => Ok(State {
            status: Removed,
            monitoring: None,
        }),
        (Action::StartMonitoring(_), _) if from.monitoring.is_some() => {
            refuse("it is already monitored")
        }
        (Action::StartMonitoring(_), Enrolled | Returned) => {
            refuse("it is poor already and helped as such")
        }
        (Action::StartMonitoring(_), Removed) => refuse("it is removed from the register"),
        (Action::StartMonitoring(category), status) => {
            let fits = match category {
                Unstable => status == LiftedOut,
                Marginal => status == NotPoor,
                SuddenDifficulty => matches!(status, LiftedOut | NotPoor),
            };
            if !fits {
                return refuse(match category {
                    Unstable => "UNSTABLE is for households lifted out of poverty",
                    Marginal => "MARGINAL is for households that were never poor",
                    SuddenDifficulty => {
                        "SUDDEN_DIFFICULTY is for lifted-out or not-poor households"
                    }
                });
            }
            Ok(State {
                status,
                monitoring: Some(category),
            })
        }
        (Action::EliminateRisk, _) if from.monitoring.is_none() => refuse("it is not monitored"),
        (Action::EliminateRisk, status) => Ok(State {
            status,
            monitoring: None,
        }),
    }
}

/// The state the status machine leads a household to, or BAD_USER_INPUT saying why not.
pub fn next_state(household: &household::Model, action: Action, field: &str) -> ApiResult<State> {
    next(
        State {
            status: household.status,
            monitoring: household.monitoring,
        },
        action,
    )
    .map_err(|why| ApiError::bad_input(field, why))
}

/// What a status change is, besides the state it leads to.
pub struct StatusChangeOf<'a> {
    pub action: Action,
    pub to: State,
    /// The year of an enrolment or an exit.
    pub year: Option<i32>,
    pub reason: &'a str,
    pub proposal_id: Option<i64>,
}

/// Applies a status or monitoring change to a locked household: the card
/// revisions around it, the new row with its version bumped, the history row
/// and the audit entry, all in `txn`.
pub async fn change_status(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: &household::Model,
    change: StatusChangeOf<'_>,
) -> ApiResult<household::Model> {
    card::keep_before_change(txn, before.id).await?;
    let now = Utc::now();
    let mut row: household::ActiveModel = before.clone().into();
    row.status = Set(change.to.status);
    row.monitoring = Set(change.to.monitoring);
    match change.action {
        Action::Identify => row.enrolled_year = Set(change.year),
        Action::Exit => row.lifted_out_year = Set(change.year),
        _ => {}
    }
    row.version = Set(before.version + 1);
    row.updated_at = Set(now);
    let after = row.update(txn).await?;
    card::record_change(txn, before.id).await?;
    let recorded = change.action.recorded_as();
    status_change::ActiveModel {
        household_id: Set(before.id),
        action: Set(recorded),
        from_status: Set(Some(before.status)),
        to_status: Set(after.status),
        from_monitoring: Set(before.monitoring),
        to_monitoring: Set(after.monitoring),
        year: Set(change.year),
        reason: Set(change.reason.to_owned()),
        proposal_id: Set(change.proposal_id),
        actor_id: Set(actor.user_id),
        actor: Set(actor.name.clone()),
        at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let action = format!("household.{}", recorded.to_value());
    let audited = Change {
        action: &action,
        entity_type: "Household",
        entity_id: before.id,
        before: Some(card::household_snapshot(before)),
        after: Some(card::household_snapshot(&after)),
    };
    audit::record(txn, actor, audited).await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use HouseholdStatus::*;
    use MonitoringCategory::*;

    fn state(status: HouseholdStatus) -> State {
        State {
            status,
            monitoring: None,
        }
    }

    #[test]
    fn the_table_of_statuses_and_actions() {
        let statuses = [Enrolled, LiftedOut, Returned, Removed, NotPoor];
        let expected = |action: Action, status| -> Option<HouseholdStatus> {
            match (action, status) {
                (Action::Identify, NotPoor) => Some(Enrolled),
                (Action::Exit, Enrolled | Returned) => Some(LiftedOut),
                (Action::ReturnToPoverty, LiftedOut) => Some(Returned),
                (Action::Remove, s) if s != Removed => Some(Removed),
                (Action::StartMonitoring(Unstable), LiftedOut) => Some(LiftedOut),
                (Action::StartMonitoring(Marginal), NotPoor) => Some(NotPoor),
                (Action::StartMonitoring(SuddenDifficulty), s @ (LiftedOut | NotPoor)) => Some(s),
                _ => None,
            }
        };
        let actions = [
            Action::Identify,
            Action::Exit,
            Action::ReturnToPoverty,
            Action::Remove,
            Action::StartMonitoring(Unstable),
            Action::StartMonitoring(Marginal),
            Action::StartMonitoring(SuddenDifficulty),
            Action::EliminateRisk,
        ];
        for status in statuses {
            for action in actions {
                let got = next(state(status), action);
                match expected(action, status) {
                    Some(to) => assert_eq!(got.map(|s| s.status), Ok(to), "{status:?} {action:?}"),
                    None => {
                        let why = got.expect_err("refused");
                        assert!(why.contains(status_name(status)), "{why}");
                    }
                }
            }
        }
    }

    #[test]
    fn monitoring_starts_once_and_ends_by_elimination_or_removal() {
        let watched = next(state(LiftedOut), Action::StartMonitoring(Unstable)).expect("starts");
        assert_eq!(watched.monitoring, Some(Unstable));
        let again = next(watched, Action::StartMonitoring(SuddenDifficulty));
        assert!(again.expect_err("refused").contains("already monitored"));
        assert_eq!(
            next(watched, Action::ReturnToPoverty).map(|s| s.monitoring),
            Ok(Some(Unstable))
        );
        assert_eq!(
            next(watched, Action::EliminateRisk).map(|s| s.monitoring),
            Ok(None)
        );
        assert_eq!(
            next(watched, Action::Remove).map(|s| s.monitoring),
            Ok(None)
        );
        assert!(next(state(LiftedOut), Action::EliminateRisk).is_err());
        let marginal = next(state(NotPoor), Action::StartMonitoring(Marginal)).expect("starts");
        assert!(next(marginal, Action::Identify).is_err());
    }
}
