//! The audit trail (审计日志): every change appends an entry in the same
//! transaction as the change. Entries are never updated or deleted (the
//! database refuses both); each carries a SHA-256 over its content and the
//! previous entry's hash, so that [`verify`] finds the first entry altered
//! behind the service's back. The chain cannot show that its newest entries
//! were cut off, so its [`head`] is published (the change feed, webhook
//! events, the log), and whoever kept a head asks [`holds`] whether the trail
//! still has it.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use entity::audit_entry;
use entity::enums::Role;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::access::Viewer;
use crate::domain::write;
use crate::error::ApiResult;

/// The `prev_hash` of the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Key of the PostgreSQL advisory lock that serialises appends to the chain.
const CHAIN_LOCK: i64 = 0x6675_7069_6e00;
/// Entries read at a time when verifying.
const VERIFY_BATCH: u64 = 1_000;

/// Who made a change, and in which request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub role: Option<Role>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The service itself or an operator's command (`cli`, `demo`...).
    pub fn system(name: &str) -> Self {
        Self {
            user_id: None,
            name: name.to_owned(),
            role: None,
            request_id: None,
        }
    }

    /// A signed-in user acting through the API.
    pub fn of(viewer: &Viewer, request_id: &str) -> ApiResult<Self> {
        let user = viewer.user()?;
        Ok(Self {
            user_id: Some(user.id),
            name: user.username.clone(),
            role: Some(user.role),
            request_id: Some(request_id.to_owned()).filter(|id| !id.is_empty()),
        })
    }
}

/// One change to record.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The hash an entry must carry: over its content and its `prev_hash`.
pub fn entry_hash(entry: &audit_entry::Model) -> String {
    let content = json!([
        entry.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        entry.actor_id,
        entry.actor,
        entry.role,
        entry.action,
        entry.entity_type,
        entry.entity_id,
        entry.before,
        entry.after,
        entry.request_id,
        entry.prev_hash,
    ]);
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

/// Appends an entry; call it inside the transaction of the change.
pub async fn record(db: &impl ConnectionTrait, actor: &Actor, change: Change<'_>) -> ApiResult<()> {
    record_all(db, actor, vec![change]).await
}

/// Appends entries for several changes of one transaction, in order, with one
/// statement (an import writes a household's card, members and incomes at once).
pub async fn record_all(
    db: &impl ConnectionTrait,
    actor: &Actor,
    changes: Vec<Change<'_>>,
) -> ApiResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // One append at a time, so that each entry follows the latest one.
        db.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({CHAIN_LOCK})"))
            .await?;
    }
    let mut prev_hash = head(db)
        .await?
        .map_or_else(|| GENESIS.to_owned(), |last| last.hash);
    // Stored timestamps keep microseconds: hash what will be read back.
    let at: DateTime<Utc> = Utc::now().trunc_subsecs(6);
    let mut rows = Vec::with_capacity(changes.len());
    for change in changes {
        let mut entry = audit_entry::Model {
            id: 0,
            at,
            actor_id: actor.user_id,
            actor: actor.name.clone(),
            role: actor.role.map(|r| r.to_value()),
            action: change.action.to_owned(),
            entity_type: change.entity_type.to_owned(),
            entity_id: change.entity_id,
            before: change.before.map(|v| v.to_string()),
            after: change.after.map(|v| v.to_string()),
            request_id: actor.request_id.clone(),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        prev_hash = entry.hash.clone();
        rows.push(audit_entry::ActiveModel {
            at: Set(entry.at),
            actor_id: Set(entry.actor_id),
            actor: Set(entry.actor),
            role: Set(entry.role),
            action: Set(entry.action),
            entity_type: Set(entry.entity_type),
            entity_id: Set(entry.entity_id),
            before: Set(entry.before),
            after: Set(entry.after),
            request_id: Set(entry.request_id),
            prev_hash: Set(entry.prev_hash),
            hash: Set(entry.hash),
            ..Default::default()
        });
    }
    // A multi-row INSERT numbers its rows in the order given.
    write::append_all(db, rows).await
}

/// What a walk along the chain found.
#[derive(Debug, Clone, Copy)]
pub struct ChainReport {
    pub entries: u64,
    /// The first entry whose content or link does not match its hash.
    pub first_broken: Option<i64>,
}

/// Walks the whole chain in order and checks every entry's hash and link.
pub async fn verify(db: &impl ConnectionTrait) -> ApiResult<ChainReport> {
    let mut expected_prev = GENESIS.to_owned();
    let mut entries = 0;
    let mut last_id = 0;
    loop {
        let batch = audit_entry::Entity::find()
            .filter(audit_entry::Column::Id.gt(last_id))
            .order_by_asc(audit_entry::Column::Id)
            .limit(VERIFY_BATCH)
            .all(db)
            .await?;
        if batch.is_empty() {
            return Ok(ChainReport {
                entries,
                first_broken: None,
            });
        }
        for entry in batch {
            entries += 1;
            last_id = entry.id;
            if entry.prev_hash != expected_prev || entry.hash != entry_hash(&entry) {
                return Ok(ChainReport {
                    entries,
                    first_broken: Some(entry.id),
                });
            }
            expected_prev = entry.hash;
        }
    }
}

/// The newest entry of the chain (链头): its hash covers every entry before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub sequence: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
}

impl From<&audit_entry::Model> for ChainHead {
    fn from(entry: &audit_entry::Model) -> Self {
        Self {
            sequence: entry.id,
            hash: entry.hash.clone(),
            at: entry.at,
        }
    }
}

/// The newest entry of the trail; none while it is empty.
pub async fn head(db: &impl ConnectionTrait) -> ApiResult<Option<ChainHead>> {
    let newest = audit_entry::Entity::find()
        .select_only()
        .columns([
            audit_entry::Column::Id,
            audit_entry::Column::Hash,
            audit_entry::Column::At,
        ])
        .order_by_desc(audit_entry::Column::Id)
        .into_tuple::<(i64, String, DateTime<Utc>)>()
        .one(db)
        .await?;
    Ok(newest.map(|(sequence, hash, at)| ChainHead { sequence, hash, at }))
}

/// Whether the trail still holds the entry `sequence` as a head published it:
/// with that hash, and content that matches it. False once the entry was
/// deleted (as when the newest entries are cut off) or rewritten, even if the
/// entries after it were rehashed so that [`verify`] finds the chain intact.
pub async fn holds(db: &impl ConnectionTrait, sequence: i64, hash: &str) -> ApiResult<bool> {
    Ok(audit_entry::Entity::find_by_id(sequence)
        .one(db)
        .await?
        .is_some_and(|entry| entry.hash == hash && entry_hash(&entry) == hash))
}

/// Logs the chain head at once and then `every` so often: the log, kept apart
/// from the database, shows how far the trail reached at each time.
pub async fn keep_logging_head(db: DatabaseConnection, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match head(&db).await {
            Ok(Some(head)) => tracing::info!(
                audit.sequence = head.sequence,
                audit.hash = %head.hash,
                audit.at = %head.at,
                "audit chain head"
            ),
            Ok(None) => tracing::info!("audit chain head: the trail is empty"),
            Err(err) => tracing::warn!(error = ?err, "cannot read the audit chain head"),
        }
    }
}
