//! `fupin export`, `fupin import` and `fupin regions`: the exchange from the
//! operator's command line, straight against the database, with a progress
//! bar on standard error.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::import::{self, Mode, Report};
use super::{Format, divisions, export};
use crate::access::Viewer;
use crate::audit::Actor;
use crate::config::ImportPace;
use crate::domain::region::{self, DivisionsReport};
use crate::error::ApiError;

fn bar(length: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

fn failed(err: ApiError) -> anyhow::Error {
    anyhow::anyhow!(err.sentence())
}

/// A file to read, opened before any database is touched: a file that is
/// missing or cannot be read is told before a database is created or migrated.
pub struct Source {
    path: PathBuf,
    file: tokio::fs::File,
    length: u64,
}

impl Source {
    pub fn open(path: &Path) -> anyhow::Result<Source> {
        let cannot = || format!("cannot read {}", path.display());
        let file = std::fs::File::open(path).with_context(cannot)?;
        let metadata = file.metadata().with_context(cannot)?;
        if metadata.is_dir() {
            anyhow::bail!("cannot read {}: it is a directory", path.display());
        }
        Ok(Source {
            path: path.to_owned(),
            file: tokio::fs::File::from_std(file),
            length: metadata.len(),
        })
    }
}

/// An error of importing the file at `path`; one of its content (the field
/// `file`) is told as the file's.
fn refused(path: &Path, err: ApiError) -> anyhow::Error {
    match err {
        ApiError::BadUserInput {
            field: Some(field),
            message,
        } if field == "file" => anyhow::anyhow!("{}: {message}", path.display()),
        other => anyhow::anyhow!("cannot import {}: {}", path.display(), other.sentence()),
    }
}

/// Fails when any household was rejected, naming the file and the first one.
pub fn refuse_rejected_households(path: &Path, report: &Report) -> anyhow::Result<()> {
    if report.rejected == 0 {
        return Ok(());
    }
    let first = report
        .rejections
        .first()
        .map(|r| (r.line, r.field.as_deref(), r.reason.as_str()));
    let others = report.created + report.updated + report.unchanged;
    Err(rejected(
        report.rejected,
        "household",
        path,
        report.applied && others > 0,
        first,
    ))
}

/// Fails when any division was rejected (then nothing was written), naming
/// the file and the first one.
pub fn refuse_rejected_divisions(path: &Path, report: &DivisionsReport) -> anyhow::Result<()> {
    let first = report
        .rejections
        .first()
        .map(|r| (r.line, r.field, r.reason.as_str()));
    match first {
        Some(_) => Err(rejected(
            report.rejections.len() as u64,
            "division",
            path,
            false,
            first,
        )),
        None => Ok(()),
    }
}

/// `3 households rejected in FILE, ...; the first on line L, `field`: reason`.
fn rejected(
    count: u64,
    what: &str,
    path: &Path,
    others_imported: bool,
    first: Option<(u64, Option<&str>, &str)>,
) -> anyhow::Error {
    let plural = if count == 1 { "" } else { "s" };
    let kept = if others_imported {
        "the others were imported"
    } else {
        "nothing was written"
    };
    let first = match first {
        Some((line, field, reason)) => {
            let field = field.map(|f| format!(", `{f}`")).unwrap_or_default();
            format!("; the first on line {line}{field}: {reason}")
        }
        None => String::new(),
    };
    anyhow::anyhow!(
        "{count} {what}{plural} rejected in {}, {kept}{first}",
        path.display()
    )
}

/// Writes the register under `region` (all of it without one) to `output`,
/// or to standard output.
pub async fn export_to(
    db: &DatabaseConnection,
    region: Option<&str>,
    format: Format,
    output: Option<&Path>,
) -> anyhow::Result<u64> {
    let viewer = Viewer::operator();
    let select = export::households(db, &viewer, region)
        .await
        .map_err(failed)?;
    let total = export::count(db, select.clone()).await.map_err(failed)?;
    let (mut out, name) = create(output).await?;
    let progress = bar(
        total,
        "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} households ({per_sec}, {eta} left)",
    );
    let (sender, mut receiver) = mpsc::channel(4);
    let writer = {
        let db = db.clone();
        tokio::spawn(async move { export::run(&db, select, format, sender).await })
    };
    let cannot = || format!("cannot write {name}");
    let mut written = 0;
    while let Some(chunk) = receiver.recv().await {
        let chunk = chunk.map_err(failed)?;
        out.write_all(&chunk.bytes).await.with_context(cannot)?;
        written += chunk.households;
        progress.inc(chunk.households);
    }
    out.flush().await.with_context(cannot)?;
    writer.await?;
    progress.finish();
    Ok(written)
}

/// The file at `output`, created, or standard output; and its name for errors.
async fn create(
    output: Option<&Path>,
) -> anyhow::Result<(Box<dyn tokio::io::AsyncWrite + Unpin + Send>, String)> {
    Ok(match output {
        Some(path) => {
            let name = path.display().to_string();
            let file = tokio::fs::File::create(path)
                .await
                .with_context(|| format!("cannot create {name}"))?;
            (Box::new(file), name)
        }
        None => (
            Box::new(tokio::io::stdout()),
            "to standard output".to_owned(),
        ),
    })
}

/// Imports `source` as the operator; the report says what became of each household.
pub async fn import_from(
    db: &DatabaseConnection,
    source: Source,
    format: Format,
    mode: Mode,
    pace: &ImportPace,
) -> anyhow::Result<Report> {
    let progress = bar(
        source.length,
        "{elapsed_precise} [{bar:40}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta} left)",
    );
    let report = import::run(
        db,
        &Viewer::operator(),
        &Actor::system("cli"),
        progress.wrap_async_read(source.file),
        format,
        mode,
        pace,
    )
    .await
    .map_err(|err| refused(&source.path, err))?;
    progress.finish();
    Ok(report)
}

/// Reads the divisions file `source` into the register as the operator,
/// unless `apply` is false; nothing is written if any row is rejected.
pub async fn import_divisions_from(
    db: &DatabaseConnection,
    source: Source,
    apply: bool,
) -> anyhow::Result<DivisionsReport> {
    let (listed, unread) = divisions::read(source.file)
        .await
        .map_err(|reason| anyhow::anyhow!("{}: {reason}", source.path.display()))?;
    let apply = apply && unread.is_empty();
    let mut report = region::import_divisions(db, &Actor::system("cli"), listed, apply)
        .await
        .map_err(|err| refused(&source.path, err))?;
    report.rejections.extend(unread);
    report.rejections.sort_by_key(|r| r.line);
    Ok(report)
}

/// Writes every division of the register as a divisions file to `output`,
/// or to standard output; returns how many.
pub async fn export_divisions_to(
    db: &DatabaseConnection,
    output: Option<&Path>,
) -> anyhow::Result<usize> {
    let all = region::all_divisions(db).await.map_err(failed)?;
    let count = all.len();
    let (out, name) = create(output).await?;
    divisions::write(all, out)
        .await
        .with_context(|| format!("cannot write {name}"))?;
    Ok(count)
}
