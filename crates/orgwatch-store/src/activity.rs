//! CloudTrail activity in the store: de-duplicated recent events, additive tiered rollups, the
//! processed-file ledger, anomaly scores and the stream state (see `docs/activity.md`).
//!
//! Every write of [`Store::store_activity`] is one transaction: the events (de-duplicated on
//! (account, event id, event time) by the primary key), the rollups of the events that were
//! new (added to the stored counts, never replacing them), the ledger rows of the files and the
//! stream state. A crash before commit leaves nothing; rereading the same files after a crash
//! or by a second worker counts nothing twice.

use crate::conn::Conn;
use crate::value::{Batch, Rows, Val};
use crate::{Pool, Store, StoreError};
use orgwatch_model::{ActivityEvent, Name, Names, Timestamp};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The counting maps of ingest: keys borrow the events' text; foldhash instead of SipHash
/// because these maps see several lookups per event.
type FastMap<K, V> = foldhash::HashMap<K, V>;
use time::OffsetDateTime;

/// The account and region recorded for an event without one.
pub const NONE: &str = "(none)";

/// Seconds per window of each rollup tier.
pub const TIERS: [(Tier, i64); 3] = [(Tier::Minute, 60), (Tier::Hour, 3600), (Tier::Day, 86_400)];

/// The tiers written as events are stored. Day rows are written when hours leave their
/// retention ([`Store::prune_activity`] folds them into days), and a day is read as its day
/// rows plus the hour rows of that day: every count is in exactly one of the two tiers, and
/// storing writes a third fewer rows.
const INGEST_TIERS: [(Tier, i64); 2] = [(Tier::Minute, 60), (Tier::Hour, 3600)];

/// SQL of the day (epoch seconds) holding `window_start` (floored, also before 1970).
const DAY_OF_WINDOW: &str = "window_start - (((window_start % 86400) + 86400) % 86400)";

/// A rollup tier: the width of its windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// One-minute windows (kept 48 hours by default).
    Minute,
    /// One-hour windows (kept 90 days by default).
    Hour,
    /// One-day windows (kept forever by default): a day's rows hold its hours that left the
    /// hour tier; the rest of the day is in its hour rows (see `INGEST_TIERS`).
    Day,
}

impl Tier {
    /// The name stored in `activity_rollups.tier`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Minute => "minute",
            Tier::Hour => "hour",
            Tier::Day => "day",
        }
    }

    /// Window width in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Tier::Minute => 60,
            Tier::Hour => 3600,
            Tier::Day => 86_400,
        }
    }
}

/// A counted dimension of the rollups (`activity_rollups.metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// All calls (item is empty).
    Total,
    /// Calls per `eventSource`.
    Service,
    /// Calls per `eventSource:eventName`.
    Api,
    /// Calls per principal.
    Principal,
    /// Calls per `userIdentity.type`.
    PrincipalType,
    /// Calls per source IP ([`NONE`] when absent).
    SourceIp,
    /// Failed calls per error code.
    ErrorCode,
    /// EC2 calls per outcome: `success` or the error code.
    Ec2Outcome,
    /// Console sign-ins: `success` or `failure`.
    ConsoleSignIn,
}

impl Metric {
    /// Metrics with about one item per event in a minute: not stored in the minute tier, where
    /// the recent events answer them (see the migration).
    pub const PER_EVENT: [Metric; 3] = [Metric::Api, Metric::Principal, Metric::SourceIp];

    /// Every metric, in storage order.
    pub const ALL: [Metric; 9] = [
        Metric::Total,
        Metric::Service,
        Metric::Api,
        Metric::Principal,
        Metric::PrincipalType,
        Metric::SourceIp,
        Metric::ErrorCode,
        Metric::Ec2Outcome,
        Metric::ConsoleSignIn,
    ];

    /// The name stored in `activity_rollups.metric`.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Total => "total",
            Metric::Service => "service",
            Metric::Api => "api",
            Metric::Principal => "principal",
            Metric::PrincipalType => "principal_type",
            Metric::SourceIp => "source_ip",
            Metric::ErrorCode => "error_code",
            Metric::Ec2Outcome => "ec2_outcome",
            Metric::ConsoleSignIn => "console_sign_in",
        }
    }
}

/// One file (or stdin chunk) of decoded events to store, with its ledger facts.
#[derive(Debug, Clone, Copy)]
pub struct ActivityFile<'a> {
    /// Ledger key: the file's path as the reader names it (or `-` and a chunk number).
    pub path: &'a str,
    /// Size in bytes when read; a file is read again when its size changes.
    pub size: u64,
    /// The decoded events, in file order.
    pub events: &'a [ActivityEvent],
    /// Records that could not be decoded.
    pub undecodable: u64,
    /// Records or files recognised and left out, by kind (`digest`, `insight`, …).
    pub skipped: &'a BTreeMap<String, u64>,
    /// False for a chunk of a file with more to come: the ledger marks the file as read
    /// only with its last chunk.
    pub complete: bool,
}

/// What [`Store::store_activity`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityStored {
    /// Per file, per event: true when the event was new (counted), false for a duplicate.
    pub fresh: Vec<Vec<bool>>,
    /// Events counted.
    pub new_events: u64,
    /// Events already stored (or twice in this write), not counted again.
    pub duplicates: u64,
    /// New events whose minute window was already closed and scored: they amended its counts.
    pub late_events: u64,
}

/// Stream progress (the detector itself is read with [`Store::activity_detector`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityState {
    /// Newest event time stored.
    pub max_event_time: Option<Timestamp>,
    /// Minute windows starting before this are closed and scored.
    pub scored_until: Option<Timestamp>,
    /// Duplicate deliveries not counted, all time.
    pub duplicate_events: u64,
    /// Events that amended an already closed window, all time.
    pub late_events: u64,
}

/// The persisted anomaly detector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedDetector {
    /// Minute windows starting before this were scored by it.
    pub scored_until: Option<Timestamp>,
    /// The serialised detector, if one was saved: its header when its scopes are in `parts`,
    /// or all of it as saved before the scopes had rows of their own.
    pub bytes: Option<Vec<u8>>,
    /// The serialised scopes, by scope name, in name order.
    pub parts: Vec<(String, Vec<u8>)>,
}

