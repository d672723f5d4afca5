//! `loan_repayment`: a repayment of a microcredit loan (还款), appended, never
//! edited: the ledger of what a loan still owes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_repayment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub loan_id: i64,
    pub amount_fen: i64,
    pub repaid_on: Date,
    pub recorded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
