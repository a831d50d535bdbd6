//! New-behaviour alarms of one account, each with its own switch in [`DetectorConfig`]:
//!
//! - `new_api`: a principal known for its learning period calls an API it had not called;
//! - `root`: the first minute of a root session (root calls after a quiet time);
//! - `new_source`: a principal known for its learning period calls from a source IP range
//!   (IPv4 /24, IPv6 /48, a service name as itself) or a region it had not used;
//! - `sign_in_failures`: a burst of failed console sign-ins in the account;
//! - `access_denied`: a principal's `AccessDenied`-family errors improbable given its own
//!   rate of them (the count model's Poisson tail test, `counts.rs`).
//!
//! (`unused_region`, knowledge of the whole organisation, is in `regions.rs`.)

use super::config::{
    DetectorConfig, ACCESS_DENIED_PRIOR, ACCESS_DENIED_THRESHOLD, MAX_SOURCES, SIGN_IN_MINUTES,
};
use super::counts::{push_all, KeyRate, WINDOW_MINUTES};
use super::{AlarmKind, Anomaly, Explanation, Series, WindowCounts};
use orgwatch_model::activity::{region_is_telling, NONE};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;

/// The principal text of an account's root user (`Principal::Root`).
pub const ROOT: &str = "root";

/// A principal's baseline: when it was first seen and the APIs it has called.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Known {
    /// Minute (Unix seconds / 60) of its first call.
    since: i64,
    apis: BTreeSet<String>,
}

/// Where a principal has called from: its source ranges and regions, each with the minute
/// it was last seen (at most [`MAX_SOURCES`] of each, the least recently seen forgotten).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Sources {
    /// Minute of its first call since `new_source` knew it.
    since: i64,
    ranges: BTreeMap<String, i64>,
    regions: BTreeMap<String, i64>,
}

/// Failed console sign-ins of one minute, keyed (principal, source IP).
type Failures = BTreeMap<(String, String), u64>;

/// What one account's principals have done. It grows with the distinct (principal, API)
/// pairs and principals, not with time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Behaviour {
    principals: BTreeMap<String, Known>,
    /// Minute of the last root call (`root`).
    root_last: Option<i64>,
    sources: BTreeMap<String, Sources>,
    /// Failed console sign-ins of the last [`SIGN_IN_MINUTES`], per minute, keyed
    /// (principal, source IP); minutes without any are not kept.
    sign_in_failures: VecDeque<(i64, Failures)>,
    /// Minute of the last `sign_in_failures` alarm.
    sign_in_alarmed: Option<i64>,
    /// Windows seen by the refused-calls model: none alarms during the first
    /// [`DetectorConfig::count_learning`].
    denied_minutes: u64,
    /// Per principal, its refused calls (`access_denied`).
    denied: BTreeMap<String, KeyRate>,
    /// Per principal, the minute of its last `access_denied` alarm, for the
    /// [`WINDOW_MINUTES`] after it (a spike is in the tested windows that long: it alarms
    /// once, not once per window that holds it).
    denied_alarmed: BTreeMap<String, i64>,
}

/// [`Behaviour`] as formats 5 and 6 saved it (`new_api` only). Read, the other kinds start
/// learning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct BehaviourV6 {
    principals: BTreeMap<String, Known>,
}

impl BehaviourV6 {
    /// The behaviour as this format keeps it: the `new_api` baselines kept.
    pub(super) fn upgrade(self) -> Behaviour {
        Behaviour {
            principals: self.principals,
            ..Behaviour::default()
        }
    }
}

impl Behaviour {
    /// The behaviour as formats 5 and 6 saved it (for the tests of reading them).
    #[cfg(test)]
    pub(super) fn to_v6(&self) -> BehaviourV6 {
        BehaviourV6 {
            principals: self.principals.clone(),
        }
    }
}

/// The range a source IP is judged by: its IPv4 /24 or IPv6 /48, or the text itself when
/// it is no address (a service name such as `ec2.amazonaws.com`, `AWS Internal`).
pub(super) fn source_range(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        Err(_) => ip.to_owned(),
    }
}

