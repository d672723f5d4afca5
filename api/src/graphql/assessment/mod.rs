//! Assessment of townships (考核评估): the county sets each year's indicators
//! with weights and targets, records field checks and surveys, and runs the
//! assessment once the year is over. Scores come from the same figures as the
//! statistics; results are stored and never recomputed, so a past year's
//! ranking stays as it was. A township's cadres see their own result.

mod score;

use std::collections::{HashMap, HashSet};

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{CheckKind, IndicatorKind, RegionLevel};
use entity::{assessment_indicator, assessment_result, field_check, region};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use self::score::{Scored, points, ranks};
use super::region::{Township, find_region};
use super::relay::{NodeKind, global_id};
use super::statistics::figures::{self, Figures, POOR, REGISTERED};
use super::{actor, db, optional_text, viewer};
use crate::access;
use crate::audit::{self, Change};
use crate::edit::{self, Claim};
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
    /// The township (乡镇).
    async fn township(&self, ctx: &Context<'_>) -> ApiResult<Option<Township>> {
        Ok(super::loaders(ctx)?
            .regions
            .load_one(self.0.township_id)
            .await?
            .map(Township))
    }
    /// Points of 100 (总分).
    async fn score(&self) -> f64 {
        self.0.score
    }
    /// Rank among the county's townships, 1 the highest; equal scores share a rank (排名).
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
    /// office, auditors and the province see every township, a township officer its own.
    async fn assessment_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (考核年度).")] year: i32,
    ) -> ApiResult<Vec<AssessmentResult>> {
        let results = access::select::<assessment_result::Entity>(viewer(ctx)?)
            .filter(assessment_result::Column::Year.eq(year))
            .order_by_asc(assessment_result::Column::Rank)
            .order_by_asc(assessment_result::Column::TownshipId)
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
        let year = check_year(year, edit::today().year() + 1)?;
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
        let txn = edit::begin(db(ctx)?).await?;
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
        let today = edit::today();
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
        let txn = edit::begin(db(ctx)?).await?;
        let key = input.idempotency_key.as_deref();
        if let Claim::Replay(id) =
            edit::claim(&txn, user_id, key, "recordFieldCheck", &request).await?
        {
            let check = field_check::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::Internal(format!("field check {id} vanished")))?;
            return Ok(check.into());
        }
        if assessed(&txn, year).await? {
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
        .insert(&txn)
        .await?;
        edit::settle(&txn, user_id, key, check.id).await?;
        let change = Change {
            action: "assessment.field_check",
            entity_type: "FieldCheck",
            entity_id: check.id,
            before: None,
            after: Some(request),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(check.into())
    }

    /// Scores and ranks every township of the county for a past or the current
    /// year by that year's indicators, and keeps the results (开展年度考核). A
    /// year is assessed once.
    async fn run_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (考核年度).")] year: i32,
    ) -> ApiResult<Vec<AssessmentResult>> {
        let actor = actor(ctx)?;
        let year = check_year(year, edit::today().year())?;
        let txn = edit::begin(db(ctx)?).await?;
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
        let townships = region::Entity::find()
            .filter(region::Column::Level.eq(RegionLevel::Township))
            .order_by_asc(region::Column::Code)
            .all(&txn)
            .await?;
        let gathered = figures::gather(&txn, access::code_prefix(&county), 9, year).await?;
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
        let mut scored = Vec::new();
        for township in &townships {
            let figures = gathered
                .children
                .get(access::code_prefix(township))
                .cloned()
                .unwrap_or_default();
            let own: HashMap<CheckKind, (i64, i64)> = checks
                .iter()
                .filter(|((id, _), _)| *id == township.id)
                .map(|((_, kind), sums)| (*kind, *sums))
                .collect();
            let breakdown: Vec<Scored> = indicators
                .iter()
                .map(|i| {
                    let value = value_of(i.kind, &figures, &own);
                    Scored {
                        kind: i.kind,
                        weight: i.weight,
                        target: i.target,
                        value,
                        points: points(i.kind, i.weight, i.target, value),
                    }
                })
                .collect();
            let total: f64 = breakdown.iter().map(|s| s.points).sum();
            scored.push((township.id, total, breakdown));
        }
        let totals: Vec<f64> = scored.iter().map(|(_, total, _)| *total).collect();
        let now = Utc::now();
        let mut results = Vec::new();
        for ((township_id, total, breakdown), rank) in scored.into_iter().zip(ranks(&totals)) {
            let breakdown = serde_json::to_string(&breakdown)
                .map_err(|e| ApiError::Internal(format!("breakdown: {e}")))?;
            let result = assessment_result::ActiveModel {
                year: Set(year),
                township_id: Set(township_id),
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
        let change = Change {
            action: "assessment.run",
            entity_type: "AssessmentYear",
            entity_id: i64::from(year),
            before: None,
            after: Some(json!({
                "ranking": results.iter().map(|r| json!({
                    "township": global_id(NodeKind::Township, r.township_id),
                    "score": r.score,
                    "rank": r.rank,
                })).collect::<Vec<_>>(),
            })),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        results.sort_by_key(|r| (r.rank, r.township_id));
        Ok(results.into_iter().map(AssessmentResult).collect())
    }
}
