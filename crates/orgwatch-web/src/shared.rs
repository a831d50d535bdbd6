//! One computation per view at a time, shared by every request that asks for it, and the
//! latest one served while a newer one is computed: the Activity report, and the answers of
//! the posture pages (`responses`).
//!
//! Many requests often want the same thing at once (every open Activity page refreshes when
//! events are stored; 32 clients load the Overview), and computing it reads the store for
//! seconds at 1,000 accounts. A view (a key: the caller's access and the page's filter) has
//! at most one computation running; a request whose view is already computed for the data's
//! current version `V` (the store's [`ActivityVersion`] or posture version, which change
//! whenever data is stored, by any process) gets that result at once. Otherwise it asks for a
//! result at least as new as itself: the view's worker computes one more time after its
//! current run if anyone asked meanwhile (so a burst of stored batches costs one or two
//! computations, not one per request).
//!
//! How long a request waits is its [`Wait`]: a live stream waits for the fresh result
//! ([`Wait::Fresh`]: it must show what was stored); a request of the API, the page or the CSV
//! waits at most [`Wait::AtMost`] and then gets the latest result computed (a few seconds old
//! while a writer stores continuously), so that a busy writer does not make every reader wait
//! for a whole computation. A view never computed yet, or whose latest computation failed,
//! is always waited for.
//!
//! The computation runs in a task of its own, so a request whose client goes away does not
//! cancel it for the others (nor leaves a store transaction half done). Hand-written: a map
//! of views, each with a `tokio::sync::watch` channel of its latest result and a ticket
//! counter, with a bound on its size; a failed computation is reported to its waiters and
//! not served to later requests, nor is one whose version is unknown.

use orgwatch_store::{Access, ActivityReport, ActivityVersion, PageFilter, Store, StoreError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Views kept at most: a server has few users and each looks at a few ranges.
const MAX_VIEWS: usize = 64;

/// How long a request of the API, the page or the CSV waits for a fresh result before it
/// takes the latest one computed.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(2);

/// How long a request waits for its view's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Until a result at least as new as the request is computed.
    Fresh,
    /// At most this long for one; then the latest result computed, if there is one.
    AtMost(Duration),
}

/// A computation's result, or why it failed.
pub(crate) type Outcome<T, E> = Result<Arc<T>, Arc<E>>;

/// What a computation returns: the data's version it read before it started (`None` when
/// unknown: the result is then served to its waiters only) and its outcome.
pub(crate) type Computed<V, T, E> = (Option<V>, Result<T, E>);

/// A finished computation.
struct Published<V, T, E> {
    /// The ticket it answers: every request with this ticket or an older one.
    ticket: u64,
    version: Option<V>,
    outcome: Outcome<T, E>,
}

/// The latest finished computation of a view, if any.
type Latest<V, T, E> = Option<Arc<Published<V, T, E>>>;

type Channel<V, T, E> = Arc<watch::Sender<Latest<V, T, E>>>;

/// One view: its latest result and the requests waiting for a newer one.
struct View<V, T, E> {
    /// Tells the worker it still serves this view (a view pushed out and made again is new).
    id: u64,
    /// Shared with the worker, so that waiters of a view pushed out still get their result.
    published: Channel<V, T, E>,
    /// The newest ticket handed out.
    requested: u64,
    /// The data's version its request read.
    newest: Option<V>,
    /// Whether its worker is running.
    running: bool,
    used: Instant,
}

struct Views<V, T, E> {
    map: HashMap<String, View<V, T, E>>,
    next_id: u64,
    /// Requests so far.
    requests: u64,
    /// Computations started so far.
    computations: u64,
}

/// The shared results of one kind (`T`, failing with `E`) of a server, by view, for data
/// versioned by `V`.
pub(crate) struct Shared<V, T, E> {
    views: Arc<Mutex<Views<V, T, E>>>,
}

