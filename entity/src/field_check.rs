//! `field_check`: a field check or survey of a township (实地核查与满意度调查).

use sea_orm::entity::prelude::*;

use crate::enums::CheckKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "field_check")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    pub township_id: i64,
    pub kind: CheckKind,
    /// Households or people checked (抽查数).
    pub sampled: i32,
    /// Of them, those found as the kind says (发现数).
    pub found: i32,
    pub checked_on: Date,
    pub note: String,
    pub recorded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
