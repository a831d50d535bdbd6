//! New-behaviour alarms of one account: a principal calling an API it had not called
//! (`new_api`, after a learning period) and calls of the root user (`root`). Each has its own
//! switch in [`DetectorConfig`].

use super::config::DetectorConfig;
use super::{AlarmKind, Anomaly, Explanation, Series, WindowCounts};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The principal text of an account's root user (`Principal::Root`).
pub const ROOT: &str = "root";

/// A principal's baseline: when it was first seen and the APIs it has called.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Known {
    /// Minute (Unix seconds / 60) of its first call.
    since: i64,
    apis: BTreeSet<String>,
}

/// What one account's principals have done. It grows with the distinct (principal, API)
/// pairs, not with time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Behaviour {
    principals: BTreeMap<String, Known>,
}

impl Behaviour {
    /// Learns a window of an account and returns its new-behaviour alarms.
    pub(super) fn observe(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
        source_ip: Option<&str>,
    ) -> Vec<Anomaly> {
        let mut out = Vec::new();
        let alarm = |kind, principal: &str, api: Option<&str>, observed| Anomaly {
            time: w.start,
            scope: w.scope,
            series: Series::Behaviour(kind, principal.to_owned()),
            score: 0.0,
            contributor: match api {
                Some(api) => format!("principal:{principal} api:{api}"),
                None => format!("principal:{principal}"),
            },
            alarm: true,
            explanation: Some(Explanation {
                kind,
                observed,
                expected: 0.0,
                minutes: 1,
                principal: Some(principal.to_owned()),
                api: api.map(str::to_owned),
                source_ip: source_ip.map(str::to_owned),
                region: None,
            }),
        };
        if config.root_alarms {
            if let Some(&n) = w.by_principal.get(ROOT) {
                let api = w
                    .by_principal_api
                    .range((ROOT.to_owned(), String::new())..)
                    .take_while(|((p, _), _)| p == ROOT)
                    .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                    .map(|((_, api), _)| api.as_str());
                out.push(alarm(AlarmKind::Root, ROOT, api, n));
            }
        }
        // One alarm per principal and window: the new API it called most.
        let mut new: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
        for ((p, api), &n) in &w.by_principal_api {
            // Looked up before inserting: most keys are known, and need no allocation.
            if !self.principals.contains_key(p) {
                let known = Known {
                    since: minute,
                    apis: BTreeSet::new(),
                };
                self.principals.insert(p.clone(), known);
            }
            let Some(known) = self.principals.get_mut(p) else {
                continue;
            };
            if known.apis.contains(api) {
                continue;
            }
            known.apis.insert(api.clone());
            let learnt = minute - known.since >= i64::from(config.new_api_learning);
            if config.new_api_learning > 0
                && learnt
                && new.get(p.as_str()).is_none_or(|&(_, m)| n > m)
            {
                new.insert(p, (api, n));
            }
        }
        for (p, (api, n)) in new {
            out.push(alarm(AlarmKind::NewApi, p, Some(api), n));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::anomaly::tests::{at, small};
    use crate::anomaly::{AlarmKind, Anomaly, Detector, DetectorConfig, Series, WindowCounts};

    const ACCOUNT: &str = "123456789012";

    fn calls(m: i64, scope: &str, calls: &[(&str, &str)]) -> WindowCounts {
        let mut w = WindowCounts::empty(at(m), scope.parse().unwrap());
        for (p, api) in calls {
            w.add(p, api, Some("192.0.2.1"));
        }
        w
    }

    fn of_kind(scores: Vec<Anomaly>, kind: AlarmKind) -> Vec<Anomaly> {
        scores
            .into_iter()
            .filter(|a| a.explanation.as_ref().is_some_and(|e| e.kind == kind))
            .collect()
    }

    fn config(new_api_learning: u32, root_alarms: bool) -> DetectorConfig {
        DetectorConfig {
            new_api_learning,
            root_alarms,
            ..small()
        }
    }

    #[test]
    fn a_known_principal_calling_a_new_api_alarms_after_its_learning_period() {
        let mut d = Detector::new(config(60, true));
        let usual = [("alice", "s3.amazonaws.com:GetObject")];
        // Learning: alice's first hour is her baseline, new APIs included.
        for m in 0..60 {
            let w = if m == 30 {
                calls(
                    m,
                    ACCOUNT,
                    &[("alice", "ec2.amazonaws.com:DescribeInstances")],
                )
            } else {
                calls(m, ACCOUNT, &usual)
            };
            assert!(of_kind(d.observe(&w), AlarmKind::NewApi).is_empty(), "{m}");
        }
        // Learnt: an API she called while learning is known; a new one alarms, once.
        let known = calls(
            60,
            ACCOUNT,
            &[("alice", "ec2.amazonaws.com:DescribeInstances")],
        );
        assert!(of_kind(d.observe(&known), AlarmKind::NewApi).is_empty());
        let new = [
            ("alice", "iam.amazonaws.com:CreateUser"),
            ("alice", "iam.amazonaws.com:CreateUser"),
            ("alice", "s3.amazonaws.com:GetObject"),
        ];
        let alarms = of_kind(d.observe(&calls(61, ACCOUNT, &new)), AlarmKind::NewApi);
        assert_eq!(alarms.len(), 1);
        let a = &alarms[0];
        assert!(a.alarm);
        assert_eq!(
            a.series,
            Series::Behaviour(AlarmKind::NewApi, "alice".into())
        );
        assert_eq!(a.series.to_string(), "new_api:alice");
        let e = a.explanation.as_ref().unwrap();
        assert_eq!(
            (
                e.principal.as_deref(),
                e.api.as_deref(),
                e.observed,
                e.expected
            ),
            (Some("alice"), Some("iam.amazonaws.com:CreateUser"), 2, 0.0)
        );
        assert_eq!(e.source_ip.as_deref(), Some("192.0.2.1"));
        assert!(of_kind(d.observe(&calls(62, ACCOUNT, &new)), AlarmKind::NewApi).is_empty());
        // A principal new at minute 62 learns its own hour: a new account does not alarm on
        // everything.
        let bob = calls(63, ACCOUNT, &[("bob", "iam.amazonaws.com:CreateUser")]);
        assert!(of_kind(d.observe(&bob), AlarmKind::NewApi).is_empty());
        // Restored, the baseline is the same.
        let mut restored = Detector::from_bytes(&d.to_bytes()).unwrap();
        let w = calls(64, ACCOUNT, &[("alice", "kms.amazonaws.com:Decrypt")]);
        assert_eq!(restored.observe(&w), d.observe(&w));
        // The organisation does not repeat its accounts' alarms.
        let org = calls(64, "org", &[("alice", "kms.amazonaws.com:Encrypt")]);
        assert!(of_kind(d.observe(&org), AlarmKind::NewApi).is_empty());
    }

    #[test]
    fn new_api_alarms_are_off_with_a_learning_period_of_0() {
        let mut d = Detector::new(config(0, true));
        for m in 0..200 {
            let api = format!("s3.amazonaws.com:Api{m}");
            let w = calls(m, ACCOUNT, &[("alice", &api)]);
            assert!(of_kind(d.observe(&w), AlarmKind::NewApi).is_empty());
        }
    }

    #[test]
    fn every_minute_with_root_calls_alarms_unless_switched_off() {
        let w = calls(
            0,
            ACCOUNT,
            &[
                ("root", "iam.amazonaws.com:CreateAccessKey"),
                ("root", "iam.amazonaws.com:CreateAccessKey"),
                ("root", "signin.amazonaws.com:ConsoleLogin"),
                ("alice", "s3.amazonaws.com:GetObject"),
            ],
        );
        // No learning period: the first call of a new account's root user alarms.
        let alarms = of_kind(Detector::new(config(60, true)).observe(&w), AlarmKind::Root);
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0].series.to_string(), "root:root");
        let e = alarms[0].explanation.as_ref().unwrap();
        assert_eq!(
            (e.observed, e.api.as_deref()),
            (3, Some("iam.amazonaws.com:CreateAccessKey"))
        );
        let off = Detector::new(config(60, false)).observe(&w);
        assert!(of_kind(off, AlarmKind::Root).is_empty());
        let quiet = calls(0, ACCOUNT, &[("alice", "s3.amazonaws.com:GetObject")]);
        let none = Detector::new(config(60, true)).observe(&quiet);
        assert!(of_kind(none, AlarmKind::Root).is_empty());
    }
}
