//! Trusted documents: query documents known by their SHA-256 (automatic
//! persisted queries), the third-party apps of the county, the documents
//! registered for each, and the app a refresh session was opened for.

use crate::columns::{fk, index};
use entity::{app_user, client_app, client_app_document, persisted_document, refresh_token};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use persisted_document::Column as P;
        manager
            .create_table(
                Table::create()
                    .table(persisted_document::Entity)
                    .col(char_len(P::Sha256, 64).primary_key())
                    .col(text(P::Document))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .take(),
            )
            .await?;

        use client_app::Column as A;
        manager
            .create_table(
                Table::create()
                    .table(client_app::Entity)
                    .col(big_pk_auto(A::Id))
                    .col(string_len_uniq(A::Name, 100))
                    .col(string_len_uniq(A::ClientId, 64))
                    .col(boolean(A::TrustedDocumentsOnly).default(false))
                    .col(integer(A::Version).default(1))
                    .col(timestamp_with_time_zone(A::CreatedAt))
                    .col(big_integer(A::CreatedBy))
                    .col(timestamp_with_time_zone(A::UpdatedAt))
                    .foreign_key(&mut fk(client_app::Entity, A::CreatedBy, app_user::Entity))
                    .take(),
            )
            .await?;

        use client_app_document::Column as D;
        manager
            .create_table(
                Table::create()
                    .table(client_app_document::Entity)
                    .col(big_integer(D::AppId))
                    .col(char_len(D::Sha256, 64))
                    .col(timestamp_with_time_zone(D::RegisteredAt))
                    .primary_key(Index::create().col(D::AppId).col(D::Sha256))
                    .foreign_key(&mut fk(
                        client_app_document::Entity,
                        D::AppId,
                        client_app::Entity,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(client_app_document::Entity, D::Sha256)
                            .to(persisted_document::Entity, P::Sha256)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        index(
            manager,
            "client_app_document_sha256",
            client_app_document::Entity,
            &["sha256"],
        )
        .await?;

        // No foreign key: SQLite adds one only with the column's table rebuilt,
        // and apps are never deleted.
        manager
            .alter_table(
                Table::alter()
                    .table(refresh_token::Entity)
                    .add_column(big_integer_null(refresh_token::Column::AppId))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(refresh_token::Entity)
                    .drop_column(refresh_token::Column::AppId)
                    .take(),
            )
            .await?;
        for table in [
            client_app_document::Entity.into_iden(),
            client_app::Entity.into_iden(),
            persisted_document::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
