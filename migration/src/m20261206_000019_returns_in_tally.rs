//! The returns of each year (返贫户数) kept in the village tally like the
//! other household figures: a county's statistics counted them from the
//! status history on every request, a few thousand households looked up one
//! by one at a million households. A return counts for its household's
//! village once a year, and moves with the household; the status history
//! becomes append-only in the database itself, so that a count never has to
//! be taken back.

use crate::columns::{allow_edits, exec, forbid_edits};
use crate::m20261129_000011_create_village_tally::{
    STATUS_CHANGES, TRACKED, Variant, append, drop_triggers, postgres_triggers, sqlite_triggers,
};
use entity::enums::TallyFigure;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ActiveEnum, DbBackend, Iterable};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TALLY_TABLES: [&str; 2] = ["village_tally", "village_tally_change"];

/// `figure IN (...)` of the figures a tally table may hold.
fn figure_check(with_returns: bool) -> String {
    let figures: Vec<String> = TallyFigure::iter()
        .filter(|f| with_returns || *f != TallyFigure::Returns)
        .map(|f| format!("'{}'", f.to_value()))
        .collect();
    format!("figure IN ({})", figures.join(", "))
}

/// The figures the tally tables may hold: PostgreSQL replaces the check in
/// place; SQLite cannot, so each table is written again under the new check
/// (its tally triggers, which name the tables, are dropped first).
async fn allow_figures(manager: &SchemaManager<'_>, with_returns: bool) -> Result<(), DbErr> {
    let check = figure_check(with_returns);
    if manager.get_database_backend() == DbBackend::Postgres {
        for table in TALLY_TABLES {
            exec(
                manager,
                &format!(
                    "ALTER TABLE {table} DROP CONSTRAINT {table}_figure_check, \
                     ADD CONSTRAINT {table}_figure_check CHECK ({check})"
                ),
            )
            .await?;
        }
        return Ok(());
    }
    let columns = "village_id integer NOT NULL, year integer NOT NULL, \
                   figure varchar(32) NOT NULL CHECK";
    let rest = "item varchar(32) NOT NULL, amount integer NOT NULL";
    for (table, definition) in [
        (
            "village_tally",
            format!("{columns} ({check}), {rest}, PRIMARY KEY (village_id, year, figure, item)"),
        ),
        (
            "village_tally_change",
            format!("id integer NOT NULL PRIMARY KEY AUTOINCREMENT, {columns} ({check}), {rest}"),
        ),
    ] {
        let kept = if with_returns {
            String::new()
        } else {
            format!(" WHERE figure <> '{}'", TallyFigure::Returns.to_value())
        };
        // In one go, on one connection: another connection of the pool
        // would still know the table dropped, and refuse the new name.
        exec(
            manager,
            &format!(
                "CREATE TABLE {table}_next ({definition}); \
                 INSERT INTO {table}_next SELECT * FROM {table}{kept}; \
                 DROP TABLE {table}; \
                 ALTER TABLE {table}_next RENAME TO {table}"
            ),
        )
        .await?;
    }
    Ok(())
}

/// What compacted readers keep is of an older generation now.
async fn next_generation(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    exec(
        manager,
        "UPDATE village_tally_generation SET generation = generation + 1",
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let variant = Variant::returns(postgres);
        forbid_edits(
            manager,
            "status_change",
            "the status history is append-only: record a new change instead",
        )
        .await?;
        if postgres {
            allow_figures(manager, true).await?;
            for tracked in &TRACKED {
                postgres_triggers(manager, tracked, variant, true).await?;
            }
            postgres_triggers(manager, &STATUS_CHANGES, variant, false).await?;
        } else {
            for tracked in &TRACKED {
                drop_triggers(manager, tracked).await?;
            }
            allow_figures(manager, true).await?;
            for tracked in TRACKED.iter().chain([&STATUS_CHANGES]) {
                sqlite_triggers(manager, tracked, variant).await?;
            }
        }
        // The returns already on record, as the triggers would have kept them.
        let recorded = (STATUS_CHANGES.figures)("status_change", 1, variant);
        exec(manager, &append("village_tally", None, Some(recorded))).await?;
        next_generation(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        drop_triggers(manager, &STATUS_CHANGES).await?;
        let returns = TallyFigure::Returns.to_value();
        if postgres {
            for table in TALLY_TABLES {
                exec(
                    manager,
                    &format!("DELETE FROM {table} WHERE figure = '{returns}'"),
                )
                .await?;
            }
            allow_figures(manager, false).await?;
            for tracked in &TRACKED {
                postgres_triggers(manager, tracked, Variant::SUMMED, true).await?;
            }
        } else {
            for tracked in &TRACKED {
                drop_triggers(manager, tracked).await?;
            }
            allow_figures(manager, false).await?;
            for tracked in &TRACKED {
                sqlite_triggers(manager, tracked, Variant::FIRST).await?;
            }
        }
        allow_edits(manager, "status_change").await?;
        next_generation(manager).await
    }
}
