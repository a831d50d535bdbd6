//! `orgwatch activity --from …` into the database: the stages wired together. A source
//! ([`super::source`]) lists files (or stdin), decoders ([`super::decode`]) turn them into
//! chunks of events on the worker pool, the writer ([`super::write`]) stores them in batches
//! (one transaction each), then the live windows and the anomaly scores
//! ([`super::scoring`]) advance.
//!
//! Crash safety comes from the store: a batch is all or nothing, events are de-duplicated on
//! (account, event id, event time), and a file enters the ledger with its last chunk — so a
//! kill at any point, and any rerun, counts every event exactly once.

use super::score::Scorer;
use super::scoring::Scoring;
use super::write::{Totals, Writer};
use super::TABLE_TOP;
use crate::cli::ReportFormat;
use crate::config::{ActivityConfig, Config, ReadFrom};
use crate::source::dir::DirSource;
use crate::source::stdin::StdinSource;
use crate::source::Source;
use anyhow::Result;
use indicatif::ProgressBar;
use orgwatch_activity::live::Live;
use orgwatch_store::Store;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often `--follow` looks for new files, and how long a file must be unchanged first.
const POLL: Duration = Duration::from_secs(2);

/// Runs `orgwatch activity --from …` into the store.
pub async fn run(
    store: &Store,
    activity: &ActivityConfig,
    from: &ReadFrom,
    follow: bool,
    report: Option<ReportFormat>,
    config: &Config,
) -> Result<ExitCode> {
    let stop = crate::shutdown::on_signal();
    let totals = match from {
        ReadFrom::Stdin => {
            let source = StdinSource::new(Some(store.clone()));
            read(store, source, activity, follow, "-", config, &stop).await?
        }
        ReadFrom::Path(path) => {
            // The ledger keys on whole paths: the same file read from elsewhere is the same.
            let root = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let settle = if follow { POLL } else { Duration::ZERO };
            let source = DirSource::logs(&root, Some(store.clone()), follow, settle);
            let label = path.display().to_string();
            read(store, source, activity, follow, &label, config, &stop).await?
        }
    };
    match report {
        Some(ReportFormat::Json) => {
            let mut json = totals.report.to_json();
            totals.damage.annotate(&totals.report, &mut json);
            crate::outln!("{json}")?;
        }
        Some(ReportFormat::Table) => crate::out!("{}", totals.report.to_table(TABLE_TOP))?,
        None => {}
    }
    eprintln!("activity: {totals}");
    for line in totals.damage.lines() {
        eprintln!("orgwatch activity: {line}");
    }
    // Exit 2 when a record was dropped (undecodable or oversized) or a file was not read
    // to its end, as `ingest` does for a refused file.
    Ok(if totals.failed == 0 && !totals.damage.any() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Reads `source` pass by pass (until it is exhausted, or interrupted with `follow`) into the
/// store; returns the totals.
async fn read<S: Source + 'static>(
    store: &Store,
    source: S,
    activity: &ActivityConfig,
    follow: bool,
    label: &str,
    config: &Config,
    stop: &CancellationToken,
) -> Result<Totals> {
    let mut live = Live::new(activity.lateness);
    live.resume(store.activity_state().await?.max_event_time);
    let scoring = Scoring::new(
        Scorer::load(
            store,
            activity.lateness,
            activity.resident_scopes,
            &activity.alarm_switches,
        )
        .await?,
        activity.lateness,
    );
    let mut writer = Writer {
        store,
        source: Arc::new(source),
        live,
        scoring,
        batch_files: activity.batch_files,
        max_record_bytes: activity.max_record_bytes,
        totals: Totals {
            started: Some(Instant::now()),
            ..Totals::default()
        },
        bar: ProgressBar::hidden(),
    };
    let mut first = true;
    let verbose = config.verbose > 0;
    while let Some(pass) =
        super::source::pass(&mut writer, first, follow, verbose, label, config.progress).await?
    {
        first = false;
        if pass.items > 0 && follow {
            store.prune_activity(&activity.retention).await?;
        }
        if !follow || pass.last || stop.is_cancelled() {
            break;
        }
        // Quiet: score what closed, and save the detector if the last checkpoint is old.
        let scored = writer.scoring.finish(store, false).await?;
        writer.totals.scored(&scored, &writer.bar);
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(POLL) => {}
        }
    }
    let scored = writer.scoring.finish(store, true).await?;
    writer.totals.scored(&scored, &writer.bar);
    store.prune_activity(&activity.retention).await?;
    writer.bar.finish_and_clear();
    Ok(writer.totals)
}
