//! Import of households (登记册导入) from NDJSON or CSV, read as a stream, in
//! batches of one transaction each. Each household is checked by the rules of
//! the mutations; a household is matched by its number, a member by ID number,
//! an income by year, a measure by category and task, so importing a file
//! twice changes nothing the second time. Every write is audited like the
//! mutation it stands for, and a rejected household leaves nothing behind.
//!
//! On PostgreSQL several batches are written at once, and the outcome is
//! still that of writing the file line by line: new households are numbered
//! in file order, and a batch naming a household or a person that a batch
//! still being written names waits for it, so the earlier line comes first.

mod read;

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::Utc;
use entity::enums::RegionLevel;
use entity::{household, region};
use futures::stream::{FuturesUnordered, StreamExt};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, Statement, TransactionTrait,
};
use serde::Serialize;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use super::Format;
use crate::access::{self, Viewer};
use crate::audit::Actor;
use crate::config::ImportPace;
use crate::domain::household::import::{self, Outcome};
use crate::domain::household::record::HouseholdRecord;
use crate::domain::write;
use crate::error::{ApiError, ApiResult};
use read::{Lines, Parsed, Reader};

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

    /// Adds what another batch did; its rejections join in line order.
    fn absorb(&mut self, batch: Report) {
        self.created += batch.created;
        self.updated += batch.updated;
        self.unchanged += batch.unchanged;
        self.rejected += batch.rejected;
        self.rejections.extend(batch.rejections);
        self.rejections.sort_by_key(|rejection| rejection.line);
        self.rejections.truncate(MAX_LISTED_REJECTIONS);
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
    pace: &ImportPace,
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
        batch: pace.import_batch as usize,
    };
    let mut reader = Reader::new(source, format).await?;
    let mut report = if mode == Mode::Atomic {
        import.at_once(db, &mut reader).await?
    } else {
        import
            .in_batches(db, &mut reader, mode, pace.import_writers as usize)
            .await?
    };
    report.applied = match mode {
        Mode::Apply => true,
        Mode::DryRun => false,
        Mode::Atomic => report.rejected == 0,
    };
    Ok(report)
}

/// Who imports, into which villages, how many households at a time.
struct Import<'a> {
    actor: &'a Actor,
    viewer: &'a Viewer,
    villages: &'a HashMap<String, region::Model>,
    batch: usize,
}

/// A batch of the file on its way to a writer.
struct Batch {
    parsed: Vec<Parsed>,
    /// IDs reserved for its new households, in file order (see `reserve_ids`).
    ids: VecDeque<i64>,
}

/// The household numbers and people's ID numbers a batch names. A batch
/// changes only the households and the people it names (a member leaves a
/// household by being named inactive), so two batches that name nothing in
/// common give the same register in either order.
struct Names {
    numbers: HashSet<String>,
    people: HashSet<String>,
}

impl Names {
    fn of(parsed: &[Parsed]) -> Self {
        let records = parsed.iter().filter_map(|p| p.record.as_ref().ok());
        Names {
            numbers: records
                .clone()
                .map(|r| r.number.trim().to_owned())
                .collect(),
            // As `domain::household::check_member` writes them.
            people: records
                .flat_map(|r| &r.members)
                .map(|m| m.id_number.trim().to_uppercase())
                .collect(),
        }
    }

    fn meet(&self, other: &Names) -> bool {
        !self.numbers.is_disjoint(&other.numbers) || !self.people.is_disjoint(&other.people)
    }
}

