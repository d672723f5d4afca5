//! The record of masked values revealed, with their purpose.

use entity::{app_user, reveal};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use reveal::Column as R;
        manager
            .create_table(
                Table::create()
                    .table(reveal::Entity)
                    .col(big_pk_auto(R::Id))
                    .col(big_integer(R::UserId))
                    .col(string_len(R::TargetType, 32))
                    .col(big_integer(R::TargetId))
                    .col(string_len(R::Field, 64))
                    .col(string_len(R::Purpose, 500).check(Expr::cust("length(purpose) >= 4")))
                    .col(timestamp_with_time_zone(R::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(reveal::Entity, R::UserId)
                            .to(app_user::Entity, app_user::Column::Id),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reveal_target")
                    .table(reveal::Entity)
                    .col(R::TargetType)
                    .col(R::TargetId)
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(reveal::Entity).take())
            .await
    }
}
