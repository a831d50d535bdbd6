//! CloudTrail activity in the store: de-duplication, additive windows, late events, two
//! workers, the ledger, retention and the saved detector — on SQLite and PostgreSQL.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_model::activity::{Scope, WindowCounts};
use orgwatch_model::{ActivityEvent, Timestamp};
use orgwatch_store::activity::{
    ActivityFile, AlarmKind, Anomaly, DetectorToSave, Explanation, Metric, Retention, Tier,
};
use orgwatch_store::Store;
use orgwatch_test_support::on_both_backends;
use orgwatch_test_support::store::{activity_file as file, mixed_events, store_as_two_writers};
use serde_json::json;
use std::collections::BTreeMap;

on_both_backends!(store:
    a_duplicate_event_is_counted_once,
    the_same_id_at_another_time_or_account_is_another_event,
    file_order_does_not_change_the_counts,
    a_late_event_amends_its_window_without_a_second_row,
    two_workers_on_one_window_give_the_totals_of_one,
    the_ledger_remembers_files_and_sizes,
    every_metric_is_counted,
    scores_and_detector_survive_and_only_one_worker_advances,
    retention_counts_back_from_the_newest_event,
    minute_counts_and_totals_hold_every_writers_events,
    hours_leaving_their_retention_are_folded_into_their_days,
    the_scorer_saving_while_batches_are_stored_waits_instead_of_failing,
    a_reread_file_counts_its_events_once_and_no_duplicates,
);

