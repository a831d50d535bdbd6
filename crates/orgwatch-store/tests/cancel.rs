//! A read cancelled part-way (its request's client went away) leaves no transaction behind
//! on the pooled connection: every later read of the store still works. The store is opened
//! as the binary opens it (`Store::connect`: the pool's options are part of what is tested),
//! not from `#[sqlx::test]`'s pool.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_store::{Access, ChangeKinds, PageFilter};
use orgwatch_test_support::history::two_days;
use orgwatch_test_support::{on_both_backends, Backend, TestDb};
use std::future::{poll_fn, Future};
use std::task::Poll;
use std::time::Duration;

on_both_backends!(reads_cancelled_mid_transaction_leave_the_pool_usable);

// On one thread too (as `#[sqlx::test]` runs): the connection then goes back to the pool only
// when the test yields, which is where the unfinished transaction showed (without the pool's
// `after_release` hook this fails at once).
#[tokio::test]
async fn on_one_thread_sqlite() {
    reads_cancelled_mid_transaction_leave_the_pool_usable(Backend::Sqlite).await
}

#[tokio::test]
async fn on_one_thread_postgres() {
    reads_cancelled_mid_transaction_leave_the_pool_usable(Backend::Postgres).await
}

async fn reads_cancelled_mid_transaction_leave_the_pool_usable(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    two_days(&store).await;
    let filter = PageFilter::default();
    let (mut cancelled, mut finished) = (0, 0);
    // Drop the read after ever more polls, so that the cancellations land all along it:
    // acquiring, inside BEGIN, inside the transaction, inside COMMIT. Between polls the test
    // blocks its thread a moment (deliberately) so that the connection's worker finishes the
    // step asked: the k-th poll then stops the read at about its k-th step.
    for polls in 1..=400u32 {
        let mut read = Box::pin(store.changes_report(&Access::All, &filter, ChangeKinds::ALL));
        let mut done = false;
        for _ in 0..polls {
            let polled = poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
            if let Poll::Ready(out) = polled {
                out.unwrap();
                done = true;
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
            tokio::task::yield_now().await;
        }
        if done {
            finished += 1;
        } else {
            cancelled += 1;
        }
        drop(read); // cancelled here, if not finished
        store.cost_report(&Access::All, &filter).await.unwrap();
    }
    assert!(
        cancelled > 0 && finished > 0,
        "{cancelled} reads cancelled, {finished} finished: the sweep must see both"
    );
}
