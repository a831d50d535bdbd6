//! The live view: event-time windows of 10 seconds and 1 minute, per account and for the
//! organisation, published on an in-process broadcast as they change and when they close.
//!
//! This is our own stream aggregation (no crate does event-time windows with a watermark over
//! CloudTrail's dimensions), kept small: exact counts per window in memory, a watermark of
//! `newest event time - lateness`, and three kinds of update:
//!
//! - [`WindowState::Open`]: the window's counts so far (sent after each batch that touched it);
//! - [`WindowState::Closed`]: its final counts once the watermark passed its end (then it
//!   leaves memory); 10-second windows close after at most [`TEN_SECONDS_LATENESS`];
//! - [`WindowState::Amended`]: events later than the watermark for a window already closed;
//!   the update carries only those late events' counts. The store adds them to the stored
//!   window, so its totals stay exact; the live view shows the correction.
//!
//! Events must already be de-duplicated (the store decides what is new).

use orgwatch_model::activity::NONE;
use orgwatch_model::{ActivityEvent, Name, Names, Scope, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::broadcast;

/// Text of the scope of organisation-wide windows ([`Scope::Org`]; accounts use their id).
pub use orgwatch_model::activity::ORG;

/// Entries kept per top list in an update.
pub const TOP: usize = 10;

/// Most lateness of the 10-second windows: they are for watching now, and holding every count
/// of 15 minutes of 10-second windows would cost more memory than the stored minute windows.
pub const TEN_SECONDS_LATENESS: i64 = 60;

/// Updates the broadcast buffers for a slow subscriber before it misses some.
pub const CHANNEL_CAPACITY: usize = 4096;

/// Width of a live window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Width {
    /// 10 seconds: the live view.
    TenSeconds,
    /// 1 minute: the stored and scored window.
    Minute,
}

impl Width {
    /// Lateness of this width's windows, given the stream's.
    fn lateness(self, lateness: i64) -> i64 {
        match self {
            Width::TenSeconds => lateness.min(TEN_SECONDS_LATENESS),
            Width::Minute => lateness,
        }
    }

    /// Window width in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Width::TenSeconds => 10,
            Width::Minute => 60,
        }
    }
}

/// Where a window is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    /// Still receiving events.
    Open,
    /// The watermark passed its end: final counts.
    Closed,
    /// Late events for a closed window: the counts of those events only.
    Amended,
}

/// One published window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowUpdate {
    /// Window width.
    pub width: Width,
    /// Window start (UTC).
    pub start: Timestamp,
    /// An account, the organisation ([`ORG`]), or the events without an account.
    pub scope: Scope,
    /// Open, closed or amended.
    pub state: WindowState,
    /// All calls.
    pub total: u64,
    /// Failed calls (with an error code).
    pub errors: u64,
    /// EC2 calls that succeeded.
    pub ec2_success: u64,
    /// EC2 calls that failed.
    pub ec2_failure: u64,
    /// Console sign-ins that succeeded.
    pub sign_in_success: u64,
    /// Console sign-ins that failed.
    pub sign_in_failure: u64,
    /// Exact top [`TOP`] services (`eventSource`), largest first (ties by name).
    pub top_services: Vec<(String, u64)>,
    /// Exact top APIs (`eventSource:eventName`).
    pub top_apis: Vec<(String, u64)>,
    /// Exact top principals.
    pub top_principals: Vec<(String, u64)>,
    /// Exact top source IPs.
    pub top_source_ips: Vec<(String, u64)>,
    /// Exact top error codes.
    pub top_error_codes: Vec<(String, u64)>,
}

/// Exact counts of one window.
#[derive(Debug, Clone, Default)]
struct Counts {
    total: u64,
    errors: u64,
    ec2_success: u64,
    ec2_failure: u64,
    sign_in_success: u64,
    sign_in_failure: u64,
    services: Tally,
    apis: Tally,
    principals: Tally,
    source_ips: Tally,
    error_codes: Tally,
    /// Changed since the last publish.
    touched: bool,
}

/// Calls per item, the item an interned name ([`Names`]: each held once, not per window and
/// scope).
type Tally = foldhash::HashMap<Name, u64>;

fn bump(map: &mut Tally, key: Name) {
    *map.entry(key).or_insert(0) += 1;
}

