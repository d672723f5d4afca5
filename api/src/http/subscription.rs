//! Subscriptions over a websocket: `GET /graphql` upgraded, speaking the
//! graphql-ws protocol (`graphql-transport-ws`, or the older `graphql-ws`).
//! The token travels in the `connection_init` payload, `{"Authorization":
//! "Bearer <token>"}`, since a browser cannot set headers on a websocket; it
//! is checked as an HTTP request's is, and every subscription of the
//! connection runs as its user, under the same row scope and field policy, and
//! ends when it expires. The socket carries subscriptions only: queries and
//! mutations go over HTTP, where budgets, trusted documents and timeouts hold.

use std::any::TypeId;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{FromRequestParts, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;

use super::{Media, admit, finish, request_error, request_id_of};
use crate::access::{self, Viewer};
use crate::app::AppState;
use crate::error::code;
use crate::graphql::alert::Live;
use crate::graphql::context::{RequestData, coded_error};
use crate::graphql::cost::Meter;
use crate::graphql::document;

/// Subscriptions one connection may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 10;

/// The connection's user, from its `connection_init`.
struct Session {
    viewer: Viewer,
    token: String,
    expires: DateTime<Utc>,
}

/// `GET /graphql` asking to upgrade to a websocket.
pub(super) async fn upgrade(
    state: AppState,
    mut parts: Parts,
    source: IpAddr,
) -> axum::response::Response {
    let media = Media::Json;
    let Ok(protocol) = GraphQLProtocol::from_request_parts(&mut parts, &state).await else {
        return request_error(
            media,
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "a websocket to /graphql speaks graphql-transport-ws (or graphql-ws): \
             ask for it in Sec-WebSocket-Protocol"
                .into(),
        );
    };
    if let Some(origin) = foreign_origin(&state, &parts.headers) {
        return request_error(
            media,
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            format!("pages of {origin} may not open a websocket here (see FUPIN_CORS_ORIGINS)"),
        );
    }
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    // Opening a connection spends a request of the caller's budget, like any other.
    if let Err(refusal) = admit(&state, &parts.headers, source, media).await {
        return refusal;
    }
    let executor = Subscriptions {
        state: state.clone(),
        source,
        request_id: request_id_of(&parts.headers),
        open: Arc::new(AtomicUsize::new(0)),
    };
    let stopping = state.stopping.clone();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let serving = GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| connect(state, payload))
                .serve();
            // A stopping server closes its websockets when it drains: their
            // apps reconnect to another replica rather than hold this one up.
            tokio::select! {
                () = serving => {}
                () = stopping.draining() => {}
            }
        })
}

/// The origin of a browser page that may not open a websocket: one neither
/// the service's own (the portal's) nor listed in `FUPIN_CORS_ORIGINS`. Apps
/// send no origin. A page's origin matters although the token travels in the
/// payload: a page elsewhere has no business holding a user's live alerts.
fn foreign_origin(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("?");
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let own = origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host));
    let listed = state
        .limits
        .cors_origins
        .iter()
        .any(|o| o.eq_ignore_ascii_case(origin));
    (!own && !listed).then(|| origin.to_owned())
}

/// Checks the token of a `connection_init` payload; a refusal closes the
/// connection (4403 under graphql-transport-ws).
async fn connect(state: AppState, payload: serde_json::Value) -> async_graphql::Result<Data> {
    let authorization = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key)?.as_str());
    let token = authorization
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            async_graphql::Error::new(
                r#"send the token in connection_init: {"Authorization": "Bearer <token>"}"#,
            )
        })?;
    let (viewer, expires) = access::session_from_token(&state.db, &state.auth, token)
        .await
        .map_err(|_| {
            async_graphql::Error::new("the access token is invalid, expired or revoked")
        })?;
    let expires = DateTime::from_timestamp(expires, 0).unwrap_or_else(Utc::now);
    let mut data = Data::default();
    data.insert(Session {
        viewer,
        token: token.to_owned(),
        expires,
    });
    Ok(data)
}

/// Runs a connection's subscriptions: each document weighed as an HTTP
/// request's is, then run as the connection's user.
#[derive(Clone)]
struct Subscriptions {
    state: AppState,
    source: IpAddr,
    request_id: String,
    /// The connection's subscriptions running now.
    open: Arc<AtomicUsize>,
}

/// Counts a subscription as open while its stream lives.
struct Opened(Arc<AtomicUsize>);

impl Drop for Opened {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a subscription refused before it runs answers: one response, its errors.
fn refused(error: ServerError) -> BoxStream<'static, Response> {
    let response = Response::from_errors(vec![error]);
    futures::stream::once(async move { response }).boxed()
}

const SUBSCRIPTIONS_ONLY: &str =
    "send queries and mutations over HTTP; the websocket carries subscriptions";

impl Executor for Subscriptions {
    async fn execute(&self, _: Request) -> Response {
        Response::from_errors(vec![coded_error(SUBSCRIPTIONS_ONLY, code::BAD_REQUEST)])
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let session = session.as_deref().and_then(|data| {
            data.get(&TypeId::of::<Session>())?
                .downcast_ref::<Session>()
        });
        let Some(session) = session else {
            return refused(coded_error(
                "authentication required",
                code::UNAUTHENTICATED,
            ));
        };
        let limits = &self.state.limits;
        let parsed = match document::admit(&request.query, limits) {
            Ok(parsed) => parsed,
            Err(error) => return refused(error),
        };
        if document::operation_type(&parsed, request.operation_name.as_deref())
            != Some(OperationType::Subscription)
        {
            return refused(coded_error(SUBSCRIPTIONS_ONLY, code::BAD_REQUEST));
        }
        // Counted at once, and uncounted when `opened` drops, refused or ended.
        let already = self.open.fetch_add(1, Ordering::Relaxed);
        let opened = Opened(self.open.clone());
        if already >= MAX_SUBSCRIPTIONS {
            return refused(coded_error(
                format!("a connection may hold at most {MAX_SUBSCRIPTIONS} subscriptions"),
                code::BAD_REQUEST,
            ));
        }
        request.set_parsed_query(parsed);
        let meter = Arc::new(Meter::for_subscription(
            limits.max_complexity,
            limits.max_parallel_fields,
        ));
        let data = RequestData::new(
            self.state.db.clone(),
            session.viewer.clone(),
            limits,
            &self.request_id,
            meter,
            self.source,
            self.state.metrics.clone(),
        );
        let live = Live {
            hub: self.state.hub.clone(),
            token: session.token.clone(),
            expires: session.expires,
        };
        let request_id = self.request_id.clone();
        self.state
            .schema
            .execute_stream(request.data(data).data(live))
            .map(move |mut response| {
                let _open = &opened;
                finish(&mut response, &request_id);
                response
            })
            .boxed()
    }
}
