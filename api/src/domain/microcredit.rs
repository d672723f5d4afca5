//! Poverty-alleviation microcredit (扶贫小额信贷): a registered household
//! borrows up to 50,000 yuan in all, for up to three years; repayments are
//! appended and never exceed what is owed; a loan past its due day and not
//! repaid is overdue; it may be extended once, by a year at most (展期).
//! Every write locks the loan (or the household) it depends on, so that two
//! at once cannot both pass a limit.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate, Utc};
use entity::enums::CreditRating;
use entity::{household, loan, loan_repayment};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::calendar;
use super::household::change::lock_household;
use super::money::Money;
use super::tally::REGISTERED;
use super::text::free_text;
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Most a household may owe on its loans together, in fen (5万元).
pub const MAX_OWED_FEN: i64 = 5_000_000;
/// Longest term, in months.
const MAX_TERM_MONTHS: u32 = 36;
/// Longest extension, in months.
const MAX_EXTENSION_MONTHS: u32 = 12;
const MAX_LENDER_CHARS: usize = 200;
const MAX_PURPOSE_CHARS: usize = 200;

/// Where a loan stands (贷款状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Owing, not yet due (正常).
    Current,
    /// Owing after its due day (逾期).
    Overdue,
    /// Nothing owed (已结清).
    Repaid,
}

/// Where a loan that still owes `owed_fen` stands on `today`.
pub fn standing(loan: &loan::Model, owed_fen: i64, today: NaiveDate) -> Standing {
    if owed_fen <= 0 {
        Standing::Repaid
    } else if loan.due_on < today {
        Standing::Overdue
    } else {
        Standing::Current
    }
}

