//! The Activity page, its API, CSV, drill-down and live stream through the router, on both
//! backends: figures against a count of the events the test stored, a viewer limited to one
//! account sees no row of another anywhere, and the in-process signal wakes the stream.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::cookie;
use futures_util::StreamExt;
use orgwatch_model::ActivityEvent;
use orgwatch_store::activity::{ActivityFile, AlarmKind, Anomaly, DetectorToSave, Explanation};
use orgwatch_store::auth::{NewUser, Role};
use orgwatch_store::{Access, Limits, Store};
use orgwatch_test_support::on_both_backends;
use orgwatch_web::{AppState, WebConfig};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough password";
const A: &str = "111111111111";
const B: &str = "222222222222";

/// One generated call, as the test counts it (independently of the store).
#[derive(Debug, Clone)]
struct Call {
    account: &'static str,
    service: &'static str,
    api: &'static str,
    principal: String,
    ip: String,
    error: Option<&'static str>,
    sign_in: Option<bool>,
    minute: i64,
}

const SERVICES: [(&str, &str); 4] = [
    ("ec2.amazonaws.com", "RunInstances"),
    ("s3.amazonaws.com", "GetObject"),
    ("iam.amazonaws.com", "ListUsers"),
    ("ec2.amazonaws.com", "DescribeInstances"),
];

/// `n` calls from `start` (seconds after 2024-03-01T10:00Z), one every 7 s: two thirds of
/// account A, one third of B, each account with its own principals and addresses (so that
/// a leak shows by name), some refused, some console sign-ins (some failed).
fn calls(n: usize, start: usize, seed: usize) -> Vec<(Call, Value)> {
    (0..n)
        .map(|j| {
            let i = j + seed;
            let secs = start + j * 7;
            let (account, tag, net) = if i.is_multiple_of(3) {
                (B, "bob", "203.0.113")
            } else {
                (A, "alice", "198.51.100")
            };
            let sign_in = i.is_multiple_of(13).then_some(i.is_multiple_of(2));
            let (service, api) = match sign_in {
                Some(_) => ("signin.amazonaws.com", "ConsoleLogin"),
                None => SERVICES[i % SERVICES.len()],
            };
            let error = (sign_in.is_none() && i.is_multiple_of(11)).then_some(if i.is_multiple_of(2) {
                "AccessDenied"
            } else {
                "Client.UnauthorizedOperation"
            });
            let principal = format!("{tag}{}", i % 4);
            let ip = format!("{net}.{}", i % 5 + 1);
            let mut rec = json!({
                "eventVersion": "1.08",
                "eventID": format!("ev-{seed}-{j:05}"),
                "eventTime": format!("2024-03-01T{:02}:{:02}:{:02}Z", 10 + secs / 3600, secs / 60 % 60, secs % 60),
                "recipientAccountId": account,
                "awsRegion": "eu-west-1",
                "eventSource": service,
                "eventName": api,
                "sourceIPAddress": ip,
                "userIdentity": {"type": "IAMUser", "userName": principal, "accountId": account},
                "eventType": if sign_in.is_some() { "AwsConsoleSignIn" } else { "AwsApiCall" },
            });
            if let Some(code) = error {
                rec["errorCode"] = json!(code);
            }
            if let Some(ok) = sign_in {
                rec["responseElements"] =
                    json!({"ConsoleLogin": if ok { "Success" } else { "Failure" }});
            }
            let call = Call {
                account,
                service,
                api,
                principal,
                ip,
                error,
                sign_in,
                minute: (secs / 60) as i64,
            };
            (call, rec)
        })
        .collect()
}

async fn store_calls(store: &Store, path: &str, calls: &[(Call, Value)]) {
    let events: Vec<ActivityEvent> = calls
        .iter()
        .map(|(_, r)| ActivityEvent::from_cloudtrail(r.as_object().unwrap()).unwrap())
        .collect();
    let none = BTreeMap::new();
    let file = ActivityFile {
        path,
        size: 1,
        events: &events,
        undecodable: 0,
        skipped: &none,
        complete: true,
        offset: Some(0),
    };
    store.store_activity(&[file]).await.unwrap();
}

