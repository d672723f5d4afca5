//! What an operator watches, in the Prometheus text format at `/metrics`.
//! Each server has a registry of its own (no global): a replica reports what
//! it did, and Prometheus adds the replicas up. Figures that live in the
//! database (the webhook backlog, the tally's pending changes) are read when
//! scraped, so every replica reports the same figure for them.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entity::{audit_entry, village_tally_change, webhook};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use tracing::Instrument;

pub use prometheus_text::CONTENT_TYPE;

/// Distinct operation names a replica keeps a series for; the names after
/// them are counted as `other`. Clients choose the names, and a series per
/// name would let one client grow the replica's memory and every scrape
/// without bound.
pub const MAX_OPERATION_NAMES: usize = 200;

/// The label of operations past [`MAX_OPERATION_NAMES`].
pub const OTHER_OPERATIONS: &str = "other";

tokio::task_local! {
    /// The statements the current request has run, across the tasks its
    /// DataLoaders spawn.
    static STATEMENTS: Arc<AtomicU32>;
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    outcome: &'static str,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationName {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoaderName {
    loader: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaName {
    replica: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatabaseName {
    database: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolState {
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.5, 12))
}

fn costs() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 3.0, 10))
}

fn batch_sizes() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 10))
}

/// A server's metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Families>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

