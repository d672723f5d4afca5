//! The exchange over HTTP: `GET /exchange/households` streams the register
//! out, `POST /exchange/households` streams a file in and answers with the
//! import's report. Both take a bearer token; errors have the shape and codes
//! of GraphQL errors.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::io::StreamReader;

use super::import::{self, Mode};
use super::{Format, export};
use crate::access::{User, Viewer};
use crate::app::AppState;
use crate::audit::Actor;
use crate::client_app;
use crate::error::{ApiError, Shown, code};
use crate::http::{Media, request_error, request_id_of, request_source};
use crate::permissions::{self, Access, Rule};

/// Chunks of an export buffered between the database and the client.
const EXPORT_BUFFER: usize = 4;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExportParams {
    /// Division code of the county, a township or a village.
    region: Option<String>,
    format: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ImportParams {
    format: Option<String>,
    /// `apply` (the default), `dry-run` or `atomic`.
    mode: Option<String>,
}

/// `GET /exchange/households?region=&format=`: the register, streamed.
pub async fn export(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let source = request_source(&state, &headers, peer);
    let viewer = match permitted(&state, &headers, source, &permissions::EXPORT).await {
        Ok(viewer) => viewer,
        Err(refusal) => return refusal,
    };
    let params: ExportParams = match params(raw.as_deref()) {
        Ok(params) => params,
        Err(message) => return bad_request(message),
    };
    let format = match format_of(params.format.as_deref(), headers.get(header::ACCEPT)) {
        Ok(format) => format,
        Err(message) => return bad_request(message),
    };
    let select = match export::households(&state.db, &viewer, params.region.as_deref()).await {
        Ok(select) => select,
        Err(err) => return failure(err),
    };
    let (sender, receiver) = mpsc::channel(EXPORT_BUFFER);
    let db = state.db.clone();
    tokio::spawn(async move { export::run(&db, select, format, sender).await });
    let chunks = futures::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        let item = chunk.map(|c| Bytes::from(c.bytes)).map_err(|err| {
            // The client sees the transfer cut short, never a file that looks whole.
            tracing::error!(error = ?err, "export failed midway");
            std::io::Error::other("export failed")
        });
        Some((item, receiver))
    });
    let disposition = format!(
        "attachment; filename=\"households-{}.{}\"",
        params.region.as_deref().unwrap_or("all"),
        format.extension()
    );
    let mut response = Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `POST /exchange/households?format=&mode=`: imports the body, read as it arrives.
pub async fn import(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Response {
    let source = request_source(&state, &headers, peer);
    let viewer = match permitted(&state, &headers, source, &permissions::IMPORT).await {
        Ok(viewer) => viewer,
        Err(refusal) => return refusal,
    };
    let params: ImportParams = match params(raw.as_deref()) {
        Ok(params) => params,
        Err(message) => return bad_request(message),
    };
    let format = match format_of(params.format.as_deref(), headers.get(header::CONTENT_TYPE)) {
        Ok(format) => format,
        Err(message) => return bad_request(message),
    };
    let mode = match params.mode.as_deref().unwrap_or("apply") {
        "apply" => Mode::Apply,
        "dry-run" => Mode::DryRun,
        "atomic" => Mode::Atomic,
        other => {
            return bad_request(format!("`mode` is apply, dry-run or atomic, not `{other}`"));
        }
    };
    let actor = match Actor::of(&viewer, &request_id_of(&headers)) {
        Ok(actor) => actor,
        Err(err) => return failure(err),
    };
    let source = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    match import::run(
        &state.db,
        &viewer,
        &actor,
        source,
        format,
        mode,
        &state.limits.import,
    )
    .await
    {
        Ok(report) => axum::Json(report).into_response(),
        Err(err) => failure(err),
    }
}

/// The viewer, if the policy lets them call the endpoint `rule` governs and
/// their budget has a request left.
async fn permitted(
    state: &AppState,
    headers: &HeaderMap,
    source: IpAddr,
    rule: &Rule,
) -> Result<Viewer, Response> {
    let viewer = crate::http::admit(state, headers, source, Media::Json)
        .await?
        .viewer;
    if let Viewer::User(User { app: Some(app), .. }) = &viewer {
        match client_app::may_call_endpoints(&state.db, *app).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(failure(ApiError::Forbidden(
                    "the app this token was issued through runs its registered GraphQL documents only".into(),
                )));
            }
            Err(err) => return Err(failure(err)),
        }
    }
    match (&viewer, permissions::access_of(&viewer, rule)) {
        (_, Access::Full) => Ok(viewer),
        (Viewer::Public, _) => Err(failure(ApiError::Unauthenticated)),
        _ => Err(failure(ApiError::Forbidden(format!(
            "your role may not call {}",
            rule.field
        )))),
    }
}

fn params<T: for<'de> Deserialize<'de> + Default>(raw: Option<&str>) -> Result<T, String> {
    match raw {
        None => Ok(T::default()),
        Some(raw) => {
            serde_urlencoded::from_str(raw).map_err(|err| format!("malformed query string: {err}"))
        }
    }
}

/// The format asked for by name, else by media type, else NDJSON.
fn format_of(named: Option<&str>, media: Option<&HeaderValue>) -> Result<Format, String> {
    if let Some(name) = named {
        return Format::named(name)
            .ok_or_else(|| format!("`format` is ndjson or csv, not `{name}`"));
    }
    let media = media
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split([';', ',']).next())
        .and_then(Format::named);
    Ok(media.unwrap_or(Format::Ndjson))
}

fn bad_request(message: String) -> Response {
    request_error(
        Media::Json,
        StatusCode::BAD_REQUEST,
        code::BAD_USER_INPUT,
        message,
    )
}

/// An error as a response with the status its code calls for.
fn failure(err: ApiError) -> Response {
    let shown = Shown::from(err);
    let status = match shown.code.as_str() {
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::BAD_USER_INPUT => StatusCode::BAD_REQUEST,
        code::CONFLICT => StatusCode::CONFLICT,
        code::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match shown.field {
        Some(field) => format!("{field}: {}", shown.message),
        None => shown.message,
    };
    let mut response = request_error(Media::Json, status, &shown.code, message);
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
