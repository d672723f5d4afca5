//! Import of households (登记册导入) from NDJSON or CSV, read as a stream. Each
//! household is checked by the rules of the mutations and written in a
//! savepoint of its batch, so a rejected one leaves nothing behind; a household
//! is matched by its number, a member by ID number, an income by year, a
//! measure by category and task, so importing a file twice changes nothing
//! the second time. Every write is audited like the mutation it stands for.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use entity::enums::{MeasureStatus, PovertyCause, RegionLevel, Relation};
use entity::{
    household, household_cause, household_income, measure, member, region, status_change,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

use super::Format;
use super::csv::{CellError, KIND_COLUMN, KINDS, Layout, Row};
use super::record::{HouseholdRecord, IncomeRecord, MeasureRecord, MemberRecord, StatusRecord};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::edit;
use crate::error::{ApiError, ApiResult, Shown};
use crate::graphql::household::card::{self, household_snapshot, income_snapshot, member_snapshot};
use crate::graphql::household::{
    amount, check_causes, check_income, check_member, ensure_not_on_file, phone, replace_causes,
};
use crate::graphql::plan::{self, MAX_RESPONSIBLE_CHARS, MAX_TASK_CHARS, check_deadline};
use crate::graphql::required_text;

/// Households written per transaction (outside atomic mode).
const BATCH: usize = 200;
/// The longest NDJSON line read; a longer one is rejected unread.
const MAX_LINE_BYTES: u64 = 1 << 20;
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

enum Outcome {
    Created,
    Updated,
    Unchanged,
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
    let mut reader = Reader::new(source, format).await?;
    let mut report = Report::default();
    let mut txn = edit::begin(db).await?;
    let mut in_batch = 0;
    let mut batches: u64 = 0;
    while let Some(parsed) = reader.next().await? {
        let record = match parsed.record {
            Ok(record) => record,
            Err(rejection) => {
                report.reject(rejection);
                continue;
            }
        };
        let savepoint = txn.begin().await?;
        match apply(&savepoint, actor, &villages, record).await {
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
                report.reject(parsed.lines.locate(refused));
            }
        }
        in_batch += 1;
        if mode != Mode::Atomic && in_batch == BATCH {
            finish(txn, mode == Mode::Apply).await?;
            batches += 1;
            if mode == Mode::Apply && batches.is_power_of_two() {
                refresh_statistics(db).await?;
            }
            txn = edit::begin(db).await?;
            in_batch = 0;
        }
    }
    report.applied = match mode {
        Mode::Apply => true,
        Mode::DryRun => false,
        Mode::Atomic => report.rejected == 0,
    };
    finish(txn, report.applied).await?;
    Ok(report)
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

/// Where a household's parts are in the file.
enum Lines {
    /// The NDJSON line of the whole record.
    Ndjson(u64),
    /// The CSV row of the household and of each of its parts, by record key.
    Csv {
        household: u64,
        parts: HashMap<&'static str, Vec<u64>>,
    },
}

impl Lines {
    /// Where an error of the record's field `path` (e.g. `members[1].idNumber`) is.
    fn at(&self, path: Option<String>, reason: String) -> Rejection {
        let (line, field) = match self {
            Lines::Ndjson(line) => (*line, path),
            Lines::Csv { household, parts } => {
                let part = path.as_deref().and_then(|path| {
                    let (key, rest) = path.split_once('[')?;
                    let (index, field) = rest.split_once(']')?;
                    let line = parts.get(key)?.get(index.parse::<usize>().ok()?)?;
                    Some((*line, field.trim_start_matches('.').to_owned()))
                });
                match part {
                    Some((line, field)) => (line, Some(field).filter(|f| !f.is_empty())),
                    None => (*household, path),
                }
            }
        };
        Rejection {
            line,
            field,
            reason,
        }
    }

    fn locate(&self, error: ApiError) -> Rejection {
        let shown = Shown::from(error);
        self.at(shown.field, shown.message)
    }
}

/// One household read from the file, or why it could not be read.
struct Parsed {
    lines: Lines,
    record: Result<HouseholdRecord, Rejection>,
}

/// A record from its fields, with the path of the field at fault if it is not one.
fn record_of<'de, D: serde::Deserializer<'de>>(
    lines: &Lines,
    input: D,
) -> Result<HouseholdRecord, Rejection>
where
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(input).map_err(|err| {
        let path = err.path().to_string();
        // `.` is the record itself, `?` a place the syntax never reached.
        let field = (path != "." && path != "?").then_some(path);
        lines.at(field, err.inner().to_string())
    })
}

