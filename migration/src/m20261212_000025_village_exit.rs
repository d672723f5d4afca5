//! A poverty village's exit (贫困村出列): the village's survey (roads, water,
//! power, clinic, school, broadband) on the region, and the exit procedure
//! (township proposal and notice, county decision) in its own table.

use crate::columns::{enum_col, fk, index};
use entity::enums::VillageExitStage;
use entity::{app_user, region, village_exit};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SURVEY: [&str; 7] = [
    "hardened_road",
    "safe_drinking_water",
    "grid_power",
    "standard_clinic",
    "school_within_reach",
    "broadband",
    "surveyed_on",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use region::Column as R;
        // SQLite alters one column a statement.
        for column in [
            boolean_null(R::HardenedRoad),
            boolean_null(R::SafeDrinkingWater),
            boolean_null(R::GridPower),
            boolean_null(R::StandardClinic),
            boolean_null(R::SchoolWithinReach),
            boolean_null(R::Broadband),
            date_null(R::SurveyedOn),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(region::Entity)
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        use village_exit::Column as E;
        manager
            .create_table(
                Table::create()
                    .table(village_exit::Entity)
                    .col(big_pk_auto(E::Id))
                    .col(big_integer(E::VillageId))
                    .col(enum_col::<VillageExitStage>(E::Stage))
                    .col(text(E::Criteria))
                    .col(string_len(E::Reason, 2000))
                    .col(big_integer_null(E::ProposedBy))
                    .col(date(E::NoticeStartsOn))
                    .col(date(E::NoticeEndsOn))
                    .col(string_len_null(E::NoticePostedBy, 100))
                    .col(string_len_null(E::NoticePostedAt, 200))
                    .col(string_len_null(E::NoticeEvidence, 500))
                    .col(big_integer_null(E::DecidedBy))
                    .col(date_null(E::DecidedOn))
                    .col(integer_null(E::ExitYear))
                    .col(string_len_null(E::Opinion, 2000))
                    .col(integer(E::Version).default(1))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .col(timestamp_with_time_zone(E::UpdatedAt))
                    .check(Expr::cust("notice_ends_on >= notice_starts_on"))
                    .foreign_key(&mut fk(village_exit::Entity, E::VillageId, region::Entity))
                    .foreign_key(&mut fk(
                        village_exit::Entity,
                        E::ProposedBy,
                        app_user::Entity,
                    ))
                    .foreign_key(&mut fk(
                        village_exit::Entity,
                        E::DecidedBy,
                        app_user::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "village_exit_village",
            village_exit::Entity,
            &["village_id"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(village_exit::Entity).take())
            .await?;
        for column in SURVEY {
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
