//! A province's own poverty line per year (省定贫困标准), beside the national
//! one: households identified under the provincial standard exit against it.

use entity::provincial_poverty_line;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use provincial_poverty_line::Column as L;
        manager
            .create_table(
                Table::create()
                    .table(provincial_poverty_line::Entity)
                    .col(string_len(L::ProvinceCode, 2))
                    .col(integer(L::Year))
                    .col(big_integer(L::AnnualFen).check(Expr::col(L::AnnualFen).gt(0)))
                    .primary_key(Index::create().col(L::ProvinceCode).col(L::Year))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(provincial_poverty_line::Entity).take())
            .await
    }
}
