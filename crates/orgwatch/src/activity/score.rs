//! Scoring closed minute windows against the store: the counts of every window the watermark
//! closed are read, a chunk at a time, and scored by [`orgwatch_activity::scorer`] (which
//! holds the detector and what it scored); scores and the detector are saved together.
//!
//! The detector lives in the database (its header in `activity_state.detector`, a row per
//! scope in `activity_detector_scopes`), not in the process: a
//! restart continues from the last checkpoint with no warm-up, and of two workers only the one
//! that read the current state advances it (the other reloads and carries on). A detector is
//! megabytes, so it is checkpointed at most every [`CHECKPOINT_EVERY`] (and at the end of a
//! run); windows scored since the last checkpoint are scored again after a crash, which
//! rewrites the same rows.
//!
//! Memory is bounded by the scopes active recently, not by the accounts: a checkpoint writes
//! only the scopes that changed, scopes are read from the store when their account is
//! active (restarts read only the header), and when more than `resident_scopes` are in
//! memory a checkpoint is taken and the longest idle ones leave memory (parked: their
//! saved part continues them exactly).

use anyhow::{Context, Result};
use orgwatch_activity::anomaly::{AlarmKind, Detector, DetectorConfig, WindowCounts};
use orgwatch_activity::scorer;
use orgwatch_activity::MinuteCounter;
use orgwatch_model::activity::from_epoch_s;
use orgwatch_model::Timestamp;
use orgwatch_store::activity::DetectorToSave;
use orgwatch_store::Store;
use std::time::{Duration, Instant};

pub use orgwatch_activity::scorer::Scored;

/// Most event-time minutes read from the store and scored at once. Their counts are all held
/// at once: 6 hours of them, taken from a backlog, raised a long run's memory by 60 MB for a
/// moment; 10 minutes cost one more small query per 10 minutes scored.
const CHUNK_MINUTES: i64 = 10;

/// Wall time between detector checkpoints.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);

/// Scores closed windows of the store and checkpoints the detector.
pub struct Scorer {
    scorer: scorer::Scorer,
    /// The `scored_until` stored with the detector this one started from.
    saved_until: Option<Timestamp>,
    last_save: Instant,
    /// Most scopes held in memory after a chunk is scored.
    resident_scopes: usize,
    /// The run's `--alarm`/`--no-alarm` switches, applied to every detector loaded.
    alarm_switches: Vec<(AlarmKind, bool)>,
}

impl Scorer {
    /// The scorer of the stored state (a saved detector, or a new one), holding at most
    /// `resident_scopes` scopes in memory between chunks, with the new-behaviour alarm kinds
    /// of `alarm_switches` switched on or off.
    pub async fn load(
        store: &Store,
        lateness: Duration,
        resident_scopes: usize,
        alarm_switches: &[(AlarmKind, bool)],
    ) -> Result<Scorer> {
        let (detector, saved_until) = saved_detector(store, alarm_switches).await?;
        Ok(Scorer {
            scorer: scorer::Scorer::new(detector, saved_until, lateness),
            saved_until,
            last_save: Instant::now(),
            resident_scopes: resident_scopes.max(1),
            alarm_switches: alarm_switches.to_vec(),
        })
    }

    /// Takes the counts of new events this process stored, so that scoring their windows
    /// needs no read of the stored events (unless another writer added to them).
    pub fn absorb(&mut self, counts: MinuteCounter) {
        self.scorer.absorb(counts);
    }

