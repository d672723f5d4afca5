//! The CSV form of the exchange record: one header, then for each household a
//! `household` row followed by its `member`, `income`, `status` and `measure`
//! rows. Columns are the keys of the NDJSON record; a row fills the columns of
//! its kind and leaves the rest empty. Lists (other causes) are separated by `;`.

use serde_json::{Map, Value};

use crate::domain::household::record::HouseholdRecord;
use crate::error::{ApiError, ApiResult};

/// How a cell's text becomes the record's value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Text,
    Integer,
    Decimal,
    Flag,
    List,
}

/// The kinds of row, and the key of the household record that holds the
/// rows of each kind other than the household itself.
pub const KINDS: [(&str, Option<&str>); 5] = [
    ("household", None),
    ("member", Some("members")),
    ("income", Some("incomes")),
    ("status", Some("statusHistory")),
    ("measure", Some("plan")),
];

/// The column naming a row's kind.
pub const KIND_COLUMN: &str = "record";

use Cell::{Decimal, Flag, Integer, List, Text};

/// Every column after `record`, in order: the household's, then each kind's
/// own (`status` and `year` serve more than one kind).
const COLUMNS: [(&str, Cell); 64] = [
    ("number", Text),
    ("village", Text),
    ("address", Text),
    ("phone", Text),
    ("attribute", Text),
    ("identificationStandard", Text),
    ("status", Text),
    ("enrolledYear", Integer),
    ("liftedOutYear", Integer),
    ("monitoring", Text),
    ("mainCause", Text),
    ("otherCauses", List),
    ("cultivatedLandMu", Decimal),
    ("housingAreaM2", Decimal),
    ("dilapidatedGrade", Text),
    ("safeDrinkingWater", Flag),
    ("productionElectricity", Flag),
    ("householdElectricity", Flag),
    ("roadDistanceKm", Decimal),
    ("joinedCooperative", Flag),
    ("foodSecure", Flag),
    ("clothingSecure", Flag),
    ("compulsoryEducationSecure", Flag),
    ("basicMedicalSecure", Flag),
    ("housingSecure", Flag),
    ("name", Text),
    ("idNumber", Text),
    ("gender", Text),
    ("relation", Text),
    ("ethnicity", Text),
    ("education", Text),
    ("studentStatus", Text),
    ("health", Text),
    ("disabilityGrade", Integer),
    ("labourAbility", Text),
    ("migrantWork", Text),
    ("migrantMonths", Integer),
    ("basicMedicalInsurance", Flag),
    ("seriousIllnessInsurance", Flag),
    ("basicPension", Flag),
    ("active", Flag),
    ("year", Integer),
    ("wageFen", Integer),
    ("productionFen", Integer),
    ("propertyFen", Integer),
    ("transferFen", Integer),
    ("productionCostFen", Integer),
    ("householdSize", Integer),
    ("at", Text),
    ("action", Text),
    ("fromStatus", Text),
    ("toStatus", Text),
    ("fromMonitoring", Text),
    ("toMonitoring", Text),
    ("decision", Text),
    ("reason", Text),
    ("actor", Text),
    ("category", Text),
    ("task", Text),
    ("standard", Text),
    ("responsible", Text),
    ("deadline", Text),
    ("fundsFen", Integer),
    ("completedOn", Text),
];

const LIST_SEPARATOR: char = ';';

fn internal(err: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("writing CSV: {err}"))
}

async fn write(rows: &[Vec<String>]) -> ApiResult<Vec<u8>> {
    let mut writer = csv_async::AsyncWriterBuilder::new()
        .has_headers(false)
        .create_writer(Vec::new());
    for row in rows {
        writer.write_record(row).await.map_err(internal)?;
    }
    writer.into_inner().await.map_err(internal)
}

/// The header line.
pub async fn header() -> ApiResult<Vec<u8>> {
    let names = std::iter::once(KIND_COLUMN).chain(COLUMNS.iter().map(|(name, _)| *name));
    write(&[names.map(str::to_owned).collect()]).await
}

/// The rows of one household.
pub async fn rows(record: &HouseholdRecord) -> ApiResult<Vec<u8>> {
    let Value::Object(mut fields) = serde_json::to_value(record).map_err(internal)? else {
        return Err(internal("a household record is an object"));
    };
    let mut rows = Vec::new();
    let children: Vec<(&str, Value)> = KINDS
        .iter()
        .filter_map(|(kind, key)| Some((*kind, fields.remove((*key)?)?)))
        .collect();
    rows.push(row("household", &fields));
    for (kind, items) in children {
        for item in items.as_array().into_iter().flatten() {
            if let Value::Object(item) = item {
                rows.push(row(kind, item));
            }
        }
    }
    write(&rows).await
}

