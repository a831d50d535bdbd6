//! The typed read models, on both backends, and the parity of the two backends over every
//! table and view.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_model::{ActivityEvent, Timestamp};
use orgwatch_store::activity::{
    ActivityFile, AlarmKind, Anomaly, DetectorToSave, Explanation, Retention,
};
use orgwatch_store::{Access, Cursor, EventFilter, PageFilter, Store, TABLES};
use orgwatch_test_support::store::{columns, load_new, relations};
use std::collections::BTreeMap;

orgwatch_test_support::on_both_backends!(store: anomalies_return_each_rows_stored_alarm,
    a_drill_down_pages_through_every_matching_event_once,
    calls_per_minute_carry_their_scores,
);

/// Events of two accounts and three principals: `n` of them, one every 20 seconds from
/// 10:00, with pairs sharing a time (the cursor must tell them apart).
fn events(n: usize) -> Vec<ActivityEvent> {
    (0..n)
        .map(|i| {
            let secs = (i / 2) * 20;
            let rec = serde_json::json!({
                "eventID": format!("id-{i:03}"),
                "eventTime": format!("2024-03-01T10:{:02}:{:02}Z", secs / 60, secs % 60),
                "recipientAccountId": if i % 2 == 0 { "111111111111" } else { "222222222222" },
                "awsRegion": "us-east-1", "eventSource": "ec2.amazonaws.com",
                "eventName": "DescribeInstances", "sourceIPAddress": "198.51.100.7",
                "userIdentity": {"type": "IAMUser", "userName": format!("user{}", i % 3)},
            });
            ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
        })
        .collect()
}

async fn store_events(store: &Store, events: &[ActivityEvent]) {
    let none = BTreeMap::new();
    let file = ActivityFile {
        path: "AWSLogs/a.json",
        size: 1,
        events,
        undecodable: 0,
        skipped: &none,
        complete: true,
        offset: Some(0),
    };
    store.store_activity(&[file]).await.unwrap();
}

async fn a_drill_down_pages_through_every_matching_event_once(store: Store) {
    store_events(&store, &events(25)).await;
    let mut seen = Vec::new();
    let mut after: Option<Cursor> = None;
    let mut sizes = Vec::new();
    loop {
        let page = store
            .recent_events(
                &Access::All,
                &PageFilter::default(),
                &EventFilter::default(),
                after.as_ref(),
                10,
            )
            .await
            .unwrap();
        sizes.push(page.items.len());
        seen.extend(
            page.items
                .iter()
                .map(|e| (e.time, e.account.clone(), e.event_id.clone())),
        );
        // A cursor survives a trip through a URL.
        after = match page.next {
            Some(c) => Some(c.to_string().parse().unwrap()),
            None => break,
        };
    }
    assert_eq!(sizes, [10, 10, 5]);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first, in key order");
    sorted.dedup();
    assert_eq!(sorted.len(), 25, "every event once");

    let filter = EventFilter {
        principal: Some("user1".to_owned()),
        account: Some("222222222222".to_owned()),
        ..EventFilter::default()
    };
    let page = store
        .recent_events(&Access::All, &PageFilter::default(), &filter, None, 100)
        .await
        .unwrap();
    // i % 2 == 1 and i % 3 == 1: i = 1, 7, 13, 19.
    assert_eq!(
        page.items
            .iter()
            .map(|e| e.event_id.as_str())
            .collect::<Vec<_>>(),
        ["id-019", "id-013", "id-007", "id-001"]
    );
    assert!(page.next.is_none());
    assert!(page.items.iter().all(|e| e.principal == "user1"));
}

