//! Policy publicity (政策宣传): policies with their audiences (roles and
//! regions) and the append-only read receipts that show where publicity has
//! not reached.

use crate::columns::{enum_col, exec, fk, forbid_edits};
use entity::enums::{PolicyCategory, PolicyStatus, Role};
use entity::{app_user, policy, policy_read, policy_region, policy_role, region};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use policy::Column as P;
        manager
            .create_table(
                Table::create()
                    .table(policy::Entity)
                    .col(big_pk_auto(P::Id))
                    .col(string_len(P::Title, 200))
                    .col(text(P::Body))
                    .col(enum_col::<PolicyCategory>(P::Category))
                    .col(string_len(P::IssuingBody, 200))
                    .col(date(P::EffectiveOn))
                    .col(enum_col::<PolicyStatus>(P::Status))
                    .col(timestamp_with_time_zone_null(P::PublishedAt))
                    .col(big_integer_null(P::PublishedBy))
                    .col(timestamp_with_time_zone_null(P::WithdrawnAt))
                    .col(big_integer_null(P::WithdrawnBy))
                    .col(text_null(P::WithdrawalReason))
                    .col(big_integer_null(P::CreatedBy))
                    .col(integer(P::Version).default(1))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone(P::UpdatedAt))
                    .check(Expr::cust(
                        "(status = 'draft' AND published_at IS NULL) OR (status <> 'draft' AND published_at IS NOT NULL)",
                    ))
                    .check(Expr::cust(
                        "(status = 'withdrawn') = (withdrawn_at IS NOT NULL)",
                    ))
                    .foreign_key(&mut fk(policy::Entity, P::PublishedBy, app_user::Entity))
                    .foreign_key(&mut fk(policy::Entity, P::WithdrawnBy, app_user::Entity))
                    .foreign_key(&mut fk(policy::Entity, P::CreatedBy, app_user::Entity))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("policy_status")
                    .table(policy::Entity)
                    .col(P::Status)
                    .col(P::Id)
                    .take(),
            )
            .await?;
        use policy_role::Column as PRo;
        manager
            .create_table(
                Table::create()
                    .table(policy_role::Entity)
                    .col(big_integer(PRo::PolicyId))
                    .col(enum_col::<Role>(PRo::Role))
                    .primary_key(Index::create().col(PRo::PolicyId).col(PRo::Role))
                    .foreign_key(&mut fk(policy_role::Entity, PRo::PolicyId, policy::Entity))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("policy_role_role")
                    .table(policy_role::Entity)
                    .col(PRo::Role)
                    .col(PRo::PolicyId)
                    .take(),
            )
            .await?;
        use policy_region::Column as PRe;
        manager
            .create_table(
                Table::create()
                    .table(policy_region::Entity)
                    .col(big_integer(PRe::PolicyId))
                    .col(big_integer(PRe::RegionId))
                    .primary_key(Index::create().col(PRe::PolicyId).col(PRe::RegionId))
                    .foreign_key(&mut fk(
                        policy_region::Entity,
                        PRe::PolicyId,
                        policy::Entity,
                    ))
                    .foreign_key(&mut fk(
                        policy_region::Entity,
                        PRe::RegionId,
                        region::Entity,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("policy_region_region")
                    .table(policy_region::Entity)
                    .col(PRe::RegionId)
                    .col(PRe::PolicyId)
                    .take(),
            )
            .await?;
        use policy_read::Column as PR;
        manager
            .create_table(
                Table::create()
                    .table(policy_read::Entity)
                    .col(big_integer(PR::PolicyId))
                    .col(big_integer(PR::UserId))
                    .col(timestamp_with_time_zone(PR::ReadAt))
                    .primary_key(Index::create().col(PR::PolicyId).col(PR::UserId))
                    .foreign_key(&mut fk(policy_read::Entity, PR::PolicyId, policy::Entity))
                    .foreign_key(&mut fk(policy_read::Entity, PR::UserId, app_user::Entity))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("policy_read_user")
                    .table(policy_read::Entity)
                    .col(PR::UserId)
                    .col(PR::PolicyId)
                    .take(),
            )
            .await?;
        forbid_edits(manager, "policy_read", "read receipts are append-only").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            policy_read::Entity.into_iden(),
            policy_region::Entity.into_iden(),
            policy_role::Entity.into_iden(),
            policy::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            exec(manager, "DROP FUNCTION IF EXISTS policy_read_append_only()").await?;
        }
        Ok(())
    }
}