/// The top 10 of `key` over `calls`, largest first, ties by name (as the page orders them).
fn top(calls: &[&Call], key: impl Fn(&Call) -> Option<String>, all: bool) -> Vec<(String, u64)> {
    let mut m: BTreeMap<String, u64> = BTreeMap::new();
    for c in calls {
        if let Some(k) = key(c) {
            *m.entry(k).or_default() += 1;
        }
    }
    let mut v: Vec<(String, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if !all {
        v.truncate(10);
    }
    v
}

fn chart(doc: &Value, name: &str) -> Vec<(String, u64)> {
    doc["charts"][name]
        .as_array()
        .unwrap_or_else(|| panic!("chart {name}"))
        .iter()
        .map(|i| {
            (
                i["item"].as_str().unwrap().to_owned(),
                i["calls"].as_u64().unwrap(),
            )
        })
        .collect()
}

struct App {
    router: Router,
    state: AppState,
}

impl App {
    async fn new(store: Store) -> App {
        for (name, role, access) in [
            ("admin", Role::Admin, Access::All),
            (
                "viewer-a",
                Role::Viewer,
                Access::Limited(Limits {
                    accounts: vec![orgwatch_model::AccountId::parse(A).unwrap()],
                    ..Limits::default()
                }),
            ),
        ] {
            store
                .add_user(&NewUser {
                    name,
                    password_hash: &orgwatch_web::password::hash(PASSWORD).unwrap(),
                    role,
                    access: &access,
                    now: 1_800_000_000,
                })
                .await
                .unwrap()
                .unwrap();
        }
        let state = AppState::new(
            store,
            WebConfig::default(),
            std::sync::Arc::new(|| 1_800_000_000),
        );
        App {
            router: orgwatch_web::router(state.clone()),
            state,
        }
    }

    async fn login(&self, user: &str) -> String {
        let form = self.send(Request::get("/login"), "").await;
        let token = cookie(&form, "orgwatch_login_csrf").unwrap();
        let res = self
            .router
            .clone()
            .oneshot(
                Request::post("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, format!("orgwatch_login_csrf={token}"))
                    .body(Body::from(format!(
                        "csrf_token={token}&username={user}&password={}",
                        PASSWORD.replace(' ', "+")
                    )))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        format!(
            "orgwatch_session={}",
            cookie(&res, "orgwatch_session").unwrap()
        )
    }

    async fn send(
        &self,
        req: axum::http::request::Builder,
        cookie: &str,
    ) -> axum::response::Response {
        self.router
            .clone()
            .oneshot(
                req.header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
    }

    async fn text(&self, path: &str, cookie: &str) -> String {
        let res = self.send(Request::get(path), cookie).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    async fn json(&self, path: &str, cookie: &str) -> Value {
        serde_json::from_str(&self.text(path, cookie).await).unwrap()
    }

    /// Opens the stream; its messages as they come.
    async fn stream(&self, path: &str, cookie: &str) -> Messages {
        let res = self.send(Request::get(path), cookie).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
        Messages {
            body: Box::pin(res.into_body().into_data_stream()),
            buf: String::new(),
        }
    }
}

type BodyStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Send>,
>;

/// Server-sent events read off a response body.
struct Messages {
    body: BodyStream,
    buf: String,
}

impl Messages {
    /// The data of the next `summary` message, within `wait`.
    async fn next_summary(&mut self, wait: Duration) -> Value {
        tokio::time::timeout(wait, async {
            loop {
                while let Some(end) = self.buf.find("\n\n") {
                    let message: String = self.buf.drain(..end + 2).collect();
                    if message.lines().any(|l| l == "event: summary") {
                        let data: String = message
                            .lines()
                            .filter_map(|l| l.strip_prefix("data: "))
                            .collect();
                        return serde_json::from_str(&data).unwrap();
                    }
                }
                let chunk = self.body.next().await.expect("the stream ended").unwrap();
                self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .expect("a summary in time")
    }
}

async fn the_activity_figures_are_the_stored_events(store: Store) {
    let stored = calls(300, 0, 0);
    store_calls(&store, "AWSLogs/one.json", &stored).await;
    let app = App::new(store).await;
    let admin = app.login("admin").await;
    let doc = app.json("/api/activity", &admin).await;
    let all: Vec<&Call> = stored.iter().map(|(c, _)| c).collect();
    assert_eq!(doc["totals"]["events"], 300);
    assert_eq!(
        doc["totals"]["errors"],
        all.iter().filter(|c| c.error.is_some()).count()
    );
    assert_eq!(doc["totals"]["accounts"], 2);
    assert_eq!(doc["range"]["bucket_seconds"], 60);
    assert_eq!(
        chart(&doc, "services"),
        top(&all, |c| Some(c.service.to_owned()), false)
    );
    assert_eq!(
        chart(&doc, "apis"),
        top(&all, |c| Some(format!("{}:{}", c.service, c.api)), false)
    );
    assert_eq!(
        chart(&doc, "principals"),
        top(&all, |c| Some(c.principal.clone()), false)
    );
    assert_eq!(
        chart(&doc, "source_ips"),
        top(&all, |c| Some(c.ip.clone()), false)
    );
    assert_eq!(
        chart(&doc, "error_codes"),
        top(&all, |c| c.error.map(str::to_owned), false)
    );
    assert_eq!(
        chart(&doc, "ec2_outcomes"),
        top(
            &all,
            |c| (c.service == "ec2.amazonaws.com").then(|| c.error.unwrap_or("success").to_owned()),
            true
        )
    );
    let sign_ins = top(
        &all,
        |c| {
            c.sign_in
                .map(|ok| if ok { "success" } else { "failure" }.to_owned())
        },
        true,
    );
    assert!(sign_ins.len() == 2, "{sign_ins:?}");
    assert_eq!(chart(&doc, "console_sign_ins"), sign_ins);
    // Calls per minute: each minute's count.
    let mut per_minute: BTreeMap<i64, u64> = BTreeMap::new();
    for c in &all {
        *per_minute.entry(c.minute).or_default() += 1;
    }
    let got: Vec<u64> = doc["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["calls"].as_u64().unwrap())
        .collect();
    assert_eq!(got, per_minute.values().copied().collect::<Vec<_>>());
    // The tables hold the same figures, and each CSV is its table.
    let services = doc["tables"]["services"]["rows"].as_array().unwrap();
    assert_eq!(services.len(), chart(&doc, "services").len());
    let csv = app.text("/api/activity.csv?table=services", &admin).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "item,calls");
    let (service, n) = &chart(&doc, "services")[0];
    assert_eq!(lines[1], format!("{service},{n}"));
    // A bar's drill-down lists exactly its events, a page at a time.
    let principal = &chart(&doc, "principals")[0];
    let url = doc["charts"]["principals"][0]["drill"].as_str().unwrap();
    assert!(url.starts_with("/activity/events?"), "{url}");
    let mut next = Some(format!("/api/{}&limit=7", &url[1..]));
    let mut listed = 0;
    let mut pages = 0;
    while let Some(path) = next {
        let page = app.json(&path, &admin).await;
        for e in page["events"].as_array().unwrap() {
            assert_eq!(e["principal"], principal.0.as_str());
            listed += 1;
        }
        pages += 1;
        next = page["next_url"].as_str().map(str::to_owned);
    }
    assert_eq!(listed, principal.1);
    assert_eq!(pages, principal.1.div_ceil(7));
    // And its page shows them.
    let html = app.text(url, &admin).await;
    assert!(
        html.contains(&format!("<dd>{}</dd>", principal.0)),
        "{html}"
    );
    // The page carries the same document, the charts and the stream.
    let page = app.text("/activity", &admin).await;
    for id in [
        "chart-calls",
        "chart-services",
        "chart-apis",
        "chart-principals",
        "chart-source_ips",
        "chart-ec2_outcomes",
        "chart-console_sign_ins",
        "chart-error_codes",
        "id=\"alarms\"",
        "data-stream=\"/api/activity/stream\"",
        "src=\"/static/app.js\"",
    ] {
        assert!(page.contains(id), "{id}");
    }
    assert!(!page.contains("<script>"), "no inline script");
}

async fn a_viewer_of_one_account_sees_no_row_of_another(store: Store) {
    let stored = calls(240, 0, 1);
    store_calls(&store, "AWSLogs/one.json", &stored).await;
    let app = App::new(store).await;
    let viewer = app.login("viewer-a").await;
    let mine: Vec<&Call> = stored
        .iter()
        .map(|(c, _)| c)
        .filter(|c| c.account == A)
        .collect();
    let leaks = |what: &str, text: &str| {
        for other in [B, "bob", "203.0.113"] {
            assert!(!text.contains(other), "{what} shows {other}");
        }
    };
    let doc = app.json("/api/activity", &viewer).await;
    assert_eq!(
        doc["totals"]["events"],
        mine.len(),
        "A's events, all of them"
    );
    assert_eq!(
        chart(&doc, "principals"),
        top(&mine, |c| Some(c.principal.clone()), false)
    );
    leaks("/api/activity", &doc.to_string());
    leaks("/activity", &app.text("/activity", &viewer).await);
    for t in doc["tables"].as_object().unwrap().keys() {
        let path = format!("/api/activity.csv?table={t}");
        leaks(&path, &app.text(&path, &viewer).await);
    }
    // A filter naming B adds nothing; a drill-down asking for B's principal finds nothing.
    let doc_b = app
        .json(&format!("/api/activity?account={B}"), &viewer)
        .await;
    assert_eq!(doc_b["totals"]["events"], 0);
    leaks("filter on B", &doc_b.to_string());
    for path in ["/api/activity/events?limit=1000", "/activity/events"] {
        leaks(path, &app.text(path, &viewer).await);
    }
    // (These echo the viewer's own query, so they are checked for rows, not names.)
    for query in [format!("account={B}"), "principal=bob1".to_owned()] {
        let api = app
            .json(&format!("/api/activity/events?{query}"), &viewer)
            .await;
        assert_eq!(api["events"], json!([]), "{query}");
        let page = app
            .text(&format!("/activity/events?{query}"), &viewer)
            .await;
        assert!(page.contains("id=\"events-empty\""), "{query}");
        assert!(!page.contains("203.0.113"), "{query}");
    }
    // The viewer's own principal is listed there, to show the check above can fail.
    let alice = app
        .json("/api/activity/events?principal=alice1", &viewer)
        .await;
    assert!(!alice["events"].as_array().unwrap().is_empty());
    let events = app.json("/api/activity/events?limit=1000", &viewer).await;
    assert_eq!(events["events"].as_array().unwrap().len(), mine.len());
    // The stream: computed with the viewer's access.
    let mut stream = app.stream("/api/activity/stream", &viewer).await;
    let first = stream.next_summary(Duration::from_secs(5)).await;
    assert_eq!(first["totals"]["events"], mine.len());
    leaks("the stream", &first.to_string());
}

async fn a_stored_signal_pushes_a_fresh_summary(store: Store) {
    let first = calls(120, 0, 2);
    store_calls(&store, "AWSLogs/one.json", &first).await;
    let app = App::new(store.clone()).await;
    let admin = app.login("admin").await;
    let mut stream = app.stream("/api/activity/stream", &admin).await;
    let now = stream.next_summary(Duration::from_secs(5)).await;
    assert_eq!(now["totals"]["events"], 120, "the current state first");
    // More events, 14 to 20 minutes in: the signal of this process wakes the stream.
    let more = calls(50, 14 * 60, 500);
    store_calls(&store, "AWSLogs/two.json", &more).await;
    let started = std::time::Instant::now();
    app.state.activity_signal().stored();
    let next = stream.next_summary(Duration::from_secs(5)).await;
    assert_eq!(next["totals"]["events"], 170);
    let b_more = more.iter().filter(|(c, _)| c.account == B).count()
        + first.iter().filter(|(c, _)| c.account == B).count();
    let b_chart: u64 = chart(&next, "principals")
        .iter()
        .filter(|(p, _)| p.starts_with("bob"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(b_chart as usize, b_more);
    eprintln!("in-process signal to summary: {:?}", started.elapsed());
    // A client that reconnects gets the current state at once.
    let mut again = app.stream("/api/activity/stream", &admin).await;
    assert_eq!(
        again.next_summary(Duration::from_secs(5)).await["totals"]["events"],
        170
    );
}

async fn an_empty_store_says_no_activity_is_stored_yet(store: Store) {
    let app = App::new(store.clone()).await;
    let admin = app.login("admin").await;
    let doc = app.json("/api/activity", &admin).await;
    assert!(doc["empty"]
        .as_str()
        .unwrap()
        .contains("No activity is stored yet"));
    assert_eq!(doc["range"], Value::Null);
    let page = app.text("/activity", &admin).await;
    assert!(page.contains("No activity is stored yet"), "{page}");
    // Stored, but out of the range asked: it says so.
    store_calls(&store, "AWSLogs/one.json", &calls(10, 0, 3)).await;
    let doc = app
        .json("/api/activity?from=2024-02-01&to=2024-02-02", &admin)
        .await;
    assert!(
        doc["empty"].as_str().unwrap().contains("in this range"),
        "{doc}"
    );
    for t in doc["tables"].as_object().unwrap().values() {
        assert_eq!(t["rows"], json!([]));
        assert!(!t["empty"].as_str().unwrap().is_empty());
    }
    // A range of days: that day, per minute; a longer one per hour.
    let day = app
        .json("/api/activity?from=2024-03-01&to=2024-03-01", &admin)
        .await;
    assert_eq!(day["totals"]["events"], 10);
    assert_eq!(day["range"]["since"], "2024-03-01T00:00:00Z");
    assert_eq!(day["range"]["until"], "2024-03-02T00:00:00Z");
    let week = app
        .json("/api/activity?from=2024-02-27&to=2024-03-04", &admin)
        .await;
    assert_eq!(week["range"]["bucket_seconds"], 3600);
    assert_eq!(week["calls"][0]["calls"], 10);
    // Bad input is a 400 that names it.
    for bad in [
        "/api/activity?sort=nope.x",
        "/api/activity.csv?table=nope",
        "/api/activity/events?since=soon",
        "/api/activity/stream?account=1",
    ] {
        let res = app.send(Request::get(bad), &admin).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

fn at(s: &str) -> orgwatch_model::Timestamp {
    orgwatch_model::Timestamp::new(
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap(),
    )
}

/// A stored score of minute `minute` (after 10:00) of `scope`, alarmed with an explanation
/// naming `principal` when `alarm`.
fn score(
    minute: u32,
    scope: &str,
    series: &str,
    value: f64,
    alarm: bool,
    principal: &str,
) -> Anomaly {
    Anomaly {
        time: at(&format!("2024-03-01T10:{minute:02}:00Z")),
        scope: scope.parse().unwrap(),
        series: series.parse().unwrap(),
        score: value,
        contributor: format!("principal:{principal}"),
        alarm,
        explanation: alarm.then(|| Explanation {
            kind: AlarmKind::Count,
            observed: 40,
            expected: 2.5,
            minutes: 2,
            principal: Some(principal.to_owned()),
            api: Some("ec2.amazonaws.com:RunInstances".to_owned()),
            source_ip: Some("198.51.100.9".to_owned()),
            region: Some("eu-west-1".to_owned()),
        }),
    }
}

async fn alarms_name_principal_and_api_and_stay_in_their_account(store: Store) {
    store_calls(&store, "AWSLogs/one.json", &calls(300, 0, 4)).await;
    let scores = [
        score(3, A, "total", 1.25, false, "alice1"),
        score(3, B, "total", 2.0, false, "bob1"),
        score(3, "org", "total", 1.5, false, "alice1"),
        score(5, A, "principal:alice2", 7.5, true, "alice2"),
        score(6, B, "principal:bob2", 9.0, true, "bob2"),
        score(6, "org", "total", 3.1, true, "bob2"),
    ];
    let detector = DetectorToSave {
        header: b"h".to_vec(),
        parts: Vec::<(String, Vec<u8>)>::new().into_iter(),
    };
    let saved = store
        .save_scores(None, at("2024-03-01T10:07:00Z"), detector, &scores)
        .await
        .unwrap();
    assert!(saved);
    let app = App::new(store).await;
    let minute = |doc: &Value, m: &str| -> Value {
        doc["calls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["time"] == format!("2024-03-01T10:{m}:00Z").as_str())
            .unwrap()
            .clone()
    };
    // The administrator: every alarm, and the organisation's score line.
    let admin = app.login("admin").await;
    let doc = app.json("/api/activity", &admin).await;
    assert_eq!(doc["totals"]["alarms"], 3);
    assert_eq!(minute(&doc, "03")["score"], 1.5, "org's total");
    assert_eq!(minute(&doc, "06")["alarm"], true);
    let newest = &doc["alarms"][0];
    assert_eq!(newest["time"], "2024-03-01T10:06:00Z");
    let named: Vec<(&str, &str)> = doc["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account"].as_str().unwrap(),
                a["principal"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(named, [(B, "bob2"), ("org", "bob2"), (A, "alice2")]);
    for a in doc["alarms"].as_array().unwrap() {
        assert_eq!(a["api"], "ec2.amazonaws.com:RunInstances");
        assert_eq!(a["kind"], "count");
        assert_eq!(a["region"], "eu-west-1");
        let why = a["explanation"].as_str().unwrap();
        assert!(
            why.contains("called ec2.amazonaws.com:RunInstances 40 times in 2 min (expected 2.5)"),
            "{why}"
        );
        // Its drill-down: the principal's calls of that API over the alarm's two minutes.
        let drill = a["drill"].as_str().unwrap();
        assert!(
            drill.contains("service=ec2.amazonaws.com&api=RunInstances"),
            "{drill}"
        );
    }
    let csv = app.text("/api/activity.csv?table=alarms", &admin).await;
    assert_eq!(csv.lines().count(), 4, "{csv}");
    // The viewer of A: A's alarm only, and A's score (no organisation's).
    let viewer = app.login("viewer-a").await;
    let doc = app.json("/api/activity", &viewer).await;
    assert_eq!(doc["totals"]["alarms"], 1);
    assert_eq!(doc["alarms"][0]["principal"], "alice2");
    assert_eq!(minute(&doc, "03")["score"], 1.25, "A's own total");
    assert_eq!(
        minute(&doc, "06")["alarm"],
        false,
        "B's and org's alarms are not A's"
    );
    let csv = app.text("/api/activity.csv?table=alarms", &viewer).await;
    assert!(
        !csv.contains("bob") && !csv.contains(B) && !csv.contains("org,"),
        "{csv}"
    );
    let page = app.text("/activity", &viewer).await;
    assert!(page.contains("alice2") && !page.contains("bob2"));
}

async fn environments_and_ous_scope_activity_through_the_accounts(store: Store) {
    let stored = calls(90, 0, 5);
    store_calls(&store, "AWSLogs/one.json", &stored).await;
    for (id, kind) in [(A, "Sandbox"), (B, "PRODUCTION")] {
        store
            .raw_query_text(
                "INSERT INTO accounts (account_id, account_type) VALUES (?, ?)",
                &[id, kind],
            )
            .await
            .unwrap();
    }
    let app = App::new(store.clone()).await;
    let count = |account: &str| stored.iter().filter(|(c, _)| c.account == account).count();
    for (name, limits) in [
        (
            "prod",
            Limits {
                environments: vec!["production".to_owned()],
                ..Limits::default()
            },
        ),
        (
            "ou",
            Limits {
                ous: vec!["ou-root-1".to_owned()],
                ..Limits::default()
            },
        ),
    ] {
        store
            .add_user(&NewUser {
                name,
                password_hash: &orgwatch_web::password::hash(PASSWORD).unwrap(),
                role: Role::Viewer,
                access: &Access::Limited(limits),
                now: 1_800_000_000,
            })
            .await
            .unwrap()
            .unwrap();
    }
    // An environment limit matches the account's type without case: B only.
    let prod = app.login("prod").await;
    let doc = app.json("/api/activity", &prod).await;
    assert_eq!(doc["totals"]["events"], count(B));
    assert!(!doc.to_string().contains(A) && !doc.to_string().contains("alice"));
    let events = app.json("/api/activity/events?limit=1000", &prod).await;
    assert_eq!(events["events"].as_array().unwrap().len(), count(B));
    // No account records an OU yet: an OU limit sees nothing, and says so.
    let ou = app.login("ou").await;
    let doc = app.json("/api/activity", &ou).await;
    assert_eq!(doc["totals"]["events"], 0);
    assert!(
        doc["empty"]
            .as_str()
            .unwrap()
            .contains("your access covers"),
        "{doc}"
    );
    // The administrator's page filter narrows the same way.
    let admin = app.login("admin").await;
    let doc = app.json("/api/activity?environment=sandbox", &admin).await;
    assert_eq!(doc["totals"]["events"], count(A));
    assert_eq!(doc["totals"]["accounts"], 1);
}

on_both_backends!(store:
    environments_and_ous_scope_activity_through_the_accounts,
    alarms_name_principal_and_api_and_stay_in_their_account,
    the_activity_figures_are_the_stored_events,
    a_viewer_of_one_account_sees_no_row_of_another,
    a_stored_signal_pushes_a_fresh_summary,
    an_empty_store_says_no_activity_is_stored_yet,
);
