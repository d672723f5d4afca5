//! Changes to funds: sources are created and corrected; the ledger only grows.
//! The two invariants are checked inside the writing transaction, with the
//! rows they depend on locked (always the project first, then the source):
//! a project never pays out more of a source than that source allocated to it,
//! and a source never allocates more than its amount. No entry is dated before
//! what it draws on.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{FundEntryKind, FundSourceKind, PayeeKind, ProjectStatus};
use entity::{enterprise, fund_entry, fund_source, project};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::calendar;
use super::money::Money;
use super::node::global_id;
use super::text::{free_text, optional_free_text, optional_text, required_text};
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Targeted poverty alleviation began in 2014: no fund or entry is older.
const FIRST_YEAR: i32 = 2014;
const MAX_NAME_CHARS: usize = 200;
const MAX_DOCUMENT_CHARS: usize = 100;
const MAX_VOUCHER_CHARS: usize = 100;
const MAX_PAYEE_CHARS: usize = 200;
const MAX_NOTE_CHARS: usize = 500;

/// Net amounts of ledger entries, in fen: reversals are already subtracted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub allocated: i64,
    pub disbursed: i64,
}

impl Totals {
    fn add(&mut self, kind: FundEntryKind, fen: i64) {
        match kind {
            FundEntryKind::Allocation => self.allocated += fen,
            FundEntryKind::Disbursement => self.disbursed += fen,
        }
    }
}

impl std::iter::Sum for Totals {
    fn sum<I: Iterator<Item = Totals>>(totals: I) -> Totals {
        totals.fold(Totals::default(), |sum, t| Totals {
            allocated: sum.allocated + t.allocated,
            disbursed: sum.disbursed + t.disbursed,
        })
    }
}

/// Net ledger sums of the entries matching `filter`, grouped by `groups`
/// (columns of `fund_entry`) and kind: one statement, summed in SQL.
fn sums(groups: &[fund_entry::Column], filter: Condition) -> sea_orm::Select<fund_entry::Entity> {
    let mut select = fund_entry::Entity::find().select_only();
    for group in groups {
        select = select.column(*group).group_by(*group);
    }
    // SUM of a bigint is numeric on PostgreSQL: cast back to read it as i64.
    select
        .column(fund_entry::Column::Kind)
        .expr_as(Expr::cust("CAST(SUM(amount_fen) AS BIGINT)"), "total")
        .filter(filter)
        .group_by(fund_entry::Column::Kind)
}

/// Net ledger sums by one column (a project or source ID) for the entries matching `filter`.
pub async fn totals_by(
    db: &impl ConnectionTrait,
    group: fund_entry::Column,
    filter: Condition,
) -> ApiResult<HashMap<i64, Totals>> {
    let rows: Vec<(i64, FundEntryKind, i64)> = sums(&[group], filter).into_tuple().all(db).await?;
    let mut totals: HashMap<i64, Totals> = HashMap::new();
    for (key, kind, fen) in rows {
        totals.entry(key).or_default().add(kind, fen);
    }
    Ok(totals)
}

/// Net ledger sums by project and source for the entries matching `filter`.
pub async fn totals_by_project_and_source(
    db: &impl ConnectionTrait,
    filter: Condition,
) -> ApiResult<HashMap<(i64, i64), Totals>> {
    use fund_entry::Column as F;
    let rows: Vec<(i64, i64, FundEntryKind, i64)> = sums(&[F::ProjectId, F::SourceId], filter)
        .into_tuple()
        .all(db)
        .await?;
    let mut totals: HashMap<(i64, i64), Totals> = HashMap::new();
    for (project, source, kind, fen) in rows {
        totals.entry((project, source)).or_default().add(kind, fen);
    }
    Ok(totals)
}

/// Net ledger sums of one project and one source together.
async fn totals_of(
    db: &impl ConnectionTrait,
    project_id: i64,
    source_id: i64,
) -> ApiResult<Totals> {
    let filter = Condition::all()
        .add(fund_entry::Column::ProjectId.eq(project_id))
        .add(fund_entry::Column::SourceId.eq(source_id));
    Ok(totals_by(db, fund_entry::Column::SourceId, filter)
        .await?
        .remove(&source_id)
        .unwrap_or_default())
}

