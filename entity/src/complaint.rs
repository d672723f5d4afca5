//! `complaint`: a complaint or problem clue (投诉举报、问题线索), like those to
//! the 12317 hotline, and how it was handled. The complainant's name and phone
//! may be absent (anonymous); the tracking number is all the complainant keeps.

use sea_orm::entity::prelude::*;

use crate::enums::{ComplaintConclusion, ComplaintStatus, ComplaintSubject};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "complaint")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Tracking number (受理编号), e.g. `JB20261129K3M9QZ`.
    #[sea_orm(unique)]
    pub tracking_number: String,
    pub subject_kind: ComplaintSubject,
    /// The household, project or ledger entry complained about, at most one.
    pub household_id: Option<i64>,
    pub project_id: Option<i64>,
    pub fund_entry_id: Option<i64>,
    /// The village concerned: it decides which township handles the complaint.
    pub village_id: Option<i64>,
    pub content: String,
    pub complainant_name: Option<String>,
    pub complainant_phone: Option<String>,
    /// The account that submitted it; none for the public.
    pub submitted_by: Option<i64>,
    pub status: ComplaintStatus,
    /// The unit responsible for handling it (承办单位).
    pub assigned_unit: Option<String>,
    /// Instructions to the unit, not shown to the complainant (交办意见).
    pub assignment_note: Option<String>,
    pub assigned_on: Option<Date>,
    /// The day by which the unit answers (办理期限).
    pub deadline: Option<Date>,
    pub answer: Option<String>,
    /// What was corrected (整改情况).
    pub rectification: Option<String>,
    pub answered_on: Option<Date>,
    pub conclusion: Option<ComplaintConclusion>,
    pub closed_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
