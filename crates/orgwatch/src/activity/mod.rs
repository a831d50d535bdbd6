//! `orgwatch activity`: CloudTrail into the database (with live windows and anomaly scores),
//! or a triage report of files (`--no-store`) or of the database (no `--from`).

pub mod pipeline;
pub mod score;
pub mod stored;

use crate::cli::{ActivityArgs, ReportFormat};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use orgwatch_activity::{decode_file, decode_reader, Report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Threads decoding files at once (the project machine has 2 cores).
pub const THREADS: usize = 2;

/// Entries per count in the table form.
pub const TABLE_TOP: usize = 10;

/// File names read when walking a directory: CloudTrail JSON, plain or gzip. Anything else
/// (README, SOURCES.md, licence files) is left alone; a file named with `--from` is always read.
pub fn is_cloudtrail_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson")
}

/// The files under `from` to decode, in path order (a file is itself).
pub fn files_under(from: &Path) -> Result<(Vec<PathBuf>, u64)> {
    let meta =
        std::fs::metadata(from).with_context(|| format!("cannot read {}", from.display()))?;
    if !meta.is_dir() {
        return Ok((vec![from.to_owned()], 0));
    }
    let mut files = Vec::new();
    let mut ignored = 0;
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot list {}", from.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        if is_cloudtrail_name(&entry.file_name().to_string_lossy()) {
            files.push(entry.into_path());
        } else {
            ignored += 1;
        }
    }
    files.sort();
    Ok((files, ignored))
}

/// Decodes `files` on [`THREADS`] threads and merges their reports; files that could not be
/// read at all come back with their error, in path order.
pub fn decode_files(files: &[PathBuf], bar: &ProgressBar) -> (Report, Vec<(PathBuf, String)>) {
    let next = AtomicUsize::new(0);
    let events = AtomicU64::new(0);
    let failed = Mutex::new(Vec::new());
    let started = Instant::now();
    let mut total = Report::new();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS.min(files.len()).max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut report = Report::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        match decode_file(path) {
                            Ok(r) => {
                                let n = events.fetch_add(r.events, Ordering::Relaxed) + r.events;
                                report.merge(r);
                                let secs = started.elapsed().as_secs_f64().max(1e-3);
                                bar.set_message(format!(
                                    "{n} events, {:.0} events/s",
                                    n as f64 / secs
                                ));
                            }
                            Err(e) => failed
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push((path.clone(), e.to_string())),
                        }
                        bar.inc(1);
                    }
                    report
                })
            })
            .collect();
        for w in workers {
            match w.join() {
                Ok(r) => total.merge(r),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
    });
    let mut failed = failed.into_inner().unwrap_or_else(|p| p.into_inner());
    failed.sort();
    (total, failed)
}

/// Runs `orgwatch activity`: exit 0, or 2 when some files could not be read at all.
pub async fn run(args: &ActivityArgs, progress: bool, db_flag: Option<&str>) -> Result<ExitCode> {
    let events_shorter = match (args.keep_events.0, args.keep_minutes.0) {
        (Some(e), Some(m)) => e < m,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if events_shorter {
        bail!(
            "--keep-events must be at least --keep-minutes: per-minute API, principal and \
             source IP counts are read from the recent events"
        );
    }
    match &args.from {
        Some(from) if args.no_store => {
            triage(from, args.report.unwrap_or(ReportFormat::Table), progress)
        }
        Some(_) => {
            let store = crate::open_store(db_flag).await?;
            pipeline::run(&store, args, progress).await
        }
        None => {
            let store = crate::open_store(db_flag).await?;
            stored::run(&store, args).await
        }
    }
}

/// The one-shot triage report of files, without a database.
fn triage(from: &Path, format: ReportFormat, progress: bool) -> Result<ExitCode> {
    let (report, failed, ignored) = if from.as_os_str() == "-" {
        let stdin = std::io::stdin().lock();
        match decode_reader(stdin) {
            Ok(r) => (r, Vec::new(), 0),
            Err(e) => (Report::new(), vec![(PathBuf::from("-"), e.to_string())], 0),
        }
    } else {
        let (files, ignored) = files_under(from)?;
        if files.is_empty() {
            bail!(
                "no CloudTrail files (*.json, *.json.gz, *.jsonl, *.ndjson) under {}",
                from.display()
            );
        }
        let bar = files_bar(progress, files.len() as u64);
        let (report, failed) = decode_files(&files, &bar);
        bar.finish_and_clear();
        (report, failed, ignored)
    };
    match format {
        ReportFormat::Json => println!("{}", report.to_json()),
        ReportFormat::Table => print!("{}", report.to_table(TABLE_TOP)),
    }
    if ignored > 0 {
        eprintln!("orgwatch activity: {ignored} files not named *.json[.gz], *.jsonl, *.ndjson were ignored");
    }
    if report.undecodable > 0 && format == ReportFormat::Json {
        for reason in &report.undecodable_reasons {
            eprintln!("orgwatch activity: undecodable record: {reason}");
        }
    }
    for (path, err) in &failed {
        eprintln!("orgwatch activity: {}: {err}", path.display());
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// A progress bar over files, with a message slot for events/s.
pub fn files_bar(progress: bool, files: u64) -> ProgressBar {
    let bar = if progress {
        ProgressBar::new(files)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} activity [{bar:30}] {pos}/{len} files {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudtrail_names() {
        for yes in [
            "a.json",
            "a.json.gz",
            "x_CloudTrail_us-east-1_1.json.gz",
            "e.jsonl",
            "e.NDJSON.gz",
        ] {
            assert!(is_cloudtrail_name(yes), "{yes}");
        }
        for no in ["SOURCES.md", "LICENSE.upstream.txt", "a.gz", "json"] {
            assert!(!is_cloudtrail_name(no), "{no}");
        }
    }
}
