//! Test support: spawns the real server on a random port against a fresh
//! database (a temporary SQLite file, or a new PostgreSQL database when
//! `TEST_POSTGRES_URL` is set) and talks GraphQL to it over HTTP.

pub mod process;
pub mod standby;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use api::auth::AuthConfig;
use api::config::{Background, Limits, Operations};
use api::seed::{SeedOptions, SeedReport};
use api::telemetry::metrics::Metrics;
use entity::enums::{RegionLevel, Role};
use entity::{app_user, enterprise, region};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// Runs each named test function once per database backend. A function takes a
/// [`Backend`]; the PostgreSQL run is skipped when `TEST_POSTGRES_URL` is unset.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match $crate::Backend::postgres() {
                        Some(backend) => super::$name(backend).await,
                        None => eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL run skipped"),
                    }
                }
            )+
        }
    };
}

/// What a test server is started with, kept to start it again.
struct Settings {
    limits: Limits,
    auth: AuthConfig,
    background: Background,
    operations: Operations,
}

/// Migrates the database and serves it on a free port, with `metrics`, until
/// `stop` is notified.
async fn start(
    url: &str,
    settings: &Settings,
    metrics: Metrics,
    stop: Arc<Notify>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let server_db = api::db::connect(url).await.expect("connect");
    api::db::migrate(&server_db).await.expect("migrate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local address");
    let settings = api::app::Settings {
        limits: settings.limits.clone(),
        auth: settings.auth.clone(),
        background: settings.background.clone(),
        operations: settings.operations.clone(),
    };
    let listeners = api::app::Listeners {
        api: listener,
        metrics: None,
    };
    let server = tokio::spawn(async move {
        api::app::serve(listeners, server_db, settings, metrics, async move {
            stop.notified().await;
        })
        .await
        .expect("server");
    });
    (addr, server)
}

/// A second server on a test's database (see [`TestApp::replica`]).
pub struct Replica {
    pub addr: std::net::SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Where a test's database lives.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The server URL of a PostgreSQL cluster to create test databases in.
    Postgres(String),
}

impl Backend {
    pub fn postgres() -> Option<Backend> {
        std::env::var("TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(Backend::Postgres)
    }
}

/// A database created for one test and removed when the test ends.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// The file of an SQLite database (which may not exist yet): where a
    /// backup can be written, to be opened with [`TestApp::open`].
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        match &self.cleanup {
            Cleanup::File(path) => Some(path),
            Cleanup::Postgres { .. } => None,
        }
    }

    /// The name of a PostgreSQL database: the same on the primary and on
    /// its standbys.
    pub fn postgres_name(&self) -> Option<&str> {
        match &self.cleanup {
            Cleanup::Postgres { name, .. } => Some(name),
            Cleanup::File(_) => None,
        }
    }

    /// An empty database, as a fresh installation finds it.
    pub async fn create(backend: &Backend) -> TestDatabase {
        Self::copy_of(backend, None).await
    }

    /// A database with every migration applied.
    pub async fn migrated(backend: &Backend) -> TestDatabase {
        Self::copy_of(backend, Some(template_of(backend).await)).await
    }

    async fn copy_of(backend: &Backend, template: Option<&str>) -> TestDatabase {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("fupin-test-{id}.db"));
                if let Some(template) = template {
                    std::fs::copy(template, &path).expect("copy the migrated template");
                }
                TestDatabase {
                    url: sqlite_url(&path),
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres(admin_url) => {
                let name = format!("test_{id}");
                let template = template.map_or(String::new(), |t| format!(" TEMPLATE {t}"));
                // A test asserts what commits show, not that they survive a
                // crash: waiting for each commit's flush only slows the suite.
                execute_as_admin(
                    admin_url,
                    &[
                        format!("CREATE DATABASE {name}{template}"),
                        format!("ALTER DATABASE {name} SET synchronous_commit = off"),
                    ],
                )
                .await;
                TestDatabase {
                    url: database_url(admin_url, &name),
                    cleanup: Cleanup::Postgres {
                        admin_url: admin_url.clone(),
                        name,
                    },
                }
            }
        }
    }
}

