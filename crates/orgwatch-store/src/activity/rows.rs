//! `rows`: the rows a write of activity makes (events, minute and hour rollups), computed
//! without the database.

use super::{epoch_ms, window, ActivityFile, FastMap, Metric, Tier, INGEST_TIERS, NONE};
use crate::value::{Batch, Rows, Val};
use orgwatch_model::ActivityEvent;
use std::borrow::Cow;

/// The rollups' upsert: counts are added, never replaced.
pub(super) const ROLLUPS_CONFLICT: &str =
    "ON CONFLICT (tier, window_start, account, region, metric, item) \
     DO UPDATE SET count = activity_rollups.count + excluded.count";

const EVENT_COLUMNS: [&str; 14] = [
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
    "sign_in_failed",
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
pub(super) fn rollup_rows<'e>(events: impl Iterator<Item = &'e ActivityEvent>) -> Batch {
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
pub(super) struct EventRows<'f, 'e> {
    pub(super) files: &'f [ActivityFile<'e>],
    /// (file, event) indexes, in the order the rows are written.
    pub(super) order: &'f [(usize, usize)],
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
        Val::Bool(ev.sign_in_failed),
    ]
}

/// The part of a write that needs no database (see [`prepare_activity`]): the events in key
/// order and, for the usual case of no duplicates, the rollups of all of them.
pub struct PreparedActivity {
    /// Events in the files it was made from.
    pub(super) events_in: usize,
    /// (file, event) indexes in the primary key's order: the order their rows are written in
    /// (made from the events as they are written, so not held twice; see [`EventRows`]).
    pub(super) order: Vec<(usize, usize)>,
    /// The rollups if every event is new.
    pub(super) rollups: Batch,
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
