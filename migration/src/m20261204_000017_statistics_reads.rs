//! Cheaper statistics: an index for the returns of a year (a range of one
//! action's changes, instead of every change of the register), and the
//! generation of the village tally, which each compaction that folds changes
//! moves on in its own transaction, so that a reader may keep the folded
//! figures it read for as long as the generation stays the same.

use crate::columns::{exec, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(
            manager,
            "status_change_action_at",
            Alias::new("status_change"),
            &["action", "at", "household_id"],
        )
        .await?;
        exec(
            manager,
            "CREATE TABLE village_tally_generation \
             (id INTEGER PRIMARY KEY CHECK (id = 1), generation BIGINT NOT NULL)",
        )
        .await?;
        exec(
            manager,
            "INSERT INTO village_tally_generation (id, generation) VALUES (1, 1)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec(manager, "DROP TABLE village_tally_generation").await?;
        manager
            .drop_index(
                Index::drop()
                    .name("status_change_action_at")
                    .table(Alias::new("status_change"))
                    .to_owned(),
            )
            .await
    }
}
