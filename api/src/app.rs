//! Builds the router and its state, and serves it until shut down.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::access::Viewer;
use crate::auth::AuthConfig;
use crate::config::{Delivery, Limits};
use crate::exchange;
use crate::graphiql;
use crate::graphql::statistics::tally;
use crate::graphql::{self, FupinSchema};
use crate::http::{self, REQUEST_ID};

/// Shared by every request; cheap to clone. Holds no data of its own, so any
/// number of replicas can serve behind a load balancer.
#[derive(Clone)]
pub struct AppState {
    pub schema: FupinSchema,
    /// What callers without a token get: the same schema with
    /// `--public-introspection`, else one closed to introspection.
    pub anonymous_schema: FupinSchema,
    pub db: DatabaseConnection,
    pub limits: Limits,
    pub auth: AuthConfig,
}

impl AppState {
    pub fn schema_for(&self, viewer: &Viewer) -> &FupinSchema {
        match viewer {
            Viewer::Public => &self.anonymous_schema,
            Viewer::User(_) => &self.schema,
        }
    }
}

pub fn router(db: DatabaseConnection, limits: Limits, auth: AuthConfig) -> Router {
    let schema = graphql::schema(Some(db.clone()), &limits, Some(auth.clone()));
    let anonymous_schema = if limits.public_introspection {
        schema.clone()
    } else {
        graphql::closed_schema(Some(db.clone()), &limits, Some(auth.clone()))
    };
    let state = AppState {
        schema,
        anonymous_schema,
        db,
        limits,
        auth,
    };
    let request_id = HeaderName::from_static(REQUEST_ID);
    Router::new()
        .route("/graphql", get(http::get).post(http::post))
        .route("/graphiql/{file}", get(graphiql::asset))
        .route(
            "/exchange/households",
            get(exchange::http::export).post(exchange::http::import),
        )
        .route("/healthz", get(http::healthz))
        .route("/readyz", get(http::readyz))
        .with_state(state)
        .layer(CatchPanicLayer::custom(http::panic_response))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Serves on `listener` until `shutdown` resolves, then drains in-flight
/// requests. Meanwhile keeps the village tally compact and delivers webhook
/// events (every replica does both; they do not step on each other).
pub async fn serve(
    listener: TcpListener,
    db: DatabaseConnection,
    limits: Limits,
    auth: AuthConfig,
    delivery: Delivery,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _background = Background(vec![
        tokio::spawn(tally::keep_compacting(db.clone())),
        tokio::spawn(exchange::delivery::keep_delivering(db.clone(), delivery)),
    ]);
    axum::serve(listener, router(db, limits, auth))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Tasks that live as long as the server: stopped when it ends, or when its
/// future is dropped.
struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
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
    // Give the load balancer a moment to notice before connections close.
    tokio::time::sleep(Duration::from_millis(100)).await;
}
