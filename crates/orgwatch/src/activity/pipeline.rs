//! `orgwatch activity --from …` into the database: files (or stdin) decoded on two threads,
//! stored in batches (one transaction each), then the live windows and the anomaly scores
//! advance.
//!
//! Crash safety comes from the store: a batch is all or nothing, events are de-duplicated on
//! (account, event id, event time), and a file enters the ledger with its last chunk — so a
//! kill at any point, and any rerun, counts every event exactly once.

use super::score::{Scored, Scorer};
use super::{files_under, TABLE_TOP};
use crate::cli::{ActivityArgs, ReportFormat};
use anyhow::{bail, Result};
use indicatif::ProgressBar;
use orgwatch_activity::live::Live;
use orgwatch_activity::{decode_file_into, decode_reader_into, Report, Sink};
use orgwatch_model::ActivityEvent;
use orgwatch_store::activity::{
    prepare_activity, ActivityFile, ActivityStored, MinuteCounter, PreparedActivity,
};
use orgwatch_store::Store;
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;

/// Events per chunk: a bigger file is stored in several transactions (memory stays bounded).
pub const CHUNK_EVENTS: usize = 20_000;

/// Most events per database transaction. About two batches are held at once (one in the
/// database, one gathered or being counted into the live windows; rows are made as they are
/// bound), so this bounds memory. On the benchmark, 15,000 held 10 MB less and stored 10 %
/// slower; 50,000 held 70 MB more for 5 % more speed.
const BATCH_EVENTS: usize = 20_000;

/// Decoded chunks waiting for the writer (one file each, or [`CHUNK_EVENTS`] of a big one).
/// The writer takes several per batch; decoders are faster than the writer, so a longer queue
/// only holds more events (16 held 5 MB more on the benchmark, no faster).
const QUEUED_CHUNKS: usize = 8;

/// Longest wait for another chunk before a batch is stored anyway.
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// Threads decoding files at once.
const DECODERS: usize = super::THREADS;

/// How often `--follow` looks for new files, and how long a file must be unchanged first.
const POLL: Duration = Duration::from_secs(2);

/// With `--follow` on stdin, lines waiting longer than this are stored without waiting for
/// more.
const STDIN_FLUSH: Duration = Duration::from_millis(500);

/// Ledger name of stdin (never marked as read: stdin is never skipped).
const STDIN: &str = "(stdin)";

/// One piece of decoded input on its way to the store.
enum Msg {
    Chunk(Box<Chunk>),
    /// A file that could not be read at all.
    Failed {
        path: String,
        size: u64,
        reason: String,
    },
}

struct Chunk {
    path: Arc<str>,
    size: u64,
    events: Vec<ActivityEvent>,
    complete: bool,
    /// Counts of the chunk's records: its undecodable and skipped records, and the rows of
    /// `--report` (of what was read).
    report: Report,
}

/// Collects a file's records into chunks and sends each full one.
struct ChunkSink {
    tx: mpsc::Sender<Msg>,
    path: Arc<str>,
    size: u64,
    chunk: Chunk,
    /// Events collected: moved into an exact-size vector when sent, and reused. A vector
    /// grown by pushing holds up to twice its events' room, for every chunk in flight.
    events: Vec<ActivityEvent>,
}

impl ChunkSink {
    /// A sink for one input, collecting into `events` (empty; its room is reused).
    fn new(
        tx: mpsc::Sender<Msg>,
        path: Arc<str>,
        size: u64,
        events: Vec<ActivityEvent>,
    ) -> ChunkSink {
        let chunk = Chunk::new(path.clone(), size);
        ChunkSink {
            tx,
            path,
            size,
            chunk,
            events,
        }
    }

    /// The collecting vector, empty, for the next input.
    fn into_buffer(mut self) -> Vec<ActivityEvent> {
        self.events.clear();
        self.events
    }

    /// Sends what is collected (the last chunk of the input when `complete`).
    fn flush(&mut self, complete: bool) {
        let mut chunk =
            std::mem::replace(&mut self.chunk, Chunk::new(self.path.clone(), self.size));
        chunk.events = self.events.drain(..).collect();
        chunk.complete = complete;
        if complete || !chunk.events.is_empty() || chunk.report.records() > 0 {
            // A closed channel means the writer stopped (an error it reports itself).
            let _ = self.tx.blocking_send(Msg::Chunk(Box::new(chunk)));
        }
    }
}

