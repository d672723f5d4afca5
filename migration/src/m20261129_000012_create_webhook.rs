//! Webhooks: provincial systems' endpoints and the log of deliveries to them.
//! Events are not copied: the audit trail, written in each change's own
//! transaction, is the outbox, and a webhook keeps its position in it.

use crate::columns::{exec, fk, forbid_edits, index};
use entity::{app_user, webhook, webhook_delivery};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use webhook::Column as W;
        manager
            .create_table(
                Table::create()
                    .table(webhook::Entity)
                    .col(big_pk_auto(W::Id))
                    .col(big_integer(W::OwnerId))
                    .col(text(W::Url))
                    .col(text(W::Secret))
                    .col(text(W::EventTypes))
                    .col(boolean(W::Active))
                    .col(big_integer(W::Position))
                    .col(integer(W::Failures).check(Expr::col(W::Failures).gte(0)))
                    .col(timestamp_with_time_zone_null(W::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(W::LeasedUntil))
                    .col(text_null(W::LastError))
                    .col(integer(W::Version))
                    .col(timestamp_with_time_zone(W::CreatedAt))
                    .col(timestamp_with_time_zone(W::UpdatedAt))
                    .foreign_key(&mut fk(webhook::Entity, W::OwnerId, app_user::Entity))
                    .take(),
            )
            .await?;
        index(manager, "webhook_owner", webhook::Entity, &["owner_id"]).await?;

        use webhook_delivery::Column as D;
        manager
            .create_table(
                Table::create()
                    .table(webhook_delivery::Entity)
                    .col(big_pk_auto(D::Id))
                    .col(big_integer(D::WebhookId))
                    .col(big_integer(D::EventId))
                    .col(integer(D::Attempt).check(Expr::col(D::Attempt).gt(0)))
                    .col(timestamp_with_time_zone(D::At))
                    .col(integer_null(D::StatusCode))
                    .col(text_null(D::Error))
                    .col(boolean(D::Delivered))
                    .col(big_integer(D::DurationMs))
                    .foreign_key(&mut fk(
                        webhook_delivery::Entity,
                        D::WebhookId,
                        webhook::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "webhook_delivery_webhook",
            webhook_delivery::Entity,
            &["webhook_id", "id"],
        )
        .await?;
        forbid_edits(
            manager,
            "webhook_delivery",
            "the delivery log is append-only",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            webhook_delivery::Entity.into_iden(),
            webhook::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            exec(
                manager,
                "DROP FUNCTION IF EXISTS webhook_delivery_append_only()",
            )
            .await?;
        }
        Ok(())
    }
}
