//! `counter`: the minute counts of the events one writer stored, kept in memory until they
//! are scored.

use orgwatch_model::activity::{
    epoch_ms, from_epoch_s, is_access_denied, Scope, TimeOutOfRange, WindowCounts, NONE,
};
use orgwatch_model::{ActivityEvent, Name, Names};
use std::collections::BTreeMap;

/// foldhash instead of SipHash: these maps see several lookups per stored event.
type FastMap<K, V> = foldhash::HashMap<K, V>;

/// Stored minute totals: (window start in epoch seconds, scope) → calls.
pub type MinuteTotals = BTreeMap<(i64, Scope), u64>;

/// The [`WindowCounts`] of the events one writer stored, kept in memory until they are
/// scored, so that scoring need not read every event back ([`MinuteCounter::take_complete`]).
///
/// Only what this process stored is in it: another worker's events, or events stored before
/// a restart, are not. The store's minute totals tell which windows it holds completely.
#[derive(Debug, Default)]
pub struct MinuteCounter {
    /// Window start (epoch seconds), then scope (an account, or none).
    windows: FastMap<i64, FastMap<Scope, Tally>>,
    /// The principals, APIs and IPs counted, each held once (not per window and account).
    names: Names,
    /// Reused to build `service:api` names without allocating.
    api: String,
}

#[derive(Debug, Default)]
struct Tally {
    total: u64,
    /// Keyed (principal, `service:api`, region, source IP): one map per event, from which
    /// the window's per-principal, per-API and per-IP counts are summed when it is taken.
    by_call: FastMap<(Name, Name, Name, Name), u64>,
    /// Keyed (principal, `service:api`); touched only by refused calls.
    denied: FastMap<(Name, Name), u64>,
    /// Keyed (principal, source IP); touched only by failed console sign-ins.
    failed_sign_ins: FastMap<(Name, Name), u64>,
}

impl MinuteCounter {
    /// Counts a stored (new) event, as the store reads it back: in the minute of its event
    /// time, under its account ([`Scope::NoAccount`] without a 12-digit one), its principal,
    /// `service:api`, region and source IP ([`NONE`] when absent), whether it was refused
    /// ([`is_access_denied`]) and whether it is a failed console sign-in.
    pub fn add(&mut self, ev: &ActivityEvent) {
        let minute = minute_of(epoch_ms(ev.event_time));
        let scope = Scope::of_account(ev.account);
        let principal = self.names.key(ev.principal.as_str());
        self.api.clear();
        self.api.push_str(&ev.service);
        self.api.push(':');
        self.api.push_str(&ev.api);
        let api = self.names.key(&self.api);
        let ip = self.names.key(ev.source_ip.as_deref().unwrap_or(NONE));
        let region = self.names.key(ev.region.as_deref().unwrap_or(NONE));
        let tally = self
            .windows
            .entry(minute)
            .or_default()
            .entry(scope)
            .or_default();
        tally.total += 1;
        *tally
            .by_call
            .entry((principal, api, region, ip))
            .or_insert(0) += 1;
        if ev.error_code.as_deref().is_some_and(is_access_denied) {
            *tally.denied.entry((principal, api)).or_insert(0) += 1;
        }
        if ev.sign_in_succeeded() == Some(false) {
            *tally.failed_sign_ins.entry((principal, ip)).or_insert(0) += 1;
        }
    }

    /// Adds the counts of another counter.
    pub fn merge(&mut self, other: MinuteCounter) {
        let names = &mut self.names;
        let mut name = |k: &Name| names.key(other.names.name(*k));
        for (start, scopes) in other.windows {
            let mine = self.windows.entry(start).or_default();
            for (scope, t) in scopes {
                let into = mine.entry(scope).or_default();
                into.total += t.total;
                for ((p, a, r, ip), n) in t.by_call {
                    let key = (name(&p), name(&a), name(&r), name(&ip));
                    *into.by_call.entry(key).or_insert(0) += n;
                }
                for ((p, a), n) in t.denied {
                    *into.denied.entry((name(&p), name(&a))).or_insert(0) += n;
                }
                for ((p, ip), n) in t.failed_sign_ins {
                    *into
                        .failed_sign_ins
                        .entry((name(&p), name(&ip)))
                        .or_insert(0) += n;
                }
            }
        }
    }

    /// Drops the windows that start before `minute` (epoch seconds): scored already.
    pub fn forget_before(&mut self, minute: i64) {
        self.windows.retain(|&start, _| start >= minute);
        self.drop_unused_names();
    }

