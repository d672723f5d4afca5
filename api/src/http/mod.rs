//! GraphQL over HTTP, written out rather than taken from async-graphql-axum: its
//! stock extractor runs mutations sent by GET and reads `text/plain` bodies as
//! JSON (a cross-site request forgery hole). Here GET runs queries only, POST
//! takes `application/json` only, batching is off unless configured, and every
//! error a client sees has a code. Each caller spends its budget (`budget`);
//! a document may come as its SHA-256 instead (Apollo's automatic persisted
//! queries), and a token issued through an app may be held to the documents
//! registered for it; each document is weighed (`graphql::document`) before
//! async-graphql walks it.

mod admission;
mod documents;
mod source;
mod subscription;

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::{BatchRequest, Request, Response, ServerError, Value};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use sha2::Digest;

use admission::{Admitted, cost_extension, set_retry_after, with_standing};
pub(crate) use admission::{RATE_LIMIT, RATE_REMAINING, RATE_RESET, admit};
use documents::{resolve_document, resolve_documents};
pub use source::client_source;
pub(crate) use source::request_source;
pub use subscription::MAX_SUBSCRIPTIONS;

use crate::access::{self, Viewer};
use crate::app::AppState;
use crate::error::{ApiError, code};
use crate::graphql::context::{RequestData, coded_error};
use crate::graphql::cost::{self, Meter};
use crate::graphql::document;
use crate::telemetry::access::{Operation, Outcome};
use crate::telemetry::metrics::{self, Metrics};

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
pub const REQUEST_ID: &str = "x-request-id";

/// The media type a client asked for; it decides status codes for request errors.
#[derive(Clone, Copy)]
pub(crate) enum Media {
    Json,
    GraphqlResponse,
}

impl Media {
    fn from_accept(headers: &HeaderMap) -> Media {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.contains(GRAPHQL_RESPONSE) {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// `GET /graphql`: GraphiQL for a browser, a query in the URL, or a
/// websocket for subscriptions.
pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, _) = request.into_parts();
    let source = request_source(&state, &parts.headers, peer);
    let wants_websocket = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_websocket {
        return subscription::upgrade(state, parts, source).await;
    }
    let headers = parts.headers;
    let raw = parts.uri.query().map(str::to_owned);
    let Some(raw) = raw.filter(|q| !q.is_empty()) else {
        return crate::pages::graphiql::page();
    };
    let media = Media::from_accept(&headers);
    let request = match parse_query_string(&raw) {
        Ok(request) => request,
        Err(message) => {
            return request_error(media, StatusCode::BAD_REQUEST, code::BAD_REQUEST, message);
        }
    };
    let admitted = match admit(&state, &headers, source, media).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    // A mutation sent as a hash is a mutation too: `execute` checks the
    // document it resolves to.
    let request = match resolve_document(&state, &admitted.viewer, request).await {
        Ok(request) => request,
        Err(refusal) => return with_standing(refusal.respond(media), &admitted.standing),
    };
    if request.query.trim().is_empty() {
        return no_query(media);
    }
    let call = Call {
        state: &state,
        headers: &headers,
        media,
        by_get: true,
    };
    execute(call, admitted, BatchRequest::Single(request)).await
}

/// `POST /graphql`: one operation, or a batch when batching is configured.
pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let source = request_source(&state, &headers, peer);
    let media = Media::from_accept(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(JSON) {
        return request_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            format!("send the request as {JSON}, not `{content_type}`"),
        );
    }
    let limit = state.limits.max_body_bytes;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return request_error(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                code::PAYLOAD_TOO_LARGE,
                format!("the request body may be at most {limit} bytes"),
            );
        }
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(err) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                format!("malformed JSON body: {err}"),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &batch {
        let max = state.limits.max_batch;
        let refusal = if max == 0 {
            Some("batched requests are not enabled on this server".to_owned())
        } else if requests.len() > max {
            Some(format!(
                "a batch may hold at most {max} operations, got {}",
                requests.len()
            ))
        } else if requests.is_empty() {
            Some("the batch is empty".to_owned())
        } else {
            None
        };
        if let Some(message) = refusal {
            return request_error(media, StatusCode::BAD_REQUEST, code::BAD_REQUEST, message);
        }
    }
    let admitted = match admit(&state, &headers, source, media).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let batch = match resolve_documents(&state, &admitted.viewer, batch).await {
        Ok(batch) => batch,
        Err(refusal) => return with_standing(refusal.respond(media), &admitted.standing),
    };
    if batch.iter().any(|r| r.query.trim().is_empty()) {
        return no_query(media);
    }
    let call = Call {
        state: &state,
        headers: &headers,
        media,
        by_get: false,
    };
    execute(call, admitted, batch).await
}

