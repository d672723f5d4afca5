//! Helper cadres paired with households.

use entity::{app_user, helper_pairing, household};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use helper_pairing::Column as P;
        manager
            .create_table(
                Table::create()
                    .table(helper_pairing::Entity)
                    .col(big_pk_auto(P::Id))
                    .col(big_integer(P::HelperId))
                    .col(big_integer(P::HouseholdId))
                    .col(string_len_null(P::Unit, 100))
                    .col(date(P::StartedOn))
                    .col(date_null(P::EndedOn))
                    .col(integer(P::Version).default(1))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone(P::UpdatedAt))
                    .check(Expr::cust("ended_on IS NULL OR ended_on >= started_on"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(helper_pairing::Entity, P::HelperId)
                            .to(app_user::Entity, app_user::Column::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(helper_pairing::Entity, P::HouseholdId)
                            .to(household::Entity, household::Column::Id),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("helper_pairing_household")
                    .table(helper_pairing::Entity)
                    .col(P::HouseholdId)
                    .take(),
            )
            .await?;
        // One active pairing of a helper with a household; sea-query has no partial index.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX helper_pairing_active ON helper_pairing (helper_id, household_id) \
                 WHERE ended_on IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(helper_pairing::Entity).take())
            .await
    }
}
