//! The count model of one scope: per principal and per (principal, API), the calls of the last
//! few minutes against the key's own recent rate, scored by the Poisson tail probability.
//!
//! The forests score a series against its own shape, and need an absolute floor
//! ([`DetectorConfig::min_alarm_increase`]) so that in a quiet account a call after hours of
//! zeros does not alarm; that floor hides a burst that only doubles a quiet account. The count
//! model's sensitivity follows the scope's own scale instead: a key's expected count is its
//! recent rate (an exponentially weighted average of the minutes before the burst window,
//! [`RATE_MINUTES`], short enough to follow the day/night rhythm), but never less than
//! [`DetectorConfig::count_prior`] of the scope's rate (a key seen rarely or never is expected
//! at a small share of what the account does, not at zero), and with
//! [`DetectorConfig::count_slack`] added (the rate lags a rising day, and real counts vary
//! more than Poisson's).
//!
//! The tail probability is hand-written (a sum of Poisson terms in log space): it is a few
//! lines, and the statistics crates bring linear algebra with them.

use super::config::{DetectorConfig, EVICT_BELOW};
use super::WindowCounts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Minutes of history per key: the longest burst window tested.
pub const WINDOW_MINUTES: usize = 5;

/// The trailing windows tested, in minutes: a short sharp burst and a longer gentle one.
const WINDOWS: [usize; 3] = [1, 2, WINDOW_MINUTES];

/// Time constant, in minutes, of a key's rate (the minutes before its burst window).
pub const RATE_MINUTES: f64 = 60.0;

/// The recent calls of one key (a principal, or a principal's API).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct KeyRate {
    /// Calls/minute before the burst window ([`RATE_MINUTES`]).
    rate: f64,
    /// Calls of the last [`WINDOW_MINUTES`] minutes, newest first.
    recent: [u32; WINDOW_MINUTES],
}

impl KeyRate {
    /// Shifts in this minute's count; the minute leaving the burst window joins the rate.
    fn push(&mut self, n: u64) {
        let leaving = self.recent[WINDOW_MINUTES - 1];
        self.recent.rotate_right(1);
        self.recent[0] = u32::try_from(n).unwrap_or(u32::MAX);
        self.rate += (f64::from(leaving) - self.rate) / RATE_MINUTES;
    }

    /// Nothing in the burst window and a negligible rate: the key can be forgotten.
    fn idle(&self) -> bool {
        self.rate < EVICT_BELOW && self.recent.iter().all(|&n| n == 0)
    }

    /// The most surprising trailing window of those at least `min_excess` calls above
    /// expectation: the key's rate (at least `floor`) times `1 + slack`.
    pub(super) fn test(&self, floor: f64, slack: f64, min_excess: u64) -> Option<Surprise> {
        let rate = self.rate.max(floor) * (1.0 + slack);
        WINDOWS
            .iter()
            .filter_map(|&k| {
                let observed: u64 = self.recent[..k].iter().map(|&n| u64::from(n)).sum();
                let expected = rate * k as f64;
                // Cheap first: most keys are not above expectation at all.
                (observed as f64 - expected >= min_excess as f64).then(|| Surprise {
                    surprise: surprise(observed, expected),
                    observed,
                    expected,
                    minutes: k as u8,
                })
            })
            .max_by(|a, b| a.surprise.total_cmp(&b.surprise))
    }
}

/// How unexpected a count is over a trailing window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Surprise {
    /// `-log10` of the Poisson probability of at least `observed` calls when `expected`
    /// were expected (0 when no more than expected).
    pub(super) surprise: f64,
    /// Calls in the window.
    pub(super) observed: u64,
    /// Calls expected in the window.
    pub(super) expected: f64,
    /// The window's length, in minutes.
    pub(super) minutes: u8,
}

/// A principal whose calls (or one of whose APIs' calls) grew beyond what its rate explains.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CountAlarm {
    /// The principal.
    pub(super) principal: String,
    /// Its API that grew most (`service:api`).
    pub(super) api: String,
    /// The key's test (the API's, or the principal's when that is more surprising).
    pub(super) test: Surprise,
}

/// The count model of one scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Counts {
    /// Windows seen: no alarm during the first [`DetectorConfig::count_learning`].
    minutes: u64,
    /// The scope's calls/minute ([`RATE_MINUTES`]): the scale of the prior.
    scope_rate: f64,
    principals: BTreeMap<String, KeyRate>,
    apis: BTreeMap<(String, String), KeyRate>,
}

