//! The counts of one closed minute window of one scope, as scoring reads them.

use super::{Scope, NONE};
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `errorCode`s of a call refused for want of permission, counted per principal by the
/// `access_denied` alarms: IAM's and most services' (`AccessDenied`, `AccessDeniedException`),
/// EC2's (`UnauthorizedOperation`, `Client.UnauthorizedOperation`), and the other spellings
/// services use for the same refusal. Throttling, validation and not-found errors are not in
/// it: they are not a principal trying what it may not do.
pub const ACCESS_DENIED_CODES: [&str; 11] = [
    "AccessDenied",
    "AccessDeniedException",
    "Client.AccessDenied",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "UnauthorizedAccess",
    "UnauthorizedAccessException",
    "UnauthorizedException",
    "AuthorizationError",
    "AuthorizationErrorException",
    "ForbiddenException",
];

/// Whether an `errorCode` is one of [`ACCESS_DENIED_CODES`].
pub fn is_access_denied(code: &str) -> bool {
    ACCESS_DENIED_CODES.contains(&code)
}

/// The services whose calls CloudTrail logs in one region (`us-east-1`, or `us-west-2` for a
/// few) whatever region the caller works in: their region says nothing about where an account
/// works, so `new_source` and `unused_region` ignore it (their IP ranges still count).
pub const GLOBAL_SERVICES: [&str; 17] = [
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "signin.amazonaws.com",
    "organizations.amazonaws.com",
    "account.amazonaws.com",
    "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
    "route53domains.amazonaws.com",
    "globalaccelerator.amazonaws.com",
    "shield.amazonaws.com",
    "waf.amazonaws.com",
    "support.amazonaws.com",
    "health.amazonaws.com",
    "trustedadvisor.amazonaws.com",
    "ce.amazonaws.com",
    "budgets.amazonaws.com",
    "billingconsole.amazonaws.com",
];

/// Whether the region of a call to `api` (`service:api`) is where its caller works: not a
/// call of a [`GLOBAL_SERVICES`] service, and a region at all (not [`NONE`]).
pub fn region_is_telling(api: &str, region: &str) -> bool {
    let service = api.split_once(':').map_or(api, |(s, _)| s);
    region != NONE && !GLOBAL_SERVICES.contains(&service)
}

/// The key with most calls; ties go to the first in text order.
pub fn most<K: Ord>(sums: BTreeMap<K, u64>) -> Option<K> {
    sums.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(k, _)| k)
}