enum Reader<R> {
    Ndjson {
        lines: BufReader<R>,
        line: u64,
    },
    Csv {
        rows: csv_async::AsyncReader<R>,
        layout: Layout,
        /// The household row that ended the previous household's rows.
        next: Option<csv_async::StringRecord>,
        /// Set when the file cannot be read further.
        broken: bool,
    },
}

impl<R: AsyncRead + Unpin + Send> Reader<R> {
    async fn new(source: R, format: Format) -> ApiResult<Self> {
        Ok(match format {
            Format::Ndjson => Reader::Ndjson {
                lines: BufReader::new(source),
                line: 0,
            },
            Format::Csv => {
                let mut rows = csv_async::AsyncReaderBuilder::new()
                    .flexible(true)
                    .create_reader(source);
                let header = rows.headers().await.map_err(|err| {
                    ApiError::bad_input("file", format!("cannot read the CSV header: {err}"))
                })?;
                let layout =
                    Layout::of(header).map_err(|reason| ApiError::bad_input("file", reason))?;
                Reader::Csv {
                    rows,
                    layout,
                    next: None,
                    broken: false,
                }
            }
        })
    }

    async fn next(&mut self) -> ApiResult<Option<Parsed>> {
        match self {
            Reader::Ndjson { lines, line } => next_line(lines, line).await,
            Reader::Csv {
                rows,
                layout,
                next,
                broken,
            } => next_rows(rows, layout, next, broken).await,
        }
    }
}

async fn next_line<R: AsyncRead + Unpin>(
    lines: &mut BufReader<R>,
    line: &mut u64,
) -> ApiResult<Option<Parsed>> {
    loop {
        let mut bytes = Vec::new();
        let read = (&mut *lines)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut bytes)
            .await
            .map_err(read_error)?;
        if read == 0 {
            return Ok(None);
        }
        *line += 1;
        let at = Lines::Ndjson(*line);
        if bytes.len() as u64 > MAX_LINE_BYTES && bytes.last() != Some(&b'\n') {
            let mut rest = Vec::new();
            lines
                .read_until(b'\n', &mut rest)
                .await
                .map_err(read_error)?;
            let reason = format!("the line is longer than {MAX_LINE_BYTES} bytes");
            return Ok(Some(Parsed {
                record: Err(at.at(None, reason)),
                lines: at,
            }));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = record_of(&at, &mut serde_json::Deserializer::from_slice(&bytes));
        return Ok(Some(Parsed { lines: at, record }));
    }
}

fn read_error(err: std::io::Error) -> ApiError {
    ApiError::Internal(format!("reading the import: {err}"))
}

async fn next_rows<R: AsyncRead + Unpin + Send>(
    rows: &mut csv_async::AsyncReader<R>,
    layout: &Layout,
    next: &mut Option<csv_async::StringRecord>,
    broken: &mut bool,
) -> ApiResult<Option<Parsed>> {
    let first = match next.take() {
        Some(row) => row,
        None => {
            let mut row = csv_async::StringRecord::new();
            match read_row(rows, &mut row, broken).await {
                RowRead::Row => row,
                RowRead::End => return Ok(None),
                RowRead::Broken(rejection) => {
                    return Ok(Some(Parsed {
                        lines: Lines::Ndjson(rejection.line),
                        record: Err(rejection),
                    }));
                }
            }
        }
    };
    let mut household = Map::new();
    let mut parts: HashMap<&'static str, Vec<u64>> = HashMap::new();
    let mut failed: Option<Rejection> = None;
    let first_line = line_of(&first);
    match layout.read(&first) {
        Ok(Row {
            kind: "household",
            fields,
        }) => household = fields,
        Ok(Row { kind, .. }) => {
            failed = Some(Rejection {
                line: first_line,
                field: Some(KIND_COLUMN.into()),
                reason: format!("a `{kind}` row must follow its household's row"),
            });
        }
        Err(error) => failed = Some(cell_rejection(first_line, error)),
    }
    loop {
        let mut row = csv_async::StringRecord::new();
        match read_row(rows, &mut row, broken).await {
            RowRead::Row => {}
            RowRead::End => break,
            RowRead::Broken(rejection) => {
                failed.get_or_insert(rejection);
                break;
            }
        }
        let line = line_of(&row);
        let read = layout.read(&row);
        let kind = match &read {
            Ok(read) => read.kind,
            Err(_) => row.get(layout.kind_index()).unwrap_or("").trim(),
        };
        if kind == "household" {
            *next = Some(row);
            break;
        }
        let Some(key) = KINDS
            .iter()
            .find(|(name, _)| *name == kind)
            .and_then(|(_, key)| *key)
        else {
            failed.get_or_insert(Rejection {
                line,
                field: Some(KIND_COLUMN.into()),
                reason: format!(
                    "`{kind}` is not a kind of row: household, member, income, status or measure"
                ),
            });
            continue;
        };
        parts.entry(key).or_default().push(line);
        match read {
            Ok(read) => {
                if let Value::Array(items) = household
                    .entry(key.to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    items.push(Value::Object(read.fields));
                }
            }
            Err(error) => {
                failed.get_or_insert(cell_rejection(line, error));
            }
        }
    }
    let lines = Lines::Csv {
        household: first_line,
        parts,
    };
    let record = match failed {
        Some(rejection) => Err(rejection),
        None => record_of(&lines, Value::Object(household)),
    };
    Ok(Some(Parsed { lines, record }))
}

