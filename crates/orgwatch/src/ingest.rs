//! `orgwatch ingest`: load every snapshot under `DIR/data/`, moving each file to `loaded/`
//! after its commit or to `failed/` (with the reason in the database, on stderr and in a
//! `.error.txt` beside it). The same from a bucket (`s3://BUCKET/PREFIX`: objects are moved
//! alike) or a queue of its S3 notifications (`sqs://QUEUE_URL`: a message is deleted once
//! its file is moved): [`from_remote`].
//!
//! Safe to kill at any moment: a file moves only after its transaction commits, and a file
//! found again after a crash is recognised by its SHA-256 and only moved.
//!
//! Safe to run several at once on one directory: each file is claimed (an exclusive lock,
//! [`crate::source::claim`]) before it is read and held until it has moved, and a file
//! another run holds, or has moved meanwhile, is left to it and counted as taken.

use crate::config::Remote;
use crate::source::claim::{claim, Claim, Claimed};
use crate::source::dir::DirSource;
use crate::source::s3::S3Source;
use crate::source::sqs::{Kind, SqsOptions, SqsSource};
use crate::source::{Input, Item, Outcome, Receipt, Source};
use anyhow::{Context, Result};
use futures_util::StreamExt;
use orgwatch_collect::remote::s3::Bucket;
use orgwatch_model::{read_located, AccountId, SnapshotLocation};
use orgwatch_store::{LoadOutcome, SnapshotInput, Store, Strategy};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

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
    /// Files loaded at once (on different accounts).
    pub jobs: usize,
    /// Most files a worker loads in one transaction (1: a transaction per file).
    pub batch_files: usize,
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
    /// Files another run was loading (or had moved) when this one came to them.
    pub taken: u64,
    /// What under `data/` is neither a file nor a directory (symlinks, FIFOs): skipped.
    pub special: Vec<String>,
    /// Rows written.
    pub rows: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl IngestSummary {
    /// Adds the counts of a later pass (a run reading a queue batch by batch).
    pub fn add(&mut self, pass: IngestSummary) {
        self.files += pass.files;
        self.loaded += pass.loaded;
        self.unchanged += pass.unchanged;
        self.superseded += pass.superseded;
        self.failed += pass.failed;
        self.taken += pass.taken;
        self.special.extend(pass.special);
        self.rows += pass.rows;
        self.seconds += pass.seconds;
    }
}

impl std::fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files: {} loaded, {} unchanged, {} superseded, {} failed, {} taken by another \
             run; {} rows in {:.1} s",
            self.files,
            self.loaded,
            self.unchanged,
            self.superseded,
            self.failed,
            self.taken,
            self.rows,
            self.seconds
        )?;
        if !self.special.is_empty() {
            write!(
                f,
                "; {} skipped (not a file: symlink, FIFO, …)",
                self.special.len()
            )?;
        }
        Ok(())
    }
}

/// A file read and parsed off the async runtime, ready for the database; `Ready` and `Bad`
/// hold the file's claim until it has moved.
enum Prepared {
    Ready {
        location: SnapshotLocation,
        snapshot: Box<orgwatch_model::Snapshot>,
        sha256: String,
        bytes: u64,
        claim: Claim,
    },
    Bad {
        account: Option<AccountId>,
        reason: String,
        claim: Claim,
    },
    /// Another run holds the file or has moved it: not this run's.
    Taken,
    /// The file could not even be opened to claim it: it stays in `data/` (unclaimed, it is
    /// not moved: another run may be trying too), counted as failed and named on stderr.
    Unreadable(String),
}

