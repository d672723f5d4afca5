//! Poverty-alleviation microcredit (扶贫小额信贷): a household's loans, their
//! repayments and extension, and a region's figures. The rules are
//! `domain::microcredit`.

use crate::graphql::date::Day;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::CreditRating;
use entity::{loan, loan_repayment};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::context::{actor, db, loaders, viewer};
use super::household::Household;
use super::money::Money;
use super::region::find_region;
use super::relay::{NodeKind, decode_id_of, global_id};
use crate::access;
use crate::domain::{calendar, microcredit};
use crate::error::ApiResult;

pub struct Loan(pub loan::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for Loan {
    type Row = loan::Model;
}

/// Where a loan stands (贷款状态).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum LoanStatus {
    /// Owing, not yet due (正常).
    Current,
    /// Owing after its due day (逾期).
    Overdue,
    /// Nothing owed (已结清).
    Repaid,
}

impl Loan {
    /// One statement for the loans of a request, however many fields ask.
    async fn repaid_fen(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let repaid = loaders(ctx)?.loan_repaid.load_one(self.0.id).await?;
        Ok(repaid.unwrap_or(0))
    }
}

/// A microcredit loan to a registered household (扶贫小额信贷).
#[Object]
impl Loan {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Loan, self.0.id)
    }
    /// The household that borrowed (借款户), when the reader reaches it.
    async fn household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        Ok(loaders(ctx)?
            .households
            .load_one(self.0.household_id)
            .await?
            .map(Household))
    }
    /// The lending bank (放贷银行).
    async fn lender(&self) -> &str {
        &self.0.lender
    }
    /// The amount lent, in yuan (贷款金额).
    async fn amount(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// What it is for (贷款用途).
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }
    /// The household's credit rating when it borrowed (信用评级).
    async fn credit_rating(&self) -> CreditRating {
        self.0.credit_rating
    }
    /// The day it was disbursed (放款日期).
    async fn disbursed_on(&self) -> Day {
        Day(self.0.disbursed_on)
    }
    /// The day it falls due, later once extended (到期日).
    async fn due_on(&self) -> Day {
        Day(self.0.due_on)
    }
    /// The day it first fell due, once extended (展期前到期日).
    async fn extended_from(&self) -> Option<Day> {
        self.0.extended_from.map(Day)
    }
    /// What has been repaid, in yuan (已还金额).
    async fn repaid(&self, ctx: &Context<'_>) -> ApiResult<Money> {
        Ok(Money(self.repaid_fen(ctx).await?))
    }
    /// What it still owes, in yuan (贷款余额).
    async fn owed(&self, ctx: &Context<'_>) -> ApiResult<Money> {
        Ok(Money(self.0.amount_fen - self.repaid_fen(ctx).await?))
    }
    /// Where it stands today (贷款状态).
    async fn status(&self, ctx: &Context<'_>) -> ApiResult<LoanStatus> {
        let owed = self.0.amount_fen - self.repaid_fen(ctx).await?;
        Ok(
            match microcredit::standing(&self.0, owed, calendar::today()) {
                microcredit::Standing::Current => LoanStatus::Current,
                microcredit::Standing::Overdue => LoanStatus::Overdue,
                microcredit::Standing::Repaid => LoanStatus::Repaid,
            },
        )
    }
    /// Its repayments, oldest first (还款记录).
    async fn repayments(&self, ctx: &Context<'_>) -> ApiResult<Vec<LoanRepayment>> {
        let rows = loan_repayment::Entity::find()
            .filter(loan_repayment::Column::LoanId.eq(self.0.id))
            .order_by_asc(loan_repayment::Column::RepaidOn)
            .order_by_asc(loan_repayment::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(LoanRepayment).collect())
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct LoanRepayment(pub loan_repayment::Model);

/// A repayment of a loan (还款).
#[Object]
impl LoanRepayment {
    /// The amount repaid, in yuan (还款金额).
    async fn amount(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// The day it was repaid (还款日期).
    async fn repaid_on(&self) -> Day {
        Day(self.0.repaid_on)
    }
    /// When it reached the register (录入时间).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The loans of a household, disbursed first first.
pub async fn loans_of(ctx: &Context<'_>, household_id: i64) -> ApiResult<Vec<Loan>> {
    let mut loans = loaders(ctx)?
        .household_loans
        .load_one(household_id)
        .await?
        .unwrap_or_default();
    loans.sort_by_key(|l| (l.disbursed_on, l.id));
    Ok(loans.into_iter().map(Loan).collect())
}

/// The microcredit of a region's households (小额信贷情况). Amounts in yuan.
#[derive(SimpleObject)]
pub struct MicrocreditFigures {
    /// Loans recorded (贷款笔数).
    loans: i64,
    /// Households that borrowed (贷款户数).
    households: i64,
    /// Amount lent (累计放贷).
    lent: Money,
    /// Amount repaid (累计还款).
    repaid: Money,
    /// Amount owed (贷款余额).
    owed: Money,
    /// Loans overdue today (逾期笔数).
    overdue_loans: i64,
    /// Amount owed on them (逾期金额).
    overdue_owed: Money,
}

#[derive(Default)]
pub struct MicrocreditQuery;

#[Object]
impl MicrocreditQuery {
    /// The microcredit of the county, a township or a village, as it stands
    /// today (小额信贷情况).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::REGION_FIGURES, child_complexity)"
    )]
    async fn microcredit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The county, a township or a village (区域).")] region_id: ID,
    ) -> ApiResult<MicrocreditFigures> {
        let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
        let region = find_region(ctx, &region_id, "regionId", &kinds).await?;
        let f =
            microcredit::figures(db(ctx)?, access::code_prefix(&region), calendar::today()).await?;
        Ok(MicrocreditFigures {
            loans: f.loans,
            households: f.households,
            lent: Money(f.lent),
            repaid: Money(f.repaid),
            owed: Money(f.owed),
            overdue_loans: f.overdue_loans,
            overdue_owed: Money(f.overdue_owed),
        })
    }
}

