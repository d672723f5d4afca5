//! How a township's figures become points: each indicator earns its weight in
//! proportion to how far its target is reached, capped at the weight.

use entity::enums::IndicatorKind;
use serde::{Deserialize, Serialize};

/// One indicator of a township's score, as stored with the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub kind: IndicatorKind,
    pub weight: i32,
    pub target: f64,
    /// The township's rate; none when there was nothing to measure.
    pub value: Option<f64>,
    pub points: f64,
}

/// Whether reaching the target means staying at or under it (error rates).
pub fn lower_is_better(kind: IndicatorKind) -> bool {
    matches!(
        kind,
        IndicatorKind::WrongfulExitRate | IndicatorKind::MissedInclusionRate
    )
}

/// The points an indicator earns: its weight times how far the target is
/// reached (at most fully); nothing when nothing was measured.
pub fn points(kind: IndicatorKind, weight: i32, target: f64, value: Option<f64>) -> f64 {
    let Some(value) = value else {
        return 0.0;
    };
    let reached = if lower_is_better(kind) {
        if value <= target { 1.0 } else { target / value }
    } else {
        (value / target).min(1.0)
    };
    f64::from(weight) * reached
}

/// Ranks by score, highest first; equal scores share a rank (1, 2, 2, 4).
pub fn ranks(scores: &[f64]) -> Vec<i32> {
    scores
        .iter()
        .map(|score| 1 + scores.iter().filter(|other| *other > score).count() as i32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_grow_to_the_target_and_stop_there() {
        let exit = IndicatorKind::ExitRate;
        assert_eq!(points(exit, 30, 0.5, Some(0.25)), 15.0);
        assert_eq!(points(exit, 30, 0.5, Some(0.9)), 30.0);
        assert_eq!(points(exit, 30, 0.5, None), 0.0);
    }

    #[test]
    fn error_rates_earn_all_at_or_under_the_target() {
        let wrong = IndicatorKind::WrongfulExitRate;
        assert_eq!(points(wrong, 10, 0.02, Some(0.0)), 10.0);
        assert_eq!(points(wrong, 10, 0.02, Some(0.02)), 10.0);
        assert_eq!(points(wrong, 10, 0.02, Some(0.04)), 5.0);
    }

    #[test]
    fn equal_scores_share_a_rank() {
        assert_eq!(ranks(&[50.0, 80.0, 50.0, 20.0]), [2, 1, 2, 4]);
    }
}
