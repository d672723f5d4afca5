//! `project_stage_change`: the history of a project's lifecycle (项目流转记录),
//! appended at every step, never edited.

use sea_orm::entity::prelude::*;

use crate::enums::ProjectStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "project_stage_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    /// None when the project entered the library.
    pub from_status: Option<ProjectStatus>,
    pub to_status: ProjectStatus,
    /// The day the step took effect (in the county).
    pub effective_on: Date,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