/// Claims, reads, hashes and parses one file (blocking I/O; run on the worker pool).
fn prepare(file: &Item, max_bytes: u64) -> Prepared {
    let Input::File(path) = &file.input else {
        return Prepared::Unreadable(format!("{} is not a file", file.name));
    };
    let claim = match claim(path) {
        Ok(Claimed::Mine(c)) => c,
        Ok(_) => return Prepared::Taken,
        Err(e) => return Prepared::Unreadable(format!("cannot open data/{}: {e}", file.name)),
    };
    let bad = |account, reason: String, claim| Prepared::Bad {
        account,
        reason,
        claim,
    };
    let location = match SnapshotLocation::parse(&file.name) {
        Ok(l) => l,
        Err(e) => {
            let account = file
                .name
                .split('/')
                .next()
                .and_then(|a| AccountId::parse(a).ok());
            return bad(account, e.to_string(), claim);
        }
    };
    let account = Some(location.account);
    let size = match claim.file().metadata() {
        Ok(m) => m.len(),
        Err(e) => return bad(account, format!("cannot read the file: {e}"), claim),
    };
    if size > max_bytes {
        let e = orgwatch_model::SnapshotError::TooLarge {
            size,
            limit: max_bytes,
        };
        return bad(account, e.to_string(), claim);
    }
    let mut bytes = Vec::with_capacity(size as usize);
    if let Err(e) = std::io::Read::read_to_end(&mut claim.file(), &mut bytes) {
        return bad(account, format!("cannot read the file: {e}"), claim);
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    match read_located(&bytes, &location) {
        Ok(snapshot) => Prepared::Ready {
            location,
            snapshot: Box::new(snapshot),
            sha256,
            bytes: bytes.len() as u64,
            claim,
        },
        Err(e) => bad(account, e.to_string(), claim),
    }
}

/// Records a file's failure in the database, then moves it to `failed/` with its reason
/// (written first: see [`crate::source::dir::quarantine`]). The caller holds its claim.
async fn quarantine<S: Source>(
    store: &Store,
    source: &S,
    file: &Receipt,
    account: Option<AccountId>,
    reason: &str,
) -> Result<()> {
    let name = format!("data/{}", file.name);
    Store::retry_transient(|| store.record_failure(&name, account, reason))
        .await
        .with_context(|| format!("cannot record the failure of {name} (it stays in data/)"))?;
    source
        .ack(file, &Outcome::Failed(reason.to_owned()))
        .await?;
    eprintln!("orgwatch: quarantined {name}: {reason}");
    tracing::info!(file = %name, %reason, "quarantined");
    Ok(())
}

/// What became of one file.
enum FileResult {
    Loaded { rows: u64 },
    Unchanged,
    Superseded,
    Failed,
    Taken,
}

/// A file that parsed, waiting in a worker's batch (claimed until it is dropped, after it
/// has moved).
struct ReadyFile {
    file: Receipt,
    location: SnapshotLocation,
    snapshot: Box<orgwatch_model::Snapshot>,
    sha256: String,
    bytes: u64,
    name: String,
    _claim: Claim,
}

impl ReadyFile {
    fn input(&self) -> SnapshotInput<'_> {
        SnapshotInput {
            location: &self.location,
            snapshot: &self.snapshot,
            file_name: &self.name,
            sha256: &self.sha256,
            bytes: self.bytes,
        }
    }
}

/// Logs what a load did to a file and moves it to `loaded/`.
async fn finish<S: Source>(source: &S, f: &ReadyFile, outcome: LoadOutcome) -> Result<FileResult> {
    let name = &f.name;
    let result = match outcome {
        LoadOutcome::Loaded { rows, replaced, .. } => {
            tracing::info!(file = %name, rows, replaced = ?replaced, "loaded");
            FileResult::Loaded { rows }
        }
        LoadOutcome::Unchanged { .. } => {
            tracing::info!(file = %name, "already loaded");
            FileResult::Unchanged
        }
        LoadOutcome::Superseded { by_file, .. } => {
            tracing::warn!(file = %name, newer = %by_file, "older than the loaded snapshot; skipped");
            FileResult::Superseded
        }
    };
    source.ack(&f.file, &Outcome::Done).await?;
    Ok(result)
}

