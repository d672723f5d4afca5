//! The divisions file (区划文件): one CSV row per county, township or village,
//! `code,name,povertyVillage,exitYear`, which `fupin regions import` reads
//! into an empty or existing register and `fupin regions export` writes; the
//! rules are `domain::region::import_divisions`.

use csv_async::{AsyncReaderBuilder, AsyncWriter, Trim};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};

use super::csv::{number_row, unreadable};
use crate::domain::region::{Division, DivisionRejection};

/// The divisions file's header.
const HEADER: [&str; 4] = ["code", "name", "povertyVillage", "exitYear"];

/// A row of the divisions file, as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    code: String,
    name: String,
    /// `true` or `false`; empty reads as `false`.
    #[serde(default, deserialize_with = "flag")]
    poverty_village: bool,
    #[serde(default)]
    exit_year: Option<i32>,
}

fn flag<'de, D: serde::Deserializer<'de>>(cells: D) -> Result<bool, D::Error> {
    let text = String::deserialize(cells)?;
    match text.trim() {
        "" | "false" => Ok(false),
        "true" => Ok(true),
        other => Err(serde::de::Error::custom(format!(
            "`{other}` is not true or false"
        ))),
    }
}

/// The divisions a file lists, each with its line (the header is line 1), and
/// the rows that could not be read; an error if the header is not the
/// divisions file's.
pub async fn read(
    source: impl AsyncRead + Unpin + Send,
) -> Result<(Vec<(u64, Division)>, Vec<DivisionRejection>), String> {
    let mut reader = AsyncReaderBuilder::new()
        .trim(Trim::All)
        .create_deserializer(source);
    let headers = reader.headers().await.cloned().map_err(|err| {
        let (_, reason) = unreadable(&err, &csv_async::StringRecord::new());
        format!("line 1, the header: {reason}")
    })?;
    for wanted in ["code", "name"] {
        if !headers.iter().any(|h| h == wanted) {
            return Err(format!(
                "line 1, the header: no `{wanted}` column (a divisions file begins `{}`)",
                HEADER.join(",")
            ));
        }
    }
    let (mut divisions, mut unread) = (Vec::new(), Vec::new());
    let mut row = csv_async::StringRecord::new();
    loop {
        let unreadable_row = |line: u64, err: &csv_async::Error| {
            let (column, reason) = unreadable(err, &headers);
            DivisionRejection {
                line,
                field: column.and_then(|c| HEADER.into_iter().find(|h| *h == c)),
                reason: format!("unreadable row: {reason}"),
            }
        };
        match reader.read_record(&mut row).await {
            Ok(false) => break,
            Ok(true) => {
                number_row(&mut row, reader.position());
                let line = row.position().map_or(0, |p| p.line());
                match row.deserialize::<Row>(Some(&headers)) {
                    Ok(read) => divisions.push((
                        line,
                        Division {
                            code: read.code,
                            name: read.name,
                            poverty_village: read.poverty_village,
                            exit_year: read.exit_year,
                        },
                    )),
                    Err(err) => unread.push(unreadable_row(line, &err)),
                }
            }
            Err(err) => {
                unread.push(unreadable_row(err.position().map_or(0, |p| p.line()), &err));
                if matches!(err.kind(), csv_async::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok((divisions, unread))
}

/// Writes `divisions` as a divisions file: the header even with none.
pub async fn write(
    divisions: Vec<Division>,
    out: impl AsyncWrite + Unpin + Send,
) -> anyhow::Result<()> {
    let mut writer = AsyncWriter::from_writer(out);
    writer.write_record(HEADER).await?;
    for d in divisions {
        let exit_year = d.exit_year.map(|y| y.to_string()).unwrap_or_default();
        let flag = if d.poverty_village { "true" } else { "false" };
        writer
            .write_record([d.code.as_str(), d.name.as_str(), flag, exit_year.as_str()])
            .await?;
    }
    writer.flush().await?;
    Ok(())
}
