//! One computation of the Activity report per view and stored version, shared by every
//! request that asks for it while it is current.
//!
//! The Activity page's API, page, CSV and live streams all ask for the same report, often at
//! once (every open page refreshes when events are stored), and the report counts the recent
//! events of its range: seconds with a million events in the hour. A view (the caller's
//! access and the page's filter) is computed once per [`ActivityVersion`] of the store — which
//! changes whenever events are stored, scores saved or activity pruned, by any process — and
//! the requests that want it meanwhile wait for that one computation.
//!
//! The computation runs in its own task, so a request whose client goes away does not cancel
//! it for the others (nor leaves a store transaction half done). Hand-written: a map of shared
//! futures (`futures_util::future::Shared`) with a bound on its size; a failed computation is
//! not kept.

use futures_util::future::{BoxFuture, FutureExt, Shared};
use orgwatch_store::{Access, ActivityReport, ActivityVersion, PageFilter, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Views kept at most: a server has few users and each looks at a few ranges.
const MAX_VIEWS: usize = 64;

type Computation = Shared<BoxFuture<'static, Result<Arc<ActivityReport>, Arc<StoreError>>>>;

struct Entry {
    version: ActivityVersion,
    computation: Computation,
    used: Instant,
}

/// The shared Activity reports of a server.
#[derive(Default)]
pub(crate) struct ActivityReports {
    views: Mutex<HashMap<String, Entry>>,
}

impl ActivityReports {
    /// The report of `access` and `filter` as of the store's current version: the one being
    /// computed or computed already for that version, or a new computation.
    pub(crate) async fn get(
        &self,
        store: &Store,
        access: &Access,
        filter: &PageFilter,
    ) -> Result<Arc<ActivityReport>, Arc<StoreError>> {
        let version = store.activity_version().await.map_err(Arc::new)?;
        // Debug formats are complete and unambiguous for both (lists, ids and dates).
        let key = format!("{access:?}\n{filter:?}");
        let computation = {
            let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
            match views.get_mut(&key) {
                Some(e) if e.version == version => {
                    e.used = Instant::now();
                    e.computation.clone()
                }
                _ => {
                    if views.len() >= MAX_VIEWS && !views.contains_key(&key) {
                        let oldest = views
                            .iter()
                            .min_by_key(|(_, e)| e.used)
                            .map(|(k, _)| k.clone());
                        if let Some(k) = oldest {
                            views.remove(&k);
                        }
                    }
                    let computation = compute(store.clone(), access.clone(), filter.clone());
                    views.insert(
                        key.clone(),
                        Entry {
                            version,
                            computation: computation.clone(),
                            used: Instant::now(),
                        },
                    );
                    computation
                }
            }
        };
        let out = computation.clone().await;
        if out.is_err() {
            // Not kept: the next request tries again.
            let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
            if views
                .get(&key)
                .is_some_and(|e| e.computation.ptr_eq(&computation))
            {
                views.remove(&key);
            }
        }
        out
    }
}

/// The report computed in a task of its own (see the module doc).
fn compute(store: Store, access: Access, filter: PageFilter) -> Computation {
    let task = tokio::spawn(async move { store.activity_report(&access, &filter).await });
    async move {
        match task.await {
            Ok(Ok(report)) => Ok(Arc::new(report)),
            Ok(Err(e)) => Err(Arc::new(e)),
            // The task panicked (or the runtime is shutting down): a failure like the store's.
            Err(e) => Err(Arc::new(StoreError::Invalid(format!(
                "the activity report's task failed: {e}"
            )))),
        }
    }
    .boxed()
    .shared()
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

    #[tokio::test]
    async fn requests_for_one_view_share_one_report_until_the_stored_activity_changes() {
        let store = store().await;
        let events = mixed_events();
        let (first, rest) = events.split_at(25);
        store
            .store_activity(&[activity_file("first", first)])
            .await
            .unwrap();
        let reports = ActivityReports::default();
        let all = Access::All;
        let filter = PageFilter::default();

        // At once and one after the other: one computation.
        let (a, b) = tokio::join!(
            reports.get(&store, &all, &filter),
            reports.get(&store, &all, &filter)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let c = reports.get(&store, &all, &filter).await.unwrap();
        assert!(Arc::ptr_eq(&a, &b) && Arc::ptr_eq(&a, &c));
        assert_eq!(*a, direct(&store, &all).await);
        assert_eq!(a.events, 25);

        // Events stored: a new report with them.
        store
            .store_activity(&[activity_file("rest", rest)])
            .await
            .unwrap();
        let d = reports.get(&store, &all, &filter).await.unwrap();
        assert!(!Arc::ptr_eq(&a, &d));
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
        let e = reports.get(&store, &all, &filter).await.unwrap();
        assert!(!Arc::ptr_eq(&d, &e));
        assert_eq!(*e, direct(&store, &all).await);
        assert_eq!(e.events, 40 - pruned.events);
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
        let everything = reports.get(&store, &Access::All, &filter).await.unwrap();
        let theirs = reports.get(&store, &limited, &filter).await.unwrap();
        assert_eq!(*theirs, direct(&store, &limited).await);
        assert_eq!(*everything, direct(&store, &Access::All).await);
        assert_ne!(theirs.events, everything.events);

        let day = PageFilter {
            from: time::Date::from_calendar_date(2024, time::Month::March, 1).ok(),
            ..PageFilter::default()
        };
        let of_the_day = reports.get(&store, &Access::All, &day).await.unwrap();
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
        let kept = reports.get(&store, &Access::All, &first).await.unwrap();
        for day in 1..=MAX_VIEWS as u8 {
            let filter = PageFilter {
                from: time::Date::from_calendar_date(2024, time::Month::January, day % 28 + 1).ok(),
                to: time::Date::from_calendar_date(2025, time::Month::January, day / 28 + 1).ok(),
                ..PageFilter::default()
            };
            reports.get(&store, &Access::All, &filter).await.unwrap();
        }
        let views = reports.views.lock().unwrap();
        assert_eq!(views.len(), MAX_VIEWS);
        assert!(!views.contains_key(&format!("{:?}\n{first:?}", Access::All)));
        drop(kept);
    }
}
