//! Connecting to SQLite or PostgreSQL, and running migrations; what went
//! wrong with the database, as a sentence for the operator.

use std::io::ErrorKind;
use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr,
};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

/// The longest `connect` waits for the database: a server that refuses, or
/// does not answer, is reported within it rather than waited for.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest a query waits for a free connection of the pool, once connected.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The database a URL names could not be reached: which one (never the URL,
/// which may hold a password) and why.
#[derive(Debug, thiserror::Error)]
#[error("could not {action}: {reason}")]
pub struct ConnectError {
    /// `open SQLite file data/fupin.db`, `connect to PostgreSQL at host:port`...
    action: String,
    reason: String,
}

impl ConnectError {
    fn new(action: impl Into<String>, reason: impl Into<String>) -> Self {
        ConnectError {
            action: action.into(),
            reason: reason.into(),
        }
    }
}

/// The database a URL names.
enum Target {
    /// The file, unless in memory, and whether the URL lets SQLite create it.
    Sqlite {
        file: Option<String>,
        creates: bool,
    },
    Postgres(Box<PgConnectOptions>),
}

impl Target {
    fn of(url: &str) -> Result<Target, ConnectError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| ConnectError::new("read DATABASE_URL", format!("it is not a URL: {e}")))?;
        match parsed.scheme() {
            "sqlite" => Ok(Target::Sqlite {
                file: sqlite_file(url).map(str::to_owned),
                creates: parsed
                    .query_pairs()
                    .any(|(key, value)| key == "mode" && value == "rwc"),
            }),
            "postgres" | "postgresql" => PgConnectOptions::from_str(url)
                .map(|options| Target::Postgres(Box::new(options)))
                .map_err(|e| ConnectError::new("read DATABASE_URL", reason(&e))),
            other => Err(ConnectError::new(
                "read DATABASE_URL",
                format!("`{other}:` is neither `sqlite:` nor `postgres:`"),
            )),
        }
    }

    /// What connecting to it is, for an error.
    fn action(&self) -> String {
        match self {
            Target::Sqlite {
                file: Some(file), ..
            } => format!("open SQLite file {file}"),
            Target::Sqlite { file: None, .. } => "open an SQLite database in memory".to_owned(),
            Target::Postgres(options) => match options.get_socket() {
                Some(socket) => format!("connect to PostgreSQL at {}", socket.display()),
                None => format!(
                    "connect to PostgreSQL at {}:{}",
                    options.get_host(),
                    options.get_port()
                ),
            },
        }
    }

    /// Why connecting failed, from the driver's error.
    fn refusal(&self, err: &sqlx::Error) -> String {
        match (self, err) {
            (Target::Postgres(options), sqlx::Error::Database(db))
                if db.code().as_deref() == Some("3D000") =>
            {
                format!(
                    "the database `{}` does not exist",
                    options.get_database().unwrap_or(options.get_username())
                )
            }
            (
                Target::Sqlite {
                    file: Some(file),
                    creates: false,
                },
                _,
            ) if !std::path::Path::new(file).exists() => {
                "it does not exist (end the URL with `?mode=rwc` to create it)".to_owned()
            }
            _ => reason(err),
        }
    }
}

/// A pool on a PostgreSQL read replica, and its name for logs and metrics
/// (`host:port/database`, never the URL, which may hold a password). It
/// connects when first used: a replica that is down when the service starts
/// is read from once it answers.
pub async fn connect_replica(url: &str) -> Result<(DatabaseConnection, String), ConnectError> {
    let Target::Postgres(target) = Target::of(url)? else {
        return Err(ConnectError::new(
            "read FUPIN_READ_DATABASE_URL",
            "read replicas are PostgreSQL standbys: the URL must be `postgres:`",
        ));
    };
    let name = format!(
        "{}:{}/{}",
        target.get_host(),
        target.get_port(),
        target.get_database().unwrap_or(target.get_username())
    );
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(20)
        .min_connections(0)
        .connect_timeout(REPLICA_TIMEOUT)
        .acquire_timeout(REPLICA_TIMEOUT)
        .connect_lazy(true)
        .sqlx_logging(false);
    let db = Database::connect(options).await.map_err(|e| {
        ConnectError::new(format!("connect to the read replica {name}"), describe(&e))
    })?;
    Ok((db, name))
}

