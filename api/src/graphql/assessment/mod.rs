//! Assessment of townships (考核评估): the county sets each year's indicators
//! with weights and targets, records field checks and surveys, and runs the
//! assessment once the year is over. Scores come from the same figures as the
//! statistics; results are stored and never recomputed, so a past year's
//! ranking stays as it was. A township's cadres see their own result.

mod score;

use std::collections::{BTreeMap, HashMap, HashSet};

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{CheckKind, IndicatorKind, RegionLevel};
use entity::{assessment_indicator, assessment_result, field_check, region, unit_pairing};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use self::score::{Scored, points, ranks};
use super::pairing::unit::HelperUnit;
use super::region::{Township, find_region};
use super::relay::{NodeKind, global_id};
use super::statistics::figures::{self, Figures, POOR, REGISTERED};
use super::{actor, db, optional_text, viewer};
use crate::access;
use crate::audit::{self, Change};
use crate::domain::calendar;
use crate::domain::write::{self, Created};
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

/// An indicator of a year (考核指标).
#[derive(SimpleObject)]
pub struct AssessmentIndicator {
    /// The indicator (指标).
    kind: IndicatorKind,
    /// Points of 100 (权重).
    weight: i32,
    /// The rate to reach, 0 to 1: at least it, or for error rates at most it (目标值).
    target: f64,
    /// Whether reaching the target means staying at or under it (是否越低越好).
    lower_is_better: bool,
}

impl From<assessment_indicator::Model> for AssessmentIndicator {
    fn from(m: assessment_indicator::Model) -> Self {
        Self {
            kind: m.kind,
            weight: m.weight,
            target: m.target,
            lower_is_better: score::lower_is_better(m.kind),
        }
    }
}

/// What an indicator earned a township (指标得分).
#[derive(SimpleObject)]
pub struct IndicatorScore {
    /// The indicator (指标).
    kind: IndicatorKind,
    /// Its weight (权重).
    weight: i32,
    /// Its target (目标值).
    target: f64,
    /// The township's rate; null when there was nothing to measure (实际值).
    value: Option<f64>,
    /// Points earned, at most the weight (得分).
    points: f64,
}

pub struct AssessmentResult(assessment_result::Model);

/// A township's result of a year's assessment (考核结果).
#[Object]
impl AssessmentResult {
    /// The year assessed (考核年度).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// The township assessed, for a township's result (乡镇).
    async fn township(&self, ctx: &Context<'_>) -> ApiResult<Option<Township>> {
        let Some(id) = self.0.township_id else {
            return Ok(None);
        };
        Ok(super::loaders(ctx)?
            .regions
            .load_one(id)
            .await?
            .map(Township))
    }
    /// The helper unit assessed, for a unit's result (帮扶单位).
    async fn helper_unit(&self, ctx: &Context<'_>) -> ApiResult<Option<HelperUnit>> {
        let Some(id) = self.0.helper_unit_id else {
            return Ok(None);
        };
        Ok(super::loaders(ctx)?
            .helper_units
            .load_one(id)
            .await?
            .map(HelperUnit))
    }
    /// Points of 100 (总分).
    async fn score(&self) -> f64 {
        self.0.score
    }
    /// Rank among the county's townships, or among the helper units, 1 the
    /// highest; equal scores share a rank (排名).
    async fn rank(&self) -> i32 {
        self.0.rank
    }
    /// The points of each indicator (得分明细).
    async fn breakdown(&self) -> ApiResult<Vec<IndicatorScore>> {
        let scored: Vec<Scored> = serde_json::from_str(&self.0.breakdown)
            .map_err(|e| ApiError::Internal(format!("stored breakdown: {e}")))?;
        Ok(scored
            .into_iter()
            .map(|s| IndicatorScore {
                kind: s.kind,
                weight: s.weight,
                target: s.target,
                value: s.value,
                points: s.points,
            })
            .collect())
    }
    /// When it was computed (计算时间).
    async fn computed_at(&self) -> chrono::DateTime<Utc> {
        self.0.computed_at
    }
}

/// One indicator of a year (考核指标设置).
#[derive(InputObject)]
pub struct IndicatorInput {
    /// The indicator (指标).
    kind: IndicatorKind,
    /// Points of 100, more than 0; a year's weights add up to 100 (权重).
    weight: i32,
    /// The rate to reach, more than 0 and at most 1 (目标值).
    target: f64,
}

/// A field check or survey of a township (实地核查或调查).
#[derive(InputObject)]
pub struct RecordFieldCheckInput {
    /// The township (乡镇).
    township_id: ID,
    /// The year it counts for (考核年度).
    year: i32,
    /// What was checked (核查类型).
    kind: CheckKind,
    /// Households or people checked, more than 0 (抽查数).
    sampled: i32,
    /// Of them, those found as the kind says (发现数).
    found: i32,
    /// The day of the check, not in the future (核查日期).
    checked_on: NaiveDate,
    /// Remarks, at most 500 characters (备注).
    note: Option<String>,
    /// Client-chosen key: a retried request records nothing more (幂等键).
    idempotency_key: Option<String>,
}

