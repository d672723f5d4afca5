//! Funds that "run in the sun" (阳光扶贫): fund sources by year, the ledger of
//! allocations to projects and disbursements to payees, and how much of what
//! was allocated has been paid out, by project, source and region. The ledger
//! is public: amounts, dates, vouchers and payees that are organisations; a
//! payee who is a person is masked for the public by the field policy.

mod ledger;
mod utilisation;

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::{FundEntryKind, FundSourceKind, PayeeKind};
use entity::{fund_entry, fund_source};
use sea_orm::{ColumnTrait, QueryFilter, QueryTrait};

pub use ledger::FundMutation;
pub use utilisation::{Coverage, FundUtilisationQuery};

use super::context::{loaders, page, viewer};
use super::enterprise::Enterprise;
use super::money::Money;
use super::project::Project;
use super::relay::{
    Conn, KeyType, NodeKind, PageArgs, SortKey, decode_id_of, global_id, page_cost, paginate,
};
use crate::access;
use crate::domain::funds::Totals;
use crate::error::{ApiError, ApiResult};

const SOURCES_BY_ID: SortKey<fund_source::Entity> = SortKey {
    name: "id",
    column: fund_source::Column::Id,
    key_type: KeyType::Int,
    descending: false,
    value_of: |m| m.id.to_string(),
};

const ENTRIES_BY_ID: SortKey<fund_entry::Entity> = SortKey {
    name: "id",
    column: fund_entry::Column::Id,
    key_type: KeyType::Int,
    descending: false,
    value_of: |m| m.id.to_string(),
};

/// Disbursed over allocated, 0 to 1; none while nothing is allocated.
fn rate(totals: Totals) -> Option<f64> {
    (totals.allocated > 0).then(|| totals.disbursed as f64 / totals.allocated as f64)
}

pub struct FundSource(pub fund_source::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for FundSource {
    type Row = entity::fund_source::Model;
}

/// A fund of one year from one source (资金来源).
#[Object]
impl FundSource {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::FundSource, self.0.id)
    }
    /// Year of the fund (资金年度).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Where it comes from (资金来源类型).
    async fn kind(&self) -> FundSourceKind {
        self.0.kind
    }
    /// Name, e.g. the grant it was issued as (资金名称).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The document that granted it (文号).
    async fn document_number(&self) -> Option<&str> {
        self.0.document_number.as_deref()
    }
    /// Amount of the fund (资金总额).
    async fn amount(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// The donating enterprise, for an enterprise donation (捐赠企业).
    async fn donor_enterprise(&self, ctx: &Context<'_>) -> ApiResult<Option<Enterprise>> {
        let Some(id) = self.0.donor_enterprise_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .enterprises
            .load_one(id)
            .await?
            .map(Enterprise))
    }
    /// Allocated to projects, net of reversals (已安排).
    async fn allocated(&self, ctx: &Context<'_>) -> ApiResult<Money> {
        Ok(Money(self.totals(ctx).await?.allocated))
    }
    /// Paid out of it to payees, net of reversals (已拨付).
    async fn disbursed(&self, ctx: &Context<'_>) -> ApiResult<Money> {
        Ok(Money(self.totals(ctx).await?.disbursed))
    }
    /// Still free to allocate (可安排余额).
    async fn unallocated(&self, ctx: &Context<'_>) -> ApiResult<Money> {
        Ok(Money(self.0.amount_fen - self.totals(ctx).await?.allocated))
    }
    /// Disbursed over allocated, 0 to 1; null while nothing is allocated (资金使用率).
    async fn utilisation(&self, ctx: &Context<'_>) -> ApiResult<Option<f64>> {
        Ok(rate(self.totals(ctx).await?))
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

impl FundSource {
    async fn totals(&self, ctx: &Context<'_>) -> ApiResult<Totals> {
        Ok(loaders(ctx)?
            .source_totals
            .load_one(self.0.id)
            .await?
            .unwrap_or_default())
    }
}

pub struct FundEntry(pub fund_entry::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for FundEntry {
    type Row = entity::fund_entry::Model;
}

/// An entry of the fund ledger (资金台账): never edited or deleted; a correction
/// is a reversing entry with the opposite amount.
#[Object]
impl FundEntry {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::FundEntry, self.0.id)
    }
    /// Allocation or disbursement (台账类型).
    async fn kind(&self) -> FundEntryKind {
        self.0.kind
    }
    /// The fund it draws on (资金来源).
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<FundSource>> {
        Ok(loaders(ctx)?
            .fund_sources
            .load_one(self.0.source_id)
            .await?
            .map(FundSource))
    }
    /// The project (项目).
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        Ok(loaders(ctx)?
            .projects
            .load_one(self.0.project_id)
            .await?
            .map(Project))
    }
    /// Amount: positive, or negative for a reversal (金额).
    async fn amount(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// The day of the entry (记账日期).
    async fn entry_date(&self) -> Day {
        Day(self.0.entry_date)
    }
    /// Voucher number of a disbursement (凭证号).
    async fn voucher_number(&self) -> Option<&str> {
        self.0.voucher_number.as_deref()
    }
    /// Whether the payee of a disbursement is a person or an organisation (收款方类型).
    async fn payee_kind(&self) -> Option<PayeeKind> {
        self.0.payee_kind
    }
    /// The payee, when it is an organisation (收款单位).
    async fn payee_organisation(&self) -> Option<&str> {
        self.payee(PayeeKind::Organisation)
    }
    /// The payee, when it is a person (收款人); the public sees the surname only.
    async fn payee_person(&self) -> Option<&str> {
        self.payee(PayeeKind::Person)
    }
    /// What the entry is for, or why it reverses another (摘要).
    async fn note(&self) -> &str {
        &self.0.note
    }
    /// The entry this one reverses (冲销的原分录).
    async fn reverses(&self, ctx: &Context<'_>) -> ApiResult<Option<FundEntry>> {
        let Some(id) = self.0.reverses_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .fund_entries
            .load_one(id)
            .await?
            .map(FundEntry))
    }
    /// The entry that reversed this one, if any (冲销分录).
    async fn reversed_by(&self, ctx: &Context<'_>) -> ApiResult<Option<FundEntry>> {
        Ok(loaders(ctx)?
            .fund_reversals
            .load_one(self.0.id)
            .await?
            .map(FundEntry))
    }
    /// The account that recorded it (记账人).
    async fn recorded_by(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let Some(id) = self.0.recorded_by else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .users
            .load_one(id)
            .await?
            .map(|user| user.username))
    }
    /// When it was recorded (记账时间).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