fn cell_rejection(line: u64, error: CellError) -> Rejection {
    Rejection {
        line,
        field: Some(error.column),
        reason: error.reason,
    }
}

enum RowRead {
    Row,
    End,
    Broken(Rejection),
}

/// Reads a row; a file that stops being CSV ends the import at that line.
async fn read_row<R: AsyncRead + Unpin + Send>(
    rows: &mut csv_async::AsyncReader<R>,
    row: &mut csv_async::StringRecord,
    broken: &mut bool,
) -> RowRead {
    if *broken {
        return RowRead::End;
    }
    match rows.read_record(row).await {
        Ok(true) => RowRead::Row,
        Ok(false) => RowRead::End,
        Err(err) => {
            *broken = true;
            let line = err.position().map_or(0, |p| p.line());
            RowRead::Broken(Rejection {
                line,
                field: None,
                reason: format!("the file cannot be read from here on: {err}"),
            })
        }
    }
}

fn line_of(row: &csv_async::StringRecord) -> u64 {
    row.position().map_or(0, |p| p.line())
}

/// Checks a household record and writes what differs from the register.
async fn apply(
    txn: &DatabaseTransaction,
    actor: &Actor,
    villages: &HashMap<String, region::Model>,
    record: HouseholdRecord,
) -> ApiResult<Outcome> {
    let village = villages.get(record.village.trim()).ok_or_else(|| {
        ApiError::bad_input(
            "village",
            format!("no village {} in your reach", record.village),
        )
    })?;
    let number = record.number.trim();
    let existing = edit::one_locked(
        txn,
        household::Entity::find().filter(household::Column::Number.eq(number)),
    )
    .await?;
    // A household keeps its number when it moves; a new one is numbered in its village.
    if existing.is_none()
        && (number.len() != 17
            || !number.starts_with(&village.code)
            || !number.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::bad_input(
            "number",
            "a new household's number is its village's 12-digit code and 5 digits",
        ));
    }
    let now = Utc::now();
    let mut row = card_row(&record, village, existing.as_ref(), now)?;
    let members = checked_members(&record.members)?;
    check_incomes(&record.incomes)?;
    check_history(&record)?;
    let plan = checked_plan(&record.plan)?;
    check_causes(row.main_cause, &record.other_causes)?;

    let mut change = CardChange {
        txn,
        household_id: 0,
        touched: false,
        audited: Vec::new(),
    };
    let outcome = match &existing {
        None => {
            let mut active = row.clone().into_active_model();
            active.id = sea_orm::ActiveValue::NotSet;
            row = active.insert(txn).await?;
            change.household_id = row.id;
            change.touched = true;
            change.audit(
                "household.import",
                "Household",
                row.id,
                None,
                Some(household_snapshot(&row)),
            );
            Outcome::Created
        }
        Some(before) => {
            change.household_id = before.id;
            if row != *before {
                change.touch().await?;
                row.version = before.version + 1;
                row.updated_at = now;
                row = row.into_active_model().reset_all().update(txn).await?;
                let (before, after) = (household_snapshot(before), household_snapshot(&row));
                change.audit(
                    "household.import",
                    "Household",
                    row.id,
                    Some(before),
                    Some(after),
                );
            }
            Outcome::Unchanged
        }
    };
    change.causes(row.main_cause, &record.other_causes).await?;
    change
        .members(members.into_iter().enumerate().collect())
        .await?;
    change.incomes(&record.incomes).await?;
    change.history(&record.status_history).await?;
    change.plan(plan).await?;
    if !change.touched {
        return Ok(outcome);
    }
    audit::record_all(txn, actor, change.audited).await?;
    card::record_change(txn, change.household_id).await?;
    Ok(match outcome {
        Outcome::Unchanged => Outcome::Updated,
        other => other,
    })
}