/// Loads one file in its own transaction, quarantining it if the database refuses its data.
/// An error means the database or the file system failed, not the file: it stays in `data/`.
async fn load_one<S: Source>(
    store: &Store,
    source: &S,
    opts: &IngestOptions,
    f: &ReadyFile,
) -> Result<FileResult> {
    let input = f.input();
    let loaded = Store::retry_transient(|| store.load_snapshot_with(&input, opts.strategy)).await;
    match loaded {
        Ok(outcome) => finish(source, f, outcome).await,
        Err(e) if e.is_bad_input() => {
            let reason = format!("the database refused the data: {e}");
            quarantine(store, source, &f.file, Some(f.location.account), &reason).await?;
            Ok(FileResult::Failed)
        }
        Err(e) => Err(e)
            .with_context(|| format!("cannot load {}; stopping (the file stays in data/)", f.name)),
    }
}

/// Loads a worker's pending files: together in one transaction when there are several, one
/// by one when that fails on a file's data (so only the bad file is quarantined).
async fn load_pending<S: Source>(
    store: &Store,
    source: &S,
    opts: &IngestOptions,
    pending: &mut Vec<ReadyFile>,
    results: &tokio::sync::mpsc::UnboundedSender<Result<FileResult>>,
) -> bool {
    let files = std::mem::take(pending);
    if files.len() > 1 && opts.strategy == Strategy::Bulk {
        let inputs: Vec<SnapshotInput<'_>> = files.iter().map(ReadyFile::input).collect();
        match store.load_batch(&inputs).await {
            Ok(outcomes) => {
                for (f, outcome) in files.iter().zip(outcomes) {
                    if results.send(finish(source, f, outcome).await).is_err() {
                        return false;
                    }
                }
                return true;
            }
            Err(e) if e.is_bad_input() || e.is_transient() => {
                tracing::info!(error = %e, files = files.len(), "batch not loaded; loading its files one by one");
            }
            Err(e) => {
                let _ =
                    results
                        .send(Err(e).context(
                            "cannot load a batch of files; stopping (they stay in data/)",
                        ));
                return false;
            }
        }
    }
    for f in &files {
        let r = load_one(store, source, opts, f).await;
        let fatal = r.is_err();
        if results.send(r).is_err() || fatal {
            return false;
        }
    }
    true
}

/// Loads the files of the accounts routed to it, in arrival order, batching what is queued.
async fn worker<S: Source + 'static>(
    store: Store,
    source: Arc<S>,
    opts: IngestOptions,
    mut queue: tokio::sync::mpsc::Receiver<(Receipt, Prepared)>,
    results: tokio::sync::mpsc::UnboundedSender<Result<FileResult>>,
) {
    let mut pending: Vec<ReadyFile> = Vec::new();
    loop {
        // Wait for work only when nothing is pending; otherwise take what is queued already
        // and load the batch as soon as the queue runs dry.
        let next = if pending.is_empty() {
            queue.recv().await
        } else {
            queue.try_recv().ok()
        };
        let Some((file, prep)) = next else {
            if pending.is_empty() {
                return;
            }
            if !load_pending(&store, &*source, &opts, &mut pending, &results).await {
                return;
            }
            continue;
        };
        match prep {
            Prepared::Taken => {
                if results.send(Ok(FileResult::Taken)).is_err() {
                    return;
                }
            }
            Prepared::Unreadable(reason) => {
                eprintln!("orgwatch: {reason}; it stays in data/");
                tracing::warn!(file = %file.name, %reason, "not opened");
                if results.send(Ok(FileResult::Failed)).is_err() {
                    return;
                }
            }
            Prepared::Bad {
                account,
                reason,
                claim,
            } => {
                let r = quarantine(&store, &*source, &file, account, &reason)
                    .await
                    .map(|()| FileResult::Failed);
                drop(claim);
                let fatal = r.is_err();
                if results.send(r).is_err() || fatal {
                    return;
                }
            }
            Prepared::Ready {
                location,
                snapshot,
                sha256,
                bytes,
                claim,
            } => {
                let key = (location.account, location.period().0, location.granularity);
                let conflict = pending.iter().any(|p| {
                    (
                        p.location.account,
                        p.location.period().0,
                        p.location.granularity,
                    ) == key
                });
                if conflict && !load_pending(&store, &*source, &opts, &mut pending, &results).await
                {
                    return;
                }
                let name = format!("data/{}", file.name);
                pending.push(ReadyFile {
                    file,
                    location,
                    snapshot,
                    sha256,
                    bytes,
                    name,
                    _claim: claim,
                });
                if pending.len() >= opts.batch_files.max(1)
                    && !load_pending(&store, &*source, &opts, &mut pending, &results).await
                {
                    return;
                }
            }
        }
    }
}

