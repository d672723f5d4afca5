//! Cheaper tally triggers on PostgreSQL, for bulk loads (a province's
//! register is a million households): a write's income records are summed per
//! village and year before they become one row per figure, and households the
//! writing transaction wrote itself are not locked again. The figures each
//! write appends are the same as before.

use crate::m20261129_000011_create_village_tally::{TRACKED, Variant, postgres_triggers};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn rewrite(manager: &SchemaManager<'_>, variant: Variant) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for tracked in &TRACKED {
        postgres_triggers(manager, tracked, variant, true).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rewrite(manager, Variant::SUMMED).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rewrite(manager, Variant::FIRST).await
    }
}