/// A recorded field check (实地核查记录).
#[derive(SimpleObject)]
pub struct FieldCheck {
    /// Global ID of the township checked (乡镇).
    township_id: ID,
    /// The year it counts for (考核年度).
    year: i32,
    /// What was checked (核查类型).
    kind: CheckKind,
    /// Checked (抽查数).
    sampled: i32,
    /// Found (发现数).
    found: i32,
    /// The day of the check (核查日期).
    checked_on: NaiveDate,
}

impl From<field_check::Model> for FieldCheck {
    fn from(m: field_check::Model) -> Self {
        Self {
            township_id: global_id(NodeKind::Township, m.township_id),
            year: m.year,
            kind: m.kind,
            sampled: m.sampled,
            found: m.found,
            checked_on: m.checked_on,
        }
    }
}

fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// A township's rate for an indicator, from its figures and its checks.
fn value_of(
    kind: IndicatorKind,
    f: &Figures,
    checks: &HashMap<CheckKind, (i64, i64)>,
) -> Option<f64> {
    let checked = |kind: CheckKind| checks.get(&kind).and_then(|(s, found)| ratio(*found, *s));
    match kind {
        IndicatorKind::ExitRate => ratio(f.exits, f.households_in(&POOR) + f.exits),
        IndicatorKind::PlanCompletion => {
            ratio(f.measures.done, f.measures.total - f.measures.cancelled)
        }
        IndicatorKind::PairingCoverage => ratio(f.paired, f.households_in(&REGISTERED)),
        IndicatorKind::FundUtilisation => ratio(f.funds.disbursed, f.funds.allocated),
        IndicatorKind::WrongfulExitRate => checked(CheckKind::WrongfulExit),
        IndicatorKind::MissedInclusionRate => checked(CheckKind::MissedInclusion),
        IndicatorKind::PublicRecognition => checked(CheckKind::Recognition),
        IndicatorKind::HelperSatisfaction => checked(CheckKind::Satisfaction),
    }
}

/// What a ranking ranks (考核对象).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Assessed {
    /// The county's townships (乡镇).
    Townships,
    /// The helper units, on the villages they helped in the year (帮扶单位).
    HelperUnits,
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

/// Points of 100 and what earned them.
type Score = (f64, Vec<Scored>);

