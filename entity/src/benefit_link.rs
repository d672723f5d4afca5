//! `benefit_link`: how an enterprise's business benefits one poor household (利益联结).

use sea_orm::entity::prelude::*;

use crate::enums::BenefitMode;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "benefit_link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub enterprise_id: i64,
    pub household_id: i64,
    pub mode: BenefitMode,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    /// Income the link brings the household per year (户年增收), in fen.
    pub annual_income_fen: i64,
    pub note: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
