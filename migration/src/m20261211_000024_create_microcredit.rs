//! Poverty-alleviation microcredit (扶贫小额信贷): loans to registered
//! households and their repayments, an append-only ledger in the database
//! itself, so that what a loan owes is never rewritten.

use crate::columns::{enum_col, fk, forbid_edits, index};
use entity::enums::CreditRating;
use entity::{app_user, household, loan, loan_repayment};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use loan::Column as L;
        manager
            .create_table(
                Table::create()
                    .table(loan::Entity)
                    .col(big_pk_auto(L::Id))
                    .col(big_integer(L::HouseholdId))
                    .col(string_len(L::Lender, 200))
                    .col(big_integer(L::AmountFen).check(Expr::col(L::AmountFen).gt(0)))
                    .col(string_len(L::Purpose, 200))
                    .col(enum_col::<CreditRating>(L::CreditRating))
                    .col(date(L::DisbursedOn))
                    .col(date(L::DueOn))
                    .col(date_null(L::ExtendedFrom))
                    .col(integer(L::Version).default(1))
                    .col(timestamp_with_time_zone(L::CreatedAt))
                    .col(timestamp_with_time_zone(L::UpdatedAt))
                    .check(Expr::cust("due_on > disbursed_on"))
                    .foreign_key(&mut fk(loan::Entity, L::HouseholdId, household::Entity))
                    .take(),
            )
            .await?;
        index(manager, "loan_household", loan::Entity, &["household_id"]).await?;
        use loan_repayment::Column as R;
        manager
            .create_table(
                Table::create()
                    .table(loan_repayment::Entity)
                    .col(big_pk_auto(R::Id))
                    .col(big_integer(R::LoanId))
                    .col(big_integer(R::AmountFen).check(Expr::col(R::AmountFen).gt(0)))
                    .col(date(R::RepaidOn))
                    .col(big_integer_null(R::RecordedBy))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .foreign_key(&mut fk(loan_repayment::Entity, R::LoanId, loan::Entity))
                    .foreign_key(&mut fk(
                        loan_repayment::Entity,
                        R::RecordedBy,
                        app_user::Entity,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "loan_repayment_loan",
            loan_repayment::Entity,
            &["loan_id"],
        )
        .await?;
        forbid_edits(manager, "loan_repayment", "loan repayments are append-only").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::columns::allow_edits(manager, "loan_repayment").await?;
        manager
            .drop_table(Table::drop().table(loan_repayment::Entity).take())
            .await?;
        manager
            .drop_table(Table::drop().table(loan::Entity).take())
            .await
    }
}