impl Chunk {
    fn new(path: Arc<str>, size: u64) -> Chunk {
        Chunk {
            path,
            size,
            events: Vec::new(),
            complete: false,
            report: Report::new(),
        }
    }
}

impl Sink for ChunkSink {
    fn event(&mut self, ev: ActivityEvent) {
        self.chunk.report.add(&ev);
        self.events.push(ev);
        if self.events.len() >= CHUNK_EVENTS {
            self.flush(false);
        }
    }
    fn undecodable(&mut self, reason: String) {
        self.chunk.report.add_undecodable(reason);
    }
    fn skipped(&mut self, kind: &str) {
        self.chunk.report.add_skipped(kind);
    }
}

/// What a run stored, for the summary line.
#[derive(Debug, Default)]
pub struct Totals {
    /// Files read to their end.
    pub files: u64,
    /// Files skipped because the ledger has them at their current size.
    pub already: u64,
    /// Files that could not be read at all.
    pub failed: u64,
    /// Events stored and counted.
    pub new_events: u64,
    /// Events already stored.
    pub duplicates: u64,
    /// New events whose window had already closed (they amended it).
    pub late: u64,
    /// Minute windows scored.
    pub windows_scored: u64,
    /// Anomaly alarms raised.
    pub alarms: u64,
    /// Counts of everything read: events, undecodable and skipped records, the newest event
    /// time, and the rows of `--report`.
    pub report: Report,
    started: Option<Instant>,
}

impl Totals {
    /// Now minus the newest event time read: how far behind the source the store is.
    pub fn ingest_lag(&self) -> Option<Duration> {
        let newest = self.report.last_event_time?;
        let now = time::OffsetDateTime::now_utc();
        let lag = now - newest.get();
        Some(Duration::from_secs(lag.whole_seconds().max(0) as u64))
    }

    fn rate(&self) -> f64 {
        let secs = self
            .started
            .map_or(0.0, |s| s.elapsed().as_secs_f64())
            .max(1e-3);
        self.report.events as f64 / secs
    }

    /// Adds what the scorer did, logging each alarm.
    fn scored(&mut self, scored: &Scored, bar: &ProgressBar) {
        self.windows_scored += scored.windows;
        self.alarms += scored.alarms.len() as u64;
        for a in &scored.alarms {
            bar.suspend(|| {
                tracing::warn!(
                    time = %a.time, scope = %a.scope, series = %a.series, score = a.score,
                    contributor = %a.contributor, "activity anomaly"
                )
            });
        }
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} files read ({} already in the ledger, {} failed); {} events: {} new, {} duplicates, \
             {} late; {} undecodable, {} skipped; {} windows scored, {} alarms; {:.0} events/s",
            self.files,
            self.already,
            self.failed,
            self.report.events,
            self.new_events,
            self.duplicates,
            self.late,
            self.report.undecodable,
            self.report.skipped.values().sum::<u64>(),
            self.windows_scored,
            self.alarms,
            self.rate(),
        )?;
        if let (Some(newest), Some(lag)) = (self.report.last_event_time, self.ingest_lag()) {
            write!(
                f,
                "; newest event {newest}, ingest lag {}",
                humantime::format_duration(lag)
            )?;
        }
        Ok(())
    }
}

/// Stores chunks as they arrive and advances the live windows and scores.
struct Writer<'a> {
    store: &'a Store,
    live: Live,
    scoring: Scoring,
    batch_files: usize,
    totals: Totals,
    bar: ProgressBar,
}