    /// Scores every window the watermark closed and not scored yet; checkpoints when the last
    /// one is older than [`CHECKPOINT_EVERY`], or always with `checkpoint`.
    pub async fn advance(&mut self, store: &Store, checkpoint: bool) -> Result<Scored> {
        let mut done = Scored::default();
        let state = store.activity_state().await?;
        if state.scored_until != self.saved_until {
            // Another worker saved meanwhile: continue from its detector.
            self.reload(store).await?;
        }
        if let Some(newest) = state.max_event_time {
            let until = self.scorer.closed_until(newest);
            // Jump over minutes without events (years, in a sparse archive).
            while let Some(next) = store.next_event_minute(self.scorer.next_minute()).await? {
                if next >= until {
                    break;
                }
                let end = (next + CHUNK_MINUTES * 60).min(until);
                let windows = windows(store, &mut self.scorer, next, end).await?;
                self.restore_absent(store, &windows).await?;
                done.extend(self.scorer.score(windows, from_epoch_s(end)?)?);
                if self.scorer.detector().resident_scopes() > self.resident_scopes {
                    self.park(store).await?;
                }
            }
        }
        self.scorer.forget_scored();
        if checkpoint || self.last_save.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint(store).await?;
        }
        Ok(done)
    }

    /// Reads the saved scopes of the windows' accounts that are not in memory.
    async fn restore_absent(&mut self, store: &Store, windows: &[WindowCounts]) -> Result<()> {
        let absent = self.scorer.detector().absent_scopes(windows);
        if absent.is_empty() {
            return Ok(());
        }
        let parts = store.activity_detector_scopes(&absent).await?;
        self.scorer
            .detector_mut()
            .restore_scopes(&parts)
            .context(UNREADABLE)
    }

    /// Saves the changed scopes (a checkpoint) and drops the longest idle from memory, down
    /// to three quarters of `resident_scopes` (so that the next checkpoint is not at once).
    async fn park(&mut self, store: &Store) -> Result<()> {
        self.checkpoint(store).await?;
        let keep = self.resident_scopes - self.resident_scopes / 4;
        let parked = self.scorer.detector_mut().park(keep);
        tracing::debug!(
            parked,
            resident = self.scorer.detector().resident_scopes(),
            "anomaly detector scopes parked"
        );
        Ok(())
    }

    /// Continues from the stored detector (another worker's), keeping the counts of what this
    /// process stored.
    async fn reload(&mut self, store: &Store) -> Result<()> {
        let (detector, saved_until) = saved_detector(store, &self.alarm_switches).await?;
        self.scorer.restart(detector, saved_until);
        self.saved_until = saved_until;
        self.last_save = Instant::now();
        Ok(())
    }

    /// Saves the scores and the detector now, if anything was scored since the last save.
    pub async fn checkpoint(&mut self, store: &Store) -> Result<()> {
        let Some(until) = self.scorer.scored_until() else {
            return Ok(());
        };
        if Some(until) == self.saved_until {
            return Ok(());
        }
        let detector = self.scorer.detector();
        let to_save = DetectorToSave {
            header: detector.header(),
            parts: detector.unsaved_parts(),
        };
        let saved = store
            .save_scores(self.saved_until, until, to_save, self.scorer.pending())
            .await?;
        if saved {
            self.saved_until = Some(until);
            self.scorer.saved();
            self.last_save = Instant::now();
        } else {
            // Another worker saved first: its scores stand; continue from its detector.
            self.reload(store).await?;
        }
        Ok(())
    }
}

/// What to do about a saved detector that cannot be read.
const UNREADABLE: &str = "the saved anomaly detector cannot be read (DELETE FROM \
     activity_detector_scopes; DELETE FROM activity_state; starts a new one)";

/// The saved detector (or a new one) and the `scored_until` it was saved with: its header,
/// its scopes being read as their accounts are active, unless the header is of an earlier
/// format (then every scope is read now, and rewritten by the next checkpoint). Its alarm
/// kinds are switched as `alarm_switches` says (switches change no state: a saved detector
/// takes them).
async fn saved_detector(
    store: &Store,
    alarm_switches: &[(AlarmKind, bool)],
) -> Result<(Detector, Option<Timestamp>)> {
    let saved = store.activity_detector_header().await?;
    let mut detector = match &saved.bytes {
        Some(bytes) => Detector::from_bytes(bytes).context(UNREADABLE)?,
        None => Detector::new(DetectorConfig::default()),
    };
    if detector.needs_every_scope() {
        // Header and scopes read in one snapshot, as another worker may save meanwhile.
        let saved = store.activity_detector().await?;
        detector = match &saved.bytes {
            Some(bytes) => Detector::from_bytes(bytes).context(UNREADABLE)?,
            None => Detector::new(DetectorConfig::default()),
        };
        detector.restore_scopes(&saved.parts).context(UNREADABLE)?;
    }
    for &(kind, on) in alarm_switches {
        detector.set_alarm(kind, on);
    }
    Ok((detector, saved.scored_until))
}

