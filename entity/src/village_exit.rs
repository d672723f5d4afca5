//! `village_exit`: a poverty village's exit (贫困村出列): the township proposes
//! it with the village's figures as they stood, notices it in the township, and
//! the county decides and announces it.

use sea_orm::entity::prelude::*;

use crate::enums::VillageExitStage;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "village_exit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub village_id: i64,
    pub stage: VillageExitStage,
    /// The village's criteria as the township proposed it, as JSON: poor
    /// people, rural population, incidence, collective income, facilities.
    pub criteria: String,
    /// Why the township proposes it, and where its survey is kept.
    pub reason: String,
    pub proposed_by: Option<i64>,
    pub notice_starts_on: Date,
    pub notice_ends_on: Date,
    /// A notice entered after its first day: who posted it on paper, where,
    /// and the evidence (all three or none).
    pub notice_posted_by: Option<String>,
    pub notice_posted_at: Option<String>,
    pub notice_evidence: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_on: Option<Date>,
    /// The year the village exited, once approved (出列年度).
    pub exit_year: Option<i32>,
    /// The county's opinion (县级意见).
    pub opinion: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
