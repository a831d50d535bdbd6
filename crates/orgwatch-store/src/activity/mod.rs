//! CloudTrail activity in the store: de-duplicated recent events, additive tiered rollups, the
//! processed-file ledger, anomaly scores and the stream state (see `docs/activity.md`).
//!
//! Every write of [`Store::store_activity`] is one transaction: the events (de-duplicated on
//! (account, event id, event time) by the primary key), the rollups of the events that were
//! new (added to the stored counts, never replacing them), the ledger rows of the files and the
//! stream state. A crash before commit leaves nothing; rereading the same files after a crash
//! or by a second worker counts nothing twice.

mod prune;
mod read;
mod rows;
mod scores;
mod write;

pub use rows::{prepare_activity, PreparedActivity};
pub use write::ACTIVITY_CHANNEL;

use orgwatch_model::{ActivityEvent, Timestamp};
use std::collections::BTreeMap;

/// The counting maps of ingest: keys borrow the events' text; foldhash instead of SipHash
/// because these maps see several lookups per event.
type FastMap<K, V> = foldhash::HashMap<K, V>;

/// The account and region recorded for an event without one (the model's sentinel).
pub use orgwatch_model::activity::NONE;
/// Epoch conversions of the activity tables (the model's: out-of-range times are errors).
pub use orgwatch_model::activity::{epoch_ms, from_epoch_ms, from_epoch_s};
/// What scoring reads and writes: a window's counts and a series' score (the model's).
pub use orgwatch_model::activity::{AlarmKind, Anomaly, Explanation, WindowCounts};

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
    /// For a file, how many of its events came before these (earlier chunks of the read):
    /// the ledger's `events` is then the file's events by position, the same however often
    /// it is read, and an event a reread finds stored already (a position an earlier read
    /// reached) is a reread, not a duplicate. `None` for a stream, whose reads add up.
    pub offset: Option<u64>,
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
    /// Events delivered more than once (stored already, or twice in this write), not counted
    /// again.
    pub duplicates: u64,
    /// Events stored already by an earlier read of the same file (interrupted, or before the
    /// file grew): neither counted nor duplicates.
    pub rereads: u64,
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
    /// Events delivered more than once, not counted again, all time (rereads of a file are
    /// not duplicates).
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
    /// The scopes that changed since the last save; a scope saved before and missing here
    /// keeps its saved part.
    pub parts: P,
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

/// Start (epoch seconds) of the window of width `width` holding `ms`.
pub(crate) fn window(ms: i64, width: i64) -> i64 {
    (ms.div_euclid(1000)).div_euclid(width) * width
}