impl FundEntry {
    fn payee(&self, kind: PayeeKind) -> Option<&str> {
        (self.0.payee_kind == Some(kind))
            .then_some(self.0.payee.as_deref())
            .flatten()
    }
}

/// The money of one project (项目资金).
pub struct ProjectFunds {
    /// By source ID.
    by_source: Vec<(i64, Totals)>,
    total: Totals,
}

/// The money of a project from one source (项目分来源资金).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ProjectSourceFunds {
    #[graphql(skip)]
    source_id: i64,
    /// Allocated from the source to the project (已安排).
    allocated: Money,
    /// Paid out of that allocation (已拨付).
    disbursed: Money,
}

#[async_graphql::ComplexObject]
impl ProjectSourceFunds {
    /// The fund source (资金来源).
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<FundSource>> {
        Ok(loaders(ctx)?
            .fund_sources
            .load_one(self.source_id)
            .await?
            .map(FundSource))
    }
}

/// The money of a project: allocated, disbursed, by source (项目资金).
#[Object]
impl ProjectFunds {
    /// Allocated to the project, net of reversals (已安排).
    async fn allocated(&self) -> Money {
        Money(self.total.allocated)
    }
    /// Paid out, net of reversals (已拨付).
    async fn disbursed(&self) -> Money {
        Money(self.total.disbursed)
    }
    /// Allocated and not yet paid out (待拨付).
    async fn undisbursed(&self) -> Money {
        Money(self.total.allocated - self.total.disbursed)
    }
    /// Disbursed over allocated, 0 to 1; null while nothing is allocated (资金使用率).
    async fn utilisation(&self) -> Option<f64> {
        rate(self.total)
    }
    /// The same, for each fund source the project draws on (分来源).
    async fn by_source(&self) -> Vec<ProjectSourceFunds> {
        self.by_source
            .iter()
            .map(|(source_id, totals)| ProjectSourceFunds {
                source_id: *source_id,
                allocated: Money(totals.allocated),
                disbursed: Money(totals.disbursed),
            })
            .collect()
    }
}

/// The money of a project, through the request's ledger loader.
pub async fn project_funds(ctx: &Context<'_>, project_id: i64) -> ApiResult<ProjectFunds> {
    let by_source = loaders(ctx)?
        .project_fund_totals
        .load_one(project_id)
        .await?
        .unwrap_or_default();
    let total = by_source.iter().map(|(_, t)| *t).sum();
    Ok(ProjectFunds { by_source, total })
}

