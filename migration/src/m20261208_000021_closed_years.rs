//! Closed years (年度结转): the household figures of each village as the
//! register stood at the end of a year, written once when the year is over,
//! so that last year's statistics (what the county reported and was assessed
//! on) read the same whatever the register says since. Both tables are
//! append-only in the database itself.

use crate::columns::{allow_edits, enum_col, forbid_edits};
use entity::enums::TallyFigure;
use entity::{closed_year, closed_year_figure};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["closed_year", "closed_year_figure"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use closed_year::Column as Y;
        manager
            .create_table(
                Table::create()
                    .table(closed_year::Entity)
                    .col(integer(Y::Year).primary_key())
                    .col(timestamp_with_time_zone(Y::ClosedAt))
                    .take(),
            )
            .await?;
        use closed_year_figure::Column as F;
        manager
            .create_table(
                Table::create()
                    .table(closed_year_figure::Entity)
                    .col(integer(F::Year))
                    .col(big_integer(F::VillageId))
                    .col(enum_col::<TallyFigure>(F::Figure))
                    .col(string_len(F::Item, 32))
                    .col(big_integer(F::Amount))
                    .primary_key(
                        Index::create()
                            .col(F::Year)
                            .col(F::VillageId)
                            .col(F::Figure)
                            .col(F::Item),
                    )
                    .take(),
            )
            .await?;
        for table in TABLES {
            forbid_edits(manager, table, &format!("{table} is append-only")).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            allow_edits(manager, table).await?;
        }
        manager
            .drop_table(Table::drop().table(closed_year_figure::Entity).take())
            .await?;
        manager
            .drop_table(Table::drop().table(closed_year::Entity).take())
            .await
    }
}