impl Import<'_> {
    /// The next batch of the file; empty at its end.
    async fn next_batch(
        &self,
        reader: &mut Reader<impl AsyncRead + Unpin + Send>,
    ) -> ApiResult<Vec<Parsed>> {
        let mut batch = Vec::with_capacity(self.batch);
        while batch.len() < self.batch
            && let Some(parsed) = reader.next().await?
        {
            batch.push(parsed);
        }
        Ok(batch)
    }

    /// Everything in one transaction, kept only if every household passes.
    async fn at_once(
        &self,
        db: &DatabaseConnection,
        reader: &mut Reader<impl AsyncRead + Unpin + Send>,
    ) -> ApiResult<Report> {
        let mut report = Report::default();
        let txn = begin_batch(db).await?;
        loop {
            let batch = self.next_batch(reader).await?;
            if batch.is_empty() {
                break;
            }
            self.batch(&txn, batch, &mut VecDeque::new(), &mut report)
                .await?;
        }
        finish(txn, report.rejected == 0).await?;
        Ok(report)
    }

    /// A transaction per batch, kept unless this is a dry run, up to
    /// `writers` of them at once on PostgreSQL. The file is read and parsed a
    /// batch ahead while earlier batches are written.
    async fn in_batches(
        &self,
        db: &DatabaseConnection,
        reader: &mut Reader<impl AsyncRead + Unpin + Send>,
        mode: Mode,
        writers: usize,
    ) -> ApiResult<Report> {
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        // SQLite has one writer at a time: more would only queue for its lock.
        let writers = if postgres { writers } else { 1 };
        // Batches written side by side keep the outcome of writing the file
        // in order (a dry run keeps nothing a later batch could see).
        let side_by_side = postgres && writers > 1 && mode == Mode::Apply;
        let (sender, mut batches) = mpsc::channel::<Vec<Parsed>>(1);
        let write = async {
            let mut report = Report::default();
            let mut writing = FuturesUnordered::new();
            // The names of the batches being written, by their place in the file.
            let mut in_flight: HashMap<u64, Names> = HashMap::new();
            let mut next: Option<(Names, Batch)> = None;
            let mut dispatched: u64 = 0;
            let mut read_all = false;
            loop {
                let free = writing.len() < writers;
                if let Some((names, batch)) = next
                    .take_if(|(names, _)| free && !in_flight.values().any(|busy| busy.meet(names)))
                {
                    dispatched += 1;
                    in_flight.insert(dispatched, names);
                    writing.push(self.write_batch(db, dispatched, batch, mode));
                }
                if read_all && next.is_none() && writing.is_empty() {
                    return ApiResult::Ok(report);
                }
                // A batch left waiting has a batch in flight to wait for, so
                // one of the branches is always enabled.
                tokio::select! {
                    Some(done) = writing.next() => {
                        let (place, written) = done?;
                        in_flight.remove(&place);
                        report.absorb(written);
                    }
                    parsed = batches.recv(), if next.is_none() && !read_all => match parsed {
                        Some(parsed) => {
                            let ids = if side_by_side {
                                reserve_ids(db, parsed.iter().filter(|p| p.record.is_ok()).count())
                                    .await?
                            } else {
                                VecDeque::new()
                            };
                            next = Some((Names::of(&parsed), Batch { parsed, ids }));
                        }
                        None => read_all = true,
                    },
                }
            }
        };
        let read = async move {
            loop {
                let batch = self.next_batch(reader).await?;
                // The writer stops early only on an error, which `write` returns.
                if batch.is_empty() || sender.send(batch).await.is_err() {
                    return ApiResult::Ok(());
                }
            }
        };
        let (report, ()) = tokio::try_join!(write, read)?;
        Ok(report)
    }

    /// Writes the `place`-th batch of the file in its own transaction.
    async fn write_batch(
        &self,
        db: &DatabaseConnection,
        place: u64,
        mut batch: Batch,
        mode: Mode,
    ) -> ApiResult<(u64, Report)> {
        let mut report = Report::default();
        let txn = begin_batch(db).await?;
        self.batch(&txn, batch.parsed, &mut batch.ids, &mut report)
            .await?;
        finish(txn, mode == Mode::Apply).await?;
        if mode == Mode::Apply && place.is_power_of_two() {
            refresh_statistics(db).await?;
        }
        Ok((place, report))
    }

    /// Writes a batch in file order: each run of households new to the
    /// register together, the others one by one.
    async fn batch(
        &self,
        txn: &DatabaseTransaction,
        batch: Vec<Parsed>,
        ids: &mut VecDeque<i64>,
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
        // The numbers in `new`.
        let mut new_numbers = HashSet::new();
        for Parsed { lines, record } in batch {
            let record = match record {
                Ok(record) => record,
                Err(rejection) => {
                    rejections.push(rejection);
                    continue;
                }
            };
            let number = record.number.trim();
            if !on_file.contains(number) && !new_numbers.contains(number) {
                new_numbers.insert(number.to_owned());
                new.push((lines, record));
                continue;
            }
            new_numbers.clear();
            self.create(txn, std::mem::take(&mut new), ids, report, &mut rejections)
                .await?;
            self.upsert(txn, lines, record, ids, report, &mut rejections)
                .await?;
        }
        self.create(txn, new, ids, report, &mut rejections).await?;
        rejections.sort_by_key(|rejection| rejection.line);
        for rejection in rejections {
            report.reject(rejection);
        }
        Ok(())
    }

    /// Writes households new to the register with one statement per table;
    /// if that fails (a person current elsewhere, a number taken meanwhile),
    /// writes them one by one, which finds and reports the culprits. Each
    /// takes the next of the reserved `ids`, if any.
    async fn create(
        &self,
        txn: &DatabaseTransaction,
        new: Vec<(Lines, HouseholdRecord)>,
        ids: &mut VecDeque<i64>,
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
        for (card, id) in cards.iter_mut().zip(ids.iter()) {
            card.id = Some(*id);
        }
        let savepoint = txn.begin().await?;
        match import::create_all(&savepoint, self.actor, cards).await {
            Ok(()) => {
                savepoint.commit().await?;
                ids.drain(..passed.len().min(ids.len()));
                report.created += passed.len() as u64;
                Ok(())
            }
            Err(failed) => {
                savepoint.rollback().await?;
                tracing::debug!(
                    reason = failed.sentence(),
                    "new households written one by one"
                );
                for (lines, record) in passed {
                    self.upsert(txn, lines, record, ids, report, rejections)
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Writes one household in a savepoint, kept only if it passes; a new
    /// one takes the next of the reserved `ids`, if any.
    async fn upsert(
        &self,
        txn: &DatabaseTransaction,
        lines: Lines,
        record: HouseholdRecord,
        ids: &mut VecDeque<i64>,
        report: &mut Report,
        rejections: &mut Vec<Rejection>,
    ) -> ApiResult<()> {
        let savepoint = txn.begin().await?;
        let id = ids.front().copied();
        match import::upsert(
            &savepoint,
            self.actor,
            self.viewer,
            self.villages,
            record,
            id,
        )
        .await
        {
            Ok(outcome) => {
                savepoint.commit().await?;
                match outcome {
                    Outcome::Created => {
                        ids.pop_front();
                        report.created += 1;
                    }
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

/// Begins a batch's transaction. On PostgreSQL its statements keep one plan
/// each, made without their values: planned anew for each batch, a statement
/// that takes its rows as one JSON value (`write::insert_all`) would parse it
/// once to plan and again to run.
async fn begin_batch(db: &DatabaseConnection) -> ApiResult<DatabaseTransaction> {
    let txn = write::begin(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
            .await?;
    }
    Ok(txn)
}

/// Takes `count` household IDs from the sequence, ascending, for a batch's new
/// households: batches written at once then still number them in file order.
async fn reserve_ids(db: &DatabaseConnection, count: usize) -> ApiResult<VecDeque<i64>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT nextval(pg_get_serial_sequence('household', 'id')) AS id \
             FROM generate_series(1, $1)",
            [(count as i64).into()],
        ))
        .await?;
    let mut ids = rows
        .iter()
        .map(|row| row.try_get::<i64>("", "id"))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    Ok(ids.into())
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
