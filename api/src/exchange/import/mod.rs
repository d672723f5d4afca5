//! Import of households (登记册导入) from NDJSON or CSV, read as a stream, in
//! batches of one transaction each. Each household is checked by the rules of
//! the mutations; a household is matched by its number, a member by ID number,
//! an income by year, a measure by category and task, so importing a file
//! twice changes nothing the second time. Every write is audited like the
//! mutation it stands for, and a rejected household leaves nothing behind.

mod read;

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::enums::RegionLevel;
use entity::{household, region};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use super::Format;
use crate::access::{self, Viewer};
use crate::audit::Actor;
use crate::domain::household::import::{self, Outcome};
use crate::domain::household::record::HouseholdRecord;
use crate::domain::write;
use crate::error::{ApiError, ApiResult};
use read::{Lines, Parsed, Reader};

/// Households read and written per transaction (outside atomic mode, where
/// the one transaction takes them in batches of this size).
const BATCH: usize = 1000;
/// Rejections listed in the report; the count covers all of them.
const MAX_LISTED_REJECTIONS: usize = 1000;

/// What an import does with what it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Keep every household that passes; report the others.
    Apply,
    /// Check and count everything, keep nothing.
    DryRun,
    /// Keep everything only if every household passes.
    Atomic,
}

/// A household left out, where it is in the file and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Line of the file (1-based; in CSV the row at fault).
    pub line: u64,
    /// The field at fault: a path into the NDJSON record, or a CSV column.
    pub field: Option<String>,
    pub reason: String,
}

/// What an import did, household by household.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// Whether the changes were kept: not in a dry run, nor in an atomic
    /// import with a rejection.
    pub applied: bool,
    /// The first rejections, in file order.
    pub rejections: Vec<Rejection>,
}

impl Report {
    fn reject(&mut self, rejection: Rejection) {
        self.rejected += 1;
        if self.rejections.len() < MAX_LISTED_REJECTIONS {
            self.rejections.push(rejection);
        }
    }
}

/// Reads households from `source` and writes them as `actor`, within the
/// reach of `viewer`.
pub async fn run(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    source: impl AsyncRead + Unpin + Send,
    format: Format,
    mode: Mode,
) -> ApiResult<Report> {
    let villages: HashMap<String, region::Model> = region::Entity::find()
        .filter(region::Column::Level.eq(RegionLevel::Village))
        .all(db)
        .await?
        .into_iter()
        .filter(|v| access::reaches_village(viewer, v))
        .map(|v| (v.code.clone(), v))
        .collect();
    let import = Import {
        actor,
        viewer,
        villages: &villages,
    };
    let mut reader = Reader::new(source, format).await?;
    let mut report = if mode == Mode::Atomic {
        import.at_once(db, &mut reader).await?
    } else {
        import.in_batches(db, &mut reader, mode).await?
    };
    report.applied = match mode {
        Mode::Apply => true,
        Mode::DryRun => false,
        Mode::Atomic => report.rejected == 0,
    };
    Ok(report)
}

/// The next batch of the file; empty at its end.
async fn next_batch(reader: &mut Reader<impl AsyncRead + Unpin + Send>) -> ApiResult<Vec<Parsed>> {
    let mut batch = Vec::with_capacity(BATCH);
    while batch.len() < BATCH
        && let Some(parsed) = reader.next().await?
    {
        batch.push(parsed);
    }
    Ok(batch)
}

/// Who imports, into which villages.
struct Import<'a> {
    actor: &'a Actor,
    viewer: &'a Viewer,
    villages: &'a HashMap<String, region::Model>,
}