/// The parameters of a GET request, named as GraphQL over HTTP names them
/// (async-graphql's own parser expects `operation_name`).
#[derive(serde::Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn parse_query_string(raw: &str) -> Result<Request, String> {
    let params: GetParams =
        serde_urlencoded::from_str(raw).map_err(|e| format!("malformed query string: {e}"))?;
    fn json<T: serde::de::DeserializeOwned + Default>(
        name: &str,
        text: Option<String>,
    ) -> Result<T, String> {
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| format!("`{name}` is not valid JSON: {e}"))
        })
        .transpose()
        .map(Option::unwrap_or_default)
    }
    let mut request = Request::new(params.query).variables(json("variables", params.variables)?);
    request.extensions = json("extensions", params.extensions)?;
    request.operation_name = params.operation_name;
    Ok(request)
}

/// The ID the request-ID layer gave the request.
pub(crate) fn request_id_of(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Who is asking: the user the bearer token names, the public without one, or
/// the response refusing a token that names no one.
async fn viewer_of_request(
    state: &AppState,
    headers: &HeaderMap,
    media: Media,
) -> Result<Viewer, axum::response::Response> {
    match bearer_token(headers) {
        Ok(None) => Ok(Viewer::Public),
        Ok(Some(token)) => match access::viewer_from_token(&state.db, &state.auth, token).await {
            Ok(viewer) => Ok(viewer),
            Err(ApiError::Internal(detail)) => {
                tracing::error!(error = %detail, "resolving a token failed");
                Err(request_error(
                    media,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code::INTERNAL,
                    "internal error".into(),
                ))
            }
            Err(_) => Err(unauthenticated(media)),
        },
        Err(()) => Err(unauthenticated(media)),
    }
}

/// One GraphQL call over HTTP, as a handler received it.
struct Call<'a> {
    state: &'a AppState,
    headers: &'a HeaderMap,
    media: Media,
    /// Sent by GET, which may not run mutations.
    by_get: bool,
}