/// The worker that loads an account's files: all files of one account go to the same worker,
/// in run-date order, so "newest wins" and the account row see one writer at a time.
fn worker_for(prep: &Prepared, jobs: usize) -> usize {
    let account = match prep {
        Prepared::Ready { location, .. } => Some(location.account),
        Prepared::Bad { account, .. } => *account,
        Prepared::Taken | Prepared::Unreadable(_) => None,
    };
    account.map_or(0, |a| {
        a.as_str().bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        }) % jobs
    })
}

/// One pass over `data/`: every file found is loaded or quarantined, by `opts.jobs` workers.
/// Stops early (between files) when `stop` resolves.
pub async fn ingest_once(
    store: &Store,
    opts: &IngestOptions,
    stop: &mut (impl std::future::Future<Output = ()> + Unpin),
) -> Result<IngestSummary> {
    let source = Arc::new(DirSource::snapshots(&opts.root, opts.settle));
    let summary = ingest_from(store, &source, opts, stop).await?;
    Ok(summary.unwrap_or_default())
}

/// One poll of `source` (a directory pass, a bucket listing, a batch of notifications):
/// every snapshot it gives is loaded or quarantined, by `opts.jobs` workers, and
/// acknowledged to it after its commit. `None` when the source is exhausted. Stops early
/// (between files) when `stop` resolves.
pub async fn ingest_from<S: Source + 'static>(
    store: &Store,
    source: &Arc<S>,
    opts: &IngestOptions,
    stop: &mut (impl std::future::Future<Output = ()> + Unpin),
) -> Result<Option<IngestSummary>> {
    let started = Instant::now();
    let Some(found) = source.poll().await? else {
        return Ok(None);
    };
    let files = found.items;
    let mut summary = IngestSummary {
        files: files.len() as u64,
        special: found.special,
        ..Default::default()
    };
    let bar = crate::progress::files(
        opts.progress,
        "ingest",
        files.len() as u64,
        "{per_sec} eta {eta} {msg}",
    );

    // Read and parse a few files ahead on the worker pool while the database loads.
    let max = opts.max_file_bytes;
    let jobs = opts.jobs.max(1);
    let pool = crate::pool::get();
    let mut prepared = futures_util::stream::iter(files.into_iter().map(|f| {
        pool.run(move || {
            let p = prepare(&f, max);
            (f, p)
        })
    }))
    .buffered(8 + 2 * jobs);

    // Results come back unbounded so a worker never waits on the dispatcher that waits on it.
    let (result_tx, mut results) = tokio::sync::mpsc::unbounded_channel::<Result<FileResult>>();
    let mut queues = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        let (tx, rx) = tokio::sync::mpsc::channel::<(Receipt, Prepared)>(opts.batch_files.max(2));
        tokio::spawn(worker(
            store.clone(),
            source.clone(),
            opts.clone(),
            rx,
            result_tx.clone(),
        ));
        queues.push(tx);
    }
    drop(result_tx);

    let mut first_error = None;
    let mut record = |r: Result<FileResult>, summary: &mut IngestSummary| {
        match r {
            Ok(FileResult::Loaded { rows }) => {
                summary.loaded += 1;
                summary.rows += rows;
            }
            Ok(FileResult::Unchanged) => summary.unchanged += 1,
            Ok(FileResult::Superseded) => summary.superseded += 1,
            Ok(FileResult::Failed) => summary.failed += 1,
            Ok(FileResult::Taken) => summary.taken += 1,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        bar.inc(1);
    };
    loop {
        tokio::select! {
            biased;
            _ = &mut *stop => {
                bar.set_message("interrupted: finishing the files in flight");
                break;
            }
            Some(r) = results.recv() => {
                let failed = r.is_err();
                record(r, &mut summary);
                if failed {
                    break;
                }
            }
            next = prepared.next() => {
                let Some(joined) = next else { break };
                let (file, prep) = match joined {
                    Ok(done) => done,
                    Err(_) => anyhow::bail!("a file reader thread panicked"),
                };
                let queue = &queues[worker_for(&prep, jobs)];
                // A closed queue means its worker stopped on an error, reported in `results`.
                let _ = queue.send((file.receipt(), prep)).await;
            }
        }
    }
    // Let the workers finish what they were given, then collect the rest.
    drop(queues);
    while let Some(r) = results.recv().await {
        record(r, &mut summary);
    }
    bar.finish_and_clear();
    if let Some(e) = first_error {
        return Err(e);
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(Some(summary))
}

/// How long a receive from a queue waits for a message (long polling): also how long a
/// one-shot run waits before it decides the queue is empty, and how long Ctrl-C may wait.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Reads a bucket's `PREFIX/data/` (once, or with `watch` every that often) or a queue of
/// its notifications (until a receive finds nothing, or with `watch` until `stop`); with
/// `watch`, each pass that found files is printed. Returns the counts of the whole run.
pub async fn from_remote(
    store: &Store,
    remote: &Remote,
    aws: &orgwatch_collect::aws::AwsOptions,
    opts: &IngestOptions,
    watch: Option<Duration>,
    visibility: Duration,
    stop: &CancellationToken,
) -> Result<IngestSummary> {
    let base = orgwatch_collect::aws::base_config(aws).await;
    match remote {
        Remote::S3(url) => {
            let bucket = Bucket::new(&base, url.clone());
            let source = Arc::new(S3Source::snapshots(bucket, watch.is_some())?);
            passes(store, &source, opts, watch, stop).await
        }
        Remote::Sqs(url) => {
            let sqs = SqsOptions {
                wait: QUEUE_WAIT,
                visibility,
                follow: watch.is_some(),
            };
            let source = Arc::new(SqsSource::new(
                &base,
                url,
                Kind::Snapshots,
                store.clone(),
                sqs,
            )?);
            // The receive's own wait paces the passes.
            let pause = watch.map(|_| Duration::ZERO);
            passes(store, &source, opts, pause, stop).await
        }
    }
}

/// Polls `source` until it is exhausted, or (with `watch`) until `stop`.
async fn passes<S: Source + 'static>(
    store: &Store,
    source: &Arc<S>,
    opts: &IngestOptions,
    watch: Option<Duration>,
    stop: &CancellationToken,
) -> Result<IngestSummary> {
    let mut total = IngestSummary::default();
    loop {
        let pass = ingest_from(store, source, opts, &mut std::pin::pin!(stop.cancelled())).await?;
        let Some(pass) = pass else { break };
        if watch.is_some() && pass.files > 0 {
            crate::outln!("ingest: {pass}")?;
        }
        total.add(pass);
        if stop.is_cancelled() {
            break;
        }
        if let Some(pause) = watch.filter(|p| !p.is_zero()) {
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
    Ok(total)
}
