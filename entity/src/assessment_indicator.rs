//! `assessment_indicator`: the county's indicators of a year, with weights and targets (考核指标).

use sea_orm::entity::prelude::*;

use crate::enums::IndicatorKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_indicator")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    pub kind: IndicatorKind,
    /// Points of 100 (权重).
    pub weight: i32,
    /// The rate to reach, 0 to 1: at least it, or for error rates at most it (目标值).
    pub target: f64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