impl Writer<'_> {
    /// Drains the channel, storing batches of up to `batch_files` chunks. One batch is in the
    /// database while the previous one goes to the live windows and the scorer, and the next
    /// is gathered: the writer's own work overlaps the database's.
    async fn drain(&mut self, rx: &mut mpsc::Receiver<Msg>) -> Result<()> {
        let mut in_flight: Option<InFlight> = None;
        while let Some(first) = rx.recv().await {
            let mut batch = Vec::new();
            // Recorded after the batch, so the ledger's error is not overwritten by the
            // failed file's earlier chunks.
            let mut failed = Vec::new();
            let mut events = 0;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Failed { path, size, reason } => {
                        self.bar
                            .suspend(|| eprintln!("orgwatch activity: {path}: {reason}"));
                        failed.push((path, size, reason));
                        self.totals.failed += 1;
                        self.bar.inc(1);
                    }
                    Msg::Chunk(c) => {
                        events += c.events.len();
                        batch.push(*c);
                    }
                }
                if batch.len() < self.batch_files && events < BATCH_EVENTS {
                    // Wait briefly for more: decoders are usually a file behind, and a batch
                    // of several files per transaction is what makes storing fast.
                    next = match rx.try_recv() {
                        Ok(m) => Some(m),
                        Err(_) => tokio::time::timeout(BATCH_WAIT, rx.recv())
                            .await
                            .ok()
                            .flatten(),
                    };
                }
            }
            if batch.is_empty() && failed.is_empty() {
                continue;
            }
            // Prepared on a blocking thread while the previous batch is still in the
            // database and this thread feeds the live windows and the scorer.
            let preparing = tokio::task::spawn_blocking(move || {
                let prepared = prepare_activity(&files_of(&batch));
                (batch, prepared)
            });
            let done = match in_flight.take() {
                Some(task) => Some(task.await??),
                None => None,
            };
            let (batch, prepared) = preparing.await?;
            in_flight = Some(spawn_store(self.store.clone(), batch, prepared, failed));
            if let Some((batch, stored)) = done {
                self.stored(batch, stored).await?;
            }
        }
        if let Some(task) = in_flight {
            let (batch, stored) = task.await??;
            self.stored(batch, stored).await?;
        }
        Ok(())
    }

    /// After a batch is stored: its new events go to the live windows, closed windows are
    /// scored, and the totals and progress bar advance.
    async fn stored(&mut self, batch: Vec<Chunk>, stored: ActivityStored) -> Result<()> {
        let fresh = batch.iter().zip(&stored.fresh).flat_map(|(c, mask)| {
            c.events
                .iter()
                .zip(mask)
                .filter(|(_, &n)| n)
                .map(|(e, _)| e)
        });
        self.live.add(fresh.clone());
        self.live.publish();
        for e in fresh {
            self.scoring.recent.add(e);
        }
        if let Some(scored) = self.scoring.poll(self.store).await? {
            self.totals.scored(&scored, &self.bar);
        }
        let t = &mut self.totals;
        t.new_events += stored.new_events;
        t.duplicates += stored.duplicates;
        t.late += stored.late_events;
        for c in batch {
            t.report.merge(c.report);
            if c.complete && &*c.path != STDIN {
                t.files += 1;
                self.bar.inc(1);
            }
        }
        let lag = t
            .ingest_lag()
            .map(|l| {
                format!(
                    ", lag {}",
                    humantime::format_duration(Duration::from_secs(l.as_secs() / 60 * 60))
                )
            })
            .unwrap_or_default();
        self.bar.set_message(format!(
            "{} events, {:.0} events/s{lag}",
            t.report.events,
            t.rate()
        ));
        Ok(())
    }
}

/// A batch being stored, with what the store said of it.
type InFlight = tokio::task::JoinHandle<Result<(Vec<Chunk>, ActivityStored)>>;

/// The scorer, advanced on a runtime worker while the writer goes on storing: scoring a
/// stretch of windows takes longer than storing a batch, and the writer must not wait.
struct Scoring {
    /// The scorer, when no advance is running.
    idle: Option<Scorer>,
    running: Option<tokio::task::JoinHandle<(Scorer, Result<Scored>)>>,
    /// Counts of stored events the scorer has not taken yet.
    recent: MinuteCounter,
    /// Most minutes of counts kept for the scorer before the writer waits for it: the windows
    /// the watermark keeps open, plus an hour. Without a bound, a scorer slower than the
    /// writer (a backlog read at full speed) falls ever further behind, and its counts grow
    /// with it.
    max_unscored_minutes: usize,
}

impl Scoring {
    fn new(scorer: Scorer, lateness: Duration) -> Scoring {
        Scoring {
            idle: Some(scorer),
            running: None,
            recent: MinuteCounter::default(),
            max_unscored_minutes: (lateness.as_secs() / 60) as usize + 60,
        }
    }

    /// Starts an advance unless one is running (then waits for it only if the scorer is too
    /// far behind); returns what a finished one did.
    async fn poll(&mut self, store: &Store) -> Result<Option<Scored>> {
        let behind = self.recent.minutes() > self.max_unscored_minutes;
        if self.running.as_ref().is_some_and(|r| !r.is_finished()) && !behind {
            return Ok(None);
        }
        let done = self.wait().await?;
        let mut scorer = self.idle.take().expect("the scorer is idle after wait");
        scorer.absorb(std::mem::take(&mut self.recent));
        let store = store.clone();
        self.running = Some(tokio::spawn(async move {
            let scored = scorer.advance(&store, false).await;
            (scorer, scored)
        }));
        Ok(done)
    }