impl Import<'_> {
    /// Everything in one transaction, kept only if every household passes.
    async fn at_once(
        &self,
        db: &DatabaseConnection,
        reader: &mut Reader<impl AsyncRead + Unpin + Send>,
    ) -> ApiResult<Report> {
        let mut report = Report::default();
        let txn = write::begin(db).await?;
        loop {
            let batch = next_batch(reader).await?;
            if batch.is_empty() {
                break;
            }
            self.batch(&txn, batch, &mut report).await?;
        }
        finish(txn, report.rejected == 0).await?;
        Ok(report)
    }

    /// A transaction per batch, kept unless this is a dry run. The file is
    /// read and parsed a batch ahead while the last batch is written.
    async fn in_batches(
        &self,
        db: &DatabaseConnection,
        reader: &mut Reader<impl AsyncRead + Unpin + Send>,
        mode: Mode,
    ) -> ApiResult<Report> {
        let (sender, mut batches) = mpsc::channel::<Vec<Parsed>>(1);
        let write = async {
            let mut report = Report::default();
            let mut written: u64 = 0;
            while let Some(batch) = batches.recv().await {
                let txn = write::begin(db).await?;
                self.batch(&txn, batch, &mut report).await?;
                finish(txn, mode == Mode::Apply).await?;
                written += 1;
                if mode == Mode::Apply && written.is_power_of_two() {
                    refresh_statistics(db).await?;
                }
            }
            ApiResult::Ok(report)
        };
        let read = async move {
            loop {
                let batch = next_batch(reader).await?;
                // The writer stops early only on an error, which `write` returns.
                if batch.is_empty() || sender.send(batch).await.is_err() {
                    return ApiResult::Ok(());
                }
            }
        };
        let (report, ()) = tokio::try_join!(write, read)?;
        Ok(report)
    }

    /// Writes a batch in file order: each run of households new to the
    /// register together, the others one by one.
    async fn batch(
        &self,
        txn: &DatabaseTransaction,
        batch: Vec<Parsed>,
        report: &mut Report,
    ) -> ApiResult<()> {
        let numbers: Vec<String> = batch
            .iter()
            .filter_map(|parsed| parsed.record.as_ref().ok())
            .map(|record| record.number.trim().to_owned())
            .collect();
        let on_file: HashSet<String> = household::Entity::find()
            .select_only()
            .column(household::Column::Number)
            .filter(household::Column::Number.is_in(numbers))
            .into_tuple::<String>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let mut rejections = Vec::new();
        let mut new = Vec::new();
        for Parsed { lines, record } in batch {
            let record = match record {
                Ok(record) => record,
                Err(rejection) => {
                    rejections.push(rejection);
                    continue;
                }
            };
            let number = record.number.trim();
            let seen = |(_, r): &(Lines, HouseholdRecord)| r.number.trim() == number;
            if !on_file.contains(number) && !new.iter().any(seen) {
                new.push((lines, record));
                continue;
            }
            self.create(txn, std::mem::take(&mut new), report, &mut rejections)
                .await?;
            self.upsert(txn, lines, record, report, &mut rejections)
                .await?;
        }
        self.create(txn, new, report, &mut rejections).await?;
        rejections.sort_by_key(|rejection| rejection.line);
        for rejection in rejections {
            report.reject(rejection);
        }
        Ok(())
    }

    /// Writes households new to the register with one statement per table;
    /// if that fails (a person current elsewhere, a number taken meanwhile),
    /// writes them one by one, which finds and reports the culprits.
    async fn create(
        &self,
        txn: &DatabaseTransaction,
        new: Vec<(Lines, HouseholdRecord)>,
        report: &mut Report,
        rejections: &mut Vec<Rejection>,
    ) -> ApiResult<()> {
        let now = Utc::now();
        let mut passed = Vec::with_capacity(new.len());
        let mut cards = Vec::with_capacity(new.len());
        for (lines, record) in new {
            match import::check(self.villages, record.clone(), None, now) {
                Ok(card) => {
                    cards.push(card);
                    passed.push((lines, record));
                }
                Err(refused) => rejections.push(lines.locate(refused)),
            }
        }
        if passed.is_empty() {
            return Ok(());
        }
        let savepoint = txn.begin().await?;
        match import::create_all(&savepoint, self.actor, cards).await {
            Ok(()) => {
                savepoint.commit().await?;
                report.created += passed.len() as u64;
                Ok(())
            }
            Err(failed) => {
                savepoint.rollback().await?;
                tracing::debug!(?failed, "new households written one by one");
                for (lines, record) in passed {
                    self.upsert(txn, lines, record, report, rejections).await?;
                }
                Ok(())
            }
        }
    }

    /// Writes one household in a savepoint, kept only if it passes.
    async fn upsert(
        &self,
        txn: &DatabaseTransaction,
        lines: Lines,
        record: HouseholdRecord,
        report: &mut Report,
        rejections: &mut Vec<Rejection>,
    ) -> ApiResult<()> {
        let savepoint = txn.begin().await?;
        match import::upsert(&savepoint, self.actor, self.viewer, self.villages, record).await {
            Ok(outcome) => {
                savepoint.commit().await?;
                match outcome {
                    Outcome::Created => report.created += 1,
                    Outcome::Updated => report.updated += 1,
                    Outcome::Unchanged => report.unchanged += 1,
                }
            }
            Err(ApiError::Internal(detail)) => return Err(ApiError::Internal(detail)),
            Err(refused) => {
                savepoint.rollback().await?;
                rejections.push(lines.locate(refused));
            }
        }
        Ok(())
    }
}

/// Tables an import fills, whose planner statistics it keeps fresh.
const FILLED: &str = "household, household_cause, member, household_income, status_change, \
                      measure, card_revision, audit_entry, village_tally_change";

/// An import into a young register grows its tables faster than autovacuum
/// analyses them, and plans made for near-empty tables (the tally triggers'
/// included) slow every statement down; analysing after batches 1, 2, 4, 8...
/// keeps the plans fitting at a cost that halves as the import goes on.
async fn refresh_statistics(db: &DatabaseConnection) -> ApiResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("ANALYZE {FILLED}")).await?;
    }
    Ok(())
}

async fn finish(txn: DatabaseTransaction, keep: bool) -> ApiResult<()> {
    if keep {
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    Ok(())
}
