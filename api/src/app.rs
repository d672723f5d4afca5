//! Builds the router and its state, and serves it until shut down.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::access::Viewer;
use crate::audit;
use crate::auth::AuthConfig;
use crate::budget::Budgets;
use crate::config::{Background, Limits, Operations};
use crate::domain::{closed_year, tally};
use crate::exchange;
use crate::graphql::{self, FupinSchema};
use crate::http::{self, REQUEST_ID};
use crate::live::{self, Hub};
use crate::pages;
use crate::persisted;
use crate::replicas::Replicas;
use crate::telemetry::access;
use crate::telemetry::metrics::Metrics;

/// The response header echoing a client's own, safe, `x-request-id`.
pub const CORRELATION_ID: &str = "x-correlation-id";

/// Shared by every request; cheap to clone. Holds no data of its own (the
/// cache of persisted documents only repeats the database), so any number of
/// replicas can serve behind a load balancer.
#[derive(Clone)]
pub struct AppState {
    pub schema: FupinSchema,
    /// What callers without a token get: the same schema with
    /// `--public-introspection`, else one closed to introspection.
    pub anonymous_schema: FupinSchema,
    pub db: DatabaseConnection,
    pub limits: Limits,
    pub auth: AuthConfig,
    /// What each client has left to spend, in this replica.
    pub budgets: Arc<Budgets>,
    /// Persisted documents, with this replica's cache of them.
    pub documents: persisted::Store,
    /// The audit entries this replica's subscriptions hear of.
    pub hub: Hub,
    pub metrics: Metrics,
    /// What opens `/metrics` on the service's own address, if anything does.
    pub metrics_token: Option<Arc<str>>,
    /// How far the server is in stopping: `/readyz` says no once it began.
    pub stopping: Stopping,
    /// Where queries may be read instead of the primary.
    pub replicas: Replicas,
}

impl AppState {
    pub fn schema_for(&self, viewer: &Viewer) -> &FupinSchema {
        match viewer {
            Viewer::Public => &self.anonymous_schema,
            Viewer::User(_) => &self.schema,
        }
    }
}

/// What a server runs with.
pub struct Settings {
    pub limits: Limits,
    pub auth: AuthConfig,
    pub background: Background,
    pub operations: Operations,
}

/// The routes and their state; refuses budgets it cannot read.
pub fn router(
    db: DatabaseConnection,
    limits: Limits,
    auth: AuthConfig,
    shared: &Shared,
    metrics_token: Option<&str>,
) -> Result<Router, String> {
    let Shared {
        hub,
        metrics,
        replicas,
        stopping,
    } = shared.clone();
    let budgets = Arc::new(Budgets::new(&limits.budgets, limits.replicas)?);
    let cors_origins = limits.cors_origins.clone();
    let schema = graphql::schema(Some(db.clone()), &limits, Some(auth.clone()));
    let anonymous_schema = if limits.public_introspection {
        schema.clone()
    } else {
        graphql::closed_schema(Some(db.clone()), &limits, Some(auth.clone()))
    };
    let state = AppState {
        schema,
        anonymous_schema,
        documents: persisted::Store::new(db.clone()),
        db,
        limits,
        auth,
        budgets,
        hub,
        metrics: metrics.clone(),
        metrics_token: metrics_token.map(Arc::from),
        stopping: stopping.clone(),
        replicas,
    };
    let turns = Arc::new(Semaphore::new(
        state.limits.max_concurrent_requests as usize,
    ));
    let graphql = get(http::get)
        .post(http::post)
        .route_layer(middleware::from_fn(move |request: Request, next: Next| {
            let turns = turns.clone();
            async move {
                // Held until the answer is made; the semaphore is fair, so
                // requests are served in the order they came.
                let _turn = turns.acquire_owned().await;
                next.run(request).await
            }
        }));
    let router = Router::new()
        .route("/", get(pages::portal::page))
        .route("/portal/{file}", get(pages::portal::asset))
        .route("/graphql", graphql)
        .route("/graphiql/{file}", get(pages::graphiql::asset))
        .route("/booklet", get(pages::booklet::page))
        .route("/booklet/{file}", get(pages::booklet::asset))
        .route(
            "/exchange/households",
            get(exchange::http::export).post(exchange::http::import),
        )
        .route("/healthz", get(http::healthz))
        .route("/readyz", get(http::readyz))
        .route("/metrics", get(http::metrics))
        .with_state(state)
        .layer(middleware::from_fn_with_state(
            stopping.cancelled.clone(),
            cancel_on_stop,
        ))
        .layer(CatchPanicLayer::custom(http::panic_response))
        .layer(middleware::from_fn_with_state(metrics, access::observe))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            let correlation = request.extensions().get::<Correlation>().map(Correlation::as_str);
            // The handler records where the request comes from, once it knows.
            tracing::info_span!("request", id, correlation, method = %request.method(), path = %request.uri().path(), source = tracing::field::Empty)
        }))
        .layer(middleware::from_fn(request_ids));
    let router = match cors(&cors_origins)? {
        Some(cors) => router.layer(cors),
        None => router,
    };
    Ok(security_headers(router))
}

