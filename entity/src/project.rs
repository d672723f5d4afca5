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
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