    /// Waits for a running advance; returns what it did.
    async fn wait(&mut self) -> Result<Option<Scored>> {
        let Some(running) = self.running.take() else {
            return Ok(None);
        };
        let (scorer, scored) = running.await?;
        self.idle = Some(scorer);
        scored.map(Some)
    }

    /// Waits for a running advance, then advances once more with every count (and
    /// checkpoints with `checkpoint`); returns what both did.
    async fn finish(&mut self, store: &Store, checkpoint: bool) -> Result<Scored> {
        let mut out = self.wait().await?.unwrap_or_default();
        let scorer = self.idle.as_mut().expect("the scorer is idle after wait");
        scorer.absorb(std::mem::take(&mut self.recent));
        let last = scorer.advance(store, checkpoint).await?;
        out.windows += last.windows;
        out.alarms.extend(last.alarms);
        Ok(out)
    }
}

/// The ledger facts and events of a batch's chunks, as the store takes them.
fn files_of(batch: &[Chunk]) -> Vec<ActivityFile<'_>> {
    batch
        .iter()
        .map(|c| ActivityFile {
            path: &c.path,
            size: c.size,
            events: &c.events,
            undecodable: c.report.undecodable,
            skipped: &c.report.skipped,
            complete: c.complete,
        })
        .collect()
}

/// Stores a batch (one transaction) on a runtime worker, then records the files that failed.
fn spawn_store(
    store: Store,
    batch: Vec<Chunk>,
    prepared: PreparedActivity,
    failed: Vec<(String, u64, String)>,
) -> InFlight {
    tokio::spawn(async move {
        let stored = store
            .store_prepared_activity(&files_of(&batch), &prepared)
            .await?;
        for (path, size, reason) in failed {
            store.activity_file_failed(&path, size, &reason).await?;
        }
        Ok((batch, stored))
    })
}

/// Decodes `files` on [`DECODERS`] threads into the channel.
fn spawn_decoders(
    files: Vec<(PathBuf, u64)>,
    tx: mpsc::Sender<Msg>,
) -> Vec<std::thread::JoinHandle<()>> {
    let files = Arc::new(files);
    let next = Arc::new(AtomicUsize::new(0));
    (0..DECODERS.min(files.len()))
        .map(|_| {
            let (files, next, tx) = (files.clone(), next.clone(), tx.clone());
            std::thread::spawn(move || {
                let mut events = Vec::new();
                while let Some((path, size)) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    events = decode_file(path, *size, &tx, events);
                }
            })
        })
        .collect()
}

/// Decodes one file into the channel, collecting into `events`; returns it for the next.
fn decode_file(
    path: &Path,
    size: u64,
    tx: &mpsc::Sender<Msg>,
    events: Vec<ActivityEvent>,
) -> Vec<ActivityEvent> {
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let mut sink = ChunkSink::new(tx.clone(), name.clone(), size, events);
    match decode_file_into(path, &mut sink) {
        Ok(()) => sink.flush(true),
        Err(e) => {
            // Records before the failure were stored with earlier chunks (each counted once);
            // the file is recorded as failed.
            sink.flush(false);
            let _ = tx.blocking_send(Msg::Failed {
                path: name.to_string(),
                size,
                reason: e.to_string(),
            });
        }
    }
    sink.into_buffer()
}

/// What a listing found: files to read (with their size), files already in the ledger, and
/// files ignored for their name.
struct Listing {
    files: Vec<(PathBuf, u64)>,
    already: u64,
    ignored: u64,
}

/// Files under `root` not in the ledger at their current size (with `settle`, only files
/// unchanged for that long).
fn new_files(root: &Path, ledger: &HashMap<String, u64>, settle: Duration) -> Result<Listing> {
    let (files, ignored) = files_under(root)?;
    let mut out = Vec::new();
    let mut already = 0;
    for path in files {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let key = path.to_string_lossy();
        if ledger.get(key.as_ref()) == Some(&meta.len()) {
            already += 1;
            continue;
        }
        let fresh = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age < settle);
        if !fresh {
            out.push((path, meta.len()));
        }
    }
    // In time order, not path order (the S3 layout is account first): events then arrive
    // roughly as they happened, so each transaction adds to the newest end of the recent
    // events and to a few rollup windows instead of touching pages across the whole time
    // range, and the live windows close in order instead of every account after the first
    // amending them as late.
    out.sort_by_cached_key(|(path, _)| (log_time(path), path.clone()));
    Ok(Listing {
        files: out,
        already,
        ignored,
    })
}

