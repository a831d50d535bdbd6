//! One scope's state: its series, which principals are tracked (admission, hysteresis,
//! eviction), the per-key baselines, and the naming of a score's contributor.

use super::behaviour::{Behaviour, BehaviourV6};
use super::config::{
    DetectorConfig, ACTIVITY_MINUTES, ADMIT_ABOVE, BASELINE_MINUTES, EVICT_BELOW, REPLACE_FACTOR,
};
use super::counts::{CountAlarm, Counts};
use super::forest::{Forest, Scored, SeriesForest};
use super::{AlarmKind, Anomaly, Explanation, Scope, Series, WindowCounts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything a scope keeps: its forests and its count model (format 6, as 5 with `others`
/// optional; formats 1 to 4 held the forests only).
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct ScopeModels {
    pub(super) forests: ScopeState,
    pub(super) counts: Counts,
    /// New-behaviour alarms (accounts only: the organisation's would repeat them).
    pub(super) behaviour: Behaviour,
}

impl ScopeModels {
    pub(super) fn new(config: &DetectorConfig, scope: Scope, minute: i64) -> Self {
        ScopeModels {
            forests: ScopeState::new(config, scope, minute),
            counts: Counts::default(),
            behaviour: Behaviour::default(),
        }
    }

    /// A scope of a state saved before the count model, which starts learning now.
    pub(super) fn upgrade(config: &DetectorConfig, forests: ScopeStateV5) -> Self {
        ScopeModels {
            forests: forests.upgrade(config),
            counts: Counts::default(),
            behaviour: Behaviour::default(),
        }
    }

    /// Both models' scores of the window (see [`ScopeState::observe`]).
    pub(super) fn observe(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
    ) -> Vec<Anomaly> {
        let counted = self.counts.observe(config, w);
        let mut out = self.forests.observe(config, w, minute, counted);
        if w.scope != Scope::Org {
            // The source IP the burst detectors named (the one that grew most).
            let ip = out
                .iter()
                .find_map(|a| a.explanation.as_ref().and_then(|e| e.source_ip.clone()))
                .or_else(|| {
                    w.by_source_ip
                        .iter()
                        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                        .map(|(ip, _)| ip.clone())
                });
            out.extend(self.behaviour.observe(config, w, minute, ip.as_deref()));
        }
        out
    }
}

/// [`ScopeModels`] as format 5 saved them.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct ScopeModelsV5 {
    pub(super) forests: ScopeStateV5,
    pub(super) counts: Counts,
    pub(super) behaviour: BehaviourV6,
}

impl ScopeModelsV5 {
    /// The scope as this format keeps it under `config` (see [`ScopeStateV5::upgrade`]).
    pub(super) fn upgrade(self, config: &DetectorConfig) -> ScopeModels {
        ScopeModels {
            forests: self.forests.upgrade(config),
            counts: self.counts,
            behaviour: self.behaviour.upgrade(),
        }
    }
}

/// [`ScopeModels`] as format 6 saved them (`new_api` and `root` only).
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct ScopeModelsV6 {
    pub(super) forests: ScopeState,
    pub(super) counts: Counts,
    pub(super) behaviour: BehaviourV6,
}

impl ScopeModelsV6 {
    /// The scope as this format keeps it: the new-behaviour kinds since format 6 start
    /// learning.
    pub(super) fn upgrade(self) -> ScopeModels {
        ScopeModels {
            forests: self.forests,
            counts: self.counts,
            behaviour: self.behaviour.upgrade(),
        }
    }
}

/// Per-scope state (generic over the forest, as [`SeriesForest`]).
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct ScopeState<F = Forest> {
    /// Minute (Unix seconds / 60) of the last window observed.
    pub(super) last_minute: i64,
    pub(super) total: SeriesForest<F>,
    /// The untracked principals' series: none when no principal may have a forest
    /// (`max_principals` 0), for it would be `total` again, at the cost of a forest per scope.
    pub(super) others: Option<SeriesForest<F>>,
    pub(super) principals: BTreeMap<String, SeriesForest<F>>,
    /// Activity (calls/minute, [`ACTIVITY_MINUTES`]) of every recently active principal
    /// (empty when no principal may have a forest: only admission reads it).
    activity: BTreeMap<String, f64>,
    /// Recent average per (principal, API) and per source IP ([`BASELINE_MINUTES`]).
    key_baseline: BTreeMap<(String, String), f64>,
    ip_baseline: BTreeMap<String, f64>,
    /// Windows left during which `others` does not alarm: a change of the tracked
    /// principals shifts its level for a known reason (the change's effect leaves the
    /// shingle after `shingle` windows).
    others_settling: usize,
}

/// [`ScopeState`] as formats 1 to 5 saved it: `others` always held a forest.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct ScopeStateV5<F = Forest> {
    last_minute: i64,
    total: SeriesForest<F>,
    others: SeriesForest<F>,
    principals: BTreeMap<String, SeriesForest<F>>,
    activity: BTreeMap<String, f64>,
    key_baseline: BTreeMap<(String, String), f64>,
    ip_baseline: BTreeMap<String, f64>,
    others_settling: usize,
}

