//! Assessment of townships and helper units (考核评估): the county sets each
//! year's indicators with weights and targets, records field checks and
//! surveys, and runs the assessment once the year is over. Scores come from
//! the same figures as the statistics (measured by the caller, [`Measured`]);
//! results are stored and never recomputed, so a past year's ranking stays as
//! it was.

pub mod score;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{CheckKind, IndicatorKind, RegionLevel};
use entity::{assessment_indicator, assessment_result, field_check, region, unit_pairing};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use self::score::{Scored, points, ranks};
use super::calendar;
use super::node::global_id;
use super::text::optional_free_text;
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};

/// Targeted poverty alleviation began in 2014.
const FIRST_YEAR: i32 = 2014;
/// The weights of a year's indicators add up to this.
const TOTAL_WEIGHT: i32 = 100;
const MAX_NOTE_CHARS: usize = 500;

fn check_year(year: i32, last: i32) -> ApiResult<i32> {
    if !(FIRST_YEAR..=last).contains(&year) {
        return Err(ApiError::bad_input(
            "year",
            format!("assessment years are {FIRST_YEAR} to {last}"),
        ));
    }
    Ok(year)
}

/// `numerator` of `denominator`; none when there is nothing to measure.
pub fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// The rates of the indicators the statistics measure, for some villages together.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rates {
    pub exit_rate: Option<f64>,
    pub plan_completion: Option<f64>,
    pub pairing_coverage: Option<f64>,
    pub fund_utilisation: Option<f64>,
}

/// A year's figures by village, as the statistics gather them.
pub trait Measured {
    /// The rates of the villages with these code prefixes, taken together
    /// (a project they share counts once).
    fn rates<'a>(&self, villages: impl IntoIterator<Item = &'a str>) -> Rates;
}

/// A township's rate for an indicator, from its figures and its checks.
fn value_of(
    kind: IndicatorKind,
    rates: &Rates,
    checks: &HashMap<CheckKind, (i64, i64)>,
) -> Option<f64> {
    let checked = |kind: CheckKind| checks.get(&kind).and_then(|(s, found)| ratio(*found, *s));
    match kind {
        IndicatorKind::ExitRate => rates.exit_rate,
        IndicatorKind::PlanCompletion => rates.plan_completion,
        IndicatorKind::PairingCoverage => rates.pairing_coverage,
        IndicatorKind::FundUtilisation => rates.fund_utilisation,
        IndicatorKind::WrongfulExitRate => checked(CheckKind::WrongfulExit),
        IndicatorKind::MissedInclusionRate => checked(CheckKind::MissedInclusion),
        IndicatorKind::PublicRecognition => checked(CheckKind::Recognition),
        IndicatorKind::HelperSatisfaction => checked(CheckKind::Satisfaction),
    }
}

/// The first and last day of a year.
fn year_bounds(year: i32) -> ApiResult<(NaiveDate, NaiveDate)> {
    match (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) {
        (Some(first), Some(last)) => Ok((first, last)),
        _ => Err(ApiError::bad_input("year", format!("{year} is not a year"))),
    }
}

/// What a result ranks: a township, or a helper unit.
#[derive(Clone, Copy)]
enum Assessee {
    Township,
    HelperUnit,
}

/// Points of 100 and what earned them.
type Score = (f64, Vec<Scored>);

/// A score and its breakdown. A township answers every indicator; a helper
/// unit (no `checks`) only those taken from the figures, its points scaled to
/// 100, and none at all when no indicator is taken from the figures.
fn score_of(
    indicators: &[assessment_indicator::Model],
    rates: &Rates,
    checks: Option<&HashMap<CheckKind, (i64, i64)>>,
) -> Option<Score> {
    let no_checks = HashMap::new();
    let breakdown: Vec<Scored> = indicators
        .iter()
        .filter(|i| checks.is_some() || !from_checks(i.kind))
        .map(|i| {
            let value = value_of(i.kind, rates, checks.unwrap_or(&no_checks));
            Scored {
                kind: i.kind,
                weight: i.weight,
                target: i.target,
                value,
                points: points(i.kind, i.weight, i.target, value),
            }
        })
        .collect();
    let weights: i32 = breakdown.iter().map(|s| s.weight).sum();
    if weights == 0 {
        return None;
    }
    let earned: f64 = breakdown.iter().map(|s| s.points).sum();
    Some((
        earned * f64::from(TOTAL_WEIGHT) / f64::from(weights),
        breakdown,
    ))
}