/// A detector to save: its header, and its scopes as (name, bytes), which are asked for one
/// at a time while they are written (so the caller can make each when it is needed).
#[derive(Debug)]
pub struct DetectorToSave<P> {
    /// Everything but the scopes.
    pub header: Vec<u8>,
    /// The scopes; a scope saved before and missing here is deleted.
    pub parts: P,
}

/// An anomaly score of one closed window, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnomaly {
    /// Window start.
    pub time: Timestamp,
    /// Account id, or `org`.
    pub scope: String,
    /// `total` or `principal:NAME`.
    pub series: String,
    /// The anomaly score.
    pub score: f64,
    /// The dimension that contributed most.
    pub contributor: String,
    /// Whether the score crossed the alarm threshold.
    pub alarm: bool,
}

/// Counts of one account's minute window read back from the recent events, for scoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinuteCounts {
    /// Window start.
    pub start: Timestamp,
    /// Account id ([`NONE`] for events without one).
    pub account: String,
    /// All calls.
    pub total: u64,
    /// Calls per (principal, `eventSource:eventName`).
    pub by_principal_api: BTreeMap<(String, String), u64>,
    /// Calls per source IP.
    pub by_source_ip: BTreeMap<String, u64>,
}

/// The [`MinuteCounts`] of the events one writer stored, kept in memory until they are
/// scored, so that scoring need not read every event back ([`Store::minute_counts_from`]).
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
    fn totals(&self, from: i64, until: i64) -> BTreeMap<(i64, String), u64> {
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
    fn take(&mut self, from: i64, until: i64) -> Vec<MinuteCounts> {
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
                    start: from_epoch_s(start),
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
        out
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

/// How long each tier and the recent events are kept, counted back from the newest event
/// time stored (not the wall clock, so replaying old logs keeps them). `None` keeps forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Minute rollups (default 48 hours).
    pub minutes: Option<std::time::Duration>,
    /// Hour rollups and anomaly scores (default 90 days).
    pub hours: Option<std::time::Duration>,
    /// Day rollups (default forever).
    pub days: Option<std::time::Duration>,
    /// Recent events, which are also the de-duplication horizon (default 7 days).
    pub events: Option<std::time::Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        const H: u64 = 3600;
        Retention {
            minutes: Some(std::time::Duration::from_secs(48 * H)),
            hours: Some(std::time::Duration::from_secs(90 * 24 * H)),
            days: None,
            events: Some(std::time::Duration::from_secs(7 * 24 * H)),
        }
    }
}

/// Rows deleted by [`Store::prune_activity`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Rollup rows.
    pub rollups: u64,
    /// Recent events.
    pub events: u64,
    /// Anomaly scores.
    pub anomalies: u64,
}

/// Counts read from the rollups for a time range (see [`Store::activity_counts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityCounts {
    /// The tier the counts were read from.
    pub tier: Option<Tier>,
    /// All calls.
    pub events: u64,
    /// Per metric, per item (for [`Metric::Total`] the item is empty).
    pub by: BTreeMap<Metric, BTreeMap<String, u64>>,
    /// Calls per account.
    pub by_account: BTreeMap<String, u64>,
    /// Calls per region.
    pub by_region: BTreeMap<String, u64>,
    /// Earliest stored event time in range (from the recent events, else the first window).
    pub first_event_time: Option<Timestamp>,
    /// Latest stored event time in range (from the recent events, else the last window end).
    pub last_event_time: Option<Timestamp>,
    /// Undecodable records in the ledger's files.
    pub undecodable: u64,
    /// Skipped records in the ledger's files, by kind (`digest`, `insight`, `other`).
    pub skipped: BTreeMap<String, u64>,
}

