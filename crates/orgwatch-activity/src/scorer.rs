//! `scorer`: closed minute windows, in time order, through the anomaly detector — the
//! watermark, the organisation's window, and which scores are kept — with no store and no
//! clock, so that it is tested on plain windows.
//!
//! The caller owns the I/O: it asks [`Scorer::closed_until`] which windows the watermark
//! closed, reads their counts ([`Scorer::take_counted`], else from the stored events), hands
//! them to [`Scorer::score`], and saves [`Scorer::pending`] with the [`Scorer::detector`].

use crate::anomaly::{Anomaly, Detector, Scope, Series, WindowCounts};
use crate::counter::{MinuteCounter, MinuteTotals};
use orgwatch_model::activity::{epoch_ms, from_epoch_s, TimeOutOfRange};
use orgwatch_model::Timestamp;
use std::collections::BTreeMap;
use std::time::Duration;

/// The detector, how far it has scored, the scores not saved yet, and the counts of the
/// events this process stored and not scored yet.
#[derive(Debug)]
pub struct Scorer {
    detector: Detector,
    lateness: Duration,
    /// Windows before this are scored (in memory, maybe not saved yet).
    scored_until: Option<Timestamp>,
    /// Scores not saved yet: every total (for charts) and every alarm.
    pending: Vec<Anomaly>,
    /// Counts of the events this process stored and not scored yet.
    recent: MinuteCounter,
}

/// What scoring did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scored {
    /// Minute windows scored (with activity in at least one account).
    pub windows: u64,
    /// Scores over the alarm threshold.
    pub alarms: Vec<Anomaly>,
}

impl Scored {
    /// Adds what a later scoring did.
    pub fn extend(&mut self, later: Scored) {
        self.windows += later.windows;
        self.alarms.extend(later.alarms);
    }
}

impl Scorer {
    /// A scorer continuing `detector`, which scored the windows before `scored_until`;
    /// windows close `lateness` after the newest event time.
    pub fn new(detector: Detector, scored_until: Option<Timestamp>, lateness: Duration) -> Self {
        Scorer {
            detector,
            lateness,
            scored_until,
            pending: Vec::new(),
            recent: MinuteCounter::default(),
        }
    }

    /// Continues from another detector (another worker's, saved with `scored_until`),
    /// dropping the scores not saved and keeping the counts of what this process stored.
    pub fn restart(&mut self, detector: Detector, scored_until: Option<Timestamp>) {
        self.detector = detector;
        self.scored_until = scored_until;
        self.pending.clear();
    }

    /// The detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The detector, to restore or park its scopes ([`Detector::absent_scopes`],
    /// [`Detector::park`]).
    pub fn detector_mut(&mut self) -> &mut Detector {
        &mut self.detector
    }

    /// Windows starting before this are scored.
    pub fn scored_until(&self) -> Option<Timestamp> {
        self.scored_until
    }

    /// The first window start (epoch seconds) not scored yet (`i64::MIN` before any).
    pub fn next_minute(&self) -> i64 {
        self.scored_until
            .map_or(i64::MIN, |t| epoch_ms(t).div_euclid(1000))
    }

    /// The end (epoch seconds, a minute start) of the windows the watermark closed, given
    /// the newest stored event time: windows `[start, start + 60)` with
    /// `start + 60 <= newest - lateness` are closed.
    pub fn closed_until(&self, newest: Timestamp) -> i64 {
        let watermark = epoch_ms(newest).div_euclid(1000) - self.lateness.as_secs() as i64;
        watermark.div_euclid(60) * 60
    }

    /// Scores not saved yet: every total and every alarm, in scoring order.
    pub fn pending(&self) -> &[Anomaly] {
        &self.pending
    }

    /// Forgets the pending scores: they were saved, with the detector's header and changed
    /// scopes ([`Detector::saved`]).
    pub fn saved(&mut self) {
        self.pending.clear();
        self.detector.saved();
    }

    /// Takes the counts of new events this process stored, so that scoring their windows
    /// needs no read of the stored events (unless another writer added to them).
    pub fn absorb(&mut self, counts: MinuteCounter) {
        self.recent.merge(counts);
    }

    /// The windows of `[from, until)` (epoch seconds) from the counts this process stored,
    /// when they hold every stored event (`stored`: the store's minute totals of the range);
    /// `None` when the caller must read them from the stored events
    /// ([`MinuteCounter::take_complete`]).
    pub fn take_counted(
        &mut self,
        from: i64,
        until: i64,
        stored: &MinuteTotals,
    ) -> Result<Option<Vec<WindowCounts>>, TimeOutOfRange> {
        self.recent.take_complete(from, until, stored)
    }

    /// Scores the windows of every scope with activity in a stretch of minutes that ends at
    /// `until` (each minute's windows in scope order; minutes in any order, scored in time
    /// order), each minute's organisation window after its accounts'. Windows before `until`
    /// count as scored from now on.
    pub fn score(
        &mut self,
        windows: Vec<WindowCounts>,
        until: Timestamp,
    ) -> Result<Scored, TimeOutOfRange> {
        let mut done = Scored::default();
        for (minute, windows) in by_minute(windows) {
            done.windows += 1;
            let mut org = WindowCounts::empty(from_epoch_s(minute)?, Scope::Org);
            for w in &windows {
                org.merge(w);
                let scores = self.detector.observe(w);
                keep(scores, &mut self.pending, &mut done);
            }
            let mut scores = self.detector.observe(&org);
            crate::anomaly::name_org_regions(&mut scores, &windows);
            keep(scores, &mut self.pending, &mut done);
        }
        self.scored_until = Some(until);
        Ok(done)
    }

