//! `fund_source`: a fund of one year from one source (资金来源), with its amount.

use sea_orm::entity::prelude::*;

use crate::enums::FundSourceKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_source")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    pub kind: FundSourceKind,
    pub name: String,
    /// The document that granted it (文号).
    pub document_number: Option<String>,
    pub amount_fen: i64,
    /// The donating enterprise, for enterprise donations.
    pub donor_enterprise_id: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
