//! `proposal`: a household's identification or exit going through "two public
//! notices and one announcement" (两公示一公告): democratic appraisal, notice in
//! the village, township check, notice in the township, county decision and
//! announcement.

use sea_orm::entity::prelude::*;

use crate::enums::{ProposalKind, ProposalOrigin, ProposalStage};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "proposal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub kind: ProposalKind,
    /// How it came: an application or a discovery; none for proposals made
    /// before the procedure recorded it.
    pub origin: Option<ProposalOrigin>,
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
    /// The village's democratic appraisal (民主评议) before the first notice:
    /// its day, who attended, the votes, and its minutes (会议记录).
    pub appraised_on: Option<Date>,
    pub appraisal_attendance: Option<i32>,
    pub appraisal_votes_for: Option<i32>,
    pub appraisal_votes_against: Option<i32>,
    pub appraisal_minutes: Option<String>,
    pub proposer_id: i64,
    pub township_checker_id: Option<i64>,
    pub township_checked_at: Option<DateTimeUtc>,
    pub township_opinion: Option<String>,
    /// The second notice, in the township, after its check (乡镇公示), and
    /// for one posted on paper first, who posted it, where, and its evidence.
    pub township_notice_starts_on: Option<Date>,
    pub township_notice_ends_on: Option<Date>,
    pub township_notice_posted_by: Option<String>,
    pub township_notice_posted_at: Option<String>,
    pub township_notice_evidence: Option<String>,
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
