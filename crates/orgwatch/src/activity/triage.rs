//! `orgwatch activity --no-store`: a one-shot triage report of files or stdin, without a
//! database, decoded on the worker pool.

use super::source::ignored_message;
use super::TABLE_TOP;
use crate::cli::ReportFormat;
use crate::config::{Config, ReadFrom};
use crate::source::dir::DirSource;
use crate::source::stdin::StdinSource;
use crate::source::{Found, Input, Item, Source};
use anyhow::{bail, Result};
use indicatif::ProgressBar;
use orgwatch_activity::{decode_file, decode_reader, Report};
use rayon::prelude::*;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Prints the report of what `from` holds: exit 0, or 2 when some input could not be read.
pub async fn run(from: &ReadFrom, format: ReportFormat, config: &Config) -> Result<ExitCode> {
    let found = match from {
        ReadFrom::Stdin => StdinSource::new(None).poll().await?,
        ReadFrom::Path(path) => {
            DirSource::logs(path, None, false, Duration::ZERO)
                .poll()
                .await?
        }
    }
    .unwrap_or_default();
    let Found { items, ignored, .. } = found;
    if items.is_empty() {
        let label = match from {
            ReadFrom::Stdin => "-".to_owned(),
            ReadFrom::Path(p) => p.display().to_string(),
        };
        bail!("no CloudTrail files (*.json, *.json.gz, *.jsonl, *.ndjson) under {label}");
    }
    let files = items
        .iter()
        .filter(|i| matches!(i.input, Input::File(_)))
        .count() as u64;
    let bar = crate::progress::files(config.progress, "activity", files, "{msg}");
    let (report, failed) = decode(items, &bar);
    bar.finish_and_clear();
    match format {
        ReportFormat::Json => crate::outln!("{}", report.to_json())?,
        ReportFormat::Table => crate::out!("{}", report.to_table(TABLE_TOP))?,
    }
    if let Some(msg) = ignored_message(&ignored, config.verbose > 0) {
        eprintln!("orgwatch activity: {msg}");
    }
    if report.undecodable > 0 && format == ReportFormat::Json {
        for reason in &report.undecodable_reasons {
            eprintln!("orgwatch activity: undecodable record: {reason}");
        }
    }
    for (name, err) in &failed {
        eprintln!("orgwatch activity: {name}: {err}");
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Decodes `items` on the worker pool and merges their reports; inputs that could not be
/// read come back with their error, in name order.
pub fn decode(items: Vec<Item>, bar: &ProgressBar) -> (Report, Vec<(String, String)>) {
    let events = AtomicU64::new(0);
    let started = Instant::now();
    let one = |item: Item| {
        let decoded = match item.input {
            Input::File(path) => decode_file(&path),
            Input::Stream(stream) => decode_reader(stream),
        };
        let out = match decoded {
            Ok(r) => {
                let n = events.fetch_add(r.events, Ordering::Relaxed) + r.events;
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{n} events, {:.0} events/s", n as f64 / secs));
                (r, Vec::new())
            }
            Err(e) => (Report::new(), vec![(item.name.to_string(), e.to_string())]),
        };
        bar.inc(1);
        out
    };
    let merge = |mut a: (Report, Vec<(String, String)>), b: (Report, Vec<(String, String)>)| {
        a.0.merge(b.0);
        a.1.extend(b.1);
        a
    };
    // Each worker adds its files' reports into an accumulator of its own (`fold`), and the
    // few accumulators are merged at the end: merging per file in a tree (`map` then
    // `reduce`) merged large reports into each other many times over.
    let empty = || (Report::new(), Vec::new());
    let (report, mut failed) = crate::pool::get().install(|| {
        items
            .into_par_iter()
            .fold(empty, |acc, item| merge(acc, one(item)))
            .reduce(empty, merge)
    });
    failed.sort();
    (report, failed)
}
