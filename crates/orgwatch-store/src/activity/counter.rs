//! `counter`: the minute counts of the events one writer stored, kept in memory until they
//! are scored.

use super::{epoch_ms, from_epoch_s, window, FastMap, MinuteCounts, NONE};
use crate::StoreError;
use orgwatch_model::{ActivityEvent, Name, Names};
use std::collections::BTreeMap;

/// The [`MinuteCounts`] of the events one writer stored, kept in memory until they are
/// scored, so that scoring need not read every event back
/// ([`Store::minute_counts_from`](crate::Store::minute_counts_from)).
///
/// Only what this process stored is in it: another worker's events, or events stored before
/// a restart, are not. The store's minute totals tell which windows it holds completely.
#[derive(Debug, Default)]
pub struct MinuteCounter {
    /// Window start (epoch seconds), then account.
    windows: FastMap<i64, FastMap<String, Tally>>,
    /// The principals, APIs and IPs counted, each held once (not per window and account).
    names: Names,
    /// Reused to build `service:api` names without allocating.
    api: String,
}

#[derive(Debug, Default)]
struct Tally {
    total: u64,
    /// Keyed (principal, `service:api`).
    by_principal_api: FastMap<(Name, Name), u64>,
    by_source_ip: FastMap<Name, u64>,
}

impl MinuteCounter {
    /// Counts a stored (new) event, as [`Store::minute_counts`] reads it back.
    pub fn add(&mut self, ev: &ActivityEvent) {
        let minute = window(epoch_ms(ev.event_time), 60);
        let account = ev.account.as_ref().map_or(NONE, |a| a.as_str());
        let principal = self.names.key(ev.principal.as_str());
        self.api.clear();
        self.api.push_str(&ev.service);
        self.api.push(':');
        self.api.push_str(&ev.api);
        let api = self.names.key(&self.api);
        let ip = self.names.key(ev.source_ip.as_deref().unwrap_or(NONE));
        let accounts = self.windows.entry(minute).or_default();
        let tally = match accounts.get_mut(account) {
            Some(t) => t,
            None => accounts.entry(account.to_owned()).or_default(),
        };
        tally.total += 1;
        *tally.by_principal_api.entry((principal, api)).or_insert(0) += 1;
        *tally.by_source_ip.entry(ip).or_insert(0) += 1;
    }

    /// Adds the counts of another counter.
    pub fn merge(&mut self, other: MinuteCounter) {
        let names = &mut self.names;
        let mut name = |k: &Name| names.key(other.names.name(*k));
        for (start, accounts) in other.windows {
            let mine = self.windows.entry(start).or_default();
            for (account, t) in accounts {
                let into = mine.entry(account).or_default();
                into.total += t.total;
                for ((p, a), n) in t.by_principal_api {
                    *into
                        .by_principal_api
                        .entry((name(&p), name(&a)))
                        .or_insert(0) += n;
                }
                for (k, n) in t.by_source_ip {
                    *into.by_source_ip.entry(name(&k)).or_insert(0) += n;
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

    /// Totals per (window start, account) in `[from, until)` (epoch seconds).
    pub(super) fn totals(&self, from: i64, until: i64) -> BTreeMap<(i64, String), u64> {
        self.windows
            .iter()
            .filter(|(&start, _)| start >= from && start < until)
            .flat_map(|(&start, accounts)| {
                accounts
                    .iter()
                    .map(move |(account, t)| ((start, account.clone()), t.total))
            })
            .collect()
    }

    /// The windows in `[from, until)`, in (start, account) order, taken out of the counter.
    pub(super) fn take(&mut self, from: i64, until: i64) -> Result<Vec<MinuteCounts>, StoreError> {
        let mut starts: Vec<i64> = self
            .windows
            .keys()
            .copied()
            .filter(|&s| s >= from && s < until)
            .collect();
        starts.sort_unstable();
        let mut out = Vec::new();
        let name = |k: &Name| self.names.name(*k).to_owned();
        for start in starts {
            let Some(accounts) = self.windows.remove(&start) else {
                continue;
            };
            let mut accounts: Vec<(String, Tally)> = accounts.into_iter().collect();
            accounts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (account, t) in accounts {
                out.push(MinuteCounts {
                    start: from_epoch_s(start)?,
                    account,
                    total: t.total,
                    by_principal_api: t
                        .by_principal_api
                        .iter()
                        .map(|((p, a), n)| ((name(p), name(a)), *n))
                        .collect(),
                    by_source_ip: t.by_source_ip.iter().map(|(k, n)| (name(k), *n)).collect(),
                });
            }
        }
        self.drop_unused_names();
        Ok(out)
    }

    /// Drops the names only scored windows used ([`Names::compact`]).
    fn drop_unused_names(&mut self) {
        let windows = &mut self.windows;
        self.names.compact(|rekey| {
            for t in windows
                .values_mut()
                .flat_map(|accounts| accounts.values_mut())
            {
                t.by_principal_api = std::mem::take(&mut t.by_principal_api)
                    .into_iter()
                    .map(|((p, a), n)| ((rekey(p), rekey(a)), n))
                    .collect();
                t.by_source_ip = std::mem::take(&mut t.by_source_ip)
                    .into_iter()
                    .map(|(k, n)| (rekey(k), n))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(minute: i64, user: &str, ip: &str) -> ActivityEvent {
        let time = from_epoch_s(1_709_287_200 + 60 * minute).unwrap();
        let rec = serde_json::json!({
            "eventID": format!("{minute}-{user}"), "eventTime": time.to_string(),
            "recipientAccountId": "111111111111", "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances", "sourceIPAddress": ip,
            "userIdentity": {"type": "IAMUser", "userName": user},
        });
        ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
    }

    #[test]
    fn merged_counters_count_as_one_and_scored_names_are_dropped() {
        let minutes = orgwatch_model::names::CLEAN_UP_AFTER as i64;
        let mut counter = MinuteCounter::default();
        for m in 0..minutes {
            // Each minute a new principal and IP, counted by a counter of its own.
            let mut one = MinuteCounter::default();
            one.add(&ev(m, &format!("user-{m}"), &format!("ip-{m}")));
            one.add(&ev(m, "alice", "198.51.100.7"));
            counter.merge(one);
            // Scored minutes leave, and with them (in time) their names.
            counter.forget_before(window(epoch_ms(ev(m, "x", "y").event_time), 60) - 60);
        }
        assert!(
            counter.names_held() < orgwatch_model::names::CLEAN_UP_AFTER,
            "{}",
            counter.names_held()
        );
        let last = minutes - 1;
        let start = 1_709_287_200 + 60 * last;
        let counts = counter.take(start, start + 60).unwrap();
        assert_eq!(counts.len(), 1);
        let c = &counts[0];
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
            c.by_source_ip,
            BTreeMap::from([("198.51.100.7".to_owned(), 1), (format!("ip-{last}"), 1)])
        );
    }
}