/// Marks `key` seen at `minute` in a bounded map of last-seen minutes; returns whether it
/// was new. When full, the least recently seen key (the first in text order among equals)
/// is forgotten.
fn remember(seen: &mut BTreeMap<String, i64>, key: &str, minute: i64) -> bool {
    if let Some(last) = seen.get_mut(key) {
        *last = minute;
        return false;
    }
    if seen.len() >= MAX_SOURCES {
        let oldest = seen
            .iter()
            .min_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.cmp(b.0)))
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            seen.remove(&k);
        }
    }
    seen.insert(key.to_owned(), minute);
    true
}

/// A new-behaviour alarm of the window `w`: its explanation's source IP and region are those
/// with most calls of the principal (and API, when named) in the window, unless given.
#[allow(clippy::too_many_arguments)]
pub(super) fn alarm(
    w: &WindowCounts,
    kind: AlarmKind,
    principal: &str,
    api: Option<&str>,
    observed: u64,
    (expected, minutes): (f64, u32),
    source_ip: Option<&str>,
    region: Option<&str>,
) -> Anomaly {
    let source_ip = source_ip
        .or_else(|| w.source_ip_of(principal, api))
        .or_else(|| w.source_ip_of(principal, None));
    let region = region
        .or_else(|| w.region_of(principal, api))
        .or_else(|| w.region_of(principal, None));
    Anomaly {
        time: w.start,
        scope: w.scope,
        series: Series::Behaviour(kind, principal.to_owned()),
        score: 0.0,
        contributor: match (api, source_ip) {
            (Some(api), Some(ip)) => format!("principal:{principal} api:{api} ip:{ip}"),
            (Some(api), None) => format!("principal:{principal} api:{api}"),
            (None, _) => format!("principal:{principal}"),
        },
        alarm: true,
        explanation: Some(Explanation {
            kind,
            observed,
            expected,
            minutes,
            principal: Some(principal.to_owned()),
            api: api.map(str::to_owned),
            source_ip: source_ip.map(str::to_owned),
            region: region.map(str::to_owned),
        }),
    }
}

/// A new source of one principal in one window, as it alarms.
#[derive(Default)]
struct NewSource<'w> {
    /// Calls from it in the window.
    calls: u64,
    /// Its call key with most calls: (API, region, source IP, calls).
    top: (&'w str, &'w str, &'w str, u64),
}

impl Behaviour {
    /// Learns a window of an account and returns its new-behaviour alarms (`ip`: the source
    /// IP the burst detectors named, used when the window does not say where a principal
    /// called from).
    pub(super) fn observe(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
        ip: Option<&str>,
    ) -> Vec<Anomaly> {
        let mut out = Vec::new();
        self.root(config, w, minute, ip, &mut out);
        self.new_api(config, w, minute, ip, &mut out);
        self.new_source(config, w, minute, &mut out);
        self.sign_in_failures(config, w, minute, &mut out);
        self.access_denied(config, w, minute, &mut out);
        out
    }