/// Epoch milliseconds of a timestamp.
pub fn epoch_ms(t: Timestamp) -> i64 {
    (t.get().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The timestamp of epoch seconds.
pub fn from_epoch_s(s: i64) -> Timestamp {
    Timestamp::new(OffsetDateTime::from_unix_timestamp(s).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

/// The timestamp of epoch milliseconds.
pub fn from_epoch_ms(ms: i64) -> Timestamp {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Timestamp::new(t)
}

/// Start (epoch seconds) of the window of width `width` holding `ms`.
fn window(ms: i64, width: i64) -> i64 {
    (ms.div_euclid(1000)).div_euclid(width) * width
}

const EVENT_COLUMNS: [&str; 13] = [
    "account",
    "event_id",
    "event_time",
    "region",
    "service",
    "api",
    "principal",
    "principal_type",
    "source_ip",
    "user_agent_family",
    "error_code",
    "read_only",
    "event_type",
];

const ROLLUP_COLUMNS: [&str; 7] = [
    "tier",
    "window_start",
    "account",
    "region",
    "metric",
    "item",
    "count",
];

/// The window start, account and region of a group of minute counts.
type GroupKey<'e> = (i64, &'e str, &'e str);

/// A counted item within a group, borrowing its text from the events: metric and the item's
/// one or two parts.
type ItemKey<'e> = (Metric, &'e str, &'e str);

/// A rollup key of any tier.
type TierKey<'e> = (Tier, i64, &'e str, &'e str, Metric, &'e str, &'e str);

/// Adds one event to its group's minute counts (items with two parts are joined with `:`
/// later).
fn count_event<'e>(items: &mut FastMap<ItemKey<'e>, i64>, ev: &'e ActivityEvent) {
    let mut add = |metric: Metric, a: &'e str, b: &'e str| {
        *items.entry((metric, a, b)).or_insert(0) += 1;
    };
    add(Metric::Total, "", "");
    add(Metric::Service, &ev.service, "");
    add(Metric::Api, &ev.service, &ev.api);
    add(Metric::Principal, ev.principal.as_str(), "");
    add(Metric::PrincipalType, &ev.principal_type, "");
    add(
        Metric::SourceIp,
        ev.source_ip.as_deref().unwrap_or(NONE),
        "",
    );
    if let Some(code) = &ev.error_code {
        add(Metric::ErrorCode, code, "");
    }
    if let Some(outcome) = ev.ec2_outcome() {
        add(Metric::Ec2Outcome, outcome.err().unwrap_or("success"), "");
    }
    if let Some(ok) = ev.sign_in_succeeded() {
        add(
            Metric::ConsoleSignIn,
            if ok { "success" } else { "failure" },
            "",
        );
    }
}

/// The rollup rows (minute and hour tiers) of a set of new events, sorted by key.
fn rollup_rows<'e>(events: impl Iterator<Item = &'e ActivityEvent>) -> Batch {
    // Grouped by (minute, account, region) first: a file's events share account and region,
    // so the group is usually the previous event's, and each item key hashes less text.
    let mut groups: Vec<(GroupKey<'e>, FastMap<ItemKey<'e>, i64>)> = Vec::new();
    let mut index: FastMap<GroupKey<'e>, usize> = FastMap::default();
    let mut last: Option<(GroupKey<'e>, usize)> = None;
    for ev in events {
        let key = (
            window(epoch_ms(ev.event_time), 60),
            ev.account.as_ref().map_or(NONE, |a| a.as_str()),
            ev.region.as_deref().unwrap_or(NONE),
        );
        let i = match last {
            Some((k, i)) if k == key => i,
            _ => {
                let i = *index.entry(key).or_insert_with(|| {
                    groups.push((key, FastMap::default()));
                    groups.len() - 1
                });
                last = Some((key, i));
                i
            }
        };
        count_event(&mut groups[i].1, ev);
    }
    let mut all: FastMap<TierKey<'e>, i64> = FastMap::default();
    for ((m, account, region), items) in groups {
        for ((metric, a, b), n) in items {
            for (tier, width) in INGEST_TIERS {
                if tier == Tier::Minute && Metric::PER_EVENT.contains(&metric) {
                    continue;
                }
                let start = m.div_euclid(width) * width;
                *all.entry((tier, start, account, region, metric, a, b))
                    .or_insert(0) += n;
            }
        }
    }
    let mut all: Vec<(TierKey<'e>, i64)> = all.into_iter().collect();
    all.sort_unstable_by(|x, y| x.0.cmp(&y.0));
    let rows = all
        .into_iter()
        .map(|((tier, start, account, region, metric, a, b), n)| {
            let item = if b.is_empty() {
                a.to_owned()
            } else {
                format!("{a}:{b}")
            };
            vec![
                Val::str(tier.as_str()),
                Val::Int(start),
                Val::str(account),
                Val::str(region),
                Val::str(metric.as_str()),
                Val::Text(item),
                Val::Int(n),
            ]
        })
        .collect();
    Batch::from_rows("activity_rollups", ROLLUP_COLUMNS.to_vec(), rows)
}

/// The rows of `activity_events` for a write: each made from its event when its statement is
/// bound, so a batch's events are not copied into rows all at once.
struct EventRows<'f, 'e> {
    files: &'f [ActivityFile<'e>],
    /// (file, event) indexes, in the order the rows are written.
    order: &'f [(usize, usize)],
}

impl Rows for EventRows<'_, '_> {
    fn table(&self) -> &'static str {
        "activity_events"
    }
    fn columns(&self) -> &[&'static str] {
        &EVENT_COLUMNS
    }
    fn len(&self) -> usize {
        self.order.len()
    }
    fn row(&self, i: usize) -> Cow<'_, [Val]> {
        let (f, e) = self.order[i];
        Cow::Owned(event_row(&self.files[f].events[e]))
    }
}

fn event_row(ev: &ActivityEvent) -> Vec<Val> {
    vec![
        Val::str(ev.account.as_ref().map_or(NONE, |a| a.as_str())),
        Val::str(ev.dedup_id()),
        Val::Int(epoch_ms(ev.event_time)),
        Val::str(ev.region.as_deref().unwrap_or(NONE)),
        Val::str(&ev.service),
        Val::str(&ev.api),
        Val::str(ev.principal.as_str()),
        Val::str(&ev.principal_type),
        Val::text(&ev.source_ip),
        Val::str(&ev.user_agent_family),
        Val::text(&ev.error_code),
        Val::bool(ev.read_only),
        Val::text(&ev.event_type),
    ]
}

fn parse_i64(cell: &Option<String>) -> i64 {
    cell.as_deref()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(0, |f| f as i64)
}

async fn read_state<C: Conn>(c: &mut C) -> Result<ActivityState, sqlx::Error> {
    let rows = c
        .fetch_text(
            "SELECT CAST(max_event_time AS TEXT), CAST(scored_until AS TEXT), \
             CAST(duplicate_events AS TEXT), CAST(late_events AS TEXT) \
             FROM activity_state WHERE name = 'default'",
            &[],
        )
        .await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(ActivityState::default());
    };
    let opt = |cell: &Option<String>| cell.as_ref().map(|_| parse_i64(cell));
    Ok(ActivityState {
        max_event_time: opt(&row[0]).map(from_epoch_ms),
        scored_until: opt(&row[1]).map(from_epoch_s),
        duplicate_events: parse_i64(&row[2]) as u64,
        late_events: parse_i64(&row[3]) as u64,
    })
}

/// The part of a write that needs no database (see [`prepare_activity`]): the events in key
/// order and, for the usual case of no duplicates, the rollups of all of them.
pub struct PreparedActivity {
    /// Events in the files it was made from.
    events_in: usize,
    /// (file, event) indexes in the primary key's order: the order their rows are written in
    /// (made from the events as they are written, so not held twice; see [`EventRows`]).
    order: Vec<(usize, usize)>,
    /// The rollups if every event is new.
    rollups: Batch,
}

/// An event's primary key as numbers: epoch milliseconds, account, first bytes of the id.
type SortKey = (i64, u64, u128);

