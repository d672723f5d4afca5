//! `persisted_document`: query documents known by their SHA-256 (持久化查询),
//! sent once in full and afterwards by hash; every replica reads the same ones.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "persisted_document")]
pub struct Model {
    /// SHA-256 of the document text, lower-case hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    pub document: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