    /// `root`: the first minute with root calls after [`DetectorConfig::root_quiet`] quiet
    /// minutes.
    fn root(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
        ip: Option<&str>,
        out: &mut Vec<Anomaly>,
    ) {
        let Some(&n) = w.by_principal.get(ROOT) else {
            return;
        };
        let new_session = self
            .root_last
            .is_none_or(|last| minute - last > i64::from(config.root_quiet));
        self.root_last = Some(minute);
        if !config.root_alarms || !new_session {
            return;
        }
        let api = w
            .by_principal_api
            .range((ROOT.to_owned(), String::new())..)
            .take_while(|((p, _), _)| p == ROOT)
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|((_, api), _)| api.as_str());
        let ip = w.source_ip_of(ROOT, api).or(ip);
        out.push(alarm(w, AlarmKind::Root, ROOT, api, n, (0.0, 1), ip, None));
    }

    /// `new_api`: one alarm per principal and window, the new API it called most.
    fn new_api(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
        ip: Option<&str>,
        out: &mut Vec<Anomaly>,
    ) {
        let on = config.new_api_alarms && config.new_api_learning > 0;
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
            if on && learnt && new.get(p.as_str()).is_none_or(|&(_, m)| n > m) {
                new.insert(p, (api, n));
            }
        }
        for (p, (api, n)) in new {
            let ip = w.source_ip_of(p, Some(api)).or(ip);
            let a = alarm(w, AlarmKind::NewApi, p, Some(api), n, (0.0, 1), ip, None);
            out.push(a);
        }
    }

    /// `new_source`: one alarm per principal and window, the new range or region it called
    /// most from. Regions of global services ([`region_is_telling`]) are not learnt.
    fn new_source(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
        out: &mut Vec<Anomaly>,
    ) {
        let learning = i64::from(config.new_source_learning);
        // Per principal, its new sources (a range, or a region) of this window.
        let mut new: BTreeMap<&str, BTreeMap<String, NewSource<'_>>> = BTreeMap::new();
        let mut current: Option<(&str, bool)> = None;
        for ((p, api, region, ip), &n) in &w.by_call {
            if current.is_none_or(|(q, _)| q != p) {
                if !self.sources.contains_key(p) {
                    let fresh = Sources {
                        since: minute,
                        ..Sources::default()
                    };
                    self.sources.insert(p.clone(), fresh);
                }
                let learnt = self
                    .sources
                    .get(p)
                    .is_some_and(|s| minute - s.since >= learning);
                current = Some((p, learnt));
            }
            let Some(sources) = self.sources.get_mut(p) else {
                continue;
            };
            let learnt = current.is_some_and(|(_, l)| l);
            let mut found = Vec::new();
            if ip != NONE {
                let range = source_range(ip);
                if remember(&mut sources.ranges, &range, minute) || is_new(&new, p, &range) {
                    found.push(range);
                }
            }
            if region_is_telling(api, region) {
                let key = format!("region {region}");
                if remember(&mut sources.regions, region, minute) || is_new(&new, p, &key) {
                    found.push(key);
                }
            }
            if !learnt {
                continue;
            }
            for key in found {
                let s = new.entry(p).or_default().entry(key).or_default();
                s.calls += n;
                if n > s.top.3 {
                    s.top = (api, region, ip, n);
                }
            }
        }
        if !config.new_source_alarms {
            return;
        }
        for (p, sources) in new {
            let best = sources
                .iter()
                .max_by(|a, b| a.1.calls.cmp(&b.1.calls).then_with(|| b.0.cmp(a.0)));
            if let Some((_, s)) = best {
                let (api, region, ip, _) = s.top;
                let ip = (ip != NONE).then_some(ip);
                let region = (region != NONE).then_some(region);
                let a = alarm(
                    w,
                    AlarmKind::NewSource,
                    p,
                    Some(api),
                    s.calls,
                    (0.0, 1),
                    ip,
                    region,
                );
                out.push(a);
            }
        }
    }

    /// `sign_in_failures`: at least [`DetectorConfig::sign_in_failures`] failed console
    /// sign-ins within [`SIGN_IN_MINUTES`], at most one alarm per [`SIGN_IN_MINUTES`].
    fn sign_in_failures(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
        out: &mut Vec<Anomaly>,
    ) {
        while self
            .sign_in_failures
            .front()
            .is_some_and(|(m, _)| minute - m >= SIGN_IN_MINUTES)
        {
            self.sign_in_failures.pop_front();
        }
        if !w.failed_sign_ins.is_empty() {
            self.sign_in_failures
                .push_back((minute, w.failed_sign_ins.clone()));
        }
        if !config.sign_in_failure_alarms || config.sign_in_failures == 0 {
            return;
        }
        let mut by_key: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for (_, failures) in &self.sign_in_failures {
            for ((p, ip), n) in failures {
                *by_key.entry((p, ip)).or_insert(0) += n;
            }
        }
        let total: u64 = by_key.values().sum();
        let resting = self
            .sign_in_alarmed
            .is_some_and(|m| minute - m < SIGN_IN_MINUTES);
        if total < u64::from(config.sign_in_failures) || resting {
            return;
        }
        self.sign_in_alarmed = Some(minute);
        let mut by_principal: BTreeMap<&str, u64> = BTreeMap::new();
        for ((p, _), n) in &by_key {
            *by_principal.entry(p).or_insert(0) += n;
        }
        let most = |a: &(&str, u64), b: &(&str, u64)| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0));
        let Some((p, _)) = by_principal.into_iter().max_by(most) else {
            return;
        };
        let ip = by_key
            .iter()
            .filter(|((q, ip), _)| *q == p && *ip != NONE)
            .map(|((_, ip), &n)| (*ip, n))
            .max_by(most)
            .map(|(ip, _)| ip);
        let minutes = (minute - self.sign_in_failures.front().map_or(minute, |f| f.0) + 1) as u32;
        let a = alarm(
            w,
            AlarmKind::SignInFailures,
            p,
            None,
            total,
            (0.0, minutes),
            ip,
            None,
        );
        out.push(a);
    }

    /// `access_denied`: each principal's refused calls against its own rate of them; a
    /// principal that alarmed does not again for [`WINDOW_MINUTES`].
    fn access_denied(
        &mut self,
        config: &DetectorConfig,
        w: &WindowCounts,
        minute: i64,
        out: &mut Vec<Anomaly>,
    ) {
        let resting = WINDOW_MINUTES as i64;
        self.denied_alarmed.retain(|_, &mut m| minute - m < resting);
        let mut denied: BTreeMap<String, u64> = BTreeMap::new();
        for ((p, _), &n) in &w.denied {
            *denied.entry(p.clone()).or_insert(0) += n;
        }
        self.denied_minutes += 1;
        push_all(&mut self.denied, &denied);
        if !config.access_denied_alarms || self.denied_minutes <= config.count_learning {
            return;
        }
        let min_excess = u64::from(config.access_denied_min);
        for p in denied.keys() {
            if self.denied_alarmed.contains_key(p) {
                continue;
            }
            let Some(test) = self
                .denied
                .get(p)
                .and_then(|k| k.test(ACCESS_DENIED_PRIOR, config.count_slack, min_excess))
            else {
                continue;
            };
            if test.surprise < ACCESS_DENIED_THRESHOLD {
                continue;
            }
            let api = w
                .denied
                .range((p.clone(), String::new())..)
                .take_while(|((q, _), _)| q == p)
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|((_, api), _)| api.as_str());
            let a = alarm(
                w,
                AlarmKind::AccessDenied,
                p,
                api,
                test.observed,
                (test.expected, u32::from(test.minutes)),
                None,
                None,
            );
            self.denied_alarmed.insert(p.clone(), minute);
            out.push(a);
        }
    }
}

