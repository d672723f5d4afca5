//! `objection`: an objection to a public notice (公示异议), open until resolved.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "objection")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub proposal_id: i64,
    /// Who objected, if they gave a name (never shown publicly).
    pub objector: Option<String>,
    pub content: String,
    pub received_on: Date,
    pub recorder_id: i64,
    pub resolution: Option<String>,
    /// Whether the objection was found right; set when resolved.
    pub upheld: Option<bool>,
    pub resolver_id: Option<i64>,
    pub resolved_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