/// Prepares the rows of a write of `files` (pure computation: a writer can prepare the next
/// batch while the database stores the previous one). Pass it to
/// [`Store::store_prepared_activity`] with the same files.
pub fn prepare_activity(files: &[ActivityFile<'_>]) -> PreparedActivity {
    // Sorted by key, so that concurrent writers take row locks in the same order.
    let order: Vec<(usize, usize)> = files
        .iter()
        .enumerate()
        .flat_map(|(f, file)| (0..file.events.len()).map(move |i| (f, i)))
        .collect();
    let ev = |&(f, i): &(usize, usize)| &files[f].events[i];
    // The primary key's order: (event time, account, id), compared as numbers: a 12-digit
    // account orders as its number (none, `(none)`, before all), and an id as its first 16
    // bytes (big-endian, so byte order); whole ids only when those are equal.
    let numeric = |e: &ActivityEvent| {
        let account = e
            .account
            .as_ref()
            .and_then(|a| a.as_str().parse::<u64>().ok())
            .map_or(0, |n| n + 1);
        let mut prefix = [0u8; 16];
        let id = e.dedup_id().as_bytes();
        let n = id.len().min(16);
        prefix[..n].copy_from_slice(&id[..n]);
        (epoch_ms(e.event_time), account, u128::from_be_bytes(prefix))
    };
    let mut keyed: Vec<(SortKey, (usize, usize))> =
        order.iter().map(|k| (numeric(ev(k)), *k)).collect();
    keyed.sort_unstable_by(|(x, a), (y, b)| {
        x.cmp(y)
            .then_with(|| ev(a).dedup_id().cmp(ev(b).dedup_id()))
    });
    let order: Vec<(usize, usize)> = keyed.into_iter().map(|(_, k)| k).collect();
    PreparedActivity {
        events_in: order.len(),
        rollups: rollup_rows(files.iter().flat_map(|f| f.events.iter())),
        order,
    }
}

const EVENTS_CONFLICT: &str = "ON CONFLICT (event_time, account, event_id) DO NOTHING";

const ROLLUPS_CONFLICT: &str = "ON CONFLICT (tier, window_start, account, region, metric, item) \
     DO UPDATE SET count = activity_rollups.count + excluded.count";

/// How a write learns which of its events are new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Insert {
    /// Insert them and compare the count, no row sent back: the usual case, every event new.
    Counted,
    /// Insert them with `RETURNING`: each new event comes back.
    Returning,
}

