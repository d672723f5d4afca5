//! The status machine of a household (贫困状态流转): one table of what each
//! action may do from each status and monitoring state. Every lifecycle
//! mutation asks it first, so that a refused action reads the same everywhere.

use entity::enums::{HouseholdStatus, MonitoringCategory, StatusAction};

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

fn category_name(category: MonitoringCategory) -> &'static str {
    match category {
        MonitoringCategory::Unstable => "UNSTABLE",
        MonitoringCategory::Marginal => "MARGINAL",
        MonitoringCategory::SuddenDifficulty => "SUDDEN_DIFFICULTY",
    }
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
