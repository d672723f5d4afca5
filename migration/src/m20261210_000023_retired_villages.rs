//! Villages retire (撤并): merged into another, their households moving with
//! them, or retired once empty. A retired village stays on the register, for
//! the history and the years closed with it, and takes no more households.

use entity::region;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use region::Column as R;
        // SQLite alters one column a statement.
        for column in [date_null(R::RetiredOn), big_integer_null(R::MergedIntoId)] {
            manager
                .alter_table(
                    Table::alter()
                        .table(region::Entity)
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["merged_into_id", "retired_on"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(region::Entity)
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
