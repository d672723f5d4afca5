//! The document a request runs: its text, or the document of the SHA-256 it
//! sends instead (Apollo's automatic persisted queries); for a token of an app
//! held to its registered documents, one of those only.

use async_graphql::{BatchRequest, Request};
use axum::http::StatusCode;

use super::{Media, request_error};
use crate::access::Viewer;
use crate::app::AppState;
use crate::client_app;
use crate::error::{ApiError, code};
use crate::persisted;

/// A request refused before it runs.
pub(super) struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn bad_request(error_code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code: error_code,
            message: message.into(),
        }
    }

    fn internal(err: ApiError) -> Refusal {
        tracing::error!(error = ?err, "resolving a request's document failed");
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: code::INTERNAL,
            message: "internal error".into(),
        }
    }

    pub(super) fn respond(self, media: Media) -> axum::response::Response {
        request_error(media, self.status, self.code, self.message)
    }
}

/// `extensions.persistedQuery` as Apollo clients send it.
#[derive(serde::Deserialize)]
struct PersistedQuery {
    version: i64,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

/// The document a request runs, decided in this one place: the text it sends,
/// or the document of the SHA-256 it sends instead (Apollo's automatic
/// persisted queries), which the text sent with its hash stores for next time;
/// and, for a token of an app held to its registered documents, one of those.
pub(super) async fn resolve_document(
    state: &AppState,
    viewer: &Viewer,
    mut request: Request,
) -> Result<Request, Refusal> {
    let sent_hash = match request.extensions.remove("persistedQuery") {
        Some(value) => {
            let persisted: PersistedQuery = async_graphql::from_value(value).map_err(|_| {
                Refusal::bad_request(
                    code::BAD_REQUEST,
                    r#"`extensions.persistedQuery` must be {"version": 1, "sha256Hash": "<hex>"}"#,
                )
            })?;
            if persisted.version != 1 {
                return Err(Refusal::bad_request(
                    code::BAD_REQUEST,
                    format!(
                        "persisted query version {} is not supported; send version 1",
                        persisted.version
                    ),
                ));
            }
            if !persisted::is_sha256_hex(&persisted.sha256_hash) {
                return Err(Refusal::bad_request(
                    code::BAD_REQUEST,
                    "`sha256Hash` must be a SHA-256 in lower-case hex",
                ));
            }
            Some(persisted.sha256_hash)
        }
        None => None,
    };
    let app = match viewer {
        Viewer::User(user) => user.app,
        Viewer::Public => None,
    };
    let has_text = !request.query.trim().is_empty();
    // The hash of the document to run, where something depends on it.
    let sha256 = match (&sent_hash, has_text) {
        (Some(sent), false) => Some(sent.clone()),
        (None, false) => None,
        (None, true) if app.is_none() => None,
        (sent, true) => {
            let actual = persisted::sha256_hex(&request.query);
            if sent.as_ref().is_some_and(|sent| *sent != actual) {
                return Err(Refusal::bad_request(
                    code::PERSISTED_QUERY_HASH_MISMATCH,
                    "`sha256Hash` is not the SHA-256 of the query sent with it",
                ));
            }
            Some(actual)
        }
    };
    if let (Some(app), Some(sha256)) = (app, &sha256) {
        // Refused before anything is stored or looked up.
        if !client_app::may_run(&state.db, app, sha256)
            .await
            .map_err(Refusal::internal)?
        {
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                code: code::PERSISTED_QUERY_NOT_ALLOWED,
                message: "the app this token was issued through runs only the documents registered for it, and this is not one of them".into(),
            });
        }
    }
    let Some(sha256) = sent_hash else {
        return Ok(request);
    };
    if has_text {
        state
            .documents
            .remember(&sha256, &request.query, state.limits.max_document_bytes)
            .await
            .map_err(Refusal::internal)?;
        return Ok(request);
    }
    match state
        .documents
        .get(&sha256)
        .await
        .map_err(Refusal::internal)?
    {
        Some(document) => {
            request.query = document.to_string();
            Ok(request)
        }
        // Apollo clients look for this message and code, on a 200, to send the text.
        None => Err(Refusal {
            status: StatusCode::OK,
            code: code::PERSISTED_QUERY_NOT_FOUND,
            message: "PersistedQueryNotFound".into(),
        }),
    }
}

/// Each operation's document, as [`resolve_document`] decides it; the first
/// refusal refuses the whole request.
pub(super) async fn resolve_documents(
    state: &AppState,
    viewer: &Viewer,
    batch: BatchRequest,
) -> Result<BatchRequest, Refusal> {
    Ok(match batch {
        BatchRequest::Single(request) => {
            BatchRequest::Single(resolve_document(state, viewer, request).await?)
        }
        BatchRequest::Batch(requests) => {
            let mut resolved = Vec::with_capacity(requests.len());
            for request in requests {
                resolved.push(resolve_document(state, viewer, request).await?);
            }
            BatchRequest::Batch(resolved)
        }
    })
}