/// The household row a record describes, on top of the one on file, if any.
fn card_row(
    r: &HouseholdRecord,
    village: &region::Model,
    existing: Option<&household::Model>,
    now: chrono::DateTime<Utc>,
) -> ApiResult<household::Model> {
    Ok(household::Model {
        id: existing.map_or(0, |h| h.id),
        number: r.number.trim().to_owned(),
        village_id: village.id,
        address: required_text(&r.address, "address", 200)?,
        phone: phone("phone", r.phone.as_deref())?,
        attribute: r.attribute,
        standard: r.identification_standard,
        status: r.status,
        enrolled_year: r.enrolled_year,
        lifted_out_year: r.lifted_out_year,
        monitoring: r.monitoring,
        main_cause: r.main_cause,
        cultivated_land_mu: amount("cultivatedLandMu", r.cultivated_land_mu)?,
        housing_area_m2: amount("housingAreaM2", r.housing_area_m2)?,
        dilapidated_grade: r.dilapidated_grade,
        safe_drinking_water: r.safe_drinking_water,
        production_electricity: r.production_electricity,
        household_electricity: r.household_electricity,
        road_distance_km: amount("roadDistanceKm", r.road_distance_km)?,
        joined_cooperative: r.joined_cooperative,
        food_secure: r.food_secure,
        clothing_secure: r.clothing_secure,
        compulsory_education_secure: r.compulsory_education_secure,
        basic_medical_secure: r.basic_medical_secure,
        housing_secure: r.housing_secure,
        version: existing.map_or(1, |h| h.version),
        created_at: existing.map_or(now, |h| h.created_at),
        updated_at: existing.map_or(now, |h| h.updated_at),
    })
}

