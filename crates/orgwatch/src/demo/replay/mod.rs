//! The demo's synthetic CloudTrail: calls of the demo organisation's own accounts
//! ([`traffic`]), written as CloudTrail records ([`record`]) and read by the same pipeline as
//! `orgwatch activity --from - --follow` (decode, store with de-duplication and rollups, live
//! windows, anomaly scores), so the Activity page moves while the demo serves.
//!
//! A run first **backfills**: the calls since it left off (at most [`ReplayOptions::backfill`]
//! ago) at full speed, so the detector has the history its learning periods need; then it
//! goes **live**, storing every few seconds the calls up to now. Event ids are drawn from the
//! seed, so a rerun regenerates the minute it stopped in and the store counts each call once.

pub mod catalog;
pub mod record;
pub mod traffic;

use crate::activity::pipeline::{self, Reading};
use crate::activity::write::{OnStored, Totals};
use crate::config::ActivityConfig;
use crate::demo::generate::DemoOptions;
use crate::source::{Found, Input, Item, Outcome, Receipt, Source};
use anyhow::{Context, Result};
use orgwatch_store::Store;
use record::NdjsonCalls;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
pub use traffic::{Burst, Bursts, Traffic};

/// The replay's name in messages and in the activity ledger (a stream: never "read").
pub const REPLAY: &str = "(demo replay)";

/// How the replay runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// History stored at start when the database has none newer: the count model learns for
    /// 60 minutes per account before it alarms, and the forests need a few hours' averages.
    pub backfill: Duration,
    /// The injected bursts.
    pub bursts: Bursts,
    /// Simulated seconds per real second once live (1: wall-clock time; tests go faster).
    pub speed: f64,
    /// The simulated time at start (default: now).
    pub start: Option<OffsetDateTime>,
    /// Stop after storing the calls up to this simulated time (default: run until stopped).
    pub until: Option<OffsetDateTime>,
    /// The pipeline's allowed lateness: the replay delivers in order, so windows can close
    /// (and be scored) 2 minutes after their end rather than `activity`'s 15.
    pub lateness: Duration,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            backfill: Duration::from_secs(3 * 3600),
            bursts: Bursts::default(),
            speed: 1.0,
            start: None,
            until: None,
            lateness: Duration::from_secs(120),
        }
    }
}

/// Simulated time: `start` plus the real time since, times `speed`.
#[derive(Debug, Clone, Copy)]
struct Clock {
    start: i64,
    real: Instant,
    speed: f64,
}

impl Clock {
    /// Seconds since the epoch, simulated.
    fn now(&self) -> i64 {
        self.start + (self.real.elapsed().as_secs_f64() * self.speed) as i64
    }
}

/// The replay as a pipeline source: each poll gives the calls from where the last one ended
/// up to the simulated now, as one NDJSON stream.
struct ReplaySource {
    traffic: Arc<Traffic>,
    clock: Clock,
    until: Option<i64>,
    /// Where the next poll starts (seconds since the epoch); `None` once `until` is reached.
    next: Mutex<Option<i64>>,
}

impl Source for ReplaySource {
    async fn poll(&self) -> Result<Option<Found>> {
        let mut next = self
            .next
            .lock()
            .map_err(|_| anyhow::anyhow!("the replay's position was poisoned"))?;
        let Some(from) = *next else {
            return Ok(None);
        };
        let now = self.clock.now();
        let to = self.until.map_or(now, |u| now.min(u));
        let last = self.until.is_some_and(|u| to >= u);
        *next = (!last).then_some(to.max(from));
        if to <= from {
            return Ok(Some(Found {
                last,
                ..Found::default()
            }));
        }
        let calls = NdjsonCalls::new(self.traffic.clone(), from, to);
        Ok(Some(Found {
            items: vec![Item {
                name: Arc::from(REPLAY),
                size: 0,
                input: Input::Stream(Box::new(calls)),
                claimer: None,
            }],
            last,
            ..Found::default()
        }))
    }

    async fn ack(&self, _item: &Receipt, _outcome: &Outcome) -> Result<()> {
        Ok(())
    }
}

/// Where a run starts: at the backfill's start, or later where the last run left off (its
/// minute again: the calls stored already are found stored and not counted twice).
pub fn resume_from(now: i64, backfill: Duration, stored_until: Option<OffsetDateTime>) -> i64 {
    let earliest = now - backfill.as_secs() as i64;
    let resumed = stored_until.map(|t| t.unix_timestamp().div_euclid(60) * 60);
    resumed.map_or(earliest, |r| r.max(earliest))
}

/// Replays the organisation of `demo` into `store` until `stop` is cancelled (or
/// `opts.until`), calling `on_stored` after each committed batch; returns what was stored.
pub async fn run(
    store: &Store,
    demo: &DemoOptions,
    opts: &ReplayOptions,
    stop: &CancellationToken,
    on_stored: Option<OnStored>,
) -> Result<Totals> {
    let traffic = Arc::new(Traffic::new(demo, opts.bursts));
    let start = opts
        .start
        .unwrap_or_else(OffsetDateTime::now_utc)
        .unix_timestamp();
    let stored_until = store
        .activity_state()
        .await?
        .max_event_time
        .map(|t| t.get());
    let from = resume_from(start, opts.backfill, stored_until);
    let source = ReplaySource {
        traffic,
        clock: Clock {
            start,
            real: Instant::now(),
            speed: opts.speed.max(f64::MIN_POSITIVE),
        },
        until: opts.until.map(OffsetDateTime::unix_timestamp),
        next: Mutex::new(Some(from)),
    };
    let mut activity = ActivityConfig::stream_defaults()?;
    activity.lateness = opts.lateness;
    let reading = Reading {
        follow: true,
        label: REPLAY,
        verbose: false,
        progress: false,
        quiet: true,
        on_stored,
    };
    pipeline::read(store, source, &activity, &reading, stop)
        .await
        .context("the demo's activity replay failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_starts_where_the_store_left_off_within_the_backfill() {
        let now = 1_800_000_000;
        let three_hours = Duration::from_secs(3 * 3600);
        let at = |s: i64| OffsetDateTime::from_unix_timestamp(s).unwrap();
        assert_eq!(resume_from(now, three_hours, None), now - 3 * 3600);
        // Stopped 10 minutes ago, in the middle of a minute: that minute again.
        let stopped = now - 600 + 17;
        assert_eq!(
            resume_from(now, three_hours, Some(at(stopped))),
            (now - 600).div_euclid(60) * 60
        );
        // Stopped yesterday: only the backfill.
        assert_eq!(
            resume_from(now, three_hours, Some(at(now - 86_400))),
            now - 3 * 3600
        );
        assert_eq!(resume_from(now, Duration::ZERO, None), now);
    }
}
