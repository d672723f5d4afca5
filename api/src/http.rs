//! GraphQL over HTTP, written out rather than taken from async-graphql-axum: its
//! stock extractor runs mutations sent by GET and reads `text/plain` bodies as
//! JSON (a cross-site request forgery hole). Here GET runs queries only, POST
//! takes `application/json` only, batching is off unless configured, and every
//! error a client sees has a code.

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, BatchResponse, Request, Response, ServerError, Value};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use sea_orm::DatabaseConnection;

use crate::access::{self, Viewer};
use crate::app::AppState;
use crate::error::{ApiError, code};
use crate::graphql::{RequestData, coded_error};

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

/// `GET /graphql`: GraphiQL for a browser, or a query in the URL.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> axum::response::Response {
    let Some(raw) = raw.filter(|q| !q.is_empty()) else {
        return crate::graphiql::page();
    };
    let media = Media::from_accept(&headers);
    let request = match parse_query_string(&raw) {
        Ok(request) => request,
        Err(message) => {
            return request_error(media, StatusCode::BAD_REQUEST, code::BAD_REQUEST, message);
        }
    };
    if request.query.trim().is_empty() {
        return no_query(media);
    }
    if is_mutation(&request) {
        let mut response = request_error(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST".into(),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, &headers, media, BatchRequest::Single(request)).await
}

/// `POST /graphql`: one operation, or a batch when batching is configured.
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
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
    if batch.iter().any(|r| r.query.trim().is_empty()) {
        return no_query(media);
    }
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
    execute(&state, &headers, media, batch).await
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
pub(crate) async fn viewer_of_request(
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

/// Whether the operation a GET request selects is a mutation.
fn is_mutation(request: &Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let selected = match (&document.operations, &request.operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name.as_str()),
        (DocumentOperations::Multiple(ops), None) => ops.values().next().filter(|_| ops.len() == 1),
    };
    selected.is_some_and(|op| op.node.ty == OperationType::Mutation)
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    media: Media,
    batch: BatchRequest,
) -> axum::response::Response {
    let request_id = request_id_of(headers);
    let db: &DatabaseConnection = &state.db;
    let viewer = match viewer_of_request(state, headers, media).await {
        Ok(viewer) => viewer,
        Err(refusal) => return refusal,
    };
    let schema = state.schema_for(&viewer);
    let batch = match batch {
        BatchRequest::Single(request) => BatchRequest::Single(request.data(RequestData::new(
            db,
            viewer,
            &state.limits,
            &request_id,
        ))),
        BatchRequest::Batch(requests) => BatchRequest::Batch(
            requests
                .into_iter()
                .map(|r| {
                    r.data(RequestData::new(
                        db,
                        viewer.clone(),
                        &state.limits,
                        &request_id,
                    ))
                })
                .collect(),
        ),
    };
    let outcome =
        tokio::time::timeout(state.limits.request_timeout(), schema.execute_batch(batch)).await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_ms = state.limits.request_timeout_ms,
                "request timed out"
            );
            return request_error(
                media,
                StatusCode::SERVICE_UNAVAILABLE,
                code::TIMEOUT,
                format!(
                    "the request took longer than {} ms and was abandoned",
                    state.limits.request_timeout_ms
                ),
            );
        }
    };
    // A batch is answered 200: its operations succeed or fail one by one.
    let request_error = match &mut response {
        BatchResponse::Single(single) => finish(single, &request_id),
        BatchResponse::Batch(all) => {
            all.iter_mut().for_each(|r| {
                finish(r, &request_id);
            });
            false
        }
    };
    let status = match media {
        Media::GraphqlResponse if request_error => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    json(status, media, &response)
}

/// Gives every error a code, and internal ones the request ID; reports whether
/// the response is a request error (the operation never ran).
fn finish(response: &mut Response, request_id: &str) -> bool {
    let not_executed = response.data == Value::Null && !response.errors.is_empty();
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

/// Codes for errors async-graphql raises itself: limits, parsing and validation.
fn fallback_code(error: &ServerError, not_executed: bool) -> &'static str {
    match error.message.as_str() {
        "Query is nested too deep." => code::QUERY_TOO_DEEP,
        "Query is too complex." => code::QUERY_TOO_COMPLEX,
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
    json(status, media, &response)
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

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Body of a response to a panic: a code and nothing else.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked");
    let response = Response::from_errors(vec![coded_error("internal error", code::INTERNAL)]);
    json(StatusCode::INTERNAL_SERVER_ERROR, Media::Json, &response)
}
