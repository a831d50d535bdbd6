//! Several `ingest` runs, and several `activity` runs, on one directory and one database at
//! once (issue 17): each file is taken by one run, nothing is failed for a file another run
//! took, every run exits 0, and the database ends as one clean run leaves it. Before the
//! claims, two `ingest` runs quarantined hundreds of files the other had moved ("cannot read
//! the file") and exited 2, and of three, two died with "database is locked".
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_test_support::cli::{self, text};
use orgwatch_test_support::fs::{copy_tree, files_under};
use orgwatch_test_support::{cloudtrail, on_both_backends, orgwatch, Backend, TestDb};
use std::process::{Output, Stdio};

on_both_backends!(
    two_ingest_runs_on_one_directory_leave_what_one_run_leaves,
    three_ingest_runs_on_one_directory_leave_what_one_run_leaves,
    two_activity_runs_on_one_directory_leave_what_one_run_leaves,
    three_activity_runs_on_one_directory_leave_what_one_run_leaves,
);

async fn two_ingest_runs_on_one_directory_leave_what_one_run_leaves(backend: Backend) {
    ingest_runs(backend, 2).await;
}

async fn three_ingest_runs_on_one_directory_leave_what_one_run_leaves(backend: Backend) {
    ingest_runs(backend, 3).await;
}

async fn two_activity_runs_on_one_directory_leave_what_one_run_leaves(backend: Backend) {
    activity_runs(backend, 2).await;
}

async fn three_activity_runs_on_one_directory_leave_what_one_run_leaves(backend: Backend) {
    activity_runs(backend, 3).await;
}

/// Runs `orgwatch ARGS` `n` times at once on `db`; returns their outputs.
fn at_once(db: &TestDb, n: usize, args: &[&str]) -> Vec<Output> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            orgwatch!()
                .arg("--database-url")
                .arg(&db.url)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

/// A migrated database, so that the runs under test start at once (not one after the
/// other's migration).
async fn migrated(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await;
    let out = orgwatch!(&db, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    db
}

/// Rows of a query as text, for comparing two databases.
async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<Option<String>>> {
    let store = db.store().await;
    let out = store.raw_query_text(sql, &[]).await.unwrap();
    store.close().await;
    out
}

async fn ingest_runs(backend: Backend, n: usize) {
    let source = tempfile::tempdir().unwrap();
    // 10 accounts x 44 days, a daily file each plus the monthly ones: 460 files.
    cli::generate(env!("CARGO_BIN_EXE_orgwatch"), source.path(), 10, 44);
    let total = files_under(&source.path().join("data")).len();
    let logs = "SELECT file_name, outcome FROM logs ORDER BY file_name";

    let clean_dir = tempfile::tempdir().unwrap();
    copy_tree(source.path(), clean_dir.path());
    let clean = migrated(backend).await;
    let out = orgwatch!(
        &clean,
        &["ingest", "--from", clean_dir.path().to_str().unwrap()]
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let dir = tempfile::tempdir().unwrap();
    copy_tree(source.path(), dir.path());
    let db = migrated(backend).await;
    let outs = at_once(&db, n, &["ingest", "--from", dir.path().to_str().unwrap()]);
    for out in &outs {
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("quarantined"), "{stderr}");
    }
    assert_eq!(db.counts().await, clean.counts().await);
    assert_eq!(rows(&db, logs).await, rows(&clean, logs).await);
    assert_eq!(files_under(&dir.path().join("data")), Vec::<String>::new());
    assert_eq!(files_under(&dir.path().join("loaded")).len(), total);
    assert!(!dir.path().join("failed").exists());
}

async fn activity_runs(backend: Backend, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let total = cloudtrail::replay_files(dir.path(), 200, "run");
    let from = dir.path().to_str().unwrap();
    let args = ["activity", "--batch-files", "2", "--from", from];
    // Activity files never move: both databases read the same paths.
    // (Numbers as text: the rows are compared as text.)
    let ledger = "SELECT path, CAST(size AS TEXT), CAST(events AS TEXT), \
                  CAST(new_events AS TEXT), CAST(undecodable AS TEXT), CAST(skipped AS TEXT), \
                  error FROM activity_files ORDER BY path";
    let events = "SELECT account, event_id, CAST(event_time AS TEXT), api FROM activity_events \
                  ORDER BY event_time, account, event_id";
    let rollups = "SELECT tier, CAST(window_start AS TEXT), account, region, metric, item, \
                   CAST(count AS TEXT) FROM activity_rollups \
                   ORDER BY tier, window_start, account, region, metric, item";
    let state = "SELECT CAST(max_event_time AS TEXT), CAST(duplicate_events AS TEXT) \
                 FROM activity_state";

    let clean = migrated(backend).await;
    let out = orgwatch!(&clean, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let db = migrated(backend).await;
    for out in at_once(&db, n, &args) {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let ledger_rows = rows(&db, ledger).await;
    assert_eq!(ledger_rows.len(), 200);
    let ledger_events: usize = ledger_rows
        .iter()
        .map(|r| r[2].as_deref().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(ledger_events, total, "each file's events once");
    assert_eq!(ledger_rows, rows(&clean, ledger).await);
    assert_eq!(rows(&db, events).await, rows(&clean, events).await);
    assert_eq!(rows(&db, rollups).await, rows(&clean, rollups).await);
    assert_eq!(rows(&db, state).await, rows(&clean, state).await);
}
