//! Assessment of townships (考核评估): the county sets each year's indicators
//! with weights and targets, records field checks and surveys, and runs the
//! assessment once the year is over. Scores come from the same figures as the
//! statistics; results are stored and never recomputed, so a past year's
//! ranking stays as it was. A township's cadres see their own result.

use crate::graphql::date::Day;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::Utc;
use entity::enums::{CheckKind, IndicatorKind};
use entity::{assessment_indicator, assessment_result, field_check};
use sea_orm::{ColumnTrait, DatabaseTransaction, QueryFilter, QueryOrder};

use super::context::{actor, db, folded, viewer};
use super::pairing::unit::HelperUnit;
use super::region::Township;
use super::relay::{NodeKind, decode_id_of, global_id};
use super::statistics::figures::{self, Gathered, POOR, REGISTERED};
use crate::access;
use crate::domain::assessment::score::{self, Scored};
use crate::domain::assessment::{self, Measured, NewFieldCheck, NewIndicator, Rates, ratio};
use crate::error::{ApiError, ApiResult};

/// Digits of a village's division code: the figures are gathered by village.
const VILLAGE_CODE_LEN: usize = 12;

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
        Ok(super::context::loaders(ctx)?
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
        Ok(super::context::loaders(ctx)?
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
    checked_on: Day,
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
    checked_on: Day,
}

impl From<field_check::Model> for FieldCheck {
    fn from(m: field_check::Model) -> Self {
        Self {
            township_id: global_id(NodeKind::Township, m.township_id),
            year: m.year,
            kind: m.kind,
            sampled: m.sampled,
            found: m.found,
            checked_on: Day(m.checked_on),
        }
    }
}

/// The rates the statistics measure, from a year's figures by village.
impl Measured for Gathered {
    fn rates<'a>(&self, villages: impl IntoIterator<Item = &'a str>) -> Rates {
        let f = self.combine(villages);
        Rates {
            exit_rate: ratio(f.exits, f.households_in(&POOR) + f.exits),
            plan_completion: ratio(f.measures.done, f.measures.total - f.measures.cancelled),
            pairing_coverage: ratio(f.paired, f.households_in(&REGISTERED)),
            fund_utilisation: ratio(f.funds.disbursed, f.funds.allocated),
        }
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
        let indicators: Vec<NewIndicator> = indicators
            .into_iter()
            .map(|i| NewIndicator {
                kind: i.kind,
                weight: i.weight,
                target: i.target,
            })
            .collect();
        let set = assessment::set_indicators(db(ctx)?, &actor(ctx)?, year, &indicators).await?;
        Ok(set.into_iter().map(Into::into).collect())
    }

    /// Records a field check or survey of a township (录入实地核查).
    async fn record_field_check(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The check's findings (实地核查).")] input: RecordFieldCheckInput,
    ) -> ApiResult<FieldCheck> {
        let (_, township_id) =
            decode_id_of(&input.township_id, "townshipId", &[NodeKind::Township])?;
        let new = NewFieldCheck {
            township_id,
            year: input.year,
            kind: input.kind,
            sampled: input.sampled,
            found: input.found,
            checked_on: input.checked_on.0,
            note: input.note,
        };
        let key = input.idempotency_key.as_deref();
        assessment::record_field_check(db(ctx)?, &actor(ctx)?, viewer(ctx)?, key, new)
            .await
            .map(Into::into)
    }

    /// Scores and ranks every township of the county, and every helper unit,
    /// for a past or the current year by that year's indicators, and keeps the
    /// results (开展年度考核). A year is assessed once.
    async fn run_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (考核年度).")] year: i32,
    ) -> ApiResult<Vec<AssessmentResult>> {
        let folded = folded(ctx)?;
        let gather = async |txn: &DatabaseTransaction, county: &str| {
            figures::gather(txn, folded, county, VILLAGE_CODE_LEN, year).await
        };
        let results = assessment::run(db(ctx)?, &actor(ctx)?, year, gather).await?;
        Ok(results.into_iter().map(AssessmentResult).collect())
    }
}
