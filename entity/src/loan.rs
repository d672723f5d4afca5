//! `loan`: a poverty-alleviation microcredit loan (扶贫小额信贷) to a registered
//! household: up to 50,000 yuan for up to three years, without guarantee or
//! collateral, its interest paid by the treasury. What it owes follows from its
//! repayments (`loan_repayment`), which only grow.

use sea_orm::entity::prelude::*;

use crate::enums::CreditRating;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "loan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    /// The lending bank (放贷银行).
    pub lender: String,
    pub amount_fen: i64,
    /// What it is for (贷款用途).
    pub purpose: String,
    /// The household's credit rating when it borrowed (信用评级).
    pub credit_rating: CreditRating,
    pub disbursed_on: Date,
    /// The day it falls due; later once extended (到期日).
    pub due_on: Date,
    /// The day it first fell due, once extended (展期前到期日).
    pub extended_from: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