async fn execute(
    call: Call<'_>,
    admitted: Admitted,
    batch: BatchRequest,
) -> axum::response::Response {
    let Call {
        state,
        headers,
        media,
        by_get,
    } = call;
    let request_id = request_id_of(headers);
    let Admitted {
        viewer,
        source,
        client,
        standing,
    } = admitted;
    let (single, requests) = match batch {
        BatchRequest::Single(request) => (true, vec![request]),
        BatchRequest::Batch(requests) => (false, requests),
    };
    let data = |db: sea_orm::DatabaseConnection, meter: Arc<Meter>| {
        RequestData::new(
            db,
            viewer.clone(),
            &state.limits,
            &request_id,
            meter,
            source,
            state.metrics.clone(),
        )
    };
    let mut meters = Vec::with_capacity(requests.len());
    let mut runs = Vec::with_capacity(requests.len());
    let mut names = Vec::with_capacity(requests.len());
    for mut request in requests {
        let meter = Arc::new(Meter::new(
            state.limits.max_complexity,
            standing.cost_left,
            state.limits.max_parallel_fields,
        ));
        meters.push(meter.clone());
        // Analysed here, before async-graphql walks the document.
        match document::admit(&request.query, &state.limits) {
            Err(refused) => {
                names.push(None);
                runs.push(Err(Response::from_errors(vec![refused])));
            }
            Ok(parsed) => {
                names.push(document::operation_name(
                    &parsed,
                    request.operation_name.as_deref(),
                ));
                let mutation = document::is_mutation(&parsed, request.operation_name.as_deref());
                if by_get && mutation {
                    return observed(
                        with_standing(method_not_allowed(media), &standing),
                        &viewer,
                        refused(names, &meters, code::METHOD_NOT_ALLOWED),
                    );
                }
                // Changes, and reads that may follow them, on the primary.
                let replica = if mutation || state.replicas.is_empty() {
                    None
                } else {
                    state.replicas.reader_for(&state.db, &viewer).await
                };
                if !mutation {
                    let read_from = replica
                        .as_ref()
                        .map_or("primary", |(index, _)| state.replicas.name(*index));
                    state.metrics.query_read_from(read_from);
                }
                // What a replica failed to answer, the primary answers again;
                // its request data is made only then.
                let again = replica.as_ref().map(|(index, _)| {
                    let mut again =
                        Request::new(request.query.clone()).variables(request.variables.clone());
                    again.operation_name = request.operation_name.clone();
                    again.extensions = request.extensions.clone();
                    again.set_parsed_query(parsed.clone());
                    (*index, again, meter.clone())
                });
                request.set_parsed_query(parsed);
                let reader = replica.map_or_else(|| state.db.clone(), |(_, db)| db);
                runs.push(Ok((request.data(data(reader, meter)), again)));
            }
        }
    }
    let schema = state.schema_for(&viewer);
    let (replicas, data) = (&state.replicas, &data);
    let work = futures::future::join_all(runs.into_iter().map(|run| async move {
        match run {
            Ok((request, again)) => {
                let response = schema.execute(request).await;
                match again {
                    Some((replica, again, meter)) if failed_internally(&response) => {
                        replicas.mark_down(replica);
                        schema
                            .execute(again.data(data(state.db.clone(), meter)))
                            .await
                    }
                    _ => response,
                }
            }
            Err(refused) => refused,
        }
    }));
    let stopped = futures::future::select_all(meters.iter().map(|meter| Box::pin(meter.stopped())));
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(state.limits.request_timeout(), work) => Some(outcome),
        _ = stopped => None,
    };
    // What ran is paid for, whether or not it finished.
    let spent = meters.iter().map(|meter| meter.actual()).sum();
    let cost_left = state.budgets.charge(client, viewer.role(), spent);
    let outcome = outcome.filter(|_| !meters.iter().any(|meter| meter.over_limit()));
    let Some(outcome) = outcome else {
        let response = Response::from_errors(vec![cost::stopped(state.limits.max_complexity)]);
        let status = match media {
            Media::GraphqlResponse => StatusCode::BAD_REQUEST,
            Media::Json => StatusCode::OK,
        };
        return observed(
            with_standing(json(status, media, &response), &standing),
            &viewer,
            refused(names, &meters, code::QUERY_TOO_COMPLEX),
        );
    };
    let Ok(mut responses) = outcome else {
        tracing::warn!(
            timeout_ms = state.limits.request_timeout_ms,
            "request timed out"
        );
        let refusal = request_error(
            media,
            StatusCode::SERVICE_UNAVAILABLE,
            code::TIMEOUT,
            format!(
                "the request took longer than {} ms and was abandoned",
                state.limits.request_timeout_ms
            ),
        );
        return observed(
            with_standing(refusal, &standing),
            &viewer,
            refused(names, &meters, code::TIMEOUT),
        );
    };
    let mut over_budget = None;
    for (response, meter) in responses.iter_mut().zip(&meters) {
        if meter.over_budget() {
            over_budget = Some(meter.requested());
        }
        let cost = cost_extension(meter, state.limits.max_complexity, &standing, cost_left);
        response.extensions.insert("cost".to_owned(), cost);
    }
    let mut bodies: Vec<(serde_json::Value, bool)> = responses
        .iter_mut()
        .map(|response| {
            let request_error = finish(response, &request_id);
            (body_of(response, request_error), request_error)
        })
        .collect();
    let operations = names
        .into_iter()
        .zip(&responses)
        .zip(&meters)
        .map(|((name, response), meter)| Operation {
            name,
            code: response.errors.first().and_then(error_code),
            cost: meter.actual(),
        })
        .collect();
    // A batch is answered 200: its operations succeed or fail one by one.
    let (body, request_error) = match bodies.pop() {
        Some(only) if single => only,
        last => (
            serde_json::Value::Array(bodies.into_iter().chain(last).map(|(b, _)| b).collect()),
            false,
        ),
    };
    let status = match (over_budget, media) {
        (Some(_), _) => StatusCode::TOO_MANY_REQUESTS,
        (None, Media::GraphqlResponse) if request_error => StatusCode::BAD_REQUEST,
        (None, _) => StatusCode::OK,
    };
    let mut answer = with_standing(json(status, media, &body), &standing);
    if let Some(requested) = over_budget {
        let wait = state
            .budgets
            .wait_for_cost(client, viewer.role(), requested);
        set_retry_after(&mut answer, wait);
    }
    let outcome = Outcome {
        operations,
        ..Outcome::default()
    };
    observed(answer, &viewer, outcome)
}

