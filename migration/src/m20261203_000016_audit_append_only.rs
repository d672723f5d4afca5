//! The audit trail becomes append-only in the database itself, as the fund
//! ledger is: whoever connects, an entry can be neither updated nor deleted,
//! and on PostgreSQL the table cannot be truncated either.

use crate::columns::{allow_edits, exec, forbid_edits};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        forbid_edits(
            manager,
            "audit_entry",
            "the audit trail is append-only: record a new entry instead",
        )
        .await?;
        // TRUNCATE fires no row triggers; SQLite has no TRUNCATE.
        if manager.get_database_backend() == DbBackend::Postgres {
            exec(
                manager,
                "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry \
                 FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            exec(
                manager,
                "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry",
            )
            .await?;
        }
        allow_edits(manager, "audit_entry").await
    }
}
