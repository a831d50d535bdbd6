//! `orgwatch demo`: a synthetic organisation written as A360 files, loaded like any other.

pub mod generate;
pub mod replay;

use crate::ingest::{ingest_once, IngestOptions, IngestSummary};
use anyhow::{Context, Result};
use generate::{DemoFile, DemoOptions};
use orgwatch_store::{Store, Strategy};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Writes every file of the organisation under `dir/data/` (each via a temporary name and a
/// rename, so a concurrent `ingest --watch` never sees half a file); returns the file count.
pub fn write_files(opts: &DemoOptions, dir: &Path, progress: bool) -> Result<u64> {
    let total = generate::file_count(opts);
    let bar = crate::progress::files(progress, "generate", total, "{per_sec}");
    let data = dir.join("data");
    let mut written = 0;
    for DemoFile { location, snapshot } in generate::files(opts) {
        let path = data.join(location.relative_path());
        let parent = path.parent().unwrap_or(&data);
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

/// The demo's one malformed delivery: a truncated file of the first account, dated the run
/// after the last, so the Ingest page has a quarantined file and its reason to show. It is
/// written only if no earlier run quarantined it, so a rerun adds no failure. Returns its
/// path under `data/` when written.
pub fn write_malformed(opts: &DemoOptions, dir: &Path) -> Result<Option<String>> {
    let Some(account) = generate::accounts(opts).into_iter().next() else {
        return Ok(None);
    };
    let location = orgwatch_model::SnapshotLocation {
        account: account.id,
        region: opts.regions.first().cloned(),
        run_date: opts.end_date + time::Duration::days(1),
        granularity: orgwatch_model::Granularity::Daily,
    };
    let name = location.relative_path();
    if dir.join("failed").join(&name).exists() {
        return Ok(None);
    }
    let path = dir.join("data").join(&name);
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    // Cut off mid-document, as an interrupted upload leaves a file.
    let text = format!(
        "{{\"account\": {{\"account_id\": \"{}\", \"account_name\": ",
        account.id
    );
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some(name))
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
    if let Some(name) = write_malformed(opts, dir)? {
        eprintln!(
            "orgwatch: and one truncated delivery, data/{name}, to show a quarantined file \
             on the Ingest page"
        );
    }
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

/// Prints one line per account and the organisation's totals: cost of the latest complete
/// day, month to date against the same days of the previous month, open findings by
/// severity (see [`orgwatch_store::OrgSummary`] for how each is defined).
pub async fn print_summary(store: &Store) -> Result<()> {
    let org = store.org_summary(&orgwatch_store::Access::All).await?;
    let Some(day) = org.day else {
        crate::outln!("no daily cost loaded yet")?;
        return print_totals(store, &org).await;
    };
    let ((m0, m1), (p0, p1)) = (
        org.month_to_date.unwrap_or((day, day)),
        org.previous_month_to_date.unwrap_or((day, day)),
    );
    crate::outln!("cost of {day}; month to date {m0}..{m1} against {p0}..{p1}; open Security Hub findings (latest state of each)")?;
    crate::outln!(
        "{:<14} {:<24} {:<10} {:>9} {:>12} {:>13} {:>13} {:>7} {:>5} {:>5} {:>11} {:>7}",
        "ACCOUNT",
        "NAME",
        "ENV",
        "SNAPSHOTS",
        "DAY COST $",
        "MTD $",
        "PREV MTD $",
        "MTD %",
        "CRIT",
        "HIGH",
        "COMPLIANCE%",
        "HEALTH"
    )?;
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.1}"));
    let money = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.2}"));
    for r in &org.accounts {
        crate::outln!(
            "{:<14} {:<24} {:<10} {:>9} {:>12} {:>13.2} {:>13.2} {:>7} {:>5} {:>5} {:>11} {:>7}",
            r.account_id,
            truncate(&r.name, 24),
            truncate(&r.environment, 10),
            r.snapshots,
            money(r.day_cost),
            r.month_to_date,
            r.previous_month_to_date,
            if org.comparable(r) {
                change(r.month_to_date, r.previous_month_to_date)
            } else {
                "-".to_owned()
            },
            r.open_findings.critical,
            r.open_findings.high,
            opt(r.latest_compliance),
            opt(r.mean_health),
        )?;
    }
    let open = org.open_findings();
    crate::outln!(
        "organisation: ${:.2} on {day}; ${:.2} month to date against ${:.2} ({}); \
         open findings: {} critical, {} high, {} medium, {} low, {} informational",
        org.day_cost(),
        org.month_to_date_cost(),
        org.previous_month_to_date_cost(),
        if org.all_comparable() {
            change(org.month_to_date_cost(), org.previous_month_to_date_cost())
        } else {
            "not compared: days missing".to_owned()
        },
        open.critical,
        open.high,
        open.medium,
        open.low,
        open.informational
    )?;
    print_totals(store, &org).await
}

/// The relative change from `before` to `now`, or `-` when there was nothing before.
fn change(now: f64, before: f64) -> String {
    if before.abs() < f64::EPSILON {
        "-".to_owned()
    } else {
        format!("{:+.1}%", (now - before) / before * 100.0)
    }
}

async fn print_totals(store: &Store, org: &orgwatch_store::OrgSummary) -> Result<()> {
    let total_rows: i64 = store.table_counts().await?.iter().map(|t| t.rows).sum();
    crate::outln!(
        "{} accounts, {} snapshots, {} rows in the database",
        org.accounts.len(),
        org.accounts.iter().map(|r| r.snapshots).sum::<i64>(),
        total_rows
    )?;
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
