//! Supervision (监督): complaints and problem clues from the public or from
//! staff, and their handling from receipt to closure.

use crate::columns::{enum_col, enum_col_null};
use entity::enums::{ComplaintConclusion, ComplaintStatus, ComplaintSubject};
use entity::{app_user, complaint, fund_entry, household, project, region};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(col: complaint::Column, to: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(complaint::Entity, col)
        .to(to, Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use complaint::Column as C;
        manager
            .create_table(
                Table::create()
                    .table(complaint::Entity)
                    .col(big_pk_auto(C::Id))
                    .col(string_len_uniq(C::TrackingNumber, 32))
                    .col(enum_col::<ComplaintSubject>(C::SubjectKind))
                    .col(big_integer_null(C::HouseholdId))
                    .col(big_integer_null(C::ProjectId))
                    .col(big_integer_null(C::FundEntryId))
                    .col(big_integer_null(C::VillageId))
                    .col(text(C::Content))
                    .col(string_len_null(C::ComplainantName, 50))
                    .col(string_len_null(C::ComplainantPhone, 20))
                    .col(big_integer_null(C::SubmittedBy))
                    .col(enum_col::<ComplaintStatus>(C::Status))
                    .col(string_len_null(C::AssignedUnit, 200))
                    .col(text_null(C::AssignmentNote))
                    .col(date_null(C::AssignedOn))
                    .col(date_null(C::Deadline))
                    .col(text_null(C::Answer))
                    .col(text_null(C::Rectification))
                    .col(date_null(C::AnsweredOn))
                    .col(enum_col_null::<ComplaintConclusion>(C::Conclusion))
                    .col(date_null(C::ClosedOn))
                    .col(integer(C::Version).default(1))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    // At most one subject reference.
                    .check(Expr::cust(
                        "(CASE WHEN household_id IS NULL THEN 0 ELSE 1 END) \
                         + (CASE WHEN project_id IS NULL THEN 0 ELSE 1 END) \
                         + (CASE WHEN fund_entry_id IS NULL THEN 0 ELSE 1 END) <= 1",
                    ))
                    .check(Expr::cust(
                        "status = 'received' OR (assigned_unit IS NOT NULL AND deadline IS NOT NULL)",
                    ))
                    .check(Expr::cust(
                        "status IN ('received', 'assigned') OR answer IS NOT NULL",
                    ))
                    .check(Expr::cust("status <> 'closed' OR conclusion IS NOT NULL"))
                    .foreign_key(&mut fk(C::HouseholdId, household::Entity))
                    .foreign_key(&mut fk(C::ProjectId, project::Entity))
                    .foreign_key(&mut fk(C::FundEntryId, fund_entry::Entity))
                    .foreign_key(&mut fk(C::VillageId, region::Entity))
                    .foreign_key(&mut fk(C::SubmittedBy, app_user::Entity))
                    .take(),
            )
            .await?;
        for (name, cols) in [
            ("complaint_village", [C::VillageId, C::Id]),
            ("complaint_status", [C::Status, C::Deadline]),
        ] {
            let mut index = Index::create().name(name).table(complaint::Entity).take();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(complaint::Entity).take())
            .await
    }
}