/// Migrating a database takes a second or two of commits; copying a migrated
/// one takes a fraction of that. So each test process migrates one template
/// per backend, and every test database starts as its copy.
static SQLITE_TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
static POSTGRES_TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Templates older than this belong to test processes long finished.
const TEMPLATE_LIFETIME_SECS: u64 = 6 * 3600;

/// The migrated template of `backend`: an SQLite file path, or a PostgreSQL
/// database name.
async fn template_of(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite => SQLITE_TEMPLATE.get_or_init(sqlite_template).await,
        Backend::Postgres(admin_url) => {
            POSTGRES_TEMPLATE
                .get_or_init(|| postgres_template(admin_url))
                .await
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

async fn sqlite_template() -> String {
    let dir = std::env::temp_dir();
    // Earlier processes cannot remove theirs (statics are never dropped).
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let stale = entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.starts_with("fupin-template-"))
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > TEMPLATE_LIFETIME_SECS);
            if stale {
                std::fs::remove_file(entry.path()).ok();
            }
        }
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let path = dir.join(format!("fupin-template-{id}.db"));
    let db = api::db::connect(&sqlite_url(&path)).await.expect("connect");
    api::db::migrate(&db).await.expect("migrate the template");
    // Everything into the main file, so that a copy of it alone is whole.
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint the template");
    db.close().await.expect("close the template");
    path.to_string_lossy().into_owned()
}

async fn postgres_template(admin_url: &str) -> String {
    let admin = Database::connect(admin_url)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    // Earlier processes cannot drop theirs; the name carries its creation time.
    let stale: Vec<String> = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'fupin_template_%'",
        ))
        .await
        .expect("list templates")
        .into_iter()
        .filter_map(|row| row.try_get::<String>("", "datname").ok())
        .filter(|name| {
            name.split('_')
                .nth(2)
                .and_then(|secs| secs.parse::<u64>().ok())
                .is_some_and(|created| now_secs().saturating_sub(created) > TEMPLATE_LIFETIME_SECS)
        })
        .collect();
    for name in stale {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("fupin_template_{}_{id}", now_secs());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the template database");
    admin.close().await.ok();
    let db = api::db::connect(&database_url(admin_url, &name))
        .await
        .expect("connect to the template");
    api::db::migrate(&db).await.expect("migrate the template");
    // A template is copied only while nobody is connected to it.
    db.close().await.expect("close the template");
    name
}

async fn execute_as_admin(admin_url: &str, statements: &[String]) {
    let admin = Database::connect(admin_url)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    for statement in statements {
        admin.execute_unprepared(statement).await.expect(statement);
    }
    admin.close().await.ok();
}

/// The URL of database `name` on the server of `admin_url`.
fn database_url(admin_url: &str, name: &str) -> String {
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url, |(base, _)| base);
    format!("{base}/{name}")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    std::fs::remove_file(file).ok();
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                block_on_in_drop(async move {
                    if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                        admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await
                            .ok();
                    }
                });
            }
        }
    }
}

/// Runs `cleanup` to its end from a `Drop`, which runs inside the test's
/// runtime: on a thread with a runtime of its own.
pub(crate) fn block_on_in_drop(cleanup: impl Future<Output = ()> + Send + 'static) {
    std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(cleanup);
        }
    })
    .join()
    .ok();
}

/// POSTs a GraphQL request body to `url` with a token or as the public;
/// returns the status, headers and JSON body, whatever the status.
pub(crate) async fn post_graphql_to(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: &Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.expect("JSON response");
    (status, headers, body)
}

/// Background work that keeps quiet, so that the statements counted are the
/// requests' own (webhook tests ask for prompt delivery instead).
fn quiet() -> Background {
    Background {
        webhook_poll_ms: 3_600_000,
        tally_compact_ms: 3_600_000,
        audit_head_log_ms: 3_600_000,
        alert_poll_ms: 3_600_000,
        overdue_sweep_ms: 3_600_000,
        ..Background::default()
    }
}

