//! `orgwatch activity --from …` into the database, end to end on SQLite and PostgreSQL: the
//! real samples stored once, reruns, duplicate deliveries, file order, late events, two
//! workers on one window, a kill in the middle of a stream, and `--follow`.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_test_support::cli::text;
use orgwatch_test_support::fs::copy_tree;
use orgwatch_test_support::{cloudtrail, on_both_backends, orgwatch, Backend, TestDb};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

on_both_backends!(
    the_samples_are_stored_once_and_a_rerun_reads_nothing_new,
    the_same_events_by_eventbridge_count_once,
    file_order_does_not_change_the_stored_report,
    late_events_amend_their_window,
    two_workers_on_one_window_store_the_totals_of_one,
    a_kill_in_the_middle_of_a_stream_then_a_rerun_counts_every_event_once,
    follow_reads_new_files_and_stdin_lines,
    the_database_report_is_a_table_naming_its_tier_with_ec2_and_sign_ins,
    a_read_error_on_stdin_is_reported_and_exits_2,
    scopes_parked_out_of_memory_give_the_same_scores,
    alarm_kinds_are_switched_off_and_on_and_the_saved_detector_keeps_them,
);

/// Distinct events as the store keys them: (account, id or whole record, event time).
fn distinct(records: &[Value]) -> usize {
    let key = |r: &Value| {
        let account = r["recipientAccountId"]
            .as_str()
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or("(none)")
            .to_owned();
        let id = match r["eventID"].as_str() {
            Some(id) => id.to_owned(),
            None => r.to_string(),
        };
        let time = time::OffsetDateTime::parse(
            r["eventTime"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        (account, id, time.unix_timestamp_nanos() / 1_000_000)
    };
    let events = records
        .iter()
        .filter(|r| r.get("eventCategory") != Some(&json!("Insight")));
    events.map(key).collect::<HashSet<_>>().len()
}

fn activity(db: &TestDb, args: &[&str]) -> (Value, String, Option<i32>) {
    let mut all = vec!["activity"];
    all.extend_from_slice(args);
    let out = orgwatch!(db, &all);
    let stdout = text(&out.stdout);
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (v, text(&out.stderr), out.status.code())
}

fn stored(db: &TestDb) -> Value {
    let (v, stderr, code) = activity(db, &["--report", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    v
}

/// The stored report without what depends on the order of reading (alarms need the same
/// windows scored; first/last times are equal anyway).
fn counts_of(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("anomalies");
    v
}

async fn the_samples_are_stored_once_and_a_rerun_reads_nothing_new(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&cloudtrail::dir(), dir.path());
    let from = dir.path().to_str().unwrap();
    let (read, stderr, code) = activity(&db, &["--from", from, "--report", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        read["events"], 2245,
        "the report of what was read counts every record"
    );
    assert!(stderr.contains("2245 events: "), "{stderr}");
    assert!(stderr.contains("ingest lag"), "{stderr}");
    // The samples are months to years old: the lag is given in its two largest units.
    let lag = stderr
        .split("ingest lag ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert!(lag.split(' ').count() <= 2, "{lag}");
    let want = distinct(&cloudtrail::records());
    let db_report = stored(&db);
    assert_eq!(db_report["events"], want as u64, "{db_report}");
    assert_eq!(db_report["tier"], "day");
    let by_account: u64 = db_report["by_account"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_account, want as u64);
    assert!(db_report["anomalies"].is_array());

    // A rerun finds every file in the ledger and reads none.
    let (_, stderr, code) = activity(&db, &["--from", from]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("activity: 0 files read ("), "{stderr}");
    assert!(stderr.contains("0 events"), "{stderr}");
    assert_eq!(counts_of(&stored(&db)), counts_of(&db_report));
}

async fn the_same_events_by_eventbridge_count_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let s3 = cloudtrail::dir().join("invictus-ir_aws_dataset");
    copy_tree(&s3, &dir.path().join("s3"));
    let (_, stderr, code) = activity(&db, &["--from", dir.path().join("s3").to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let before = stored(&db);
    // The same records as EventBridge envelopes, one per line, delivered twice.
    let mut ndjson = String::new();
    let records: Vec<Value> = walkdir::WalkDir::new(&s3)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().to_string_lossy().ends_with(".json"))
        .flat_map(|e| {
            let v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
            v["Records"].as_array().cloned().unwrap_or_default()
        })
        .collect();
    assert!(!records.is_empty());
    for r in records.iter().chain(&records) {
        let env = json!({"version": "0", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.cloudtrail", "account": r["recipientAccountId"], "detail": r});
        ndjson.push_str(&env.to_string());
        ndjson.push('\n');
    }
    std::fs::write(dir.path().join("eventbridge.ndjson"), ndjson).unwrap();
    let (_, stderr, code) = activity(&db, &["--from", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let dupes = 2 * records.len();
    assert!(
        stderr.contains(&format!("0 new, {dupes} duplicates")),
        "{stderr}"
    );
    assert_eq!(counts_of(&stored(&db)), counts_of(&before));
}

async fn file_order_does_not_change_the_stored_report(backend: Backend) {
    let all_at_once = TestDb::new(backend).await;
    let one_by_one = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let total = cloudtrail::replay_files(dir.path(), 12, "replay");
    let (_, stderr, _) = activity(&all_at_once, &["--from", dir.path().to_str().unwrap()]);
    assert!(stderr.contains(&format!("{total} new")), "{stderr}");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files.reverse();
    for f in &files {
        let (_, stderr, code) = activity(&one_by_one, &["--from", f.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (a, b) = (stored(&one_by_one), stored(&all_at_once));
    assert_eq!(a["events"], total as u64);
    assert_eq!(counts_of(&a), counts_of(&b));
}

/// An S3-style log file of events at the given times (account 111111111111, one principal).
fn log_file(path: &Path, prefix: &str, times: &[String]) {
    let records: Vec<Value> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"eventVersion": "1.08", "eventID": format!("{prefix}-{i}"), "eventTime": t,
                "recipientAccountId": "111111111111", "awsRegion": "eu-west-1",
                "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
                "sourceIPAddress": "198.51.100.7", "eventType": "AwsApiCall",
                "userIdentity": {"type": "IAMUser", "userName": format!("user-{}", i % 3)}})
        })
        .collect();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, json!({"Records": records}).to_string()).unwrap();
}

async fn minute_total(db: &TestDb, minute: &str) -> i64 {
    let store = db.store().await;
    let at = time::OffsetDateTime::parse(minute, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
        .to_string();
    let rows = store
        .raw_query_text(
            "SELECT CAST(COALESCE(SUM(count), 0) AS TEXT) FROM activity_rollups \
             WHERE tier = 'minute' AND metric = 'total' AND window_start = CAST(? AS BIGINT)",
            &[&at],
        )
        .await
        .unwrap();
    store.close().await;
    rows[0][0].as_deref().unwrap().parse().unwrap()
}

async fn late_events_amend_their_window(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let times: Vec<String> = (0..40)
        .map(|m| format!("2024-03-01T10:{m:02}:30Z"))
        .collect();
    log_file(&dir.path().join("a/first.json"), "a", &times);
    let (_, stderr, code) = activity(&db, &["--from", dir.path().join("a").to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("0 late"), "{stderr}");
    assert_eq!(minute_total(&db, "2024-03-01T10:01:00Z").await, 1);
    // 10:01 closed (newest 10:39 minus 15 minutes of lateness); three more events for it.
    let late: Vec<String> = (0..3)
        .map(|s| format!("2024-03-01T10:01:{s:02}Z"))
        .collect();
    log_file(&dir.path().join("b/late.json"), "b", &late);
    let (_, stderr, code) = activity(&db, &["--from", dir.path().join("b").to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("3 new, 0 duplicates, 3 late"), "{stderr}");
    assert_eq!(minute_total(&db, "2024-03-01T10:01:00Z").await, 4);
    let report = stored(&db);
    assert_eq!(report["events"], 43);
    // One stored row per window and metric, whatever came late.
    let store = db.store().await;
    let dupes = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM (SELECT tier, window_start, account, region, \
             metric, item FROM activity_rollups GROUP BY tier, window_start, account, region, \
             metric, item HAVING COUNT(*) > 1) d",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(dupes[0][0].as_deref(), Some("0"));
    store.close().await;
}

async fn two_workers_on_one_window_store_the_totals_of_one(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    // Both workers' files hold events of the same minutes (and one file in common).
    for w in ["a", "b"] {
        for f in 0..6 {
            let times: Vec<String> = (0..300)
                .map(|i| format!("2024-03-01T10:{:02}:{:02}Z", f * 2 + i % 2, i % 60))
                .collect();
            log_file(
                &dir.path().join(format!("{w}/{f}.json")),
                &format!("{w}{f}"),
                &times,
            );
        }
    }
    std::fs::copy(
        dir.path().join("a/0.json"),
        dir.path().join("b/shared.json"),
    )
    .unwrap();
    let spawn = |sub: &str| {
        orgwatch!()
            .args([
                "--database-url",
                &db.url,
                "activity",
                "--batch-files",
                "1",
                "--from",
            ])
            .arg(dir.path().join(sub))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a"), spawn("b"));
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let report = stored(&db);
    assert_eq!(report["events"], 12 * 300);
    assert_eq!(report["by_principal"]["user-0"], 12 * 100);
}

async fn a_kill_in_the_middle_of_a_stream_then_a_rerun_counts_every_event_once(backend: Backend) {
    let clean = TestDb::new(backend).await;
    let killed = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let total = cloudtrail::replay_files(dir.path(), 300, "replay");
    let from = dir.path().to_str().unwrap();
    let (_, stderr, code) = activity(&clean, &["--from", from]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stored(&clean)["events"], total as u64);

    let store = killed.store().await;
    let mut child = orgwatch!()
        .args([
            "--database-url",
            &killed.url,
            "activity",
            "--batch-files",
            "2",
            "--from",
            from,
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once some, not all, files are in the ledger.
    let started = Instant::now();
    loop {
        let n = store.activity_files().await.map(|l| l.len()).unwrap_or(0);
        if n >= 20 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = store.activity_files().await.unwrap().len();
    store.close().await;
    assert!(partial > 0 && partial < 300, "killed after {partial} files");

    let (_, stderr, code) = activity(&killed, &["--from", from]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(counts_of(&stored(&killed)), counts_of(&stored(&clean)));
    // The ledger holds each file's events once, and what the rerun found stored already was
    // a reread, not a duplicate delivery (issue 17).
    for db in [&clean, &killed] {
        let s = db.store().await;
        let ledger = s
            .raw_query_text("SELECT CAST(SUM(events) AS TEXT) FROM activity_files", &[])
            .await
            .unwrap();
        assert_eq!(ledger[0][0].as_deref(), Some(total.to_string().as_str()));
        assert_eq!(s.activity_state().await.unwrap().duplicate_events, 0);
        s.close().await;
    }
    // The scores continue from the saved detector: every closed minute scored once.
    for db in [&clean, &killed] {
        let s = db.store().await;
        let scored = s
            .raw_query_text(
                "SELECT CAST(COUNT(*) AS TEXT) FROM activity_anomalies WHERE scope = 'org' \
                 AND series = 'total'",
                &[],
            )
            .await
            .unwrap();
        assert_ne!(scored[0][0].as_deref(), Some("0"));
        s.close().await;
    }
}

async fn follow_reads_new_files_and_stdin_lines(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let child = orgwatch!()
        .args(["--database-url", &db.url, "activity", "--follow", "--from"])
        .arg(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let times: Vec<String> = (0..5).map(|m| format!("2024-03-01T10:0{m}:00Z")).collect();
    log_file(&dir.path().join("AWSLogs/1/f.json"), "f", &times);
    let store = db.store().await;
    let started = Instant::now();
    while store.activity_files().await.map(|l| l.len()).unwrap_or(0) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the new file was not read"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Ctrl-C stops it cleanly.
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("5 new"), "{}", text(&out.stderr));

    // stdin: lines are stored while the stream is still open.
    let mut child = orgwatch!()
        .args([
            "--database-url",
            &db.url,
            "activity",
            "--follow",
            "--from",
            "-",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..3 {
        let line = json!({"eventID": format!("s-{i}"), "eventTime": "2024-03-01T10:10:00Z",
            "recipientAccountId": "111111111111", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "userIdentity": {"type": "Root"}});
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    let started = Instant::now();
    loop {
        let report = store.activity_state().await.unwrap();
        if report.max_event_time.map(|t| t.to_string()) == Some("2024-03-01T10:10:00Z".into()) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "stdin lines were not stored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    store.close().await;
    assert_eq!(stored(&db)["events"], 8);
}

async fn the_database_report_is_a_table_naming_its_tier_with_ec2_and_sign_ins(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&cloudtrail::dir(), dir.path());
    let (_, stderr, code) = activity(&db, &["--from", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    // Neither --from nor --report: a table, not a line of JSON.
    let out = orgwatch!(&db, &["activity"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.starts_with("read from the day tier (one-day windows)\n"),
        "{table}"
    );
    assert!(table.contains("\nEC2 outcome ("), "{table}");
    assert!(table.contains("\nconsole sign-in ("), "{table}");
    assert!(table.contains("\nanomalies ("), "{table}");
    // The newest event is exact (18:00), not the end of its day window.
    let span = table
        .lines()
        .find(|l| l.starts_with("event time "))
        .unwrap();
    let newest = span.rsplit(".. ").next().unwrap();
    assert_eq!(newest, "2025-12-03T18:00:00Z", "{span}");

    // A recent range reads the minute tier.
    let out = orgwatch!(&db, &["activity", "--report", "table", "--since", newest]);
    assert!(
        text(&out.stdout).starts_with("read from the minute tier"),
        "{}",
        text(&out.stdout)
    );
}

async fn a_read_error_on_stdin_is_reported_and_exits_2(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Reading a directory fails (EISDIR): the simplest stdin that breaks.
    let dir = tempfile::tempdir().unwrap();
    let out = orgwatch!()
        .arg("--database-url")
        .arg(&db.url)
        .args(["activity", "--from", "-"])
        .stdin(std::fs::File::open(dir.path()).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("orgwatch activity: (stdin): cannot read: "),
        "{stderr}"
    );
    assert!(stderr.contains("1 failed"), "{stderr}");
}

/// Every stored score (each minute's `total` and every alarm with its explanation), as text.
async fn scores_of(db: &TestDb) -> Vec<Vec<Option<String>>> {
    let s = db.store().await;
    let rows = s
        .raw_query_text(
            "SELECT CAST(window_start AS TEXT), scope, series, CAST(score AS TEXT), \
             contributor, CAST(alarm AS TEXT), kind, CAST(observed AS TEXT), \
             CAST(expected AS TEXT), principal, api, source_ip, region FROM activity_anomalies \
             ORDER BY window_start, scope, series",
            &[],
        )
        .await
        .unwrap();
    s.close().await;
    rows
}

/// Six accounts, each active 5 minutes an hour (its own 5 minutes) over `hours`, replaying
/// the samples' principals and APIs; one file per account and hour, named by time so that
/// they are read in time order.
fn hourly_files(dir: &Path, hours: std::ops::Range<usize>) -> usize {
    let records: Vec<Value> = cloudtrail::records()
        .into_iter()
        .filter(|r| r.get("eventCategory") != Some(&json!("Insight")))
        .collect();
    let mut n = 0;
    for h in hours {
        for a in 0..6 {
            let slot = a * 10;
            let batch: Vec<Value> = (0..40)
                .map(|i| {
                    let mut r = records[(n + i) % records.len()].clone();
                    r["eventID"] = json!(format!("hourly-{h}-{a}-{i}"));
                    r["eventTime"] = json!(format!(
                        "2024-03-01T{:02}:{:02}:{:02}Z",
                        h,
                        slot + i / 8,
                        i % 8 * 7
                    ));
                    r["recipientAccountId"] = json!(format!("{:012}", 200 + a));
                    r
                })
                .collect();
            n += batch.len();
            let p = dir.join(format!(
                "AWSLogs/x/CloudTrail/eu-west-1/2024/03/01/{h:02}{slot:02}-{a}.json"
            ));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, json!({"Records": batch}).to_string()).unwrap();
        }
    }
    n
}

async fn scopes_parked_out_of_memory_give_the_same_scores(backend: Backend) {
    let (all, parked) = (TestDb::new(backend).await, TestDb::new(backend).await);
    let dir = tempfile::tempdir().unwrap();
    let events = hourly_files(dir.path(), 0..8);
    let from = dir.path().to_str().unwrap();
    let (_, stderr, code) = activity(&all, &["--from", from]);
    assert_eq!(code, Some(0), "{stderr}");
    // One scope in memory (of 6 accounts and `org`): after a chunk of minutes with two or
    // more scopes, the changed ones are saved and all but one parked; the next chunk reads
    // back those it needs.
    let (_, stderr, code) = activity(&parked, &["-vv", "--from", from, "--resident-scopes", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let parks = stderr.matches("anomaly detector scopes parked").count();
    assert!(parks >= 20, "parked {parks} times:\n{stderr}");
    let (want, got) = (scores_of(&all).await, scores_of(&parked).await);
    assert!(want.len() > 400, "{} scores of {events} events", want.len());
    assert_eq!(got, want);
    assert_eq!(counts_of(&stored(&parked)), counts_of(&stored(&all)));
    // Stopped and started again, a run reads only the scopes it needs, and continues.
    let more = tempfile::tempdir().unwrap();
    hourly_files(more.path(), 8..11);
    for db in [&all, &parked] {
        let (_, stderr, code) = activity(
            db,
            &[
                "--from",
                more.path().to_str().unwrap(),
                "--resident-scopes",
                "2",
            ],
        );
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (want, got) = (scores_of(&all).await, scores_of(&parked).await);
    assert!(want.len() > 600, "{} scores", want.len());
    assert_eq!(got, want);
}

/// A CloudTrail file of `user`'s calls at `times` (RFC 3339), each its own event.
fn calls_file(dir: &Path, name: &str, user: &str, times: &[&str]) -> PathBuf {
    let records: Vec<Value> = times
        .iter()
        .map(|t| {
            let identity = if user == "root" {
                json!({"type": "Root"})
            } else {
                json!({"type": "IAMUser", "userName": user})
            };
            json!({
                "eventID": format!("{user}-{t}"), "eventTime": t,
                "recipientAccountId": "123456789012", "awsRegion": "eu-west-1",
                "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
                "sourceIPAddress": "192.0.2.7", "eventType": "AwsApiCall",
                "userIdentity": identity,
            })
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, json!({ "Records": records }).to_string()).unwrap();
    path
}

async fn alarm_kinds_are_switched_off_and_on_and_the_saved_detector_keeps_them(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let root_alarms = |db: &TestDb| -> Vec<String> {
        stored(db)["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["series"] == "root:root")
            .map(|a| a["time"].as_str().unwrap().to_owned())
            .collect()
    };
    // Three root sessions hours apart, each followed by an hour of another user (which closes
    // the root minute's window, so that it is scored within the run).
    let runs: [(&str, &[&str]); 3] = [
        (
            "2024-03-01T10",
            &["--no-alarm", "root", "--no-alarm", "new_source"],
        ),
        ("2024-03-01T13", &[]),
        ("2024-03-01T16", &["--alarm", "root"]),
    ];
    for (i, (hour, flags)) in runs.iter().enumerate() {
        let root = format!("{hour}:00:10Z");
        let later = format!("{hour}:59:00Z");
        let file = dir.path().join(format!("run{i}"));
        std::fs::create_dir(&file).unwrap();
        calls_file(&file, "root.json", "root", &[&root]);
        calls_file(&file, "alice.json", "alice", &[&root, &later]);
        let mut args = vec!["--from", file.to_str().unwrap()];
        args.extend_from_slice(flags);
        let (_, stderr, code) = activity(&db, &args);
        assert_eq!(code, Some(0), "{stderr}");
    }
    // Off in the first run; still off in the second (the saved detector kept the switch); on
    // again in the third.
    assert_eq!(root_alarms(&db), ["2024-03-01T16:00:00Z"]);
    // A burst detector has no switch; a contradiction is refused.
    let (_, stderr, code) = activity(&db, &["--from", "-", "--no-alarm", "count"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("not a new-behaviour alarm kind"),
        "{stderr}"
    );
    let (_, stderr, code) = activity(
        &db,
        &["--from", "-", "--alarm", "root", "--no-alarm", "root"],
    );
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("contradict"), "{stderr}");
}