/// The `yyyymmddThhmmZ` of a CloudTrail log file name
/// (`{account}_CloudTrail_{region}_{yyyymmddThhmmZ}_{random}.json.gz`), if it has one.
fn log_time(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    name.split('_')
        .find(|part| {
            let b = part.as_bytes();
            b.len() == 14
                && b[8] == b'T'
                && b[13] == b'Z'
                && b[..8].iter().chain(&b[9..13]).all(u8::is_ascii_digit)
        })
        .map(str::to_owned)
}

/// Runs `orgwatch activity --from …` into the store.
pub async fn run(store: &Store, args: &ActivityArgs, progress: bool) -> Result<ExitCode> {
    let from = args.from.clone().expect("pipeline needs --from");
    let retention = args.retention();
    let mut live = Live::new(args.lateness);
    live.resume(store.activity_state().await?.max_event_time);
    let scoring = Scoring::new(Scorer::load(store, args.lateness).await?, args.lateness);
    let stop = stop_flag();
    let mut writer = Writer {
        store,
        live,
        scoring,
        batch_files: usize::from(args.batch_files),
        totals: Totals {
            started: Some(Instant::now()),
            ..Totals::default()
        },
        bar: ProgressBar::hidden(),
    };
    if from.as_os_str() == "-" {
        writer.bar = super::files_bar(progress, 0);
        read_stdin(&mut writer, args.follow).await?;
    } else {
        let root = std::path::absolute(&from).unwrap_or(from.clone());
        if !root.exists() {
            bail!("cannot read {}: no such file or directory", from.display());
        }
        let mut first = true;
        loop {
            let ledger = store.activity_files().await?;
            let settle = if args.follow { POLL } else { Duration::ZERO };
            let Listing {
                files,
                already,
                ignored,
            } = new_files(&root, &ledger, settle)?;
            if first {
                writer.totals.already = already;
                if ignored > 0 {
                    eprintln!("orgwatch activity: {ignored} files not named *.json[.gz], *.jsonl, *.ndjson were ignored");
                }
                if files.is_empty() && already == 0 && !args.follow {
                    bail!(
                        "no CloudTrail files (*.json, *.json.gz, *.jsonl, *.ndjson) under {}",
                        from.display()
                    );
                }
                writer.bar = super::files_bar(progress, files.len() as u64);
            } else {
                writer.bar.inc_length(files.len() as u64);
            }
            first = false;
            if !files.is_empty() {
                let (tx, mut rx) = mpsc::channel(QUEUED_CHUNKS);
                let decoders = spawn_decoders(files, tx);
                writer.drain(&mut rx).await?;
                for d in decoders {
                    if let Err(p) = d.join() {
                        std::panic::resume_unwind(p);
                    }
                }
                store.prune_activity(&retention).await?;
            }
            if !args.follow || stop.load(Ordering::Relaxed) {
                break;
            }
            // Quiet: score what closed, and save the detector if the last checkpoint is old.
            let scored = writer.scoring.finish(store, false).await?;
            writer.totals.scored(&scored, &writer.bar);
            tokio::time::sleep(POLL).await;
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
    }
    let scored = writer.scoring.finish(store, true).await?;
    writer.totals.scored(&scored, &writer.bar);
    store.prune_activity(&retention).await?;
    writer.bar.finish_and_clear();
    let totals = writer.totals;
    match args.report {
        Some(ReportFormat::Json) => println!("{}", totals.report.to_json()),
        Some(ReportFormat::Table) => print!("{}", totals.report.to_table(TABLE_TOP)),
        None => {}
    }
    eprintln!("activity: {totals}");
    Ok(if totals.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// A flag set by Ctrl-C (checked between passes and batches).
fn stop_flag() -> Arc<std::sync::atomic::AtomicBool> {
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let set = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            set.store(true, Ordering::Relaxed);
        }
    });
    flag
}