/// Writes a batch in the transaction `c`. With [`Insert::Counted`], returns `None` (the
/// caller rolls back and writes again with [`Insert::Returning`]) when some events were stored
/// already.
async fn store<C: Conn>(
    c: &mut C,
    files: &[ActivityFile<'_>],
    prepared: &PreparedActivity,
    postgres: bool,
    insert: Insert,
) -> Result<Option<ActivityStored>, sqlx::Error> {
    let state = read_state(c).await?;
    let scored_until = state.scored_until.map(|t| epoch_ms(t) / 1000);
    let order = &prepared.order;

    let events = EventRows { files, order };
    let all_new = insert == Insert::Counted;
    let mut returned = HashSet::new();
    if all_new {
        let inserted = c.insert_count(&events, EVENTS_CONFLICT).await?;
        if inserted != order.len() as u64 {
            return Ok(None);
        }
    } else {
        returned = c
            .insert_with(
                &events,
                &format!("{EVENTS_CONFLICT} RETURNING account, event_id, CAST(event_time AS TEXT)"),
            )
            .await?
            .into_iter()
            .map(|r| {
                (
                    r[0].clone().unwrap_or_default(),
                    r[1].clone().unwrap_or_default(),
                    parse_i64(&r[2]),
                )
            })
            .collect();
    }
    let mut fresh: Vec<Vec<bool>> = files.iter().map(|f| vec![false; f.events.len()]).collect();
    let mut out = ActivityStored::default();
    let mut max_ms: Option<i64> = None;
    for &(f, i) in order {
        let e = &files[f].events[i];
        let ms = epoch_ms(e.event_time);
        // The first occurrence of a key in this write takes the insert; the rest are duplicates.
        let new = all_new
            || returned.remove(&(
                e.account.as_ref().map_or(NONE, |a| a.as_str()).to_owned(),
                e.dedup_id().to_owned(),
                ms,
            ));
        if new {
            fresh[f][i] = true;
            out.new_events += 1;
            max_ms = Some(max_ms.map_or(ms, |m| m.max(ms)));
            if scored_until.is_some_and(|s| window(ms, 60) < s) {
                out.late_events += 1;
            }
        } else {
            out.duplicates += 1;
        }
    }
    if all_new {
        c.insert_count(&prepared.rollups, ROLLUPS_CONFLICT).await?;
    } else {
        let new_events = files.iter().zip(&fresh).flat_map(|(file, mask)| {
            file.events
                .iter()
                .zip(mask)
                .filter(|(_, &new)| new)
                .map(|(e, _)| e)
        });
        c.insert_count(&rollup_rows(new_events), ROLLUPS_CONFLICT)
            .await?;
    }

    for (file, mask) in files.iter().zip(&fresh) {
        let times = file.events.iter().map(|e| epoch_ms(e.event_time));
        let first = times.clone().min();
        let last = times.max();
        let new = mask.iter().filter(|&&n| n).count() as i64;
        let opt = |v: Option<i64>| v.map_or(Val::Null, Val::Int);
        let (least, greatest) = if postgres {
            ("LEAST", "GREATEST")
        } else {
            ("MIN", "MAX")
        };
        c.exec(
            &format!(
                "INSERT INTO activity_files (path, size, events, new_events, undecodable, \
                 skipped, skipped_digest, skipped_insight, first_event_time, last_event_time) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (path) DO UPDATE SET size = excluded.size, error = NULL, \
                 events = activity_files.events + excluded.events, \
                 new_events = activity_files.new_events + excluded.new_events, \
                 undecodable = activity_files.undecodable + excluded.undecodable, \
                 skipped = activity_files.skipped + excluded.skipped, \
                 skipped_digest = activity_files.skipped_digest + excluded.skipped_digest, \
                 skipped_insight = activity_files.skipped_insight + excluded.skipped_insight, \
                 first_event_time = COALESCE({least}(activity_files.first_event_time, \
                 excluded.first_event_time), activity_files.first_event_time, \
                 excluded.first_event_time), \
                 last_event_time = COALESCE({greatest}(activity_files.last_event_time, \
                 excluded.last_event_time), activity_files.last_event_time, \
                 excluded.last_event_time)"
            ),
            &[
                Val::str(file.path),
                Val::Int(if file.complete { file.size as i64 } else { -1 }),
                Val::Int(file.events.len() as i64),
                Val::Int(new),
                Val::Int(file.undecodable as i64),
                Val::Int(file.skipped.values().sum::<u64>() as i64),
                Val::Int(file.skipped.get("digest").copied().unwrap_or(0) as i64),
                Val::Int(file.skipped.get("insight").copied().unwrap_or(0) as i64),
                opt(first),
                opt(last),
            ],
        )
        .await?;
    }
    let greatest = if postgres { "GREATEST" } else { "MAX" };
    c.exec(
        &format!(
            "INSERT INTO activity_state (name, max_event_time, duplicate_events, late_events) \
             VALUES ('default', ?, ?, ?) ON CONFLICT (name) DO UPDATE SET \
             max_event_time = COALESCE({greatest}(activity_state.max_event_time, \
             excluded.max_event_time), activity_state.max_event_time, excluded.max_event_time), \
             duplicate_events = activity_state.duplicate_events + excluded.duplicate_events, \
             late_events = activity_state.late_events + excluded.late_events"
        ),
        &[
            max_ms.map_or(Val::Null, Val::Int),
            Val::Int(out.duplicates as i64),
            Val::Int(out.late_events as i64),
        ],
    )
    .await?;
    out.fresh = fresh;
    Ok(Some(out))
}

async fn minute_counts<C: Conn>(
    c: &mut C,
    from: i64,
    until: i64,
) -> Result<Vec<MinuteCounts>, sqlx::Error> {
    let range = [Val::Int(from * 1000), Val::Int(until * 1000)];
    let mut out: BTreeMap<(i64, String), MinuteCounts> = BTreeMap::new();
    let rows = c
        .fetch_text(
            "SELECT CAST(event_time - (event_time % 60000) AS TEXT), account, principal, \
             service, api, CAST(COUNT(*) AS TEXT) FROM activity_events \
             WHERE event_time >= ? AND event_time < ? \
             GROUP BY event_time - (event_time % 60000), account, principal, service, api",
            &range,
        )
        .await?;
    for r in rows {
        let start = parse_i64(&r[0]) / 1000;
        let account = r[1].clone().unwrap_or_default();
        let n = parse_i64(&r[5]) as u64;
        let w = out
            .entry((start, account.clone()))
            .or_insert_with(|| MinuteCounts {
                start: from_epoch_s(start),
                account,
                total: 0,
                by_principal_api: BTreeMap::new(),
                by_source_ip: BTreeMap::new(),
            });
        w.total += n;
        let api = format!(
            "{}:{}",
            r[3].as_deref().unwrap_or_default(),
            r[4].as_deref().unwrap_or_default()
        );
        *w.by_principal_api
            .entry((r[2].clone().unwrap_or_default(), api))
            .or_insert(0) += n;
    }
    let rows = c
        .fetch_text(
            "SELECT CAST(event_time - (event_time % 60000) AS TEXT), account, \
             COALESCE(source_ip, '(none)'), CAST(COUNT(*) AS TEXT) FROM activity_events \
             WHERE event_time >= ? AND event_time < ? \
             GROUP BY event_time - (event_time % 60000), account, COALESCE(source_ip, '(none)')",
            &range,
        )
        .await?;
    for r in rows {
        let key = (parse_i64(&r[0]) / 1000, r[1].clone().unwrap_or_default());
        if let Some(w) = out.get_mut(&key) {
            w.by_source_ip
                .insert(r[2].clone().unwrap_or_default(), parse_i64(&r[3]) as u64);
        }
    }
    Ok(out.into_values().collect())
}

/// Adds the hour rows before `cut` (epoch seconds) to the rows of their days and deletes
/// them; returns how many hour rows went. On PostgreSQL the rows are taken by the `DELETE`
/// itself, so that of two workers pruning at once each hour row is folded by exactly one
/// (SQLite has one writer at a time).
async fn fold_hours_into_days<C: Conn>(
    c: &mut C,
    cut: i64,
    postgres: bool,
) -> Result<u64, sqlx::Error> {
    let columns = "tier, window_start, account, region, metric, item, count";
    let upsert = ROLLUPS_CONFLICT;
    if postgres {
        let sql = format!(
            "WITH gone AS (DELETE FROM activity_rollups WHERE tier = 'hour' AND window_start < ? \
             RETURNING window_start, account, region, metric, item, count), \
             folded AS (INSERT INTO activity_rollups ({columns}) \
             SELECT 'day', {DAY_OF_WINDOW}, account, region, metric, item, SUM(count) FROM gone \
             GROUP BY {DAY_OF_WINDOW}, account, region, metric, item {upsert}) \
             SELECT COUNT(*) FROM gone"
        );
        let gone = c.fetch_i64(&sql, &[Val::Int(cut)]).await?;
        return Ok(gone.unwrap_or(0) as u64);
    }
    let sql = format!(
        "INSERT INTO activity_rollups ({columns}) \
         SELECT 'day', {DAY_OF_WINDOW}, account, region, metric, item, SUM(count) \
         FROM activity_rollups WHERE tier = 'hour' AND window_start < ? \
         GROUP BY {DAY_OF_WINDOW}, account, region, metric, item {upsert}"
    );
    c.exec(&sql, &[Val::Int(cut)]).await?;
    c.exec(
        "DELETE FROM activity_rollups WHERE tier = 'hour' AND window_start < ?",
        &[Val::Int(cut)],
    )
    .await
}

/// The statement that starts a write transaction. On SQLite, `BEGIN IMMEDIATE`: a deferred
/// transaction that reads before it writes fails at once ("database is locked", no waiting)
/// when another connection committed in between, as the scorer saving its state does while
/// the writer stores a batch; an immediate one takes the write lock first and waits for it.
fn begin(postgres: bool) -> &'static str {
    if postgres {
        "BEGIN"
    } else {
        "BEGIN IMMEDIATE"
    }
}

