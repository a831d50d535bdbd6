//! The write stage: decoded chunks stored in batches, one transaction each, while the
//! previous batch goes to the live windows and the scorer; and the totals of a run.

use super::damage::Damage;
use super::decode::{Chunk, Msg};
use super::score::Scored;
use super::scoring::Scoring;
use crate::source::claim::Claim;
use crate::source::{Outcome, Receipt, Source};
use anyhow::Result;
use indicatif::ProgressBar;
use orgwatch_activity::live::Live;
use orgwatch_activity::Report;
use orgwatch_store::activity::{prepare_activity, ActivityFile, ActivityStored, PreparedActivity};
use orgwatch_store::Store;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Most events per database transaction. About two batches are held at once (one in the
/// database, one gathered or being counted into the live windows; rows are made as they are
/// bound), so this bounds memory; smaller batches store slower, larger ones hold much more
/// (`bench/README.md` has the sweep).
const BATCH_EVENTS: usize = 20_000;

/// Decoded chunks waiting for the writer (one file each, or [`super::decode::CHUNK_EVENTS`]
/// of a big one). The writer takes several per batch; decoders are faster than the writer, so
/// a longer queue only holds more events (16 held 5 MB more on the benchmark, no faster).
pub const QUEUED_CHUNKS: usize = 8;

/// Longest wait for another chunk before a batch is stored anyway.
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// What a run stored, for the summary line.
#[derive(Debug, Default)]
pub struct Totals {
    /// Files read to their end.
    pub files: u64,
    /// Files skipped because the ledger has them at their current size.
    pub already: u64,
    /// Files that could not be read at all.
    pub failed: u64,
    /// Files another run was reading, or had read since they were listed.
    pub taken: u64,
    /// What a directory held that is neither a file nor a directory (symlinks, FIFOs):
    /// skipped.
    pub special: u64,
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
    /// The inputs with dropped records, not read to their end, or empty, by name.
    pub damage: Damage,
    /// When the run started (for the rate).
    pub started: Option<Instant>,
    /// Alarms are counted, not logged one by one.
    pub quiet: bool,
}

impl Totals {
    /// Now minus the newest event time read: how far behind the source the store is.
    pub fn ingest_lag(&self) -> Option<Duration> {
        let newest = self.report.last_event_time?;
        let now = time::OffsetDateTime::now_utc();
        let lag = now - newest.get();
        Some(Duration::from_secs(lag.whole_seconds().max(0) as u64))
    }

    /// Events read per second so far.
    pub fn rate(&self) -> f64 {
        let secs = self
            .started
            .map_or(0.0, |s| s.elapsed().as_secs_f64())
            .max(1e-3);
        self.report.events as f64 / secs
    }

    /// Adds what the scorer did, logging each alarm.
    pub fn scored(&mut self, scored: &Scored, bar: &ProgressBar) {
        self.windows_scored += scored.windows;
        self.alarms += scored.alarms.len() as u64;
        if self.quiet {
            return;
        }
        for a in &scored.alarms {
            let e = a.explanation.as_ref();
            bar.suspend(|| {
                tracing::warn!(
                    time = %a.time, scope = %a.scope, series = %a.series, score = a.score,
                    contributor = %a.contributor, kind = e.map(|e| e.kind.as_str()),
                    observed = e.map(|e| e.observed), expected = e.map(|e| e.expected),
                    minutes = e.map(|e| e.minutes), "activity anomaly"
                )
            });
        }
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} files read ({} already in the ledger, {} failed, {} taken by another run, {} \
             not files); {} events: {} new, {} duplicates, {} late; {} undecodable, {} skipped; \
             {} windows scored, {} alarms; {:.0} events/s",
            self.files,
            self.already,
            self.failed,
            self.taken,
            self.special,
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
                short_duration(lag)
            )?;
        }
        Ok(())
    }
}

/// A hook called after each batch is committed (and its events are in the live windows).
pub type OnStored = Arc<dyn Fn() + Send + Sync>;

/// Stores chunks as they arrive and advances the live windows and scores.
pub struct Writer<'a, S> {
    /// The database.
    pub store: &'a Store,
    /// Where the chunks came from: told of the inputs that failed.
    pub source: Arc<S>,
    /// The live windows.
    pub live: Live,
    /// The scorer beside the writer.
    pub scoring: Scoring,
    /// Most chunks per transaction.
    pub batch_files: usize,
    /// Longest record (or NDJSON line) decoded; longer ones are skipped.
    pub max_record_bytes: usize,
    /// What the run did so far.
    pub totals: Totals,
    /// The progress bar.
    pub bar: ProgressBar,
    /// Called after each committed batch.
    pub on_stored: Option<OnStored>,
}