/// Whether an indicator is measured by field checks and surveys of townships.
fn from_checks(kind: IndicatorKind) -> bool {
    matches!(
        kind,
        IndicatorKind::WrongfulExitRate
            | IndicatorKind::MissedInclusionRate
            | IndicatorKind::PublicRecognition
            | IndicatorKind::HelperSatisfaction
    )
}

async fn indicators_of(
    db: &impl ConnectionTrait,
    year: i32,
) -> ApiResult<Vec<assessment_indicator::Model>> {
    Ok(assessment_indicator::Entity::find()
        .filter(assessment_indicator::Column::Year.eq(year))
        .order_by_asc(assessment_indicator::Column::Kind)
        .all(db)
        .await?)
}

async fn assessed(db: &impl ConnectionTrait, year: i32) -> ApiResult<bool> {
    Ok(assessment_result::Entity::find()
        .filter(assessment_result::Column::Year.eq(year))
        .count(db)
        .await?
        > 0)
}

fn already_assessed(year: i32) -> ApiError {
    ApiError::Conflict(format!(
        "{year} has been assessed; its results and indicators stay as they were"
    ))
}

/// One indicator of a year, as the county office sets it.
pub struct NewIndicator {
    pub kind: IndicatorKind,
    pub weight: i32,
    pub target: f64,
}

