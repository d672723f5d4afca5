//! The shape every change to the register takes: one write transaction, the
//! version the client read, and the client's idempotency key, so that two
//! cadres editing offline never overwrite each other and a request retried
//! over a weak network never creates a second record.

use chrono::Utc;
use entity::idempotency_key;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityName, EntityTrait, IdenStatic, IntoActiveModel, Iterable, PrimaryKeyTrait, QuerySelect,
    Select, Set, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};

/// Begins the transaction of a change. On SQLite it takes the write lock at
/// once, so that concurrent changes queue instead of failing when they upgrade.
pub async fn begin(db: &DatabaseConnection) -> ApiResult<DatabaseTransaction> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db.begin_with_options(options).await?)
}

/// Reads rows to change, locked until the transaction ends (`FOR UPDATE` on
/// PostgreSQL; an SQLite write transaction already excludes other writers).
pub async fn one_locked<E: EntityTrait>(
    txn: &DatabaseTransaction,
    select: Select<E>,
) -> ApiResult<Option<E::Model>> {
    let select = if txn.get_database_backend() == DbBackend::Postgres {
        select.lock_exclusive()
    } else {
        select
    };
    Ok(select.one(txn).await?)
}

/// Refuses an edit made from a stale read: `current` is what the client should
/// look at (already shaped by the field policy) before trying again.
pub fn check_version(
    entity: &str,
    stated: i32,
    actual: i32,
    current: impl FnOnce() -> Value,
) -> ApiResult<()> {
    if stated == actual {
        return Ok(());
    }
    Err(ApiError::StaleVersion {
        message: format!(
            "the {entity} was changed by someone else (version {actual}, you edited version {stated}); \
             review the current record and edit again"
        ),
        current: current(),
    })
}

/// What a create made: the new row, its ID (what a retry under the same key
/// gets back), and the audit entries of everything it wrote, in order.
pub struct Created<M> {
    pub id: i64,
    pub row: M,
    pub audit: Vec<Change<'static>>,
}

impl<M> Created<M> {
    /// A new row whose creation is its one audit entry, showing it as `after`.
    pub fn new(
        id: i64,
        action: &'static str,
        entity_type: &'static str,
        after: Value,
        row: M,
    ) -> Self {
        Self {
            id,
            row,
            audit: vec![Change {
                action,
                entity_type,
                entity_id: id,
                before: None,
                after: Some(after),
            }],
        }
    }
}

/// Every create takes this one path: begin, present the client's idempotency
/// key, then either answer a retry with what the first request made (read
/// back, committed, the same for every kind of record) or run `make`, record
/// its audit entries, settle the key and commit. Nothing of a refused or
/// failed create is kept: the transaction rolls back when it is dropped.
pub async fn create<E, F>(
    db: &DatabaseConnection,
    actor: &Actor,
    key: Option<&str>,
    operation: &str,
    request: &impl Serialize,
    make: F,
) -> ApiResult<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
    F: AsyncFnOnce(&DatabaseTransaction) -> ApiResult<Created<E::Model>>,
{
    // A key is remembered per account: a caller without one retries as anyone would.
    let user_id = match (key, actor.user_id) {
        (Some(_), None) => {
            return Err(ApiError::bad_input(
                "idempotencyKey",
                "idempotency keys are for signed-in callers; leave it out",
            ));
        }
        (_, user_id) => user_id.unwrap_or_default(),
    };
    let txn = begin(db).await?;
    if let Claim::Replay(id) = claim(&txn, user_id, key, operation, request).await? {
        let first = E::find_by_id(id).one(&txn).await?;
        txn.commit().await?;
        return first.ok_or_else(|| {
            ApiError::not_found(format!(
                "{} (made by an earlier request with this idempotency key, since removed)",
                E::default().table_name()
            ))
        });
    }
    let created = make(&txn).await?;
    audit::record_all(&txn, actor, created.audit).await?;
    settle(&txn, user_id, key, created.id).await?;
    txn.commit().await?;
    Ok(created.row)
}

/// The outcome of presenting an idempotency key.
enum Claim {
    /// First use: go on and create, then [`settle`] the key.
    New,
    /// The same request was done before: here is what it created.
    Replay(i64),
}

/// Presents a client's idempotency key for one create. The key row is written
/// first, so that a concurrent retry waits for this transaction and then sees
/// its record instead of creating a second one.
async fn claim(
    txn: &DatabaseTransaction,
    user_id: i64,
    key: Option<&str>,
    operation: &str,
    input: &impl Serialize,
) -> ApiResult<Claim> {
    let Some(key) = key else {
        return Ok(Claim::New);
    };
    let key = key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(ApiError::bad_input(
            "idempotencyKey",
            "an idempotency key has 1 to 100 characters",
        ));
    }
    let fingerprint = fingerprint(operation, input)?;
    let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        fingerprint: Set(fingerprint.clone()),
        entity_id: Set(None),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_key::Column::UserId,
            idempotency_key::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted > 0 {
        return Ok(Claim::New);
    }
    // Taken: by an earlier request, or by a concurrent one that has now committed.
    let found = idempotency_key::Entity::find_by_id((user_id, key.to_owned()))
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("idempotency key `{key}` vanished")))?;
    if found.operation != operation || found.fingerprint != fingerprint {
        return Err(ApiError::Conflict(format!(
            "the idempotency key `{key}` was already used for a different request"
        )));
    }
    found.entity_id.map(Claim::Replay).ok_or_else(|| {
        ApiError::Internal(format!(
            "idempotency key `{key}` committed without a record"
        ))
    })
}