/// Which fund sources to list (资金来源筛选条件).
#[derive(InputObject, Default)]
pub struct FundSourceFilter {
    /// Only funds of this year (资金年度).
    year: Option<i32>,
    /// Only these kinds (资金来源类型).
    kind: Option<Vec<FundSourceKind>>,
}

/// Which ledger entries to list (资金台账筛选条件).
#[derive(InputObject, Default)]
pub struct FundLedgerFilter {
    /// Only entries of this project (项目).
    project_id: Option<ID>,
    /// Only entries drawing on this fund source (资金来源).
    source_id: Option<ID>,
    /// Only allocations or only disbursements (台账类型).
    kind: Option<FundEntryKind>,
    /// Only entries on or after this day (起始日期).
    from: Option<Day>,
    /// Only entries on or before this day (截止日期).
    to: Option<Day>,
}

#[derive(Default)]
pub struct FundQuery;

#[Object]
impl FundQuery {
    /// Fund sources (资金来源), in the order they were recorded.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn fund_sources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which sources; all if not given (筛选条件).")] filter: Option<
            FundSourceFilter,
        >,
        #[graphql(
            desc = "Items from the start of the list, or after `after`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); 20 when neither `first` nor `last` is given (每页条数)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of an edge of this list: the page starts after it (游标).")]
        after: Option<String>,
        #[graphql(
            desc = "Items from the end of the list, or before `before`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); not with `first` (每页条数)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor of an edge of this list: the page ends before it, paging backwards; with `last`, not with `after` (游标)."
        )]
        before: Option<String>,
    ) -> ApiResult<Conn<FundSource>> {
        use fund_source::Column as S;
        let filter = filter.unwrap_or_default();
        let select = access::select::<fund_source::Entity>(viewer(ctx)?)
            .apply_if(filter.year, |q, year| q.filter(S::Year.eq(year)))
            .apply_if(filter.kind, |q, kinds| q.filter(S::Kind.is_in(kinds)));
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &SOURCES_BY_ID, page, FundSource).await
    }

    /// One fund source by ID.
    async fn fund_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the fund source (资金来源).")] id: ID,
    ) -> ApiResult<FundSource> {
        let (_, raw) = decode_id_of(&id, "id", &[NodeKind::FundSource])?;
        loaders(ctx)?
            .fund_sources
            .load_one(raw)
            .await?
            .map(FundSource)
            .ok_or_else(|| ApiError::not_found("FundSource"))
    }

    /// The fund ledger (资金台账), in the order entries were recorded.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn fund_ledger(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entries; the whole ledger if not given (筛选条件).")]
        filter: Option<FundLedgerFilter>,
        #[graphql(
            desc = "Items from the start of the list, or after `after`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); 20 when neither `first` nor `last` is given (每页条数)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of an edge of this list: the page starts after it (游标).")]
        after: Option<String>,
        #[graphql(
            desc = "Items from the end of the list, or before `before`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); not with `first` (每页条数)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor of an edge of this list: the page ends before it, paging backwards; with `last`, not with `after` (游标)."
        )]
        before: Option<String>,
    ) -> ApiResult<Conn<FundEntry>> {
        use fund_entry::Column as F;
        let filter = filter.unwrap_or_default();
        let project = filter
            .project_id
            .map(|id| decode_id_of(&id, "filter.projectId", &[NodeKind::Project]))
            .transpose()?;
        let source = filter
            .source_id
            .map(|id| decode_id_of(&id, "filter.sourceId", &[NodeKind::FundSource]))
            .transpose()?;
        let select = access::select::<fund_entry::Entity>(viewer(ctx)?)
            .apply_if(project, |q, (_, id)| q.filter(F::ProjectId.eq(id)))
            .apply_if(source, |q, (_, id)| q.filter(F::SourceId.eq(id)))
            .apply_if(filter.kind, |q, kind| q.filter(F::Kind.eq(kind)))
            .apply_if(filter.from, |q, from| q.filter(F::EntryDate.gte(from.0)))
            .apply_if(filter.to, |q, to| q.filter(F::EntryDate.lte(to.0)));
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &ENTRIES_BY_ID, page, FundEntry).await
    }

    /// One ledger entry by ID.
    async fn fund_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the ledger entry (资金台账记录).")] id: ID,
    ) -> ApiResult<FundEntry> {
        let (_, raw) = decode_id_of(&id, "id", &[NodeKind::FundEntry])?;
        loaders(ctx)?
            .fund_entries
            .load_one(raw)
            .await?
            .map(FundEntry)
            .ok_or_else(|| ApiError::not_found("FundEntry"))
    }
}
