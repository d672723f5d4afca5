//! `reveal`: each time a reader saw a masked value in full, and why (查看记录).
//! Append-only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reveal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// GraphQL type of the record, e.g. `Member`.
    pub target_type: String,
    pub target_id: i64,
    /// GraphQL field revealed, e.g. `idNumber`.
    pub field: String,
    pub purpose: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