/// What a server's requests share with its background work.
#[derive(Clone, Default)]
pub struct Shared {
    /// The audit entries the subscriptions hear of.
    pub hub: Hub,
    pub metrics: Metrics,
    pub replicas: Replicas,
    pub stopping: Stopping,
}

/// How a server stops: first no longer ready; then draining, when it takes
/// no more connections and closes its websockets; then, once the grace period
/// is over, every request still running cancelled.
#[derive(Clone, Default)]
pub struct Stopping {
    not_ready: Arc<AtomicBool>,
    draining: CancellationToken,
    cancelled: CancellationToken,
}

impl Stopping {
    /// Whether the stop has begun: the balancer should send no more.
    pub fn is_stopping(&self) -> bool {
        self.not_ready.load(Ordering::SeqCst)
    }

    /// Resolves once the server drains.
    pub async fn draining(&self) {
        self.draining.cancelled().await;
    }
}

/// Runs a request until it is answered, or until the stop cancels it: its
/// future is dropped, and with it any transaction it had open, which rolls
/// back. (Dropping the server would not do: each connection runs in a task of
/// its own.)
async fn cancel_on_stop(
    State(cancelled): State<CancellationToken>,
    request: Request,
    next: Next,
) -> Response {
    tokio::select! {
        response = next.run(request) => response,
        () = cancelled.cancelled() => http::cancelled_by_stop(),
    }
}

/// Lets pages of the listed origins call the API from a browser: preflights
/// are answered, and the answer to a listed origin says it may read the
/// response. An origin not listed gets no CORS header at all, so its pages
/// cannot read what a user's token fetched. No cookie carries credentials
/// (tokens travel in `Authorization`), so `Access-Control-Allow-Credentials`
/// is never sent either.
fn cors(origins: &[String]) -> Result<Option<CorsLayer>, String> {
    if origins.is_empty() {
        return Ok(None);
    }
    let origins = origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin).map_err(|_| format!("`{origin}` is not an origin"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ours = |names: &[&'static str]| {
        names
            .iter()
            .map(|n| HeaderName::from_static(n))
            .collect::<Vec<_>>()
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(
                [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT]
                    .into_iter()
                    .chain(ours(&[REQUEST_ID]))
                    .collect::<Vec<_>>(),
            )
            .expose_headers(
                [header::RETRY_AFTER]
                    .into_iter()
                    .chain(ours(&[
                        REQUEST_ID,
                        CORRELATION_ID,
                        http::RATE_LIMIT,
                        http::RATE_REMAINING,
                        http::RATE_RESET,
                    ]))
                    .collect::<Vec<_>>(),
            )
            .max_age(Duration::from_secs(600)),
    ))
}

/// A client's own request ID, kept when it is safe to log and echo.
#[derive(Clone)]
struct Correlation(HeaderValue);

impl Correlation {
    /// At most 64 characters of `[A-Za-z0-9._:-]`: nothing that could forge or
    /// break a log line.
    fn from_client(value: HeaderValue) -> Option<Correlation> {
        let bytes = value.as_bytes();
        let safe = !bytes.is_empty()
            && bytes.len() <= 64
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b".:_-".contains(b));
        safe.then_some(Correlation(value))
    }

    fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

/// Gives every request an `x-request-id` of our own (what logs, the audit trail
/// and INTERNAL errors carry), whatever the client sent; a client's own ID
/// comes back as `x-correlation-id` when it is safe, and is dropped otherwise.
async fn request_ids(mut request: Request, next: Next) -> Response {
    let correlation = request
        .headers_mut()
        .remove(REQUEST_ID)
        .and_then(Correlation::from_client);
    let id = HeaderValue::try_from(uuid::Uuid::new_v4().to_string())
        .expect("a UUID is a valid header value");
    request.headers_mut().insert(REQUEST_ID, id.clone());
    if let Some(correlation) = &correlation {
        request.extensions_mut().insert(correlation.clone());
    }
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID, id);
    if let Some(Correlation(value)) = correlation {
        response.headers_mut().insert(CORRELATION_ID, value);
    }
    response
}

