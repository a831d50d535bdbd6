//! `orgwatch ingest`: load every snapshot under `DIR/data/`, moving each file to `loaded/`
//! after its commit or to `failed/` (with the reason in the database, on stderr and in a
//! `.error.txt` beside it).
//!
//! Safe to kill at any moment: a file moves only after its transaction commits, and a file
//! found again after a crash is recognised by its SHA-256 and only moved.

use anyhow::{Context, Result};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use orgwatch_model::{read_located, AccountId, SnapshotLocation};
use orgwatch_store::{LoadOutcome, SnapshotInput, Store, Strategy};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How an ingest run behaves.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The directory holding `data/`.
    pub root: PathBuf,
    /// Files above this size are quarantined unread.
    pub max_file_bytes: u64,
    /// Skip files modified more recently than this (a writer may still be writing them).
    pub settle: Duration,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Write strategy (bulk, or row by row for the baseline benchmark).
    pub strategy: Strategy,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestSummary {
    /// Files seen.
    pub files: u64,
    /// Files committed.
    pub loaded: u64,
    /// Files already loaded with identical content.
    pub unchanged: u64,
    /// Files older than the loaded snapshot for their key.
    pub superseded: u64,
    /// Files quarantined.
    pub failed: u64,
    /// Rows written.
    pub rows: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl std::fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files: {} loaded, {} unchanged, {} superseded, {} failed; {} rows in {:.1} s",
            self.files,
            self.loaded,
            self.unchanged,
            self.superseded,
            self.failed,
            self.rows,
            self.seconds
        )
    }
}

/// A file read and parsed off the async runtime, ready for the database.
enum Prepared {
    Ready {
        location: SnapshotLocation,
        snapshot: Box<orgwatch_model::Snapshot>,
        sha256: String,
        bytes: u64,
    },
    Bad {
        account: Option<AccountId>,
        reason: String,
    },
}

/// A snapshot file found under `data/`.
#[derive(Debug, Clone)]
struct Found {
    path: PathBuf,
    /// Path relative to `data/`, with `/` separators.
    relative: String,
}

fn is_partial(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".partial")
}

/// Every regular file under `root/data`, oldest run date first so newer files replace older.
fn discover(root: &Path, settle: Duration) -> Result<Vec<Found>> {
    let data = root.join("data");
    if !data.is_dir() {
        anyhow::bail!(
            "{} has no data/ directory (expected DIR/data/{{account}}/...)",
            root.display()
        );
    }
    let now = SystemTime::now();
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&data).follow_links(false) {
        let entry = entry.with_context(|| format!("cannot list {}", data.display()))?;
        if !entry.file_type().is_file() || is_partial(&entry.file_name().to_string_lossy()) {
            continue;
        }
        if !settle.is_zero() {
            let modified = entry.metadata().ok().and_then(|m| m.modified().ok());
            if modified.is_some_and(|m| now.duration_since(m).unwrap_or_default() < settle) {
                continue;
            }
        }
        let rel = entry.path().strip_prefix(&data).unwrap_or(entry.path());
        let relative = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        found.push(Found {
            path: entry.into_path(),
            relative,
        });
    }
    found.sort_by_key(|f| {
        let loc = SnapshotLocation::parse(&f.relative).ok();
        (loc.map(|l| l.run_date), f.relative.clone())
    });
    Ok(found)
}

/// Reads, hashes and parses one file (blocking I/O; run off the runtime).
fn prepare(file: &Found, max_bytes: u64) -> Prepared {
    let location = match SnapshotLocation::parse(&file.relative) {
        Ok(l) => l,
        Err(e) => {
            let account = file
                .relative
                .split('/')
                .next()
                .and_then(|a| AccountId::parse(a).ok());
            return Prepared::Bad {
                account,
                reason: e.to_string(),
            };
        }
    };
    let account = Some(location.account);
    let size = match std::fs::metadata(&file.path) {
        Ok(m) => m.len(),
        Err(e) => {
            return Prepared::Bad {
                account,
                reason: format!("cannot read the file: {e}"),
            }
        }
    };
    if size > max_bytes {
        let e = orgwatch_model::SnapshotError::TooLarge {
            size,
            limit: max_bytes,
        };
        return Prepared::Bad {
            account,
            reason: e.to_string(),
        };
    }
    let bytes = match std::fs::read(&file.path) {
        Ok(b) => b,
        Err(e) => {
            return Prepared::Bad {
                account,
                reason: format!("cannot read the file: {e}"),
            }
        }
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    match read_located(&bytes, &location) {
        Ok(snapshot) => Prepared::Ready {
            location,
            snapshot: Box::new(snapshot),
            sha256,
            bytes: bytes.len() as u64,
        },
        Err(e) => Prepared::Bad {
            account,
            reason: e.to_string(),
        },
    }
}

/// Moves `data/REL` to `DEST/REL` under the root; a file someone else already moved is fine.
fn move_to(root: &Path, file: &Found, dest: &str) -> Result<PathBuf> {
    let target = root.join(dest).join(&file.relative);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match std::fs::rename(&file.path, &target) {
        Ok(()) => Ok(target),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(target),
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot move {} to {}",
                file.path.display(),
                target.display()
            )
        }),
    }
}

