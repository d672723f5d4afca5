//! Dynamic management of the register: households on file before enrolment,
//! idempotency keys, card revisions, status history, proposals with public
//! notices and objections, monitoring, plans, helper units, village staff and visits.

use crate::columns::{enum_col, enum_col_null, exec, fk};
use entity::enums::{
    FoundBy, HelpKind, HelperUnitKind, HouseholdStatus, MeasureCategory, MeasureStatus,
    MonitoringCategory, ProposalKind, ProposalStage, RiskType, StatusAction, VillageStaffRole,
};
use entity::{
    app_user, card_revision, helper_unit, household, idempotency_key, measure, monitoring_case,
    monitoring_line, monitoring_risk, objection, proposal, region, status_change, unit_pairing,
    village_staff, visit, visit_help,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, Iterable};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The value list of the `status` CHECK, in SQL.
fn status_values() -> String {
    HouseholdStatus::iter()
        .map(|s| format!("'{}'", s.to_value()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Statuses that carry a year, and the status of a household on file that was never enrolled.
const LIFECYCLE_CHECK: &str = "(status IN ('enrolled', 'removed', 'not_poor') OR lifted_out_year IS NOT NULL) \
     AND (status IN ('not_poor', 'removed') OR enrolled_year IS NOT NULL)";

/// Lets `household` hold households on file that are not poor: a new status,
/// no enrolment year until enrolled. PostgreSQL alters its constraints; SQLite
/// rewrites the table's definition in place, as its documentation allows for
/// loosening CHECK and NOT NULL constraints (the stored rows do not change).
async fn loosen_household(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let statuses = status_values();
    if manager.get_database_backend() == DbBackend::Postgres {
        exec(
            manager,
            &format!(
                "ALTER TABLE household DROP CONSTRAINT IF EXISTS household_status_check, \
                 DROP CONSTRAINT IF EXISTS household_check, \
                 DROP CONSTRAINT IF EXISTS household_lifecycle_check, \
                 ADD CONSTRAINT household_status_check CHECK (status IN ({statuses})), \
                 ADD CONSTRAINT household_lifecycle_check CHECK ({LIFECYCLE_CHECK}), \
                 ALTER COLUMN enrolled_year DROP NOT NULL"
            ),
        )
        .await?;
        return Ok(());
    }
    let db = manager.get_connection();
    let row = db
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'household'",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration("table household is missing".into()))?;
    let old: String = row.try_get("", "sql")?;
    let status_start = r#""status" varchar(32) NOT NULL CHECK ("status" IN ("#;
    let start = old
        .find(status_start)
        .ok_or_else(|| DbErr::Migration("household.status CHECK not found".into()))?
        + status_start.len();
    let end = start
        + old[start..]
            .find("))")
            .ok_or_else(|| DbErr::Migration("household.status CHECK not closed".into()))?;
    let new = format!("{}{statuses}{}", &old[..start], &old[end..])
        .replace(
            r#""enrolled_year" integer NOT NULL"#,
            r#""enrolled_year" integer NULL"#,
        )
        .replace(
            "CHECK ((status = 'enrolled') OR (status = 'removed') OR (lifted_out_year IS NOT NULL))",
            &format!("CHECK ({LIFECYCLE_CHECK})"),
        );
    let version: i64 = db
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA schema_version",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration("no schema_version".into()))?
        .try_get_by_index(0)?;
    exec(manager, "PRAGMA writable_schema = ON").await?;
    db.execute_raw(sea_orm_migration::sea_orm::Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'household'",
        [new.into()],
    ))
    .await?;
    exec(manager, &format!("PRAGMA schema_version = {}", version + 1)).await?;
    exec(manager, "PRAGMA writable_schema = OFF").await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: the schema rewrite must run on one connection.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        loosen_household(manager).await?;

        use idempotency_key::Column as K;
        manager
            .create_table(
                Table::create()
                    .table(idempotency_key::Entity)
                    .col(big_integer(K::UserId))
                    .col(string_len(K::Key, 100))
                    .col(string_len(K::Operation, 64))
                    .col(string_len(K::Fingerprint, 64))
                    .col(big_integer_null(K::EntityId))
                    .col(timestamp_with_time_zone(K::CreatedAt))
                    .primary_key(Index::create().col(K::UserId).col(K::Key))
                    .foreign_key(&mut fk(
                        idempotency_key::Entity,
                        K::UserId,
                        app_user::Entity,
                    ))
                    .take(),
            )
            .await?;

        use card_revision::Column as CR;
        manager
            .create_table(
                Table::create()
                    .table(card_revision::Entity)
                    .col(big_pk_auto(CR::Id))
                    .col(big_integer(CR::HouseholdId))
                    .col(timestamp_with_time_zone(CR::At))
                    .col(text(CR::Card))
                    .foreign_key(&mut fk(
                        card_revision::Entity,
                        CR::HouseholdId,
                        household::Entity,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("card_revision_household_at")
                    .table(card_revision::Entity)
                    .col(CR::HouseholdId)
                    .col(CR::At)
                    .take(),
            )
            .await?;

        use proposal::Column as P;
        manager
            .create_table(
                Table::create()
                    .table(proposal::Entity)
                    .col(big_pk_auto(P::Id))
                    .col(big_integer(P::HouseholdId))
                    .col(enum_col::<ProposalKind>(P::Kind))
                    .col(enum_col::<ProposalStage>(P::Stage))
                    .col(text(P::Reason))
                    .col(text(P::Evidence))
                    .col(integer_null(P::ExitYear))
                    .col(date(P::NoticeStartsOn))
                    .col(date(P::NoticeEndsOn))
                    .col(big_integer(P::ProposerId))
                    .col(big_integer_null(P::TownshipCheckerId))
                    .col(timestamp_with_time_zone_null(P::TownshipCheckedAt))
                    .col(text_null(P::TownshipOpinion))
                    .col(big_integer_null(P::DeciderId))
                    .col(timestamp_with_time_zone_null(P::DecidedAt))
                    .col(text_null(P::DecisionNote))
                    .col(integer(P::Version).default(1))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone(P::UpdatedAt))
                    .check(Expr::cust("notice_ends_on > notice_starts_on"))
                    .check(Expr::cust("(kind = 'exit') = (exit_year IS NOT NULL)"))
                    .foreign_key(&mut fk(proposal::Entity, P::HouseholdId, household::Entity))
                    .foreign_key(&mut fk(proposal::Entity, P::ProposerId, app_user::Entity))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("proposal_household")
                    .table(proposal::Entity)
                    .col(P::HouseholdId)
                    .take(),
            )
            .await?;
        // One proposal in progress per household.
        exec(
            manager,
            "CREATE UNIQUE INDEX proposal_open ON proposal (household_id) \
             WHERE stage IN ('notice', 'township_checked')",
        )
        .await?;
        exec(
            manager,
            "CREATE INDEX proposal_stage ON proposal (stage, notice_ends_on)",
        )
        .await?;
        use status_change::Column as SC;
        manager
            .create_table(
                Table::create()
                    .table(status_change::Entity)
                    .col(big_pk_auto(SC::Id))
                    .col(big_integer(SC::HouseholdId))
                    .col(enum_col::<StatusAction>(SC::Action))
                    .col(enum_col_null::<HouseholdStatus>(SC::FromStatus))
                    .col(enum_col::<HouseholdStatus>(SC::ToStatus))
                    .col(enum_col_null::<MonitoringCategory>(SC::FromMonitoring))
                    .col(enum_col_null::<MonitoringCategory>(SC::ToMonitoring))
                    .col(integer_null(SC::Year))
                    .col(text(SC::Reason))
                    .col(big_integer_null(SC::ProposalId))
                    .col(big_integer_null(SC::ActorId))
                    .col(string_len(SC::Actor, 100))
                    .col(timestamp_with_time_zone(SC::At))
                    .foreign_key(&mut fk(
                        status_change::Entity,
                        SC::HouseholdId,
                        household::Entity,
                    ))
                    .foreign_key(&mut fk(
                        status_change::Entity,
                        SC::ProposalId,
                        proposal::Entity,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("status_change_household")
                    .table(status_change::Entity)
                    .col(SC::HouseholdId)
                    .col(SC::At)
                    .take(),
            )
            .await?;

        use objection::Column as O;
        manager
            .create_table(
                Table::create()
                    .table(objection::Entity)
                    .col(big_pk_auto(O::Id))
                    .col(big_integer(O::ProposalId))
                    .col(string_len_null(O::Objector, 100))
                    .col(text(O::Content))
                    .col(date(O::ReceivedOn))
                    .col(big_integer(O::RecorderId))
                    .col(text_null(O::Resolution))
                    .col(boolean_null(O::Upheld))
                    .col(big_integer_null(O::ResolverId))
                    .col(timestamp_with_time_zone_null(O::ResolvedAt))
                    .col(integer(O::Version).default(1))
                    .col(timestamp_with_time_zone(O::CreatedAt))
                    .col(timestamp_with_time_zone(O::UpdatedAt))
                    .check(Expr::cust("(resolved_at IS NULL) = (upheld IS NULL)"))
                    .foreign_key(&mut fk(objection::Entity, O::ProposalId, proposal::Entity))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("objection_proposal")
                    .table(objection::Entity)
                    .col(O::ProposalId)
                    .take(),
            )
            .await?;

        use monitoring_line::Column as ML;
        manager
            .create_table(
                Table::create()
                    .table(monitoring_line::Entity)
                    .col(string_len(ML::ProvinceCode, 2))
                    .col(integer(ML::Year))
                    .col(big_integer(ML::AnnualFen).check(Expr::col(ML::AnnualFen).gt(0)))
                    .primary_key(Index::create().col(ML::ProvinceCode).col(ML::Year))
                    .take(),
            )
            .await?;

        use monitoring_case::Column as MC;
        manager
            .create_table(
                Table::create()
                    .table(monitoring_case::Entity)
                    .col(big_pk_auto(MC::Id))
                    .col(big_integer(MC::HouseholdId))
                    .col(enum_col::<MonitoringCategory>(MC::Category))
                    .col(enum_col::<FoundBy>(MC::FoundBy))
                    .col(date(MC::StartedOn))
                    .col(date_null(MC::EliminatedOn))
                    .col(text_null(MC::EliminationNote))
                    .col(integer(MC::Version).default(1))
                    .col(timestamp_with_time_zone(MC::CreatedAt))
                    .col(timestamp_with_time_zone(MC::UpdatedAt))
                    .check(Expr::cust(
                        "eliminated_on IS NULL OR eliminated_on >= started_on",
                    ))
                    .foreign_key(&mut fk(
                        monitoring_case::Entity,
                        MC::HouseholdId,
                        household::Entity,
                    ))
                    .take(),
            )
            .await?;
        exec(
            manager,
            "CREATE UNIQUE INDEX monitoring_case_active ON monitoring_case (household_id) \
             WHERE eliminated_on IS NULL",
        )
        .await?;
        exec(
            manager,
            "CREATE INDEX monitoring_case_household ON monitoring_case (household_id)",
        )
        .await?;

        use monitoring_risk::Column as MR;
        manager
            .create_table(
                Table::create()
                    .table(monitoring_risk::Entity)
                    .col(big_integer(MR::CaseId))
                    .col(enum_col::<RiskType>(MR::Risk))
                    .primary_key(Index::create().col(MR::CaseId).col(MR::Risk))
                    .foreign_key(&mut fk(
                        monitoring_risk::Entity,
                        MR::CaseId,
                        monitoring_case::Entity,
                    ))
                    .take(),
            )
            .await?;

        use measure::Column as M;
        manager
            .create_table(
                Table::create()
                    .table(measure::Entity)
                    .col(big_pk_auto(M::Id))
                    .col(big_integer(M::HouseholdId))
                    .col(enum_col::<MeasureCategory>(M::Category))
                    .col(string_len(M::Task, 500))
                    .col(string_len(M::Standard, 500))
                    .col(string_len(M::Responsible, 100))
                    .col(date(M::Deadline))
                    .col(big_integer(M::FundsFen).check(Expr::col(M::FundsFen).gte(0)))
                    .col(enum_col::<MeasureStatus>(M::Status))
                    .col(date_null(M::CompletedOn))
                    .col(integer(M::Version).default(1))
                    .col(timestamp_with_time_zone(M::CreatedAt))
                    .col(timestamp_with_time_zone(M::UpdatedAt))
                    .check(Expr::cust("(status = 'done') = (completed_on IS NOT NULL)"))
                    .foreign_key(&mut fk(measure::Entity, M::HouseholdId, household::Entity))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("measure_household")
                    .table(measure::Entity)
                    .col(M::HouseholdId)
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("measure_status_deadline")
                    .table(measure::Entity)
                    .col(M::Status)
                    .col(M::Deadline)
                    .take(),
            )
            .await?;

        use helper_unit::Column as HU;
        manager
            .create_table(
                Table::create()
                    .table(helper_unit::Entity)
                    .col(big_pk_auto(HU::Id))
                    .col(string_len_uniq(HU::Name, 100))
                    .col(enum_col::<HelperUnitKind>(HU::Kind))
                    .col(integer(HU::Version).default(1))
                    .col(timestamp_with_time_zone(HU::CreatedAt))
                    .col(timestamp_with_time_zone(HU::UpdatedAt))
                    .take(),
            )
            .await?;

        use unit_pairing::Column as UP;
        manager
            .create_table(
                Table::create()
                    .table(unit_pairing::Entity)
                    .col(big_pk_auto(UP::Id))
                    .col(big_integer(UP::UnitId))
                    .col(big_integer(UP::VillageId))
                    .col(date(UP::StartedOn))
                    .col(date_null(UP::EndedOn))
                    .col(integer(UP::Version).default(1))
                    .col(timestamp_with_time_zone(UP::CreatedAt))
                    .col(timestamp_with_time_zone(UP::UpdatedAt))
                    .check(Expr::cust("ended_on IS NULL OR ended_on >= started_on"))
                    .foreign_key(&mut fk(
                        unit_pairing::Entity,
                        UP::UnitId,
                        helper_unit::Entity,
                    ))
                    .foreign_key(&mut fk(unit_pairing::Entity, UP::VillageId, region::Entity))
                    .take(),
            )
            .await?;
        exec(
            manager,
            "CREATE UNIQUE INDEX unit_pairing_active ON unit_pairing (unit_id, village_id) \
             WHERE ended_on IS NULL",
        )
        .await?;
        exec(
            manager,
            "CREATE INDEX unit_pairing_village ON unit_pairing (village_id)",
        )
        .await?;

        use village_staff::Column as VS;
        manager
            .create_table(
                Table::create()
                    .table(village_staff::Entity)
                    .col(big_pk_auto(VS::Id))
                    .col(big_integer(VS::VillageId))
                    .col(enum_col::<VillageStaffRole>(VS::Role))
                    .col(string_len(VS::Name, 50))
                    .col(big_integer_null(VS::UserId))
                    .col(big_integer_null(VS::UnitId))
                    .col(string_len_null(VS::Phone, 20))
                    .col(date(VS::StartedOn))
                    .col(date_null(VS::EndedOn))
                    .col(integer(VS::Version).default(1))
                    .col(timestamp_with_time_zone(VS::CreatedAt))
                    .col(timestamp_with_time_zone(VS::UpdatedAt))
                    .check(Expr::cust("ended_on IS NULL OR ended_on >= started_on"))
                    .foreign_key(&mut fk(
                        village_staff::Entity,
                        VS::VillageId,
                        region::Entity,
                    ))
                    .foreign_key(&mut fk(village_staff::Entity, VS::UserId, app_user::Entity))
                    .foreign_key(&mut fk(
                        village_staff::Entity,
                        VS::UnitId,
                        helper_unit::Entity,
                    ))
                    .take(),
            )
            .await?;
        // One serving first secretary per village.
        exec(
            manager,
            "CREATE UNIQUE INDEX village_staff_first_secretary ON village_staff (village_id) \
             WHERE ended_on IS NULL AND role = 'first_secretary'",
        )
        .await?;
        exec(
            manager,
            "CREATE INDEX village_staff_village ON village_staff (village_id)",
        )
        .await?;

        use visit::Column as V;
        manager
            .create_table(
                Table::create()
                    .table(visit::Entity)
                    .col(big_pk_auto(V::Id))
                    .col(big_integer(V::HouseholdId))
                    .col(big_integer(V::VisitorId))
                    .col(date(V::VisitedOn))
                    .col(text(V::Notes))
                    .col(double_null(V::Latitude))
                    .col(double_null(V::Longitude))
                    .col(text(V::Photos))
                    .col(timestamp_with_time_zone(V::CreatedAt))
                    .foreign_key(&mut fk(visit::Entity, V::HouseholdId, household::Entity))
                    .foreign_key(&mut fk(visit::Entity, V::VisitorId, app_user::Entity))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("visit_household_day")
                    .table(visit::Entity)
                    .col(V::HouseholdId)
                    .col(V::VisitedOn)
                    .take(),
            )
            .await?;

        use visit_help::Column as VH;
        manager
            .create_table(
                Table::create()
                    .table(visit_help::Entity)
                    .col(big_integer(VH::VisitId))
                    .col(enum_col::<HelpKind>(VH::Kind))
                    .primary_key(Index::create().col(VH::VisitId).col(VH::Kind))
                    .foreign_key(&mut fk(visit_help::Entity, VH::VisitId, visit::Entity))
                    .take(),
            )
            .await?;
        Ok(())
    }

    /// Drops the new tables. The household table keeps its loosened constraints:
    /// households filed as not poor may exist by then, and `up` is safe to run again.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            visit_help::Entity.into_iden(),
            visit::Entity.into_iden(),
            village_staff::Entity.into_iden(),
            unit_pairing::Entity.into_iden(),
            helper_unit::Entity.into_iden(),
            measure::Entity.into_iden(),
            monitoring_risk::Entity.into_iden(),
            monitoring_case::Entity.into_iden(),
            monitoring_line::Entity.into_iden(),
            objection::Entity.into_iden(),
            status_change::Entity.into_iden(),
            proposal::Entity.into_iden(),
            card_revision::Entity.into_iden(),
            idempotency_key::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