fn row(kind: &str, fields: &Map<String, Value>) -> Vec<String> {
    std::iter::once(kind.to_owned())
        .chain(
            COLUMNS
                .iter()
                .map(|(name, _)| fields.get(*name).map(text).unwrap_or_default()),
        )
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(text)
            .collect::<Vec<_>>()
            .join(&LIST_SEPARATOR.to_string()),
        other => other.to_string(),
    }
}

/// A cell that cannot be read: its column and why.
pub struct CellError {
    pub column: String,
    pub reason: String,
}

/// A row read: its kind and its non-empty cells as record fields.
pub struct Row<'r> {
    pub kind: &'r str,
    pub fields: Map<String, Value>,
}

/// Where each column of a file's header is, checked against the known columns.
pub struct Layout {
    kind: usize,
    columns: Vec<(usize, &'static str, Cell)>,
}

impl Layout {
    /// The layout of a header, or why it cannot be read.
    pub fn of(header: &csv_async::StringRecord) -> Result<Layout, String> {
        let mut kind = None;
        let mut columns = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim();
            if name == KIND_COLUMN {
                kind = Some(i);
            } else if let Some((known, cell)) = COLUMNS.iter().find(|(known, _)| *known == name) {
                columns.push((i, *known, *cell));
            } else {
                return Err(format!("unknown column `{name}`"));
            }
        }
        let kind = kind.ok_or_else(|| format!("the header has no `{KIND_COLUMN}` column"))?;
        Ok(Layout { kind, columns })
    }

    /// Where the kind of a row is.
    pub fn kind_index(&self) -> usize {
        self.kind
    }

    /// A row's kind and its non-empty cells; a cell that cannot be read is
    /// an error naming its column.
    pub fn read<'r>(&self, row: &'r csv_async::StringRecord) -> Result<Row<'r>, CellError> {
        let kind = row.get(self.kind).unwrap_or("").trim();
        let mut fields = Map::new();
        for &(i, name, cell) in &self.columns {
            let raw = row.get(i).unwrap_or("").trim();
            if raw.is_empty() {
                continue;
            }
            let value = parse(cell, raw).ok_or_else(|| {
                let expected = match cell {
                    Integer => "a whole number",
                    Decimal => "a number",
                    Flag => "true or false",
                    Text | List => "text",
                };
                CellError {
                    column: name.to_owned(),
                    reason: format!("`{raw}` is not {expected}"),
                }
            })?;
            fields.insert(name.to_owned(), value);
        }
        Ok(Row { kind, fields })
    }
}

fn parse(cell: Cell, raw: &str) -> Option<Value> {
    Some(match cell {
        Text => Value::String(raw.to_owned()),
        Integer => Value::from(raw.parse::<i64>().ok()?),
        Decimal => Value::from(raw.parse::<f64>().ok().filter(|v| v.is_finite())?),
        Flag => Value::Bool(match raw.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return None,
        }),
        List => Value::Array(
            raw.split(LIST_SEPARATOR)
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
        ),
    })
}

/// Why the CSV reader could not read a row, without its own numbering of
/// records (the caller names the line, counted from 1 with the header as
/// line 1), and the column at fault when the reader knows it.
pub fn unreadable(
    err: &csv_async::Error,
    header: &csv_async::StringRecord,
) -> (Option<String>, String) {
    let column = |index: Option<usize>| index.and_then(|i| header.get(i)).map(str::to_owned);
    match err.kind() {
        csv_async::ErrorKind::Utf8 { err, .. } => (
            column(Some(err.field())),
            "the text is not UTF-8".to_owned(),
        ),
        csv_async::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => (
            None,
            format!("the row has {len} cells, the header {expected_len}"),
        ),
        csv_async::ErrorKind::Deserialize { err, .. } => (
            column(err.field().and_then(|i| usize::try_from(i).ok())),
            err.kind().to_string(),
        ),
        csv_async::ErrorKind::Io(err) => (None, err.to_string()),
        _ => (None, err.to_string()),
    }
}

/// Numbers `row`, just read, by the line it begins on, where the reader
/// numbers a row that follows blank lines by the first of them; `after` is
/// the reader's position past the row.
pub fn number_row(row: &mut csv_async::StringRecord, after: &csv_async::Position) {
    let Some(mut position) = row.position().cloned() else {
        return;
    };
    let inside: u64 = row
        .iter()
        .map(|field| field.matches('\n').count() as u64)
        .sum();
    // The row ends with its line's newline, unless it is the file's last line without one.
    let first = after.line().saturating_sub(1 + inside).max(position.line());
    position.set_line(first);
    row.set_position(Some(position));
}
