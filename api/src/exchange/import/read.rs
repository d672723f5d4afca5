//! Reading households from a file, each with where its parts are, so that a
//! rejection names the line and field at fault.

use std::collections::HashMap;

use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

use super::Rejection;
use crate::domain::household::record::HouseholdRecord;
use crate::error::{ApiError, ApiResult, Shown};
use crate::exchange::Format;
use crate::exchange::csv::{CellError, KIND_COLUMN, KINDS, Layout, Row, number_row, unreadable};

/// The longest NDJSON line read; a longer one is rejected unread.
const MAX_LINE_BYTES: u64 = 1 << 20;

/// Where a household's parts are in the file.
pub(super) enum Lines {
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

    pub(super) fn locate(&self, error: ApiError) -> Rejection {
        let shown = Shown::from(error);
        self.at(shown.field, shown.message)
    }
}

/// One household read from the file, or why it could not be read.
pub(super) struct Parsed {
    pub lines: Lines,
    pub record: Result<HouseholdRecord, Rejection>,
}

/// A record from its fields, with the path of the field at fault if it is not one.
fn record_of<'de, D: serde::Deserializer<'de, Error = serde_json::Error>>(
    lines: &Lines,
    input: D,
) -> Result<HouseholdRecord, Rejection> {
    serde_path_to_error::deserialize(input).map_err(|err| {
        let path = err.path().to_string();
        // `.` is the record itself, `?` a place the syntax never reached.
        let field = (path != "." && path != "?").then_some(path);
        lines.at(field, reason_of(err.inner()))
    })
}

/// serde_json's message; where in an NDJSON record's one line it went
/// wrong as a column, since the rejection names the line of the file.
fn reason_of(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&position) {
        Some(message) if err.line() > 0 => format!("{message} at column {}", err.column()),
        _ => text,
    }
}

pub(super) enum Reader<R> {
    Ndjson {
        lines: BufReader<R>,
        line: u64,
    },
    Csv {
        rows: csv_async::AsyncReader<R>,
        header: csv_async::StringRecord,
        layout: Layout,
        /// The household row that ended the previous household's rows.
        next: Option<csv_async::StringRecord>,
        /// Set when the file cannot be read further.
        broken: bool,
    },
}

impl<R: AsyncRead + Unpin + Send> Reader<R> {
    pub(super) async fn new(source: R, format: Format) -> ApiResult<Self> {
        Ok(match format {
            Format::Ndjson => Reader::Ndjson {
                lines: BufReader::new(source),
                line: 0,
            },
            Format::Csv => {
                let mut rows = csv_async::AsyncReaderBuilder::new()
                    .flexible(true)
                    .create_reader(source);
                let header = rows.headers().await.cloned().map_err(|err| {
                    let (_, reason) = unreadable(&err, &csv_async::StringRecord::new());
                    ApiError::bad_input("file", format!("line 1, the header: {reason}"))
                })?;
                let layout = Layout::of(&header).map_err(|reason| {
                    ApiError::bad_input("file", format!("line 1, the header: {reason}"))
                })?;
                Reader::Csv {
                    rows,
                    header,
                    layout,
                    next: None,
                    broken: false,
                }
            }
        })
    }

    pub(super) async fn next(&mut self) -> ApiResult<Option<Parsed>> {
        match self {
            Reader::Ndjson { lines, line } => next_line(lines, line).await,
            Reader::Csv {
                rows,
                header,
                layout,
                next,
                broken,
            } => next_rows(rows, header, layout, next, broken).await,
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
        // The record alone: serde_json would place an unfinished one on the next line.
        let record = bytes.trim_ascii_end();
        let record = record_of(&at, &mut serde_json::Deserializer::from_slice(record));
        return Ok(Some(Parsed { lines: at, record }));
    }
}

fn read_error(err: std::io::Error) -> ApiError {
    ApiError::Internal(format!("reading the import: {err}"))
}

async fn next_rows<R: AsyncRead + Unpin + Send>(
    rows: &mut csv_async::AsyncReader<R>,
    header: &csv_async::StringRecord,
    layout: &Layout,
    next: &mut Option<csv_async::StringRecord>,
    broken: &mut bool,
) -> ApiResult<Option<Parsed>> {
    let first = match next.take() {
        Some(row) => row,
        None => {
            let mut row = csv_async::StringRecord::new();
            match read_row(rows, header, &mut row, broken).await {
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
        match read_row(rows, header, &mut row, broken).await {
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
    header: &csv_async::StringRecord,
    row: &mut csv_async::StringRecord,
    broken: &mut bool,
) -> RowRead {
    if *broken {
        return RowRead::End;
    }
    match rows.read_record(row).await {
        Ok(true) => {
            number_row(row, rows.position());
            RowRead::Row
        }
        Ok(false) => RowRead::End,
        Err(err) => {
            *broken = true;
            let line = err.position().map_or(0, |p| p.line());
            let (field, reason) = unreadable(&err, header);
            RowRead::Broken(Rejection {
                line,
                field,
                reason: format!("the file cannot be read from here on: {reason}"),
            })
        }
    }
}

fn line_of(row: &csv_async::StringRecord) -> u64 {
    row.position().map_or(0, |p| p.line())
}