/// An event at `time` (RFC 3339) by `user` calling `api` on EC2 in `account`.
fn ev(id: &str, time: &str, account: &str, user: &str, api: &str) -> ActivityEvent {
    let rec = json!({
        "eventID": id, "eventTime": time, "recipientAccountId": account,
        "awsRegion": "us-east-1", "eventSource": "ec2.amazonaws.com", "eventName": api,
        "sourceIPAddress": "198.51.100.7", "eventType": "AwsApiCall",
        "userIdentity": {"type": "IAMUser", "userName": user},
    });
    ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// Minute-tier totals per window start, from the rollups.
/// A detector to save: a header and parts named by scope.
fn detector(
    header: &[u8],
    parts: &[(&str, &[u8])],
) -> DetectorToSave<std::vec::IntoIter<(String, Vec<u8>)>> {
    let parts: Vec<(String, Vec<u8>)> = parts
        .iter()
        .map(|(s, b)| (s.to_string(), b.to_vec()))
        .collect();
    DetectorToSave {
        header: header.to_vec(),
        parts: parts.into_iter(),
    }
}

async fn minute_totals(store: &Store) -> BTreeMap<String, i64> {
    store
        .raw_query_text(
            "SELECT CAST(window_start AS TEXT), CAST(SUM(count) AS TEXT) FROM activity_rollups \
             WHERE tier = 'minute' AND metric = 'total' GROUP BY window_start",
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].as_deref().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// Every rollup row, for comparing two stores.
async fn all_rollups(store: &Store) -> Vec<Vec<Option<String>>> {
    store
        .raw_query_text(
            "SELECT tier, CAST(window_start AS TEXT), account, region, metric, item, \
             CAST(count AS TEXT) FROM activity_rollups \
             ORDER BY tier, window_start, account, region, metric, item",
            &[],
        )
        .await
        .unwrap()
}

async fn rows(store: &Store, table: &str) -> i64 {
    store
        .raw_query_text(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"), &[])
        .await
        .unwrap()[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

async fn a_duplicate_event_is_counted_once(store: Store) {
    let a = ev(
        "e-1",
        "2024-03-01T10:00:05Z",
        "111111111111",
        "alice",
        "RunInstances",
    );
    let b = ev(
        "e-2",
        "2024-03-01T10:00:07Z",
        "111111111111",
        "alice",
        "RunInstances",
    );
    // The same event delivered by S3 and by EventBridge, and twice inside one file.
    let s3 = [a.clone(), b.clone()];
    let eventbridge = [a.clone(), a.clone()];
    let first = store.store_activity(&[file("s3.json", &s3)]).await.unwrap();
    assert_eq!((first.new_events, first.duplicates), (2, 0));
    let second = store
        .store_activity(&[file("eb.json", &eventbridge)])
        .await
        .unwrap();
    assert_eq!((second.new_events, second.duplicates), (0, 2));
    assert_eq!(second.fresh, vec![vec![false, false]]);
    let both = store
        .store_activity(&[file("x.json", &s3), file("y.json", &s3)])
        .await
        .unwrap();
    assert_eq!((both.new_events, both.duplicates), (0, 4));
    assert_eq!(minute_totals(&store).await.values().sum::<i64>(), 2);
    assert_eq!(rows(&store, "activity_events").await, 2);
    assert_eq!(store.activity_state().await.unwrap().duplicate_events, 6);
}

async fn the_same_id_at_another_time_or_account_is_another_event(store: Store) {
    // The Panther samples reuse ids such as "1" for different events.
    let events = [
        ev(
            "1",
            "2024-03-01T10:00:05Z",
            "111111111111",
            "alice",
            "RunInstances",
        ),
        ev(
            "1",
            "2024-03-01T10:07:00Z",
            "111111111111",
            "alice",
            "RunInstances",
        ),
        ev(
            "1",
            "2024-03-01T10:00:05Z",
            "222222222222",
            "bob",
            "RunInstances",
        ),
    ];
    let out = store.store_activity(&[file("f", &events)]).await.unwrap();
    assert_eq!((out.new_events, out.duplicates), (3, 0));
    // Records without an eventID are keyed on their content.
    let rec = json!({"eventTime": "2024-03-01T10:00:05Z", "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject", "recipientAccountId": "111111111111"});
    let no_id = ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap();
    let mut other = rec.clone();
    other["eventName"] = json!("PutObject");
    let no_id_2 = ActivityEvent::from_cloudtrail(other.as_object().unwrap()).unwrap();
    let out = store
        .store_activity(&[file("g", &[no_id.clone(), no_id_2, no_id])])
        .await
        .unwrap();
    assert_eq!((out.new_events, out.duplicates), (2, 1));
}

async fn file_order_does_not_change_the_counts(store: Store) {
    let day: Vec<ActivityEvent> = (0..300)
        .map(|i| {
            let t = format!("2024-03-01T10:{:02}:{:02}Z", (i * 7) % 60, i % 60);
            ev(
                &format!("id-{i}"),
                &t,
                "111111111111",
                ["alice", "bob"][i % 2],
                "RunInstances",
            )
        })
        .collect();
    let (a, b) = day.split_at(120);
    store
        .store_activity(&[file("b", b), file("a", a)])
        .await
        .unwrap();
    let reversed = all_rollups(&store).await;
    // A second database fed in the other order, one file per write.
    let other = fresh_like(&store).await;
    other.store_activity(&[file("a", a)]).await.unwrap();
    other.store_activity(&[file("b", b)]).await.unwrap();
    assert_eq!(all_rollups(&other).await, reversed);
    assert_eq!(minute_totals(&store).await.values().sum::<i64>(), 300);
}

/// An empty store of the same backend (a separate SQLite file, or a separate PostgreSQL
/// schema would be needed; the activity tables of one database are emptied instead).
async fn fresh_like(store: &Store) -> Store {
    let copy = store.clone();
    for t in [
        "activity_events",
        "activity_rollups",
        "activity_files",
        "activity_state",
        "activity_anomalies",
    ] {
        copy.raw_query_text(&format!("DELETE FROM {t}"), &[])
            .await
            .unwrap();
    }
    copy
}

async fn a_late_event_amends_its_window_without_a_second_row(store: Store) {
    let on_time = [
        ev(
            "a",
            "2024-03-01T10:00:10Z",
            "111111111111",
            "alice",
            "RunInstances",
        ),
        ev(
            "b",
            "2024-03-01T10:30:00Z",
            "111111111111",
            "alice",
            "RunInstances",
        ),
    ];
    store.store_activity(&[file("1", &on_time)]).await.unwrap();
    // The 10:00 window is closed and scored.
    assert!(store
        .save_scores(
            None,
            ts("2024-03-01T10:15:00Z"),
            detector(b"model", &[]),
            &[]
        )
        .await
        .unwrap());
    let late = [ev(
        "c",
        "2024-03-01T10:00:50Z",
        "111111111111",
        "bob",
        "StopInstances",
    )];
    let out = store.store_activity(&[file("2", &late)]).await.unwrap();
    assert_eq!((out.new_events, out.late_events), (1, 1));
    let totals = minute_totals(&store).await;
    let ten = (ts("2024-03-01T10:00:00Z").get().unix_timestamp()).to_string();
    assert_eq!(totals[&ten], 2, "{totals:?}");
    let rows_for_window = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM activity_rollups WHERE tier = 'minute' \
             AND metric = 'total' AND window_start = CAST(? AS BIGINT)",
            &[&ten],
        )
        .await
        .unwrap();
    assert_eq!(rows_for_window[0][0].as_deref(), Some("1"));
    assert_eq!(store.activity_state().await.unwrap().late_events, 1);
}

async fn two_workers_on_one_window_give_the_totals_of_one(store: Store) {
    let events: Vec<ActivityEvent> = (0..400)
        .map(|i| {
            let t = format!("2024-03-01T10:00:{:02}Z", i % 60);
            ev(
                &format!("w-{i}"),
                &t,
                "111111111111",
                ["alice", "bob", "carol"][i % 3],
                "RunInstances",
            )
        })
        .collect();
    let (a, b) = events.split_at(200);
    // Both workers also deliver an overlapping slice, as SQS redelivery would.
    let (x, y) = (store.clone(), store.clone());
    let (ra, rb) = tokio::join!(
        async move {
            x.store_activity(&[file("a", a), file("overlap-a", &b[..50])])
                .await
        },
        async move {
            y.store_activity(&[file("b", b), file("overlap-b", &a[..50])])
                .await
        },
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.new_events + rb.new_events, 400);
    assert_eq!(ra.duplicates + rb.duplicates, 100);
    let totals = minute_totals(&store).await;
    assert_eq!(totals.values().copied().collect::<Vec<_>>(), vec![400]);
    let counts = store
        .activity_counts(None, None, &Retention::default())
        .await
        .unwrap();
    assert_eq!(counts.by[&Metric::Principal]["alice"], 134);
    assert_eq!(counts.by[&Metric::Principal]["bob"], 133);
}

async fn the_ledger_remembers_files_and_sizes(store: Store) {
    let events = [ev(
        "a",
        "2024-03-01T10:00:10Z",
        "111111111111",
        "alice",
        "RunInstances",
    )];
    let mut f = file(
        "AWSLogs/111111111111/CloudTrail/us-east-1/2024/03/01/x.json.gz",
        &events,
    );
    let one_insight = BTreeMap::from([("insight".to_owned(), 1)]);
    f.undecodable = 2;
    f.skipped = &one_insight;
    store.store_activity(&[f]).await.unwrap();
    let one_digest = BTreeMap::from([("digest".to_owned(), 1)]);
    let digest = ActivityFile {
        path: "AWSLogs/111111111111/CloudTrail-Digest/d.json.gz",
        size: 99,
        events: &[],
        undecodable: 0,
        skipped: &one_digest,
        complete: true,
        offset: Some(0),
    };
    store.store_activity(&[digest]).await.unwrap();
    // A big file stored in chunks counts as read only after its last chunk.
    let chunk = |complete| ActivityFile {
        size: 5000,
        complete,
        ..file("big.json", &events)
    };
    store.store_activity(&[chunk(false)]).await.unwrap();
    assert!(!store
        .activity_files()
        .await
        .unwrap()
        .contains_key("big.json"));
    store.store_activity(&[chunk(true)]).await.unwrap();
    store
        .activity_file_failed("broken.json", 12, "not CloudTrail JSON")
        .await
        .unwrap();
    let ledger = store.activity_files().await.unwrap();
    assert_eq!(ledger.len(), 4);
    assert_eq!(ledger["big.json"], 5000);
    assert_eq!(ledger["broken.json"], 12);
    let error = store
        .raw_query_text(
            "SELECT error FROM activity_files WHERE path = 'broken.json'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(error[0][0].as_deref(), Some("not CloudTrail JSON"));
    assert_eq!(
        ledger["AWSLogs/111111111111/CloudTrail/us-east-1/2024/03/01/x.json.gz"],
        1
    );
    let counts = store
        .activity_counts(None, None, &Retention::default())
        .await
        .unwrap();
    assert_eq!(counts.undecodable, 2);
    assert_eq!(counts.skipped["digest"], 1);
    assert_eq!(counts.skipped["insight"], 1);
}

async fn every_metric_is_counted(store: Store) {
    let mut failed = ev(
        "f",
        "2024-03-01T10:00:10Z",
        "111111111111",
        "alice",
        "RunInstances",
    );
    failed.error_code = Some("Client.UnauthorizedOperation".into());
    let ok = ev(
        "o",
        "2024-03-01T10:00:11Z",
        "111111111111",
        "alice",
        "RunInstances",
    );
    let sign_in = |id: &str, outcome: &str| {
        let rec = json!({"eventID": id, "eventTime": "2024-03-01T10:00:12Z",
            "recipientAccountId": "111111111111", "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn",
            "responseElements": {"ConsoleLogin": outcome},
            "userIdentity": {"type": "IAMUser", "userName": "alice"}});
        ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
    };
    let events = [
        failed,
        ok,
        sign_in("s1", "Success"),
        sign_in("s2", "Failure"),
    ];
    store.store_activity(&[file("f", &events)]).await.unwrap();
    let since = Some(ts("2024-03-01T10:00:00Z"));
    let counts = store
        .activity_counts(since, None, &Retention::default())
        .await
        .unwrap();
    assert_eq!(counts.tier, Some(Tier::Minute));
    assert_eq!(counts.events, 4);
    let by = |m: Metric| counts.by.get(&m).cloned().unwrap_or_default();
    assert_eq!(by(Metric::Ec2Outcome)["success"], 1);
    assert_eq!(by(Metric::Ec2Outcome)["Client.UnauthorizedOperation"], 1);
    assert_eq!(by(Metric::ErrorCode).len(), 1);
    assert_eq!(by(Metric::ConsoleSignIn)["success"], 1);
    assert_eq!(by(Metric::ConsoleSignIn)["failure"], 1);
    assert_eq!(by(Metric::Api)["ec2.amazonaws.com:RunInstances"], 2);
    assert_eq!(by(Metric::Service)["signin.amazonaws.com"], 2);
    assert_eq!(by(Metric::PrincipalType)["IAMUser"], 4);
    assert_eq!(counts.by_region["us-east-1"], 2);
    assert_eq!(counts.by_region["(none)"], 2);
    assert_eq!(counts.first_event_time, Some(ts("2024-03-01T10:00:10Z")));
    assert_eq!(counts.last_event_time, Some(ts("2024-03-01T10:00:12Z")));
    // The exact top 10 view ranks per window; '*' is the organisation.
    let top = store
        .raw_query_text(
            "SELECT item, CAST(count AS TEXT) FROM view_activity_top10 WHERE tier = 'minute' \
             AND account = '*' AND metric = 'service' ORDER BY rank",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(top.len(), 2);
    // Minute windows of per-event metrics come from the recent events.
    let top = store
        .raw_query_text(
            "SELECT item, CAST(count AS TEXT) FROM view_activity_top10 WHERE tier = 'minute' \
             AND account = '111111111111' AND metric = 'principal'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        top,
        vec![vec![Some("alice".to_owned()), Some("4".to_owned())]]
    );
    let stored_minute_principals = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM activity_rollups WHERE tier = 'minute' \
             AND metric IN ('principal', 'api', 'source_ip')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(stored_minute_principals[0][0].as_deref(), Some("0"));
}

async fn scores_and_detector_survive_and_only_one_worker_advances(store: Store) {
    let events = [ev(
        "a",
        "2024-03-01T10:00:10Z",
        "111111111111",
        "alice",
        "RunInstances",
    )];
    store.store_activity(&[file("f", &events)]).await.unwrap();
    let anomaly = Anomaly {
        time: ts("2024-03-01T10:00:00Z"),
        scope: "111111111111".parse().unwrap(),
        series: "principal:alice".parse().unwrap(),
        score: 3.5,
        contributor: "principal:alice api:ec2.amazonaws.com:RunInstances".into(),
        alarm: true,
        explanation: Some(Explanation {
            kind: AlarmKind::Forest,
            observed: 1,
            expected: 0.0,
            minutes: 1,
            principal: Some("alice".into()),
            api: Some("ec2.amazonaws.com:RunInstances".into()),
            source_ip: None,
            region: Some("us-east-1".into()),
        }),
    };
    let until = ts("2024-03-01T10:01:00Z");
    assert!(store
        .save_scores(
            None,
            until,
            detector(
                b"\x00\x01state\\\t",
                &[("org", b"\x00org"), ("111111111111", b"one")]
            ),
            std::slice::from_ref(&anomaly)
        )
        .await
        .unwrap());
    // A second worker that read the same old state does not advance it.
    assert!(!store
        .save_scores(None, until, detector(b"other", &[("org", b"other")]), &[])
        .await
        .unwrap());
    let state = store.activity_state().await.unwrap();
    let saved = store.activity_detector().await.unwrap();
    assert_eq!(saved.bytes.as_deref(), Some(&b"\x00\x01state\\\t"[..]));
    assert_eq!(
        saved.parts,
        [
            ("111111111111".to_string(), b"one".to_vec()),
            ("org".to_string(), b"\x00org".to_vec())
        ],
        "every scope, in name order, as the first worker saved it"
    );
    assert_eq!(saved.scored_until, Some(until));
    assert_eq!(state.scored_until, Some(until));
    // The next checkpoint writes the scopes that changed: the others keep their parts.
    let later = ts("2024-03-01T10:02:00Z");
    assert!(store
        .save_scores(
            Some(until),
            later,
            detector(b"header", &[("org", b"new")]),
            &[]
        )
        .await
        .unwrap());
    let saved = store.activity_detector().await.unwrap();
    assert_eq!(
        saved.parts,
        [
            ("111111111111".to_string(), b"one".to_vec()),
            ("org".to_string(), b"new".to_vec())
        ]
    );
    assert_eq!(saved.scored_until, Some(later));
    // A restart reads the header alone, then the scopes of the accounts that are active.
    let header = store.activity_detector_header().await.unwrap();
    assert_eq!(
        (
            header.bytes.as_deref(),
            header.scored_until,
            header.parts.len()
        ),
        (Some(&b"header"[..]), Some(later), 0)
    );
    let scopes = [
        Scope::Org,
        "111111111111".parse().unwrap(),
        "222222222222".parse().unwrap(),
    ];
    assert_eq!(
        store.activity_detector_scopes(&scopes).await.unwrap(),
        [
            ("111111111111".to_string(), b"one".to_vec()),
            ("org".to_string(), b"new".to_vec())
        ],
        "the saved ones, in name order; a scope never saved has none"
    );
    assert!(store
        .activity_detector_scopes(&[])
        .await
        .unwrap()
        .is_empty());
    let alarms = store.anomalies(None, None, true).await.unwrap();
    assert_eq!(alarms, vec![anomaly]);
    let counts = store
        .minute_counts(ts("2024-03-01T10:00:00Z"), until)
        .await
        .unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].total, 1);
    assert_eq!(
        counts[0].by_principal_api[&(
            "alice".to_owned(),
            "ec2.amazonaws.com:RunInstances".to_owned()
        )],
        1
    );
}

async fn retention_counts_back_from_the_newest_event(store: Store) {
    let events = [
        ev(
            "old",
            "2024-01-01T10:00:10Z",
            "111111111111",
            "alice",
            "RunInstances",
        ),
        ev(
            "new",
            "2024-03-01T10:00:10Z",
            "111111111111",
            "alice",
            "RunInstances",
        ),
    ];
    store.store_activity(&[file("f", &events)]).await.unwrap();
    let pruned = store.prune_activity(&Retention::default()).await.unwrap();
    assert_eq!(pruned.events, 1, "the January event is older than 7 days");
    assert!(pruned.rollups > 0, "its minute rows are older than 48 h");
    // The day tier still has both; a range over January is read from it.
    let all = store
        .activity_counts(None, None, &Retention::default())
        .await
        .unwrap();
    assert_eq!((all.tier, all.events), (Some(Tier::Day), 2));
    let january = store
        .activity_counts(
            Some(ts("2024-01-01T00:00:00Z")),
            Some(ts("2024-01-02T00:00:00Z")),
            &Retention::default(),
        )
        .await
        .unwrap();
    assert_eq!((january.tier, january.events), (Some(Tier::Hour), 1));
    let recent = store
        .activity_counts(
            Some(ts("2024-03-01T09:00:00Z")),
            None,
            &Retention::default(),
        )
        .await
        .unwrap();
    assert_eq!((recent.tier, recent.events), (Some(Tier::Minute), 1));
}

async fn minute_counts_and_totals_hold_every_writers_events(store: Store) {
    let events = mixed_events();
    store_as_two_writers(&store, &events, 25).await;
    let (from, until) = (ts("2024-03-01T10:00:00Z"), ts("2024-03-01T10:02:00Z"));
    let counts = store.minute_counts(from, until).await.unwrap();
    // Two accounts in each minute, and the account-less event ('(none)') in the first.
    assert_eq!(counts.len(), 5);
    assert_eq!(counts[0].scope, Scope::NoAccount);
    assert_eq!(counts.iter().map(|c| c.total).sum::<u64>(), 40);
    for c in &counts {
        assert_eq!(c.by_principal.values().sum::<u64>(), c.total);
        assert_eq!(c.by_principal_api.values().sum::<u64>(), c.total);
        assert_eq!(c.by_source_ip.values().sum::<u64>(), c.total);
        assert_eq!(c.by_call.values().sum::<u64>(), c.total);
    }
    // The refused calls (AccessDenied, Client.UnauthorizedOperation; not throttling) and the
    // failed console sign-ins (by response, error message or error code; not the success).
    let sum = |f: &dyn Fn(&WindowCounts) -> u64| counts.iter().map(f).sum::<u64>();
    assert_eq!(sum(&|c| c.denied.values().sum()), 9);
    assert_eq!(sum(&|c| c.failed_sign_ins.values().sum()), 6);
    let no_region = |c: &WindowCounts| c.by_call.keys().filter(|k| k.2 == "(none)").count() as u64;
    assert_eq!(sum(&no_region), 1);
    // The minute totals are the windows' totals, keyed (start, scope) in the same order.
    let totals = store.minute_totals(from, until).await.unwrap();
    let expected: Vec<_> = counts
        .iter()
        .map(|c| ((c.start.get().unix_timestamp(), c.scope), c.total))
        .collect();
    assert_eq!(totals.into_iter().collect::<Vec<_>>(), expected);
}

/// Rows of one tier: (window start, metric, item) → count.
async fn tier_rows(store: &Store, tier: &str) -> BTreeMap<(i64, String, String), i64> {
    store
        .raw_query_text(
            "SELECT CAST(window_start AS TEXT), metric, item, CAST(count AS TEXT) \
             FROM activity_rollups WHERE tier = ?",
            &[tier],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let n = |i: usize| r[i].as_deref().unwrap().parse::<i64>().unwrap();
            ((n(0), r[1].clone().unwrap(), r[2].clone().unwrap()), n(3))
        })
        .collect()
}

async fn hours_leaving_their_retention_are_folded_into_their_days(store: Store) {
    let h = |n: u64| Some(std::time::Duration::from_secs(n * 3600));
    let retention = Retention {
        minutes: h(1),
        hours: h(24),
        days: None,
        events: h(1),
    };
    let january = [
        ev(
            "a",
            "2024-01-01T10:00:10Z",
            "111111111111",
            "alice",
            "RunInstances",
        ),
        ev(
            "b",
            "2024-01-01T11:30:00Z",
            "111111111111",
            "alice",
            "RunInstances",
        ),
        ev(
            "c",
            "2024-01-01T23:59:59Z",
            "111111111111",
            "bob",
            "StopInstances",
        ),
    ];
    let march = [ev(
        "d",
        "2024-03-01T10:00:10Z",
        "111111111111",
        "bob",
        "RunInstances",
    )];
    store
        .store_activity(&[file("jan", &january)])
        .await
        .unwrap();
    store.store_activity(&[file("mar", &march)]).await.unwrap();
    // Stored: minute and hour rows; days are read from the hours.
    assert!(tier_rows(&store, "day").await.is_empty());
    let jan_1 = (
        Some(ts("2024-01-01T00:00:00Z")),
        Some(ts("2024-01-02T00:00:00Z")),
    );
    let read = |store: Store| async move {
        store
            .activity_counts(jan_1.0, jan_1.1, &retention)
            .await
            .unwrap()
    };
    let before = read(store.clone()).await;
    assert_eq!((before.tier, before.events), (Some(Tier::Day), 3));

    store.prune_activity(&retention).await.unwrap();
    let day = 1_704_067_200; // 2024-01-01T00:00:00Z
    let days = tier_rows(&store, "day").await;
    assert_eq!(days[&(day, "total".to_owned(), String::new())], 3);
    assert_eq!(days[&(day, "principal".to_owned(), "alice".to_owned())], 2);
    assert!(
        tier_rows(&store, "hour").await.keys().all(|k| k.0 > day),
        "January's hours left the hour tier"
    );
    assert_eq!(
        read(store.clone()).await,
        before,
        "the same counts, from the day rows"
    );

    // A late January event lands in an hour row again, is read with the day, and a second
    // prune adds it to the day row.
    let late = [ev(
        "e",
        "2024-01-01T12:00:00Z",
        "111111111111",
        "carol",
        "RunInstances",
    )];
    store.store_activity(&[file("late", &late)]).await.unwrap();
    assert_eq!(read(store.clone()).await.events, 4);
    store.prune_activity(&retention).await.unwrap();
    let days = tier_rows(&store, "day").await;
    assert_eq!(days[&(day, "total".to_owned(), String::new())], 4);
    assert_eq!(read(store.clone()).await.events, 4);
    let top = store
        .raw_query_text(
            "SELECT item, CAST(count AS TEXT) FROM view_activity_top10 WHERE tier = 'day' \
             AND window_start = CAST(? AS BIGINT) AND account = '*' AND metric = 'principal' \
             ORDER BY rank",
            &[&day.to_string()],
        )
        .await
        .unwrap();
    assert_eq!(
        top,
        vec![
            vec![Some("alice".to_owned()), Some("2".to_owned())],
            vec![Some("bob".to_owned()), Some("1".to_owned())],
            vec![Some("carol".to_owned()), Some("1".to_owned())],
        ],
        "the folded rows and the late hour together"
    );
}

async fn the_scorer_saving_while_batches_are_stored_waits_instead_of_failing(store: Store) {
    // The writer's transactions read the stream state before they write; the scorer's save
    // commits in between. Neither may fail for it.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for b in 0..30 {
                let events: Vec<ActivityEvent> = (0..200)
                    .map(|i| {
                        ev(
                            &format!("b{b}-{i}"),
                            &format!("2024-03-01T10:{:02}:{:02}Z", b, i % 60),
                            "111111111111",
                            "alice",
                            "RunInstances",
                        )
                    })
                    .collect();
                store.store_activity(&[file("f", &events)]).await.unwrap();
            }
        })
    };
    let mut saves = 0;
    while !writer.is_finished() {
        let state = store.activity_state().await.unwrap();
        let until = ts(&format!("2024-03-01T11:{:02}:00Z", saves % 60));
        let saved = store
            .save_scores(
                state.scored_until,
                until,
                detector(&[7; 1000], &[("org", &[7; 100_000])]),
                &[],
            )
            .await
            .unwrap();
        assert!(saved, "this is the only scorer");
        saves += 1;
    }
    writer.await.unwrap();
    assert!(saves > 1, "the saves ran while batches were stored");
    assert_eq!(
        store.activity_state().await.unwrap().max_event_time,
        Some(ts("2024-03-01T10:29:59Z"))
    );
}

