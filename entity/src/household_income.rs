//! `household_income`: a household's income components for one year (年度收入), in fen.
//! `per_capita_net_fen` is stored for indexing; a CHECK constraint keeps it equal
//! to (wage + production + property + transfer - production cost) / household size.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "household_income")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub household_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub wage_fen: i64,
    pub production_fen: i64,
    pub property_fen: i64,
    pub transfer_fen: i64,
    pub production_cost_fen: i64,
    pub household_size: i32,
    pub per_capita_net_fen: i64,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

impl Model {
    /// Net income: the four components less production costs.
    pub fn net_fen(&self) -> i64 {
        self.wage_fen + self.production_fen + self.property_fen + self.transfer_fen
            - self.production_cost_fen
    }
}

/// Per-capita net income as the database computes it (integer division toward zero).
pub fn per_capita_net_fen(net_fen: i64, household_size: i32) -> i64 {
    net_fen / i64::from(household_size.max(1))
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
