//! `idempotency_key`: a client's key for one create request (幂等键), so that a
//! request retried over a weak village network never creates a second record.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_key")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The mutation the key was first used with, e.g. `createHousehold`.
    pub operation: String,
    /// SHA-256 of the mutation's input: the same key with other input is refused.
    pub fingerprint: String,
    /// The record the request created.
    pub entity_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
