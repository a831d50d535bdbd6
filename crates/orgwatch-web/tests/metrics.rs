//! `/metrics` on its own router, on both backends: a scrape parses as the Prometheus text
//! format, counts exactly the requests the test sent by route template and status, and its
//! store gauges (files, events, lag, alarms by kind, scored until) are what the test stored.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::cookie;
use orgwatch_model::activity::epoch_ms;
use orgwatch_store::activity::{AlarmKind, Anomaly, DetectorToSave, Explanation};
use orgwatch_store::auth::{NewUser, Role};
use orgwatch_store::{Access, Store};
use orgwatch_test_support::on_both_backends;
use orgwatch_test_support::{a360, store as fixtures};
use orgwatch_web::{AppState, WebConfig, METRICS_PATH, UNMATCHED};
use std::collections::BTreeMap;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough password";

/// One sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the Prometheus text format (0.0.4) strictly enough to fail on anything else: each
/// line is a `# HELP`, a `# TYPE` with a known type (before the family's samples, once per
/// family), or `name{label="value",…} value` whose name belongs to the last TYPE line.
fn parse(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                typed.insert(name.to_owned(), kind.to_owned()).is_none(),
                "one TYPE per family: {line}"
            );
            current = Some((name.to_owned(), kind.to_owned()));
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value of {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => (name.to_owned(), labels(rest.strip_suffix('}').unwrap())),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{name}"
        );
        let (family, kind) = current.as_ref().expect("a TYPE line before samples");
        let allowed: Vec<String> = match kind.as_str() {
            "histogram" => ["_bucket", "_sum", "_count"]
                .iter()
                .map(|s| format!("{family}{s}"))
                .collect(),
            _ => vec![family.clone()],
        };
        assert!(allowed.contains(&name), "{name} under TYPE {family} {kind}");
        out.push((name, labels, value));
    }
    out
}

/// `a="x",b="y"` with the format's escapes (`\\`, `\"`, `\n`).
fn labels(mut s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    while !s.is_empty() {
        let (key, rest) = s.split_once("=\"").unwrap();
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().unwrap() {
                (_, '\\') => match chars.next().unwrap().1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        assert!(
            out.insert(key.to_owned(), value).is_none(),
            "label {key} twice"
        );
        s = rest[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&rest[end + 1..]);
    }
    out
}

/// The value of the one sample `name` with exactly these labels.
fn value(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = want
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let found: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| n == name && *l == want)
        .map(|s| s.2)
        .collect();
    assert!(found.len() <= 1, "{name} {want:?} twice");
    found.first().copied()
}

struct App {
    router: Router,
    metrics: Router,
}

impl App {
    async fn new(store: Store, now: i64) -> App {
        store
            .add_user(&NewUser {
                name: "admin",
                password_hash: &orgwatch_web::password::hash(PASSWORD).unwrap(),
                role: Role::Admin,
                access: &Access::All,
                now,
            })
            .await
            .unwrap()
            .unwrap();
        let state = AppState::new(
            store,
            WebConfig::default(),
            std::sync::Arc::new(move || now),
        );
        App {
            router: orgwatch_web::router(state.clone()),
            metrics: orgwatch_web::metrics_router(state),
        }
    }

    async fn send(&self, req: Request<Body>) -> axum::response::Response {
        self.router.clone().oneshot(req).await.unwrap()
    }

    async fn get(&self, path: &str, cookie: &str) -> StatusCode {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        self.send(req).await.status()
    }