/// Issue 17: a file reread after a crash (its first chunk stored, then everything again) and
/// reread once more in full keeps its events in the ledger once, and the events its earlier
/// reads stored are rereads, not duplicates; a true second delivery still is one.
async fn a_reread_file_counts_its_events_once_and_no_duplicates(store: Store) {
    let events: Vec<ActivityEvent> = (0..6)
        .map(|i| {
            ev(
                &format!("e{i}"),
                "2024-03-01T10:00:00Z",
                "111111111111",
                "alice",
                "A",
            )
        })
        .collect();
    let chunk = |from: usize, to: usize, complete| ActivityFile {
        offset: Some(from as u64),
        complete,
        size: 600,
        ..file("big.json", &events[from..to])
    };
    // A crash after the first chunk, then the whole file, then a full reread.
    store.store_activity(&[chunk(0, 3, false)]).await.unwrap();
    let second = store
        .store_activity(&[chunk(0, 3, false), chunk(3, 6, true)])
        .await
        .unwrap();
    assert_eq!(
        (second.new_events, second.duplicates, second.rereads),
        (3, 0, 3)
    );
    let third = store.store_activity(&[chunk(0, 6, true)]).await.unwrap();
    assert_eq!(
        (third.new_events, third.duplicates, third.rereads),
        (0, 0, 6)
    );
    // Another file delivering two of the same events: duplicates.
    let other = store
        .store_activity(&[file("other.json", &events[..2])])
        .await
        .unwrap();
    assert_eq!(
        (other.new_events, other.duplicates, other.rereads),
        (0, 2, 0)
    );
    let ledger = store
        .raw_query_text(
            "SELECT path, CAST(events AS TEXT), CAST(new_events AS TEXT) FROM activity_files \
             ORDER BY path",
            &[],
        )
        .await
        .unwrap();
    let row = |p: &str, e: &str, n: &str| {
        vec![Some(p.to_owned()), Some(e.to_owned()), Some(n.to_owned())]
    };
    assert_eq!(
        ledger,
        [row("big.json", "6", "6"), row("other.json", "2", "0")]
    );
    assert_eq!(store.activity_state().await.unwrap().duplicate_events, 2);
}