/// The members as rows, checked as `addMember` checks them: one current
/// head, no person twice.
fn checked_members(records: &[MemberRecord]) -> ApiResult<Vec<member::Model>> {
    let mut rows = Vec::with_capacity(records.len());
    for (i, m) in records.iter().enumerate() {
        let field = format!("members[{i}]");
        let mut row = member::Model {
            id: 0,
            household_id: 0,
            name: m.name.clone(),
            gender: m.gender,
            id_number: m.id_number.clone(),
            relation: m.relation,
            ethnicity: m.ethnicity.trim().to_owned(),
            education: m.education,
            student_status: m.student_status,
            health: m.health,
            disability_grade: m.disability_grade,
            labour_ability: m.labour_ability,
            migrant_work: m.migrant_work,
            migrant_months: m.migrant_months,
            basic_medical_insurance: m.basic_medical_insurance,
            serious_illness_insurance: m.serious_illness_insurance,
            basic_pension: m.basic_pension,
            is_active: m.active,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        check_member(&field, &mut row)?;
        if rows
            .iter()
            .any(|r: &member::Model| r.id_number == row.id_number)
        {
            return Err(ApiError::bad_input(
                format!("{field}.idNumber"),
                "the same person is listed twice",
            ));
        }
        rows.push(row);
    }
    let heads = rows
        .iter()
        .filter(|m| m.is_active && m.relation == Relation::Head)
        .count();
    if heads != 1 {
        return Err(ApiError::bad_input(
            "members",
            format!("a household has exactly one current head, this one has {heads}"),
        ));
    }
    Ok(rows)
}

fn check_incomes(incomes: &[IncomeRecord]) -> ApiResult<()> {
    let mut years = BTreeSet::new();
    for (i, income) in incomes.iter().enumerate() {
        let at = |name: &str| format!("incomes[{i}].{name}");
        let (year, wage, production, property, transfer, cost) = (
            at("year"),
            at("wageFen"),
            at("productionFen"),
            at("propertyFen"),
            at("transferFen"),
            at("productionCostFen"),
        );
        check_income(
            (&year, income.year),
            [
                (&wage, income.wage_fen),
                (&production, income.production_fen),
                (&property, income.property_fen),
                (&transfer, income.transfer_fen),
                (&cost, income.production_cost_fen),
            ],
        )?;
        if income.household_size < 1 {
            return Err(ApiError::bad_input(
                at("householdSize"),
                "the household size is at least 1",
            ));
        }
        if !years.insert(income.year) {
            return Err(ApiError::bad_input(year, "the same year is listed twice"));
        }
    }
    Ok(())
}

/// A history is a chain: each entry starts where the one before ended, in
/// time order, and the last ends where the card stands.
fn check_history(record: &HouseholdRecord) -> ApiResult<()> {
    let history = &record.status_history;
    for (i, pair) in history.windows(2).enumerate() {
        let (before, entry) = (&pair[0], &pair[1]);
        let field = |name: &str| format!("statusHistory[{}].{name}", i + 1);
        if entry.at < before.at {
            return Err(ApiError::bad_input(
                field("at"),
                "the history is oldest first",
            ));
        }
        if entry.from_status != Some(before.to_status)
            || entry.from_monitoring != before.to_monitoring
        {
            return Err(ApiError::bad_input(
                field("fromStatus"),
                "an entry starts where the one before it ended",
            ));
        }
    }
    if let Some(last) = history.last()
        && (last.to_status != record.status || last.to_monitoring != record.monitoring)
    {
        return Err(ApiError::bad_input(
            "status",
            "the status and monitoring are where the last entry of the history ends",
        ));
    }
    for (i, entry) in history.iter().enumerate() {
        if entry.reason.chars().count() > 500 || entry.actor.trim().is_empty() {
            return Err(ApiError::bad_input(
                format!("statusHistory[{i}]"),
                "an entry names who made it and gives a reason of at most 500 characters",
            ));
        }
    }
    Ok(())
}

/// The plan checked as `addMeasure` checks a measure; done exactly when it has a day done.
fn checked_plan(records: &[MeasureRecord]) -> ApiResult<Vec<MeasureRecord>> {
    let mut plan: Vec<MeasureRecord> = Vec::with_capacity(records.len());
    for (i, m) in records.iter().enumerate() {
        let at = |name: &str| format!("plan[{i}].{name}");
        let checked = MeasureRecord {
            category: m.category,
            task: required_text(&m.task, &at("task"), MAX_TASK_CHARS)?,
            standard: required_text(&m.standard, &at("standard"), MAX_TASK_CHARS)?,
            responsible: required_text(&m.responsible, &at("responsible"), MAX_RESPONSIBLE_CHARS)?,
            deadline: check_deadline(m.deadline, &at("deadline"))?,
            funds_fen: m.funds_fen,
            status: m.status,
            completed_on: m.completed_on,
        };
        if checked.funds_fen < 0 {
            return Err(ApiError::bad_input(
                at("fundsFen"),
                "funds may not be negative",
            ));
        }
        if (checked.status == MeasureStatus::Done) != checked.completed_on.is_some() {
            return Err(ApiError::bad_input(
                at("completedOn"),
                "a measure has a day done exactly when it is done",
            ));
        }
        if plan
            .iter()
            .any(|p| p.category == checked.category && p.task == checked.task)
        {
            return Err(ApiError::bad_input(
                at("task"),
                "the same measure is listed twice",
            ));
        }
        plan.push(checked);
    }
    Ok(plan)
}

/// The writes to one household's card, keeping its revisions and the audit trail.
struct CardChange<'a> {
    txn: &'a DatabaseTransaction,
    household_id: i64,
    /// Whether anything was written yet.
    touched: bool,
    /// What the audit trail is to record, appended at the end in one statement.
    audited: Vec<Change<'static>>,
}