    /// Drops the counts of windows scored already (their late events: nothing will take them).
    pub fn forget_scored(&mut self) {
        if self.scored_until.is_some() {
            self.recent.forget_before(self.next_minute());
        }
    }
}

/// Keeps every total score (for charts) and every alarm.
fn keep(scores: Vec<Anomaly>, pending: &mut Vec<Anomaly>, done: &mut Scored) {
    for a in scores {
        if a.alarm {
            pending.push(a.clone());
            done.alarms.push(a);
        } else if a.series == Series::Total {
            pending.push(a);
        }
    }
}

/// The windows by minute start (epoch seconds), each minute's in the order given.
fn by_minute(windows: Vec<WindowCounts>) -> BTreeMap<i64, Vec<WindowCounts>> {
    let mut out: BTreeMap<i64, Vec<WindowCounts>> = BTreeMap::new();
    for w in windows {
        out.entry(epoch_ms(w.start).div_euclid(1000))
            .or_default()
            .push(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::DetectorConfig;

    const T0: i64 = 1_709_287_200;

    fn config() -> DetectorConfig {
        crate::anomaly::tests::small()
    }

    fn window(m: i64, scope: &str, n: u64) -> WindowCounts {
        let mut w = WindowCounts::empty(from_epoch_s(T0 + 60 * m).unwrap(), scope.parse().unwrap());
        for _ in 0..n {
            w.add("alice", "s3.amazonaws.com:GetObject", Some("192.0.2.1"));
        }
        w
    }

    #[test]
    fn the_watermark_closes_whole_minutes_lateness_after_the_newest_event() {
        let scorer = Scorer::new(Detector::new(config()), None, Duration::from_secs(15 * 60));
        assert_eq!(scorer.next_minute(), i64::MIN);
        let newest = from_epoch_s(T0 + 20 * 60 + 59).unwrap();
        assert_eq!(scorer.closed_until(newest), T0 + 5 * 60);
        let newest = from_epoch_s(T0 + 21 * 60).unwrap();
        assert_eq!(scorer.closed_until(newest), T0 + 6 * 60);
    }

    #[test]
    fn each_minute_scores_its_accounts_then_the_organisation() {
        let mut scorer = Scorer::new(Detector::new(config()), None, Duration::ZERO);
        let mut direct = Detector::new(config());
        let mut direct_scores = Vec::new();
        let mut windows = Vec::new();
        for m in 0..60 {
            // A burst of account 2 at minute 50, and account 1 quiet in odd minutes.
            let two = window(m, "222222222222", if m == 50 { 60 } else { 3 });
            let one = (m % 2 == 0).then(|| window(m, "111111111111", 2));
            let mut org = WindowCounts::empty(two.start, Scope::Org);
            for w in one.iter().chain([&two]) {
                org.merge(w);
                direct_scores.extend(direct.observe(w));
            }
            direct_scores.extend(direct.observe(&org));
            windows.extend(one);
            windows.push(two);
        }
        // Minutes out of order are scored in time order.
        windows.reverse();
        let windows: Vec<WindowCounts> = {
            let mut by: BTreeMap<i64, Vec<WindowCounts>> = BTreeMap::new();
            for w in windows {
                by.entry(-epoch_ms(w.start)).or_default().insert(0, w);
            }
            by.into_values().flatten().collect()
        };
        let until = from_epoch_s(T0 + 3600).unwrap();
        let done = scorer.score(windows, until).unwrap();
        assert_eq!(done.windows, 60);
        assert_eq!(scorer.scored_until(), Some(until));
        assert_eq!(scorer.next_minute(), T0 + 3600);
        // The scores of a detector fed by hand, accounts before the organisation; kept: every
        // total (90 account windows and 60 organisation windows) and every alarm.
        direct_scores.retain(|a| a.series == Series::Total || a.alarm);
        assert!(
            scorer.pending() == direct_scores,
            "not the scores fed by hand"
        );
        let totals = scorer
            .pending()
            .iter()
            .filter(|a| a.series == Series::Total);
        assert_eq!(totals.count(), 90 + 60);
        assert!(scorer
            .pending()
            .iter()
            .all(|a| a.series == Series::Total || a.alarm));
        assert!(!done.alarms.is_empty(), "the burst alarms");
        let burst = from_epoch_s(T0 + 50 * 60).unwrap();
        assert!(
            done.alarms.iter().all(|a| a.time == burst),
            "{:?}",
            done.alarms
        );
        let scopes: Vec<Scope> = done.alarms.iter().map(|a| a.scope).collect();
        assert!(scopes.contains(&"222222222222".parse().unwrap()) && scopes.contains(&Scope::Org));
        for a in &done.alarms {
            assert!(scorer.pending().contains(a));
        }
        scorer.saved();
        assert!(scorer.pending().is_empty());
    }

    #[test]
    fn a_restart_keeps_the_counts_of_what_this_process_stored() {
        let mut scorer = Scorer::new(Detector::new(config()), None, Duration::ZERO);
        let mut counts = MinuteCounter::default();
        let rec = serde_json::json!({"eventTime": "2024-03-01T10:00:10Z",
            "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventID": "1"});
        counts.add(
            &orgwatch_model::ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap(),
        );
        scorer.absorb(counts);
        scorer
            .score(vec![window(0, "org", 1)], from_epoch_s(T0).unwrap())
            .unwrap();
        assert!(!scorer.pending().is_empty());
        scorer.restart(Detector::new(config()), None);
        assert!(scorer.pending().is_empty());
        assert_eq!(scorer.scored_until(), None);
        let stored = BTreeMap::from([((T0, Scope::NoAccount), 1)]);
        let windows = scorer.take_counted(T0, T0 + 60, &stored).unwrap().unwrap();
        assert_eq!(windows.len(), 1);
        assert_eq!(windows[0].by_principal_api.len(), 1);
    }
}
