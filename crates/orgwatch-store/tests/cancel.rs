//! A read cancelled part-way (its request's client went away) leaves no transaction behind
//! on the pooled connection: every later read of the store still works.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_store::{Access, ChangeKinds, PageFilter, Store};
use orgwatch_test_support::history::two_days;
use orgwatch_test_support::on_both_backends;
use std::time::Duration;

on_both_backends!(store:
    reads_cancelled_mid_transaction_leave_the_pool_usable,
);

async fn reads_cancelled_mid_transaction_leave_the_pool_usable(store: Store) {
    two_days(&store).await;
    let filter = PageFilter::default();
    let mut cancelled = 0;
    // Cancel after ever longer delays, so that some land inside the read's transaction.
    for i in 0..300u64 {
        let read = store.changes_report(&Access::All, &filter, ChangeKinds::ALL);
        if tokio::time::timeout(Duration::from_micros(i * 7), read)
            .await
            .is_err()
        {
            cancelled += 1;
        }
        store.cost_report(&Access::All, &filter).await.unwrap();
    }
    assert!(
        cancelled > 0,
        "no read was cancelled: the test tested nothing"
    );
}