/// The `n` largest entries, largest first, ties in name order: exact, as every count is kept.
fn top_n(map: &Tally, names: &Names, n: usize) -> Vec<(String, u64)> {
    let mut all: Vec<(&str, u64)> = map.iter().map(|(k, v)| (names.name(*k), *v)).collect();
    let by_rank = |a: &(&str, u64), b: &(&str, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
    if all.len() > n {
        all.select_nth_unstable_by(n, by_rank);
        all.truncate(n);
    }
    all.sort_unstable_by(by_rank);
    all.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// An event's names, interned once for the four windows it is counted in.
struct EventKeys {
    service: Name,
    api: Name,
    principal: Name,
    source_ip: Name,
    error_code: Option<Name>,
}

impl EventKeys {
    /// `api` is the event's `eventSource:eventName` (made once per event).
    fn new(ev: &ActivityEvent, api: &str, names: &mut Names) -> EventKeys {
        EventKeys {
            service: names.key(&ev.service),
            api: names.key(api),
            principal: names.key(ev.principal.as_str()),
            source_ip: names.key(ev.source_ip.as_deref().unwrap_or(NONE)),
            error_code: ev.error_code.as_deref().map(|c| names.key(c)),
        }
    }
}

impl Counts {
    /// Counts one event.
    fn add(&mut self, ev: &ActivityEvent, keys: &EventKeys) {
        self.total += 1;
        self.touched = true;
        bump(&mut self.services, keys.service);
        bump(&mut self.apis, keys.api);
        bump(&mut self.principals, keys.principal);
        bump(&mut self.source_ips, keys.source_ip);
        if let Some(code) = keys.error_code {
            self.errors += 1;
            bump(&mut self.error_codes, code);
        }
        match ev.ec2_outcome() {
            Some(Ok(())) => self.ec2_success += 1,
            Some(Err(_)) => self.ec2_failure += 1,
            None => {}
        }
        match ev.sign_in_succeeded() {
            Some(true) => self.sign_in_success += 1,
            Some(false) => self.sign_in_failure += 1,
            None => {}
        }
    }

    /// Replaces every name key by `rekey` of it ([`Names::compact`]).
    fn rekey(&mut self, rekey: &mut dyn FnMut(Name) -> Name) {
        for tally in [
            &mut self.services,
            &mut self.apis,
            &mut self.principals,
            &mut self.source_ips,
            &mut self.error_codes,
        ] {
            *tally = std::mem::take(tally)
                .into_iter()
                .map(|(k, n)| (rekey(k), n))
                .collect();
        }
    }

    fn update(
        &self,
        (width, start): Slot,
        scope: Scope,
        state: WindowState,
        names: &Names,
    ) -> WindowUpdate {
        WindowUpdate {
            width,
            start: at(start),
            scope,
            state,
            total: self.total,
            errors: self.errors,
            ec2_success: self.ec2_success,
            ec2_failure: self.ec2_failure,
            sign_in_success: self.sign_in_success,
            sign_in_failure: self.sign_in_failure,
            top_services: top_n(&self.services, names, TOP),
            top_apis: top_n(&self.apis, names, TOP),
            top_principals: top_n(&self.principals, names, TOP),
            top_source_ips: top_n(&self.source_ips, names, TOP),
            top_error_codes: top_n(&self.error_codes, names, TOP),
        }
    }
}

/// (width, start in epoch seconds): the windows of every scope at one time.
type Slot = (Width, i64);

/// Windows by slot, then by scope.
type Windows = BTreeMap<Slot, BTreeMap<Scope, Counts>>;

/// The window of `scope` in `slot`, created empty if new.
fn window(windows: &mut Windows, slot: Slot, scope: Scope) -> &mut Counts {
    windows.entry(slot).or_default().entry(scope).or_default()
}

fn at(epoch_s: i64) -> Timestamp {
    Timestamp::new(
        OffsetDateTime::from_unix_timestamp(epoch_s).unwrap_or(OffsetDateTime::UNIX_EPOCH),
    )
}

fn epoch_s(t: Timestamp) -> i64 {
    t.get().unix_timestamp()
}

/// The live windows and their broadcast.
pub struct Live {
    lateness: i64,
    sender: broadcast::Sender<WindowUpdate>,
    open: Windows,
    late: Windows,
    newest: Option<i64>,
    /// The names the windows count by; [`Live::publish`] drops those only closed windows
    /// used.
    names: Names,
}

impl Live {
    /// Live windows closing `lateness` after the newest event time seen.
    pub fn new(lateness: Duration) -> Live {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        Live {
            lateness: lateness.as_secs() as i64,
            sender,
            open: Windows::new(),
            late: Windows::new(),
            newest: None,
            names: Names::default(),
        }
    }

    /// A receiver of every update published from now on (the web app's server-sent events).
    pub fn subscribe(&self) -> broadcast::Receiver<WindowUpdate> {
        self.sender.subscribe()
    }

    /// Starts the watermark from a stored newest event time (after a restart), so windows
    /// the store already closed are not reopened.
    pub fn resume(&mut self, newest: Option<Timestamp>) {
        if let Some(t) = newest {
            let t = epoch_s(t);
            self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        }
    }

    /// The watermark: windows ending at or before it are closed (epoch seconds).
    pub fn watermark(&self) -> Option<Timestamp> {
        self.newest.map(|n| at(n - self.lateness))
    }

    /// Counts new (de-duplicated) events into their windows; [`Live::publish`] sends updates.
    pub fn add<'a>(&mut self, events: impl IntoIterator<Item = &'a ActivityEvent>) {
        let newest_before = self.newest;
        let mut newest = self.newest;
        let mut api = String::new();
        let names = &mut self.names;
        for ev in events {
            let t = epoch_s(ev.event_time);
            newest = Some(newest.map_or(t, |n| n.max(t)));
            let account = Scope::of_account(ev.account);
            api.clear();
            api.push_str(&ev.service);
            api.push(':');
            api.push_str(&ev.api);
            let keys = EventKeys::new(ev, &api, names);
            for width in [Width::TenSeconds, Width::Minute] {
                let w = width.seconds();
                let slot = (width, t.div_euclid(w) * w);
                let watermark = newest_before.map(|n| n - width.lateness(self.lateness));
                let past = watermark.is_some_and(|wm| slot.1 + w <= wm);
                for scope in [account, Scope::Org] {
                    let is_open = self.open.get(&slot).is_some_and(|s| s.contains_key(&scope));
                    let windows = if past && !is_open {
                        &mut self.late
                    } else {
                        &mut self.open
                    };
                    window(windows, slot, scope).add(ev, &keys);
                }
            }
        }
        self.newest = newest;
    }

    /// Publishes the updates since the last call: touched open windows, amendments, then the
    /// windows the watermark closed (which leave memory). Returns what was published, in
    /// that order, whether or not anyone listens.
    pub fn publish(&mut self) -> Vec<WindowUpdate> {
        let mut out = Vec::new();
        let newest = self.newest;
        let lateness = self.lateness;
        let names = &self.names;
        for (slot, scopes) in std::mem::take(&mut self.late) {
            for (scope, counts) in scopes {
                out.push(counts.update(slot, scope, WindowState::Amended, names));
            }
        }
        let closed = |(width, start): &Slot| {
            newest.is_some_and(|n| start + width.seconds() <= n - width.lateness(lateness))
        };
        for (slot, scopes) in self.open.iter_mut().filter(|(s, _)| !closed(s)) {
            for (scope, counts) in scopes.iter_mut().filter(|(_, c)| c.touched) {
                counts.touched = false;
                out.push(counts.update(*slot, *scope, WindowState::Open, names));
            }
        }
        let closing: Vec<Slot> = self.open.keys().filter(|s| closed(s)).copied().collect();
        for slot in closing {
            for (scope, counts) in self.open.remove(&slot).unwrap_or_default() {
                out.push(counts.update(slot, scope, WindowState::Closed, names));
            }
        }
        let open = &mut self.open;
        self.names.compact(|rekey| {
            for counts in open.values_mut().flat_map(BTreeMap::values_mut) {
                counts.rekey(rekey);
            }
        });
        for u in &out {
            // No subscriber is not an error: the feed is best-effort, the store is the truth.
            let _ = self.sender.send(u.clone());
        }
        out
    }

    /// Names interned (for tests).
    #[cfg(test)]
    fn names_held(&self) -> usize {
        self.names.len()
    }

    /// Windows currently open (for tests and status lines).
    pub fn open_windows(&self) -> usize {
        self.open.values().map(BTreeMap::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(time: &str, account: &str, user: &str) -> ActivityEvent {
        let rec = json!({"eventTime": time, "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances", "recipientAccountId": account, "eventID": time,
            "userIdentity": {"type": "IAMUser", "userName": user}});
        ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
    }

    fn find<'a>(
        u: &'a [WindowUpdate],
        width: Width,
        start: &str,
        scope: &str,
        state: WindowState,
    ) -> Option<&'a WindowUpdate> {
        let start = Timestamp::parse(start).unwrap();
        u.iter().find(|x| {
            x.width == width && x.start == start && x.scope.as_str() == scope && x.state == state
        })
    }

    #[test]
    fn windows_open_close_at_the_watermark_and_late_events_amend() {
        let mut live = Live::new(Duration::from_secs(15 * 60));
        let mut rx = live.subscribe();
        let a = "111111111111";
        live.add(&[
            ev("2024-03-01T10:00:05Z", a, "alice"),
            ev("2024-03-01T10:00:15Z", a, "bob"),
        ]);
        let u = live.publish();
        let org = find(
            &u,
            Width::Minute,
            "2024-03-01T10:00:00Z",
            ORG,
            WindowState::Open,
        )
        .unwrap();
        assert_eq!(org.total, 2);
        assert_eq!(org.ec2_success, 2);
        let ten = find(
            &u,
            Width::TenSeconds,
            "2024-03-01T10:00:10Z",
            a,
            WindowState::Open,
        );
        assert_eq!(ten.unwrap().top_principals, vec![("bob".to_owned(), 1)]);
        assert_eq!(rx.try_recv().unwrap(), u[0]);

        // 16 minutes later the 10:00 windows are past the watermark: closed, final counts.
        live.add(&[ev("2024-03-01T10:16:00Z", a, "alice")]);
        let u = live.publish();
        let closed = find(
            &u,
            Width::Minute,
            "2024-03-01T10:00:00Z",
            a,
            WindowState::Closed,
        );
        assert_eq!(closed.unwrap().total, 2);
        assert!(find(
            &u,
            Width::Minute,
            "2024-03-01T10:16:00Z",
            a,
            WindowState::Open
        )
        .is_some());

        // A late event for 10:00 is an amendment carrying only itself; nothing reopens.
        live.add(&[ev("2024-03-01T10:00:30Z", a, "carol")]);
        let u = live.publish();
        let amended = find(
            &u,
            Width::Minute,
            "2024-03-01T10:00:00Z",
            a,
            WindowState::Amended,
        );
        assert_eq!(
            amended.unwrap().top_principals,
            vec![("carol".to_owned(), 1)]
        );
        assert!(find(
            &u,
            Width::Minute,
            "2024-03-01T10:00:00Z",
            a,
            WindowState::Open
        )
        .is_none());
        assert_eq!(
            live.open_windows(),
            4,
            "the 10:16 windows: 10 s and 1 min, account and org"
        );
    }

    #[test]
    fn top_lists_are_exact_and_ordered() {
        let mut names = Names::default();
        let mut m = Tally::default();
        for (k, n) in [("b", 3), ("a", 3), ("c", 5), ("d", 1), ("e", 3)] {
            m.insert(names.key(k), n);
        }
        assert_eq!(
            top_n(&m, &names, 3),
            vec![("c".into(), 5), ("a".into(), 3), ("b".into(), 3)]
        );
        assert_eq!(top_n(&m, &names, 10).len(), 5);
    }

    #[test]
    fn names_of_closed_windows_are_dropped_and_open_counts_kept() {
        let mut live = Live::new(Duration::from_secs(60));
        let a = "111111111111";
        // Each minute a new principal, so closed windows leave names nobody counts any more.
        let minutes = orgwatch_model::names::CLEAN_UP_AFTER + 10;
        for m in 0..minutes {
            let t = at(1_709_287_200 + 60 * m as i64);
            let mut e = ev("2024-03-01T10:00:00Z", a, &format!("user-{m}"));
            e.event_time = t;
            live.add(&[e]);
            live.publish();
        }
        assert!(
            live.names_held() < orgwatch_model::names::CLEAN_UP_AFTER,
            "{} names held after {minutes} one-user minutes",
            live.names_held()
        );
        // The open windows still name their principal, through the new names.
        let last = format!("user-{}", minutes - 1);
        let mut e = ev("2024-03-01T10:00:00Z", a, &last);
        e.event_time = at(1_709_287_200 + 60 * (minutes - 1) as i64 + 1);
        live.add(&[e]);
        let u = live.publish();
        let open = u
            .iter()
            .find(|x| {
                x.width == Width::Minute && x.scope.as_str() == a && x.state == WindowState::Open
            })
            .unwrap();
        assert_eq!(open.top_principals, vec![(last, 2)]);
    }

    #[test]
    fn a_restart_resumes_the_watermark() {
        let mut live = Live::new(Duration::from_secs(60));
        live.resume(Some(Timestamp::parse("2024-03-01T10:30:00Z").unwrap()));
        live.add(&[ev("2024-03-01T10:00:05Z", "111111111111", "alice")]);
        let u = live.publish();
        assert!(u.iter().all(|x| x.state == WindowState::Amended));
    }
}