/// The secret test servers sign tokens with.
pub const TEST_JWT_SECRET: &[u8] = b"test-secret-that-is-long-enough-for-hs256";

/// The signing configuration of test servers.
pub fn test_auth() -> AuthConfig {
    AuthConfig::new(TEST_JWT_SECRET, "fupin", "fupin-api").expect("test secret")
}

/// A running server and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// Token of a county administrator, sent by [`graphql`](Self::graphql) and [`query`](Self::query).
    pub admin_token: String,
    /// A connection of the test's own, for setting up and checking data.
    pub db: DatabaseConnection,
    /// The server's own metrics, which count its statements.
    pub metrics: Metrics,
    /// Notified to stop the server as a stop signal would.
    stop: Arc<Notify>,
    server: tokio::task::JoinHandle<()>,
    settings: Settings,
    _database: TestDatabase,
}

impl TestApp {
    /// A server with the default limits on an empty, migrated database.
    pub async fn spawn(backend: &Backend) -> TestApp {
        Self::spawn_with(backend, Limits::default()).await
    }

    /// A server with the given limits on an empty, migrated database.
    pub async fn spawn_with(backend: &Backend, limits: Limits) -> TestApp {
        Self::spawn_with_auth(backend, limits, test_auth()).await
    }

    /// A server with the given limits and token configuration.
    pub async fn spawn_with_auth(backend: &Backend, limits: Limits, auth: AuthConfig) -> TestApp {
        Self::spawn_full(backend, limits, auth, quiet(), Operations::default()).await
    }

    /// A server with the given limits, metrics and shutdown settings.
    pub async fn spawn_with_operations(
        backend: &Backend,
        limits: Limits,
        operations: Operations,
    ) -> TestApp {
        Self::spawn_full(backend, limits, test_auth(), quiet(), operations).await
    }

    /// A server that delivers webhooks with the given timings.
    pub async fn spawn_with_background(backend: &Backend, background: Background) -> TestApp {
        Self::spawn_full(
            backend,
            Limits::default(),
            test_auth(),
            background,
            Operations::default(),
        )
        .await
    }

    async fn spawn_full(
        backend: &Backend,
        limits: Limits,
        auth: AuthConfig,
        background: Background,
        operations: Operations,
    ) -> TestApp {
        let settings = Settings {
            limits,
            auth,
            background,
            operations,
        };
        Self::serve(TestDatabase::migrated(backend).await, settings).await
    }

    /// A server, with the settings of [`spawn`](Self::spawn), on a database
    /// that already holds a register, such as a restored backup: pending
    /// migrations are applied as `fupin serve` would, and the administrator
    /// is its user `admin`, which a copy of a test's database has.
    pub async fn open(database: TestDatabase) -> TestApp {
        let settings = Settings {
            limits: Limits::default(),
            auth: test_auth(),
            background: quiet(),
            operations: Operations::default(),
        };
        Self::serve(database, settings).await
    }

    /// A server on a new migrated PostgreSQL database that reads queries
    /// from the same database on `standby`, with `operations`' other settings.
    pub async fn spawn_reading_from(
        backend: &Backend,
        standby: &standby::Standby,
        mut operations: Operations,
    ) -> TestApp {
        let database = TestDatabase::migrated(backend).await;
        let name = database.postgres_name().expect("a PostgreSQL database");
        operations.read_database_urls = vec![standby.database_url(name)];
        let settings = Settings {
            limits: Limits::default(),
            auth: test_auth(),
            background: quiet(),
            operations,
        };
        Self::serve(database, settings).await
    }