/// The windows of `[from, until)` (epoch seconds): from the counts this process kept when
/// they hold every stored event of the range, else read from the stored events.
async fn windows(
    store: &Store,
    scorer: &mut scorer::Scorer,
    from: i64,
    until: i64,
) -> Result<Vec<WindowCounts>> {
    let range = (from_epoch_s(from)?, from_epoch_s(until)?);
    let stored = store.minute_totals(range.0, range.1).await?;
    match scorer.take_counted(from, until, &stored)? {
        Some(windows) => Ok(windows),
        None => Ok(store.minute_counts(range.0, range.1).await?),
    }
}

#[cfg(test)]
mod tests {
    //! The counts kept in memory against the stored events, on SQLite and PostgreSQL
    //! (`DATABASE_URL`).

    use super::*;
    use orgwatch_model::activity::{epoch_ms, Scope};
    use orgwatch_model::ActivityEvent;
    use std::collections::BTreeMap;

    orgwatch_test_support::on_both_backends!(store:
        counts_kept_in_memory_equal_the_stored_events,
        another_writers_events_make_the_scorer_read_the_store,
    );

    use orgwatch_test_support::store::{activity_file as file, mixed_events, store_as_two_writers};

    fn scorer_with(events: &[ActivityEvent]) -> scorer::Scorer {
        let config = DetectorConfig {
            trees: 10,
            ..DetectorConfig::default()
        };
        let mut scorer = scorer::Scorer::new(Detector::new(config), None, Duration::ZERO);
        let mut counts = MinuteCounter::default();
        for e in events {
            counts.add(e);
        }
        scorer.absorb(counts);
        scorer
    }

    fn range() -> (Timestamp, Timestamp, i64, i64) {
        let from = Timestamp::parse("2024-03-01T10:00:00Z").unwrap();
        let until = Timestamp::parse("2024-03-01T10:02:00Z").unwrap();
        (from, until, epoch_ms(from) / 1000, epoch_ms(until) / 1000)
    }

    async fn counts_kept_in_memory_equal_the_stored_events(store: Store) {
        let events = mixed_events();
        store.store_activity(&[file("f", &events)]).await.unwrap();
        let mut scorer = scorer_with(&events);
        let (from, until, from_s, until_s) = range();
        let read = store.minute_counts(from, until).await.unwrap();
        // Two accounts in each minute, and the account-less event ('(none)') in the first.
        assert_eq!(read.len(), 5);
        assert_eq!(read[0].scope, Scope::NoAccount);
        let stored = store.minute_totals(from, until).await.unwrap();
        let kept = scorer.take_counted(from_s, until_s, &stored).unwrap();
        assert_eq!(
            kept.as_ref(),
            Some(&read),
            "taken from the counter, as stored"
        );
        let mut scorer = scorer_with(&events);
        let windows = windows(&store, &mut scorer, from_s, until_s).await.unwrap();
        assert_eq!(windows, read);
        assert_eq!(
            scorer.take_counted(from_s, until_s, &BTreeMap::new()),
            Ok(Some(Vec::new())),
            "the scored windows left the counter"
        );
    }

    async fn another_writers_events_make_the_scorer_read_the_store(store: Store) {
        let events = mixed_events();
        let (mine, _) = store_as_two_writers(&store, &events, 25).await;
        // This writer counted only its own events: the counter does not hold the windows whole.
        let mut scorer = scorer_with(mine);
        let (from, until, from_s, until_s) = range();
        let stored = store.minute_totals(from, until).await.unwrap();
        assert_eq!(scorer.take_counted(from_s, until_s, &stored), Ok(None));
        let mut scorer = scorer_with(mine);
        let windows = windows(&store, &mut scorer, from_s, until_s).await.unwrap();
        assert_eq!(windows, store.minute_counts(from, until).await.unwrap());
        assert_eq!(windows.iter().map(|c| c.total).sum::<u64>(), 40);
        assert_eq!(
            scorer.take_counted(from_s, until_s, &BTreeMap::new()),
            Ok(Some(Vec::new())),
            "the windows left the counter all the same"
        );
    }
}
