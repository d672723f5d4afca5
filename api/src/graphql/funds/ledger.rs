//! Changes to funds: sources are created and corrected; the ledger only grows.
//! The two invariants are checked inside the writing transaction, with the
//! rows they depend on locked (always the project first, then the source):
//! a project never pays out more of a source than that source allocated to it,
//! and a source never allocates more than its amount.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{FundEntryKind, FundSourceKind, PayeeKind, ProjectStatus};
use entity::{enterprise, fund_entry, fund_source, project};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::{FundEntry, FundSource, entry_snapshot, source_snapshot, totals_by, totals_of};
use crate::access::{self, Viewer};
use crate::audit::{self, Change};
use crate::domain::calendar;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::graphql::money::Money;
use crate::graphql::relay::{NodeKind, decode_id_of};
use crate::graphql::{actor, db, optional_text, required_text, viewer};
use crate::permissions;

/// Targeted poverty alleviation began in 2014: no fund or entry is older.
const FIRST_YEAR: i32 = 2014;
const MAX_NAME_CHARS: usize = 200;
const MAX_DOCUMENT_CHARS: usize = 100;
const MAX_VOUCHER_CHARS: usize = 100;
const MAX_PAYEE_CHARS: usize = 200;
const MAX_NOTE_CHARS: usize = 500;

fn positive(amount: Money, field: &str) -> ApiResult<i64> {
    if amount.0 <= 0 {
        return Err(ApiError::bad_input(field, "the amount must be more than 0"));
    }
    Ok(amount.0)
}

/// An entry's day: not before targeted poverty alleviation, not after today.
fn entry_date(date: NaiveDate, field: &str) -> ApiResult<NaiveDate> {
    let today = calendar::today();
    if date.year() < FIRST_YEAR || date > today {
        return Err(ApiError::bad_input(
            field,
            format!("an entry is dated from {FIRST_YEAR} to today ({today})"),
        ));
    }
    Ok(date)
}

fn fund_year(year: i32) -> ApiResult<i32> {
    let last = calendar::today().year() + 1;
    if !(FIRST_YEAR..=last).contains(&year) {
        return Err(ApiError::bad_input(
            "year",
            format!("a fund's year is {FIRST_YEAR} to {last}"),
        ));
    }
    Ok(year)
}