    async fn serve(database: TestDatabase, settings: Settings) -> TestApp {
        if std::env::var("TEST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(std::env::var("TEST_LOG").unwrap_or_default())
                .with_test_writer()
                .try_init();
        }
        let (metrics, stop) = (Metrics::new(), Arc::new(Notify::new()));
        let (addr, server) = start(&database.url, &settings, metrics.clone(), stop.clone()).await;
        let db = api::db::connect(&database.url).await.expect("connect");
        let existing = app_user::Entity::find()
            .filter(app_user::Column::Username.eq("admin"))
            .one(&db)
            .await
            .expect("users");
        let admin = match existing {
            Some(admin) => admin,
            None => create_user(&db, "admin", Role::CountyAdmin, None, None).await,
        };
        TestApp {
            addr,
            client: reqwest::Client::new(),
            admin_token: token_of(&admin),
            db,
            metrics,
            stop,
            server,
            settings,
            _database: database,
        }
    }

    /// Stops the server, as a crash would, and starts another on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.stop = Arc::new(Notify::new());
        let (addr, server) = start(
            &self._database.url,
            &self.settings,
            self.metrics.clone(),
            self.stop.clone(),
        )
        .await;
        self.addr = addr;
        self.server = server;
    }

    /// Another replica of the service on the same database, with the same
    /// settings: it stops when dropped.
    pub async fn replica(&self) -> Replica {
        let (addr, server) = start(
            &self._database.url,
            &self.settings,
            Metrics::new(),
            Arc::new(Notify::new()),
        )
        .await;
        Replica { addr, server }
    }

    /// Tells the server to stop, as SIGTERM would: it stops being ready,
    /// drains, and ends (see [`stopped`](Self::stopped)).
    pub fn signal_stop(&self) {
        self.stop.notify_one();
    }

    /// Waits for the server to end after [`signal_stop`](Self::signal_stop).
    pub async fn stopped(&mut self) {
        (&mut self.server)
            .await
            .expect("the server ends without panicking");
    }

    /// Stops the server; requests fail until [`restart`](Self::restart).
    pub async fn stop(&mut self) {
        if !self.server.is_finished() {
            self.server.abort();
            let _ = (&mut self.server).await;
        }
    }

    /// A server whose database holds a generated county of `households` households.
    pub async fn seeded(backend: &Backend, households: u32) -> (TestApp, SeedReport) {
        let app = Self::spawn(backend).await;
        let report = app.seed(households, 7).await;
        (app, report)
    }

    pub async fn seed(&self, households: u32, seed: u64) -> SeedReport {
        api::seed::run(
            &self.db,
            &SeedOptions {
                households,
                seed,
                progress: false,
                without_households: false,
            },
        )
        .await
        .expect("seed")
    }

    /// Drops the triggers that keep `table` append-only, as someone with the
    /// database owner's rights could: to show what the service still detects.
    pub async fn drop_append_only(&self, table: &str) {
        let statements = match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                vec![format!("DROP TRIGGER {table}_append_only ON {table}")]
            }
            _ => vec![
                format!("DROP TRIGGER {table}_no_update"),
                format!("DROP TRIGGER {table}_no_delete"),
            ],
        };
        for statement in statements {
            self.db
                .execute_unprepared(&statement)
                .await
                .expect("drop a trigger");
        }
    }

    /// The URL of the database the server runs on.
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The samples of `/metrics`, opened with `token`: `name{labels}` to value.
    pub async fn metrics_samples(&self, token: &str) -> Vec<(String, f64)> {
        let response = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .expect("text")
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.expect("text");
        text.lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("a sample");
                (series.to_owned(), value.parse().expect("a number"))
            })
            .collect()
    }

    /// SQL statements the server has run so far.
    pub fn statements(&self) -> usize {
        usize::try_from(self.metrics.statements()).unwrap_or(usize::MAX)
    }

    /// POSTs a GraphQL request as the county administrator and returns the whole
    /// JSON response; asserts HTTP 200.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(Some(&self.admin_token), query, variables)
            .await
    }

    /// POSTs a GraphQL request with a token (or none, as the public); asserts HTTP 200.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let request = json!({ "query": query, "variables": variables });
        let (status, _, body) = self.post_graphql(token, &request).await;
        assert_eq!(status, 200, "unexpected status, body: {body}");
        body
    }

    /// POSTs a GraphQL request body (a query, or a persisted query's hash) with
    /// a token or as the public; returns the status, headers and JSON body,
    /// whatever the status.
    pub async fn post_graphql(
        &self,
        token: Option<&str>,
        body: &Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        post_graphql_to(&self.client, self.url("/graphql"), token, body).await
    }

    /// Like [`graphql`](Self::graphql), and asserts there were no errors; returns `data`.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        self.query_as(Some(&self.admin_token), query, variables)
            .await
    }

    /// Like [`graphql_as`](Self::graphql_as), and asserts there were no errors; returns `data`.
    pub async fn query_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.graphql_as(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// A token for a new user of `role`, scoped to the first township, village
    /// or enterprise of the register as the role needs.
    pub async fn token_for(&self, role: Role) -> String {
        self.user_for(role).await.1
    }

    /// A new user of `role` (scoped as [`token_for`](Self::token_for) says) and a token for them.
    pub async fn user_for(&self, role: Role) -> (app_user::Model, String) {
        let region = match role {
            Role::TownshipOfficer => Some(first_region(&self.db, RegionLevel::Township).await.code),
            Role::VillageCadre => Some(first_region(&self.db, RegionLevel::Village).await.code),
            _ => None,
        };
        let enterprise = match role {
            Role::Enterprise => Some(
                enterprise::Entity::find()
                    .order_by_asc(enterprise::Column::Id)
                    .one(&self.db)
                    .await
                    .expect("query")
                    .expect("an enterprise")
                    .credit_code,
            ),
            _ => None,
        };
        let username = format!("{}-{}", role.to_value(), uuid::Uuid::new_v4().simple());
        let user = create_user(&self.db, &username, role, region, enterprise).await;
        let token = token_of(&user);
        (user, token)
    }

    /// The actions of the audit trail of one record, newest first.
    pub async fn audit_actions(&self, entity_type: &str, entity_id: i64) -> Vec<String> {
        let data = self
            .query(
                "query($t: String, $id: Int) { auditEntries(first: 100, filter: { entityType: $t, entityId: $id }) { nodes { action } } }",
                json!({ "t": entity_type, "id": entity_id }),
            )
            .await;
        data["auditEntries"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|e| e["action"].as_str().expect("action").to_owned())
            .collect()
    }

    /// The `extensions.code` of each error of a response.
    pub fn error_codes(body: &Value) -> Vec<String> {
        body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        e["extensions"]["code"]
                            .as_str()
                            .unwrap_or("<none>")
                            .to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Creates a user as `fupin user create` does, with the password [`TEST_PASSWORD`];
/// the scope is a division code or a credit code, as the role needs.
pub async fn create_user(
    db: &DatabaseConnection,
    username: &str,
    role: Role,
    region_code: Option<String>,
    enterprise_credit_code: Option<String>,
) -> app_user::Model {
    let new = api::account::NewUser {
        username: username.to_owned(),
        password: TEST_PASSWORD.to_owned(),
        role,
        region_code,
        enterprise_credit_code,
    };
    match api::account::create_user(db, &api::audit::Actor::system("test"), new).await {
        Ok(user) => user,
        Err(err) => panic!("creating {username}: {err:?}"),
    }
}

/// The value of one series of a scrape ([`TestApp::metrics_samples`]); 0
/// when it is not there.
pub fn sample(samples: &[(String, f64)], series: &str) -> f64 {
    samples
        .iter()
        .find(|(name, _)| name == series)
        .map_or(0.0, |(_, value)| *value)
}

/// The password of users made by [`create_user`].
pub const TEST_PASSWORD: &str = "correct horse battery staple";

/// An access token for a user, signed as the test server signs.
pub fn token_of(user: &app_user::Model) -> String {
    api::auth::issue_access_token(&test_auth(), user, None, None, None)
        .expect("token")
        .0
}

/// The global ID of a row, as the API encodes it.
pub fn global_id(type_name: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}

/// The input field the first error of a response names.
pub fn error_field(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["field"]
}

/// The message of the first error of a response.
pub fn error_message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

/// The incomes of `from` recorded again for `to`, in one statement, as
/// another system writing to the database would: the seed records incomes up
/// to 2020, and the statistics of the current year want some.
pub async fn incomes_recorded_again(db: &DatabaseConnection, from: i32, to: i32) {
    let columns = "wage_fen, production_fen, property_fen, transfer_fen, production_cost_fen, \
                   household_size, per_capita_net_fen, version, updated_at";
    let sql = format!(
        "INSERT INTO household_income (household_id, year, {columns}) \
         SELECT household_id, {to}, {columns} FROM household_income WHERE year = {from}"
    );
    db.execute_unprepared(&sql).await.expect(&sql);
}

/// A day before today in the county.
pub fn days_ago(days: u64) -> chrono::NaiveDate {
    api::domain::calendar::today() - chrono::Days::new(days)
}

/// The database ID in a global ID the API returned.
pub fn raw_id(id: &Value) -> i64 {
    use base64::Engine;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id.as_str().expect("an ID"))
        .expect("base64");
    let text = String::from_utf8(text).expect("UTF-8");
    text.split_once(':')
        .and_then(|(_, raw)| raw.parse().ok())
        .expect("Type:id")
}

/// Every region of a level, in division-code order, read straight from the database.
pub async fn regions(db: &DatabaseConnection, level: RegionLevel) -> Vec<region::Model> {
    region::Entity::find()
        .filter(region::Column::Level.eq(level))
        .order_by_asc(region::Column::Code)
        .all(db)
        .await
        .expect("regions")
}

/// The first region of a level in division-code order.
pub async fn first_region(db: &DatabaseConnection, level: RegionLevel) -> region::Model {
    regions(db, level)
        .await
        .into_iter()
        .next()
        .expect("a region of that level")
}

/// A viewer of a role, for asking the policy what that role gets.
pub fn viewer_of_role(role: Role) -> api::access::Viewer {
    api::access::Viewer::User(api::access::User {
        id: 0,
        username: String::new(),
        role,
        region_prefix: None,
        enterprise_id: None,
        app: None,
    })
}

/// A `CreateHouseholdInput` in `village`: a card that passes every check, with its head and members.
pub fn household_input(village: &str, head: Value, members: Vec<Value>) -> Value {
    json!({
        "villageId": village, "address": "三组12号", "phone": "13800001111",
        "attribute": "GENERAL", "identificationStandard": "NATIONAL", "mainCause": "ILLNESS",
        "otherCauses": ["LACK_OF_FUNDS"],
        "conditions": {
            "cultivatedLandMu": 2.5, "housingAreaM2": 60.0, "dilapidatedGrade": "C",
            "safeDrinkingWater": true, "productionElectricity": true,
            "householdElectricity": true, "roadDistanceKm": 1.2, "joinedCooperative": false,
        },
        "guarantees": {
            "food": true, "clothing": true, "compulsoryEducation": true,
            "basicMedical": true, "safeHousing": false,
        },
        "head": head,
        "members": members,
    })
}

/// A member as `MemberInput` takes it: a healthy adult of ordinary labour.
pub fn person(name: &str, id_number: &str, relation: &str) -> Value {
    json!({
        "name": name, "idNumber": id_number, "relation": relation, "ethnicity": "01",
        "education": "PRIMARY", "studentStatus": "NOT_STUDENT", "health": "HEALTHY",
        "labourAbility": "ORDINARY", "migrantWork": "NONE",
        "basicMedicalInsurance": true, "seriousIllnessInsurance": true, "basicPension": false,
    })
}

/// The audit sequence a change-feed cursor (or webhook event ID) stands for.
pub fn feed_sequence(cursor: &str) -> i64 {
    use base64::Engine;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .expect("base64");
    let text = String::from_utf8(text).expect("UTF-8");
    text.strip_prefix("change:")
        .or_else(|| text.strip_prefix("Change:"))
        .and_then(|n| n.parse().ok())
        .expect("change:N or Change:N")
}