struct Families {
    registry: Registry,
    operation_names: Mutex<HashSet<String>>,
    operations: Family<OperationLabels, Counter>,
    operation_seconds: Histograms<OperationName>,
    operation_cost: Histograms<OperationName>,
    http_requests: Family<RouteLabels, Counter>,
    http_seconds: Histograms<Route>,
    rate_limited: Counter,
    statements: Counter,
    statement_failures: Counter,
    statement_seconds: Histogram,
    statements_per_request: Histogram,
    pool_connections: Family<PoolState, Gauge>,
    pool_max: Gauge,
    pool_acquire_seconds: Gauge<f64, AtomicU64>,
    loader_batch: Histograms<LoaderName>,
    login_failures: Family<Reason, Counter>,
    webhook_failures: Counter,
    webhook_lag: Gauge,
    webhooks_failing: Gauge,
    tally_pending: Gauge,
    replica_lag: Family<ReplicaName, Gauge<f64, AtomicU64>>,
    queries_read: Family<DatabaseName, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut families = Families {
            registry: Registry::with_prefix("fupin"),
            operation_names: Mutex::new(HashSet::new()),
            operations: Family::default(),
            operation_seconds: Family::new_with_constructor(seconds),
            operation_cost: Family::new_with_constructor(costs),
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(seconds),
            rate_limited: Counter::default(),
            statements: Counter::default(),
            statement_failures: Counter::default(),
            statement_seconds: seconds(),
            statements_per_request: batch_sizes(),
            pool_connections: Family::default(),
            pool_max: Gauge::default(),
            pool_acquire_seconds: Gauge::default(),
            loader_batch: Family::new_with_constructor(batch_sizes),
            login_failures: Family::default(),
            webhook_failures: Counter::default(),
            webhook_lag: Gauge::default(),
            webhooks_failing: Gauge::default(),
            tally_pending: Gauge::default(),
            replica_lag: Family::default(),
            queries_read: Family::default(),
        };
        families.registry.register(
            "graphql_operations",
            "GraphQL operations by name (`anonymous` without one, `other` past the limit of names), outcome and first error code",
            families.operations.clone(),
        );
        families.registry.register(
            "graphql_operation_seconds",
            "Time to answer a GraphQL operation, by name",
            families.operation_seconds.clone(),
        );
        families.registry.register(
            "graphql_operation_cost",
            "Cost spent by a GraphQL operation (the units of the caller's budget), by name",
            families.operation_cost.clone(),
        );
        families.registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            families.http_requests.clone(),
        );
        families.registry.register(
            "http_request_seconds",
            "Time to answer an HTTP request, by route",
            families.http_seconds.clone(),
        );
        families.registry.register(
            "rate_limit_refusals",
            "Requests refused because the caller's request or cost budget was spent (HTTP 429)",
            families.rate_limited.clone(),
        );
        families.registry.register(
            "db_statements",
            "SQL statements run",
            families.statements.clone(),
        );
        families.registry.register(
            "db_statement_failures",
            "SQL statements that failed",
            families.statement_failures.clone(),
        );
        families.registry.register(
            "db_statement_seconds",
            "Time a SQL statement took",
            families.statement_seconds.clone(),
        );
        families.registry.register(
            "db_statements_per_request",
            "SQL statements one HTTP request ran",
            families.statements_per_request.clone(),
        );
        families.registry.register(
            "db_pool_connections",
            "Connections of the database pool, idle or in use, when scraped",
            families.pool_connections.clone(),
        );
        families.registry.register(
            "db_pool_max_connections",
            "Most connections the database pool opens",
            families.pool_max.clone(),
        );
        families.registry.register(
            "db_pool_acquire_seconds",
            "Time the scrape waited for a connection of the pool: what a request waits now",
            families.pool_acquire_seconds.clone(),
        );
        families.registry.register(
            "dataloader_batch_size",
            "Keys a DataLoader read in one statement, by loader",
            families.loader_batch.clone(),
        );
        families.registry.register(
            "login_failures",
            "Refused sign-ins, by reason: bad_credentials, disabled, locked (refused unchecked while the account is locked for that source)",
            families.login_failures.clone(),
        );
        families.registry.register(
            "webhook_delivery_failures",
            "Webhook deliveries that failed (the receiver did not answer 2xx in time)",
            families.webhook_failures.clone(),
        );
        families.registry.register(
            "webhook_backlog_entries",
            "Audit entries the furthest-behind active webhook has yet to pass, when scraped",
            families.webhook_lag.clone(),
        );
        families.registry.register(
            "webhooks_failing",
            "Active webhooks whose last delivery failed, when scraped",
            families.webhooks_failing.clone(),
        );
        families.registry.register(
            "tally_pending_changes",
            "Changes to the village tally not yet compacted, when scraped",
            families.tally_pending.clone(),
        );
        families.registry.register(
            "db_replica_lag_seconds",
            "How far behind the primary each read replica may be, as of its last check (+Inf until it first catches up); one past FUPIN_READ_MAX_LAG_MS is not read from",
            families.replica_lag.clone(),
        );
        families.registry.register(
            "graphql_queries_read",
            "GraphQL queries by where they were read: `primary`, or a read replica's `host:port/database`",
            families.queries_read.clone(),
        );
        Metrics(Arc::new(families))
    }

    /// The name an operation is counted under.
    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".to_owned();
        };
        let mut names = self
            .0
            .operation_names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if names.contains(name) {
            name.to_owned()
        } else if names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            OTHER_OPERATIONS.to_owned()
        }
    }

    /// One GraphQL operation answered: its name, first error code, cost and time.
    pub fn operation(&self, name: Option<&str>, code: Option<&str>, cost: usize, took: Duration) {
        let operation = self.operation_label(name);
        let labels = OperationLabels {
            operation: operation.clone(),
            outcome: if code.is_some() { "error" } else { "ok" },
            code: code.unwrap_or_default().to_owned(),
        };
        self.0.operations.get_or_create(&labels).inc();
        let name = OperationName { operation };
        self.0
            .operation_seconds
            .get_or_create(&name)
            .observe(took.as_secs_f64());
        self.0
            .operation_cost
            .get_or_create(&name)
            .observe(cost as f64);
    }

    /// One HTTP request answered, with the statements it ran.
    pub fn http_request(
        &self,
        route: &str,
        method: &str,
        status: u16,
        took: Duration,
        statements: u32,
    ) {
        let labels = RouteLabels {
            route: route.to_owned(),
            method: method.to_owned(),
            status,
        };
        self.0.http_requests.get_or_create(&labels).inc();
        self.0
            .http_seconds
            .get_or_create(&Route {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
        self.0.statements_per_request.observe(f64::from(statements));
        if status == 429 {
            self.0.rate_limited.inc();
        }
    }

    /// One SQL statement run, by a request or by the work in the background.
    pub fn statement(&self, took: Duration, failed: bool) {
        self.0.statements.inc();
        if failed {
            self.0.statement_failures.inc();
        }
        self.0.statement_seconds.observe(took.as_secs_f64());
        // Outside a request (background work) there is nothing to add to.
        let _ = STATEMENTS.try_with(|count| count.fetch_add(1, Ordering::Relaxed));
    }

    /// SQL statements run since the server started.
    pub fn statements(&self) -> u64 {
        self.0.statements.get()
    }

    pub fn loader_batch(&self, loader: String, keys: usize) {
        self.0
            .loader_batch
            .get_or_create(&LoaderName { loader })
            .observe(keys as f64);
    }

    pub fn login_failure(&self, reason: &'static str) {
        self.0
            .login_failures
            .get_or_create(&Reason { reason })
            .inc();
    }

    pub fn replica_lag(&self, replica: &str, lag: Option<Duration>) {
        self.0
            .replica_lag
            .get_or_create(&ReplicaName {
                replica: replica.to_owned(),
            })
            .set(lag.map_or(f64::INFINITY, |lag| lag.as_secs_f64()));
    }

    pub fn query_read_from(&self, database: &str) {
        self.0
            .queries_read
            .get_or_create(&DatabaseName {
                database: database.to_owned(),
            })
            .inc();
    }

    pub fn webhook_failure(&self) {
        self.0.webhook_failures.inc();
    }

    /// The registry in the Prometheus text format, with the figures read from
    /// the database and the pool as they are now.
    pub async fn render(&self, db: &DatabaseConnection) -> Result<String, sea_orm::DbErr> {
        self.read_pool(db).await;
        let f = &self.0;
        let head = audit_entry::Entity::find()
            .select_only()
            .column_as(audit_entry::Column::Id.max(), "head")
            .into_tuple::<Option<i64>>()
            .one(db)
            .await?
            .flatten()
            .unwrap_or(0);
        let hooks: Vec<(i64, i32)> = webhook::Entity::find()
            .select_only()
            .column(webhook::Column::Position)
            .column(webhook::Column::Failures)
            .filter(webhook::Column::Active.eq(true))
            .into_tuple()
            .all(db)
            .await?;
        let furthest_behind = hooks
            .iter()
            .map(|(position, _)| head - position)
            .max()
            .unwrap_or(0);
        f.webhook_lag.set(furthest_behind);
        f.webhooks_failing
            .set(hooks.iter().filter(|(_, failures)| *failures > 0).count() as i64);
        let pending = village_tally_change::Entity::find().count(db).await?;
        f.tally_pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_text::encode(&mut text, &f.registry)
            .map_err(|e| sea_orm::DbErr::Custom(format!("encoding metrics: {e}")))?;
        Ok(text)
    }

    /// The pool's connections, and how long taking one takes now.
    async fn read_pool(&self, db: &DatabaseConnection) {
        let f = &self.0;
        let started = Instant::now();
        let (size, idle, max, acquired) = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                let acquired = pool.acquire().await.is_ok();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                    acquired,
                )
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                let acquired = pool.acquire().await.is_ok();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                    acquired,
                )
            }
        };
        let waited = if acquired {
            started.elapsed().as_secs_f64()
        } else {
            f64::INFINITY
        };
        f.pool_acquire_seconds.set(waited);
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        f.pool_connections
            .get_or_create(&PoolState { state: "idle" })
            .set(idle);
        f.pool_connections
            .get_or_create(&PoolState { state: "in_use" })
            .set(i64::from(size) - idle);
        f.pool_max.set(i64::from(max));
    }
}

/// Runs `work` as one request, whose statements are counted.
pub async fn counting_statements<F: Future>(work: F) -> (F::Output, u32) {
    let count = Arc::new(AtomicU32::new(0));
    let output = STATEMENTS.scope(count.clone(), work).await;
    (output, count.load(Ordering::Relaxed))
}

/// Spawns `work` as part of the current request, if there is one: a
/// DataLoader's statements are the request's that asked for its keys, in its
/// counts and in its trace.
pub fn spawn_in_request<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let work = work.instrument(tracing::Span::current());
    match STATEMENTS.try_with(Arc::clone) {
        Ok(count) => tokio::spawn(STATEMENTS.scope(count, work)),
        Err(_) => tokio::spawn(work),
    }
}
