//! Scoring closed minute windows: the stored counts of every window the watermark closed are
//! fed, in time order, to the anomaly detector; scores and the detector are saved together.
//!
//! The detector lives in the database (its header in `activity_state.detector`, a row per
//! scope in `activity_detector_scopes`), not in the process: a
//! restart continues from the last checkpoint with no warm-up, and of two workers only the one
//! that read the current state advances it (the other reloads and carries on). A detector is
//! megabytes, so it is checkpointed at most every [`CHECKPOINT_EVERY`] (and at the end of a
//! run); windows scored since the last checkpoint are scored again after a crash, which
//! rewrites the same rows.

use anyhow::{Context, Result};
use orgwatch_activity::anomaly::{Anomaly, Detector, DetectorConfig, Scope, Series, WindowCounts};
use orgwatch_model::Timestamp;
use orgwatch_store::activity::{
    epoch_ms, from_epoch_s, DetectorToSave, MinuteCounter, MinuteCounts, StoredAnomaly,
};
use orgwatch_store::Store;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Most event-time minutes read from the store and scored at once. Their counts are all held
/// at once: 6 hours of them, taken from a backlog, raised a long run's memory by 60 MB for a
/// moment; 10 minutes cost one more small query per 10 minutes scored.
const CHUNK_MINUTES: i64 = 10;

/// Wall time between detector checkpoints.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);

/// Scores closed windows and keeps the detector.
pub struct Scorer {
    lateness: Duration,
    detector: Detector,
    /// The `scored_until` stored with the detector this one started from.
    saved_until: Option<Timestamp>,
    /// Windows before this are scored (in memory, maybe not saved yet).
    scored_until: Option<Timestamp>,
    /// Scores not saved yet.
    pending: Vec<StoredAnomaly>,
    last_save: Instant,
    /// Counts of the events this process stored and not scored yet.
    recent: MinuteCounter,
}

/// What one [`Scorer::advance`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scored {
    /// Minute windows scored (with activity in at least one account).
    pub windows: u64,
    /// Scores over the alarm threshold.
    pub alarms: Vec<Anomaly>,
}

impl Scorer {
    /// The scorer of the stored state (a saved detector, or a new one).
    pub async fn load(store: &Store, lateness: Duration) -> Result<Scorer> {
        let saved = store.activity_detector().await?;
        let unreadable = "the saved anomaly detector cannot be read (DELETE FROM \
             activity_detector_scopes; DELETE FROM activity_state; starts a new one)";
        let mut detector = match &saved.bytes {
            Some(bytes) => Detector::from_bytes(bytes).context(unreadable)?,
            None => Detector::new(DetectorConfig::default()),
        };
        detector.restore_scopes(&saved.parts).context(unreadable)?;
        Ok(Scorer {
            lateness,
            detector,
            saved_until: saved.scored_until,
            scored_until: saved.scored_until,
            pending: Vec::new(),
            last_save: Instant::now(),
            recent: MinuteCounter::default(),
        })
    }

