//! The append-only, hash-chained audit trail.

use entity::{app_user, audit_entry};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use audit_entry::Column as A;
        manager
            .create_table(
                Table::create()
                    .table(audit_entry::Entity)
                    .col(big_pk_auto(A::Id))
                    .col(timestamp_with_time_zone(A::At))
                    .col(big_integer_null(A::ActorId))
                    .col(string_len(A::Actor, 100))
                    .col(string_len_null(A::Role, 32))
                    .col(string_len(A::Action, 64))
                    .col(string_len(A::EntityType, 32))
                    .col(big_integer(A::EntityId))
                    .col(text_null(A::Before))
                    .col(text_null(A::After))
                    .col(string_len_null(A::RequestId, 64))
                    // Unique: two entries can never follow the same one, so the chain cannot fork.
                    .col(string_len_uniq(A::PrevHash, 64))
                    .col(string_len_uniq(A::Hash, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .from(audit_entry::Entity, A::ActorId)
                            .to(app_user::Entity, app_user::Column::Id),
                    )
                    .take(),
            )
            .await?;
        for (name, columns) in [
            ("audit_entry_entity", vec![A::EntityType, A::EntityId]),
            ("audit_entry_actor", vec![A::Actor, A::At]),
            ("audit_entry_at", vec![A::At]),
        ] {
            let mut index = Index::create().name(name).table(audit_entry::Entity).take();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(audit_entry::Entity).take())
            .await
    }
}