/// Sets the indicators of a year, replacing those set before, until the year is assessed.
pub async fn set_indicators(
    db: &DatabaseConnection,
    actor: &Actor,
    year: i32,
    indicators: &[NewIndicator],
) -> ApiResult<Vec<assessment_indicator::Model>> {
    let year = check_year(year, calendar::today().year() + 1)?;
    let mut kinds = HashSet::new();
    for (i, indicator) in indicators.iter().enumerate() {
        if !kinds.insert(indicator.kind) {
            return Err(ApiError::bad_input(
                format!("indicators[{i}].kind"),
                "each indicator is given once",
            ));
        }
        if indicator.weight <= 0 {
            return Err(ApiError::bad_input(
                format!("indicators[{i}].weight"),
                "a weight is more than 0",
            ));
        }
        if !(indicator.target > 0.0 && indicator.target <= 1.0) {
            return Err(ApiError::bad_input(
                format!("indicators[{i}].target"),
                "a target is a rate, more than 0 and at most 1",
            ));
        }
    }
    let total: i32 = indicators.iter().map(|i| i.weight).sum();
    if total != TOTAL_WEIGHT {
        return Err(ApiError::bad_input(
            "indicators",
            format!("the weights add up to {total}; they must add up to {TOTAL_WEIGHT}"),
        ));
    }
    let txn = write::begin(db).await?;
    if assessed(&txn, year).await? {
        return Err(already_assessed(year));
    }
    let before = indicators_of(&txn, year).await?;
    assessment_indicator::Entity::delete_many()
        .filter(assessment_indicator::Column::Year.eq(year))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    for indicator in indicators {
        assessment_indicator::ActiveModel {
            year: Set(year),
            kind: Set(indicator.kind),
            weight: Set(indicator.weight),
            target: Set(indicator.target),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let after = indicators_of(&txn, year).await?;
    let shape = |rows: &[assessment_indicator::Model]| {
        json!(
            rows.iter()
                .map(|r| json!({ "kind": r.kind, "weight": r.weight, "target": r.target }))
                .collect::<Vec<_>>()
        )
    };
    let change = Change {
        action: "assessment.indicators",
        entity_type: "AssessmentYear",
        entity_id: i64::from(year),
        before: Some(json!({ "indicators": shape(&before) })),
        after: Some(json!({ "indicators": shape(&after) })),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// A field check or survey of a township, as it was recorded.
pub struct NewFieldCheck {
    pub township_id: i64,
    pub year: i32,
    pub kind: CheckKind,
    pub sampled: i32,
    pub found: i32,
    pub checked_on: NaiveDate,
    pub note: Option<String>,
}

/// Records a field check or survey of a township the caller sees.
pub async fn record_field_check(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    new: NewFieldCheck,
) -> ApiResult<field_check::Model> {
    let user_id = viewer.user()?.id;
    let today = calendar::today();
    let year = check_year(new.year, today.year())?;
    if new.sampled <= 0 {
        return Err(ApiError::bad_input("sampled", "at least one is checked"));
    }
    if !(0..=new.sampled).contains(&new.found) {
        return Err(ApiError::bad_input(
            "found",
            "found is between 0 and the number checked",
        ));
    }
    if new.checked_on > today {
        return Err(ApiError::bad_input(
            "checkedOn",
            "a check is not in the future",
        ));
    }
    let note = optional_free_text("note", new.note.as_deref(), MAX_NOTE_CHARS)?;
    let township = access::select::<region::Entity>(viewer)
        .filter(region::Column::Id.eq(new.township_id))
        .one(db)
        .await?
        .filter(|r| r.level == RegionLevel::Township)
        .ok_or_else(|| ApiError::not_found("Township"))?;
    let request = json!({
        "township": township.id, "year": year, "kind": new.kind, "sampled": new.sampled,
        "found": new.found, "checkedOn": new.checked_on, "note": note,
    });
    write::create::<field_check::Entity, _>(
        db,
        actor,
        key,
        "recordFieldCheck",
        &request,
        async |txn| {
            if assessed(txn, year).await? {
                return Err(already_assessed(year));
            }
            let check = field_check::ActiveModel {
                year: Set(year),
                township_id: Set(township.id),
                kind: Set(new.kind),
                sampled: Set(new.sampled),
                found: Set(new.found),
                checked_on: Set(new.checked_on),
                note: Set(note.unwrap_or_default()),
                recorded_by: Set(Some(user_id)),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Ok(Created::new(
                check.id,
                "assessment.field_check",
                "FieldCheck",
                request.clone(),
                check,
            ))
        },
    )
    .await
}

/// Scores and ranks every township of the county, and every helper unit,
/// for a past or the current year by that year's indicators, and keeps the
/// results; a year is assessed once. `gather` gives the year's figures by
/// village of the county whose code prefix it is given. Returns the
/// townships' results, best first.
pub async fn run<M: Measured>(
    db: &DatabaseConnection,
    actor: &Actor,
    year: i32,
    gather: impl AsyncFnOnce(&DatabaseTransaction, &str) -> ApiResult<M>,
) -> ApiResult<Vec<assessment_result::Model>> {
    let year = check_year(year, calendar::today().year())?;
    let txn = write::begin(db).await?;
    if assessed(&txn, year).await? {
        return Err(already_assessed(year));
    }
    let indicators = indicators_of(&txn, year).await?;
    if indicators.is_empty() {
        return Err(ApiError::bad_input(
            "year",
            format!("no indicators are set for {year}"),
        ));
    }
    let county = region::Entity::find()
        .filter(region::Column::Level.eq(RegionLevel::County))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("County"))?;
    // Figures by village; a township's or a unit's are its villages' together.
    let gathered = gather(&txn, access::code_prefix(&county)).await?;
    let villages = region::Entity::find()
        .filter(region::Column::Level.eq(RegionLevel::Village))
        .all(&txn)
        .await?;
    let code_of: HashMap<i64, &str> = villages
        .iter()
        .map(|v| (v.id, access::code_prefix(v)))
        .collect();
    let mut checks: HashMap<(i64, CheckKind), (i64, i64)> = HashMap::new();
    for check in field_check::Entity::find()
        .filter(field_check::Column::Year.eq(year))
        .all(&txn)
        .await?
    {
        let sums = checks.entry((check.township_id, check.kind)).or_default();
        sums.0 += i64::from(check.sampled);
        sums.1 += i64::from(check.found);
    }

    let townships = region::Entity::find()
        .filter(region::Column::Level.eq(RegionLevel::Township))
        .order_by_asc(region::Column::Code)
        .all(&txn)
        .await?;
    let mut by_township = Vec::new();
    for township in &townships {
        let parts = villages
            .iter()
            .filter(|v| v.parent_id == Some(township.id))
            .map(access::code_prefix);
        let rates = gathered.rates(parts);
        let own: HashMap<CheckKind, (i64, i64)> = checks
            .iter()
            .filter(|((id, _), _)| *id == township.id)
            .map(|((_, kind), sums)| (*kind, *sums))
            .collect();
        by_township.push((township.id, score_of(&indicators, &rates, Some(&own))));
    }

    // A helper unit is scored on the villages it helped during the year.
    let (first_day, last_day) = year_bounds(year)?;
    let pairings = unit_pairing::Entity::find()
        .filter(unit_pairing::Column::StartedOn.lte(last_day))
        .filter(
            Condition::any()
                .add(unit_pairing::Column::EndedOn.is_null())
                .add(unit_pairing::Column::EndedOn.gte(first_day)),
        )
        .all(&txn)
        .await?;
    let mut helped: BTreeMap<i64, HashSet<&str>> = BTreeMap::new();
    for pairing in &pairings {
        if let Some(code) = code_of.get(&pairing.village_id) {
            helped.entry(pairing.unit_id).or_default().insert(code);
        }
    }
    let by_unit: Vec<(i64, Option<Score>)> = helped
        .into_iter()
        .map(|(unit, parts)| {
            let rates = gathered.rates(parts);
            (unit, score_of(&indicators, &rates, None))
        })
        .collect();

    let now = Utc::now();
    let mut results = Vec::new();
    for (assessee, scored) in [
        (Assessee::Township, by_township),
        (Assessee::HelperUnit, by_unit),
    ] {
        let scored: Vec<(i64, f64, Vec<Scored>)> = scored
            .into_iter()
            .filter_map(|(id, score)| score.map(|(total, breakdown)| (id, total, breakdown)))
            .collect();
        let totals: Vec<f64> = scored.iter().map(|(_, total, _)| *total).collect();
        for ((id, total, breakdown), rank) in scored.into_iter().zip(ranks(&totals)) {
            let breakdown = serde_json::to_string(&breakdown)
                .map_err(|e| ApiError::Internal(format!("breakdown: {e}")))?;
            let (township_id, helper_unit_id) = match assessee {
                Assessee::Township => (Some(id), None),
                Assessee::HelperUnit => (None, Some(id)),
            };
            let result = assessment_result::ActiveModel {
                year: Set(year),
                township_id: Set(township_id),
                helper_unit_id: Set(helper_unit_id),
                score: Set(total),
                rank: Set(rank),
                breakdown: Set(breakdown),
                computed_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            results.push(result);
        }
    }
    let change = Change {
        action: "assessment.run",
        entity_type: "AssessmentYear",
        entity_id: i64::from(year),
        before: None,
        after: Some(json!({
            "ranking": results.iter().map(|r| json!({
                "township": r.township_id.map(|id| global_id("Township", id)),
                "helperUnit": r.helper_unit_id.map(|id| global_id("HelperUnit", id)),
                "score": r.score,
                "rank": r.rank,
            })).collect::<Vec<_>>(),
        })),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    results.retain(|r| r.township_id.is_some());
    results.sort_by_key(|r| (r.rank, r.township_id));
    Ok(results)
}
