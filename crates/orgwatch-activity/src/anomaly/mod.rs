//! Anomaly scoring of per-minute call counts with Random Cut Forest (Guha et al. 2016).
//!
//! The forests come from the `krcflib` crate (the Rust code of AWS's
//! `random-cut-forest-by-aws`), in its compact layout; `DESIGN.md` ("Anomaly detection") says
//! why and gives the measured figures. Everything around the forests is written here, because
//! no RCF crate does it: which series exist per scope, which principals get a forest, gap
//! filling, the alarm rule, and the contributor of a score.
//!
//! Per scope (an account, or the organisation) a [`Detector`] keeps one 1-dimensional,
//! shingled forest for each of these series of 1-minute counts:
//!
//! - `total`: every call of the scope (what the RTIAA reference scored, per 10 s);
//! - `principal:NAME`: the calls of one *tracked* principal. At most
//!   [`DetectorConfig::max_principals`] principals per scope are tracked: the most active
//!   ones (an exponentially weighted average of their counts, time constant
//!   [`ACTIVITY_MINUTES`]). A principal active enough ([`ADMIT_ABOVE`]) takes a free slot; when all slots are
//!   taken it replaces the least active tracked principal once it is [`REPLACE_FACTOR`]
//!   times as active, and a tracked principal idle long enough to fall under
//!   [`EVICT_BELOW`] calls/minute frees its slot. This bounds memory and time per scope
//!   whatever the number of principals;
//! - `others`: the calls of all untracked principals together, so that a burst of a rare or
//!   new principal is still scored against a series that does not contain the big ones.
//!   Kept only when principals may have forests (`max_principals` above 0, not the
//!   default): without them it is `total` again, and a forest more per scope.
//!
//! A score is the forest's anomaly score of the window's count given the previous
//! `shingle - 1` counts, computed *before* the count is added to the forest. It is an
//! **alarm** when it is at least [`DetectorConfig::alarm_threshold`] and the count is above
//! the series' recent average by at least [`DetectorConfig::min_alarm_increase`] calls (RCF
//! also scores drops; orgwatch alarms on growth only).
//!
//! The **contributor** of a score is not the forest's attribution (`DiVector`): the forests
//! are 1-dimensional, so attribution could only name a minute of the shingle. Instead the
//! window's per-(principal, API) and per-source-IP counts are compared with their own recent
//! averages ([`BASELINE_MINUTES`]) and the keys that grew most are named, e.g.
//! `principal:deployer/ci-42 api:ec2.amazonaws.com:RunInstances ip:203.0.113.7`.
//!
//! ```
//! use orgwatch_activity::anomaly::{Detector, DetectorConfig, Scope, Series, WindowCounts};
//! use orgwatch_model::Timestamp;
//!
//! let mut det = Detector::new(DetectorConfig { trees: 10, ..DetectorConfig::default() });
//! let start = Timestamp::parse("2026-11-23T08:00:00Z").unwrap();
//! let w = WindowCounts::empty(start, "123456789012".parse::<Scope>().unwrap());
//! let scores = det.observe(&w);
//! assert_eq!(scores[0].series, Series::Total);
//! assert!(!scores[0].alarm); // a new forest is not ready: score 0
//! let restored = Detector::from_bytes(&det.to_bytes()).unwrap();
//! assert_eq!(restored.config(), det.config());
//! ```

mod behaviour;
mod config;
mod counts;
mod forest;
mod regions;
mod scope;
mod state;

pub use behaviour::ROOT;
pub use config::{
    DetectorConfig, ACTIVITY_MINUTES, ADMIT_ABOVE, BASELINE_MINUTES, DEFAULT_ALARM_THRESHOLD,
    DEFAULT_COUNT_MIN_EXCESS, DEFAULT_COUNT_PRIOR, DEFAULT_COUNT_SLACK, DEFAULT_COUNT_THRESHOLD,
    DEFAULT_MIN_ALARM_INCREASE, EVICT_BELOW, REPLACE_FACTOR,
};
pub use config::{
    ACCESS_DENIED_PRIOR, ACCESS_DENIED_THRESHOLD, DEFAULT_ACCESS_DENIED_MIN, DEFAULT_ROOT_QUIET,
    DEFAULT_SIGN_IN_FAILURES, MAX_REGIONS, MAX_SOURCES, SIGN_IN_MINUTES,
};
pub use counts::{RATE_MINUTES, WINDOW_MINUTES};
pub use regions::name_org_regions;