impl<F> ScopeStateV5<F> {
    /// The scope with each series' forest replaced by `f` of it (how states of format 1 to 3
    /// are read: their large forests become [`Forest::Large`]).
    pub(super) fn map_forests<G>(self, f: impl Fn(F) -> G) -> ScopeStateV5<G> {
        ScopeStateV5 {
            last_minute: self.last_minute,
            total: self.total.map_forest(&f),
            others: self.others.map_forest(&f),
            principals: self
                .principals
                .into_iter()
                .map(|(name, series)| (name, series.map_forest(&f)))
                .collect(),
            activity: self.activity,
            key_baseline: self.key_baseline,
            ip_baseline: self.ip_baseline,
            others_settling: self.others_settling,
        }
    }

    /// The scope as this format keeps it under `config`: without `others` and the principals'
    /// activity when no principal may have a forest (neither was read then: the scores are
    /// those of the saved scope).
    pub(super) fn upgrade(self, config: &DetectorConfig) -> ScopeState<F> {
        let principal_forests = config.max_principals > 0;
        ScopeState {
            last_minute: self.last_minute,
            total: self.total,
            others: principal_forests.then_some(self.others),
            principals: self.principals,
            activity: if principal_forests {
                self.activity
            } else {
                BTreeMap::new()
            },
            key_baseline: self.key_baseline,
            ip_baseline: self.ip_baseline,
            others_settling: self.others_settling,
        }
    }
}

impl ScopeState {
    /// The scope as format 5 saved it (for the tests of reading it), its `others` forest
    /// made anew when it has none.
    #[cfg(test)]
    pub(super) fn to_v5(&self, config: &DetectorConfig, scope: Scope) -> ScopeStateV5 {
        ScopeStateV5 {
            last_minute: self.last_minute,
            total: self.total.clone(),
            others: self
                .others
                .clone()
                .unwrap_or_else(|| SeriesForest::new(config, scope, &Series::Others)),
            principals: self.principals.clone(),
            activity: self.activity.clone(),
            key_baseline: self.key_baseline.clone(),
            ip_baseline: self.ip_baseline.clone(),
            others_settling: self.others_settling,
        }
    }
}

impl ScopeState {
    pub(super) fn new(config: &DetectorConfig, scope: Scope, minute: i64) -> Self {
        ScopeState {
            last_minute: minute - 1,
            total: SeriesForest::new(config, scope, &Series::Total),
            others: (config.max_principals > 0)
                .then(|| SeriesForest::new(config, scope, &Series::Others)),
            principals: BTreeMap::new(),
            activity: BTreeMap::new(),
            key_baseline: BTreeMap::new(),
            ip_baseline: BTreeMap::new(),
            others_settling: 0,
        }
    }

