//! `asset_income`: a year's income of a project asset (资产收益), appended,
//! never edited: what it brought and what of it reached poor households.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "asset_income")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub asset_id: i64,
    /// The year it was earned (收益年度).
    pub year: i32,
    pub amount_fen: i64,
    /// What of it was paid to poor households as dividends or wages (分红), at most the amount.
    pub distributed_fen: i64,
    /// Households that benefited (受益户数).
    pub households_benefited: i32,
    pub recorded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