/// The operations of a request that was stopped as a whole, with `code`.
fn refused(names: Vec<Option<String>>, meters: &[Arc<Meter>], code: &str) -> Outcome {
    let operations = names
        .into_iter()
        .zip(meters)
        .map(|(name, meter)| Operation {
            name,
            code: Some(code.to_owned()),
            cost: meter.actual(),
        })
        .collect();
    Outcome {
        operations,
        ..Outcome::default()
    }
}

/// The response, carrying what the access log says of it.
fn observed(
    mut response: axum::response::Response,
    viewer: &Viewer,
    mut outcome: Outcome,
) -> axum::response::Response {
    outcome.user = viewer.user().ok().map(|user| user.id);
    response.extensions_mut().insert(outcome);
    response
}

/// Whether a response has an error of the server's own (a database that
/// failed to answer, say), rather than one of the caller's.
fn failed_internally(response: &Response) -> bool {
    response
        .errors
        .iter()
        .any(|error| error_code(error).as_deref() == Some(code::INTERNAL))
}

/// The code an error was given (see [`finish`]).
fn error_code(error: &ServerError) -> Option<String> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

fn method_not_allowed(media: Media) -> axum::response::Response {
    let mut response = request_error(
        media,
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        "mutations must be sent with POST".into(),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Most errors a response to a document that could not run reports.
const MAX_ERRORS: usize = 50;

/// Gives every error a code, and internal ones the request ID; reports whether
/// the response is a request error: the operation never ran (its document did
/// not parse, validate or pass a limit), so no error has a path. An operation
/// that ran and lost its root to an error in a field (a refused `login`) is no
/// request error: it keeps `"data": null` and is answered 200.
fn finish(response: &mut Response, request_id: &str) -> bool {
    let not_executed = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty());
    if not_executed && response.errors.len() > MAX_ERRORS {
        // Thousands of copies of one mistake help nobody and cost bandwidth;
        // errors of an execution are bounded by its cost already.
        let left_out = response.errors.len() - MAX_ERRORS;
        response.errors.truncate(MAX_ERRORS);
        response.errors.push(coded_error(
            format!("{left_out} more errors were left out"),
            code::TOO_MANY_ERRORS,
        ));
    }
    for error in &mut response.errors {
        let existing = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(|v| {
                if let Value::String(s) = v {
                    Some(s.clone())
                } else {
                    None
                }
            });
        let error_code = existing.unwrap_or_else(|| fallback_code(error, not_executed).to_owned());
        if error_code == code::INTERNAL {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("requestId", request_id);
        }
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", error_code);
    }
    not_executed
}

/// A response as JSON; a request error has no `data` entry at all, as the
/// GraphQL specification says of errors raised before execution.
fn body_of(response: &Response, request_error: bool) -> serde_json::Value {
    let mut body = serde_json::to_value(response).unwrap_or_default();
    if request_error && let Some(fields) = body.as_object_mut() {
        fields.remove("data");
    }
    body
}

/// Codes for errors async-graphql raises itself: limits, parsing and validation.
fn fallback_code(error: &ServerError, not_executed: bool) -> &'static str {
    match error.message.as_str() {
        "Query is nested too deep." => code::QUERY_TOO_DEEP,
        message if message.starts_with("The recursion depth of the query") => code::QUERY_TOO_DEEP,
        // A well-formed document given a value its input type refuses (an unknown enum value, say).
        message
            if message.starts_with("Invalid value for argument")
                || message.starts_with("Failed to parse") =>
        {
            code::BAD_USER_INPUT
        }
        _ if not_executed => code::GRAPHQL_VALIDATION_FAILED,
        _ => code::BAD_USER_INPUT,
    }
}

