//! A provincial system's endpoint for events (事件推送订阅), and where its
//! delivery stands in the audit trail.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who registered it: their field policy shapes what it is sent.
    pub owner_id: i64,
    pub url: String,
    /// Key of the HMAC-SHA256 signatures; shown once, when registered.
    pub secret: String,
    /// JSON array of the entity types it wants; empty for all.
    pub event_types: String,
    pub active: bool,
    /// The audit entry delivered last (or skipped as not wanted).
    pub position: i64,
    /// Failed attempts at the next event since the last success.
    pub failures: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    /// A replica delivering holds it until then.
    pub leased_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
