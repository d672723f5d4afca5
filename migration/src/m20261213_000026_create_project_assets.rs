//! Project assets (扶贫项目资产): what accepted projects leave, owned by a
//! village collective or a household, and their income, an append-only ledger
//! in the database itself, so that what an asset brought is never rewritten.

use crate::columns::{enum_col, fk, forbid_edits, index};
use entity::enums::{AssetKind, AssetStatus};
use entity::{app_user, asset_income, household, project, project_asset, region};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use project_asset::Column as A;
        manager
            .create_table(
                Table::create()
                    .table(project_asset::Entity)
                    .col(big_pk_auto(A::Id))
                    .col(big_integer(A::ProjectId))
                    .col(string_len(A::Name, 200))
                    .col(enum_col::<AssetKind>(A::Kind))
                    .col(big_integer(A::ValueFen).check(Expr::col(A::ValueFen).gt(0)))
                    .col(big_integer_null(A::OwnerVillageId))
                    .col(big_integer_null(A::OwnerHouseholdId))
                    .col(string_len(A::Operator, 200))
                    .col(date(A::HandedOverOn))
                    .col(enum_col::<AssetStatus>(A::Status))
                    .col(integer(A::Version).default(1))
                    .col(timestamp_with_time_zone(A::CreatedAt))
                    .col(timestamp_with_time_zone(A::UpdatedAt))
                    // One owner: a household for a household asset, else a village collective.
                    .check(Expr::cust(
                        "(owner_village_id IS NULL) <> (owner_household_id IS NULL)",
                    ))
                    .check(Expr::cust(
                        "(owner_household_id IS NULL) = (kind <> 'household')",
                    ))
                    .foreign_key(&mut fk(
                        project_asset::Entity,
                        A::ProjectId,
                        project::Entity,
                    ))
                    .foreign_key(&mut fk(
                        project_asset::Entity,
                        A::OwnerVillageId,
                        region::Entity,
                    ))
                    .foreign_key(&mut fk(
                        project_asset::Entity,
                        A::OwnerHouseholdId,
                        household::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "project_asset_project",
            project_asset::Entity,
            &["project_id"],
        )
        .await?;
        index(
            manager,
            "project_asset_village",
            project_asset::Entity,
            &["owner_village_id"],
        )
        .await?;
        index(
            manager,
            "project_asset_household",
            project_asset::Entity,
            &["owner_household_id"],
        )
        .await?;
        use asset_income::Column as I;
        manager
            .create_table(
                Table::create()
                    .table(asset_income::Entity)
                    .col(big_pk_auto(I::Id))
                    .col(big_integer(I::AssetId))
                    .col(integer(I::Year))
                    .col(big_integer(I::AmountFen).check(Expr::col(I::AmountFen).gt(0)))
                    .col(big_integer(I::DistributedFen).check(Expr::col(I::DistributedFen).gte(0)))
                    .col(
                        integer(I::HouseholdsBenefited)
                            .check(Expr::col(I::HouseholdsBenefited).gte(0)),
                    )
                    .col(big_integer_null(I::RecordedBy))
                    .col(timestamp_with_time_zone(I::CreatedAt))
                    .check(Expr::cust("distributed_fen <= amount_fen"))
                    .foreign_key(&mut fk(
                        asset_income::Entity,
                        I::AssetId,
                        project_asset::Entity,
                    ))
                    .foreign_key(&mut fk(
                        asset_income::Entity,
                        I::RecordedBy,
                        app_user::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "asset_income_asset",
            asset_income::Entity,
            &["asset_id", "year"],
        )
        .await?;
        forbid_edits(manager, "asset_income", "asset incomes are append-only").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::columns::allow_edits(manager, "asset_income").await?;
        manager
            .drop_table(Table::drop().table(asset_income::Entity).take())
            .await?;
        manager
            .drop_table(Table::drop().table(project_asset::Entity).take())
            .await
    }
}
