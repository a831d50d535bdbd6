//! The one-shot triage report: what a set of CloudTrail files contains, counted per dimension.

use orgwatch_model::{AccountId, ActivityEvent, Timestamp};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Key used in a per-dimension count when the record has no value for it (no
/// `recipientAccountId`, no `awsRegion`, no `sourceIPAddress`).
pub use orgwatch_model::activity::NONE;

/// Most undecodable-record reasons a report keeps (the count is always complete).
pub const MAX_REASONS: usize = 5;

/// Counts over every decoded record, without de-duplication (a record delivered twice counts
/// twice). Counts are additive: [`Report::merge`] of the reports of parts equals the report of
/// the whole, whatever the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Records decoded into events.
    pub events: u64,
    /// Records that could not be decoded (not an object, a required field missing, a bad
    /// time, invalid JSON after the start of a file).
    pub undecodable: u64,
    /// Of the undecodable records, those skipped for being longer than the record-size limit.
    /// (Not part of [`Report::to_json`]: the ledger, which the stored report reads, does not
    /// keep it.)
    pub oversized: u64,
    /// The first [`MAX_REASONS`] reasons for undecodable records.
    pub undecodable_reasons: Vec<String>,
    /// Records or files recognised and left out, by kind (`digest`, `insight`,
    /// `eventbridge-other`).
    pub skipped: BTreeMap<String, u64>,
    /// Earliest `eventTime`.
    pub first_event_time: Option<Timestamp>,
    /// Latest `eventTime`.
    pub last_event_time: Option<Timestamp>,
    /// Events per `recipientAccountId`, as written even when it is not a 12-digit account id
    /// ([`NONE`] only when absent or empty).
    pub by_account: BTreeMap<String, u64>,
    /// Events per `awsRegion`.
    pub by_region: BTreeMap<String, u64>,
    /// Events per `eventSource`.
    pub by_service: BTreeMap<String, u64>,
    /// Events per `eventSource:eventName`.
    pub by_api: BTreeMap<String, u64>,
    /// Events per `userIdentity.type` (`Unknown` when absent).
    pub by_principal_type: BTreeMap<String, u64>,
    /// Events per principal ([`orgwatch_model::Principal`]).
    pub by_principal: BTreeMap<String, u64>,
    /// Events per `sourceIPAddress`.
    pub by_source_ip: BTreeMap<String, u64>,
    /// Failed calls per `errorCode` (successful calls are not counted here).
    pub by_error_code: BTreeMap<String, u64>,
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(v) => *v += n,
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}

/// Counts `service:api` without building the key unless it is new.
fn bump_api(map: &mut BTreeMap<String, u64>, service: &str, api: &str) {
    let mut buf = [0u8; 192];
    let n = service.len() + 1 + api.len();
    if n <= buf.len() {
        buf[..service.len()].copy_from_slice(service.as_bytes());
        buf[service.len()] = b':';
        buf[service.len() + 1..n].copy_from_slice(api.as_bytes());
        // Two valid UTF-8 texts joined by an ASCII byte are valid UTF-8.
        if let Ok(key) = std::str::from_utf8(&buf[..n]) {
            return bump(map, key, 1);
        }
    }
    bump(map, &format!("{service}:{api}"), 1);
}