    /// The forests' scores of the window (`total`, `others` if kept, then each tracked
    /// principal's),
    /// with the count model's alarms (`counted`) joined in: the alarm of a tracked principal
    /// is set on its series' score, an untracked principal's is a score of its own.
    pub(super) fn observe(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
        counted: Vec<CountAlarm>,
    ) -> Vec<Anomaly> {
        self.last_minute = minute;
        if config.max_principals > 0 {
            decay_into(&mut self.activity, &w.by_principal, ACTIVITY_MINUTES);
        }
        let before = self.principals.len();
        let changed = self.track(config, w.scope, &w.by_principal);
        if changed && before > 0 {
            self.others_settling = config.shingle;
        }
        let others_may_alarm = self.others_settling == 0;
        self.others_settling = self.others_settling.saturating_sub(1);

        // What grew, computed once per window: each principal's API that grew most over its
        // baseline, and the source IP that grew most.
        let mut grown: BTreeMap<&str, (&str, f64)> = BTreeMap::new();
        // Both maps are sorted by the same key: a merge join, with no key built per lookup.
        let mut baselines = self.key_baseline.iter().peekable();
        for (key, &n) in &w.by_principal_api {
            while baselines.next_if(|(k, _)| *k < key).is_some() {}
            let base = baselines
                .next_if(|(k, _)| *k == key)
                .map_or(0.0, |(_, &b)| b);
            let (p, api) = key;
            let excess = n as f64 - base;
            if excess > 0.0 && grown.get(p.as_str()).is_none_or(|&(_, e)| excess > e) {
                grown.insert(p, (api, excess));
            }
        }
        let ip = w
            .by_source_ip
            .iter()
            .map(|(k, &n)| {
                (
                    k,
                    n as f64 - self.ip_baseline.get(k).copied().unwrap_or(0.0),
                )
            })
            .filter(|(_, excess)| *excess > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(k, _)| k.as_str());
        // The (principal, API) that grew most among the principals `include` takes.
        let best = |include: &dyn Fn(&str) -> bool| -> Option<(&str, &str)> {
            grown
                .iter()
                .filter(|(p, _)| include(p))
                .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1).then_with(|| b.0.cmp(a.0)))
                .map(|(p, (api, _))| (*p, *api))
        };
        let named = |key: Option<(&str, &str)>| match (key, ip) {
            (Some((p, api)), Some(ip)) => format!("principal:{p} api:{api} ip:{ip}"),
            (Some((p, api)), None) => format!("principal:{p} api:{api}"),
            (None, _) => "none".to_owned(),
        };
        let explain = |kind, observed, expected, minutes, key: Option<(&str, &str)>| Explanation {
            kind,
            observed,
            expected,
            minutes,
            principal: key.map(|(p, _)| p.to_owned()),
            api: key.map(|(_, api)| api.to_owned()),
            source_ip: ip.map(str::to_owned),
            // The region with most calls of the principal's API (of the principal, if none).
            region: key
                .and_then(|(p, api)| w.region_of(p, Some(api)).or_else(|| w.region_of(p, None)))
                .map(str::to_owned),
        };
        let anomaly = |series: Series, scored: Scored, key: Option<(&str, &str)>| {
            let alarm = scored.grew && scored.score >= config.alarm_threshold;
            Anomaly {
                time: w.start,
                scope: w.scope,
                series,
                score: scored.score,
                contributor: named(key),
                alarm,
                explanation: alarm
                    .then(|| explain(AlarmKind::Forest, scored.observed, scored.expected, 1, key)),
            }
        };

        let mut out = Vec::with_capacity(2 + self.principals.len());
        let min = config.min_alarm_increase;
        let scored = self.total.observe(w.total, min);
        out.push(anomaly(Series::Total, scored, best(&|_| true)));

        if let Some(forest) = &mut self.others {
            let tracked = &self.principals;
            let others: u64 = w
                .by_principal
                .iter()
                .filter(|(p, _)| !tracked.contains_key(*p))
                .map(|(_, n)| n)
                .sum();
            let untracked = best(&|p| !tracked.contains_key(p));
            let mut scored = forest.observe(others, min);
            scored.grew &= others_may_alarm;
            out.push(anomaly(Series::Others, scored, untracked));
        }

        for (name, series) in &mut self.principals {
            let n = w.by_principal.get(name).copied().unwrap_or(0);
            let scored = series.observe(n, min);
            out.push(anomaly(
                Series::Principal(name.clone()),
                scored,
                best(&|p| p == name),
            ));
        }

        // The count model's alarms: on the principal's series when it has one (the forest's
        // own alarm, if any, gives way: the count model names the window that grew), else a
        // score of their own.
        for c in counted {
            let key = Some((c.principal.as_str(), c.api.as_str()));
            let t = c.test;
            let explanation = explain(
                AlarmKind::Count,
                t.observed,
                t.expected,
                u32::from(t.minutes),
                key,
            );
            let contributor = named(key);
            let series = Series::Principal(c.principal);
            match out.iter_mut().find(|a| a.series == series) {
                Some(a) => {
                    a.alarm = true;
                    a.contributor = contributor;
                    a.explanation = Some(explanation);
                }
                None => out.push(Anomaly {
                    time: w.start,
                    scope: w.scope,
                    series,
                    score: t.surprise,
                    contributor,
                    alarm: true,
                    explanation: Some(explanation),
                }),
            }
        }

        // Baselines last: the contributor compares the window with the minutes before it.
        decay_into(
            &mut self.key_baseline,
            &w.by_principal_api,
            BASELINE_MINUTES,
        );
        decay_into(&mut self.ip_baseline, &w.by_source_ip, BASELINE_MINUTES);
        out
    }

    /// Gives forests to active principals, within `max_principals` (see the module doc).
    /// Returns whether the tracked principals changed.
    fn track(
        &mut self,
        config: &DetectorConfig,
        scope: Scope,
        seen: &BTreeMap<String, u64>,
    ) -> bool {
        let activity = &self.activity;
        let before = self.principals.len();
        self.principals
            .retain(|p, _| activity.get(p).is_some_and(|&a| a >= EVICT_BELOW));
        // Most active untracked principal in this window first; ties by name (determinism).
        let mut candidates: Vec<(&String, f64)> = seen
            .keys()
            .filter(|p| !self.principals.contains_key(*p))
            .map(|p| (p, activity.get(p).copied().unwrap_or(0.0)))
            .filter(|(_, a)| *a >= ADMIT_ABOVE)
            .collect();
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut changed = self.principals.len() != before;
        let mut replaced = false;
        for (p, a) in candidates {
            if self.principals.len() < config.max_principals {
                changed = true;
                self.principals.insert(
                    p.clone(),
                    SeriesForest::new(config, scope, &Series::Principal(p.clone())),
                );
            } else if !replaced {
                // At most one swap per window: each swap shifts the `others` series.
                replaced = true;
                let least = self
                    .principals
                    .keys()
                    .map(|q| (q, activity.get(q).copied().unwrap_or(0.0)))
                    .min_by(|x, y| x.1.total_cmp(&y.1).then_with(|| y.0.cmp(x.0)));
                if let Some((q, qa)) = least {
                    if a > REPLACE_FACTOR * qa {
                        let q = q.clone();
                        changed = true;
                        self.principals.remove(&q);
                        self.principals.insert(
                            p.clone(),
                            SeriesForest::new(config, scope, &Series::Principal(p.clone())),
                        );
                    }
                }
            }
        }
        changed
    }
}