/// Records what the create behind a claimed key made.
async fn settle(
    txn: &DatabaseTransaction,
    user_id: i64,
    key: Option<&str>,
    entity_id: i64,
) -> ApiResult<()> {
    let Some(key) = key else {
        return Ok(());
    };
    idempotency_key::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.trim().to_owned()),
        entity_id: Set(Some(entity_id)),
        ..Default::default()
    }
    .update(txn)
    .await?;
    Ok(())
}

fn fingerprint(operation: &str, input: &impl Serialize) -> ApiResult<String> {
    let input = serde_json::to_string(input)
        .map_err(|e| ApiError::Internal(format!("serialising {operation} input: {e}")))?;
    Ok(hex::encode(Sha256::digest(
        format!("{operation}\n{input}").as_bytes(),
    )))
}

/// Rows per multi-row INSERT: their bound values stay under what a statement
/// may carry (32,766 on SQLite, 65,535 on PostgreSQL) for up to 30 columns.
const ROWS_PER_INSERT: usize = 1000;

/// Inserts rows in order, with one statement per thousand, and returns them as saved.
pub async fn insert_all<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
) -> ApiResult<Vec<<A::Entity as EntityTrait>::Model>>
where
    A: ActiveModelTrait,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let mut saved = Vec::with_capacity(rows.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        match as_recordset(db.get_database_backend(), &chunk, " RETURNING *") {
            Some(insert) => saved.extend(A::Entity::find().from_raw_sql(insert).all(db).await?),
            None => saved.extend(
                A::Entity::insert_many(chunk)
                    .exec_with_returning(db)
                    .await?,
            ),
        }
    }
    Ok(saved)
}

/// Inserts rows in order, with one statement per thousand, reading nothing back.
pub async fn append_all<A: ActiveModelTrait>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
) -> ApiResult<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        match as_recordset(db.get_database_backend(), &chunk, "") {
            Some(insert) => {
                db.execute_raw(insert).await?;
            }
            None => {
                A::Entity::insert_many(chunk)
                    .exec_without_returning(db)
                    .await?;
            }
        }
    }
    Ok(())
}

/// On PostgreSQL, the INSERT of `rows` with all their values in one JSON
/// parameter that the statement unpacks (`jsonb_populate_recordset`): a
/// multi-row INSERT of a thousand rows has PostgreSQL parse and plan tens of
/// thousands of parameters, statement after statement, which took a quarter
/// of its time in an import. None on SQLite, or when the rows do not all set
/// the same columns or hold a value this does not write as JSON.
fn as_recordset<A: ActiveModelTrait>(
    backend: DbBackend,
    rows: &[A],
    returning: &str,
) -> Option<Statement> {
    if backend != DbBackend::Postgres {
        return None;
    }
    let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter().collect();
    let first = rows.first()?;
    // Set or unchanged (a model made active), as INSERT takes them.
    let set: Vec<bool> = columns
        .iter()
        .map(|c| first.get(*c).into_value().is_some())
        .collect();
    // Column names are identifiers: nothing to escape.
    let names: Vec<String> = columns
        .iter()
        .zip(&set)
        .filter(|(_, set)| **set)
        .map(|(c, _)| format!("\"{}\"", c.as_str()))
        .collect();
    let mut json = Vec::with_capacity(rows.len() * 64 * columns.len());
    json.push(b'[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        json.push(b'{');
        let mut keys = names.iter().enumerate();
        for (column, set) in columns.iter().zip(&set) {
            match (row.get(*column).into_value(), set) {
                (Some(value), true) => {
                    let (k, key) = keys.next()?;
                    if k > 0 {
                        json.push(b',');
                    }
                    json.extend_from_slice(key.as_bytes());
                    json.push(b':');
                    write_json(&mut json, value)?;
                }
                (None, false) => {}
                _ => return None,
            }
        }
        json.push(b'}');
    }
    json.push(b']');
    let (names, table) = (
        names.join(", "),
        <A::Entity as Default>::default().table_name().to_owned(),
    );
    Some(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "INSERT INTO \"{table}\" ({names}) SELECT {names} \
             FROM jsonb_populate_recordset(NULL::\"{table}\", $1::jsonb){returning}"
        ),
        [String::from_utf8(json).ok()?.into()],
    ))
}

/// A value as JSON that PostgreSQL reads back into its column as the bound
/// value would have been (a timestamp to the microsecond, as sqlx sends it).
fn write_json(out: &mut Vec<u8>, value: sea_orm::Value) -> Option<()> {
    use sea_orm::Value as V;
    let json = match value {
        V::Bool(v) => v.map(Value::from),
        V::SmallInt(v) => v.map(Value::from),
        V::Int(v) => v.map(Value::from),
        V::BigInt(v) => v.map(Value::from),
        V::Double(Some(v)) => Some(Value::Number(serde_json::Number::from_f64(v)?)),
        V::Double(None) => None,
        V::String(v) => v.map(Value::from),
        V::ChronoDate(v) => v.map(|d| Value::from(d.format("%Y-%m-%d").to_string())),
        V::ChronoDateTimeUtc(v) => {
            v.map(|t| Value::from(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)))
        }
        // JSON null would go in as SQL NULL.
        V::Json(Some(v)) if !v.is_null() => Some(*v),
        V::Json(None) => None,
        _ => return None,
    };
    serde_json::to_writer(out, &json.unwrap_or(Value::Null)).ok()
}
