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
use super::write::{OnStored, Totals, Writer};
use super::TABLE_TOP;
use crate::cli::ReportFormat;
use crate::config::{ActivityConfig, Config, ReadFrom, Remote};
use crate::source::dir::DirSource;
use crate::source::s3::S3Source;
use crate::source::sqs::{Kind, SqsOptions, SqsSource};
use crate::source::stdin::StdinSource;
use crate::source::Source;
use anyhow::Result;
use indicatif::ProgressBar;
use orgwatch_activity::live::Live;
use orgwatch_collect::remote::s3::Bucket;
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
            read(
                store,
                source,
                activity,
                &Reading::of(follow, "-", config),
                &stop,
            )
            .await?
        }
        ReadFrom::Remote(remote) => {
            let base = orgwatch_collect::aws::base_config(&remote.aws()).await;
            let label = remote.to_string();
            match remote {
                Remote::S3(url) => {
                    let bucket = Bucket::new(&base, url.clone());
                    let source = S3Source::logs(bucket, Some(store.clone()), follow)?;
                    let reading = Reading::of(follow, &label, config);
                    read(store, source, activity, &reading, &stop).await?
                }
                Remote::Sqs(url) => {
                    let opts = SqsOptions {
                        wait: crate::ingest::QUEUE_WAIT,
                        visibility: activity.visibility,
                        follow,
                    };
                    let source = SqsSource::new(&base, url, Kind::Logs, store.clone(), opts)?;
                    // Read batch after batch: the source itself says when the queue is
                    // empty (or, followed, waits on it).
                    let reading = Reading::of(true, &label, config);
                    read(store, source, activity, &reading, &stop).await?
                }
            }
        }
        ReadFrom::Path(path) => {
            // The ledger keys on whole paths: the same file read from elsewhere is the same.
            let root = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let settle = if follow { POLL } else { Duration::ZERO };
            let source = DirSource::logs(&root, Some(store.clone()), follow, settle);
            let label = path.display().to_string();
            let reading = Reading::of(follow, &label, config);
            read(store, source, activity, &reading, &stop).await?
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

/// How a source is read, besides the activity options.
pub struct Reading<'a> {
    /// Poll the source again (every 2 s) until it is exhausted or `stop` is cancelled.
    pub follow: bool,
    /// The source's name in messages.
    pub label: &'a str,
    /// Name every skipped input.
    pub verbose: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Count alarms without logging each (the demo's replay: the web app shows them).
    pub quiet: bool,
    /// Called after each committed batch (e.g. to tell the web app's live pages).
    pub on_stored: Option<OnStored>,
}

impl<'a> Reading<'a> {
    /// How `orgwatch activity --from` reads: as the command line says.
    fn of(follow: bool, label: &'a str, config: &Config) -> Reading<'a> {
        Reading {
            follow,
            label,
            verbose: config.verbose > 0,
            progress: config.progress,
            quiet: false,
            on_stored: None,
        }
    }
}

/// Reads `source` pass by pass (until it is exhausted, or interrupted with `follow`) into the
/// store; returns the totals.
pub async fn read<S: Source + 'static>(
    store: &Store,
    source: S,
    activity: &ActivityConfig,
    reading: &Reading<'_>,
    stop: &CancellationToken,
) -> Result<Totals> {
    let follow = reading.follow;
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
            quiet: reading.quiet,
            ..Totals::default()
        },
        bar: ProgressBar::hidden(),
        on_stored: reading.on_stored.clone(),
    };
    let mut first = true;
    while let Some(pass) = super::source::pass(
        &mut writer,
        first,
        follow,
        reading.verbose,
        reading.label,
        reading.progress,
    )
    .await?
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
        if pass.items > 0 {
            // More may be waiting already (a queue gives ten messages at a time).
            continue;
        }
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