/// Moves each average of `avg` towards this window's count (0 when absent), with time
/// constant `minutes`, adds the keys new in `now`, and forgets averages under
/// [`EVICT_BELOW`] (which bounds the maps by the recently active keys).
fn decay_into<K: Ord + Clone>(avg: &mut BTreeMap<K, f64>, now: &BTreeMap<K, u64>, minutes: f64) {
    // Both maps are sorted by key: merge them in one pass (no lookup per key), and rebuild
    // the map from the sorted result (a bulk build).
    let mut now_iter = now.iter().peekable();
    let mut merged: Vec<(K, f64)> = Vec::with_capacity(avg.len() + now.len());
    for (k, a) in std::mem::take(avg) {
        while let Some((nk, &n)) = now_iter.next_if(|(nk, _)| **nk < k) {
            merged.push((nk.clone(), n as f64 / minutes));
        }
        let n = now_iter.next_if(|(nk, _)| **nk == k).map_or(0, |(_, &n)| n);
        merged.push((k, a + (n as f64 - a) / minutes));
    }
    merged.extend(now_iter.map(|(nk, &n)| (nk.clone(), n as f64 / minutes)));
    *avg = merged
        .into_iter()
        .filter(|(_, a)| *a >= EVICT_BELOW)
        .collect();
}

#[cfg(test)]
mod tests {
    use crate::anomaly::forest::Forest;
    use crate::anomaly::tests::{small, window};
    use crate::anomaly::{Detector, Scope};

    #[test]
    fn new_forests_are_small() {
        let mut d = Detector::new(small());
        d.observe(&window(0, "org", 4));
        let scope = &d.scopes[&Scope::Org].forests;
        assert!([Some(&scope.total), scope.others.as_ref()]
            .into_iter()
            .flatten()
            .chain(scope.principals.values())
            .all(|s| matches!(s.forest, Forest::Small(_))));
    }
}