/// The project an entry is for, locked: every entry of a project queues behind it.
async fn lock_project(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<project::Model> {
    let select = access::select::<project::Entity>(viewer).filter(project::Column::Id.eq(id));
    let project = write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Project"))?;
    if project.status == ProjectStatus::Library {
        return Err(ApiError::bad_input(
            "projectId",
            "the project is still in the project library: money moves only once it is approved",
        ));
    }
    Ok(project)
}

async fn lock_source(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<fund_source::Model> {
    let select =
        access::select::<fund_source::Entity>(viewer).filter(fund_source::Column::Id.eq(id));
    write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("FundSource"))
}

/// Refuses an entry dated before what it draws on: the project's approval,
/// the first day of its source's year, and for a payment the first allocation
/// of that source to the project.
fn not_before(
    date: NaiveDate,
    project: &project::Model,
    source: &fund_source::Model,
    first_allocation: Option<NaiveDate>,
) -> ApiResult<()> {
    let floors = [
        project.approved_on.map(|on| (on, "the project's approval")),
        NaiveDate::from_ymd_opt(source.year, 1, 1).map(|on| (on, "the fund source's year")),
        first_allocation.map(|on| (on, "the source's first allocation to the project")),
    ];
    match floors.into_iter().flatten().find(|(on, _)| date < *on) {
        Some((on, what)) => Err(ApiError::bad_input(
            "entryDate",
            format!("the entry is dated {date}, before {what} ({on})"),
        )),
        None => Ok(()),
    }
}

/// The day of the first allocation of a source to a project, if any.
async fn first_allocation(
    txn: &DatabaseTransaction,
    project_id: i64,
    source_id: i64,
) -> ApiResult<Option<NaiveDate>> {
    Ok(fund_entry::Entity::find()
        .filter(fund_entry::Column::ProjectId.eq(project_id))
        .filter(fund_entry::Column::SourceId.eq(source_id))
        .filter(fund_entry::Column::Kind.eq(FundEntryKind::Allocation))
        .order_by_asc(fund_entry::Column::EntryDate)
        .one(txn)
        .await?
        .map(|entry| entry.entry_date))
}

/// Net allocations of a source to all projects, in fen.
async fn allocated_from(txn: &DatabaseTransaction, source_id: i64) -> ApiResult<i64> {
    let filter = sea_orm::Condition::all().add(fund_entry::Column::SourceId.eq(source_id));
    Ok(totals_by(txn, fund_entry::Column::SourceId, filter)
        .await?
        .remove(&source_id)
        .unwrap_or_default()
        .allocated)
}

/// Writes an entry, settles its key and records it in the audit trail.
/// Appends a ledger entry, with its audit entry.
async fn append(
    txn: &DatabaseTransaction,
    action: &'static str,
    entry: fund_entry::ActiveModel,
) -> ApiResult<Created<fund_entry::Model>> {
    let entry = entry.insert(txn).await?;
    Ok(Created::new(
        entry.id,
        action,
        "FundEntry",
        entry_snapshot(&entry),
        entry,
    ))
}

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
    entry_date: NaiveDate,
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
    entry_date: NaiveDate,
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
    entry_date: NaiveDate,
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
        input: CreateFundSourceInput,
    ) -> ApiResult<FundSource> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        viewer.user()?;
        let year = fund_year(input.year)?;
        let name = required_text(&input.name, "name", MAX_NAME_CHARS)?;
        let document_number = optional_text(
            input.document_number.as_deref(),
            "documentNumber",
            MAX_DOCUMENT_CHARS,
        )?;
        let amount_fen = positive(input.amount, "amount")?;
        let donor = input
            .donor_enterprise_id
            .as_ref()
            .map(|id| decode_id_of(id, "donorEnterpriseId", &[NodeKind::Enterprise]))
            .transpose()?
            .map(|(_, id)| id);
        match (input.kind, donor) {
            (FundSourceKind::EnterpriseDonation, None) => {
                return Err(ApiError::bad_input(
                    "donorEnterpriseId",
                    "an enterprise donation names the donating enterprise",
                ));
            }
            (kind, Some(_)) if kind != FundSourceKind::EnterpriseDonation => {
                return Err(ApiError::bad_input(
                    "donorEnterpriseId",
                    "only an enterprise donation has a donating enterprise",
                ));
            }
            _ => {}
        }
        let request = json!({
            "year": year,
            "kind": input.kind,
            "name": name,
            "documentNumber": document_number,
            "amountFen": amount_fen,
            "donor": donor,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<fund_source::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "createFundSource",
            &request,
            async |txn| {
                if let Some(donor) = donor {
                    access::select::<enterprise::Entity>(viewer)
                        .filter(enterprise::Column::Id.eq(donor))
                        .one(txn)
                        .await?
                        .ok_or_else(|| ApiError::not_found("Enterprise"))?;
                }
                let now = Utc::now();
                let source = fund_source::ActiveModel {
                    year: Set(year),
                    kind: Set(input.kind),
                    name: Set(name),
                    document_number: Set(document_number),
                    amount_fen: Set(amount_fen),
                    donor_enterprise_id: Set(donor),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                Ok(Created::new(
                    source.id,
                    "fund_source.create",
                    "FundSource",
                    source_snapshot(&source),
                    source,
                ))
            },
        )
        .await?;
        Ok(FundSource(created))
    }

    /// Corrects a fund source (修改资金来源); its amount never drops below what
    /// it has allocated.
    async fn update_fund_source(
        &self,
        ctx: &Context<'_>,
        input: UpdateFundSourceInput,
    ) -> ApiResult<FundSource> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::FundSource])?;
        let name = input
            .name
            .map(|n| required_text(&n, "name", MAX_NAME_CHARS))
            .transpose()?;
        let amount_fen = input.amount.map(|a| positive(a, "amount")).transpose()?;
        if name.is_none() && input.document_number.is_none() && amount_fen.is_none() {
            return Err(ApiError::bad_input(
                "input",
                "give at least one field to change",
            ));
        }
        let document_number = input
            .document_number
            .map(|d| optional_text(Some(&d), "documentNumber", MAX_DOCUMENT_CHARS))
            .transpose()?;
        let txn = write::begin(db(ctx)?).await?;
        let before = lock_source(&txn, viewer, id).await?;
        write::check_version("fund source", input.version, before.version, || {
            permissions::redact(viewer, "FundSource", source_snapshot(&before))
        })?;
        if let Some(amount_fen) = amount_fen {
            let allocated = allocated_from(&txn, id).await?;
            if amount_fen < allocated {
                return Err(ApiError::bad_input(
                    "amount",
                    format!(
                        "{} is already allocated from this source; its amount cannot be less",
                        Money(allocated)
                    ),
                ));
            }
        }
        let mut changed: fund_source::ActiveModel = before.clone().into();
        if let Some(name) = name {
            changed.name = Set(name);
        }
        if let Some(document_number) = document_number {
            changed.document_number = Set(document_number);
        }
        if let Some(amount_fen) = amount_fen {
            changed.amount_fen = Set(amount_fen);
        }
        changed.version = Set(before.version + 1);
        changed.updated_at = Set(Utc::now());
        let after = changed.update(&txn).await?;
        let change = Change {
            action: "fund_source.update",
            entity_type: "FundSource",
            entity_id: after.id,
            before: Some(source_snapshot(&before)),
            after: Some(source_snapshot(&after)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(FundSource(after))
    }

    /// Allocates funds of a source to an approved project (资金安排), never more
    /// than the source has left.
    async fn allocate_funds(
        &self,
        ctx: &Context<'_>,
        input: AllocateFundsInput,
    ) -> ApiResult<FundEntry> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let (_, source_id) = decode_id_of(&input.source_id, "sourceId", &[NodeKind::FundSource])?;
        let (_, project_id) = decode_id_of(&input.project_id, "projectId", &[NodeKind::Project])?;
        let amount_fen = positive(input.amount, "amount")?;
        let date = entry_date(input.entry_date, "entryDate")?;
        let note = optional_text(input.note.as_deref(), "note", MAX_NOTE_CHARS)?;
        let request = json!({
            "source": source_id, "project": project_id, "amountFen": amount_fen,
            "entryDate": date, "note": note,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<fund_entry::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "allocateFunds",
            &request,
            async |txn| {
                let project = lock_project(txn, viewer, project_id).await?;
                let source = lock_source(txn, viewer, source_id).await?;
                not_before(date, &project, &source, None)?;
                let allocated = allocated_from(txn, source_id).await?;
                let left = source.amount_fen - allocated;
                if amount_fen > left {
                    return Err(ApiError::bad_input(
                        "amount",
                        format!(
                            "the source has {} left to allocate; {} asked",
                            Money(left),
                            Money(amount_fen)
                        ),
                    ));
                }
                let entry = fund_entry::ActiveModel {
                    kind: Set(FundEntryKind::Allocation),
                    source_id: Set(source_id),
                    project_id: Set(project_id),
                    amount_fen: Set(amount_fen),
                    entry_date: Set(date),
                    note: Set(note.unwrap_or_default()),
                    recorded_by: Set(Some(user_id)),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                };
                append(txn, "fund.allocate", entry).await
            },
        )
        .await?;
        Ok(FundEntry(created))
    }

    /// Pays a payee out of what a source allocated to a project (资金拨付),
    /// never more than is left of that allocation.
    async fn disburse_funds(
        &self,
        ctx: &Context<'_>,
        input: DisburseFundsInput,
    ) -> ApiResult<FundEntry> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let (_, project_id) = decode_id_of(&input.project_id, "projectId", &[NodeKind::Project])?;
        let (_, source_id) = decode_id_of(&input.source_id, "sourceId", &[NodeKind::FundSource])?;
        let amount_fen = positive(input.amount, "amount")?;
        let date = entry_date(input.entry_date, "entryDate")?;
        let voucher = required_text(&input.voucher_number, "voucherNumber", MAX_VOUCHER_CHARS)?;
        let payee = required_text(&input.payee, "payee", MAX_PAYEE_CHARS)?;
        let note = optional_text(input.note.as_deref(), "note", MAX_NOTE_CHARS)?;
        let request = json!({
            "project": project_id, "source": source_id, "amountFen": amount_fen,
            "entryDate": date, "voucher": voucher, "payee": payee,
            "payeeKind": input.payee_kind, "note": note,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<fund_entry::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "disburseFunds",
            &request,
            async |txn| {
                let project = lock_project(txn, viewer, project_id).await?;
                let source = access::select::<fund_source::Entity>(viewer)
                    .filter(fund_source::Column::Id.eq(source_id))
                    .one(txn)
                    .await?
                    .ok_or_else(|| ApiError::not_found("FundSource"))?;
                let first = first_allocation(txn, project_id, source_id).await?;
                not_before(date, &project, &source, first)?;
                let totals = totals_of(txn, project_id, source_id).await?;
                let left = totals.allocated - totals.disbursed;
                if amount_fen > left {
                    return Err(ApiError::bad_input(
                        "amount",
                        format!(
                            "{} of this source's allocation to the project is left to pay out; {} asked",
                            Money(left),
                            Money(amount_fen)
                        ),
                    ));
                }
                let entry = fund_entry::ActiveModel {
                    kind: Set(FundEntryKind::Disbursement),
                    source_id: Set(source_id),
                    project_id: Set(project_id),
                    amount_fen: Set(amount_fen),
                    entry_date: Set(date),
                    voucher_number: Set(Some(voucher)),
                    payee: Set(Some(payee)),
                    payee_kind: Set(Some(input.payee_kind)),
                    note: Set(note.unwrap_or_default()),
                    recorded_by: Set(Some(user_id)),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                };
                append(txn, "fund.disburse", entry).await
            },
        )
        .await?;
        Ok(FundEntry(created))
    }

    /// Reverses a ledger entry with an entry of the opposite amount (红字冲销):
    /// the only way to correct the ledger. An allocation is reversed only while
    /// what was paid out of it stays covered.
    async fn reverse_fund_entry(
        &self,
        ctx: &Context<'_>,
        input: ReverseFundEntryInput,
    ) -> ApiResult<FundEntry> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::FundEntry])?;
        let date = entry_date(input.entry_date, "entryDate")?;
        let reason = required_text(&input.reason, "reason", MAX_NOTE_CHARS)?;
        let voucher = optional_text(
            input.voucher_number.as_deref(),
            "voucherNumber",
            MAX_VOUCHER_CHARS,
        )?;
        let request =
            json!({ "entry": id, "entryDate": date, "reason": reason, "voucher": voucher });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<fund_entry::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "reverseFundEntry",
            &request,
            async |txn| {
                let original = access::select::<fund_entry::Entity>(viewer)
                    .filter(fund_entry::Column::Id.eq(id))
                    .one(txn)
                    .await?
                    .ok_or_else(|| ApiError::not_found("FundEntry"))?;
                if original.reverses_id.is_some() {
                    return Err(ApiError::bad_input(
                        "id",
                        "a reversal cannot itself be reversed; record a new entry instead",
                    ));
                }
                if date < original.entry_date {
                    return Err(ApiError::bad_input(
                        "entryDate",
                        format!(
                            "a reversal is dated on or after the entry it reverses ({})",
                            original.entry_date
                        ),
                    ));
                }
                lock_project(txn, viewer, original.project_id).await?;
                let reversal = fund_entry::Entity::find()
                    .filter(fund_entry::Column::ReversesId.eq(id))
                    .one(txn)
                    .await?;
                if let Some(reversal) = reversal {
                    return Err(ApiError::Conflict(format!(
                        "the entry was already reversed on {}",
                        reversal.entry_date
                    )));
                }
                if original.kind == FundEntryKind::Allocation {
                    let totals = totals_of(txn, original.project_id, original.source_id).await?;
                    if totals.allocated - original.amount_fen < totals.disbursed {
                        return Err(ApiError::bad_input(
                            "id",
                            format!(
                                "{} of this allocation has been paid out; reverse those disbursements first",
                                Money(totals.disbursed)
                            ),
                        ));
                    }
                }
                let entry = fund_entry::ActiveModel {
                    kind: Set(original.kind),
                    source_id: Set(original.source_id),
                    project_id: Set(original.project_id),
                    amount_fen: Set(-original.amount_fen),
                    entry_date: Set(date),
                    voucher_number: Set(voucher.or(original.voucher_number)),
                    payee: Set(original.payee),
                    payee_kind: Set(original.payee_kind),
                    reverses_id: Set(Some(original.id)),
                    note: Set(reason),
                    recorded_by: Set(Some(user_id)),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                };
                append(txn, "fund.reverse", entry).await
            },
        )
        .await?;
        Ok(FundEntry(created))
    }
}
