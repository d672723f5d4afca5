//! `measure`: one measure of a household's plan (一户一策帮扶措施).

use sea_orm::entity::prelude::*;

use crate::enums::{MeasureCategory, MeasureStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "measure")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub category: MeasureCategory,
    pub task: String,
    /// The standard to reach (达到标准).
    pub standard: String,
    /// The person responsible (责任人).
    pub responsible: String,
    /// The time node (时间节点): overdue after it unless done or cancelled.
    pub deadline: Date,
    pub funds_fen: i64,
    pub status: MeasureStatus,
    pub completed_on: Option<Date>,
    /// The time node whose passing was last announced as overdue (`measure.overdue`
    /// in the audit trail), so that each replica's sweep announces it once.
    pub overdue_alerted_for: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