    /// Logs in (a GET and a POST of /login); the session cookie.
    async fn login(&self) -> String {
        let form = self
            .send(Request::get("/login").body(Body::empty()).unwrap())
            .await;
        let token = cookie(&form, "orgwatch_login_csrf").unwrap();
        let res = self
            .send(
                Request::post("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, format!("orgwatch_login_csrf={token}"))
                    .body(Body::from(format!(
                        "csrf_token={token}&username=admin&password={}",
                        PASSWORD.replace(' ', "+")
                    )))
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        format!(
            "orgwatch_session={}",
            cookie(&res, "orgwatch_session").unwrap()
        )
    }

    /// A scrape: status, content type and body.
    async fn scrape(&self) -> (StatusCode, String, String) {
        let res = self
            .metrics
            .clone()
            .oneshot(Request::get(METRICS_PATH).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let kind = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(res.into_body(), 1 << 24)
            .await
            .unwrap();
        (status, kind, String::from_utf8(body.to_vec()).unwrap())
    }
}

fn alarm(minute: u32, scope: &str, kind: Option<AlarmKind>) -> Anomaly {
    Anomaly {
        time: orgwatch_model::Timestamp::parse(&format!("2024-03-01T10:{minute:02}:00Z")).unwrap(),
        scope: scope.parse().unwrap(),
        series: "total".parse().unwrap(),
        score: 4.5,
        contributor: "principal:user1".to_owned(),
        alarm: kind.is_some(),
        explanation: kind.map(|kind| Explanation {
            kind,
            observed: 40,
            expected: 2.5,
            minutes: 1,
            principal: Some("user1".to_owned()),
            api: None,
            source_ip: None,
            region: None,
        }),
    }
}

async fn a_scrape_counts_requests_by_route_and_reads_the_store(store: Store) {
    // The store: one snapshot file, a CloudTrail file read and one failed, scores with three
    // alarms of two kinds (and a score that is no alarm).
    fixtures::load_new(&store, a360::DAILY_PATH, a360::DAILY).await;
    let events = fixtures::mixed_events();
    store
        .store_activity(&[fixtures::activity_file("AWSLogs/a.json", &events)])
        .await
        .unwrap();
    // The same events again under another name: duplicates, not stored again.
    store
        .store_activity(&[fixtures::activity_file("AWSLogs/again.json", &events)])
        .await
        .unwrap();
    store
        .activity_file_failed("AWSLogs/broken.json.gz", 99, "not gzip")
        .await
        .unwrap();
    let scored_until = orgwatch_model::Timestamp::parse("2024-03-01T10:05:00Z").unwrap();
    let scores = [
        alarm(1, "111111111111", Some(AlarmKind::Count)),
        alarm(2, "111111111111", Some(AlarmKind::Count)),
        alarm(2, "org", Some(AlarmKind::Forest)),
        alarm(3, "org", None),
    ];
    let detector = DetectorToSave {
        header: b"h".to_vec(),
        parts: Vec::<(String, Vec<u8>)>::new().into_iter(),
    };
    assert!(store
        .save_scores(None, scored_until, detector, &scores)
        .await
        .unwrap());
    // The clock: an hour and a half after the newest event.
    let newest_ms = events.iter().map(|e| epoch_ms(e.event_time)).max().unwrap();
    let now = newest_ms.div_euclid(1000) + 5400;
    let app = App::new(store, now).await;

    // Requests: 3 overviews with a session, 2 without, an unknown path, a CSV whose query
    // holds a would-be secret.
    let session = app.login().await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/overview", &session).await, StatusCode::OK);
    }
    for _ in 0..2 {
        assert_eq!(app.get("/api/overview", "").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.get("/no/such/page-s3cr3t", &session).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/activity.csv?table=calls&token=s3cr3t", &session)
            .await,
        StatusCode::OK
    );
    // `/metrics` is not a route of the app (which needs a session for all but the public
    // paths): it answers on its own router only.
    assert_eq!(app.get(METRICS_PATH, &session).await, StatusCode::NOT_FOUND);

    let (status, kind, body) = app.scrape().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(kind, "text/plain; version=0.0.4; charset=utf-8");
    let samples = parse(&body);
    let requests = |route: &str, method: &str, status: &str| {
        value(
            &samples,
            "orgwatch_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("/api/overview", "GET", "200"), Some(3.0));
    assert_eq!(requests("/api/overview", "GET", "401"), Some(2.0));
    assert_eq!(requests("/login", "GET", "200"), Some(1.0));
    assert_eq!(requests("/login", "POST", "303"), Some(1.0));
    assert_eq!(requests("/api/activity.csv", "GET", "200"), Some(1.0));
    assert_eq!(requests(UNMATCHED, "GET", "404"), Some(2.0), "both misses");
    let total: f64 = samples
        .iter()
        .filter(|s| s.0 == "orgwatch_http_requests_total")
        .map(|s| s.2)
        .sum();
    assert_eq!(total, 10.0, "every request once: {body}");
    // The latency histogram of the overview: 5 requests, cumulative buckets up to +Inf.
    let overview = [("method", "GET"), ("route", "/api/overview")];
    let name = "orgwatch_http_request_duration_seconds";
    assert_eq!(
        value(&samples, &format!("{name}_count"), &overview),
        Some(5.0)
    );
    let sum = value(&samples, &format!("{name}_sum"), &overview).unwrap();
    assert!(sum > 0.0 && sum < 60.0, "{sum}");
    let buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|(n, l, _)| {
            *n == format!("{name}_bucket")
                && l.get("route").map(String::as_str) == Some("/api/overview")
        })
        .map(|(_, l, v)| {
            let le = match l["le"].as_str() {
                "+Inf" => f64::INFINITY,
                le => le.parse().unwrap(),
            };
            (le, *v)
        })
        .collect();
    assert_eq!(buckets.last(), Some(&(f64::INFINITY, 5.0)));
    assert!(
        buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "{buckets:?}"
    );
    // Labels hold route templates, never a raw path, a query or a session.
    let secret = session.split_once('=').unwrap().1;
    for leak in ["s3cr3t", "token", secret] {
        assert!(!body.contains(leak), "{leak} in the scrape");
    }

    // The store's figures are what the test stored.
    let gauge = |name: &str, labels: &[(&str, &str)]| value(&samples, name, labels);
    assert_eq!(gauge("orgwatch_snapshot_files_loaded", &[]), Some(1.0));
    assert_eq!(
        gauge("orgwatch_activity_files", &[("outcome", "read")]),
        Some(2.0)
    );
    assert_eq!(
        gauge("orgwatch_activity_files", &[("outcome", "failed")]),
        Some(1.0)
    );
    assert_eq!(
        gauge("orgwatch_activity_events_stored_total", &[]),
        Some(events.len() as f64),
        "each event once"
    );
    let newest = newest_ms as f64 / 1000.0;
    assert_eq!(
        gauge("orgwatch_activity_newest_event_timestamp_seconds", &[]),
        Some(newest)
    );
    assert_eq!(
        gauge("orgwatch_activity_lag_seconds", &[]),
        Some(now as f64 - newest)
    );
    assert_eq!(
        gauge("orgwatch_activity_scored_until_timestamp_seconds", &[]),
        Some(scored_until.get().unix_timestamp() as f64)
    );
    assert_eq!(
        gauge("orgwatch_activity_alarms_stored", &[("kind", "count")]),
        Some(2.0)
    );
    assert_eq!(
        gauge("orgwatch_activity_alarms_stored", &[("kind", "forest")]),
        Some(1.0)
    );
    let kinds = samples
        .iter()
        .filter(|s| s.0 == "orgwatch_activity_alarms_stored")
        .count();
    assert_eq!(kinds, 2, "a kind with no alarm has no series");

    // A scrape is not a request of the app: the counts did not move.
    let (_, _, again) = app.scrape().await;
    assert_eq!(
        value(
            &parse(&again),
            "orgwatch_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api/overview"),
                ("status", "200")
            ]
        ),
        Some(3.0)
    );
}

async fn an_empty_store_has_counts_of_zero_and_no_times(store: Store) {
    let app = App::new(store, 1_800_000_000).await;
    let (status, _, body) = app.scrape().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let samples = parse(&body);
    for name in [
        "orgwatch_snapshot_files_loaded",
        "orgwatch_activity_events_stored_total",
    ] {
        assert_eq!(value(&samples, name, &[]), Some(0.0), "{name}");
    }
    for name in [
        "orgwatch_activity_newest_event_timestamp_seconds",
        "orgwatch_activity_lag_seconds",
        "orgwatch_activity_scored_until_timestamp_seconds",
        "orgwatch_activity_alarms_stored",
        "orgwatch_http_requests_total",
    ] {
        assert!(
            samples.iter().all(|s| s.0 != name),
            "no {name} before there is one: {body}"
        );
    }
}

async fn a_store_that_fails_is_a_500_that_says_why(store: Store) {
    let app = App::new(store.clone(), 1_800_000_000).await;
    store.close().await;
    let (status, _, body) = app.scrape().await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.starts_with("cannot read the store: "), "{body}");
    // The metrics router answers nothing else.
    let other = app
        .metrics
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

on_both_backends!(store:
    a_scrape_counts_requests_by_route_and_reads_the_store,
    an_empty_store_has_counts_of_zero_and_no_times,
    a_store_that_fails_is_a_500_that_says_why,
    posture_answers_are_shared_by_a_views_requests_until_the_data_changes,
    activity_answers_are_shared_by_a_views_requests_until_events_are_stored,
);

impl App {
    /// The status and body of `path` for `cookie`.
    async fn body(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let res = self.send(req).await;
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 1 << 26)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// Shared requests and computations of `kind`, as scraped.
    async fn shared(&self, kind: &str) -> (f64, f64) {
        let samples = parse(&self.scrape().await.2);
        let get = |name: &str| value(&samples, name, &[("kind", kind)]).unwrap();
        (
            get("orgwatch_web_shared_requests_total"),
            get("orgwatch_web_shared_computations_total"),
        )
    }
}

/// The account ids of `/api/overview`.
fn overview_accounts(body: &str) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn posture_answers_are_shared_by_a_views_requests_until_the_data_changes(store: Store) {
    fixtures::load_new(&store, a360::DAILY_PATH, a360::DAILY).await;
    let app = App::new(store.clone(), 1_800_000_000).await;
    let session = app.login().await;

    // Eight requests at once: one computation, one answer.
    let answers =
        futures_util::future::join_all((0..8).map(|_| app.body("/api/overview", &session))).await;
    assert!(answers.iter().all(|a| a == &answers[0]), "one answer");
    assert_eq!(answers[0].0, StatusCode::OK);
    assert_eq!(overview_accounts(&answers[0].1), ["210987654321"]);
    assert_eq!(app.shared("posture").await, (8.0, 1.0));
    // Another route, or another query of the same route, is another view.
    assert_eq!(app.body("/cost", &session).await.0, StatusCode::OK);
    assert_eq!(
        app.body("/api/overview?to=2026-11-24", &session).await.0,
        StatusCode::OK
    );
    assert_eq!(app.shared("posture").await, (10.0, 3.0));

    // A file loaded by anyone: the next request computes again and sees it.
    let other = String::from_utf8(a360::DAILY.to_vec())
        .unwrap()
        .replace("210987654321", "333333333333");
    fixtures::load_new(
        &store,
        "333333333333/us-east-1/2026-11-24_DAILY.json",
        other.as_bytes(),
    )
    .await;
    let (status, body) = app.body("/api/overview", &session).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(overview_accounts(&body), ["210987654321", "333333333333"]);
    assert_eq!(app.shared("posture").await, (11.0, 4.0));
    // A failed file recorded changes the data too (the Ingest and empty states show it).
    store
        .record_failure("data/broken.json", None, "not JSON")
        .await
        .unwrap();
    app.body("/api/overview", &session).await;
    assert_eq!(app.shared("posture").await, (12.0, 5.0));

    // A page shows its session's CSRF token: another session of the same user has its own
    // answer, never the first one's token.
    let (first, second) = (app.login().await, app.login().await);
    let token = |page: &str| {
        let at = page.find("name=\"csrf_token\" value=\"").expect("a token") + 25;
        page[at..at + 64].to_owned()
    };
    let (a, b) = (
        app.body("/", &first).await.1,
        app.body("/", &second).await.1,
    );
    assert_ne!(token(&a), token(&b));
    assert_eq!(app.body("/", &first).await.1, a);
    assert_eq!(app.shared("posture").await, (15.0, 7.0));
    // Nothing of it in the Activity reports' figures.
    assert_eq!(app.shared("activity").await, (0.0, 0.0));
}

/// The calls counted by `/api/activity`.
fn activity_calls(body: &str) -> u64 {
    let doc: serde_json::Value = serde_json::from_str(body).unwrap();
    doc["totals"]["events"].as_u64().unwrap()
}

async fn activity_answers_are_shared_by_a_views_requests_until_events_are_stored(store: Store) {
    let mut events = fixtures::mixed_events();
    let rest = events.split_off(25);
    store
        .store_activity(&[fixtures::activity_file("first", &events)])
        .await
        .unwrap();
    let app = App::new(store.clone(), 1_800_000_000).await;
    let session = app.login().await;

    // Eight requests at once: one answer made of one report.
    let answers =
        futures_util::future::join_all((0..8).map(|_| app.body("/api/activity", &session))).await;
    assert!(answers.iter().all(|a| a == &answers[0]), "one answer");
    assert_eq!(answers[0].0, StatusCode::OK);
    assert_eq!(activity_calls(&answers[0].1), 25);
    assert_eq!(app.shared("activity_answer").await, (8.0, 1.0));
    assert_eq!(app.shared("activity").await, (1.0, 1.0));
    // The page is another answer of the same report; the CSV is not kept.
    assert_eq!(app.body("/activity", &session).await.0, StatusCode::OK);
    assert_eq!(app.body("/activity", &session).await.0, StatusCode::OK);
    let csv = app.body("/api/activity.csv?table=apis", &session).await;
    assert_eq!(csv.0, StatusCode::OK);
    assert_eq!(app.shared("activity_answer").await, (10.0, 2.0));
    assert_eq!(app.shared("activity").await, (3.0, 1.0));

    // Events stored by anyone: the next request makes a new answer that counts them.
    store
        .store_activity(&[fixtures::activity_file("rest", &rest)])
        .await
        .unwrap();
    let (status, body) = app.body("/api/activity", &session).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(activity_calls(&body), 40);
    assert_eq!(app.shared("activity_answer").await, (11.0, 3.0));
    assert_eq!(app.shared("activity").await, (4.0, 2.0));
    // Nothing of it in the posture answers' figures.
    assert_eq!(app.shared("posture").await, (0.0, 0.0));
}

#[test]
fn the_parser_refuses_what_is_not_the_format() {
    let good = "# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"q\\\"uote\"} 2\n";
    assert_eq!(
        parse(good),
        vec![(
            "x_total".to_owned(),
            BTreeMap::from([("a".to_owned(), "q\"uote".to_owned())]),
            2.0
        )]
    );
    for bad in [
        "x_total 1\n",                           // no TYPE
        "# TYPE x counter\ny 1\n",               // another family's sample
        "# TYPE x counter\nx one\n",             // not a number
        "# TYPE x gauge\nx 1",                   // no final newline
        "# TYPE x gauge\n# TYPE x gauge\nx 1\n", // TYPE twice
        "# TYPE x gauge\n# EOF\n",               // OpenMetrics, not 0.0.4
    ] {
        assert!(
            std::panic::catch_unwind(|| parse(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
}