    /// Takes the counts of new events this process stored, so that scoring their windows
    /// needs no read of the stored events (unless another writer added to them).
    pub fn absorb(&mut self, counts: MinuteCounter) {
        self.recent.merge(counts);
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
            // Windows [start, start + 60) with start + 60 <= watermark are closed.
            let watermark = epoch_ms(newest).div_euclid(1000) - self.lateness.as_secs() as i64;
            let until = watermark.div_euclid(60) * 60;
            loop {
                let from = match self.scored_until {
                    Some(t) => epoch_ms(t).div_euclid(1000),
                    None => i64::MIN,
                };
                // Jump over minutes without events (years, in a sparse archive).
                let Some(next) = store.next_event_minute(from).await? else {
                    break;
                };
                if next >= until {
                    break;
                }
                let end = (next + CHUNK_MINUTES * 60).min(until);
                let counts = store
                    .minute_counts_from(&mut self.recent, from_epoch_s(next)?, from_epoch_s(end)?)
                    .await?;
                for (minute, windows) in by_minute(counts) {
                    done.windows += 1;
                    let mut org = WindowCounts::empty(from_epoch_s(minute)?, Scope::Org);
                    for w in windows {
                        let window = to_window(w)?;
                        merge(&mut org, &window);
                        let scores = self.detector.observe(&window);
                        keep(scores, &mut self.pending, &mut done);
                    }
                    let scores = self.detector.observe(&org);
                    keep(scores, &mut self.pending, &mut done);
                }
                self.scored_until = Some(from_epoch_s(end)?);
            }
        }
        if let Some(t) = self.scored_until {
            // Late events of windows scored already: nothing will take them.
            self.recent.forget_before(epoch_ms(t).div_euclid(1000));
        }
        if checkpoint || self.last_save.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint(store).await?;
        }
        Ok(done)
    }

    /// Continues from the stored detector (another worker's), keeping the counts of what this
    /// process stored.
    async fn reload(&mut self, store: &Store) -> Result<()> {
        let recent = std::mem::take(&mut self.recent);
        *self = Scorer::load(store, self.lateness).await?;
        self.recent = recent;
        Ok(())
    }

    /// Saves the scores and the detector now, if anything was scored since the last save.
    pub async fn checkpoint(&mut self, store: &Store) -> Result<()> {
        let Some(until) = self.scored_until else {
            return Ok(());
        };
        if self.scored_until == self.saved_until {
            return Ok(());
        }
        let detector = DetectorToSave {
            header: self.detector.header(),
            parts: self.detector.scope_parts(),
        };
        let saved = store
            .save_scores(self.saved_until, until, detector, &self.pending)
            .await?;
        if saved {
            self.saved_until = Some(until);
            self.pending.clear();
            self.last_save = Instant::now();
        } else {
            // Another worker saved first: its scores stand; continue from its detector.
            self.reload(store).await?;
        }
        Ok(())
    }
}

/// Keeps every total score (for charts) and every alarm.
fn keep(scores: Vec<Anomaly>, pending: &mut Vec<StoredAnomaly>, done: &mut Scored) {
    for a in scores {
        if a.series == Series::Total || a.alarm {
            pending.push(StoredAnomaly {
                time: a.time,
                scope: a.scope.to_string(),
                series: a.series.to_string(),
                score: a.score,
                contributor: a.contributor.clone(),
                alarm: a.alarm,
            });
        }
        if a.alarm {
            done.alarms.push(a);
        }
    }
}

fn by_minute(counts: Vec<MinuteCounts>) -> BTreeMap<i64, Vec<MinuteCounts>> {
    let mut out: BTreeMap<i64, Vec<MinuteCounts>> = BTreeMap::new();
    for c in counts {
        out.entry(epoch_ms(c.start).div_euclid(1000))
            .or_default()
            .push(c);
    }
    out
}

fn to_window(c: MinuteCounts) -> Result<WindowCounts> {
    let mut w = WindowCounts::empty(c.start, c.account.parse()?);
    w.total = c.total;
    for ((principal, _), n) in &c.by_principal_api {
        *w.by_principal.entry(principal.clone()).or_insert(0) += n;
    }
    w.by_principal_api = c.by_principal_api;
    w.by_source_ip = c.by_source_ip;
    Ok(w)
}

fn merge(into: &mut WindowCounts, w: &WindowCounts) {
    into.total += w.total;
    for (k, n) in &w.by_principal {
        *into.by_principal.entry(k.clone()).or_insert(0) += n;
    }
    for (k, n) in &w.by_principal_api {
        *into.by_principal_api.entry(k.clone()).or_insert(0) += n;
    }
    for (k, n) in &w.by_source_ip {
        *into.by_source_ip.entry(k.clone()).or_insert(0) += n;
    }
}
