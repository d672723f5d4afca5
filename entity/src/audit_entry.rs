//! `audit_entry`: the append-only audit trail (审计日志). Each entry carries the
//! hash of its content and of the entry before it, so that an entry changed
//! behind the service's back breaks the chain.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// The user who acted; none for the command line.
    pub actor_id: Option<i64>,
    /// The actor's username, or `cli`.
    pub actor: String,
    /// The actor's role, when a user acted.
    pub role: Option<String>,
    /// What was done, e.g. `user.create`.
    pub action: String,
    /// The GraphQL type of the record changed, e.g. `Account`.
    pub entity_type: String,
    pub entity_id: i64,
    /// The record's audited fields before and after, as JSON text.
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
    /// Hash of the previous entry (64 zeros for the first).
    #[sea_orm(unique)]
    pub prev_hash: String,
    /// SHA-256 of this entry's content and `prev_hash`.
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
