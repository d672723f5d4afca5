//! Where a replica's subscriptions hear of alerts: one task per replica reads
//! the audit trail for the actions that announce them and hands each entry to
//! every subscription of the replica, which decides whether its reader is told.
//! The trail is the only copy: a replica started or restarted later still
//! hears every entry written from then on, whichever replica wrote it.

use std::sync::Arc;
use std::time::Duration;

use entity::audit_entry;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::broadcast;

use crate::audit;
use crate::domain::{alert, calendar};
use crate::error::ApiResult;

/// Entries a slow subscription may fall behind by before it skips some.
const BACKLOG: usize = 1024;

/// The entries read, handed to every subscription of this replica.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Arc<audit_entry::Model>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Hub {
    /// The entries read from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<audit_entry::Model>> {
        self.sender.subscribe()
    }
}

/// Reads the trail every `every` and hands on the entries that announce
/// alerts. Entries are numbered one transaction at a time and visible in that
/// order (see `exchange::feed`), so reading up to the head read first never
/// skips one that commits later.
pub async fn keep_reading(db: DatabaseConnection, hub: Hub, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut read_up_to = None;
    loop {
        ticks.tick().await;
        match read_once(&db, &hub, read_up_to).await {
            Ok(head) => read_up_to = head.or(read_up_to),
            Err(err) => tracing::warn!(error = ?err, "cannot read the audit trail for alerts"),
        }
    }
}

/// Hands on the alert entries after `after` up to the head, and returns the
/// head. Without `after` (at start) nothing is handed on: alerts are news.
async fn read_once(
    db: &DatabaseConnection,
    hub: &Hub,
    after: Option<i64>,
) -> ApiResult<Option<i64>> {
    let Some(head) = audit::head(db).await?.map(|head| head.sequence) else {
        return Ok(None);
    };
    let Some(after) = after else {
        return Ok(Some(head));
    };
    if hub.sender.receiver_count() == 0 || head <= after {
        return Ok(Some(head));
    }
    let entries = audit_entry::Entity::find()
        .filter(audit_entry::Column::Id.gt(after))
        .filter(audit_entry::Column::Id.lte(head))
        .filter(audit_entry::Column::Action.is_in(alert::actions()))
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await?;
    for entry in entries {
        // No subscription left to hear it is no error.
        let _ = hub.sender.send(Arc::new(entry));
    }
    Ok(Some(head))
}

/// Announces overdue measures every `every` (the first time after one period,
/// so that a replica starting does not compete with its own migrations).
pub async fn keep_announcing_overdue(db: DatabaseConnection, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match alert::announce_overdue_measures(&db, calendar::today()).await {
            Ok(0) => {}
            Ok(announced) => tracing::info!(announced, "overdue measures announced"),
            Err(err) => tracing::warn!(error = ?err, "cannot announce overdue measures"),
        }
    }
}