/// Headers on every response. What may carry personal data is never stored by
/// a cache (a response that sets its own `Cache-Control`, as GraphiQL's files
/// do, keeps it), and nothing is a page unless it says so (GraphiQL's page
/// sets its own Content-Security-Policy).
fn security_headers(router: Router) -> Router {
    let fixed = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    let default = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"))
        .layer(default(header::CACHE_CONTROL, "no-store"))
        .layer(default(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
}

/// Where a server listens: the API, and perhaps a private address for
/// `/metrics` alone.
pub struct Listeners {
    pub api: TcpListener,
    pub metrics: Option<TcpListener>,
}

/// Serves until `shutdown` resolves, then says it is not ready, then stops
/// taking connections and lets requests in flight finish until the grace
/// period ends, and cancels the rest (their transactions roll back).
/// Meanwhile keeps the village tally compact, closes last year's statistics
/// once it is over, delivers webhook events, reads the audit trail for its
/// subscriptions and announces overdue measures (every replica does all of
/// these; they do not step on each other) and logs the audit chain head.
pub async fn serve(
    listeners: Listeners,
    mut db: DatabaseConnection,
    settings: Settings,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Settings {
        limits,
        auth,
        background,
        operations,
    } = settings;
    let counted = metrics.clone();
    db.set_metric_callback(move |info| counted.statement(info.elapsed, info.failed));
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    if !operations.read_database_urls.is_empty()
        && db.get_database_backend() != sea_orm::DbBackend::Postgres
    {
        return Err(invalid(
            "read replicas (FUPIN_READ_DATABASE_URL) need a PostgreSQL primary".into(),
        ));
    }
    let replicas = Replicas::connect(&operations.read_database_urls, operations.read_max_lag())
        .await
        .map_err(|err| invalid(err.to_string()))?;
    let shared = Shared {
        hub: Hub::default(),
        metrics: metrics.clone(),
        replicas: replicas.clone(),
        stopping: Stopping::default(),
    };
    let router = router(
        db.clone(),
        limits,
        auth,
        &shared,
        operations.metrics_token.as_deref(),
    )
    .map_err(invalid)?;
    let Shared { hub, stopping, .. } = shared;
    let _background = Tasks(vec![
        tokio::spawn(tally::keep_compacting(
            db.clone(),
            background.compact_every(),
        )),
        tokio::spawn(closed_year::keep_closing(
            db.clone(),
            background.compact_every(),
        )),
        tokio::spawn(audit::keep_logging_head(
            db.clone(),
            background.audit_head_every(),
        )),
        tokio::spawn(live::keep_reading(db.clone(), hub, background.alert_poll())),
        tokio::spawn(live::keep_announcing_overdue(
            db.clone(),
            background.overdue_sweep(),
        )),
        tokio::spawn(exchange::delivery::keep_delivering(
            db.clone(),
            background,
            metrics.clone(),
        )),
        tokio::spawn(replicas.keep_checking(
            db.clone(),
            operations.read_max_lag() / 4,
            metrics.clone(),
        )),
    ]);
    let _metrics_server = listeners
        .metrics
        .map(|listener| Tasks(vec![tokio::spawn(serve_metrics(listener, db, metrics))]));
    let stop_taking = {
        let stopping = stopping.clone();
        let notice = operations.shutdown_notice();
        async move {
            shutdown.await;
            stopping.not_ready.store(true, Ordering::SeqCst);
            tracing::info!(notice_ms = notice.as_millis() as u64, "stopping: not ready");
            tokio::time::sleep(notice).await;
            tracing::info!(
                "stopping: no new connections, websockets closed, draining requests in flight"
            );
            stopping.draining.cancel();
        }
    };
    // The peer's address identifies callers without a token, for their budget.
    let serving = axum::serve(
        listeners.api,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop_taking)
    .into_future();
    tokio::pin!(serving);
    let grace = operations.shutdown_grace();
    tokio::select! {
        served = &mut serving => return served,
        () = async {
            stopping.draining().await;
            tokio::time::sleep(grace).await;
        } => {}
    }
    tracing::warn!(
        grace_ms = grace.as_millis() as u64,
        "stopping: grace period over, cancelling requests in flight"
    );
    stopping.cancelled.cancel();
    // The cancelled requests answer at once and their connections close; a
    // connection that does not is left behind.
    tokio::time::timeout(CLOSING, serving)
        .await
        .unwrap_or(Ok(()))
}

/// How long connections have to close once their requests are cancelled.
const CLOSING: Duration = Duration::from_secs(5);

/// `/metrics` alone, without a token, on a listener of its own.
async fn serve_metrics(listener: TcpListener, db: DatabaseConnection, metrics: Metrics) {
    let router = Router::new()
        .route("/metrics", get(http::open_metrics))
        .with_state((db, metrics));
    if let Err(err) = axum::serve(listener, router).await {
        tracing::error!(error = %err, "the metrics listener stopped");
    }
}

/// Tasks that live as long as the server: stopped when it ends, or when its
/// future is dropped.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