/// A call's key in [`WindowCounts::by_call`]: (principal, `service:api`, region, source IP),
/// [`NONE`] for an absent region or source IP.
pub type CallKey = (String, String, String, String);

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
    /// Calls per (principal, `service:api`, region, source IP) ([`CallKey`]), complete in the
    /// windows of an account built from events; what the new-behaviour alarms read (where a
    /// principal called from, which regions were used). Not merged into the organisation's.
    pub by_call: BTreeMap<CallKey, u64>,
    /// Calls refused with an [`ACCESS_DENIED_CODES`] error, per (principal, `service:api`);
    /// keys with some only. Not merged into the organisation's.
    pub denied: BTreeMap<(String, String), u64>,
    /// Failed console sign-ins ([`crate::ActivityEvent::sign_in_succeeded`] `Some(false)`) per
    /// (principal, source IP); keys with some only. Not merged into the organisation's.
    pub failed_sign_ins: BTreeMap<(String, String), u64>,
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
            by_call: BTreeMap::new(),
            denied: BTreeMap::new(),
            failed_sign_ins: BTreeMap::new(),
        }
    }

    /// Counts one call with no region (a convenience for building windows by hand).
    pub fn add(&mut self, principal: &str, api: &str, source_ip: Option<&str>) {
        self.add_in(principal, api, NONE, source_ip);
    }

    /// Counts one call in `region` (a convenience for building windows by hand; the builders
    /// of stored events count the same way).
    pub fn add_in(&mut self, principal: &str, api: &str, region: &str, source_ip: Option<&str>) {
        let key = (
            principal.to_owned(),
            api.to_owned(),
            region.to_owned(),
            source_ip.unwrap_or(NONE).to_owned(),
        );
        *self.by_call.entry(key).or_insert(0) += 1;
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

    /// The region with most calls of `principal` (of its `api` only, when given) in
    /// [`WindowCounts::by_call`], [`NONE`] left out; ties go to the first in text order.
    pub fn region_of(&self, principal: &str, api: Option<&str>) -> Option<&str> {
        self.most_of(principal, api, |k| &k.2)
    }

    /// The source IP with most calls of `principal` (of its `api` only, when given), as
    /// [`WindowCounts::region_of`].
    pub fn source_ip_of(&self, principal: &str, api: Option<&str>) -> Option<&str> {
        self.most_of(principal, api, |k| &k.3)
    }

    /// The calls of `principal` (of its `api` only, when given) per region, [`NONE`] left out
    /// (what [`WindowCounts::region_of`] picks from; the organisation's alarms sum it over
    /// the accounts' windows).
    pub fn calls_by_region(&self, principal: &str, api: Option<&str>) -> BTreeMap<&str, u64> {
        self.sums_of(principal, api, |k| &k.2)
    }

    fn most_of<'a>(
        &'a self,
        principal: &str,
        api: Option<&str>,
        part: impl Fn(&'a CallKey) -> &'a str,
    ) -> Option<&'a str> {
        most(self.sums_of(principal, api, part))
    }

    fn sums_of<'a>(
        &'a self,
        principal: &str,
        api: Option<&str>,
        part: impl Fn(&'a CallKey) -> &'a str,
    ) -> BTreeMap<&'a str, u64> {
        let from = (
            principal.to_owned(),
            api.unwrap_or_default().to_owned(),
            String::new(),
            String::new(),
        );
        let mut sums: BTreeMap<&str, u64> = BTreeMap::new();
        let calls = self
            .by_call
            .range(from..)
            .take_while(|(k, _)| k.0 == principal && api.is_none_or(|a| k.1 == a));
        for (k, &n) in calls {
            let v = part(k);
            if v != NONE {
                *sums.entry(v).or_insert(0) += n;
            }
        }
        sums
    }

    /// Marks the last call added of (principal, `api`) as refused for want of permission
    /// ([`WindowCounts::denied`]).
    pub fn deny(&mut self, principal: &str, api: &str) {
        *self
            .denied
            .entry((principal.to_owned(), api.to_owned()))
            .or_insert(0) += 1;
    }

    /// Marks the last call added of (principal, source IP) as a failed console sign-in
    /// ([`WindowCounts::failed_sign_ins`]).
    pub fn fail_sign_in(&mut self, principal: &str, source_ip: Option<&str>) {
        let key = (principal.to_owned(), source_ip.unwrap_or(NONE).to_owned());
        *self.failed_sign_ins.entry(key).or_insert(0) += 1;
    }

    /// Adds another window's counts (an account's, into the organisation's); its start and
    /// scope are not looked at. The per-call, denied and sign-in counts are not added: the
    /// organisation raises no new-behaviour alarm (it would repeat its accounts'), and its
    /// window, the busiest, is merged every minute.
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
        assert!(
            org.by_call.is_empty(),
            "new-behaviour counts stay the accounts'"
        );
        let call = |ip: &str| {
            (
                "bob".to_owned(),
                "s3.amazonaws.com:GetObject".to_owned(),
                NONE.to_owned(),
                ip.to_owned(),
            )
        };
        assert_eq!(a.by_call[&call(NONE)], 1, "an absent source IP is (none)");
    }

    #[test]
    fn regions_of_global_services_and_the_denied_codes() {
        assert!(region_is_telling(
            "ec2.amazonaws.com:RunInstances",
            "eu-west-1"
        ));
        assert!(!region_is_telling(
            "iam.amazonaws.com:CreateUser",
            "us-east-1"
        ));
        assert!(!region_is_telling("ec2.amazonaws.com:RunInstances", NONE));
        assert!(is_access_denied("Client.UnauthorizedOperation"));
        assert!(!is_access_denied("ThrottlingException"));
        assert!(
            !is_access_denied("accessdenied"),
            "codes are compared as written"
        );
    }
}
