//! The region hierarchy, the filing card (households, members, causes, incomes),
//! the poverty line, enterprises and projects.

use crate::columns::{enum_col, enum_col_null};
use entity::enums::{
    DilapidatedGrade, Education, EnterpriseKind, Gender, Health, HouseholdAttribute,
    HouseholdStatus, IdentificationStandard, Industry, LabourAbility, MigrantWork,
    MonitoringCategory, PovertyCause, ProjectKind, ProjectStatus, RegionLevel, Relation,
    StudentStatus,
};
use entity::{
    enterprise, ethnicity, household, household_cause, household_income, member, poverty_line,
    project, project_village, region,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A money column in fen that may not be negative.
fn fen(col: impl IntoIden + Clone + 'static) -> ColumnDef {
    big_integer(col.clone()).check(Expr::col(col).gte(0)).take()
}

/// Text compared byte-wise on PostgreSQL too, so that prefix searches are index ranges.
fn searchable(backend: DbBackend, col: impl IntoIden, len: u32) -> ColumnDef {
    let mut def = string_len(col, len);
    if backend == DbBackend::Postgres {
        def.extra("COLLATE \"C\"");
    }
    def
}

fn timestamps(table: &mut TableCreateStatement, created: impl IntoIden, updated: impl IntoIden) {
    table
        .col(timestamp_with_time_zone(created))
        .col(timestamp_with_time_zone(updated));
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        use region::Column as R;
        let mut t = Table::create();
        t.table(region::Entity)
            .col(big_pk_auto(R::Id))
            .col(string_len_uniq(R::Code, 12).check(Expr::cust("length(code) = 12")))
            .col(searchable(backend, R::Name, 64))
            .col(enum_col::<RegionLevel>(R::Level))
            .col(big_integer_null(R::ParentId))
            .col(boolean(R::IsPovertyVillage).default(false))
            .col(integer_null(R::ExitYear))
            .col(integer_null(R::RuralPopulation).check(Expr::col(R::RuralPopulation).gte(0)))
            .col(double_null(R::Latitude))
            .col(double_null(R::Longitude))
            .col(big_integer_null(R::CollectiveIncomeFen))
            .col(integer_null(R::CollectiveIncomeYear))
            .col(integer(R::Version).default(1))
            .check(Expr::cust(
                "(level = 'village') OR (is_poverty_village = false AND exit_year IS NULL \
                 AND rural_population IS NULL AND collective_income_fen IS NULL)",
            ))
            .check(Expr::cust("(level = 'county') = (parent_id IS NULL)"))
            .foreign_key(&mut fk(region::Entity, R::ParentId, region::Entity, R::Id));
        timestamps(&mut t, R::CreatedAt, R::UpdatedAt);
        manager.create_table(t).await?;
        manager
            .create_index(
                Index::create()
                    .name("region_parent")
                    .table(region::Entity)
                    .col(R::ParentId)
                    .take(),
            )
            .await?;

        use household::Column as H;
        let mut t = Table::create();
        t.table(household::Entity)
            .col(big_pk_auto(H::Id))
            .col(
                searchable(backend, H::Number, 17)
                    .unique_key()
                    .check(Expr::cust("length(number) = 17")),
            )
            .col(big_integer(H::VillageId))
            .col(string_len(H::Address, 200))
            .col(string_len_null(H::Phone, 20))
            .col(enum_col::<HouseholdAttribute>(H::Attribute))
            .col(enum_col::<IdentificationStandard>(H::Standard))
            .col(enum_col::<HouseholdStatus>(H::Status))
            .col(integer(H::EnrolledYear))
            .col(integer_null(H::LiftedOutYear))
            .col(enum_col_null::<MonitoringCategory>(H::Monitoring))
            .col(enum_col::<PovertyCause>(H::MainCause))
            .col(double(H::CultivatedLandMu).check(Expr::col(H::CultivatedLandMu).gte(0)))
            .col(double(H::HousingAreaM2).check(Expr::col(H::HousingAreaM2).gte(0)))
            .col(enum_col_null::<DilapidatedGrade>(H::DilapidatedGrade))
            .col(boolean(H::SafeDrinkingWater))
            .col(boolean(H::ProductionElectricity))
            .col(boolean(H::HouseholdElectricity))
            .col(double(H::RoadDistanceKm).check(Expr::col(H::RoadDistanceKm).gte(0)))
            .col(boolean(H::JoinedCooperative))
            .col(boolean(H::FoodSecure))
            .col(boolean(H::ClothingSecure))
            .col(boolean(H::CompulsoryEducationSecure))
            .col(boolean(H::BasicMedicalSecure))
            .col(boolean(H::HousingSecure))
            .col(integer(H::Version).default(1))
            .check(Expr::cust(
                "(status = 'enrolled') OR (status = 'removed') OR (lifted_out_year IS NOT NULL)",
            ))
            .foreign_key(&mut fk(
                household::Entity,
                H::VillageId,
                region::Entity,
                R::Id,
            ));
        timestamps(&mut t, H::CreatedAt, H::UpdatedAt);
        manager.create_table(t).await?;
        for (name, col) in [
            ("household_village", H::VillageId),
            ("household_status", H::Status),
            ("household_attribute", H::Attribute),
            ("household_main_cause", H::MainCause),
            ("household_monitoring", H::Monitoring),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(household::Entity)
                        .col(col)
                        .col(H::Id)
                        .take(),
                )
                .await?;
        }

        use household_cause::Column as HC;
        manager
            .create_table(
                Table::create()
                    .table(household_cause::Entity)
                    .col(big_integer(HC::HouseholdId))
                    .col(enum_col::<PovertyCause>(HC::Cause))
                    .primary_key(Index::create().col(HC::HouseholdId).col(HC::Cause))
                    .foreign_key(&mut fk(
                        household_cause::Entity,
                        HC::HouseholdId,
                        household::Entity,
                        H::Id,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("household_cause_cause")
                    .table(household_cause::Entity)
                    .col(HC::Cause)
                    .col(HC::HouseholdId)
                    .take(),
            )
            .await?;

        use household_income::Column as HI;
        let mut t = Table::create();
        t.table(household_income::Entity)
            .col(big_integer(HI::HouseholdId))
            .col(integer(HI::Year))
            .col(fen(HI::WageFen))
            .col(fen(HI::ProductionFen))
            .col(fen(HI::PropertyFen))
            .col(fen(HI::TransferFen))
            .col(fen(HI::ProductionCostFen))
            .col(integer(HI::HouseholdSize).check(Expr::col(HI::HouseholdSize).gt(0)))
            .col(big_integer(HI::PerCapitaNetFen))
            .col(integer(HI::Version).default(1))
            .col(timestamp_with_time_zone(HI::UpdatedAt))
            .primary_key(Index::create().col(HI::HouseholdId).col(HI::Year))
            .check(Expr::cust(
                "per_capita_net_fen = (wage_fen + production_fen + property_fen + transfer_fen \
                 - production_cost_fen) / household_size",
            ))
            .foreign_key(&mut fk(
                household_income::Entity,
                HI::HouseholdId,
                household::Entity,
                H::Id,
            ));
        manager.create_table(t).await?;
        manager
            .create_index(
                Index::create()
                    .name("household_income_year_per_capita")
                    .table(household_income::Entity)
                    .col(HI::Year)
                    .col(HI::PerCapitaNetFen)
                    .take(),
            )
            .await?;

        use member::Column as M;
        let ethnicity_codes = ethnicity::ETHNICITIES.iter().map(|(code, _)| *code);
        let mut t = Table::create();
        t.table(member::Entity)
            .col(big_pk_auto(M::Id))
            .col(big_integer(M::HouseholdId))
            .col(searchable(backend, M::Name, 64))
            .col(enum_col::<Gender>(M::Gender))
            .col(string_len(M::IdNumber, 18).check(Expr::cust("length(id_number) = 18")))
            .col(enum_col::<Relation>(M::Relation))
            .col(string_len(M::Ethnicity, 2).check(Expr::col(M::Ethnicity).is_in(ethnicity_codes)))
            .col(enum_col::<Education>(M::Education))
            .col(enum_col::<StudentStatus>(M::StudentStatus))
            .col(enum_col::<Health>(M::Health))
            .col(small_integer_null(M::DisabilityGrade))
            .col(enum_col::<LabourAbility>(M::LabourAbility))
            .col(enum_col::<MigrantWork>(M::MigrantWork))
            .col(small_integer(M::MigrantMonths).check(Expr::col(M::MigrantMonths).between(0, 12)))
            .col(boolean(M::BasicMedicalInsurance))
            .col(boolean(M::SeriousIllnessInsurance))
            .col(boolean(M::BasicPension))
            .col(boolean(M::IsActive).default(true))
            .col(integer(M::Version).default(1))
            .check(Expr::cust(
                "(health = 'disabled' AND disability_grade BETWEEN 1 AND 4) \
                 OR (health <> 'disabled' AND disability_grade IS NULL)",
            ))
            .foreign_key(&mut fk(
                member::Entity,
                M::HouseholdId,
                household::Entity,
                H::Id,
            ));
        timestamps(&mut t, M::CreatedAt, M::UpdatedAt);
        manager.create_table(t).await?;
        manager
            .create_index(
                Index::create()
                    .name("member_household")
                    .table(member::Entity)
                    .col(M::HouseholdId)
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("member_name")
                    .table(member::Entity)
                    .col(M::Name)
                    .take(),
            )
            .await?;
        // A person belongs to at most one active household; sea-query has no partial index.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX member_active_id_number ON member (id_number) WHERE is_active",
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX member_one_head ON member (household_id) \
                 WHERE is_active AND relation = 'head'",
            )
            .await?;

        use poverty_line::Column as PL;
        manager
            .create_table(
                Table::create()
                    .table(poverty_line::Entity)
                    .col(integer(PL::Year).primary_key())
                    .col(fen(PL::AnnualFen))
                    .take(),
            )
            .await?;

        use enterprise::Column as E;
        let mut t = Table::create();
        t.table(enterprise::Entity)
            .col(big_pk_auto(E::Id))
            .col(searchable(backend, E::Name, 100))
            .col(string_len_uniq(E::CreditCode, 18).check(Expr::cust("length(credit_code) = 18")))
            .col(enum_col::<EnterpriseKind>(E::Kind))
            .col(enum_col::<Industry>(E::Industry))
            .col(big_integer_null(E::VillageId))
            .col(integer(E::Version).default(1))
            .foreign_key(&mut fk(
                enterprise::Entity,
                E::VillageId,
                region::Entity,
                R::Id,
            ));
        timestamps(&mut t, E::CreatedAt, E::UpdatedAt);
        manager.create_table(t).await?;
        for (name, col) in [
            ("enterprise_village", E::VillageId),
            ("enterprise_kind", E::Kind),
            ("enterprise_industry", E::Industry),
            ("enterprise_name", E::Name),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(enterprise::Entity)
                        .col(col)
                        .take(),
                )
                .await?;
        }

        use project::Column as P;
        let mut t = Table::create();
        t.table(project::Entity)
            .col(big_pk_auto(P::Id))
            .col(string_len(P::Name, 200))
            .col(enum_col::<ProjectKind>(P::Kind))
            .col(enum_col::<ProjectStatus>(P::Status))
            .col(integer(P::Year))
            .col(string_len(P::Implementer, 100))
            .col(big_integer_null(P::ImplementerEnterpriseId))
            .col(fen(P::BudgetFen))
            .col(date_null(P::StartDate))
            .col(date_null(P::EndDate))
            .col(integer(P::Version).default(1))
            .check(Expr::cust(
                "start_date IS NULL OR end_date IS NULL OR start_date <= end_date",
            ))
            .foreign_key(&mut fk(
                project::Entity,
                P::ImplementerEnterpriseId,
                enterprise::Entity,
                E::Id,
            ));
        timestamps(&mut t, P::CreatedAt, P::UpdatedAt);
        manager.create_table(t).await?;
        for (name, col) in [
            ("project_kind", P::Kind),
            ("project_status", P::Status),
            ("project_year", P::Year),
            ("project_implementer_enterprise", P::ImplementerEnterpriseId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(project::Entity)
                        .col(col)
                        .take(),
                )
                .await?;
        }

        use project_village::Column as PV;
        manager
            .create_table(
                Table::create()
                    .table(project_village::Entity)
                    .col(big_integer(PV::ProjectId))
                    .col(big_integer(PV::VillageId))
                    .primary_key(Index::create().col(PV::ProjectId).col(PV::VillageId))
                    .foreign_key(&mut fk(
                        project_village::Entity,
                        PV::ProjectId,
                        project::Entity,
                        P::Id,
                    ))
                    .foreign_key(&mut fk(
                        project_village::Entity,
                        PV::VillageId,
                        region::Entity,
                        R::Id,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("project_village_village")
                    .table(project_village::Entity)
                    .col(PV::VillageId)
                    .col(PV::ProjectId)
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            project_village::Entity.into_iden(),
            project::Entity.into_iden(),
            enterprise::Entity.into_iden(),
            poverty_line::Entity.into_iden(),
            member::Entity.into_iden(),
            household_income::Entity.into_iden(),
            household_cause::Entity.into_iden(),
            household::Entity.into_iden(),
            region::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
