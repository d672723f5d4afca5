//! `assessment_result`: the score of a year of a township or of a helper unit,
//! stored when the county runs the assessment and never recomputed, so that a
//! past ranking stays as it was (考核结果).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_result")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    /// The township assessed, or else
    pub township_id: Option<i64>,
    /// the helper unit assessed.
    pub helper_unit_id: Option<i64>,
    /// Points of 100 (得分).
    pub score: f64,
    /// 1 for the highest score among townships, or among helper units (排名).
    pub rank: i32,
    /// Each indicator's value, target, weight and points, as JSON.
    pub breakdown: String,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