    /// Whether it holds no window.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// How many minutes it holds windows of.
    pub fn minutes(&self) -> usize {
        self.windows.len()
    }

    /// Its totals per (window start, scope) in `[from, until)` (epoch seconds).
    pub fn totals(&self, from: i64, until: i64) -> MinuteTotals {
        self.windows
            .iter()
            .filter(|(&start, _)| start >= from && start < until)
            .flat_map(|(&start, scopes)| {
                scopes
                    .iter()
                    .map(move |(&scope, t)| ((start, scope), t.total))
            })
            .collect()
    }

    /// The windows in `[from, until)` (epoch seconds), in (start, scope) order, when the
    /// counter holds every stored event of them: its totals equal `stored`, the store's
    /// minute totals of the range (no other writer, and no restart, added to these windows).
    /// `None` otherwise: the caller reads them from the stored events. The range's windows
    /// leave the counter either way.
    pub fn take_complete(
        &mut self,
        from: i64,
        until: i64,
        stored: &MinuteTotals,
    ) -> Result<Option<Vec<WindowCounts>>, TimeOutOfRange> {
        let complete = self.totals(from, until) == *stored;
        let windows = self.take(from, until)?;
        Ok(complete.then_some(windows))
    }

    /// The windows in `[from, until)`, in (start, scope) order, taken out of the counter.
    fn take(&mut self, from: i64, until: i64) -> Result<Vec<WindowCounts>, TimeOutOfRange> {
        let mut starts: Vec<i64> = self
            .windows
            .keys()
            .copied()
            .filter(|&s| s >= from && s < until)
            .collect();
        starts.sort_unstable();
        let mut out = Vec::new();
        let name = |k: &Name| self.names.name(*k);
        for start in starts {
            let Some(scopes) = self.windows.remove(&start) else {
                continue;
            };
            let mut scopes: Vec<(Scope, Tally)> = scopes.into_iter().collect();
            scopes.sort_unstable_by_key(|(scope, _)| *scope);
            for (scope, t) in scopes {
                let mut w = WindowCounts::empty(from_epoch_s(start)?, scope);
                w.total = t.total;
                // Sorted by key as names: each principal's and API's calls are adjacent.
                let mut calls: Vec<(CallNames<'_>, u64)> = t
                    .by_call
                    .iter()
                    .map(|((p, a, r, ip), &n)| ((name(p), name(a), name(r), name(ip)), n))
                    .collect();
                calls.sort_unstable();
                let mut last: Option<(&str, &str)> = None;
                for &((p, a, _, ip), n) in &calls {
                    match last {
                        Some((lp, la)) if lp == p && la == a => {
                            if let Some(sum) = w.by_principal_api.values_mut().next_back() {
                                *sum += n;
                            }
                        }
                        _ => {
                            w.by_principal_api.insert((p.to_owned(), a.to_owned()), n);
                        }
                    }
                    if last.is_some_and(|(lp, _)| lp == p) {
                        if let Some(sum) = w.by_principal.values_mut().next_back() {
                            *sum += n;
                        }
                    } else {
                        w.by_principal.insert(p.to_owned(), n);
                    }
                    last = Some((p, a));
                    match w.by_source_ip.get_mut(ip) {
                        Some(sum) => *sum += n,
                        None => {
                            w.by_source_ip.insert(ip.to_owned(), n);
                        }
                    }
                }
                w.by_call = calls
                    .into_iter()
                    .map(|((p, a, r, ip), n)| {
                        ((p.to_owned(), a.to_owned(), r.to_owned(), ip.to_owned()), n)
                    })
                    .collect();
                let pair = |&(x, y): &(Name, Name)| (name(&x).to_owned(), name(&y).to_owned());
                w.denied = t.denied.iter().map(|(k, &n)| (pair(k), n)).collect();
                w.failed_sign_ins = t
                    .failed_sign_ins
                    .iter()
                    .map(|(k, &n)| (pair(k), n))
                    .collect();
                out.push(w);
            }
        }
        self.drop_unused_names();
        Ok(out)
    }

    /// Drops the names only scored windows used ([`Names::compact`]).
    fn drop_unused_names(&mut self) {
        let windows = &mut self.windows;
        self.names.compact(|rekey| {
            for t in windows.values_mut().flat_map(|scopes| scopes.values_mut()) {
                t.by_call = std::mem::take(&mut t.by_call)
                    .into_iter()
                    .map(|((p, a, r, ip), n)| ((rekey(p), rekey(a), rekey(r), rekey(ip)), n))
                    .collect();
                t.denied = std::mem::take(&mut t.denied)
                    .into_iter()
                    .map(|((p, a), n)| ((rekey(p), rekey(a)), n))
                    .collect();
                t.failed_sign_ins = std::mem::take(&mut t.failed_sign_ins)
                    .into_iter()
                    .map(|((p, ip), n)| ((rekey(p), rekey(ip)), n))
                    .collect();
            }
        });
    }

    /// Names held (for tests).
    #[cfg(test)]
    fn names_held(&self) -> usize {
        self.names.len()
    }
}

/// A call's (principal, `service:api`, region, source IP), as text.
type CallNames<'a> = (&'a str, &'a str, &'a str, &'a str);

/// Start (epoch seconds) of the minute holding `ms` (epoch milliseconds), also before 1970.
fn minute_of(ms: i64) -> i64 {
    ms.div_euclid(1000).div_euclid(60) * 60
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_709_287_200;

    fn ev(minute: i64, account: &str, user: &str, ip: &str) -> ActivityEvent {
        let time = from_epoch_s(T0 + 60 * minute).unwrap();
        let rec = serde_json::json!({
            "eventID": format!("{minute}-{user}"), "eventTime": time.to_string(),
            "recipientAccountId": account, "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances", "sourceIPAddress": ip,
            "userIdentity": {"type": "IAMUser", "userName": user},
        });
        ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
    }

    fn scope(s: &str) -> Scope {
        s.parse().unwrap()
    }

    #[test]
    fn merged_counters_count_as_one_and_scored_names_are_dropped() {
        let minutes = orgwatch_model::names::CLEAN_UP_AFTER as i64;
        let mut counter = MinuteCounter::default();
        for m in 0..minutes {
            // Each minute a new principal and IP, counted by a counter of its own.
            let mut one = MinuteCounter::default();
            one.add(&ev(
                m,
                "111111111111",
                &format!("user-{m}"),
                &format!("ip-{m}"),
            ));
            one.add(&ev(m, "111111111111", "alice", "198.51.100.7"));
            counter.merge(one);
            // Scored minutes leave, and with them (in time) their names.
            counter.forget_before(T0 + 60 * m - 60);
        }
        assert!(
            counter.names_held() < orgwatch_model::names::CLEAN_UP_AFTER,
            "{}",
            counter.names_held()
        );
        let last = minutes - 1;
        let start = T0 + 60 * last;
        let counts = counter.take(start, start + 60).unwrap();
        assert_eq!(counts.len(), 1);
        let c = &counts[0];
        assert_eq!(
            (c.start, c.scope),
            (from_epoch_s(start).unwrap(), scope("111111111111"))
        );
        assert_eq!(c.total, 2);
        let api = "ec2.amazonaws.com:RunInstances".to_owned();
        assert_eq!(
            c.by_principal_api,
            BTreeMap::from([
                (("alice".to_owned(), api.clone()), 1),
                ((format!("user-{last}"), api), 1),
            ])
        );
        assert_eq!(
            c.by_principal,
            BTreeMap::from([("alice".to_owned(), 1), (format!("user-{last}"), 1)])
        );
        assert_eq!(
            c.by_source_ip,
            BTreeMap::from([("198.51.100.7".to_owned(), 1), (format!("ip-{last}"), 1)])
        );
    }

    #[test]
    fn windows_carry_calls_by_region_and_source_refusals_and_failed_sign_ins() {
        let event = |user: &str, extra: serde_json::Value| {
            let mut rec = serde_json::json!({
                "eventID": format!("e-{user}-{extra}"), "eventTime": from_epoch_s(T0).unwrap().to_string(),
                "recipientAccountId": "111111111111", "eventSource": "ec2.amazonaws.com",
                "eventName": "RunInstances", "sourceIPAddress": "198.51.100.7",
                "awsRegion": "eu-west-1", "userIdentity": {"type": "IAMUser", "userName": user},
            });
            for (k, v) in extra.as_object().unwrap() {
                rec[k] = v.clone();
            }
            ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
        };
        let mut counter = MinuteCounter::default();
        counter.add(&event("alice", serde_json::json!({})));
        counter.add(&event(
            "alice",
            serde_json::json!({"errorCode": "Client.UnauthorizedOperation"}),
        ));
        counter.add(&event(
            "alice",
            serde_json::json!({"errorCode": "Client.InvalidParameterValue"}),
        ));
        counter.add(&event(
            "alice",
            serde_json::json!({"awsRegion": null, "sourceIPAddress": null}),
        ));
        let login = serde_json::json!({
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "eventType": "AwsConsoleSignIn", "awsRegion": "us-east-1",
            "responseElements": {"ConsoleLogin": "Failure"},
        });
        counter.add(&event("eve", login.clone()));
        let mut ok = login;
        ok["responseElements"]["ConsoleLogin"] = "Success".into();
        ok["eventID"] = "ok".into();
        counter.add(&event("eve", ok));
        let w = counter.take(T0, T0 + 60).unwrap().remove(0);
        let run = "ec2.amazonaws.com:RunInstances";
        let key = |p: &str, api: &str, r: &str, ip: &str| {
            (p.to_owned(), api.to_owned(), r.to_owned(), ip.to_owned())
        };
        let login = "signin.amazonaws.com:ConsoleLogin";
        assert_eq!(
            w.by_call,
            BTreeMap::from([
                (key("alice", run, "eu-west-1", "198.51.100.7"), 3),
                (key("alice", run, NONE, NONE), 1),
                (key("eve", login, "us-east-1", "198.51.100.7"), 2),
            ])
        );
        assert_eq!(
            w.denied,
            BTreeMap::from([(("alice".to_owned(), run.to_owned()), 1)])
        );
        assert_eq!(
            w.failed_sign_ins,
            BTreeMap::from([(("eve".to_owned(), "198.51.100.7".to_owned()), 1)])
        );
        assert_eq!(w.by_principal["alice"], 4);
        assert_eq!(w.by_source_ip[NONE], 1);
        assert_eq!(w.by_principal_api[&("alice".to_owned(), run.to_owned())], 4);
    }

    #[test]
    fn windows_are_taken_only_when_the_stored_totals_are_the_counters() {
        let mut counter = MinuteCounter::default();
        for (m, account) in [
            (0, "222222222222"),
            (0, "111111111111"),
            (1, "1"),
            (1, "111111111111"),
            (2, "111111111111"),
        ] {
            counter.add(&ev(m, account, "alice", "198.51.100.7"));
        }
        counter.add(&ev(0, "111111111111", "bob", "198.51.100.8"));
        let totals = counter.totals(T0, T0 + 120);
        let want = BTreeMap::from([
            ((T0, scope("111111111111")), 2),
            ((T0, scope("222222222222")), 1),
            ((T0 + 60, scope("(none)")), 1),
            ((T0 + 60, scope("111111111111")), 1),
        ]);
        assert_eq!(totals, want);

        // Another writer added to a window: the counter's windows are not whole.
        let mut more = want.clone();
        *more.get_mut(&(T0, scope("222222222222"))).unwrap() += 1;
        assert_eq!(
            counter
                .take_complete(
                    T0,
                    T0 + 60,
                    &more
                        .clone()
                        .into_iter()
                        .filter(|((s, _), _)| *s < T0 + 60)
                        .collect()
                )
                .unwrap(),
            None
        );
        assert_eq!(
            counter.minutes(),
            2,
            "the range left the counter all the same"
        );

        // The same totals: the windows, in (start, scope) order, with `(none)` before accounts.
        let stored: MinuteTotals = want
            .into_iter()
            .filter(|((s, _), _)| *s >= T0 + 60)
            .collect();
        let windows = counter
            .take_complete(T0 + 60, T0 + 120, &stored)
            .unwrap()
            .unwrap();
        let keys: Vec<_> = windows
            .iter()
            .map(|w| (w.start, w.scope, w.total))
            .collect();
        let t1 = from_epoch_s(T0 + 60).unwrap();
        assert_eq!(
            keys,
            [(t1, Scope::NoAccount, 1), (t1, scope("111111111111"), 1)]
        );

        // A window the store has and the counter has not (a restart) is not whole either.
        let restart = BTreeMap::from([
            ((T0 + 120, scope("111111111111")), 1),
            ((T0 + 120, scope("333333333333")), 4),
        ]);
        assert_eq!(
            counter.take_complete(T0 + 120, T0 + 180, &restart).unwrap(),
            None
        );
        assert!(counter.is_empty());
    }
}
