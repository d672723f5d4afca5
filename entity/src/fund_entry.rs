//! `fund_entry`: the fund ledger (资金台账). Entries are only ever inserted (the
//! database refuses updates and deletes); a correction is a reversing entry
//! with the opposite amount.

use sea_orm::entity::prelude::*;

use crate::enums::{FundEntryKind, PayeeKind};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: FundEntryKind,
    pub source_id: i64,
    pub project_id: i64,
    /// Positive for an entry, negative for the reversal of one, in fen.
    pub amount_fen: i64,
    pub entry_date: Date,
    /// Voucher number (凭证号) of a disbursement.
    pub voucher_number: Option<String>,
    pub payee: Option<String>,
    pub payee_kind: Option<PayeeKind>,
    /// The entry this one reverses.
    #[sea_orm(unique)]
    pub reverses_id: Option<i64>,
    pub note: String,
    pub recorded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
