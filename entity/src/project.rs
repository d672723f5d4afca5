//! `project`: an assistance project (扶贫项目).

use sea_orm::entity::prelude::*;

use crate::enums::{ProjectKind, ProjectStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "project")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: ProjectKind,
    pub status: ProjectStatus,
    /// Plan year (计划年度).
    pub year: i32,
    /// Implementing unit (实施单位), e.g. a county department or the enterprise's name.
    pub implementer: String,
    /// The implementing enterprise, when an enterprise implements it.
    pub implementer_enterprise_id: Option<i64>,
    pub budget_fen: i64,
    /// Planned start (计划开工日期).
    pub start_date: Option<Date>,
    /// Planned completion (计划完工日期).
    pub end_date: Option<Date>,
    /// Performance targets (绩效目标): required to enter the project library.
    pub performance_targets: Option<String>,
    /// Poverty-reduction mechanism (带贫减贫机制): how it benefits which poor households.
    pub benefit_mechanism: Option<String>,
    /// Progress in percent, 0 to 100 (实施进度).
    pub progress_percent: i32,
    pub actual_start_date: Option<Date>,
    pub actual_end_date: Option<Date>,
    /// Public notice before approval (批复前公示), first and last day.
    pub notice_starts_on: Option<Date>,
    pub notice_ends_on: Option<Date>,
    /// For a notice posted on paper before it was entered here: who posted it
    /// (张贴人), where (张贴地点), and the photo or document that shows it (佐证).
    pub notice_posted_by: Option<String>,
    pub notice_posted_at: Option<String>,
    pub notice_evidence: Option<String>,
    pub approved_on: Option<Date>,
    pub accepted_on: Option<Date>,
    /// The day the result was announced (验收结果公告), due within 20 working days of acceptance.
    pub announced_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
