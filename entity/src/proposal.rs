//! `proposal`: a household's identification or exit going through "two public
//! notices and one announcement" (两公示一公告): notice, township check, county decision.

use sea_orm::entity::prelude::*;

use crate::enums::{ProposalKind, ProposalStage};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "proposal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub kind: ProposalKind,
    pub stage: ProposalStage,
    /// Why, as the public notice shows it.
    pub reason: String,
    /// References to the evidence (documents, photos), as a JSON array of strings.
    pub evidence: String,
    /// For an exit: the year the household is certified lifted out.
    pub exit_year: Option<i32>,
    pub notice_starts_on: Date,
    pub notice_ends_on: Date,
    /// For a notice posted on paper before it was entered here: who posted it
    /// (张贴人), where (张贴地点), and the photo or document that shows it (佐证).
    pub notice_posted_by: Option<String>,
    pub notice_posted_at: Option<String>,
    pub notice_evidence: Option<String>,
    pub proposer_id: i64,
    pub township_checker_id: Option<i64>,
    pub township_checked_at: Option<DateTimeUtc>,
    pub township_opinion: Option<String>,
    pub decider_id: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_note: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