impl<V, T, E> Default for Shared<V, T, E> {
    fn default() -> Self {
        Shared {
            views: Arc::new(Mutex::new(Views {
                map: HashMap::new(),
                next_id: 0,
                requests: 0,
                computations: 0,
            })),
        }
    }
}

/// The Activity reports of a server.
pub(crate) type ActivityReports = Shared<ActivityVersion, ActivityReport, StoreError>;

fn lock<V, T, E>(views: &Mutex<Views<V, T, E>>) -> std::sync::MutexGuard<'_, Views<V, T, E>> {
    views.lock().unwrap_or_else(|p| p.into_inner())
}

impl ActivityReports {
    /// The report of `access` and `filter`: the one computed for the store's current version,
    /// or a newer one, or after `wait` the latest one (see the module doc); with the version
    /// it was computed from (`None`: unknown).
    pub(crate) async fn get(
        &self,
        store: &Store,
        access: &Access,
        filter: &PageFilter,
        wait: Wait,
    ) -> Result<(Option<ActivityVersion>, Arc<ActivityReport>), Arc<StoreError>> {
        let version = store.activity_version().await.map_err(Arc::new)?;
        // Debug formats are complete and unambiguous for both (lists, ids and dates).
        let key = format!("{access:?}\n{filter:?}");
        let (store, access, filter) = (store.clone(), access.clone(), filter.clone());
        let compute = move || {
            let (store, access, filter) = (store.clone(), access.clone(), filter.clone());
            async move {
                let version = store.activity_version().await.ok();
                (version, store.activity_report(&access, &filter).await)
            }
        };
        self.get_versioned(key, version, wait, compute).await
    }
}

impl<V, T, E> Shared<V, T, E>
where
    V: Copy + Eq + Send + Sync + 'static,
    T: Send + Sync + 'static,
    E: From<NoResult> + Send + Sync + 'static,
{
    /// The result of view `key`: the one computed for `version` (read by the caller just
    /// now), or a newer one, or after `wait` the latest one; `compute` reads the version and
    /// computes (see the module doc).
    pub(crate) async fn get_with<F, Fut>(
        &self,
        key: String,
        version: V,
        wait: Wait,
        compute: F,
    ) -> Outcome<T, E>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Computed<V, T, E>> + Send + 'static,
    {
        self.get_versioned(key, version, wait, compute)
            .await
            .map(|(_, result)| result)
    }

    /// As [`Shared::get_with`], with the version the result was computed from (`None`:
    /// unknown), which is older than `version` when the latest result is served after the
    /// wait: what is made of the result must not be kept as `version`'s.
    pub(crate) async fn get_versioned<F, Fut>(
        &self,
        key: String,
        version: V,
        wait: Wait,
        compute: F,
    ) -> Result<(Option<V>, Arc<T>), Arc<E>>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Computed<V, T, E>> + Send + 'static,
    {
        let (mut rx, ticket) = {
            let mut views = lock(&self.views);
            views.requests += 1;
            let view = views.view(&key);
            view.used = Instant::now();
            if let Some(p) = view.published.borrow().as_ref() {
                if let (Some(v), Ok(result)) = (p.version, &p.outcome) {
                    if v == version {
                        return Ok((Some(v), result.clone()));
                    }
                }
            }
            view.requested += 1;
            view.newest = Some(version);
            let ticket = view.requested;
            let rx = view.published.subscribe();
            if !view.running {
                view.running = true;
                let (id, published) = (view.id, view.published.clone());
                views.computations += 1;
                tokio::spawn(work(self.views.clone(), key, id, published, compute));
            }
            (rx, ticket)
        };
        // A computation started after the request, or one of the same version.
        let answers = |p: &Latest<V, T, E>| {
            p.as_ref().is_some_and(|p| {
                p.ticket >= ticket || (p.version == Some(version) && p.outcome.is_ok())
            })
        };
        if let Wait::AtMost(limit) = wait {
            // Not waiting at all is not a timer of zero (it may first yield to the runtime).
            let done = if limit.is_zero() {
                let now = rx.borrow().clone();
                answers(&now).then_some(Ok(now))
            } else {
                tokio::time::timeout(limit, rx.wait_for(answers))
                    .await
                    .ok()
                    .map(|done| done.map(|p| p.clone()))
            };
            if let Some(done) = done {
                return outcome(done);
            }
            let latest = rx.borrow().clone();
            if let Some(p) = latest.as_ref() {
                if let Ok(result) = &p.outcome {
                    return Ok((p.version, result.clone()));
                }
            }
        }
        outcome(rx.wait_for(answers).await.map(|p| p.clone()))
    }

    /// Requests and computations started so far (`/metrics`: how well sharing works).
    pub(crate) fn counts(&self) -> (u64, u64) {
        let views = lock(&self.views);
        (views.requests, views.computations)
    }
}