/// What the repayments of each of `loans` add up to, in fen, in one
/// statement; a loan without repayments is not in it.
pub async fn repaid_by_loan(
    db: &impl ConnectionTrait,
    loans: impl IntoIterator<Item = i64>,
) -> ApiResult<HashMap<i64, i64>> {
    Ok(loan_repayment::Entity::find()
        .select_only()
        .column(loan_repayment::Column::LoanId)
        .expr(Expr::cust("CAST(SUM(amount_fen) AS BIGINT)"))
        .filter(loan_repayment::Column::LoanId.is_in(loans))
        .group_by(loan_repayment::Column::LoanId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// What the repayments of a loan add up to, in fen.
async fn repaid_fen(db: &impl ConnectionTrait, loan_id: i64) -> ApiResult<i64> {
    Ok(repaid_by_loan(db, [loan_id])
        .await?
        .get(&loan_id)
        .copied()
        .unwrap_or(0))
}

/// A loan as given.
#[derive(Serialize)]
pub struct NewLoan {
    pub household_id: i64,
    pub lender: String,
    pub amount: Money,
    pub purpose: String,
    pub credit_rating: CreditRating,
    pub disbursed_on: NaiveDate,
    pub due_on: NaiveDate,
}

/// A loan as the audit trail and conflict errors show it.
fn loan_snapshot(l: &loan::Model) -> Value {
    json!({
        "household": l.household_id,
        "lender": l.lender,
        "amount": Money(l.amount_fen).to_string(),
        "purpose": l.purpose,
        "creditRating": l.credit_rating,
        "disbursedOn": l.disbursed_on,
        "dueOn": l.due_on,
        "extendedFrom": l.extended_from,
        "version": l.version,
    })
}

/// Records a loan to a household the caller reaches.
pub async fn record_loan(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewLoan,
) -> ApiResult<loan::Model> {
    let today = calendar::today();
    let lender = free_text("lender", &input.lender, MAX_LENDER_CHARS)?;
    let purpose = free_text("purpose", &input.purpose, MAX_PURPOSE_CHARS)?;
    let amount = input.amount.0;
    if amount <= 0 || amount > MAX_OWED_FEN {
        return Err(ApiError::bad_input(
            "amount",
            format!(
                "a loan is more than 0 and at most {} yuan",
                Money(MAX_OWED_FEN)
            ),
        ));
    }
    if input.disbursed_on > today || input.disbursed_on.year() < 2014 {
        return Err(ApiError::bad_input(
            "disbursedOn",
            format!("a loan is disbursed from 2014 to today ({today})"),
        ));
    }
    let longest = input.disbursed_on + Months::new(MAX_TERM_MONTHS);
    if input.due_on <= input.disbursed_on || input.due_on > longest {
        return Err(ApiError::bad_input(
            "dueOn",
            format!("a loan falls due after it is disbursed and by {longest}, three years on"),
        ));
    }
    write::create::<loan::Entity, _>(db, actor, key, "recordLoan", &input, async |txn| {
        // The household is locked: two loans recorded at once are counted together.
        let home = lock_household(txn, viewer, input.household_id).await?;
        // Those who may borrow are the registered households.
        if !REGISTERED.contains(&home.status) {
            return Err(ApiError::bad_input(
                "householdId",
                "microcredit is for registered households (enrolled, lifted out or returned)",
            ));
        }
        let owed = owed_by_household(txn, home.id).await?;
        if owed + amount > MAX_OWED_FEN {
            return Err(ApiError::bad_input(
                "amount",
                format!(
                    "the household owes {} yuan on its loans: it may borrow at most {} more",
                    Money(owed),
                    Money(MAX_OWED_FEN - owed)
                ),
            ));
        }
        let now = Utc::now();
        let created = loan::ActiveModel {
            household_id: Set(home.id),
            lender: Set(lender),
            amount_fen: Set(amount),
            purpose: Set(purpose),
            credit_rating: Set(input.credit_rating),
            disbursed_on: Set(input.disbursed_on),
            due_on: Set(input.due_on),
            extended_from: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(Created::new(
            created.id,
            "loan.create",
            "Loan",
            loan_snapshot(&created),
            created,
        ))
    })
    .await
}

/// What a household still owes on its loans, in fen.
async fn owed_by_household(txn: &DatabaseTransaction, household_id: i64) -> ApiResult<i64> {
    let loans = loan::Entity::find()
        .filter(loan::Column::HouseholdId.eq(household_id))
        .all(txn)
        .await?;
    let repaid = repaid_by_loan(txn, loans.iter().map(|l| l.id)).await?;
    Ok(loans
        .iter()
        .map(|l| l.amount_fen - repaid.get(&l.id).copied().unwrap_or(0))
        .sum())
}

/// A loan the caller reaches, locked.
async fn locked_loan(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<loan::Model> {
    write::one_locked(
        txn,
        access::select::<loan::Entity>(viewer).filter(loan::Column::Id.eq(id)),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("Loan"))
}

/// Records a repayment of a loan: more than nothing, no more than it owes,
/// not before it was disbursed nor in the future. Returns the loan.
pub async fn repay(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    loan_id: i64,
    amount: Money,
    repaid_on: NaiveDate,
) -> ApiResult<loan::Model> {
    let today = calendar::today();
    let txn = write::begin(db).await?;
    // The loan is locked: two repayments at once cannot both pass what it owes.
    let target = locked_loan(&txn, viewer, loan_id).await?;
    let owed = target.amount_fen - repaid_fen(&txn, target.id).await?;
    if amount.0 <= 0 || amount.0 > owed {
        return Err(ApiError::bad_input(
            "amount",
            format!(
                "a repayment is more than 0 and at most what the loan owes, {} yuan",
                Money(owed)
            ),
        ));
    }
    if repaid_on < target.disbursed_on || repaid_on > today {
        return Err(ApiError::bad_input(
            "repaidOn",
            format!(
                "a repayment is made from the day the loan was disbursed ({}) to today",
                target.disbursed_on
            ),
        ));
    }
    loan_repayment::ActiveModel {
        loan_id: Set(target.id),
        amount_fen: Set(amount.0),
        repaid_on: Set(repaid_on),
        recorded_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut touched: loan::ActiveModel = target.clone().into();
    touched.version = Set(target.version + 1);
    touched.updated_at = Set(Utc::now());
    let after = touched.update(&txn).await?;
    let change = Change {
        action: "loan.repay",
        entity_type: "Loan",
        entity_id: target.id,
        before: Some(json!({ "owed": Money(owed).to_string() })),
        after: Some(json!({
            "owed": Money(owed - amount.0).to_string(),
            "repaid": Money(amount.0).to_string(),
            "repaidOn": repaid_on,
        })),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Extends a loan once (展期), from the version the caller read, to a day
/// after its due day and at most a year beyond it.
pub async fn extend(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    (loan_id, version): (i64, i32),
    due_on: NaiveDate,
) -> ApiResult<loan::Model> {
    let txn = write::begin(db).await?;
    let before = locked_loan(&txn, viewer, loan_id).await?;
    write::check_version("loan", version, before.version, || {
        permissions::redact(viewer, "Loan", loan_snapshot(&before))
    })?;
    if before.extended_from.is_some() {
        return Err(ApiError::bad_input(
            "loanId",
            "a loan is extended once at most",
        ));
    }
    if repaid_fen(&txn, before.id).await? >= before.amount_fen {
        return Err(ApiError::bad_input("loanId", "the loan is repaid"));
    }
    let longest = before.due_on + Months::new(MAX_EXTENSION_MONTHS);
    if due_on <= before.due_on || due_on > longest {
        return Err(ApiError::bad_input(
            "dueOn",
            format!(
                "an extension moves the due day ({}) on by a year at most, to {longest}",
                before.due_on
            ),
        ));
    }
    let mut row: loan::ActiveModel = before.clone().into();
    row.extended_from = Set(Some(before.due_on));
    row.due_on = Set(due_on);
    row.version = Set(before.version + 1);
    row.updated_at = Set(Utc::now());
    let after = row.update(&txn).await?;
    let change = Change {
        action: "loan.extend",
        entity_type: "Loan",
        entity_id: after.id,
        before: Some(loan_snapshot(&before)),
        after: Some(loan_snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// The microcredit of a region's households (小额信贷情况), in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub loans: i64,
    pub households: i64,
    pub lent: i64,
    pub repaid: i64,
    pub owed: i64,
    pub overdue_loans: i64,
    pub overdue_owed: i64,
}

/// The microcredit figures of the households under the region `prefix`, on `today`.
pub async fn figures(
    db: &impl ConnectionTrait,
    prefix: &str,
    today: NaiveDate,
) -> ApiResult<Figures> {
    let households = Query::select()
        .column(household::Column::Id)
        .from(household::Entity)
        .and_where(
            Expr::col(household::Column::VillageId).in_subquery(access::villages_under(prefix)),
        )
        .to_owned();
    let loans = loan::Entity::find()
        .filter(loan::Column::HouseholdId.in_subquery(households))
        .all(db)
        .await?;
    let repaid = repaid_by_loan(db, loans.iter().map(|l| l.id)).await?;
    let mut figures = Figures::default();
    let mut borrowers = HashSet::new();
    for l in &loans {
        let back = repaid.get(&l.id).copied().unwrap_or(0);
        let owed = l.amount_fen - back;
        borrowers.insert(l.household_id);
        figures.loans += 1;
        figures.lent += l.amount_fen;
        figures.repaid += back;
        figures.owed += owed;
        if standing(l, owed, today) == Standing::Overdue {
            figures.overdue_loans += 1;
            figures.overdue_owed += owed;
        }
    }
    figures.households = borrowers.len() as i64;
    Ok(figures)
}