/// A score and its breakdown. A township answers every indicator; a helper
/// unit (no `checks`) only those taken from the figures, its points scaled to
/// 100, and none at all when no indicator is taken from the figures.
fn score_of(
    indicators: &[assessment_indicator::Model],
    figures: &Figures,
    checks: Option<&HashMap<CheckKind, (i64, i64)>>,
) -> Option<Score> {
    let no_checks = HashMap::new();
    let breakdown: Vec<Scored> = indicators
        .iter()
        .filter(|i| checks.is_some() || !from_checks(i.kind))
        .map(|i| {
            let value = value_of(i.kind, figures, checks.unwrap_or(&no_checks));
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

#[derive(Default)]
pub struct AssessmentQuery;

#[Object]
impl AssessmentQuery {
    /// The indicators of a year, with weights and targets, for anyone (考核指标).
    async fn assessment_indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (考核年度).")] year: i32,
    ) -> ApiResult<Vec<AssessmentIndicator>> {
        let indicators = access::select::<assessment_indicator::Entity>(viewer(ctx)?)
            .filter(assessment_indicator::Column::Year.eq(year))
            .order_by_asc(assessment_indicator::Column::Kind)
            .all(db(ctx)?)
            .await?;
        Ok(indicators.into_iter().map(Into::into).collect())
    }

    /// The results of a year's assessment, best first (考核结果排名): the county
    /// office, auditors and the province see every township and unit, a
    /// township officer its own township.
    async fn assessment_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (考核年度).")] year: i32,
        #[graphql(
            desc = "Townships or helper units (考核对象).",
            default_with = "Assessed::Townships"
        )]
        of: Assessed,
    ) -> ApiResult<Vec<AssessmentResult>> {
        let kind = match of {
            Assessed::Townships => assessment_result::Column::TownshipId,
            Assessed::HelperUnits => assessment_result::Column::HelperUnitId,
        };
        let results = access::select::<assessment_result::Entity>(viewer(ctx)?)
            .filter(assessment_result::Column::Year.eq(year))
            .filter(kind.is_not_null())
            .order_by_asc(assessment_result::Column::Rank)
            .order_by_asc(assessment_result::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(results.into_iter().map(AssessmentResult).collect())
    }

    /// Field checks and surveys of a year (实地核查记录).
    async fn field_checks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (考核年度).")] year: i32,
    ) -> ApiResult<Vec<FieldCheck>> {
        let checks = access::select::<field_check::Entity>(viewer(ctx)?)
            .filter(field_check::Column::Year.eq(year))
            .order_by_asc(field_check::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(checks.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct AssessmentMutation;

#[Object]
impl AssessmentMutation {
    /// Sets the indicators of a year, replacing those set before, until the
    /// year is assessed (设置考核指标).
    async fn set_assessment_indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (考核年度).")] year: i32,
        #[graphql(desc = "The indicators: distinct, weights adding up to 100 (指标).")]
        indicators: Vec<IndicatorInput>,
    ) -> ApiResult<Vec<AssessmentIndicator>> {
        let actor = actor(ctx)?;
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
        let txn = write::begin(db(ctx)?).await?;
        if assessed(&txn, year).await? {
            return Err(already_assessed(year));
        }
        let before = indicators_of(&txn, year).await?;
        assessment_indicator::Entity::delete_many()
            .filter(assessment_indicator::Column::Year.eq(year))
            .exec(&txn)
            .await?;
        let now = Utc::now();
        for indicator in &indicators {
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
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(after.into_iter().map(Into::into).collect())
    }

    /// Records a field check or survey of a township (录入实地核查).
    async fn record_field_check(
        &self,
        ctx: &Context<'_>,
        input: RecordFieldCheckInput,
    ) -> ApiResult<FieldCheck> {
        let actor = actor(ctx)?;
        let user_id = viewer(ctx)?.user()?.id;
        let today = calendar::today();
        let year = check_year(input.year, today.year())?;
        if input.sampled <= 0 {
            return Err(ApiError::bad_input("sampled", "at least one is checked"));
        }
        if !(0..=input.sampled).contains(&input.found) {
            return Err(ApiError::bad_input(
                "found",
                "found is between 0 and the number checked",
            ));
        }
        if input.checked_on > today {
            return Err(ApiError::bad_input(
                "checkedOn",
                "a check is not in the future",
            ));
        }
        let note = optional_text(input.note.as_deref(), "note", MAX_NOTE_CHARS)?;
        let township =
            find_region(ctx, &input.township_id, "townshipId", &[NodeKind::Township]).await?;
        let request = json!({
            "township": township.id, "year": year, "kind": input.kind, "sampled": input.sampled,
            "found": input.found, "checkedOn": input.checked_on, "note": note,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<field_check::Entity, _>(
            db(ctx)?,
            &actor,
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
                    kind: Set(input.kind),
                    sampled: Set(input.sampled),
                    found: Set(input.found),
                    checked_on: Set(input.checked_on),
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
        .await?;
        Ok(created.into())
    }

    /// Scores and ranks every township of the county, and every helper unit,
    /// for a past or the current year by that year's indicators, and keeps the
    /// results (开展年度考核). A year is assessed once.
    async fn run_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (考核年度).")] year: i32,
    ) -> ApiResult<Vec<AssessmentResult>> {
        let actor = actor(ctx)?;
        let year = check_year(year, calendar::today().year())?;
        let txn = write::begin(db(ctx)?).await?;
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
        let gathered = figures::gather(&txn, access::code_prefix(&county), 12, year).await?;
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
            let figures = gathered.combine(parts);
            let own: HashMap<CheckKind, (i64, i64)> = checks
                .iter()
                .filter(|((id, _), _)| *id == township.id)
                .map(|((_, kind), sums)| (*kind, *sums))
                .collect();
            by_township.push((township.id, score_of(&indicators, &figures, Some(&own))));
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
                let figures = gathered.combine(parts);
                (unit, score_of(&indicators, &figures, None))
            })
            .collect();

        let now = Utc::now();
        let mut results = Vec::new();
        for (assessed_as, scored) in [
            (Assessed::Townships, by_township),
            (Assessed::HelperUnits, by_unit),
        ] {
            let scored: Vec<(i64, f64, Vec<Scored>)> = scored
                .into_iter()
                .filter_map(|(id, score)| score.map(|(total, breakdown)| (id, total, breakdown)))
                .collect();
            let totals: Vec<f64> = scored.iter().map(|(_, total, _)| *total).collect();
            for ((id, total, breakdown), rank) in scored.into_iter().zip(ranks(&totals)) {
                let breakdown = serde_json::to_string(&breakdown)
                    .map_err(|e| ApiError::Internal(format!("breakdown: {e}")))?;
                let (township_id, helper_unit_id) = match assessed_as {
                    Assessed::Townships => (Some(id), None),
                    Assessed::HelperUnits => (None, Some(id)),
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
                    "township": r.township_id.map(|id| global_id(NodeKind::Township, id)),
                    "helperUnit": r.helper_unit_id.map(|id| global_id(NodeKind::HelperUnit, id)),
                    "score": r.score,
                    "rank": r.rank,
                })).collect::<Vec<_>>(),
            })),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        results.retain(|r| r.township_id.is_some());
        results.sort_by_key(|r| (r.rank, r.township_id));
        Ok(results.into_iter().map(AssessmentResult).collect())
    }
}
