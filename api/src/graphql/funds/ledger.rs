//! The fund mutations: sources are created and corrected; the ledger only
//! grows. The rules and the writes are in `domain::funds`.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object};
use entity::enums::{FundSourceKind, PayeeKind};

use super::{FundEntry, FundSource};
use crate::domain::funds::{
    self, Allocation, Disbursement, NewFundSource, Reversal, SourceCorrection,
};
use crate::error::ApiResult;
use crate::graphql::context::{actor, db, viewer};
use crate::graphql::money::Money;
use crate::graphql::relay::{NodeKind, decode_id_of};

/// A new fund source (新增资金来源).
#[derive(InputObject)]
pub struct CreateFundSourceInput {
    /// Year of the fund (资金年度).
    year: i32,
    /// Where it comes from (资金来源类型).
    kind: FundSourceKind,
    /// Name, at most 200 characters (资金名称).
    name: String,
    /// The document that granted it, at most 100 characters (文号).
    document_number: Option<String>,
    /// Amount, more than 0 (资金总额).
    amount: Money,
    /// The donating enterprise: required for an enterprise donation, and only for one (捐赠企业).
    donor_enterprise_id: Option<ID>,
    /// Client-chosen key: a retried request returns the first source (幂等键).
    idempotency_key: Option<String>,
}

/// Corrections to a fund source; fields left out stay as they are (修改资金来源).
#[derive(InputObject)]
pub struct UpdateFundSourceInput {
    /// The source (资金来源).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// New name (资金名称).
    name: Option<String>,
    /// New document number (文号).
    document_number: Option<String>,
    /// New amount: never less than what is already allocated (资金总额).
    amount: Option<Money>,
}

/// Funds of a source allocated to a project (资金安排).
#[derive(InputObject)]
pub struct AllocateFundsInput {
    /// The fund source (资金来源).
    source_id: ID,
    /// The project, approved or later (项目).
    project_id: ID,
    /// Amount, more than 0 (金额).
    amount: Money,
    /// The day of the allocation, not in the future (记账日期).
    entry_date: Day,
    /// What it is for, at most 500 characters (摘要).
    note: Option<String>,
    /// Client-chosen key: a retried request records nothing more (幂等键).
    idempotency_key: Option<String>,
}

/// A payment from a project's allocation to a payee (资金拨付).
#[derive(InputObject)]
pub struct DisburseFundsInput {
    /// The project, approved or later (项目).
    project_id: ID,
    /// The fund source the payment draws on, allocated to the project (资金来源).
    source_id: ID,
    /// Amount, more than 0 (金额).
    amount: Money,
    /// The day of payment, not in the future (拨付日期).
    entry_date: Day,
    /// Voucher number, at most 100 characters (凭证号).
    voucher_number: String,
    /// Who is paid, at most 200 characters (收款方).
    payee: String,
    /// Whether the payee is a person or an organisation (收款方类型).
    payee_kind: PayeeKind,
    /// What it is for, at most 500 characters (摘要).
    note: Option<String>,
    /// Client-chosen key: a retried request pays nothing more (幂等键).
    idempotency_key: Option<String>,
}

/// The reversal of a ledger entry (红字冲销).
#[derive(InputObject)]
pub struct ReverseFundEntryInput {
    /// The entry to reverse (原分录).
    id: ID,
    /// The day of the reversal, not before the entry's (冲销日期).
    entry_date: Day,
    /// Why, at most 500 characters (冲销原因).
    reason: String,
    /// The reversal's own voucher number; the entry's when left out (冲销凭证号).
    voucher_number: Option<String>,
    /// Client-chosen key: a retried request reverses nothing more (幂等键).
    idempotency_key: Option<String>,
}

#[derive(Default)]
pub struct FundMutation;

#[Object]
impl FundMutation {
    /// Records a fund of a year from a source (新增资金来源).
    async fn create_fund_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source (资金来源).")] input: CreateFundSourceInput,
    ) -> ApiResult<FundSource> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let donor_enterprise_id = input
            .donor_enterprise_id
            .as_ref()
            .map(|id| decode_id_of(id, "donorEnterpriseId", &[NodeKind::Enterprise]))
            .transpose()?
            .map(|(_, id)| id);
        let new = NewFundSource {
            year: input.year,
            kind: input.kind,
            name: input.name,
            document_number: input.document_number,
            amount: input.amount,
            donor_enterprise_id,
        };
        let key = input.idempotency_key.as_deref();
        let source = funds::create_source(db(ctx)?, &actor, viewer, key, new).await?;
        Ok(FundSource(source))
    }

    /// Corrects a fund source (修改资金来源); its amount never drops below what
    /// it has allocated.
    async fn update_fund_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source and what changes (资金来源变更).")]
        input: UpdateFundSourceInput,
    ) -> ApiResult<FundSource> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::FundSource])?;
        let correction = SourceCorrection {
            id,
            version: input.version,
            name: input.name,
            document_number: input.document_number,
            amount: input.amount,
        };
        let source = funds::update_source(db(ctx)?, &actor, viewer, correction).await?;
        Ok(FundSource(source))
    }

    /// Allocates funds of a source to an approved project (资金安排), never more
    /// than the source has left.
    async fn allocate_funds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The allocation to a project (资金安排).")] input: AllocateFundsInput,
    ) -> ApiResult<FundEntry> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let (_, source_id) = decode_id_of(&input.source_id, "sourceId", &[NodeKind::FundSource])?;
        let (_, project_id) = decode_id_of(&input.project_id, "projectId", &[NodeKind::Project])?;
        let allocation = Allocation {
            source_id,
            project_id,
            amount: input.amount,
            entry_date: input.entry_date.0,
            note: input.note,
        };
        let key = input.idempotency_key.as_deref();
        let entry = funds::allocate(db(ctx)?, &actor, viewer, key, allocation).await?;
        Ok(FundEntry(entry))
    }

    /// Pays a payee out of what a source allocated to a project (资金拨付),
    /// never more than is left of that allocation.
    async fn disburse_funds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The payment out of a project's allocation (资金拨付).")]
        input: DisburseFundsInput,
    ) -> ApiResult<FundEntry> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let (_, project_id) = decode_id_of(&input.project_id, "projectId", &[NodeKind::Project])?;
        let (_, source_id) = decode_id_of(&input.source_id, "sourceId", &[NodeKind::FundSource])?;
        let payment = Disbursement {
            project_id,
            source_id,
            amount: input.amount,
            entry_date: input.entry_date.0,
            voucher_number: input.voucher_number,
            payee: input.payee,
            payee_kind: input.payee_kind,
            note: input.note,
        };
        let key = input.idempotency_key.as_deref();
        let entry = funds::disburse(db(ctx)?, &actor, viewer, key, payment).await?;
        Ok(FundEntry(entry))
    }

    /// Reverses a ledger entry with an entry of the opposite amount (红字冲销):
    /// the only way to correct the ledger. An allocation is reversed only while
    /// what was paid out of it stays covered.
    async fn reverse_fund_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The entry to reverse and why (冲销).")] input: ReverseFundEntryInput,
    ) -> ApiResult<FundEntry> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let (_, entry_id) = decode_id_of(&input.id, "id", &[NodeKind::FundEntry])?;
        let reversal = Reversal {
            entry_id,
            entry_date: input.entry_date.0,
            reason: input.reason,
            voucher_number: input.voucher_number,
        };
        let key = input.idempotency_key.as_deref();
        let entry = funds::reverse(db(ctx)?, &actor, viewer, key, reversal).await?;
        Ok(FundEntry(entry))
    }
}