// The model's: the store reads windows and keeps scores in the same types.
pub use orgwatch_model::activity::{AlarmKind, Anomaly, Explanation, Scope, Series, WindowCounts};

use orgwatch_model::Timestamp;
use scope::ScopeModels;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::Duration;

/// Why a detector could not be restored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnomalyError {
    /// The bytes are not a detector state of this format version.
    #[error("not an orgwatch anomaly detector state (or another format version)")]
    Format,
    /// The state does not decode (the cause is the source).
    #[error("corrupt anomaly detector state")]
    Decode(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The anomaly detector of every scope. Serialisable as a whole ([`Detector::to_bytes`], or
/// serde): a restored detector continues exactly as one that never stopped, with no warm-up.
#[derive(Clone, Serialize, Deserialize)]
pub struct Detector {
    config: DetectorConfig,
    scopes: BTreeMap<Scope, ScopeModels>,
    stale_windows: u64,
    /// The regions the organisation uses (`unused_region`, `regions.rs`).
    regions: regions::Regions,
    /// The format of the scopes [`Detector::restore_scopes`] reads: that of the header this
    /// detector was restored from.
    #[serde(skip)]
    parts_format: PartsFormat,
    /// Scopes changed since [`Detector::saved`]: their saved parts are out of date, so they
    /// are what the next checkpoint writes, and they are never parked.
    #[serde(skip)]
    unsaved: BTreeSet<Scope>,
}

/// A format of saved scopes (`state.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum PartsFormat {
    /// Large forests, no count model.
    V3,
    /// Forests small or large, no count model.
    V4,
    /// Count models, and always an `others` forest.
    V5,
    /// `others` optional, `new_api` and `root` only.
    V6,
    /// This version's.
    #[default]
    Current,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("config", &self.config)
            .field("scopes", &self.scopes.len())
            .field("forests", &self.forests())
            .field("stale_windows", &self.stale_windows)
            .finish()
    }
}

impl Detector {
    /// A detector with no scopes yet.
    pub fn new(config: DetectorConfig) -> Self {
        Detector {
            config,
            scopes: BTreeMap::new(),
            stale_windows: 0,
            regions: regions::Regions::default(),
            parts_format: PartsFormat::Current,
            unsaved: BTreeSet::new(),
        }
    }