/// Why a shared computation gave no result: its task panicked, or the runtime is shutting
/// down. Each kind of result's error type can say so.
#[derive(Debug)]
pub(crate) struct NoResult(pub(crate) String);

impl From<NoResult> for StoreError {
    fn from(e: NoResult) -> StoreError {
        StoreError::Invalid(e.0)
    }
}

/// The outcome of a finished computation with its version, or why none came.
fn outcome<V: Copy, T, E: From<NoResult>>(
    done: Result<Latest<V, T, E>, watch::error::RecvError>,
) -> Result<(Option<V>, Arc<T>), Arc<E>> {
    match done {
        Ok(Some(p)) => p.outcome.clone().map(|result| (p.version, result)),
        // The worker was dropped: the runtime is shutting down.
        Ok(None) | Err(_) => Err(Arc::new(E::from(NoResult(
            "the shared computation ended without a result".to_owned(),
        )))),
    }
}

impl<V, T, E> Views<V, T, E> {
    /// `key`'s view, made (pushing out the least recently used beyond the bound) if absent.
    fn view(&mut self, key: &str) -> &mut View<V, T, E> {
        if self.map.len() >= MAX_VIEWS && !self.map.contains_key(key) {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, v)| v.used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.map.remove(&k);
            }
        }
        let next_id = &mut self.next_id;
        self.map.entry(key.to_owned()).or_insert_with(|| {
            *next_id += 1;
            View {
                id: *next_id,
                published: Arc::new(watch::channel(None).0),
                requested: 0,
                newest: None,
                running: false,
                used: Instant::now(),
            }
        })
    }
}