/// A loan to record (登记贷款).
#[derive(InputObject)]
pub struct RecordLoanInput {
    /// The household that borrows: a registered one the caller reaches (借款户).
    household_id: ID,
    /// The lending bank (放贷银行).
    lender: String,
    /// The amount, in yuan: with the household's other loans owed, at most 50,000 (贷款金额).
    amount: Money,
    /// What it is for (贷款用途).
    purpose: String,
    /// The household's credit rating (信用评级).
    credit_rating: CreditRating,
    /// The day it was disbursed, not in the future (放款日期).
    disbursed_on: Day,
    /// The day it falls due: within three years (到期日).
    due_on: Day,
    /// Makes a retried request return the first loan instead of a second (幂等键).
    idempotency_key: Option<String>,
}

fn loan_row(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "loanId", &[NodeKind::Loan])?.1)
}

#[derive(Default)]
pub struct MicrocreditMutation;

#[Object]
impl MicrocreditMutation {
    /// Records a microcredit loan to a registered household (登记扶贫小额信贷).
    async fn record_loan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The loan (贷款信息).")] input: RecordLoanInput,
    ) -> ApiResult<Loan> {
        let new = microcredit::NewLoan {
            household_id: decode_id_of(&input.household_id, "householdId", &[NodeKind::Household])?
                .1,
            lender: input.lender,
            amount: input.amount,
            purpose: input.purpose,
            credit_rating: input.credit_rating,
            disbursed_on: input.disbursed_on.0,
            due_on: input.due_on.0,
        };
        let key = input.idempotency_key.as_deref();
        let created =
            microcredit::record_loan(db(ctx)?, viewer(ctx)?, &actor(ctx)?, key, new).await?;
        Ok(Loan(created))
    }

    /// Records a repayment of a loan, at most what it owes (登记还款).
    async fn repay_loan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The loan (贷款).")] loan_id: ID,
        #[graphql(desc = "The amount repaid, in yuan (还款金额).")] amount: Money,
        #[graphql(desc = "The day it was repaid (还款日期).")] repaid_on: Day,
    ) -> ApiResult<Loan> {
        let id = loan_row(&loan_id)?;
        let after = microcredit::repay(
            db(ctx)?,
            viewer(ctx)?,
            &actor(ctx)?,
            id,
            amount,
            repaid_on.0,
        )
        .await?;
        Ok(Loan(after))
    }

    /// Extends a loan once, by a year at most, from the version read (贷款展期).
    async fn extend_loan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The loan (贷款).")] loan_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "The new due day (展期后到期日).")] due_on: Day,
    ) -> ApiResult<Loan> {
        let id = loan_row(&loan_id)?;
        let after = microcredit::extend(
            db(ctx)?,
            viewer(ctx)?,
            &actor(ctx)?,
            (id, version),
            due_on.0,
        )
        .await?;
        Ok(Loan(after))
    }
}
