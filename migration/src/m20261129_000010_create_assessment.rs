//! Assessment of townships: the county's indicators of each year, field checks
//! and surveys, and the stored results of each year's assessment.

use crate::columns::{enum_col, fk};
use entity::enums::{CheckKind, IndicatorKind};
use entity::{app_user, assessment_indicator, assessment_result, field_check, helper_unit, region};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use assessment_indicator::Column as I;
        manager
            .create_table(
                Table::create()
                    .table(assessment_indicator::Entity)
                    .col(big_pk_auto(I::Id))
                    .col(integer(I::Year))
                    .col(enum_col::<IndicatorKind>(I::Kind))
                    .col(integer(I::Weight).check(Expr::col(I::Weight).gt(0)))
                    .col(double(I::Target).check(Expr::cust("target > 0 AND target <= 1")))
                    .col(timestamp_with_time_zone(I::CreatedAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("assessment_indicator_year_kind")
                    .table(assessment_indicator::Entity)
                    .col(I::Year)
                    .col(I::Kind)
                    .unique()
                    .take(),
            )
            .await?;

        use field_check::Column as C;
        manager
            .create_table(
                Table::create()
                    .table(field_check::Entity)
                    .col(big_pk_auto(C::Id))
                    .col(integer(C::Year))
                    .col(big_integer(C::TownshipId))
                    .col(enum_col::<CheckKind>(C::Kind))
                    .col(integer(C::Sampled).check(Expr::col(C::Sampled).gt(0)))
                    .col(integer(C::Found))
                    .col(date(C::CheckedOn))
                    .col(text(C::Note))
                    .col(big_integer_null(C::RecordedBy))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .check(Expr::cust("found >= 0 AND found <= sampled"))
                    .foreign_key(&mut fk(field_check::Entity, C::TownshipId, region::Entity))
                    .foreign_key(&mut fk(
                        field_check::Entity,
                        C::RecordedBy,
                        app_user::Entity,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("field_check_year_township")
                    .table(field_check::Entity)
                    .col(C::Year)
                    .col(C::TownshipId)
                    .take(),
            )
            .await?;

        use assessment_result::Column as R;
        manager
            .create_table(
                Table::create()
                    .table(assessment_result::Entity)
                    .col(big_pk_auto(R::Id))
                    .col(integer(R::Year))
                    .col(big_integer_null(R::TownshipId))
                    .col(big_integer_null(R::HelperUnitId))
                    .col(double(R::Score))
                    .col(integer(R::Rank).check(Expr::col(R::Rank).gt(0)))
                    .col(text(R::Breakdown))
                    .col(timestamp_with_time_zone(R::ComputedAt))
                    .check(Expr::cust(
                        "(township_id IS NULL) <> (helper_unit_id IS NULL)",
                    ))
                    .foreign_key(&mut fk(
                        assessment_result::Entity,
                        R::TownshipId,
                        region::Entity,
                    ))
                    .foreign_key(&mut fk(
                        assessment_result::Entity,
                        R::HelperUnitId,
                        helper_unit::Entity,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("assessment_result_year_township")
                    .table(assessment_result::Entity)
                    .col(R::Year)
                    .col(R::TownshipId)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("assessment_result_year_unit")
                    .table(assessment_result::Entity)
                    .col(R::Year)
                    .col(R::HelperUnitId)
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            assessment_result::Entity.into_iden(),
            field_check::Entity.into_iden(),
            assessment_indicator::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
