//! Users with their role and scope, refresh tokens, and the login record.

use entity::enums::Role;
use entity::{app_user, enterprise, login_attempt, refresh_token, region};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ActiveEnum, Iterable};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use app_user::Column as U;
        manager
            .create_table(
                Table::create()
                    .table(app_user::Entity)
                    .col(big_pk_auto(U::Id))
                    .col(string_len_uniq(U::Username, 64))
                    .col(string_len(U::PasswordHash, 200))
                    .col(
                        string_len(U::Role, 32)
                            .check(Expr::col(U::Role).is_in(Role::iter().map(|r| r.to_value()))),
                    )
                    .col(big_integer_null(U::RegionId))
                    .col(big_integer_null(U::EnterpriseId))
                    .col(boolean(U::IsActive).default(true))
                    .col(integer(U::TokenVersion).default(1))
                    // Dropped by 000013 with the entity's fields: spelled out here.
                    .col(integer(Alias::new("failed_logins")).default(0))
                    .col(timestamp_with_time_zone_null(Alias::new("locked_until")))
                    .col(integer(U::Version).default(1))
                    .col(timestamp_with_time_zone(U::CreatedAt))
                    .col(timestamp_with_time_zone(U::UpdatedAt))
                    // Scope follows the role: a region for township and village
                    // staff, an enterprise for enterprise users, nothing otherwise.
                    .check(Expr::cust(
                        "(role IN ('township_officer', 'village_cadre')) = (region_id IS NOT NULL)",
                    ))
                    .check(Expr::cust(
                        "(role = 'enterprise') = (enterprise_id IS NOT NULL)",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(app_user::Entity, U::RegionId)
                            .to(region::Entity, region::Column::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(app_user::Entity, U::EnterpriseId)
                            .to(enterprise::Entity, enterprise::Column::Id),
                    )
                    .take(),
            )
            .await?;

        use refresh_token::Column as T;
        manager
            .create_table(
                Table::create()
                    .table(refresh_token::Entity)
                    .col(big_pk_auto(T::Id))
                    .col(big_integer(T::UserId))
                    .col(string_len(T::Family, 36))
                    .col(string_len_uniq(T::TokenHash, 64))
                    .col(timestamp_with_time_zone(T::IssuedAt))
                    .col(timestamp_with_time_zone(T::ExpiresAt))
                    .col(timestamp_with_time_zone_null(T::UsedAt))
                    .col(timestamp_with_time_zone_null(T::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(refresh_token::Entity, T::UserId)
                            .to(app_user::Entity, U::Id),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_token_family")
                    .table(refresh_token::Entity)
                    .col(T::Family)
                    .take(),
            )
            .await?;

        use login_attempt::Column as L;
        manager
            .create_table(
                Table::create()
                    .table(login_attempt::Entity)
                    .col(big_pk_auto(L::Id))
                    .col(string_len(L::Username, 64))
                    .col(big_integer_null(L::UserId))
                    .col(boolean(L::Succeeded))
                    .col(string_len_null(L::Failure, 32))
                    .col(timestamp_with_time_zone(L::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(login_attempt::Entity, L::UserId)
                            .to(app_user::Entity, U::Id),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_attempt_user_at")
                    .table(login_attempt::Entity)
                    .col(L::UserId)
                    .col(L::At)
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            login_attempt::Entity.into_iden(),
            refresh_token::Entity.into_iden(),
            app_user::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