/// A view's worker: computes until it has answered the newest request, then stops.
async fn work<V, T, E, F, Fut>(
    views: Arc<Mutex<Views<V, T, E>>>,
    key: String,
    id: u64,
    published: Channel<V, T, E>,
    compute: F,
) where
    V: Copy + Eq + Send + Sync + 'static,
    T: Send + Sync + 'static,
    E: From<NoResult> + Send + Sync + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Computed<V, T, E>> + Send + 'static,
{
    let mut ticket = match lock(&views).map.get(&key) {
        Some(v) if v.id == id => v.requested,
        _ => return,
    };
    loop {
        // In a task of its own: a panic is a failed computation, not a worker that never
        // answers.
        let (version, outcome) = match tokio::spawn(compute()).await {
            Ok((version, result)) => (version, result.map(Arc::new).map_err(Arc::new)),
            Err(e) => (
                None,
                Err(Arc::new(E::from(NoResult(format!(
                    "the shared computation's task failed: {e}"
                ))))),
            ),
        };
        let ok = outcome.is_ok();
        published.send_replace(Some(Arc::new(Published {
            ticket,
            version,
            outcome,
        })));
        let mut guard = lock(&views);
        let Some(view) = guard.map.get_mut(&key).filter(|v| v.id == id) else {
            return;
        };
        // Versions only move forward: when the newest request read the version computed,
        // so did every request since this computation started.
        if view.requested == ticket || (ok && version.is_some() && view.newest == version) {
            view.running = false;
            return;
        }
        ticket = view.requested;
        guard.computations += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgwatch_model::AccountId;
    use orgwatch_store::activity::Retention;
    use orgwatch_store::Limits;
    use orgwatch_test_support::store::{activity_file, mixed_events};
    use std::time::Duration;

    async fn store() -> Store {
        Store::connect("sqlite::memory:").await.unwrap()
    }

    /// The report as the store computes it, without sharing: what every shared one must equal.
    async fn direct(store: &Store, access: &Access) -> ActivityReport {
        store
            .activity_report(access, &PageFilter::default())
            .await
            .unwrap()
    }

    /// A store holding the first 25 of the mixed events, and the other 15 to store later.
    async fn first_25_stored() -> (Store, Vec<orgwatch_model::ActivityEvent>) {
        let store = store().await;
        let mut events = mixed_events();
        let rest = events.split_off(25);
        store
            .store_activity(&[activity_file("first", &events)])
            .await
            .unwrap();
        (store, rest)
    }

    #[tokio::test]
    async fn requests_for_one_view_share_one_report_until_the_stored_activity_changes() {
        let (store, rest) = first_25_stored().await;
        let reports = ActivityReports::default();
        let all = Access::All;
        let filter = PageFilter::default();

        // At once and one after the other: one computation.
        let (a, b) = tokio::join!(
            reports.get(&store, &all, &filter, Wait::Fresh),
            reports.get(&store, &all, &filter, Wait::Fresh)
        );
        let (a, b) = (a.unwrap().1, b.unwrap().1);
        let c = reports
            .get(&store, &all, &filter, Wait::Fresh)
            .await
            .unwrap()
            .1;
        assert!(Arc::ptr_eq(&a, &b) && Arc::ptr_eq(&a, &c));
        assert_eq!(computations(&reports), 1);
        assert_eq!(*a, direct(&store, &all).await);
        assert_eq!(a.events, 25);

        // Events stored: a new report with them.
        store
            .store_activity(&[activity_file("rest", &rest)])
            .await
            .unwrap();
        let d = reports
            .get(&store, &all, &filter, Wait::Fresh)
            .await
            .unwrap()
            .1;
        assert!(!Arc::ptr_eq(&a, &d));
        assert_eq!(computations(&reports), 2);
        assert_eq!(*d, direct(&store, &all).await);
        assert_eq!(d.events, 40);

        // Activity pruned (the recent events of the first minute): a new report without them.
        let pruned = store
            .prune_activity(&Retention {
                events: Some(Duration::from_secs(30)),
                ..Retention::default()
            })
            .await
            .unwrap();
        assert!(pruned.events > 0);
        let e = reports
            .get(&store, &all, &filter, Wait::Fresh)
            .await
            .unwrap()
            .1;
        assert!(!Arc::ptr_eq(&d, &e));
        assert_eq!(*e, direct(&store, &all).await);
        assert_eq!(e.events, 40 - pruned.events);
    }

    fn computations(reports: &ActivityReports) -> u64 {
        reports.counts().1
    }

    #[tokio::test]
    async fn a_request_that_will_not_wait_gets_the_latest_report_while_a_newer_one_is_computed() {
        // One thread: the computation cannot finish before the request stops waiting.
        let (store, rest) = first_25_stored().await;
        let reports = ActivityReports::default();
        let (all, filter) = (Access::All, PageFilter::default());
        let now = Wait::AtMost(Duration::ZERO);

        // Nothing computed yet: waited for, however short the wait.
        let (first, a) = reports.get(&store, &all, &filter, now).await.unwrap();
        assert_eq!(a.events, 25);
        assert_eq!(first, Some(store.activity_version().await.unwrap()));

        store
            .store_activity(&[activity_file("rest", &rest)])
            .await
            .unwrap();
        let (version, stale) = reports.get(&store, &all, &filter, now).await.unwrap();
        assert!(Arc::ptr_eq(&a, &stale), "the latest report, at once");
        // Said to be of the version it was computed from, not the current one.
        assert_eq!(version, first);
        assert_ne!(version, Some(store.activity_version().await.unwrap()));
        // The computation that request started is the one a live stream waits for.
        let fresh = reports
            .get(&store, &all, &filter, Wait::Fresh)
            .await
            .unwrap()
            .1;
        assert_eq!(fresh.events, 40);
        assert_eq!(*fresh, direct(&store, &all).await);
        assert_eq!(computations(&reports), 2);
        // Nothing stored since: the fresh one, without computing again.
        let again = reports.get(&store, &all, &filter, now).await.unwrap().1;
        assert!(Arc::ptr_eq(&fresh, &again));
        assert_eq!(computations(&reports), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_requests_while_batches_are_stored_start_one_computation_at_a_time() {
        let store = store().await;
        let events = mixed_events();
        let reports = Arc::new(ActivityReports::default());
        let mut tasks = Vec::new();
        for (i, batch) in events.chunks(4).enumerate() {
            store
                .store_activity(&[activity_file(&format!("batch-{i}"), batch)])
                .await
                .unwrap();
            for _ in 0..8 {
                let (reports, store) = (reports.clone(), store.clone());
                tasks.push(tokio::spawn(async move {
                    reports
                        .get(&store, &Access::All, &PageFilter::default(), Wait::Fresh)
                        .await
                        .unwrap()
                        .1
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        let batches = events.chunks(4).count() as u64;
        let n = computations(&reports);
        // Each batch's requests want at most the running computation and one more.
        assert!(n <= 2 * batches, "{n} computations for {batches} batches");
        let last = reports
            .get(&store, &Access::All, &PageFilter::default(), Wait::Fresh)
            .await
            .unwrap()
            .1;
        assert_eq!(*last, direct(&store, &Access::All).await);
    }

    #[tokio::test]
    async fn each_view_has_its_own_report() {
        let store = store().await;
        store
            .store_activity(&[activity_file("all", &mixed_events())])
            .await
            .unwrap();
        let reports = ActivityReports::default();
        let limited = Access::Limited(Limits {
            accounts: vec![AccountId::parse("111111111111").unwrap()],
            ..Limits::default()
        });
        let filter = PageFilter::default();
        let everything = reports
            .get(&store, &Access::All, &filter, Wait::Fresh)
            .await
            .unwrap()
            .1;
        let theirs = reports
            .get(&store, &limited, &filter, Wait::Fresh)
            .await
            .unwrap()
            .1;
        assert_eq!(*theirs, direct(&store, &limited).await);
        assert_eq!(*everything, direct(&store, &Access::All).await);
        assert_ne!(theirs.events, everything.events);

        let day = PageFilter {
            from: time::Date::from_calendar_date(2024, time::Month::March, 1).ok(),
            ..PageFilter::default()
        };
        let of_the_day = reports
            .get(&store, &Access::All, &day, Wait::Fresh)
            .await
            .unwrap()
            .1;
        assert!(!Arc::ptr_eq(&everything, &of_the_day));
        assert_eq!(
            *of_the_day,
            store.activity_report(&Access::All, &day).await.unwrap()
        );
    }

    #[tokio::test]
    async fn views_beyond_the_bound_push_out_the_least_recently_used() {
        let store = store().await;
        let reports = ActivityReports::default();
        let first = PageFilter::default();
        let kept = reports
            .get(&store, &Access::All, &first, Wait::Fresh)
            .await
            .unwrap()
            .1;
        for day in 1..=MAX_VIEWS as u8 {
            let filter = PageFilter {
                from: time::Date::from_calendar_date(2024, time::Month::January, day % 28 + 1).ok(),
                to: time::Date::from_calendar_date(2025, time::Month::January, day / 28 + 1).ok(),
                ..PageFilter::default()
            };
            reports
                .get(&store, &Access::All, &filter, Wait::Fresh)
                .await
                .unwrap();
        }
        let views = lock(&reports.views);
        assert_eq!(views.map.len(), MAX_VIEWS);
        assert!(!views
            .map
            .contains_key(&format!("{:?}\n{first:?}", Access::All)));
        drop(kept);
    }
}
