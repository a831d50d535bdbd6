//! `orgwatch demo`: a synthetic organisation written as A360 files, loaded like any other.

pub mod generate;

use crate::ingest::{ingest_once, IngestOptions, IngestSummary};
use anyhow::{Context, Result};
use generate::{DemoFile, DemoOptions};
use indicatif::{ProgressBar, ProgressStyle};
use orgwatch_store::{Store, Strategy};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Writes every file of the organisation under `dir/data/` (each via a temporary name and a
/// rename, so a concurrent `ingest --watch` never sees half a file); returns the file count.
pub fn write_files(opts: &DemoOptions, dir: &Path, progress: bool) -> Result<u64> {
    let total = generate::file_count(opts);
    let bar = if progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} generate [{bar:30}] {pos}/{len} files {per_sec}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let data = dir.join("data");
    let mut written = 0;
    for DemoFile { location, snapshot } in generate::files(opts) {
        let path = data.join(location.relative_path());
        let parent = path.parent().expect("a relative path has a parent");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(&snapshot.to_json_pretty())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        drop(f);
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot rename {}", tmp.display()))?;
        written += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// Generates, ingests and returns the ingest summary.
pub async fn run(
    store: &Store,
    opts: &DemoOptions,
    dir: &Path,
    progress: bool,
) -> Result<IngestSummary> {
    let written = write_files(opts, dir, progress)?;
    eprintln!(
        "orgwatch: generated {written} snapshot files under {}",
        dir.join("data").display()
    );
    let ingest = IngestOptions {
        root: dir.to_path_buf(),
        max_file_bytes: 32 * 1024 * 1024,
        settle: Duration::ZERO,
        progress,
        strategy: Strategy::Bulk,
        jobs: crate::default_jobs(store),
        batch_files: 64,
    };
    ingest_once(
        store,
        &ingest,
        &mut std::pin::pin!(std::future::pending::<()>()),
    )
    .await
}

/// Prints one line per account and the totals.
pub async fn print_summary(store: &Store) -> Result<()> {
    let rows = store.account_summaries().await?;
    println!(
        "{:<14} {:<28} {:<12} {:>9} {:>14} {:>9} {:>11} {:>7}",
        "ACCOUNT", "NAME", "ENV", "SNAPSHOTS", "DAILY COST $", "CRITICAL", "COMPLIANCE%", "HEALTH"
    );
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.1}"));
    for r in &rows {
        println!(
            "{:<14} {:<28} {:<12} {:>9} {:>14.2} {:>9} {:>11} {:>7}",
            r.account_id,
            truncate(&r.name, 28),
            truncate(&r.environment, 12),
            r.snapshots,
            r.daily_cost_total,
            r.critical_findings,
            opt(r.latest_compliance),
            opt(r.mean_health),
        );
    }
    let total_rows: i64 = store.table_counts().await?.iter().map(|t| t.rows).sum();
    let cost: f64 = rows.iter().map(|r| r.daily_cost_total).sum();
    println!(
        "{} accounts, {} snapshots, ${:.2} total daily cost, {} rows in the database",
        rows.len(),
        rows.iter().map(|r| r.snapshots).sum::<i64>(),
        cost,
        total_rows
    );
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
