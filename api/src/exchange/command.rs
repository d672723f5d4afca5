//! `fupin export`, `fupin import` and `fupin regions`: the exchange from the
//! operator's command line, straight against the database, with a progress
//! bar on standard error.

use std::path::Path;

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
    anyhow::anyhow!("{err:?}")
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
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match output {
        Some(path) => Box::new(tokio::fs::File::create(path).await?),
        None => Box::new(tokio::io::stdout()),
    };
    let progress = bar(
        total,
        "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} households ({per_sec}, {eta} left)",
    );
    let (sender, mut receiver) = mpsc::channel(4);
    let writer = {
        let db = db.clone();
        tokio::spawn(async move { export::run(&db, select, format, sender).await })
    };
    let mut written = 0;
    while let Some(chunk) = receiver.recv().await {
        let chunk = chunk.map_err(failed)?;
        out.write_all(&chunk.bytes).await?;
        written += chunk.households;
        progress.inc(chunk.households);
    }
    out.flush().await?;
    writer.await?;
    progress.finish();
    Ok(written)
}

/// Imports `path` as the operator; the report says what became of each household.
pub async fn import_from(
    db: &DatabaseConnection,
    path: &Path,
    format: Format,
    mode: Mode,
    pace: &ImportPace,
) -> anyhow::Result<Report> {
    let file = tokio::fs::File::open(path).await?;
    let length = file.metadata().await?.len();
    let progress = bar(
        length,
        "{elapsed_precise} [{bar:40}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta} left)",
    );
    let source = progress.wrap_async_read(file);
    let report = import::run(
        db,
        &Viewer::operator(),
        &Actor::system("cli"),
        source,
        format,
        mode,
        pace,
    )
    .await
    .map_err(failed)?;
    progress.finish();
    Ok(report)
}

/// Reads the divisions file at `path` into the register as the operator,
/// unless `apply` is false; nothing is written if any row is rejected.
pub async fn import_divisions_from(
    db: &DatabaseConnection,
    path: &Path,
    apply: bool,
) -> anyhow::Result<DivisionsReport> {
    let file = tokio::fs::File::open(path).await?;
    let (listed, unread) = divisions::read(file).await?;
    let apply = apply && unread.is_empty();
    let mut report = region::import_divisions(db, &Actor::system("cli"), listed, apply)
        .await
        .map_err(failed)?;
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
    match output {
        Some(path) => divisions::write(all, tokio::fs::File::create(path).await?).await?,
        None => divisions::write(all, tokio::io::stdout()).await?,
    }
    Ok(count)
}