async fn save_scores<C: Conn>(
    c: &mut C,
    expected: Option<Timestamp>,
    scored_until: Timestamp,
    detector: DetectorToSave<impl Iterator<Item = (String, Vec<u8>)> + Send>,
    anomalies: &[StoredAnomaly],
) -> Result<bool, sqlx::Error> {
    c.exec(
        "INSERT INTO activity_state (name) VALUES ('default') ON CONFLICT (name) DO NOTHING",
        &[],
    )
    .await?;
    let same = match expected {
        Some(_) => "scored_until = ?",
        None => "scored_until IS NULL",
    };
    // Optimistic: only the worker that read `expected` advances the state.
    let mut args = vec![
        Val::Int(epoch_ms(scored_until) / 1000),
        Val::Bytes(detector.header),
    ];
    if let Some(t) = expected {
        args.push(Val::Int(epoch_ms(t) / 1000));
    }
    let n = c
        .exec(
            &format!(
                "UPDATE activity_state SET scored_until = ?, detector = ? \
                 WHERE name = 'default' AND {same}"
            ),
            &args,
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    c.exec(
        "DELETE FROM activity_detector_scopes WHERE name = 'default'",
        &[],
    )
    .await?;
    // One part at a time: the caller makes them as they are asked for.
    for (scope, state) in detector.parts {
        c.exec(
            "INSERT INTO activity_detector_scopes (name, scope, state) VALUES ('default', ?, ?)",
            &[Val::Text(scope), Val::Bytes(state)],
        )
        .await?;
    }
    let rows = anomalies
        .iter()
        .map(|a| {
            vec![
                Val::Int(epoch_ms(a.time) / 1000),
                Val::str(&a.scope),
                Val::str(&a.series),
                Val::Real(if a.score.is_finite() { a.score } else { 0.0 }),
                Val::str(&a.contributor),
                Val::Bool(a.alarm),
            ]
        })
        .collect();
    let batch = Batch::from_rows(
        "activity_anomalies",
        vec![
            "window_start",
            "scope",
            "series",
            "score",
            "contributor",
            "alarm",
        ],
        rows,
    );
    c.insert_with(
        &batch,
        "ON CONFLICT (window_start, scope, series) DO UPDATE SET score = excluded.score, \
         contributor = excluded.contributor, alarm = excluded.alarm",
    )
    .await?;
    Ok(true)
}

impl Store {
    /// Stores decoded files in one transaction: new events are kept and counted, events
    /// already stored (same account, id and time) are only reported as duplicates. Safe to
    /// call again with the same files, and from several workers at once.
    pub async fn store_activity(
        &self,
        files: &[ActivityFile<'_>],
    ) -> Result<ActivityStored, StoreError> {
        self.store_prepared_activity(files, &prepare_activity(files))
            .await
    }

    /// [`Store::store_activity`] with rows made beforehand by [`prepare_activity`] from the
    /// same files.
    pub async fn store_prepared_activity(
        &self,
        files: &[ActivityFile<'_>],
        prepared: &PreparedActivity,
    ) -> Result<ActivityStored, StoreError> {
        let events: usize = files.iter().map(|f| f.events.len()).sum();
        assert_eq!(
            events, prepared.events_in,
            "prepared from other files than the ones stored"
        );
        if files.is_empty() {
            return Ok(ActivityStored::default());
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result: Result<ActivityStored, StoreError> = async {
                // Usually every event is new: they are inserted and counted, no row sent
                // back. When some were stored already, the transaction is undone and written
                // again with RETURNING, to learn which: cheaper than a savepoint around every
                // batch's events (SQLite journals each page they touch for it: 7 % of
                // `bench/activity`).
                macro_rules! run {
                    ($pool:expr, $pg:expr) => {{
                        let mut insert = Insert::Counted;
                        loop {
                            let mut tx = $pool.begin_with(begin($pg)).await?;
                            match store(&mut *tx, files, prepared, $pg, insert).await? {
                                Some(out) => {
                                    tx.commit().await?;
                                    break Ok(out);
                                }
                                None => {
                                    tx.rollback().await?;
                                    insert = Insert::Returning;
                                }
                            }
                        }
                    }};
                }
                match &self.pool {
                    Pool::Sqlite(p) => run!(p, false),
                    Pool::Postgres(p) => run!(p, true),
                }
            }
            .await;
            match result {
                Err(e) if e.is_transient() && attempt < 5 => {
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// The ledger: the size of every file read to its end (or that failed), by path.
    /// Incomplete reads are left out, so they are redone.
    pub async fn activity_files(&self) -> Result<HashMap<String, u64>, StoreError> {
        let rows = self
            .query_text(
                "SELECT path, CAST(size AS TEXT) FROM activity_files WHERE size >= 0",
                &[],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r[0].clone().unwrap_or_default(), parse_i64(&r[1]) as u64))
            .collect())
    }

    /// Records in the ledger that a file could not be read at all, and why (it is not read
    /// again until its size changes).
    pub async fn activity_file_failed(
        &self,
        path: &str,
        size: u64,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.query_text_args(
            "INSERT INTO activity_files (path, size, events, new_events, undecodable, skipped, \
             error) VALUES (?, ?, 0, 0, 0, 0, ?) \
             ON CONFLICT (path) DO UPDATE SET size = excluded.size, error = excluded.error",
            &[Val::str(path), Val::Int(size as i64), Val::str(reason)],
        )
        .await?;
        Ok(())
    }

    /// The stream state, without the detector (megabytes, read only by
    /// [`Store::activity_detector`]).
    pub async fn activity_state(&self) -> Result<ActivityState, StoreError> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut c = $pool.acquire().await?;
                Ok(read_state(&mut *c).await?)
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => run!(p),
            Pool::Postgres(p) => run!(p),
        }
    }

    /// The saved detector and the `scored_until` it was saved with, read together (in one
    /// snapshot: a checkpoint of another worker in between is not half seen).
    pub async fn activity_detector(&self) -> Result<SavedDetector, StoreError> {
        const STATE: &str =
            "SELECT scored_until, detector FROM activity_state WHERE name = 'default'";
        const PARTS: &str = "SELECT scope, state FROM activity_detector_scopes \
             WHERE name = 'default' ORDER BY scope";
        macro_rules! run {
            ($pool:expr, $begin:expr) => {{
                let mut tx = $pool.begin_with($begin).await?;
                let row: Option<(Option<i64>, Option<Vec<u8>>)> =
                    sqlx::query_as(STATE).fetch_optional(&mut *tx).await?;
                let parts = sqlx::query_as(PARTS).fetch_all(&mut *tx).await?;
                tx.commit().await?;
                (row, parts)
            }};
        }
        let (row, parts) = match &self.pool {
            Pool::Sqlite(p) => run!(p, "BEGIN"),
            Pool::Postgres(p) => run!(p, "BEGIN ISOLATION LEVEL REPEATABLE READ"),
        };
        let (scored_until, bytes) = row.unwrap_or_default();
        Ok(SavedDetector {
            scored_until: scored_until.map(from_epoch_s),
            bytes,
            parts,
        })
    }

    /// Per account, the counts of each minute window in `[from, until)` with any stored
    /// events, read from the recent events (complete within their retention).
    pub async fn minute_counts(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<MinuteCounts>, StoreError> {
        let (from, until) = (epoch_ms(from) / 1000, epoch_ms(until) / 1000);
        macro_rules! run {
            ($pool:expr) => {{
                let mut c = $pool.acquire().await?;
                Ok(minute_counts(&mut *c, from, until).await?)
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => run!(p),
            Pool::Postgres(p) => run!(p),
        }
    }

    /// As [`Store::minute_counts`], taken from `recent` when it holds every stored event of
    /// the range (its totals equal the stored minute totals: no other writer, no restart, added
    /// to these windows), and read from the stored events otherwise. The range's windows leave
    /// `recent` either way.
    pub async fn minute_counts_from(
        &self,
        recent: &mut MinuteCounter,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<MinuteCounts>, StoreError> {
        let (from_s, until_s) = (epoch_ms(from) / 1000, epoch_ms(until) / 1000);
        let rows = self
            .query_text_args(
                "SELECT CAST(window_start AS TEXT), account, CAST(SUM(count) AS TEXT) \
                 FROM activity_rollups WHERE tier = 'minute' AND metric = 'total' \
                 AND window_start >= ? AND window_start < ? GROUP BY window_start, account",
                &[Val::Int(from_s), Val::Int(until_s)],
            )
            .await?;
        let stored: BTreeMap<(i64, String), u64> = rows
            .into_iter()
            .map(|r| {
                (
                    (parse_i64(&r[0]), r[1].clone().unwrap_or_default()),
                    parse_i64(&r[2]) as u64,
                )
            })
            .collect();
        if recent.totals(from_s, until_s) == stored {
            return Ok(recent.take(from_s, until_s));
        }
        recent.take(from_s, until_s);
        self.minute_counts(from, until).await
    }

    /// Saves scores and the detector, and advances `scored_until` from `expected` — all or
    /// nothing. Returns false (and writes nothing) when another worker advanced it first.
    pub async fn save_scores(
        &self,
        expected: Option<Timestamp>,
        scored_until: Timestamp,
        detector: DetectorToSave<impl Iterator<Item = (String, Vec<u8>)> + Send>,
        anomalies: &[StoredAnomaly],
    ) -> Result<bool, StoreError> {
        macro_rules! run {
            ($pool:expr, $pg:expr) => {{
                let mut tx = $pool.begin_with(begin($pg)).await?;
                let saved =
                    save_scores(&mut *tx, expected, scored_until, detector, anomalies).await?;
                if saved {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                Ok(saved)
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => run!(p, false),
            Pool::Postgres(p) => run!(p, true),
        }
    }

    /// Stored anomaly scores with window start in `[since, until)`; only alarms when `alarms`.
    pub async fn anomalies(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        alarms: bool,
    ) -> Result<Vec<StoredAnomaly>, StoreError> {
        let since = since.map_or(i64::MIN, |t| epoch_ms(t).div_euclid(1000));
        let until = until.map_or(i64::MAX, |t| epoch_ms(t).div_euclid(1000));
        let rows = self
            .query_text_args(
                &format!(
                    "SELECT CAST(window_start AS TEXT), scope, series, CAST(score AS TEXT), \
                     contributor FROM activity_anomalies WHERE window_start >= ? \
                     AND window_start < ? {} ORDER BY window_start, scope, series",
                    if alarms { "AND alarm" } else { "" }
                ),
                &[Val::Int(since), Val::Int(until)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredAnomaly {
                time: from_epoch_s(parse_i64(&r[0])),
                scope: r[1].clone().unwrap_or_default(),
                series: r[2].clone().unwrap_or_default(),
                score: r[3].as_deref().and_then(|s| s.parse().ok()).unwrap_or(0.0),
                contributor: r[4].clone().unwrap_or_default(),
                alarm: alarms,
            })
            .collect())
    }

    /// Counts of the stored activity with event time in `[since, until)`, read from the finest
    /// tier whose retention still covers `since` (minute, then hour, then day); bounds are
    /// rounded out to that tier's windows. The result says which tier it used.
    pub async fn activity_counts(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        retention: &Retention,
    ) -> Result<ActivityCounts, StoreError> {
        let state = self.activity_state().await?;
        let mut counts = ActivityCounts::default();
        let Some(max) = state.max_event_time else {
            return Ok(counts);
        };
        let max_s = epoch_ms(max).div_euclid(1000);
        let covers =
            |keep: Option<std::time::Duration>, since: Option<Timestamp>| match (keep, since) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(k), Some(s)) => epoch_ms(s).div_euclid(1000) >= max_s - k.as_secs() as i64,
            };
        let tier = if covers(retention.minutes, since) {
            Tier::Minute
        } else if covers(retention.hours, since) {
            Tier::Hour
        } else {
            Tier::Day
        };
        let width = tier.seconds();
        let lo = since.map_or(i64::MIN, |t| {
            epoch_ms(t).div_euclid(1000).div_euclid(width) * width
        });
        let hi = until.map_or(i64::MAX, |t| {
            let s = (epoch_ms(t) + 999).div_euclid(1000);
            (s + width - 1).div_euclid(width) * width
        });
        counts.tier = Some(tier);
        let rows = self
            .query_text_args(
                "SELECT metric, item, account, region, CAST(SUM(count) AS TEXT), \
                 CAST(MIN(window_start) AS TEXT), CAST(MAX(window_start) AS TEXT) \
                 FROM activity_rollups WHERE tier IN (?, ?) AND window_start >= ? \
                 AND window_start < ? GROUP BY metric, item, account, region",
                &[
                    Val::str(tier.as_str()),
                    // A day is its day rows plus the hour rows not folded into them yet.
                    Val::str(if tier == Tier::Day { Tier::Hour } else { tier }.as_str()),
                    Val::Int(lo),
                    Val::Int(hi),
                ],
            )
            .await?;
        let mut first_w: Option<i64> = None;
        let mut last_w: Option<i64> = None;
        for r in rows {
            let metric = r[0].as_deref().unwrap_or_default();
            let Some(metric) = Metric::ALL.into_iter().find(|m| m.as_str() == metric) else {
                continue;
            };
            let n = parse_i64(&r[4]) as u64;
            let item = r[1].clone().unwrap_or_default();
            *counts
                .by
                .entry(metric)
                .or_default()
                .entry(item)
                .or_insert(0) += n;
            if metric == Metric::Total {
                counts.events += n;
                *counts
                    .by_account
                    .entry(r[2].clone().unwrap_or_default())
                    .or_insert(0) += n;
                *counts
                    .by_region
                    .entry(r[3].clone().unwrap_or_default())
                    .or_insert(0) += n;
                let floor = |w: i64| w.div_euclid(width) * width;
                let (a, b) = (floor(parse_i64(&r[5])), floor(parse_i64(&r[6])));
                first_w = Some(first_w.map_or(a, |x| x.min(a)));
                last_w = Some(last_w.map_or(b, |x| x.max(b)));
            }
        }
        let lo_ms = lo.saturating_mul(1000);
        let hi_ms = hi.saturating_mul(1000);
        if tier == Tier::Minute {
            // Not in the minute tier: counted from the recent events, which outlive it.
            for (metric, expr) in [
                (Metric::Api, "service || ':' || api"),
                (Metric::Principal, "principal"),
                (Metric::SourceIp, "COALESCE(source_ip, '(none)')"),
            ] {
                let rows = self
                    .query_text_args(
                        &format!(
                            "SELECT {expr}, CAST(COUNT(*) AS TEXT) FROM activity_events \
                             WHERE event_time >= ? AND event_time < ? GROUP BY {expr}"
                        ),
                        &[Val::Int(lo_ms), Val::Int(hi_ms)],
                    )
                    .await?;
                let map = counts.by.entry(metric).or_default();
                for r in rows {
                    map.insert(r[0].clone().unwrap_or_default(), parse_i64(&r[1]) as u64);
                }
            }
        }
        let bounds = self
            .query_text_args(
                "SELECT CAST(MIN(event_time) AS TEXT), CAST(MAX(event_time) AS TEXT) \
                 FROM activity_events WHERE event_time >= ? AND event_time < ?",
                &[Val::Int(lo_ms), Val::Int(hi_ms)],
            )
            .await?;
        let events_cover = covers(retention.events, since);
        let b = bounds.into_iter().next().unwrap_or_default();
        let cell = |i: usize| b.get(i).cloned().flatten().map(|s| parse_i64(&Some(s)));
        counts.first_event_time = match (events_cover, cell(0)) {
            (true, Some(ms)) => Some(from_epoch_ms(ms)),
            _ => first_w.map(from_epoch_s),
        };
        counts.last_event_time = match (events_cover, cell(1)) {
            (true, Some(ms)) => Some(from_epoch_ms(ms)),
            _ => last_w.map(|w| from_epoch_s(w + width)),
        };
        let files = self
            .query_text_args(
                "SELECT CAST(COALESCE(SUM(undecodable), 0) AS TEXT), \
                 CAST(COALESCE(SUM(skipped), 0) AS TEXT), \
                 CAST(COALESCE(SUM(skipped_digest), 0) AS TEXT), \
                 CAST(COALESCE(SUM(skipped_insight), 0) AS TEXT) FROM activity_files \
                 WHERE (first_event_time IS NULL AND ? ) \
                 OR (last_event_time >= ? AND first_event_time < ?)",
                &[
                    Val::Bool(since.is_none() && until.is_none()),
                    Val::Int(lo_ms),
                    Val::Int(hi_ms),
                ],
            )
            .await?;
        if let Some(r) = files.into_iter().next() {
            counts.undecodable = parse_i64(&r[0]) as u64;
            let (all, digest, insight) = (parse_i64(&r[1]), parse_i64(&r[2]), parse_i64(&r[3]));
            counts.skipped.insert("digest".to_owned(), digest as u64);
            counts.skipped.insert("insight".to_owned(), insight as u64);
            if all > digest + insight {
                counts
                    .skipped
                    .insert("other".to_owned(), (all - digest - insight) as u64);
            }
        }
        Ok(counts)
    }

    /// Deletes rollups, recent events and scores older than their retention, counted back from
    /// the newest stored event time.
    pub async fn prune_activity(&self, retention: &Retention) -> Result<Pruned, StoreError> {
        let state = self.activity_state().await?;
        let Some(max) = state.max_event_time else {
            return Ok(Pruned::default());
        };
        let max_s = epoch_ms(max).div_euclid(1000);
        let before = |keep: std::time::Duration| max_s - keep.as_secs() as i64;
        let mut pruned = Pruned::default();
        macro_rules! run {
            ($pool:expr, $postgres:expr) => {{
                let mut tx = $pool.begin_with(begin($postgres)).await?;
                for (tier, keep) in [
                    (Tier::Minute, retention.minutes),
                    (Tier::Hour, retention.hours),
                    (Tier::Day, retention.days),
                ] {
                    if let Some(keep) = keep {
                        // A window is kept while any of it is inside the retention.
                        let cut = before(keep) - tier.seconds();
                        pruned.rollups += if tier == Tier::Hour {
                            fold_hours_into_days(&mut *tx, cut, $postgres).await?
                        } else {
                            Conn::exec(
                                &mut *tx,
                                "DELETE FROM activity_rollups WHERE tier = ? AND window_start < ?",
                                &[Val::str(tier.as_str()), Val::Int(cut)],
                            )
                            .await?
                        };
                    }
                }
                if let Some(keep) = retention.events {
                    pruned.events += Conn::exec(
                        &mut *tx,
                        "DELETE FROM activity_events WHERE event_time < ?",
                        &[Val::Int(before(keep) * 1000)],
                    )
                    .await?;
                }
                if let Some(keep) = retention.hours {
                    pruned.anomalies += Conn::exec(
                        &mut *tx,
                        "DELETE FROM activity_anomalies WHERE window_start < ?",
                        &[Val::Int(before(keep))],
                    )
                    .await?;
                }
                tx.commit().await?;
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => run!(p, false),
            Pool::Postgres(p) => run!(p, true),
        }
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(minute: i64, user: &str, ip: &str) -> ActivityEvent {
        let time = from_epoch_s(1_709_287_200 + 60 * minute);
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
        let counts = counter.take(start, start + 60);
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