async fn quarantine(
    store: &Store,
    opts: &IngestOptions,
    file: &Found,
    account: Option<AccountId>,
    reason: &str,
) -> Result<()> {
    let name = format!("data/{}", file.relative);
    store
        .record_failure(&name, account, reason)
        .await
        .with_context(|| format!("cannot record the failure of {name}"))?;
    let target = move_to(&opts.root, file, "failed")?;
    let note = target.with_file_name(format!(
        "{}.error.txt",
        target
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::write(&note, format!("{reason}\n"))
        .with_context(|| format!("cannot write {}", note.display()))?;
    eprintln!("orgwatch: quarantined {name}: {reason}");
    tracing::info!(file = %name, %reason, "quarantined");
    Ok(())
}

/// One pass over `data/`: every file found is loaded or quarantined. Stops early (between
/// files) when `stop` resolves.
pub async fn ingest_once(
    store: &Store,
    opts: &IngestOptions,
    stop: &mut (impl std::future::Future<Output = ()> + Unpin),
) -> Result<IngestSummary> {
    let started = Instant::now();
    let files = discover(&opts.root, opts.settle)?;
    let mut summary = IngestSummary {
        files: files.len() as u64,
        ..Default::default()
    };
    let bar = if opts.progress {
        ProgressBar::new(files.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} ingest [{bar:30}] {pos}/{len} files {per_sec} eta {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );

    // Read and parse a few files ahead on blocking threads while the database loads in order.
    let max = opts.max_file_bytes;
    let mut prepared = futures_util::stream::iter(files.into_iter().map(|f| {
        tokio::task::spawn_blocking(move || {
            let p = prepare(&f, max);
            (f, p)
        })
    }))
    .buffered(4);

    loop {
        let next = tokio::select! {
            biased;
            _ = &mut *stop => {
                bar.abandon_with_message("interrupted");
                break;
            }
            next = prepared.next() => next,
        };
        let Some(joined) = next else { break };
        let (file, prep) = joined.context("a file reader thread panicked")?;
        match prep {
            Prepared::Bad { account, reason } => {
                quarantine(store, opts, &file, account, &reason).await?;
                summary.failed += 1;
            }
            Prepared::Ready {
                location,
                snapshot,
                sha256,
                bytes,
            } => {
                let name = format!("data/{}", file.relative);
                let input = SnapshotInput {
                    location: &location,
                    snapshot: &snapshot,
                    file_name: &name,
                    sha256: &sha256,
                    bytes,
                };
                match store.load_snapshot_with(&input, opts.strategy).await {
                    Ok(outcome) => {
                        match outcome {
                            LoadOutcome::Loaded {
                                rows, ref replaced, ..
                            } => {
                                summary.loaded += 1;
                                summary.rows += rows;
                                tracing::info!(file = %name, rows, replaced = ?replaced, "loaded");
                            }
                            LoadOutcome::Unchanged { .. } => {
                                summary.unchanged += 1;
                                tracing::info!(file = %name, "already loaded");
                            }
                            LoadOutcome::Superseded { ref by_file, .. } => {
                                summary.superseded += 1;
                                tracing::warn!(file = %name, newer = %by_file, "older than the loaded snapshot; skipped");
                            }
                        }
                        move_to(&opts.root, &file, "loaded")?;
                    }
                    Err(e) if e.is_bad_input() => {
                        let reason = format!("the database refused the data: {e}");
                        quarantine(store, opts, &file, Some(location.account), &reason).await?;
                        summary.failed += 1;
                    }
                    Err(e) => {
                        bar.abandon();
                        return Err(e).with_context(|| {
                            format!("cannot load {name}; stopping (the file stays in data/)")
                        });
                    }
                }
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
