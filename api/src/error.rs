//! The one error type of the API. Every error a client sees carries
//! `extensions.code`; internal details are logged once and never sent.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Machine-readable error codes, as sent in `extensions.code`.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The server stopped before the request finished: nothing of it was
    /// kept, and another replica will take it.
    pub const SHUTTING_DOWN: &str = "SHUTTING_DOWN";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";
    pub const DOCUMENT_TOO_LARGE: &str = "DOCUMENT_TOO_LARGE";
    pub const TOO_MANY_TOKENS: &str = "TOO_MANY_TOKENS";
    pub const TOO_MANY_DIRECTIVES: &str = "TOO_MANY_DIRECTIVES";
    pub const QUERY_TOO_LARGE: &str = "QUERY_TOO_LARGE";
    pub const TOO_MANY_SIGN_INS: &str = "TOO_MANY_SIGN_INS";
    pub const TOO_MANY_ERRORS: &str = "TOO_MANY_ERRORS";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// A document sent as a hash that this service has never been sent in full;
    /// Apollo clients answer it by sending the document with its hash.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub const PERSISTED_QUERY_HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";
    /// A document the token's app has not registered, when it runs registered ones only.
    pub const PERSISTED_QUERY_NOT_ALLOWED: &str = "PERSISTED_QUERY_NOT_ALLOWED";
    pub const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
}

/// An error raised by a resolver or a service. It has no `Display` on purpose:
/// the only way out to a client is `From<ApiError> for async_graphql::Error`,
/// which always sets a code.
#[derive(Debug, Clone)]
pub enum ApiError {
    Unauthenticated,
    Forbidden(String),
    NotFound(String),
    /// Bad input; `field` names the argument or input field at fault.
    BadUserInput {
        field: Option<String>,
        message: String,
    },
    /// Several fields are wrong at once: each `(field, message)`, so that a
    /// client fixes them all before the next try.
    InvalidFields(Vec<(String, String)>),
    /// A person entered in `field` is already on file in a household the
    /// caller may not be told of: the answer names nothing (see
    /// `domain::household::duplicate`).
    PersonOnFile {
        field: String,
        member_id: i64,
    },
    Conflict(String),
    /// An edit made from a stale read; `current` is the record as it is now.
    StaleVersion {
        message: String,
        current: serde_json::Value,
    },
    /// A login refused: the same answer for a wrong password, a name no
    /// account has, a locked address and a disabled account.
    LoginRefused,
    /// Anything the client cannot fix; the detail is logged, not sent.
    Internal(String),
}

impl ApiError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// The error as the operator reads it on the command line: the message a
    /// client is shown, after the field at fault; an internal error's detail,
    /// which the operator, unlike a client, may see.
    pub fn sentence(&self) -> String {
        if let ApiError::Internal(detail) = self {
            return detail.clone();
        }
        let shown = Shown::from(self.clone());
        match (self, shown.field) {
            (ApiError::InvalidFields(_), _) | (_, None) => shown.message,
            (_, Some(field)) => format!("`{field}`: {}", shown.message),
        }
    }

    /// The errors of checks that do not depend on each other, as one: none
    /// is `Ok`; bad fields come back together; anything else comes first.
    pub fn gather(errors: impl IntoIterator<Item = ApiError>) -> ApiResult<()> {
        let mut fields = Vec::new();
        for error in errors {
            match error {
                ApiError::BadUserInput {
                    field: Some(field),
                    message,
                } => fields.push((field, message)),
                ApiError::InvalidFields(more) => fields.extend(more),
                other => return Err(other),
            }
        }
        match fields.len() {
            0 => Ok(()),
            1 => {
                let (field, message) = fields.remove(0);
                Err(ApiError::bad_input(field, message))
            }
            _ => Err(ApiError::InvalidFields(fields)),
        }
    }
}

/// What a duplicate-person check may say to a caller who may not be told where
/// the person is on file.
pub const PERSON_ON_FILE: &str =
    "this person is already registered in another household; the county office can move them";

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Unauthenticated => async_graphql::Error::new("authentication required")
                .extend_with(|_, e| e.set("code", code::UNAUTHENTICATED)),
            ApiError::Forbidden(message) => async_graphql::Error::new(message)
                .extend_with(|_, e| e.set("code", code::FORBIDDEN)),
            ApiError::NotFound(what) => async_graphql::Error::new(format!("{what} not found"))
                .extend_with(|_, e| e.set("code", code::NOT_FOUND)),
            ApiError::BadUserInput { field, message } => async_graphql::Error::new(message)
                .extend_with(|_, e| {
                    e.set("code", code::BAD_USER_INPUT);
                    if let Some(field) = &field {
                        e.set("field", field.as_str());
                    }
                }),
            ApiError::InvalidFields(fields) => {
                let message = fields
                    .iter()
                    .map(|(field, message)| format!("`{field}`: {message}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                async_graphql::Error::new(format!("{} fields are invalid: {message}", fields.len()))
                    .extend_with(|_, e| {
                        e.set("code", code::BAD_USER_INPUT);
                        if let Some((first, _)) = fields.first() {
                            e.set("field", first.as_str());
                        }
                        e.set(
                            "fields",
                            async_graphql::Value::List(
                                fields
                                    .iter()
                                    .map(|(field, message)| {
                                        async_graphql::Value::from_json(serde_json::json!({
                                            "field": field,
                                            "message": message,
                                        }))
                                        .unwrap_or_default()
                                    })
                                    .collect(),
                            ),
                        );
                    })
            }
            ApiError::PersonOnFile { field, .. } => async_graphql::Error::new(PERSON_ON_FILE)
                .extend_with(|_, e| {
                    e.set("code", code::BAD_USER_INPUT);
                    e.set("field", field.as_str());
                }),
            ApiError::Conflict(message) => {
                async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code::CONFLICT))
            }
            ApiError::StaleVersion { message, current } => async_graphql::Error::new(message)
                .extend_with(|_, e| {
                    e.set("code", code::CONFLICT);
                    if let Ok(current) = async_graphql::Value::from_json(current.clone()) {
                        e.set("current", current);
                    }
                }),
            ApiError::LoginRefused => async_graphql::Error::new(
                "wrong username or password, or too many failed sign-ins from your address: wait and try again",
            )
            .extend_with(|_, e| e.set("code", code::UNAUTHENTICATED)),
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                async_graphql::Error::new("internal error")
                    .extend_with(|_, e| e.set("code", code::INTERNAL))
            }
        }
    }
}

/// An error as a client is shown it outside GraphQL (the exchange's HTTP
/// answers, an import's rejections): the same code, field and message.
pub struct Shown {
    pub code: String,
    pub field: Option<String>,
    pub message: String,
}

impl From<ApiError> for Shown {
    fn from(err: ApiError) -> Self {
        let error = async_graphql::Error::from(err);
        let text = |key: &str| match error.extensions.as_ref().and_then(|e| e.get(key)) {
            Some(async_graphql::Value::String(text)) => Some(text.clone()),
            _ => None,
        };
        Shown {
            code: text("code").unwrap_or_else(|| code::INTERNAL.to_owned()),
            field: text("field"),
            message: error.message,
        }
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(detail)) => {
                tracing::info!(%detail, "unique constraint violated");
                ApiError::Conflict("a record with the same unique value already exists".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(detail)) => {
                tracing::info!(%detail, "foreign key constraint violated");
                ApiError::BadUserInput {
                    field: None,
                    message: "a referenced record does not exist".into(),
                }
            }
            _ => ApiError::Internal(err.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
