//! The audit trail's snapshots compressed with lz4 on PostgreSQL: an import
//! writes a whole card into an entry for every household, and PostgreSQL's
//! own compression (pglz) took a tenth of the database's time in a bulk
//! import. lz4 compresses several times faster; entries already written stay
//! as they are, and a server built without lz4 keeps pglz.

use crate::columns::exec;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Sets the compression of the entries' snapshots, unless the server lacks it.
async fn compress_with(manager: &SchemaManager<'_>, method: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    exec(
        manager,
        &format!(
            "DO $$ BEGIN \
             ALTER TABLE audit_entry ALTER COLUMN before SET COMPRESSION {method}, \
             ALTER COLUMN after SET COMPRESSION {method}; \
             EXCEPTION WHEN feature_not_supported THEN NULL; END $$"
        ),
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        compress_with(manager, "lz4").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        compress_with(manager, "pglz").await
    }
}