/// Whether `key` is already a new source of `p` in this window (a second call key from it).
fn is_new(new: &BTreeMap<&str, BTreeMap<String, NewSource<'_>>>, p: &str, key: &str) -> bool {
    new.get(p).is_some_and(|s| s.contains_key(key))
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

    /// A window of calls (principal, API, region, source IP) of `scope` at minute `m`.
    fn placed(m: i64, scope: &str, calls: &[(&str, &str, &str, &str)]) -> WindowCounts {
        let mut w = WindowCounts::empty(at(m), scope.parse().unwrap());
        for (p, api, region, ip) in calls {
            w.add_in(p, api, region, Some(ip));
        }
        w
    }

    fn explained(a: &Anomaly) -> (&str, Option<&str>, Option<&str>, Option<&str>, u64) {
        let e = a.explanation.as_ref().unwrap();
        (
            e.principal.as_deref().unwrap(),
            e.api.as_deref(),
            e.source_ip.as_deref(),
            e.region.as_deref(),
            e.observed,
        )
    }

    #[test]
    fn root_alarms_once_per_session_after_a_quiet_hour() {
        let root = |m: i64| {
            placed(
                m,
                ACCOUNT,
                &[(
                    "root",
                    "ec2.amazonaws.com:RunInstances",
                    "eu-west-1",
                    "192.0.2.7",
                )],
            )
        };
        let mut d = Detector::new(config(60, true));
        let mut alarmed = Vec::new();
        // A session of 31 minutes, root back after 59 quiet minutes (the same session), then
        // after 60 (a new one).
        for m in (0..=30).chain([90, 151, 152]) {
            if !of_kind(d.observe(&root(m)), AlarmKind::Root).is_empty() {
                alarmed.push(m);
            }
        }
        assert_eq!(alarmed, [0, 151]);
        let alarms = of_kind(
            Detector::new(config(60, true)).observe(&root(0)),
            AlarmKind::Root,
        );
        assert_eq!(
            explained(&alarms[0]),
            (
                "root",
                Some("ec2.amazonaws.com:RunInstances"),
                Some("192.0.2.7"),
                Some("eu-west-1"),
                1
            )
        );
        // A quiet time of 0: every minute with root calls alarms, as before.
        let mut every = Detector::new(DetectorConfig {
            root_quiet: 0,
            ..config(60, true)
        });
        let n = (0..10)
            .filter(|&m| !of_kind(every.observe(&root(m)), AlarmKind::Root).is_empty())
            .count();
        assert_eq!(n, 10);
        // Restored, the session goes on.
        let mut restored = Detector::from_bytes(&d.to_bytes()).unwrap();
        assert_eq!(restored.observe(&root(153)), d.observe(&root(153)));
        assert!(of_kind(restored.observe(&root(154)), AlarmKind::Root).is_empty());
    }

    #[test]
    fn new_source_alarms_on_a_new_range_or_region_after_the_learning_period() {
        let learning = DetectorConfig {
            new_source_learning: 60,
            ..config(0, true)
        };
        let get = "s3.amazonaws.com:GetObject";
        let mut d = Detector::new(learning.clone());
        let new_sources =
            |d: &mut Detector, w: &WindowCounts| of_kind(d.observe(w), AlarmKind::NewSource);
        for m in 0..60 {
            // Learning: another range and region at minute 30 join the baseline.
            let w = if m == 30 {
                placed(
                    m,
                    ACCOUNT,
                    &[("alice", get, "eu-central-1", "198.51.100.7")],
                )
            } else {
                placed(m, ACCOUNT, &[("alice", get, "eu-west-1", "192.0.2.1")])
            };
            assert!(new_sources(&mut d, &w).is_empty(), "{m}");
        }
        // Known: another address of a known /24, a known region.
        let known = [
            ("alice", get, "eu-west-1", "192.0.2.99"),
            ("alice", get, "eu-central-1", "198.51.100.8"),
        ];
        assert!(new_sources(&mut d, &placed(60, ACCOUNT, &known)).is_empty());
        // A new range: one alarm, naming the address, its API and region.
        let from_new_range = [
            (
                "alice",
                "ec2.amazonaws.com:DescribeInstances",
                "eu-west-1",
                "203.0.113.5",
            ),
            (
                "alice",
                "ec2.amazonaws.com:DescribeInstances",
                "eu-west-1",
                "203.0.113.5",
            ),
            ("alice", get, "eu-west-1", "203.0.113.6"),
            ("alice", get, "eu-west-1", "192.0.2.1"),
        ];
        let alarms = new_sources(&mut d, &placed(61, ACCOUNT, &from_new_range));
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0].series.to_string(), "new_source:alice");
        assert_eq!(
            explained(&alarms[0]),
            (
                "alice",
                Some("ec2.amazonaws.com:DescribeInstances"),
                Some("203.0.113.5"),
                Some("eu-west-1"),
                3
            )
        );
        let e = alarms[0].explanation.as_ref().unwrap();
        assert_eq!((e.expected, e.minutes), (0.0, 1));
        // Known from then on.
        let again = [("alice", get, "eu-west-1", "203.0.113.200")];
        assert!(new_sources(&mut d, &placed(62, ACCOUNT, &again)).is_empty());
        // A new region from a known address.
        let far = [("alice", get, "ap-southeast-2", "192.0.2.1")];
        let alarms = new_sources(&mut d, &placed(63, ACCOUNT, &far));
        assert_eq!(
            explained(&alarms[0]),
            (
                "alice",
                Some(get),
                Some("192.0.2.1"),
                Some("ap-southeast-2"),
                1
            )
        );
        // A global service's region is not where alice works; a service calling for her is a
        // source of its own; IPv6 by /48.
        let iam = [(
            "alice",
            "iam.amazonaws.com:ListUsers",
            "us-east-1",
            "192.0.2.1",
        )];
        assert!(new_sources(&mut d, &placed(64, ACCOUNT, &iam)).is_empty());
        let service = [("alice", get, "eu-west-1", "cloudformation.amazonaws.com")];
        let alarms = new_sources(&mut d, &placed(65, ACCOUNT, &service));
        assert_eq!(
            alarms[0].explanation.as_ref().unwrap().source_ip.as_deref(),
            Some("cloudformation.amazonaws.com")
        );
        let v6 = |m, ip| placed(m, ACCOUNT, &[("alice", get, "eu-west-1", ip)]);
        assert_eq!(new_sources(&mut d, &v6(66, "2001:db8:1:2::5")).len(), 1);
        assert!(new_sources(&mut d, &v6(67, "2001:db8:1:ffff::1")).is_empty());
        assert_eq!(new_sources(&mut d, &v6(68, "2001:db8:2::1")).len(), 1);
        // A principal new now learns its own hour.
        let bob = [("bob", get, "sa-east-1", "203.0.113.77")];
        assert!(new_sources(&mut d, &placed(69, ACCOUNT, &bob)).is_empty());
        // Restored, it continues identically; the organisation does not repeat it.
        let mut restored = Detector::from_bytes(&d.to_bytes()).unwrap();
        let w = placed(70, ACCOUNT, &[("alice", get, "us-west-2", "192.0.2.1")]);
        let a = d.observe(&w);
        assert_eq!(of_kind(a.clone(), AlarmKind::NewSource).len(), 1);
        assert_eq!(restored.observe(&w), a);
        let org = placed(70, "org", &[("alice", get, "af-south-1", "100.64.0.1")]);
        assert!(new_sources(&mut d, &org).is_empty());
        // Switched off: nothing, though the sources are new.
        let mut off = Detector::new(DetectorConfig {
            new_source_alarms: false,
            ..learning
        });
        for m in 0..200 {
            let ip = format!("10.{}.{}.1", m / 256, m % 256);
            let w = placed(m, ACCOUNT, &[("alice", get, "eu-west-1", &ip)]);
            assert!(new_sources(&mut off, &w).is_empty());
        }
    }

    #[test]
    fn a_principal_remembers_its_most_recent_sources_only() {
        let mut d = Detector::new(DetectorConfig {
            new_source_learning: 1,
            ..config(0, true)
        });
        let get = "s3.amazonaws.com:GetObject";
        let from = |m: i64, i: usize| {
            let ip = format!("10.0.{i}.1");
            placed(m, ACCOUNT, &[("alice", get, "eu-west-1", &ip)])
        };
        // MAX_SOURCES + 1 ranges, one a minute: the first is forgotten, the second is not.
        let n = super::MAX_SOURCES;
        for i in 0..=n {
            let alarms = of_kind(d.observe(&from(i as i64, i)), AlarmKind::NewSource);
            assert_eq!(alarms.len(), usize::from(i > 0), "{i}");
        }
        let m = n as i64 + 1;
        assert!(of_kind(d.observe(&from(m, 1)), AlarmKind::NewSource).is_empty());
        assert_eq!(
            of_kind(d.observe(&from(m + 1, 0)), AlarmKind::NewSource).len(),
            1
        );
        assert_eq!(super::source_range("192.0.2.250"), "192.0.2.0/24");
        assert_eq!(super::source_range("2001:DB8:a:b:c::1"), "2001:db8:a::/48");
        assert_eq!(super::source_range("AWS Internal"), "AWS Internal");
    }

    #[test]
    fn a_burst_of_failed_sign_ins_alarms_once_per_five_minutes() {
        let login = "signin.amazonaws.com:ConsoleLogin";
        let failures = |m: i64, scope: &str, tries: &[(&str, &str)]| {
            let mut w = WindowCounts::empty(at(m), scope.parse().unwrap());
            for (user, ip) in tries {
                w.add_in(user, login, "us-east-1", Some(ip));
                w.fail_sign_in(user, Some(ip));
            }
            w
        };
        let eve = ("eve", "203.0.113.9");
        let mallory = ("mallory", "198.51.100.3");
        let mut d = Detector::new(config(60, true));
        let mut alarms = Vec::new();
        // No learning: 2 + 2 + 1 failures within 5 minutes alarm at the fifth, from the start.
        for (m, tries) in [
            (0, vec![eve, eve]),
            (2, vec![eve, mallory]),
            (4, vec![eve]),
            // Still failing: resting until minute 9.
            (6, vec![eve; 5]),
            (8, vec![eve; 5]),
            (9, vec![eve; 5]),
        ] {
            let found = of_kind(
                d.observe(&failures(m, ACCOUNT, &tries)),
                AlarmKind::SignInFailures,
            );
            alarms.extend(found.into_iter().map(|a| (m, a)));
        }
        let minutes: Vec<i64> = alarms.iter().map(|(m, _)| *m).collect();
        assert_eq!(minutes, [4, 9]);
        let a = &alarms[0].1;
        assert_eq!(a.series.to_string(), "sign_in_failures:eve");
        assert_eq!(
            explained(a),
            ("eve", None, Some("203.0.113.9"), Some("us-east-1"), 5)
        );
        assert_eq!(a.explanation.as_ref().unwrap().minutes, 5);
        // Failures spread thinner (4 in any 5 minutes) never alarm.
        let mut slow = Detector::new(config(60, true));
        for m in (0..600).step_by(3) {
            let w = failures(m, ACCOUNT, &[eve, eve]);
            assert!(
                of_kind(slow.observe(&w), AlarmKind::SignInFailures).is_empty(),
                "{m}"
            );
        }
        // A threshold of 3 alarms on 3; switched off, nothing; the organisation never.
        let three = DetectorConfig {
            sign_in_failures: 3,
            ..config(60, true)
        };
        let w = failures(0, ACCOUNT, &[eve, eve, mallory]);
        let found = of_kind(
            Detector::new(three.clone()).observe(&w),
            AlarmKind::SignInFailures,
        );
        assert_eq!(found.len(), 1);
        let off = DetectorConfig {
            sign_in_failure_alarms: false,
            ..three.clone()
        };
        assert!(of_kind(Detector::new(off).observe(&w), AlarmKind::SignInFailures).is_empty());
        let org = failures(0, "org", &[eve; 10]);
        assert!(of_kind(
            Detector::new(three).observe(&org),
            AlarmKind::SignInFailures
        )
        .is_empty());
        // Restored mid-burst, it continues identically.
        let mut d = Detector::new(config(60, true));
        d.observe(&failures(0, ACCOUNT, &[eve, eve, eve]));
        let mut restored = Detector::from_bytes(&d.to_bytes()).unwrap();
        let w = failures(1, ACCOUNT, &[mallory, mallory]);
        let a = d.observe(&w);
        assert_eq!(of_kind(a.clone(), AlarmKind::SignInFailures).len(), 1);
        assert_eq!(restored.observe(&w), a);
    }

    #[test]
    fn a_spike_of_refused_calls_alarms_against_the_principals_own_rate() {
        let put = "s3.amazonaws.com:PutObject";
        let run = "ec2.amazonaws.com:RunInstances";
        let denied = |m: i64, scope: &str, refused: &[(&str, &str, usize)]| {
            let mut w = WindowCounts::empty(at(m), scope.parse().unwrap());
            w.add_in(
                "ci",
                "s3.amazonaws.com:GetObject",
                "eu-west-1",
                Some("192.0.2.1"),
            );
            for &(p, api, n) in refused {
                for _ in 0..n {
                    w.add_in(p, api, "eu-west-1", Some("192.0.2.1"));
                    w.deny(p, api);
                }
            }
            w
        };
        let of =
            |d: &mut Detector, w: &WindowCounts| of_kind(d.observe(w), AlarmKind::AccessDenied);
        let learning = config(60, true).count_learning;
        let mut d = Detector::new(config(60, true));
        // A job refused 2 times a minute, every minute; during learning even 40 refusals do
        // not alarm.
        for m in 0..120 {
            let n = if m == 30 { 40 } else { 2 };
            let found = of(&mut d, &denied(m, ACCOUNT, &[("ci", put, n)]));
            assert!(found.is_empty(), "{m}");
        }
        assert!(learning < 120);
        // Its usual 2 do not alarm; 30 do, naming the API refused most.
        let spike = [("ci", put, 10), ("ci", run, 20)];
        let found = of(&mut d, &denied(120, ACCOUNT, &spike));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].series.to_string(), "access_denied:ci");
        assert_eq!(
            explained(&found[0]),
            ("ci", Some(run), Some("192.0.2.1"), Some("eu-west-1"), 30)
        );
        let e = found[0].explanation.as_ref().unwrap();
        assert_eq!(e.minutes, 1);
        assert!((2.0..3.0).contains(&e.expected), "{}", e.expected);
        // Once: the minutes after, whose 2- and 5-minute windows still hold the spike, and a
        // second spike within 5 minutes, do not alarm again; a spike after them does.
        for m in 121..125 {
            let n = if m == 123 { 30 } else { 2 };
            assert!(
                of(&mut d, &denied(m, ACCOUNT, &[("ci", put, n)])).is_empty(),
                "{m}"
            );
        }
        assert_eq!(
            of(&mut d, &denied(125, ACCOUNT, &[("ci", put, 60)])).len(),
            1
        );
        // A principal never refused: 9 refusals are under the floor (10 more than expected),
        // 12 are not.
        assert!(of(&mut d, &denied(126, ACCOUNT, &[("eve", run, 9)])).is_empty());
        let mut fresh = Detector::from_bytes(&d.to_bytes()).unwrap();
        let w = denied(127, ACCOUNT, &[("mallory", run, 12)]);
        let found = of(&mut d, &w);
        assert_eq!(found.len(), 1);
        // Restored, identically; switched off or in the organisation, nothing.
        assert_eq!(of(&mut fresh, &w), found);
        let mut off = Detector::new(DetectorConfig {
            access_denied_alarms: false,
            ..config(60, true)
        });
        let mut org = Detector::new(config(60, true));
        for m in 0..200 {
            let n = if m > 100 { 50 } else { 0 };
            assert!(of(&mut off, &denied(m, ACCOUNT, &[("eve", run, n)])).is_empty());
            assert!(of(&mut org, &denied(m, "org", &[("eve", run, n)])).is_empty());
        }
    }

    #[test]
    fn unused_region_alarms_on_the_account_that_called_there() {
        const OTHER: &str = "210987654321";
        let get = "s3.amazonaws.com:GetObject";
        let mut d = Detector::new(DetectorConfig {
            unused_region_learning: 60,
            ..config(0, true)
        });
        let unused = |d: &mut Detector, ws: &[WindowCounts]| -> Vec<Anomaly> {
            ws.iter()
                .flat_map(|w| of_kind(d.observe(w), AlarmKind::UnusedRegion))
                .collect()
        };
        for m in 0..60 {
            // The organisation's regions: each account's, and one used once while learning.
            let mut a = vec![("alice", get, "eu-west-1", "192.0.2.1")];
            if m == 30 {
                a.push(("alice", get, "ap-south-1", "192.0.2.1"));
            }
            let ws = [
                placed(m, ACCOUNT, &a),
                placed(m, OTHER, &[("bob", get, "us-west-2", "198.51.100.1")]),
                placed(m, "org", &[]),
            ];
            assert!(unused(&mut d, &ws).is_empty(), "{m}");
        }
        // Another account's region, one used once: the organisation uses them.
        let ws = [
            placed(60, ACCOUNT, &[("alice", get, "us-west-2", "192.0.2.1")]),
            placed(60, OTHER, &[("bob", get, "ap-south-1", "198.51.100.1")]),
        ];
        assert!(unused(&mut d, &ws).is_empty());
        // A region no account used: each account calling there in that minute alarms, on
        // itself; global services' regions never.
        let run = "ec2.amazonaws.com:RunInstances";
        let ws = [
            placed(
                61,
                ACCOUNT,
                &[
                    ("alice", run, "sa-east-1", "203.0.113.5"),
                    ("alice", run, "sa-east-1", "203.0.113.5"),
                    ("alice", get, "sa-east-1", "192.0.2.1"),
                    (
                        "alice",
                        "iam.amazonaws.com:CreateUser",
                        "us-east-1",
                        "192.0.2.1",
                    ),
                ],
            ),
            placed(61, OTHER, &[("bob", get, "sa-east-1", "198.51.100.1")]),
            placed(61, "org", &[("bob", get, "me-south-1", "198.51.100.1")]),
        ];
        let found = unused(&mut d, &ws);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].scope.to_string(), ACCOUNT);
        assert_eq!(found[0].series.to_string(), "unused_region:alice");
        assert_eq!(
            explained(&found[0]),
            (
                "alice",
                Some(run),
                Some("203.0.113.5"),
                Some("sa-east-1"),
                3
            )
        );
        assert_eq!(found[1].scope.to_string(), OTHER);
        // Used from then on.
        let ws = [placed(
            62,
            OTHER,
            &[("bob", get, "sa-east-1", "198.51.100.1")],
        )];
        assert!(unused(&mut d, &ws).is_empty());
        // Restored, identically; switched off, nothing.
        let mut restored = Detector::from_bytes(&d.to_bytes()).unwrap();
        let w = placed(63, OTHER, &[("bob", get, "eu-north-1", "198.51.100.1")]);
        let a = d.observe(&w);
        assert_eq!(of_kind(a.clone(), AlarmKind::UnusedRegion).len(), 1);
        assert_eq!(restored.observe(&w), a);
        let mut off = Detector::new(DetectorConfig {
            unused_region_alarms: false,
            unused_region_learning: 0,
            ..config(0, true)
        });
        let w = placed(0, ACCOUNT, &[("alice", get, "eu-north-1", "192.0.2.1")]);
        assert!(unused(&mut off, &[w]).is_empty());
    }

    #[test]
    fn a_first_root_session_alarms_unless_switched_off() {
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