fn merge_map(into: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (k, n) in from {
        *into.entry(k).or_insert(0) += n;
    }
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Report::default()
    }

    /// Counts one event.
    pub fn add(&mut self, ev: &ActivityEvent) {
        self.events += 1;
        self.first_event_time = Some(match self.first_event_time {
            Some(t) => t.min(ev.event_time),
            None => ev.event_time,
        });
        self.last_event_time = Some(match self.last_event_time {
            Some(t) => t.max(ev.event_time),
            None => ev.event_time,
        });
        // A value that is not an account id is evidence: shown as written, never as NONE.
        let account = match (&ev.account, &ev.unparsed_account) {
            (Some(a), _) => a.as_str(),
            (None, Some(text)) => text,
            (None, None) => NONE,
        };
        bump(&mut self.by_account, account, 1);
        bump(&mut self.by_region, ev.region.as_deref().unwrap_or(NONE), 1);
        bump(&mut self.by_service, &ev.service, 1);
        bump_api(&mut self.by_api, &ev.service, &ev.api);
        bump(&mut self.by_principal_type, &ev.principal_type, 1);
        bump(&mut self.by_principal, ev.principal.as_str(), 1);
        bump(
            &mut self.by_source_ip,
            ev.source_ip.as_deref().unwrap_or(NONE),
            1,
        );
        if let Some(code) = &ev.error_code {
            bump(&mut self.by_error_code, code, 1);
        }
    }

    /// Counts one record that could not be decoded, keeping the first few reasons.
    pub fn add_undecodable(&mut self, reason: impl Into<String>) {
        self.undecodable += 1;
        if self.undecodable_reasons.len() < MAX_REASONS {
            self.undecodable_reasons.push(reason.into());
        }
    }

    /// Counts one record skipped for its size (an undecodable record too).
    pub fn add_oversized(&mut self, reason: impl Into<String>) {
        self.oversized += 1;
        self.add_undecodable(reason);
    }

    /// Counts one record or file recognised and left out (`digest`, `insight`, …).
    pub fn add_skipped(&mut self, kind: &str) {
        bump(&mut self.skipped, kind, 1);
    }

    /// Records seen: events, undecodable and skipped.
    pub fn records(&self) -> u64 {
        self.events + self.undecodable + self.skipped.values().sum::<u64>()
    }

    /// Adds another report's counts to this one (reasons are kept up to [`MAX_REASONS`]).
    pub fn merge(&mut self, other: Report) {
        self.events += other.events;
        self.undecodable += other.undecodable;
        self.oversized += other.oversized;
        for r in other.undecodable_reasons {
            if self.undecodable_reasons.len() >= MAX_REASONS {
                break;
            }
            self.undecodable_reasons.push(r);
        }
        merge_map(&mut self.skipped, other.skipped);
        self.first_event_time = match (self.first_event_time, other.first_event_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_event_time = match (self.last_event_time, other.last_event_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        merge_map(&mut self.by_account, other.by_account);
        merge_map(&mut self.by_region, other.by_region);
        merge_map(&mut self.by_service, other.by_service);
        merge_map(&mut self.by_api, other.by_api);
        merge_map(&mut self.by_principal_type, other.by_principal_type);
        merge_map(&mut self.by_principal, other.by_principal);
        merge_map(&mut self.by_source_ip, other.by_source_ip);
        merge_map(&mut self.by_error_code, other.by_error_code);
    }

    /// The counts as one JSON object (complete maps, keys sorted; `skipped` always has
    /// `digest` and `insight`; times are RFC 3339 UTC, `null` without events):
    ///
    /// ```json
    /// {"events": 2, "undecodable": 0, "skipped": {"digest": 0, "insight": 0},
    ///  "first_event_time": "2023-07-10T11:41:05Z", "last_event_time": "2023-07-10T11:45:00Z",
    ///  "by_account": {"123456789012": 2}, "by_region": {"us-east-1": 2},
    ///  "by_service": {"s3.amazonaws.com": 2}, "by_api": {"s3.amazonaws.com:GetObject": 2},
    ///  "by_principal_type": {"IAMUser": 2}, "by_principal": {"alice": 2},
    ///  "by_source_ip": {"203.0.113.5": 2}, "by_error_code": {}}
    /// ```
    pub fn to_json(&self) -> Value {
        let map = |m: &BTreeMap<String, u64>| {
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect::<Map<_, _>>(),
            )
        };
        let mut skipped = self.skipped.clone();
        skipped.entry("digest".to_owned()).or_insert(0);
        skipped.entry("insight".to_owned()).or_insert(0);
        let time = |t: Option<Timestamp>| t.map_or(Value::Null, |t| json!(t.to_string()));
        json!({
            "events": self.events,
            "undecodable": self.undecodable,
            "skipped": map(&skipped),
            "first_event_time": time(self.first_event_time),
            "last_event_time": time(self.last_event_time),
            "by_account": map(&self.by_account),
            "by_region": map(&self.by_region),
            "by_service": map(&self.by_service),
            "by_api": map(&self.by_api),
            "by_principal_type": map(&self.by_principal_type),
            "by_principal": map(&self.by_principal),
            "by_source_ip": map(&self.by_source_ip),
            "by_error_code": map(&self.by_error_code),
        })
    }

    /// A human table: totals, the time range, then the `top` largest entries of each count
    /// (ties in key order) and how many more there are. Accounts that are not 12-digit ids
    /// are marked so.
    pub fn to_table(&self, top: usize) -> String {
        const ACCOUNT: &str = "account";
        let mut out = String::new();
        let t = |t: Option<Timestamp>| t.map_or_else(|| "-".to_owned(), |t| t.to_string());
        let skipped = self
            .skipped
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "events {}   undecodable {}   skipped {}",
            self.events,
            self.undecodable,
            if skipped.is_empty() {
                "0".to_owned()
            } else {
                skipped
            }
        );
        let _ = writeln!(
            out,
            "event time {} .. {}",
            t(self.first_event_time),
            t(self.last_event_time)
        );
        for reason in &self.undecodable_reasons {
            let _ = writeln!(out, "undecodable: {reason}");
        }
        let sections: [(&str, &BTreeMap<String, u64>); 8] = [
            (ACCOUNT, &self.by_account),
            ("region", &self.by_region),
            ("service (eventSource)", &self.by_service),
            ("API (eventSource:eventName)", &self.by_api),
            ("principal type", &self.by_principal_type),
            ("principal", &self.by_principal),
            ("source IP", &self.by_source_ip),
            ("error code", &self.by_error_code),
        ];
        for (title, m) in sections {
            let _ = writeln!(out, "\n{title} ({} distinct)", m.len());
            let mut rows: Vec<(&String, &u64)> = m.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            let width = rows.iter().take(top).map(|r| r.0.len()).max().unwrap_or(0);
            for (k, n) in rows.iter().take(top) {
                let not_an_id =
                    title == ACCOUNT && k.as_str() != NONE && AccountId::parse(k).is_err();
                let note = if not_an_id {
                    "  (not an account id)"
                } else {
                    ""
                };
                let _ = writeln!(out, "  {k:<width$}  {n:>9}{note}");
            }
            if rows.len() > top {
                let _ = writeln!(out, "  … {} more", rows.len() - top);
            }
        }
        out
    }
}