/// The bearer token of the request, if it has an Authorization header; a header
/// that is not a bearer token is an error, never silently anonymous.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ()> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    let (scheme, token) = value.split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(());
    }
    Ok(Some(token.trim()))
}

pub(crate) fn unauthenticated(media: Media) -> axum::response::Response {
    let mut response = request_error(
        media,
        StatusCode::UNAUTHORIZED,
        code::UNAUTHENTICATED,
        "the access token is invalid, expired or revoked".into(),
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn no_query(media: Media) -> axum::response::Response {
    request_error(
        media,
        StatusCode::BAD_REQUEST,
        code::BAD_REQUEST,
        "the request has no `query`".into(),
    )
}

pub(crate) fn request_error(
    media: Media,
    status: StatusCode,
    error_code: &str,
    message: String,
) -> axum::response::Response {
    let response = Response::from_errors(vec![coded_error(message, error_code)]);
    let mut answer = json(status, media, &body_of(&response, true));
    answer.extensions_mut().insert(Outcome {
        refused: Some(error_code.to_owned()),
        ..Outcome::default()
    });
    answer
}

fn json(
    status: StatusCode,
    media: Media,
    body: &impl serde::Serialize,
) -> axum::response::Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, media.content_type())],
            bytes,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "response serialisation failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the server is not stopping and the database answers.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.stopping.is_stopping() {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping");
    }
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// `GET /metrics` on the service's address: for the bearer of the metrics
/// token only, and not there at all without one configured.
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> axum::response::Response {
    let Some(expected) = state.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Digests compared, so that the time taken tells nothing of the token.
    let digest = |token: &str| sha2::Sha256::digest(token.as_bytes());
    let presented = bearer_token(&headers).ok().flatten();
    if presented.is_none_or(|token| digest(token) != digest(expected)) {
        let mut refusal = StatusCode::UNAUTHORIZED.into_response();
        refusal
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refusal;
    }
    render_metrics(&state.db, &state.metrics).await
}

/// `GET /metrics` on the private metrics listener.
pub async fn open_metrics(
    State((db, metrics)): State<(sea_orm::DatabaseConnection, Metrics)>,
) -> axum::response::Response {
    render_metrics(&db, &metrics).await
}

async fn render_metrics(
    db: &sea_orm::DatabaseConnection,
    metrics: &Metrics,
) -> axum::response::Response {
    match metrics.render(db).await {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "metrics could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Answers a request that the server's stop cancelled: whatever it had
/// begun was dropped, and its transaction rolled back.
pub fn cancelled_by_stop() -> axum::response::Response {
    let mut response = request_error(
        Media::Json,
        StatusCode::SERVICE_UNAVAILABLE,
        code::SHUTTING_DOWN,
        "the server stopped before the request finished; nothing of it was kept: send it again"
            .into(),
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Body of a response to a panic: a code and nothing else.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked");
    let response = Response::from_errors(vec![coded_error("internal error", code::INTERNAL)]);
    json(
        StatusCode::INTERNAL_SERVER_ERROR,
        Media::Json,
        &body_of(&response, true),
    )
}