    /// Its parameters.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Feeds one scope's closed window and returns its scores: `total`, `others` (only when
    /// principals may have forests, [`DetectorConfig::max_principals`]), then one per tracked
    /// principal (by name).
    ///
    /// Windows of a scope must come in time order, one per minute. **The detector fills
    /// gaps itself**: when minutes are missing since the scope's previous window it first
    /// feeds zero windows for them (at most [`DetectorConfig::max_gap_fill`]; their scores are
    /// not returned), so the caller may skip empty minutes. A window not after the scope's
    /// previous one (late or duplicate) is ignored: it returns no scores and is counted in
    /// [`Detector::stale_windows`].
    pub fn observe(&mut self, w: &WindowCounts) -> Vec<Anomaly> {
        let minute = w.start.get().unix_timestamp().div_euclid(60);
        let start = Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + Duration::minutes(minute));
        let config = &self.config;
        let scope = match self.scopes.get_mut(&w.scope) {
            Some(s) => {
                if minute <= s.forests.last_minute {
                    self.stale_windows += 1;
                    return Vec::new();
                }
                let missing =
                    (minute - s.forests.last_minute - 1).min(i64::from(config.max_gap_fill));
                for m in (minute - missing)..minute {
                    let t = Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + Duration::minutes(m));
                    s.observe(config, &WindowCounts::empty(t, w.scope), m);
                }
                s
            }
            None => self
                .scopes
                .entry(w.scope)
                .or_insert_with(|| ScopeModels::new(config, w.scope, minute)),
        };
        let mut out = scope.observe(config, w, minute);
        self.unsaved.insert(w.scope);
        if w.scope != Scope::Org {
            out.extend(self.regions.observe(config, w, minute));
        }
        for a in &mut out {
            a.time = start;
        }
        out
    }

    /// Windows ignored because they were not after their scope's previous window.
    pub fn stale_windows(&self) -> u64 {
        self.stale_windows
    }

    /// The scopes seen, in the order of their text.
    pub fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.scopes.keys().copied()
    }

    /// The principals of a scope that have a forest of their own.
    pub fn tracked_principals(&self, scope: Scope) -> Vec<&str> {
        self.scopes
            .get(&scope)
            .map(|s| s.forests.principals.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Scopes held in memory: those not parked ([`Detector::park`]).
    pub fn resident_scopes(&self) -> usize {
        self.scopes.len()
    }

    /// The scopes of `windows` not in memory (the organisation's too, when there is any
    /// window): before scoring the windows, the caller restores the saved parts of these
    /// ([`Detector::restore_scopes`]); a scope with no saved part starts new.
    pub fn absent_scopes(&self, windows: &[WindowCounts]) -> Vec<Scope> {
        let mut absent: BTreeSet<Scope> = windows
            .iter()
            .map(|w| w.scope)
            .filter(|s| !self.scopes.contains_key(s))
            .collect();
        if !windows.is_empty() && !self.scopes.contains_key(&Scope::Org) {
            absent.insert(Scope::Org);
        }
        absent.into_iter().collect()
    }

    /// Drops saved scopes from memory, the longest idle first (by their last window, then
    /// name), until at most `keep` are resident, and returns how many it dropped. Scopes
    /// changed since the last save ([`Detector::saved`]) stay. A parked scope restored from
    /// its saved part scores exactly as if it had stayed: this bounds memory by the scopes
    /// active recently, whatever the number of accounts.
    pub fn park(&mut self, keep: usize) -> usize {
        let excess = self.scopes.len().saturating_sub(keep);
        if excess == 0 {
            return 0;
        }
        let mut idle: Vec<(i64, Scope)> = self
            .scopes
            .iter()
            .filter(|(scope, _)| !self.unsaved.contains(scope))
            .map(|(scope, s)| (s.forests.last_minute, *scope))
            .collect();
        idle.sort_unstable();
        idle.truncate(excess);
        for (_, scope) in &idle {
            self.scopes.remove(scope);
        }
        idle.len()
    }

    /// Whether every saved scope must be restored ([`Detector::restore_scopes`]) before the
    /// detector is used: its header is of an earlier format, whose saved parts the next
    /// save rewrites in this one (restored, they count as changed). Otherwise scopes may be
    /// restored as they are needed ([`Detector::absent_scopes`]).
    pub fn needs_every_scope(&self) -> bool {
        self.parts_format != PartsFormat::Current
    }

    /// Records that the header and the parts of the changed scopes
    /// ([`Detector::unsaved_parts`]) were saved: every saved part is now of this format.
    pub fn saved(&mut self) {
        self.unsaved.clear();
        self.parts_format = PartsFormat::Current;
    }

    /// Forests held (per scope: `total`, `others` when principals may have forests, one per
    /// tracked principal); memory is about proportional to it (see `DESIGN.md` for the size
    /// of one).
    pub fn forests(&self) -> usize {
        self.scopes
            .values()
            .map(|s| 1 + usize::from(s.forests.others.is_some()) + s.forests.principals.len())
            .sum()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Small forests: these tests check the plumbing, not the detection quality.
    pub(crate) fn small() -> DetectorConfig {
        DetectorConfig {
            // Principal forests too: their plumbing is tested here.
            max_principals: 4,
            trees: 10,
            sample_size: 32,
            output_after: 8,
            ..DetectorConfig::default()
        }
    }

    pub(crate) fn at(m: i64) -> Timestamp {
        Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + Duration::minutes(29_000_000 + m))
    }

    pub(crate) fn window(m: i64, scope: &str, n: u64) -> WindowCounts {
        let mut w = WindowCounts::empty(at(m), scope.parse().unwrap());
        for i in 0..n {
            let p = if i % 3 == 0 { "alice" } else { "ci/deploy" };
            w.add(p, "s3.amazonaws.com:GetObject", Some("192.0.2.1"));
        }
        w
    }

    #[test]
    fn empty_windows_score_without_alarms() {
        let mut det = Detector::new(small());
        for m in 0..100 {
            let out = det.observe(&WindowCounts::empty(at(m), Scope::Org));
            assert_eq!(out.len(), 2, "total and others only: no principal was seen");
            assert!(out.iter().all(|a| !a.alarm && a.contributor == "none"));
        }
        assert_eq!(det.forests(), 2);
    }

    #[test]
    fn a_gap_is_the_same_as_zero_windows() {
        let (mut gaps, mut zeros) = (Detector::new(small()), Detector::new(small()));
        let mut last = (Vec::new(), Vec::new());
        for m in 0..200 {
            let n = if (50..70).contains(&m) {
                0
            } else {
                5 + (m % 4) as u64
            };
            let w = window(m, "123456789012", n);
            if n > 0 {
                last.0 = gaps.observe(&w);
            }
            last.1 = zeros.observe(&w);
            if n > 0 {
                assert_eq!(last.0, last.1, "minute {m}");
            }
        }
        // (Not compared: the state bytes, whose map order inside krcflib may differ.)
        assert_eq!(last.0[0].time, at(199));
    }

    #[test]
    fn late_windows_are_ignored() {
        let mut det = Detector::new(small());
        det.observe(&window(10, "org", 3));
        assert!(det.observe(&window(10, "org", 3)).is_empty());
        assert!(det.observe(&window(9, "org", 3)).is_empty());
        assert_eq!(det.stale_windows(), 2);
        assert!(!det.observe(&window(11, "org", 3)).is_empty());
    }

    #[test]
    fn parked_scopes_restored_from_their_saved_parts_score_as_if_they_had_stayed() {
        let accounts = [
            "111111111111",
            "222222222222",
            "333333333333",
            "444444444444",
        ];
        let (mut stays, mut parks) = (Detector::new(small()), Detector::new(small()));
        // What a store would hold: the parts saved at each checkpoint, by name.
        let mut saved: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut parked_total = 0;
        for m in 0..240 {
            // Each account is active 20 minutes in 60, at its own time, with a burst.
            let windows: Vec<WindowCounts> = accounts
                .iter()
                .enumerate()
                .filter(|(i, _)| (m + 15 * *i as i64) % 60 < 20)
                .map(|(i, a)| {
                    window(
                        m,
                        a,
                        if m == 130 + i as i64 {
                            60
                        } else {
                            4 + i as u64
                        },
                    )
                })
                .collect();
            let mut org = WindowCounts::empty(at(m), Scope::Org);
            for w in &windows {
                org.merge(w);
            }
            let absent = parks.absent_scopes(&windows);
            let parts: Vec<(String, Vec<u8>)> = absent
                .iter()
                .filter_map(|s| saved.get(s.as_str()).map(|p| (s.to_string(), p.clone())))
                .collect();
            parks.restore_scopes(&parts).unwrap();
            for w in windows.iter().chain([&org]) {
                assert_eq!(
                    stays.observe(w),
                    parks.observe(w),
                    "minute {m}, {}",
                    w.scope
                );
            }
            // A checkpoint, then at most 2 scopes (of 5) stay in memory.
            saved.extend(parks.unsaved_parts());
            parks.saved();
            assert_eq!(parks.unsaved_parts().count(), 0);
            parked_total += parks.park(2);
            assert!(parks.resident_scopes() <= 2);
        }
        assert_eq!(stays.resident_scopes(), 5);
        assert!(
            parked_total > 20,
            "scopes were parked and restored: {parked_total}"
        );
    }

    #[test]
    fn scopes_changed_since_the_last_save_are_never_parked() {
        let mut det = Detector::new(small());
        det.observe(&window(0, "111111111111", 3));
        det.observe(&window(1, "222222222222", 3));
        assert_eq!(det.park(0), 0, "nothing saved yet");
        det.saved();
        det.observe(&window(2, "222222222222", 3));
        assert_eq!(det.park(0), 1, "the saved, idle one");
        assert_eq!(
            det.absent_scopes(&[window(3, "111111111111", 1)]),
            ["111111111111".parse::<Scope>().unwrap(), Scope::Org]
        );
        assert_eq!(det.unsaved_parts().count(), 1);
    }

    #[test]
    fn restore_continues_identically() {
        let mut det = Detector::new(small());
        for m in 0..60 {
            det.observe(&window(m, "111111111111", 4));
            det.observe(&window(m, "org", 4));
        }
        let mut restored = Detector::from_bytes(&det.to_bytes()).unwrap();
        for m in 60..120 {
            let n = if m == 100 { 40 } else { 4 };
            for scope in ["111111111111", "org"] {
                let a = det.observe(&window(m, scope, n));
                assert_eq!(a, restored.observe(&window(m, scope, n)));
                assert!(a[0].score > 0.0, "scores right after the restore");
            }
        }
        assert_eq!(
            restored.tracked_principals(Scope::Org),
            ["alice", "ci/deploy"]
        );
    }
}