impl<S: Source + 'static> Writer<'_, S> {
    /// Drains the channel, storing batches of up to `batch_files` chunks. One batch is in the
    /// database while the previous one goes to the live windows and the scorer, and the next
    /// is gathered: the writer's own work overlaps the database's.
    pub async fn drain(&mut self, rx: &mut mpsc::Receiver<Msg>) -> Result<()> {
        let mut in_flight: Option<InFlight> = None;
        while let Some(first) = rx.recv().await {
            let mut batch = Vec::new();
            // Recorded after the batch, so the ledger's error is not overwritten by the
            // failed file's earlier chunks.
            let mut failed = Vec::new();
            let mut claims = Vec::new();
            let mut events = 0;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Failed {
                        path,
                        size,
                        reason,
                        claim,
                    } => {
                        self.bar
                            .suspend(|| eprintln!("orgwatch activity: {path}: {reason}"));
                        self.totals.damage.failed(&path, &reason);
                        let receipt = Receipt {
                            name: path,
                            size,
                            path: None,
                        };
                        failed.push((receipt, Outcome::Failed(reason)));
                        claims.extend(claim);
                        self.totals.failed += 1;
                        self.bar.inc(1);
                    }
                    Msg::Taken { read } => {
                        if let Some((name, size)) = read {
                            let item = Receipt {
                                name,
                                size,
                                path: None,
                            };
                            self.source.ack(&item, &Outcome::Done).await?;
                        }
                        self.totals.taken += 1;
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
            in_flight = Some(spawn_store(
                self.store.clone(),
                self.source.clone(),
                batch,
                prepared,
                failed,
                claims,
            ));
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
        if let Some(hook) = &self.on_stored {
            hook();
        }
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
            t.damage.add(&c.path, &c.report);
            t.report.merge(c.report);
            if c.complete && &*c.path != crate::source::stdin::STDIN {
                t.files += 1;
                self.bar.inc(1);
            }
        }
        let lag = t
            .ingest_lag()
            .map(|l| format!(", lag {}", short_duration(l)))
            .unwrap_or_default();
        self.bar.set_message(format!(
            "{} events, {:.0} events/s{lag}",
            t.report.events,
            t.rate()
        ));
        Ok(())
    }
}

/// The ledger facts and events of a batch's chunks, as the store takes them.
fn files_of(batch: &[Chunk]) -> Vec<ActivityFile<'_>> {
    batch
        .iter()
        .map(|c| ActivityFile {
            path: &c.path,
            size: c.size,
            offset: c.offset,
            events: &c.events,
            undecodable: c.report.undecodable,
            skipped: &c.report.skipped,
            complete: c.complete,
        })
        .collect()
}

/// Stores a batch (one transaction) on a runtime worker, then tells the source of the
/// inputs that failed (after the batch, so the ledger's error is not overwritten by the
/// failed file's earlier chunks) and of those read to their end, and only then lets go of
/// the failed files' `claims`.
fn spawn_store<S: Source + 'static>(
    store: Store,
    source: Arc<S>,
    batch: Vec<Chunk>,
    prepared: PreparedActivity,
    failed: Vec<(Receipt, Outcome)>,
    claims: Vec<Arc<Claim>>,
) -> InFlight {
    tokio::spawn(async move {
        let stored = store
            .store_prepared_activity(&files_of(&batch), &prepared)
            .await?;
        for (item, outcome) in &failed {
            source.ack(item, outcome).await?;
        }
        // A file whose last chunk is committed is in the ledger now: its source may forget
        // it (a queue deletes its message).
        for c in batch.iter().filter(|c| c.complete) {
            let item = Receipt {
                name: c.path.clone(),
                size: c.size,
                path: None,
            };
            source.ack(&item, &Outcome::Done).await?;
        }
        drop(claims);
        Ok((batch, stored))
    })
}

/// A batch being stored, with what the store said of it.
type InFlight = tokio::task::JoinHandle<Result<(Vec<Chunk>, ActivityStored)>>;

/// A duration in its two largest units (`3 years 6 months`, `2h 5m`, `40s`): a lag of
/// years is not read to the second.
pub fn short_duration(d: Duration) -> String {
    let whole = Duration::from_secs(d.as_secs());
    if whole.is_zero() {
        return "0s".to_owned();
    }
    humantime::format_duration(whole)
        .to_string()
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_show_their_two_largest_units() {
        let s = |secs| short_duration(Duration::from_secs(secs));
        assert_eq!(s(0), "0s");
        assert_eq!(s(40), "40s");
        assert_eq!(s(2 * 3600 + 5 * 60 + 3), "2h 5m");
        assert_eq!(s(3 * 365 * 86_400 + 200 * 86_400 + 7), "3years 6months");
    }
}