impl CardChange<'_> {
    /// Call before each write: the first keeps the card as it stood.
    async fn touch(&mut self) -> ApiResult<()> {
        if !self.touched {
            card::keep_before_change(self.txn, self.household_id).await?;
            self.touched = true;
        }
        Ok(())
    }

    fn audit(
        &mut self,
        action: &'static str,
        entity_type: &'static str,
        entity_id: i64,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        self.audited.push(Change {
            action,
            entity_type,
            entity_id,
            before,
            after,
        });
    }

    async fn causes(&mut self, main: PovertyCause, others: &[PovertyCause]) -> ApiResult<()> {
        let mut on_file: Vec<_> = household_cause::Entity::find()
            .filter(household_cause::Column::HouseholdId.eq(self.household_id))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|c| c.cause)
            .collect();
        on_file.sort();
        let mut wanted = others.to_vec();
        wanted.sort();
        wanted.dedup();
        if on_file == wanted {
            return Ok(());
        }
        self.touch().await?;
        replace_causes(self.txn, self.household_id, main, &wanted).await
    }

    /// Members matched by ID number, in the file's order (new ones get their
    /// IDs in it), except that a head stepping down goes first: the register
    /// holds one current head at a time.
    async fn members(&mut self, mut rows: Vec<(usize, member::Model)>) -> ApiResult<()> {
        let on_file = member::Entity::find()
            .filter(member::Column::HouseholdId.eq(self.household_id))
            .all(self.txn)
            .await?;
        let is_head = |m: &member::Model| m.is_active && m.relation == Relation::Head;
        let steps_down = |m: &member::Model| {
            !is_head(m)
                && on_file
                    .iter()
                    .any(|f| f.id_number == m.id_number && is_head(f))
        };
        rows.sort_by_key(|(_, m)| !steps_down(m));
        let mut fresh = Vec::new();
        for (i, mut row) in rows {
            row.household_id = self.household_id;
            match on_file.iter().find(|m| m.id_number == row.id_number) {
                Some(before) => {
                    row.id = before.id;
                    row.version = before.version;
                    row.created_at = before.created_at;
                    row.updated_at = before.updated_at;
                    if row == *before {
                        continue;
                    }
                    if row.is_active && !before.is_active {
                        let field = format!("members[{i}].idNumber");
                        ensure_not_on_file(self.txn, &field, &row.id_number, Some(before.id))
                            .await?;
                    }
                    self.touch().await?;
                    row.version += 1;
                    row.updated_at = Utc::now();
                    let saved = row.into_active_model().reset_all().update(self.txn).await?;
                    let (before, after) = (member_snapshot(before), member_snapshot(&saved));
                    self.audit(
                        "member.import",
                        "Member",
                        saved.id,
                        Some(before),
                        Some(after),
                    );
                }
                None => fresh.push((i, row)),
            }
        }
        self.new_members(fresh).await
    }

    /// Members new to the household, checked not to be current elsewhere and
    /// inserted with one statement, in the file's order.
    async fn new_members(&mut self, fresh: Vec<(usize, member::Model)>) -> ApiResult<()> {
        if fresh.is_empty() {
            return Ok(());
        }
        let current: Vec<&str> = fresh
            .iter()
            .filter(|(_, m)| m.is_active)
            .map(|(_, m)| m.id_number.as_str())
            .collect();
        let elsewhere = member::Entity::find()
            .filter(member::Column::IdNumber.is_in(current))
            .filter(member::Column::IsActive.eq(true))
            .one(self.txn)
            .await?;
        if let Some(other) = elsewhere
            && let Some((i, _)) = fresh.iter().find(|(_, m)| m.id_number == other.id_number)
        {
            let field = format!("members[{i}].idNumber");
            ensure_not_on_file(self.txn, &field, &other.id_number, None).await?;
        }
        self.touch().await?;
        let rows = fresh.into_iter().map(|(_, row)| {
            let mut active = row.into_active_model();
            active.id = sea_orm::ActiveValue::NotSet;
            active
        });
        let mut saved = member::Entity::insert_many(rows)
            .exec_with_returning(self.txn)
            .await?;
        saved.sort_by_key(|m| m.id);
        for member in saved {
            let after = Some(member_snapshot(&member));
            self.audit("member.import", "Member", member.id, None, after);
        }
        Ok(())
    }

    /// Incomes matched by year; new years go in with one statement.
    async fn incomes(&mut self, records: &[IncomeRecord]) -> ApiResult<()> {
        let on_file = household_income::Entity::find()
            .filter(household_income::Column::HouseholdId.eq(self.household_id))
            .all(self.txn)
            .await?;
        let mut fresh = Vec::new();
        for r in records {
            let before = on_file.iter().find(|i| i.year == r.year);
            if before.is_some_and(|b| IncomeRecord::from(b) == *r) {
                continue;
            }
            self.touch().await?;
            let mut row = household_income::Model {
                household_id: self.household_id,
                year: r.year,
                wage_fen: r.wage_fen,
                production_fen: r.production_fen,
                property_fen: r.property_fen,
                transfer_fen: r.transfer_fen,
                production_cost_fen: r.production_cost_fen,
                household_size: r.household_size,
                per_capita_net_fen: 0,
                version: before.map_or(1, |b| b.version + 1),
                updated_at: Utc::now(),
            };
            row.per_capita_net_fen =
                household_income::per_capita_net_fen(row.net_fen(), row.household_size);
            let after = Some(income_snapshot(&row));
            match before {
                Some(before) => {
                    row.into_active_model().reset_all().update(self.txn).await?;
                    let before = Some(income_snapshot(before));
                    self.audit(
                        "income.import",
                        "HouseholdIncome",
                        self.household_id,
                        before,
                        after,
                    );
                }
                None => {
                    fresh.push(row.into_active_model());
                    self.audit(
                        "income.import",
                        "HouseholdIncome",
                        self.household_id,
                        None,
                        after,
                    );
                }
            }
        }
        if !fresh.is_empty() {
            household_income::Entity::insert_many(fresh)
                .exec_without_returning(self.txn)
                .await?;
        }
        Ok(())
    }

    /// The history on file must be where the file's begins: the rest is appended.
    async fn history(&mut self, records: &[StatusRecord]) -> ApiResult<()> {
        let on_file: Vec<StatusRecord> = status_change::Entity::find()
            .filter(status_change::Column::HouseholdId.eq(self.household_id))
            .order_by_asc(status_change::Column::At)
            .order_by_asc(status_change::Column::Id)
            .all(self.txn)
            .await?
            .iter()
            .map(StatusRecord::from)
            .collect();
        if on_file.len() > records.len() || records[..on_file.len()] != on_file[..] {
            return Err(ApiError::bad_input(
                "statusHistory",
                format!(
                    "the status history is append-only: the file's must begin with the {} entries on record",
                    on_file.len()
                ),
            ));
        }
        for r in &records[on_file.len()..] {
            self.touch().await?;
            status_change::ActiveModel {
                household_id: Set(self.household_id),
                action: Set(r.action),
                from_status: Set(r.from_status),
                to_status: Set(r.to_status),
                from_monitoring: Set(r.from_monitoring),
                to_monitoring: Set(r.to_monitoring),
                year: Set(r.year),
                reason: Set(r.reason.clone()),
                proposal_id: Set(None),
                actor_id: Set(None),
                actor: Set(r.actor.trim().to_owned()),
                at: Set(r.at),
                ..Default::default()
            }
            .insert(self.txn)
            .await?;
        }
        Ok(())
    }

    async fn plan(&mut self, records: Vec<MeasureRecord>) -> ApiResult<()> {
        let on_file = measure::Entity::find()
            .filter(measure::Column::HouseholdId.eq(self.household_id))
            .all(self.txn)
            .await?;
        for r in records {
            let before = on_file
                .iter()
                .find(|m| m.category == r.category && m.task == r.task);
            if before.is_some_and(|b| MeasureRecord::from(b) == r) {
                continue;
            }
            self.touch().await?;
            let now = Utc::now();
            let mut row = measure::ActiveModel {
                household_id: Set(self.household_id),
                category: Set(r.category),
                task: Set(r.task),
                standard: Set(r.standard),
                responsible: Set(r.responsible),
                deadline: Set(r.deadline),
                funds_fen: Set(r.funds_fen),
                status: Set(r.status),
                completed_on: Set(r.completed_on),
                version: Set(before.map_or(1, |b| b.version + 1)),
                updated_at: Set(now),
                ..Default::default()
            };
            let saved = match before {
                Some(b) => {
                    row.id = Set(b.id);
                    row.created_at = Set(b.created_at);
                    row.update(self.txn).await?
                }
                None => {
                    row.created_at = Set(now);
                    row.insert(self.txn).await?
                }
            };
            let before = before.map(plan::snapshot);
            self.audit(
                "measure.import",
                "Measure",
                saved.id,
                before,
                Some(plan::snapshot(&saved)),
            );
        }
        Ok(())
    }
}