impl Counts {
    /// Learns a window and returns the principals that grew beyond their rate, by name.
    pub(super) fn observe(&mut self, config: &DetectorConfig, w: &WindowCounts) -> Vec<CountAlarm> {
        self.minutes += 1;
        let floor = config.count_prior * self.scope_rate;
        self.scope_rate += (w.total as f64 - self.scope_rate) / RATE_MINUTES;
        push_all(&mut self.principals, &w.by_principal);
        push_all(&mut self.apis, &w.by_principal_api);
        if config.count_threshold <= 0.0 || self.minutes <= config.count_learning {
            return Vec::new();
        }
        let (slack, min_excess) = (config.count_slack, config.count_min_excess);
        let alarms = |t: &Surprise| t.surprise >= config.count_threshold;
        // The most surprising API of each principal that alarms, from the keys seen now.
        let mut out: BTreeMap<&str, CountAlarm> = BTreeMap::new();
        for key @ (p, api) in w.by_principal_api.keys() {
            let Some(test) = self
                .apis
                .get(key)
                .and_then(|k| k.test(floor, slack, min_excess))
            else {
                continue;
            };
            if alarms(&test)
                && out
                    .get(p.as_str())
                    .is_none_or(|a| test.surprise > a.test.surprise)
            {
                out.insert(
                    p,
                    CountAlarm {
                        principal: p.clone(),
                        api: api.clone(),
                        test,
                    },
                );
            }
        }
        // A principal whose calls grew over several APIs, none alarming alone.
        for p in w.by_principal.keys() {
            let Some(test) = self
                .principals
                .get(p)
                .and_then(|k| k.test(floor, slack, min_excess))
            else {
                continue;
            };
            if !alarms(&test) || out.contains_key(p.as_str()) {
                continue;
            }
            let api = w
                .by_principal_api
                .range((p.clone(), String::new())..)
                .take_while(|((q, _), _)| q == p)
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|((_, api), _)| api.clone())
                .unwrap_or_default();
            out.insert(
                p,
                CountAlarm {
                    principal: p.clone(),
                    api,
                    test,
                },
            );
        }
        out.into_values().collect()
    }
}

/// Pushes this minute's count into every key (0 for the keys not seen), adds the new keys and
/// forgets the idle ones. Both maps are sorted: a merge, with no lookup per key.
pub(super) fn push_all<K: Ord + Clone>(keys: &mut BTreeMap<K, KeyRate>, now: &BTreeMap<K, u64>) {
    let mut now_iter = now.iter().peekable();
    let mut merged: Vec<(K, KeyRate)> = Vec::with_capacity(keys.len() + now.len());
    let new = |n: u64| {
        let mut k = KeyRate::default();
        k.push(n);
        k
    };
    for (k, mut rate) in std::mem::take(keys) {
        while let Some((nk, &n)) = now_iter.next_if(|(nk, _)| **nk < k) {
            merged.push((nk.clone(), new(n)));
        }
        let n = now_iter.next_if(|(nk, _)| **nk == k).map_or(0, |(_, &n)| n);
        rate.push(n);
        if !rate.idle() {
            merged.push((k, rate));
        }
    }
    merged.extend(now_iter.map(|(nk, &n)| (nk.clone(), new(n))));
    *keys = merged.into_iter().collect();
}

/// `-log10 P(X >= observed)` for `X ~ Poisson(expected)`; 0 when `observed <= expected`.
pub(super) fn surprise(observed: u64, expected: f64) -> f64 {
    if (observed as f64) <= expected {
        return 0.0;
    }
    let lambda = expected.max(1e-9);
    let k = observed as f64;
    // ln P(X = k), then the tail as P(X = k) * (1 + l/(k+1) + l²/((k+1)(k+2)) + ...): the
    // ratios fall under l/k < 1, so the sum converges fast.
    let ln_first = k * lambda.ln() - lambda - ln_factorial(observed);
    let (mut term, mut sum) = (1.0_f64, 1.0_f64);
    for j in 1..10_000u32 {
        term *= lambda / (k + f64::from(j));
        sum += term;
        if term < sum * 1e-12 {
            break;
        }
    }
    -(ln_first + sum.ln()) / std::f64::consts::LN_10
}

/// `ln(n!)`: exact sum up to 64, Stirling's series above (error under 1e-12).
fn ln_factorial(n: u64) -> f64 {
    if n <= 64 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let n = n as f64;
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n)
        - 1.0 / (360.0 * n.powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_poisson() {
        // P(X >= 2 | 1) = 1 - 2/e; P(X >= 5 | 0.5) = 1.7211e-4; P(X >= 3 | 2) = 0.32332.
        let p = |o, e| 10f64.powf(-surprise(o, e));
        assert!((p(2, 1.0) - (1.0 - 2.0 / std::f64::consts::E)).abs() < 1e-9);
        assert!((p(5, 0.5) / 1.7211e-4 - 1.0).abs() < 1e-3, "{}", p(5, 0.5));
        assert!((p(3, 2.0) / 0.32332 - 1.0).abs() < 1e-4, "{}", p(3, 2.0));
        assert_eq!(surprise(2, 2.0), 0.0);
        // Large counts (Stirling): P(X >= 150 | 100) is about 2.5e-6.
        let big = surprise(150, 100.0);
        assert!((5.4..5.8).contains(&big), "{big}");
        assert!((ln_factorial(65) - (ln_factorial(64) + 65f64.ln())).abs() < 1e-9);
    }

    #[test]
    fn a_key_is_tested_against_the_minutes_before_its_burst_window() {
        let mut k = KeyRate::default();
        for _ in 0..600 {
            k.push(2);
        }
        assert!((k.rate - 2.0).abs() < 1e-3);
        let before = k.rate;
        for _ in 0..WINDOW_MINUTES {
            k.push(8);
        }
        // The burst minutes are not in the rate yet.
        assert!((k.rate - before).abs() < 1e-3);
        assert!(
            k.test(0.0, 0.0, 31).is_none(),
            "30 calls more than expected"
        );
        let t = k.test(0.0, 0.0, 3).unwrap();
        assert_eq!((t.observed, t.minutes), (40, 5));
        assert!((t.expected - 10.0).abs() < 1e-2);
        assert!(t.surprise > 10.0, "{t:?}");
    }
}
