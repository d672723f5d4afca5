//! Definitions more than one migration uses: columns, foreign keys,
//! indexes, raw statements and append-only tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, Iterable};

/// A checked-string column holding one of `E`'s values.
pub fn enum_col<E: ActiveEnum<Value = String> + Iterable>(
    col: impl IntoIden + Clone + 'static,
) -> ColumnDef {
    string_len(col.clone(), 32)
        .check(Expr::col(col).is_in(E::iter().map(|v| v.to_value())))
        .take()
}

/// Like [`enum_col`], nullable.
pub fn enum_col_null<E: ActiveEnum<Value = String> + Iterable>(
    col: impl IntoIden + Clone + 'static,
) -> ColumnDef {
    string_len_null(col.clone(), 32)
        .check(Expr::col(col).is_in(E::iter().map(|v| v.to_value())))
        .take()
}

/// A foreign key from `col` of `from` to the `id` of `to`; referenced rows
/// cannot be deleted.
pub fn fk(from: impl IntoIden, col: impl IntoIden, to: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

/// Runs one SQL statement as written.
pub async fn exec(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager.get_connection().execute_unprepared(sql).await?;
    Ok(())
}

/// A plain index named `name` on `cols` of `table`.
pub async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&str],
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).take();
    for col in cols {
        index.col(Alias::new(*col));
    }
    manager.create_index(index).await
}

/// Makes `table` append-only in the database itself: whatever connects to it,
/// a row cannot be updated or deleted, and the attempt fails with `message`.
/// On PostgreSQL a function and trigger `{table}_append_only`; on SQLite the
/// triggers `{table}_no_update` and `{table}_no_delete`.
pub async fn forbid_edits(
    manager: &SchemaManager<'_>,
    table: &str,
    message: &str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        exec(
            manager,
            &format!(
                "CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql"
            ),
        )
        .await?;
        return exec(
            manager,
            &format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
            ),
        )
        .await;
    }
    for event in ["UPDATE", "DELETE"] {
        exec(
            manager,
            &format!(
                "CREATE TRIGGER {table}_no_{} BEFORE {event} ON {table} \
                 BEGIN SELECT RAISE(ABORT, '{message}'); END",
                event.to_lowercase()
            ),
        )
        .await?;
    }
    Ok(())
}

/// Undoes [`forbid_edits`]: rows of `table` can be updated and deleted again.
pub async fn allow_edits(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        exec(
            manager,
            &format!("DROP TRIGGER IF EXISTS {table}_append_only ON {table}"),
        )
        .await?;
        return exec(
            manager,
            &format!("DROP FUNCTION IF EXISTS {table}_append_only()"),
        )
        .await;
    }
    for event in ["update", "delete"] {
        exec(
            manager,
            &format!("DROP TRIGGER IF EXISTS {table}_no_{event}"),
        )
        .await?;
    }
    Ok(())
}