/// Reads stdin: NDJSON line by line (stored every [`CHUNK_EVENTS`] lines, or after a pause of
/// [`STDIN_FLUSH`] with `--follow`), anything else as one streamed document.
async fn read_stdin(writer: &mut Writer<'_>, follow: bool) -> Result<()> {
    let (tx, mut rx) = mpsc::channel(2);
    let reader = std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut first = Vec::new();
        // The first non-empty line decides the form.
        loop {
            first.clear();
            match stdin.read_until(b'\n', &mut first) {
                Ok(0) => return,
                Ok(_) if first.trim_ascii().is_empty() => continue,
                Ok(_) => break,
                Err(e) => {
                    let _ = tx.blocking_send(Msg::Failed {
                        path: STDIN.to_owned(),
                        size: 0,
                        reason: format!("cannot read: {e}"),
                    });
                    return;
                }
            }
        }
        let ndjson = serde_json::from_slice::<serde_json::Value>(first.trim_ascii()).is_ok();
        if ndjson {
            ndjson_lines(first, stdin, tx, follow);
        } else {
            let mut sink = ChunkSink::new(tx.clone(), Arc::from(STDIN), 0, Vec::new());
            let whole = std::io::Cursor::new(first).chain(stdin);
            if let Err(e) = decode_reader_into(whole, &mut sink) {
                let _ = tx.blocking_send(Msg::Failed {
                    path: STDIN.to_owned(),
                    size: 0,
                    reason: e.to_string(),
                });
            }
            sink.flush(false);
        }
    });
    writer.drain(&mut rx).await?;
    if let Err(p) = reader.join() {
        std::panic::resume_unwind(p);
    }
    Ok(())
}

/// Decodes NDJSON lines in groups: a group is stored when it is full, or (with `follow`)
/// when no new line came for [`STDIN_FLUSH`], so a quiet stream is not held back.
fn ndjson_lines(
    first: Vec<u8>,
    mut stdin: std::io::StdinLock<'static>,
    tx: mpsc::Sender<Msg>,
    follow: bool,
) {
    let (lines_tx, lines_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(CHUNK_EVENTS);
    let grouper = std::thread::spawn(move || group_lines(lines_rx, tx, follow));
    let mut line = first;
    loop {
        if lines_tx.send(std::mem::take(&mut line)).is_err() {
            break;
        }
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    drop(lines_tx);
    if let Err(p) = grouper.join() {
        std::panic::resume_unwind(p);
    }
}

/// Decodes lines from `lines` in groups (see [`ndjson_lines`]).
fn group_lines(lines: std::sync::mpsc::Receiver<Vec<u8>>, tx: mpsc::Sender<Msg>, follow: bool) {
    let mut group = Vec::new();
    let mut count = 0;
    let flush = |group: &mut Vec<u8>| {
        let mut sink = ChunkSink::new(tx.clone(), Arc::from(STDIN), 0, Vec::new());
        // NDJSON input never fails as a whole: a bad line is one undecodable record.
        let _ = decode_reader_into(&group[..], &mut sink);
        sink.flush(false);
        group.clear();
    };
    let wait = if follow {
        STDIN_FLUSH
    } else {
        Duration::from_secs(3600)
    };
    loop {
        match lines.recv_timeout(wait) {
            Ok(line) => {
                group.extend_from_slice(&line);
                if !line.ends_with(b"\n") {
                    group.push(b'\n');
                }
                count += 1;
                if count >= CHUNK_EVENTS {
                    flush(&mut group);
                    count = 0;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if !group.is_empty() {
                    flush(&mut group);
                    count = 0;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if !group.is_empty() {
        flush(&mut group);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_files_sort_by_their_delivery_time_not_their_account() {
        let name = |p: &str| PathBuf::from(p);
        let a = name("AWSLogs/111111111111/CloudTrail/us-east-1/2024/03/01/111111111111_CloudTrail_us-east-1_20240301T1005Z_abc.json.gz");
        let b = name("AWSLogs/222222222222/CloudTrail/eu-west-1/2024/03/01/222222222222_CloudTrail_eu-west-1_20240301T1000Z_def.json.gz");
        assert_eq!(log_time(&a).as_deref(), Some("20240301T1005Z"));
        assert_eq!(log_time(&b).as_deref(), Some("20240301T1000Z"));
        assert_eq!(log_time(&name("events.ndjson")), None);
        assert_eq!(log_time(&name("x_2024030XT1000Z_y.json")), None);
        let mut files = vec![a.clone(), b.clone(), name("events.ndjson")];
        files.sort_by_cached_key(|p| (log_time(p), p.clone()));
        assert_eq!(files, [name("events.ndjson"), b, a]);
    }
}
