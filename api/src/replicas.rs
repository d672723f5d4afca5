//! Read replicas: PostgreSQL standbys that queries are read from, so that
//! the primary is left to writes. A replica is read from only while it is
//! known to hold everything the primary held a bounded time ago
//! (`FUPIN_READ_MAX_LAG_MS`), and never by a caller whose own last change it
//! does not hold yet: a cadre who files a household sees it in the next list.
//! Everything else goes to the primary: mutations, subscriptions, and any
//! query when no replica is fresh.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use entity::audit_entry;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};

use crate::access::Viewer;
use crate::error::ApiResult;
use crate::telemetry::metrics::Metrics;

/// How long a lag check may take: a replica slower than this to answer is
/// taken for down until the next check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// The read replicas of a server; none when `FUPIN_READ_DATABASE_URL` is unset.
#[derive(Clone, Default)]
pub struct Replicas(Arc<Inner>);

#[derive(Default)]
struct Inner {
    readers: Vec<Reader>,
    max_lag: Duration,
    /// The reader the next query starts looking from.
    next: AtomicUsize,
}

struct Reader {
    name: String,
    db: DatabaseConnection,
    /// When (as milliseconds since `epoch`) the primary's position last read
    /// before a check was found replayed on the replica; 0 for never.
    caught_up_at: AtomicU64,
    epoch: Instant,
}

impl Reader {
    fn lag(&self) -> Option<Duration> {
        match self.caught_up_at.load(Ordering::Acquire) {
            0 => None,
            at => Some(
                self.epoch
                    .elapsed()
                    .saturating_sub(Duration::from_millis(at)),
            ),
        }
    }
}

impl Replicas {
    /// Pools on `urls`, read from once a lag check finds them fresh.
    pub async fn connect(
        urls: &[String],
        max_lag: Duration,
    ) -> Result<Replicas, crate::db::ConnectError> {
        let epoch = Instant::now();
        let mut readers = Vec::with_capacity(urls.len());
        for url in urls {
            let (db, name) = crate::db::connect_replica(url).await?;
            readers.push(Reader {
                name,
                db,
                caught_up_at: AtomicU64::new(0),
                epoch,
            });
        }
        Ok(Replicas(Arc::new(Inner {
            readers,
            max_lag,
            next: AtomicUsize::new(0),
        })))
    }

    pub fn is_empty(&self) -> bool {
        self.0.readers.is_empty()
    }

    /// A replica fresh enough to read from, taking turns among them.
    fn fresh(&self) -> Option<(usize, &Reader)> {
        let readers = &self.0.readers;
        let start = self.0.next.fetch_add(1, Ordering::Relaxed);
        (0..readers.len())
            .map(|offset| (start + offset) % readers.len())
            .map(|index| (index, &readers[index]))
            .find(|(_, reader)| reader.lag().is_some_and(|lag| lag <= self.0.max_lag))
    }

    /// The replica a query of `viewer` reads from, with its index: a fresh
    /// one that holds the viewer's own last change. `None` sends the query to
    /// the primary.
    pub async fn reader_for(
        &self,
        primary: &DatabaseConnection,
        viewer: &Viewer,
    ) -> Option<(usize, DatabaseConnection)> {
        let (index, reader) = self.fresh()?;
        match holds_own_writes(primary, &reader.db, viewer).await {
            Ok(true) => Some((index, reader.db.clone())),
            Ok(false) => None,
            Err(_) => {
                self.mark_down(index);
                None
            }
        }
    }

    /// The replica's name, `host:port/database`.
    pub fn name(&self, index: usize) -> &str {
        self.0.readers.get(index).map_or("", |reader| &reader.name)
    }

    /// Stops reading from a replica that failed to answer, until a lag check
    /// finds it caught up again.
    pub fn mark_down(&self, index: usize) {
        if let Some(reader) = self.0.readers.get(index)
            && reader.caught_up_at.swap(0, Ordering::AcqRel) != 0
        {
            tracing::warn!(
                replica = reader.name,
                "read replica failed to answer: reading from the primary until it is caught up"
            );
        }
    }

    /// Checks every replica's lag every `every` until the process ends.
    pub async fn keep_checking(
        self,
        primary: DatabaseConnection,
        every: Duration,
        metrics: Metrics,
    ) {
        if self.is_empty() {
            return;
        }
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.check(&primary, &metrics).await;
        }
    }

    /// Reads the primary's WAL position, then asks each replica whether it has
    /// replayed it: one that has holds everything the primary held when asked.
    async fn check(&self, primary: &DatabaseConnection, metrics: &Metrics) {
        let asked = Instant::now();
        let position = match primary
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_current_wal_lsn()::text AS lsn",
            ))
            .await
        {
            Ok(Some(row)) => row.try_get::<String>("", "lsn").ok(),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(error = %err, "the primary's WAL position could not be read");
                None
            }
        };
        let Some(position) = position else {
            return;
        };
        for reader in &self.0.readers {
            let replayed = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS replayed",
                [position.clone().into()],
            );
            let answer =
                tokio::time::timeout(CHECK_TIMEOUT, reader.db.query_one_raw(replayed)).await;
            let caught_up = match answer {
                Ok(Ok(Some(row))) => row.try_get::<bool>("", "replayed").unwrap_or(false),
                Ok(Ok(None)) => false,
                Ok(Err(err)) => {
                    tracing::debug!(replica = reader.name, error = %err, "read replica did not answer its lag check");
                    false
                }
                Err(_) => false,
            };
            if caught_up {
                let at = asked.duration_since(reader.epoch).as_millis().max(1);
                reader
                    .caught_up_at
                    .fetch_max(u64::try_from(at).unwrap_or(u64::MAX), Ordering::AcqRel);
            }
            metrics.replica_lag(&reader.name, reader.lag());
        }
    }
}

/// Whether the replica holds the viewer's last change: every change leaves an
/// audit entry in its own transaction, so a replica that has the viewer's
/// newest entry has everything the viewer wrote.
async fn holds_own_writes(
    primary: &DatabaseConnection,
    replica: &DatabaseConnection,
    viewer: &Viewer,
) -> ApiResult<bool> {
    let Viewer::User(user) = viewer else {
        return Ok(true);
    };
    let newest: Option<i64> = audit_entry::Entity::find()
        .select_only()
        .column(audit_entry::Column::Id)
        .filter(audit_entry::Column::Actor.eq(user.username.as_str()))
        .order_by_desc(audit_entry::Column::At)
        .limit(1)
        .into_tuple()
        .one(primary)
        .await?;
    let Some(newest) = newest else {
        return Ok(true);
    };
    let held = audit_entry::Entity::find_by_id(newest)
        .select_only()
        .column(audit_entry::Column::Id)
        .into_tuple::<i64>()
        .one(replica)
        .await?;
    Ok(held.is_some())
}