/// The longest a request waits for a read replica's connection: one that is
/// slower is taken for down, and the request read from the primary.
const REPLICA_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects to `url`; for an SQLite file, creates its folder first. Fails
/// within `CONNECT_TIMEOUT`, saying which database and why.
pub async fn connect(url: &str) -> Result<DatabaseConnection, ConnectError> {
    let target = Target::of(url)?;
    let failed = |reason: String| ConnectError::new(target.action(), reason);
    match &target {
        Target::Sqlite {
            file: Some(path), ..
        } => {
            if let Some(dir) = std::path::Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    failed(format!(
                        "cannot create its folder {}: {}",
                        dir.display(),
                        io_reason(&e)
                    ))
                })?;
            }
        }
        Target::Sqlite { file: None, .. } => {}
        // The pool retries a refused connection until its acquire timeout
        // and then says only that it timed out: one connection first says why.
        Target::Postgres(options) => {
            match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
                Ok(Ok(probe)) => {
                    probe.close().await.ok();
                }
                Ok(Err(err)) => return Err(failed(target.refusal(&err))),
                Err(_) => return Err(failed(no_answer())),
            }
        }
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(20)
        .min_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false);
    let db = match tokio::time::timeout(CONNECT_TIMEOUT, Database::connect(options)).await {
        Ok(Ok(db)) => db,
        Ok(Err(DbErr::Conn(RuntimeErr::SqlxError(err)))) => {
            return Err(failed(target.refusal(&err)));
        }
        Ok(Err(err)) => return Err(failed(describe(&err))),
        Err(_) => return Err(failed(no_answer())),
    };
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers proceed while a writer commits; it persists in the file.
        db.execute_unprepared("PRAGMA journal_mode = WAL")
            .await
            .map_err(|e| failed(describe(&e)))?;
    }
    Ok(db)
}

fn no_answer() -> String {
    format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())
}

/// The file path of an SQLite URL, unless it is an in-memory database.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// A database error as a sentence for a person: the database's own message
/// without the driver's wrapping.
pub fn describe(err: &DbErr) -> String {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => reason(e),
        DbErr::Conn(RuntimeErr::Internal(text))
        | DbErr::Exec(RuntimeErr::Internal(text))
        | DbErr::Query(RuntimeErr::Internal(text))
        | DbErr::Custom(text)
        | DbErr::Migration(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A driver's error as a sentence.
fn reason(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io_reason(io),
        sqlx::Error::Configuration(source) => format!("DATABASE_URL is not valid: {source}"),
        sqlx::Error::PoolTimedOut => format!(
            "no connection to the database came free within {} s",
            ACQUIRE_TIMEOUT.as_secs()
        ),
        other => other.to_string(),
    }
}

/// An I/O error as a sentence, without the system's error number.
pub fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::NotFound => "no such file or directory".to_owned(),
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        ErrorKind::ConnectionReset => "the connection was reset".to_owned(),
        ErrorKind::TimedOut => "timed out".to_owned(),
        ErrorKind::IsADirectory => "it is a directory".to_owned(),
        ErrorKind::NotADirectory => "a part of the path is not a directory".to_owned(),
        ErrorKind::AlreadyExists => "it already exists".to_owned(),
        ErrorKind::StorageFull => "the disk is full".to_owned(),
        _ => {
            let text = err.to_string();
            match text.split_once(" (os error") {
                Some((message, _)) => message.to_owned(),
                None => text,
            }
        }
    }
}
