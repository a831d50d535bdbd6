//! The counts of one closed minute window of one scope, as scoring reads them.

use super::Scope;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts of one closed 1-minute window for one scope (an account, the organisation, or the
/// events without an account). Sorted maps: the detector walks them in order, and its scores
/// must not depend on a hash seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowCounts {
    /// Minute start, UTC (seconds are ignored: the window is the minute containing it).
    pub start: Timestamp,
    /// An account, the organisation, or the events without an account.
    pub scope: Scope,
    /// Calls in the window.
    pub total: u64,
    /// Calls per principal (complete: sums to `total`).
    pub by_principal: BTreeMap<String, u64>,
    /// Calls per (principal, `"service:api"`), complete.
    pub by_principal_api: BTreeMap<(String, String), u64>,
    /// Calls per source IP (or service name, as CloudTrail writes it; [`super::NONE`] when
    /// the record has none).
    pub by_source_ip: BTreeMap<String, u64>,
}

impl WindowCounts {
    /// A window with no calls.
    pub fn empty(start: Timestamp, scope: Scope) -> Self {
        WindowCounts {
            start,
            scope,
            total: 0,
            by_principal: BTreeMap::new(),
            by_principal_api: BTreeMap::new(),
            by_source_ip: BTreeMap::new(),
        }
    }

    /// Counts one call (a convenience for building windows by hand).
    pub fn add(&mut self, principal: &str, api: &str, source_ip: Option<&str>) {
        self.total += 1;
        *self.by_principal.entry(principal.to_owned()).or_insert(0) += 1;
        *self
            .by_principal_api
            .entry((principal.to_owned(), api.to_owned()))
            .or_insert(0) += 1;
        if let Some(ip) = source_ip {
            *self.by_source_ip.entry(ip.to_owned()).or_insert(0) += 1;
        }
    }

    /// Adds another window's counts (an account's, into the organisation's); its start and
    /// scope are not looked at.
    pub fn merge(&mut self, w: &WindowCounts) {
        self.total += w.total;
        for (k, n) in &w.by_principal {
            *self.by_principal.entry(k.clone()).or_insert(0) += n;
        }
        for (k, n) in &w.by_principal_api {
            *self.by_principal_api.entry(k.clone()).or_insert(0) += n;
        }
        for (k, n) in &w.by_source_ip {
            *self.by_source_ip.entry(k.clone()).or_insert(0) += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_windows_add_up() {
        let start = Timestamp::parse("2024-03-01T10:00:00Z").unwrap();
        let mut a = WindowCounts::empty(start, "111111111111".parse().unwrap());
        a.add("alice", "s3.amazonaws.com:GetObject", Some("192.0.2.1"));
        a.add("bob", "s3.amazonaws.com:GetObject", None);
        let mut b = WindowCounts::empty(start, Scope::NoAccount);
        b.add("alice", "s3.amazonaws.com:GetObject", Some("192.0.2.1"));
        let mut org = WindowCounts::empty(start, Scope::Org);
        org.merge(&a);
        org.merge(&b);
        assert_eq!(org.scope, Scope::Org);
        assert_eq!(org.total, 3);
        assert_eq!(
            org.by_principal,
            BTreeMap::from([("alice".to_owned(), 2), ("bob".to_owned(), 1)])
        );
        let key = ("alice".to_owned(), "s3.amazonaws.com:GetObject".to_owned());
        assert_eq!(org.by_principal_api[&key], 2);
        assert_eq!(
            org.by_source_ip,
            BTreeMap::from([("192.0.2.1".to_owned(), 2)])
        );
    }
}
