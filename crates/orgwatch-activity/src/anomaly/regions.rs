//! `unused_region`: calls in a region the organisation does not use.
//!
//! What the organisation uses is knowledge of all its accounts, and the alarm is the
//! account's that made the calls, so the set lives in the [`super::Detector`] itself (saved
//! in its header), not in a scope: the organisation's scope is scored after its accounts in
//! each minute, and may not even be in memory when an account speaks. Accounts' windows of a
//! minute are judged against the regions known before that minute and their regions join
//! the set once the minute is over, so the accounts of one minute are judged alike whatever
//! their order.

use super::behaviour::alarm;
use super::config::{DetectorConfig, MAX_REGIONS};
use super::{AlarmKind, Anomaly, WindowCounts};
use orgwatch_model::activity::{most, region_is_telling};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The regions the organisation's accounts have called in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Regions {
    /// Minute of the first account window seen: the learning period starts there.
    since: Option<i64>,
    /// Known regions, each with the minute it was last called in (at most [`MAX_REGIONS`]).
    known: BTreeMap<String, i64>,
    /// Regions called in during `pending_minute`, known once it is over.
    pending: BTreeMap<String, i64>,
    pending_minute: i64,
}

impl Regions {
    /// Learns an account's window and returns its `unused_region` alarms: one per principal
    /// that called in regions not known, naming the one it called most in. Calls of global
    /// services ([`region_is_telling`]) neither count as use nor alarm.
    pub(super) fn observe(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
    ) -> Vec<Anomaly> {
        let since = *self.since.get_or_insert(minute);
        if minute > self.pending_minute {
            for (region, last) in std::mem::take(&mut self.pending) {
                self.remember(region, last);
            }
            self.pending_minute = minute;
        }
        let learnt = minute - since >= i64::from(config.unused_region_learning);
        // Per principal, its calls per unknown region.
        let mut unknown: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
        for ((p, api, region, _), &n) in &w.by_call {
            if !region_is_telling(api, region) {
                continue;
            }
            match self.known.get_mut(region.as_str()) {
                Some(last) => *last = (*last).max(minute),
                None => {
                    *unknown.entry(p).or_default().entry(region).or_insert(0) += n;
                }
            }
            if !self.pending.contains_key(region.as_str()) {
                self.pending.insert(region.clone(), minute);
            }
        }
        if !learnt || !config.unused_region_alarms {
            return Vec::new();
        }
        let most = |a: &(&str, u64), b: &(&str, u64)| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0));
        unknown
            .into_iter()
            .filter_map(|(p, regions)| {
                let (region, n) = regions.into_iter().max_by(most)?;
                // The principal's API and IP with most calls in that region.
                let mut apis: BTreeMap<&str, u64> = BTreeMap::new();
                let mut ips: BTreeMap<&str, u64> = BTreeMap::new();
                for ((q, api, r, ip), &m) in &w.by_call {
                    if q == p && r == region && region_is_telling(api, r) {
                        *apis.entry(api).or_insert(0) += m;
                        *ips.entry(ip).or_insert(0) += m;
                    }
                }
                let api = apis.into_iter().max_by(most).map(|(a, _)| a);
                let ip = ips
                    .into_iter()
                    .filter(|(ip, _)| *ip != orgwatch_model::activity::NONE)
                    .max_by(most)
                    .map(|(ip, _)| ip);
                Some(alarm(
                    w,
                    AlarmKind::UnusedRegion,
                    p,
                    api,
                    n,
                    (0.0, 1),
                    ip,
                    Some(region),
                ))
            })
            .collect()
    }

    /// Adds a region (or refreshes its last use), forgetting the least recently used one
    /// when [`MAX_REGIONS`] are known.
    fn remember(&mut self, region: String, last: i64) {
        if let Some(l) = self.known.get_mut(&region) {
            *l = (*l).max(last);
            return;
        }
        if self.known.len() >= MAX_REGIONS {
            let oldest = self
                .known
                .iter()
                .min_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.cmp(b.0)))
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.known.remove(&k);
            }
        }
        self.known.insert(region, last);
    }
}

/// Names the region of the organisation's alarms, whose window carries no per-call counts:
/// the region with most calls of the alarm's principal and API (of the principal, if none)
/// over the minute's account windows `accounts`. Alarms naming a region are left as they are;
/// only alarms are looked at (they are few), so it costs nothing on a quiet minute.
pub fn name_org_regions(scores: &mut [Anomaly], accounts: &[WindowCounts]) {
    for a in scores.iter_mut().filter(|a| a.alarm) {
        let Some(e) = a.explanation.as_mut() else {
            continue;
        };
        let Some(principal) = e.principal.as_deref().filter(|_| e.region.is_none()) else {
            continue;
        };
        let across = |api: Option<&str>| {
            let mut sums: BTreeMap<&str, u64> = BTreeMap::new();
            for w in accounts {
                for (region, n) in w.calls_by_region(principal, api) {
                    *sums.entry(region).or_insert(0) += n;
                }
            }
            most(sums).map(str::to_owned)
        };
        let region = across(e.api.as_deref()).or_else(|| across(None));
        e.region = region;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::tests::at;
    use crate::anomaly::{Explanation, Scope, Series};

    #[test]
    fn organisation_alarms_name_the_region_of_their_calls_across_accounts() {
        let get = "s3.amazonaws.com:GetObject";
        let mut a = WindowCounts::empty(at(0), "111111111111".parse().unwrap());
        a.add_in("ci", get, "eu-west-1", Some("192.0.2.1"));
        a.add_in(
            "ci",
            "s3.amazonaws.com:PutObject",
            "us-west-2",
            Some("192.0.2.1"),
        );
        a.add_in(
            "ci",
            "s3.amazonaws.com:PutObject",
            "us-west-2",
            Some("192.0.2.1"),
        );
        let mut b = WindowCounts::empty(at(0), "222222222222".parse().unwrap());
        b.add_in("ci", get, "eu-west-1", Some("192.0.2.1"));
        b.add_in("ci", get, "eu-central-1", Some("192.0.2.1"));
        let alarm = |api: Option<&str>, region: Option<&str>, alarm: bool| Anomaly {
            time: at(0),
            scope: Scope::Org,
            series: Series::Total,
            score: 3.0,
            contributor: String::new(),
            alarm,
            explanation: Some(Explanation {
                kind: AlarmKind::Forest,
                observed: 3,
                expected: 1.0,
                minutes: 1,
                principal: Some("ci".into()),
                api: api.map(str::to_owned),
                source_ip: None,
                region: region.map(str::to_owned),
            }),
        };
        let mut scores = vec![
            alarm(Some(get), None, true),
            alarm(None, None, true),
            alarm(Some("kms.amazonaws.com:Decrypt"), None, true),
            alarm(Some(get), Some("ap-south-1"), true),
            alarm(Some(get), None, false),
        ];
        name_org_regions(&mut scores, &[a, b]);
        let regions: Vec<Option<&str>> = scores
            .iter()
            .map(|s| s.explanation.as_ref().unwrap().region.as_deref())
            .collect();
        assert_eq!(
            regions,
            [
                Some("eu-west-1"),
                Some("eu-west-1"),
                Some("eu-west-1"),
                Some("ap-south-1"),
                None
            ]
        );
    }
}
