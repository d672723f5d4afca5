//! Industry, projects and funds: enterprise contacts, benefit links, the
//! project lifecycle (targets, notices, acceptance, history, beneficiaries),
//! fund sources and the append-only fund ledger.

use crate::columns::{enum_col, enum_col_null, exec, fk, forbid_edits, index};
use entity::enums::{BenefitMode, FundEntryKind, FundSourceKind, PayeeKind, ProjectStatus};
use entity::{
    app_user, benefit_link, enterprise, fund_entry, fund_source, household, project,
    project_beneficiary, project_stage_change,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use enterprise::Column as E;
        // SQLite adds one column per statement.
        for col in [
            string_len_null(E::ContactPerson, 100),
            string_len_null(E::ContactPhone, 20),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(enterprise::Entity)
                        .add_column(col)
                        .take(),
                )
                .await?;
        }

        use project::Column as P;
        for col in [
            text_null(P::PerformanceTargets),
            text_null(P::BenefitMechanism),
            integer(P::ProgressPercent).default(0).take(),
            date_null(P::ActualStartDate),
            date_null(P::ActualEndDate),
            date_null(P::NoticeStartsOn),
            date_null(P::NoticeEndsOn),
            date_null(P::ApprovedOn),
            date_null(P::AcceptedOn),
            date_null(P::AnnouncedOn),
        ] {
            manager
                .alter_table(Table::alter().table(project::Entity).add_column(col).take())
                .await?;
        }

        use benefit_link::Column as BL;
        manager
            .create_table(
                Table::create()
                    .table(benefit_link::Entity)
                    .col(big_pk_auto(BL::Id))
                    .col(big_integer(BL::EnterpriseId))
                    .col(big_integer(BL::HouseholdId))
                    .col(enum_col::<BenefitMode>(BL::Mode))
                    .col(date(BL::StartedOn))
                    .col(date_null(BL::EndedOn))
                    .col(
                        big_integer(BL::AnnualIncomeFen)
                            .check(Expr::col(BL::AnnualIncomeFen).gte(0)),
                    )
                    .col(text_null(BL::Note))
                    .col(integer(BL::Version).default(1))
                    .col(timestamp_with_time_zone(BL::CreatedAt))
                    .col(timestamp_with_time_zone(BL::UpdatedAt))
                    .check(Expr::cust("ended_on IS NULL OR ended_on >= started_on"))
                    .foreign_key(&mut fk(
                        benefit_link::Entity,
                        BL::EnterpriseId,
                        enterprise::Entity,
                    ))
                    .foreign_key(&mut fk(
                        benefit_link::Entity,
                        BL::HouseholdId,
                        household::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "benefit_link_enterprise",
            benefit_link::Entity,
            &["enterprise_id", "started_on"],
        )
        .await?;
        index(
            manager,
            "benefit_link_household",
            benefit_link::Entity,
            &["household_id"],
        )
        .await?;

        use project_beneficiary::Column as PB;
        manager
            .create_table(
                Table::create()
                    .table(project_beneficiary::Entity)
                    .col(big_integer(PB::ProjectId))
                    .col(big_integer(PB::HouseholdId))
                    .primary_key(Index::create().col(PB::ProjectId).col(PB::HouseholdId))
                    .foreign_key(&mut fk(
                        project_beneficiary::Entity,
                        PB::ProjectId,
                        project::Entity,
                    ))
                    .foreign_key(&mut fk(
                        project_beneficiary::Entity,
                        PB::HouseholdId,
                        household::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "project_beneficiary_household",
            project_beneficiary::Entity,
            &["household_id", "project_id"],
        )
        .await?;

        use project_stage_change::Column as PS;
        manager
            .create_table(
                Table::create()
                    .table(project_stage_change::Entity)
                    .col(big_pk_auto(PS::Id))
                    .col(big_integer(PS::ProjectId))
                    .col(enum_col_null::<ProjectStatus>(PS::FromStatus))
                    .col(enum_col::<ProjectStatus>(PS::ToStatus))
                    .col(date(PS::EffectiveOn))
                    .col(text(PS::Note))
                    .col(big_integer_null(PS::ActorId))
                    .col(string_len(PS::Actor, 100))
                    .col(timestamp_with_time_zone(PS::At))
                    .foreign_key(&mut fk(
                        project_stage_change::Entity,
                        PS::ProjectId,
                        project::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "project_stage_change_project",
            project_stage_change::Entity,
            &["project_id", "id"],
        )
        .await?;

        use fund_source::Column as FS;
        manager
            .create_table(
                Table::create()
                    .table(fund_source::Entity)
                    .col(big_pk_auto(FS::Id))
                    .col(integer(FS::Year))
                    .col(enum_col::<FundSourceKind>(FS::Kind))
                    .col(string_len(FS::Name, 200))
                    .col(string_len_null(FS::DocumentNumber, 100))
                    .col(big_integer(FS::AmountFen).check(Expr::col(FS::AmountFen).gt(0)))
                    .col(big_integer_null(FS::DonorEnterpriseId))
                    .col(integer(FS::Version).default(1))
                    .col(timestamp_with_time_zone(FS::CreatedAt))
                    .col(timestamp_with_time_zone(FS::UpdatedAt))
                    .check(Expr::cust(
                        "donor_enterprise_id IS NULL OR kind = 'enterprise_donation'",
                    ))
                    .foreign_key(&mut fk(
                        fund_source::Entity,
                        FS::DonorEnterpriseId,
                        enterprise::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "fund_source_year",
            fund_source::Entity,
            &["year", "kind"],
        )
        .await?;
        index(
            manager,
            "fund_source_donor",
            fund_source::Entity,
            &["donor_enterprise_id"],
        )
        .await?;

        use fund_entry::Column as FE;
        manager
            .create_table(
                Table::create()
                    .table(fund_entry::Entity)
                    .col(big_pk_auto(FE::Id))
                    .col(enum_col::<FundEntryKind>(FE::Kind))
                    .col(big_integer(FE::SourceId))
                    .col(big_integer(FE::ProjectId))
                    .col(big_integer(FE::AmountFen))
                    .col(date(FE::EntryDate))
                    .col(string_len_null(FE::VoucherNumber, 100))
                    .col(string_len_null(FE::Payee, 200))
                    .col(enum_col_null::<PayeeKind>(FE::PayeeKind))
                    .col(big_integer_null(FE::ReversesId).unique_key())
                    .col(text(FE::Note))
                    .col(big_integer_null(FE::RecordedBy))
                    .col(timestamp_with_time_zone(FE::CreatedAt))
                    // An original entry is positive; a reversal negative.
                    .check(Expr::cust("(reverses_id IS NULL AND amount_fen > 0) OR (reverses_id IS NOT NULL AND amount_fen < 0)"))
                    .check(Expr::cust(
                        "kind = 'allocation' OR (payee IS NOT NULL AND payee_kind IS NOT NULL AND voucher_number IS NOT NULL)",
                    ))
                    .foreign_key(&mut fk(fund_entry::Entity, FE::SourceId, fund_source::Entity))
                    .foreign_key(&mut fk(fund_entry::Entity, FE::ProjectId, project::Entity))
                    .foreign_key(&mut fk(fund_entry::Entity, FE::ReversesId, fund_entry::Entity))
                    .foreign_key(&mut fk(fund_entry::Entity, FE::RecordedBy, app_user::Entity))
                    .take(),
            )
            .await?;
        index(
            manager,
            "fund_entry_project",
            fund_entry::Entity,
            &["project_id", "source_id", "kind"],
        )
        .await?;
        index(
            manager,
            "fund_entry_source",
            fund_entry::Entity,
            &["source_id", "kind"],
        )
        .await?;
        forbid_edits(
            manager,
            "fund_entry",
            "the fund ledger is append-only: reverse an entry instead",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            fund_entry::Entity.into_iden(),
            fund_source::Entity.into_iden(),
            project_stage_change::Entity.into_iden(),
            project_beneficiary::Entity.into_iden(),
            benefit_link::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            exec(manager, "DROP FUNCTION IF EXISTS fund_entry_append_only()").await?;
        }
        use project::Column as P;
        for col in [
            P::AnnouncedOn,
            P::AcceptedOn,
            P::ApprovedOn,
            P::NoticeEndsOn,
            P::NoticeStartsOn,
            P::ActualEndDate,
            P::ActualStartDate,
            P::ProgressPercent,
            P::BenefitMechanism,
            P::PerformanceTargets,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(project::Entity)
                        .drop_column(col)
                        .take(),
                )
                .await?;
        }
        use enterprise::Column as E;
        for col in [E::ContactPhone, E::ContactPerson] {
            manager
                .alter_table(
                    Table::alter()
                        .table(enterprise::Entity)
                        .drop_column(col)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