/// A ledger entry as the audit trail and conflict errors show it.
fn entry_snapshot(entry: &fund_entry::Model) -> serde_json::Value {
    let payee_field = match entry.payee_kind {
        Some(PayeeKind::Person) => "payeePerson",
        _ => "payeeOrganisation",
    };
    let mut snapshot = json!({
        "id": global_id("FundEntry", entry.id),
        "kind": entry.kind,
        "source": global_id("FundSource", entry.source_id),
        "project": global_id("Project", entry.project_id),
        "amount": Money(entry.amount_fen).to_string(),
        "entryDate": entry.entry_date,
        "voucherNumber": entry.voucher_number,
        "payeeKind": entry.payee_kind,
        "note": entry.note,
        "reverses": entry.reverses_id.map(|id| global_id("FundEntry", id)),
    });
    snapshot[payee_field] = json!(entry.payee);
    snapshot
}

/// A fund source as the audit trail and conflict errors show it.
fn source_snapshot(source: &fund_source::Model) -> serde_json::Value {
    json!({
        "id": global_id("FundSource", source.id),
        "year": source.year,
        "kind": source.kind,
        "name": source.name,
        "documentNumber": source.document_number,
        "amount": Money(source.amount_fen).to_string(),
        "donorEnterprise": source.donor_enterprise_id.map(|id| global_id("Enterprise", id)),
        "version": source.version,
    })
}

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
pub fn not_before(
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
    let filter = Condition::all().add(fund_entry::Column::SourceId.eq(source_id));
    Ok(totals_by(txn, fund_entry::Column::SourceId, filter)
        .await?
        .remove(&source_id)
        .unwrap_or_default()
        .allocated)
}

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

/// A new fund source, as given.
pub struct NewFundSource {
    pub year: i32,
    pub kind: FundSourceKind,
    pub name: String,
    pub document_number: Option<String>,
    pub amount: Money,
    /// The donating enterprise, for an enterprise donation only.
    pub donor_enterprise_id: Option<i64>,
}

/// Records a fund of a year from a source (新增资金来源).
pub async fn create_source(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    new: NewFundSource,
) -> ApiResult<fund_source::Model> {
    viewer.user()?;
    let year = fund_year(new.year)?;
    let name = free_text("name", &new.name, MAX_NAME_CHARS)?;
    let document_number = optional_text(
        new.document_number.as_deref(),
        "documentNumber",
        MAX_DOCUMENT_CHARS,
    )?;
    let amount_fen = positive(new.amount, "amount")?;
    let donor = new.donor_enterprise_id;
    match (new.kind, donor) {
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
        "kind": new.kind,
        "name": name,
        "documentNumber": document_number,
        "amountFen": amount_fen,
        "donor": donor,
    });
    write::create::<fund_source::Entity, _>(
        db,
        actor,
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
                kind: Set(new.kind),
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
    .await
}

/// Corrections to a fund source; what is `None` stays as it is.
pub struct SourceCorrection {
    pub id: i64,
    /// The version the change was made from.
    pub version: i32,
    pub name: Option<String>,
    pub document_number: Option<String>,
    pub amount: Option<Money>,
}

