//! Hostile file names and outputs (issue 17): names that are not UTF-8 stay two names,
//! a re-delivered bad file is kept beside the first, a newline in a name is escaped in the
//! log, a closed stdout ends the run quietly, symlinks and FIFOs are skipped and counted,
//! and no colour reaches a stderr that is not a terminal.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

use orgwatch_test_support::a360::{self, DAILY_PATH};
use orgwatch_test_support::cli::text;
use orgwatch_test_support::fs::{files_under, put};
use orgwatch_test_support::{orgwatch, Backend, TestDb};
use serde_json::json;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// `dir/rel` where `rel` is raw bytes.
fn raw(dir: &Path, rel: &[u8]) -> PathBuf {
    dir.join(OsStr::from_bytes(rel))
}

/// A CloudTrail file of `n` events with ids `prefix-i`.
fn log_file(path: &Path, prefix: &str, n: usize) {
    let records: Vec<_> = (0..n)
        .map(|i| {
            json!({"eventVersion": "1.08", "eventID": format!("{prefix}-{i:03}"),
                "eventTime": format!("2024-03-01T10:{:02}:00Z", i % 60),
                "recipientAccountId": "111111111111", "awsRegion": "eu-west-1",
                "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
                "userIdentity": {"type": "IAMUser", "userName": "alice"}})
        })
        .collect();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, json!({"Records": records}).to_string()).unwrap();
}

async fn query(db: &TestDb, sql: &str) -> Vec<Vec<Option<String>>> {
    let store = db.store().await;
    let out = store.raw_query_text(sql, &[]).await.unwrap();
    store.close().await;
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn two_names_that_are_not_utf8_are_quarantined_side_by_side() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("data/111111111111/us-east-1");
    std::fs::create_dir_all(&account).unwrap();
    for b in [b'\xff', b'\xfe'] {
        let mut name = b"2026-11-11_DAILY".to_vec();
        name.extend([b, b'.', b'j', b's', b'o', b'n']);
        std::fs::write(raw(&account, &name), a360::DAILY).unwrap();
    }
    let out = orgwatch!(&db, &["ingest", "--from", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let failed = dir.path().join("failed/111111111111/us-east-1");
    let mut kept: Vec<Vec<u8>> = std::fs::read_dir(&failed)
        .unwrap()
        .map(|e| e.unwrap().file_name().as_bytes().to_vec())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            &b"2026-11-11_DAILY\xfe.json"[..],
            b"2026-11-11_DAILY\xfe.json.error.txt",
            b"2026-11-11_DAILY\xff.json",
            b"2026-11-11_DAILY\xff.json.error.txt",
        ]
    );
    let logged = query(&db, "SELECT file_name FROM logs ORDER BY file_name").await;
    assert_eq!(
        logged,
        [
            [Some(
                "data/111111111111/us-east-1/2026-11-11_DAILY\\xfe.json".to_owned()
            )],
            [Some(
                "data/111111111111/us-east-1/2026-11-11_DAILY\\xff.json".to_owned()
            )],
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_log_files_whose_names_differ_in_a_byte_that_is_not_utf8_are_both_read() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    // Same size, different events: before, the second was skipped as "already in the ledger".
    log_file(&raw(dir.path(), b"a\xff.json"), "ff", 31);
    log_file(&raw(dir.path(), b"a\xfe.json"), "fe", 31);
    let out = orgwatch!(&db, &["activity", "--from", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let root = std::path::absolute(dir.path()).unwrap();
    let ledger = query(
        &db,
        "SELECT path, CAST(events AS TEXT) FROM activity_files ORDER BY path",
    )
    .await;
    let row = |name: &str| {
        vec![
            Some(format!("{}/{name}", root.display())),
            Some("31".to_owned()),
        ]
    };
    assert_eq!(ledger, [row("a\\xfe.json"), row("a\\xff.json")]);
    let events = query(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM activity_events").await;
    assert_eq!(events[0][0].as_deref(), Some("62"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_bad_file_is_kept_beside_the_first() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().to_str().unwrap();
    for body in [&b"{ first"[..], b"{ second"] {
        put(dir.path(), DAILY_PATH, body);
        let out = orgwatch!(&db, &["ingest", "--from", from]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    }
    let failed = dir.path().join("failed");
    let first = failed.join(DAILY_PATH);
    let mut second = first.as_os_str().to_owned();
    second.push(".2");
    assert_eq!(std::fs::read(&first).unwrap(), b"{ first");
    assert_eq!(std::fs::read(&second).unwrap(), b"{ second");
    assert_eq!(files_under(&failed).len(), 4, "two files, two reasons");
    let failures = query(
        &db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM logs WHERE outcome = 'FAILED'",
    )
    .await;
    assert_eq!(failures[0][0].as_deref(), Some("2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newline_in_a_name_is_escaped_in_the_log() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "111111111111/bad\nname.json", b"{}");
    let out = orgwatch!(&db, &["ingest", "--from", dir.path().to_str().unwrap()]);
    let stderr = text(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("quarantined"))
        .expect("the file is quarantined");
    assert!(
        line.starts_with("orgwatch: quarantined data/111111111111/bad\\nname.json: "),
        "{stderr}"
    );
    let logged = query(&db, "SELECT file_name FROM logs").await;
    assert_eq!(
        logged[0][0].as_deref(),
        Some("data/111111111111/bad\\nname.json")
    );
    assert!(dir
        .path()
        .join("failed/111111111111/bad\nname.json")
        .exists());
}

/// Runs the binary with its stdout a pipe whose reading end is already closed.
fn with_closed_stdout(db: &TestDb, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    orgwatch!()
        .arg("--database-url")
        .arg(&db.url)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_ends_the_run_quietly_with_its_work_kept() {
    let db = TestDb::new(Backend::Sqlite).await;
    let logs = tempfile::tempdir().unwrap();
    log_file(&logs.path().join("a.json"), "a", 40);
    let from = logs.path().to_str().unwrap();
    let out = with_closed_stdout(&db, &["activity", "--report", "json", "--from", from]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let events = query(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM activity_events").await;
    assert_eq!(events[0][0].as_deref(), Some("40"));

    let snapshots = tempfile::tempdir().unwrap();
    put(snapshots.path(), DAILY_PATH, a360::DAILY);
    let from = snapshots.path().to_str().unwrap();
    let out = with_closed_stdout(&db, &["ingest", "--from", from]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(snapshots.path().join("loaded").join(DAILY_PATH).exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn symlinks_and_fifos_are_skipped_and_counted() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    log_file(&dir.path().join("a.json"), "a", 5);
    std::os::unix::fs::symlink(dir.path().join("a.json"), dir.path().join("link.json")).unwrap();
    let fifo = dir.path().join("fifo.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let out = orgwatch!(
        &db,
        &["-v", "activity", "--from", dir.path().to_str().unwrap()]
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "1 files read (0 already in the ledger, 0 failed, 0 taken by another run, 2 not files)"
        ),
        "{stderr}"
    );
    for name in ["fifo.json", "link.json"] {
        assert!(
            stderr.contains(&format!("orgwatch activity: {name}: not a file")),
            "{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_colour_reaches_a_stderr_that_is_not_a_terminal() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), DAILY_PATH, a360::DAILY);
    let out = orgwatch!()
        .env_remove("NO_COLOR")
        .arg("--database-url")
        .arg(&db.url)
        .args(["-v", "ingest", "--from", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("loaded"),
        "an info line is logged: {stderr}"
    );
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}