async fn calls_per_minute_carry_their_scores(store: Store) {
    store_events(&store, &events(12)).await;
    let detector = DetectorToSave {
        header: b"h".to_vec(),
        parts: Vec::<(String, Vec<u8>)>::new().into_iter(),
    };
    let scored = [anomaly("2024-03-01T10:01:00Z", "total", 3.5, true)];
    store
        .save_scores(None, ts("2024-03-01T10:02:00Z"), detector, &scored)
        .await
        .unwrap();
    let points = store
        .calls_per_minute(
            "111111111111",
            ts("2024-03-01T10:00:00Z"),
            ts("2024-03-01T11:00:00Z"),
        )
        .await
        .unwrap();
    // Account 1 has the even events: times 0, 20, 40 s, 1:00, 1:20, 1:40 -> 3 and 3.
    let summary: Vec<(Timestamp, u64, Option<f64>, bool)> = points
        .iter()
        .map(|p| (p.time, p.calls, p.score, p.alarm))
        .collect();
    assert_eq!(
        summary,
        [
            (ts("2024-03-01T10:00:00Z"), 3, None, false),
            (ts("2024-03-01T10:01:00Z"), 3, Some(3.5), true),
        ]
    );
    let org = store
        .calls_per_minute(
            "org",
            ts("2024-03-01T10:00:00Z"),
            ts("2024-03-01T10:01:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(org.iter().map(|p| p.calls).collect::<Vec<_>>(), [6]);
}

fn ts(s: &str) -> Timestamp {
    Timestamp::new(
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap(),
    )
}

fn anomaly(time: &str, series: &str, score: f64, alarm: bool) -> Anomaly {
    Anomaly {
        time: ts(time),
        scope: "111111111111".parse().unwrap(),
        series: series.parse().unwrap(),
        score,
        contributor: format!("principal:alice api:ec2:{series}"),
        alarm,
        // Every alarm is stored with its explanation, and read back with it.
        explanation: alarm.then(|| Explanation {
            kind: if series == "total" {
                AlarmKind::Forest
            } else {
                AlarmKind::Count
            },
            observed: 42,
            expected: 3.25,
            minutes: if series == "total" { 1 } else { 5 },
            principal: Some("alice".into()),
            api: Some(format!("ec2:{series}")),
            source_ip: (series == "total").then(|| "203.0.113.7".into()),
            region: None,
        }),
    }
}

async fn anomalies_return_each_rows_stored_alarm(store: Store) {
    let saved = [
        anomaly("2024-03-01T10:00:00Z", "total", 1.25, false),
        anomaly("2024-03-01T10:01:00Z", "total", 3.5, true),
        anomaly("2024-03-01T10:01:00Z", "principal:alice", 0.5, false),
        anomaly("2024-03-01T10:02:00Z", "others", 4.0, true),
    ];
    let detector = DetectorToSave {
        header: b"header".to_vec(),
        parts: Vec::<(String, Vec<u8>)>::new().into_iter(),
    };
    assert!(store
        .save_scores(None, ts("2024-03-01T10:03:00Z"), detector, &saved)
        .await
        .unwrap());

    let all = store.anomalies(None, None, false).await.unwrap();
    let mut expected = saved.to_vec();
    expected.sort_by(|a, b| (a.time, &a.scope, &a.series).cmp(&(b.time, &b.scope, &b.series)));
    assert_eq!(all, expected, "every row with its own alarm flag and score");
    assert_eq!(all.iter().filter(|a| a.alarm).count(), 2);

    let alarms = store.anomalies(None, None, true).await.unwrap();
    let expected: Vec<Anomaly> = expected.into_iter().filter(|a| a.alarm).collect();
    assert_eq!(alarms, expected, "only the alarms, each flagged as stored");

    let window = store
        .anomalies(
            Some(ts("2024-03-01T10:01:00Z")),
            Some(ts("2024-03-01T10:02:00Z")),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        window
            .iter()
            .map(|a| (a.series.to_string(), a.alarm))
            .collect::<Vec<_>>(),
        [
            ("principal:alice".to_owned(), false),
            ("total".to_owned(), true)
        ]
    );
}

const DAILY: &[u8] = include_bytes!(
    "../../../testdata/a360-sample/data/210987654321/us-east-1/2026-11-24_DAILY.json"
);
const MONTHLY: &[u8] = include_bytes!(
    "../../../testdata/a360-sample/data/210987654321/us-east-1/2026-11-24_MONTHLY.json"
);
const EVERY: &[u8] = include_bytes!("../../../testdata/snapshots/every-category.json");

/// The same files on both backends, the failure of one recorded.
async fn load_fixtures(store: &Store) {
    for (path, bytes) in [
        ("210987654321/us-east-1/2026-11-24_DAILY.json", DAILY),
        ("210987654321/us-east-1/2026-11-24_MONTHLY.json", MONTHLY),
        ("123456789012/us-east-1/2026-11-25_DAILY.json", EVERY),
    ] {
        load_new(store, path, bytes).await;
    }
    store
        .record_failure("data/x/broken.json", None, "not JSON")
        .await
        .unwrap();

    // Activity: events over three days (minute, hour and, once pruned, day rollups), a
    // failed file, scores and a detector.
    let events: Vec<ActivityEvent> = (0..60)
        .map(|i| {
            let rec = serde_json::json!({
                "eventID": format!("e{i}"),
                "eventTime": format!("2024-03-0{}T1{}:{:02}:05Z", 1 + i % 3, i % 10, i),
                "recipientAccountId": if i % 4 == 0 { "222222222222" } else { "111111111111" },
                "awsRegion": "us-east-1", "eventSource": "ec2.amazonaws.com",
                "eventName": if i % 5 == 0 { "RunInstances" } else { "DescribeInstances" },
                "errorCode": if i % 7 == 0 { Some("AccessDenied") } else { None },
                "sourceIPAddress": format!("198.51.100.{}", i % 6), "eventType": "AwsApiCall",
                "userIdentity": {"type": "IAMUser", "userName": format!("user{}", i % 3)},
            });
            ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
        })
        .collect();
    let skipped = BTreeMap::from([("digest".to_owned(), 2)]);
    let file = ActivityFile {
        path: "AWSLogs/a.json.gz",
        size: 1234,
        events: &events,
        undecodable: 1,
        skipped: &skipped,
        complete: true,
        offset: Some(0),
    };
    store.store_activity(&[file]).await.unwrap();
    store
        .activity_file_failed("AWSLogs/bad.json.gz", 7, "not gzip")
        .await
        .unwrap();
    let detector = DetectorToSave {
        header: b"header".to_vec(),
        parts: vec![("org".to_owned(), b"org".to_vec())].into_iter(),
    };
    let scores = [
        anomaly("2024-03-01T10:00:00Z", "total", 1.25, false),
        anomaly("2024-03-01T10:01:00Z", "total", 3.5, true),
    ];
    store
        .save_scores(None, ts("2024-03-02T00:00:00Z"), detector, &scores)
        .await
        .unwrap();
    let keep_a_day = Retention {
        hours: Some(std::time::Duration::from_secs(86_400)),
        ..Retention::default()
    };
    store.prune_activity(&keep_a_day).await.unwrap();
}

/// Columns whose values differ by backend by design: surrogate ids and sequence-made
/// references, load times, and the file hashes and sizes the fixtures make up per call.
fn compared(column: &str) -> bool {
    !(column == "id"
        || column.ends_with("_id") && column != "account_id" && column != "finding_id"
        || column == "created_at"
        || column == "loaded_at"
        || column == "date_created"
        || column == "timestamp"
        || column == "days_since_creation"
        || column == "account_age_days")
}

/// One cell as text both backends agree on: numbers to 6 decimals, booleans as
/// 1 and 0, times as `YYYY-MM-DDTHH:MM:SS` (UTC), JSON with sorted keys.
fn normal(cell: Option<String>) -> String {
    let Some(v) = cell else {
        return "NULL".to_owned();
    };
    match v.as_str() {
        // PostgreSQL booleans; SQLite stores them as 1 and 0.
        "t" | "true" => return normal(Some("1".to_owned())),
        "f" | "false" => return normal(Some("0".to_owned())),
        _ => {}
    }
    if let Some(hex) = v.strip_prefix("\\x") {
        // BYTEA as text (PostgreSQL); a BLOB cast to text is its bytes (SQLite).
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect();
        if let Some(bytes) = bytes {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    if v.starts_with(['{', '[']) {
        // JSONB (PostgreSQL) prints its keys sorted and spaced; TEXT (SQLite) as written.
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&v) {
            return json.to_string();
        }
    }
    if let Ok(n) = v.parse::<f64>() {
        return format!("{:.6}", n);
    }
    // 2026-11-24 00:00:00+00 (PostgreSQL) and 2026-11-24T00:00:00.000Z (SQLite).
    let b = v.as_bytes();
    if b.len() >= 19 && b[4] == b'-' && b[7] == b'-' && (b[10] == b' ' || b[10] == b'T') {
        // Load-time stamps (a row's `updated_at` defaults to now) differ by the moment each
        // backend wrote them; the fixtures hold no time of today.
        let today = time::OffsetDateTime::now_utc().date().to_string();
        if v[..10] == today {
            return "(load time)".to_owned();
        }
        return format!("{}T{}", &v[..10], &v[11..19]);
    }
    v
}

/// Every row of a relation, its compared columns normalised, sorted.
async fn content(store: &Store, relation: &str) -> Vec<Vec<String>> {
    let cols: Vec<String> = columns(store, relation)
        .await
        .into_iter()
        .filter(|c| compared(c))
        .collect();
    let list: Vec<String> = cols.iter().map(|c| format!("CAST({c} AS TEXT)")).collect();
    let sql = format!("SELECT {} FROM {relation}", list.join(", "));
    let mut rows: Vec<Vec<String>> = store
        .raw_query_text(&sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| r.into_iter().map(normal).collect())
        .collect();
    rows.sort();
    rows
}

/// Same tables and views with the same columns on both backends, and, after loading the same
/// files, the same rows in every one of them (ids and load times aside).
#[sqlx::test(migrator = "orgwatch_store::POSTGRES_MIGRATOR")]
async fn both_backends_hold_the_same_rows_in_every_table_and_view(pool: sqlx::PgPool) {
    let postgres = Store::from_postgres(pool);
    let sqlite = Store::connect("sqlite::memory:").await.unwrap();
    load_fixtures(&postgres).await;
    load_fixtures(&sqlite).await;

    let tables = relations(&sqlite, "table").await;
    assert_eq!(relations(&postgres, "table").await, tables);
    for t in TABLES {
        assert!(
            tables.iter().any(|x| x == t),
            "{t} is not a table: {tables:?}"
        );
    }
    let views = relations(&sqlite, "view").await;
    assert_eq!(relations(&postgres, "view").await, views);
    assert!(views.len() >= 42, "{views:?}");

    let mut compared_rows = 0;
    for relation in tables.iter().chain(&views) {
        assert_eq!(
            columns(&postgres, relation).await,
            columns(&sqlite, relation).await,
            "{relation}: columns"
        );
        let (pg, lite) = (
            content(&postgres, relation).await,
            content(&sqlite, relation).await,
        );
        assert_eq!(pg.len(), lite.len(), "{relation}: row count");
        assert_eq!(pg, lite, "{relation}: rows");
        compared_rows += pg.len();
    }
    assert!(
        compared_rows > 500,
        "the fixtures reach few rows: {compared_rows}"
    );
    sqlite.close().await;
}