/// Corrects a fund source (修改资金来源); its amount never drops below what
/// it has allocated.
pub async fn update_source(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    correction: SourceCorrection,
) -> ApiResult<fund_source::Model> {
    let id = correction.id;
    let name = correction
        .name
        .map(|n| free_text("name", &n, MAX_NAME_CHARS))
        .transpose()?;
    let amount_fen = correction
        .amount
        .map(|a| positive(a, "amount"))
        .transpose()?;
    if name.is_none() && correction.document_number.is_none() && amount_fen.is_none() {
        return Err(ApiError::bad_input(
            "input",
            "give at least one field to change",
        ));
    }
    let document_number = correction
        .document_number
        .map(|d| optional_text(Some(&d), "documentNumber", MAX_DOCUMENT_CHARS))
        .transpose()?;
    let txn = write::begin(db).await?;
    let before = lock_source(&txn, viewer, id).await?;
    write::check_version("fund source", correction.version, before.version, || {
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
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Funds of a source allocated to a project, as asked.
pub struct Allocation {
    pub source_id: i64,
    pub project_id: i64,
    pub amount: Money,
    pub entry_date: NaiveDate,
    pub note: Option<String>,
}

/// Allocates funds of a source to an approved project (资金安排), never more
/// than the source has left.
pub async fn allocate(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    allocation: Allocation,
) -> ApiResult<fund_entry::Model> {
    let user_id = viewer.user()?.id;
    let (source_id, project_id) = (allocation.source_id, allocation.project_id);
    let amount_fen = positive(allocation.amount, "amount")?;
    let date = entry_date(allocation.entry_date, "entryDate")?;
    let note = optional_free_text("note", allocation.note.as_deref(), MAX_NOTE_CHARS)?;
    let request = json!({
        "source": source_id, "project": project_id, "amountFen": amount_fen,
        "entryDate": date, "note": note,
    });
    write::create::<fund_entry::Entity, _>(db, actor, key, "allocateFunds", &request, async |txn| {
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
    })
    .await
}

/// A payment from a project's allocation to a payee, as asked.
pub struct Disbursement {
    pub project_id: i64,
    pub source_id: i64,
    pub amount: Money,
    pub entry_date: NaiveDate,
    pub voucher_number: String,
    pub payee: String,
    pub payee_kind: PayeeKind,
    pub note: Option<String>,
}

/// Pays a payee out of what a source allocated to a project (资金拨付),
/// never more than is left of that allocation.
pub async fn disburse(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    payment: Disbursement,
) -> ApiResult<fund_entry::Model> {
    let user_id = viewer.user()?.id;
    let (project_id, source_id) = (payment.project_id, payment.source_id);
    let payee_kind = payment.payee_kind;
    let amount_fen = positive(payment.amount, "amount")?;
    let date = entry_date(payment.entry_date, "entryDate")?;
    let voucher = required_text(&payment.voucher_number, "voucherNumber", MAX_VOUCHER_CHARS)?;
    let payee = required_text(&payment.payee, "payee", MAX_PAYEE_CHARS)?;
    let note = optional_free_text("note", payment.note.as_deref(), MAX_NOTE_CHARS)?;
    let request = json!({
        "project": project_id, "source": source_id, "amountFen": amount_fen,
        "entryDate": date, "voucher": voucher, "payee": payee,
        "payeeKind": payee_kind, "note": note,
    });
    write::create::<fund_entry::Entity, _>(db, actor, key, "disburseFunds", &request, async |txn| {
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
            payee_kind: Set(Some(payee_kind)),
            note: Set(note.unwrap_or_default()),
            recorded_by: Set(Some(user_id)),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        append(txn, "fund.disburse", entry).await
    })
    .await
}

/// The reversal of a ledger entry, as asked.
pub struct Reversal {
    /// The entry to reverse.
    pub entry_id: i64,
    pub entry_date: NaiveDate,
    pub reason: String,
    /// The reversal's own voucher number; the entry's when `None`.
    pub voucher_number: Option<String>,
}

/// Reverses a ledger entry with an entry of the opposite amount (红字冲销):
/// the only way to correct the ledger. An allocation is reversed only while
/// what was paid out of it stays covered.
pub async fn reverse(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    reversal: Reversal,
) -> ApiResult<fund_entry::Model> {
    let user_id = viewer.user()?.id;
    let id = reversal.entry_id;
    let date = entry_date(reversal.entry_date, "entryDate")?;
    let reason = free_text("reason", &reversal.reason, MAX_NOTE_CHARS)?;
    let voucher = optional_text(
        reversal.voucher_number.as_deref(),
        "voucherNumber",
        MAX_VOUCHER_CHARS,
    )?;
    let request = json!({ "entry": id, "entryDate": date, "reason": reason, "voucher": voucher });
    write::create::<fund_entry::Entity, _>(
        db,
        actor,
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
    .await
}
