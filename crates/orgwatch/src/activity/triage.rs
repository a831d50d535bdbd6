//! `orgwatch activity --no-store`: a one-shot triage report of files or stdin, without a
//! database, decoded on the worker pool.

use super::damage::Damage;
use super::source::ignored_message;
use super::TABLE_TOP;
use crate::cli::ReportFormat;
use crate::config::{Config, ReadFrom};
use crate::source::dir::DirSource;
use crate::source::stdin::StdinSource;
use crate::source::{Found, Input, Item, Source};
use anyhow::{bail, Result};
use indicatif::ProgressBar;
use orgwatch_activity::{decode_file_limited, decode_reader_limited, Report};
use rayon::prelude::*;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Prints the report of what `from` holds: exit 0, or 2 when a record was dropped or an
/// input could not be read to its end. Records longer than `max_record_bytes` are skipped.
pub async fn run(
    from: &ReadFrom,
    format: ReportFormat,
    max_record_bytes: usize,
    config: &Config,
) -> Result<ExitCode> {
    let found = match from {
        ReadFrom::Stdin => StdinSource::new(None).poll().await?,
        ReadFrom::Path(path) => {
            DirSource::logs(path, None, false, Duration::ZERO)
                .poll()
                .await?
        }
        // Refused by the configuration: a report without a store reads local input only.
        ReadFrom::Remote(r) => bail!("--no-store cannot read {r}"),
    }
    .unwrap_or_default();
    let Found { items, ignored, .. } = found;
    if items.is_empty() {
        let label = match from {
            ReadFrom::Stdin => "-".to_owned(),
            ReadFrom::Path(p) => p.display().to_string(),
            ReadFrom::Remote(r) => r.to_string(),
        };
        bail!("no CloudTrail files (*.json, *.json.gz, *.jsonl, *.ndjson) under {label}");
    }
    let files = items
        .iter()
        .filter(|i| matches!(i.input, Input::File(_)))
        .count() as u64;
    let bar = crate::progress::files(config.progress, "activity", files, "{msg}");
    let (report, damage) = decode(items, max_record_bytes, &bar);
    bar.finish_and_clear();
    match format {
        ReportFormat::Json => {
            let mut json = report.to_json();
            damage.annotate(&report, &mut json);
            crate::outln!("{json}")?;
        }
        ReportFormat::Table => crate::out!("{}", report.to_table(TABLE_TOP))?,
    }
    if let Some(msg) = ignored_message(&ignored, config.verbose > 0) {
        eprintln!("orgwatch activity: {msg}");
    }
    // Each file with undecodable records is named below with its first reason (the table
    // lists the first few reasons too).
    for line in damage.lines() {
        eprintln!("orgwatch activity: {line}");
    }
    Ok(if damage.any() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Decodes `items` on the worker pool and merges their reports, with the inputs that were
/// not read whole (their records before a failure are counted).
pub fn decode(items: Vec<Item>, max_record_bytes: usize, bar: &ProgressBar) -> (Report, Damage) {
    let events = AtomicU64::new(0);
    let started = Instant::now();
    let one = |item: Item| {
        let mut r = Report::new();
        let decoded = match item.input {
            Input::File(path) => decode_file_limited(&path, max_record_bytes, &mut r),
            Input::Stream(stream) => decode_reader_limited(stream, max_record_bytes, &mut r),
        };
        let mut damage = Damage::default();
        damage.add(&item.name, &r);
        if let Err(e) = decoded {
            damage.failed(&item.name, &e.to_string());
        }
        let n = events.fetch_add(r.events, Ordering::Relaxed) + r.events;
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!("{n} events, {:.0} events/s", n as f64 / secs));
        bar.inc(1);
        (r, damage)
    };
    let merge = |mut a: (Report, Damage), b: (Report, Damage)| {
        a.0.merge(b.0);
        a.1.merge(b.1);
        a
    };
    // Each worker adds its files' reports into an accumulator of its own (`fold`), and the
    // few accumulators are merged at the end: merging per file in a tree (`map` then
    // `reduce`) merged large reports into each other many times over.
    let empty = || (Report::new(), Damage::default());
    crate::pool::get().install(|| {
        items
            .into_par_iter()
            .fold(empty, |acc, item| merge(acc, one(item)))
            .reduce(empty, merge)
    })
}
