//! The web app over the demo organisation: the Overview's figures against the files, a
//! limited viewer's view, and `serve`/`demo` on a real socket (port 0, a taken port, how to
//! get in, graceful shutdown).
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::router::{add_user, login};
use common::{cents, expected};
use orgwatch_store::auth::Role;
use orgwatch_store::{Access, Limits, Store};
use orgwatch_test_support::cli::{text, Served};
use orgwatch_test_support::http::{http_get, http_login};
use orgwatch_test_support::{on_both_backends, orgwatch, Backend, TestDb};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use tower::ServiceExt;

// ------------------------------------------------------------------ through the router

async fn get(app: &Router, path: &str, cookie: &str) -> String {
    // Whole tables (the API pages them by 500 rows): these tests compare them with the files.
    let whole;
    let path = if path.starts_with("/api/") && !path.contains("limit=") {
        whole = format!(
            "{path}{}limit={}",
            if path.contains('?') { '&' } else { '?' },
            orgwatch_web::MAX_LIMIT
        );
        whole.as_str()
    } else {
        path
    };
    let res = app
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The text of the element with `id` in a page.
fn by_id<'p>(page: &'p str, id: &str) -> &'p str {
    let at = page
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no #{id}"))
        + id.len()
        + 6;
    &page[at..at + page[at..].find('<').unwrap()]
}

fn ids(overview: &Value) -> Vec<String> {
    overview["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_overview_shows_the_demo_figures_and_a_viewer_only_their_accounts(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    let out = orgwatch!(
        &db,
        &[
            "demo",
            "--no-serve",
            "--seed",
            "11",
            "--accounts",
            "4",
            "--days",
            "70",
            "--end-date",
            "2026-11-24",
            "--dir",
            dir.path().to_str().unwrap(),
        ]
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let want = expected(dir.path());
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;

    // The API's figures are the files'.
    let all: Value = serde_json::from_str(&get(&app, "/api/overview", &admin).await).unwrap();
    let day = want.day.unwrap();
    assert_eq!(all["day"], orgwatch_model::Day(day).to_string());
    let totals = &all["totals"];
    assert_eq!(totals["accounts"], 4);
    let money = |v: &Value| cents(v.as_f64().unwrap());
    assert_eq!(money(&totals["day_cost"]), cents(want.day_cost));
    assert_eq!(money(&totals["month_to_date"]), cents(want.month_to_date));
    assert_eq!(
        money(&totals["previous_month_to_date"]),
        cents(want.previous_month_to_date)
    );
    for severity in ["critical", "high", "medium", "low", "informational"] {
        let n = want
            .open
            .get(&severity.to_uppercase())
            .copied()
            .unwrap_or(0);
        assert_eq!(totals["open_findings"][severity], n, "{severity}");
    }
    assert!(want.open["CRITICAL"] > 0 && want.month_to_date > 0.0);
    // So are the page's.
    let page = get(&app, "/", &admin).await;
    assert_eq!(by_id(&page, "day"), all["day"].as_str().unwrap());
    assert_eq!(
        by_id(&page, "total-day-cost"),
        format!("{:.2}", want.day_cost)
    );
    assert_eq!(
        by_id(&page, "total-month-to-date"),
        format!("{:.2}", want.month_to_date)
    );
    assert_eq!(
        by_id(&page, "total-previous-month-to-date"),
        format!("{:.2}", want.previous_month_to_date)
    );
    assert_eq!(
        by_id(&page, "total-critical"),
        want.open["CRITICAL"].to_string()
    );

    // A viewer limited to one account gets its row and nothing of the others.
    let accounts = ids(&all);
    let (mine, others) = (&accounts[1], &accounts[..]);
    let limited = |l: Limits| Access::Limited(l);
    let account = orgwatch_model::AccountId::parse(mine).unwrap();
    add_user(
        &store,
        "one",
        Role::Viewer,
        &limited(Limits {
            accounts: vec![account],
            ..Limits::default()
        }),
    )
    .await;
    let one = login(&app, "one").await;
    let seen: Value = serde_json::from_str(&get(&app, "/api/overview", &one).await).unwrap();
    assert_eq!(ids(&seen), vec![mine.clone()]);
    assert_eq!(seen["accounts"][0], all["accounts"][1]);
    assert_eq!(
        seen["totals"]["month_to_date"],
        all["accounts"][1]["month_to_date"]
    );
    assert_eq!(
        seen["totals"]["open_findings"],
        all["accounts"][1]["open_findings"]
    );
    let page = get(&app, "/", &one).await;
    assert!(page.contains(mine.as_str()));
    for other in others.iter().filter(|o| *o != mine) {
        assert!(
            !page.contains(other.as_str()),
            "{other} leaked into the page"
        );
    }

    // By environment: exactly the accounts of that environment.
    let environment = all["accounts"][0]["environment"].as_str().unwrap();
    add_user(
        &store,
        "env",
        Role::Viewer,
        &limited(Limits {
            environments: vec![environment.to_lowercase()],
            ..Limits::default()
        }),
    )
    .await;
    let env = login(&app, "env").await;
    let seen: Value = serde_json::from_str(&get(&app, "/api/overview", &env).await).unwrap();
    let of_environment: Vec<String> = all["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["environment"] == environment)
        .map(|a| a["account_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids(&seen), of_environment);

    // An OU: no loaded account records one, so nothing (it fails closed), and the page says so.
    add_user(
        &store,
        "ou",
        Role::Viewer,
        &limited(Limits {
            ous: vec!["Security".to_owned()],
            ..Limits::default()
        }),
    )
    .await;
    let ou = login(&app, "ou").await;
    let seen: Value = serde_json::from_str(&get(&app, "/api/overview", &ou).await).unwrap();
    assert_eq!(ids(&seen), Vec::<String>::new());
    assert_eq!(seen["day"], Value::Null);
    let page = get(&app, "/", &ou).await;
    assert!(
        page.contains("limited to OU Security, and no loaded account matches"),
        "{page}"
    );
    for other in others {
        assert!(!page.contains(other.as_str()));
    }
    store.close().await;
}

on_both_backends!(the_overview_shows_the_demo_figures_and_a_viewer_only_their_accounts);

// ------------------------------------------------------------------ on a real socket

/// Starts the binary with `args` and reads what it printed up to its `url:` line.
fn start(args: &[&str]) -> Served {
    let mut cmd = orgwatch!();
    cmd.args(args);
    Served::start(cmd)
}

#[test]
fn serve_on_port_zero_prints_its_url_and_the_first_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    let serve = [
        "--database-url",
        db.as_str(),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ];
    let running = start(&serve);
    assert!(!running.url.ends_with(":0/"), "{}", running.url);
    let addr = running.addr();
    let (status, body) = http_get(&addr, "/healthz", "");
    assert_eq!(status, 200, "{body}");
    assert!(body.ends_with("ok\n"), "{body}");
    assert_eq!(http_get(&addr, "/readyz", "").0, 200);
    let (status, body) = http_get(&addr, "/", "");
    assert_eq!(status, 303);
    assert!(body.contains("location: /login"), "{body}");
    let password = running
        .password
        .clone()
        .expect("the first admin's password");
    let session = http_login(&addr, "admin", &password).expect("the printed password logs in");
    let (status, overview) = http_get(&addr, "/api/overview", &session);
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains("\"accounts\":[]"), "{overview}");
    assert!(running.stop().success(), "a graceful shutdown exits 0");

    // There is a user now: nothing to print again.
    let again = start(&serve);
    assert_eq!(again.password, None);
    assert!(again.stop().success());
}

#[test]
fn metrics_listen_serves_prometheus_text_apart_while_the_app_needs_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    let running = start(&[
        "--database-url",
        db.as_str(),
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let metrics = running.metrics.clone().expect("a metrics: line");
    let at = metrics
        .strip_prefix("http://")
        .and_then(|m| m.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("{metrics}"))
        .to_owned();
    let addr = running.addr();
    assert_ne!(at, addr, "two listeners");
    assert!(!at.ends_with(":0"), "{at}");
    // The app needs a session, for its API and for a path it does not have.
    assert_eq!(http_get(&addr, "/api/overview", "").0, 401);
    assert_eq!(http_get(&addr, "/metrics", "").0, 404);
    let (status, page) = http_get(&at, "/metrics", "");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("content-type: text/plain; version=0.0.4"),
        "{page}"
    );
    assert!(
        page.contains(
            "orgwatch_http_requests_total{method=\"GET\",route=\"/api/overview\",status=\"401\"} 1\n"
        ),
        "{page}"
    );
    assert!(
        page.contains("orgwatch_activity_events_stored_total 0\n"),
        "{page}"
    );
    // The metrics listener serves nothing of the app.
    assert_eq!(http_get(&at, "/api/overview", "").0, 404);
    assert!(running.stop().success(), "both listeners stop on SIGTERM");
    assert!(
        std::net::TcpStream::connect(&at).is_err(),
        "the metrics listener is closed with the app"
    );
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    for command in [
        &["serve"][..],
        &[
            "demo",
            "--accounts",
            "1",
            "--days",
            "2",
            "--dir",
            dir.path().to_str().unwrap(),
        ],
    ] {
        let out = orgwatch!()
            .args(["--database-url", &db])
            .args(command)
            .args(["--listen", &addr])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "cannot listen on {addr}: the address is already in use"
            )),
            "{err}"
        );
        assert!(err.contains("--listen 127.0.0.1:0"), "{err}");
        assert_eq!(err.matches("already in use").count(), 1, "said once: {err}");

        // The metrics address taken: the error names its own flag, before any loading.
        let out = orgwatch!()
            .args(["--database-url", &db])
            .args(command)
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", &addr])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "cannot serve metrics on {addr}: the address is already in use; choose \
                 another with --metrics-listen"
            )),
            "{err}"
        );
        assert!(!err.contains("demo: wrote"), "nothing loaded: {err}");
    }
}

#[test]
fn the_demo_serves_and_says_how_to_get_in_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    let demo = [
        "--database-url",
        db.as_str(),
        "demo",
        "--accounts",
        "2",
        "--days",
        "3",
        "--end-date",
        "2026-11-24",
        "--dir",
        dir.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ];
    let first = start(&demo);
    let first_password = first
        .password
        .clone()
        .expect("user: admin and its password");
    let session = http_login(&first.addr(), "admin", &first_password).unwrap();
    let (status, overview) = http_get(&first.addr(), "/api/overview", &session);
    assert_eq!(status, 200);
    let overview: Value = serde_json::from_str(overview.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(overview["totals"]["accounts"], 2);
    assert!(first.stop().success());

    // Again on the same database: a fresh password, which works; the old one no longer does.
    let second = start(&demo);
    let password = second
        .password
        .clone()
        .expect("the demo tells again how to get in");
    assert_ne!(password, first_password);
    assert!(http_login(&second.addr(), "admin", &first_password).is_none());
    assert!(http_login(&second.addr(), "admin", &password).is_some());
    assert!(second.stop().success());
}

// ------------------------------------------------------------------ Cost and Security

/// Loads a demo organisation into `db`; the figures its files say.
fn load_demo(
    db: &TestDb,
    dir: &std::path::Path,
    seed: &str,
    accounts: &str,
    days: &str,
    end: &str,
) {
    let out = orgwatch!(
        db,
        &[
            "demo",
            "--no-serve",
            "--seed",
            seed,
            "--accounts",
            accounts,
            "--days",
            days,
            "--end-date",
            end,
            "--dir",
            dir.to_str().unwrap(),
        ]
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

async fn json(app: &Router, path: &str, cookie: &str) -> Value {
    serde_json::from_str(&get(app, path, cookie).await).unwrap()
}

fn rows<'v>(doc: &'v Value, table: &str) -> &'v Vec<Value> {
    doc["tables"][table]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no table {table}"))
}

fn table_ids(doc: &Value) -> Vec<String> {
    doc["tables"].as_object().unwrap().keys().cloned().collect()
}

/// A page without what echoes the request (the filter form, the links that keep the filter),
/// which is not data: a viewer may ask for another account, and must get none of its rows.
fn without_echo(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    if let Some(a) = rest.find("<form class=\"filter\"") {
        let b = a + rest[a..].find("</form>").unwrap();
        out.push_str(&rest[..a]);
        rest = &rest[b..];
    }
    while let Some(a) = rest.find("href=\"") {
        out.push_str(&rest[..a]);
        let after = &rest[a + 6..];
        rest = &after[after.find('"').unwrap() + 1..];
    }
    out.push_str(rest);
    out
}

/// Every figure of the Cost and Security pages, their API and a CSV against the files.
async fn the_cost_and_security_figures_are_the_files(
    app: &Router,
    admin: &str,
    want: &common::Expected,
) {
    let money = |v: &Value| cents(v.as_f64().unwrap());
    let day = want.day.unwrap();
    let cost = json(app, "/api/cost", admin).await;
    assert_eq!(cost["range"]["to"], orgwatch_model::Day(day).to_string());
    let totals = &cost["totals"];
    assert_eq!(money(&totals["day_cost"]), cents(want.day_cost));
    assert_eq!(money(&totals["month_to_date"]), cents(want.month_to_date));
    assert_eq!(
        money(&totals["previous_month_to_date"]),
        cents(want.previous_month_to_date)
    );
    assert_eq!(money(&totals["forecast"]), cents(want.forecast));
    assert_eq!(
        totals["forecast_run_rate_accounts"], want.run_rate_forecasts,
        "accounts whose file holds no forecast"
    );
    assert!(want.forecast > want.month_to_date || day.day() == day.month().length(day.year()));
    // Like for like: the account-days of each span that have a file, and the change only
    // when none is missing.
    let (year, month) = match day.month() {
        time::Month::January => (day.year() - 1, time::Month::December),
        m => (day.year(), m.previous()),
    };
    let previous_first = time::Date::from_calendar_date(year, month, 1).unwrap();
    let previous_last =
        previous_first + time::Duration::days(i64::from(day.day().min(month.length(year))) - 1);
    let accounts = totals["accounts"].as_u64().unwrap() as usize;
    let loaded = |a: time::Date, b: time::Date| {
        want.cost
            .keys()
            .filter(|(_, d)| (a..=b).contains(d))
            .count()
    };
    let days_of = |a: time::Date, b: time::Date| ((b - a).whole_days() + 1) as usize;
    let month_first = day.replace_day(1).unwrap();
    let now = (
        loaded(month_first, day),
        accounts * days_of(month_first, day),
    );
    let before = (
        loaded(previous_first, previous_last),
        accounts * days_of(previous_first, previous_last),
    );
    let spans = |k: &str| {
        let v = &totals[k];
        (
            v["loaded"].as_u64().unwrap() as usize,
            v["of"].as_u64().unwrap() as usize,
        )
    };
    assert_eq!(spans("month_to_date_account_days"), now);
    assert_eq!(spans("previous_month_to_date_account_days"), before);
    let comparable = now.0 == now.1 && before.0 == before.1;
    assert_eq!(totals["month_over_month_comparable"], comparable);
    // The Overview compares the same way, on its page too.
    let overview = json(app, "/api/overview", admin).await;
    for k in [
        "month_to_date_account_days",
        "previous_month_to_date_account_days",
        "month_over_month_comparable",
    ] {
        assert_eq!(overview["totals"][k], totals[k], "overview {k}");
    }
    let home = get(app, "/", admin).await;
    if comparable {
        let pct = (want.month_to_date - want.previous_month_to_date) / want.previous_month_to_date
            * 100.0;
        assert_eq!(by_id(&home, "total-change"), format!("{pct:+.1} %"));
        assert!(!home.contains("id=\"change-note\""));
    } else {
        assert_eq!(by_id(&home, "total-change"), "–");
        assert!(by_id(&home, "change-note").contains(&format!(
            "same days of last month {} of {}",
            before.0, before.1
        )));
    }
    // The daily tables, per account and per service, over the default 30 days.
    let from = day - time::Duration::days(29);
    let in_range = |d: &time::Date| (from..=day).contains(d);
    let daily = rows(&cost, "daily");
    assert_eq!(
        daily.len(),
        want.cost.keys().filter(|(_, d)| in_range(d)).count()
    );
    for r in daily {
        let key = (
            r["account_id"].as_str().unwrap().to_owned(),
            common::date(r["day"].as_str().unwrap()),
        );
        assert_eq!(money(&r["cost"]), cents(want.cost[&key]), "{key:?}");
    }
    let mut per_service: std::collections::BTreeMap<&str, f64> = Default::default();
    for ((service, d), c) in &want.service_cost {
        if in_range(d) {
            *per_service.entry(service.as_str()).or_insert(0.0) += c;
        }
    }
    let services = rows(&cost, "services");
    assert_eq!(services.len(), per_service.len());
    for s in services {
        let name = s["service"].as_str().unwrap();
        assert_eq!(money(&s["range_cost"]), cents(per_service[name]), "{name}");
    }
    // Top services come largest first.
    let top: Vec<f64> = services
        .iter()
        .map(|s| s["range_cost"].as_f64().unwrap())
        .collect();
    assert!(top.windows(2).all(|w| w[0] >= w[1]), "{top:?}");
    // The page shows the same.
    let page = get(app, "/cost", admin).await;
    assert_eq!(by_id(&page, "day"), orgwatch_model::Day(day).to_string());
    assert_eq!(
        by_id(&page, "total-day-cost"),
        format!("{:.2}", want.day_cost)
    );
    assert_eq!(
        by_id(&page, "total-month-to-date"),
        format!("{:.2}", want.month_to_date)
    );
    assert_eq!(
        by_id(&page, "total-previous-month-to-date"),
        format!("{:.2}", want.previous_month_to_date)
    );
    assert_eq!(
        by_id(&page, "total-forecast"),
        format!("{:.2}", want.forecast)
    );
    if comparable {
        let pct = (want.month_to_date - want.previous_month_to_date) / want.previous_month_to_date
            * 100.0;
        assert_eq!(by_id(&page, "total-change"), format!("{pct:+.1} %"));
        assert!(!page.contains("id=\"change-note\""));
    } else {
        assert_eq!(by_id(&page, "total-change"), "–");
        assert!(by_id(&page, "change-note").contains(&format!(
            "same days of last month {} of {}",
            before.0, before.1
        )));
        // An account missing days has no change and is no mover.
        for a in rows(&cost, "accounts") {
            let full = a["month_to_date_days"] == now.1 / accounts
                && a["previous_month_to_date_days"] == before.1 / accounts;
            assert_eq!(
                !a["change_percent"].is_null(),
                full && a["previous_month_to_date"] != 0.0,
                "{a}"
            );
        }
        assert!(rows(&cost, "movers").iter().all(|m| m["kind"] == "account"));
    }
    for nav in [
        "href=\"/\"",
        "href=\"/cost\" aria-current=\"page\"",
        "href=\"/security\"",
    ] {
        assert!(page.contains(nav), "{nav}");
    }
    // The CSV of the daily table: a header and the same rows.
    let csv = get(app, "/api/cost.csv?table=daily", admin).await;
    assert!(csv.starts_with("day,account_id,name,cost\r\n"), "{csv}");
    assert_eq!(csv.lines().count(), daily.len() + 1);
    assert_eq!(
        get(app, "/api/cost?format=csv&table=daily", admin).await,
        csv
    );

    // Another range: a week ending three days earlier; month to date follows its last day.
    let to = day - time::Duration::days(3);
    let week = to - time::Duration::days(6);
    let q = format!(
        "/api/cost?from={}&to={}",
        orgwatch_model::Day(week),
        orgwatch_model::Day(to)
    );
    let ranged = json(app, &q, admin).await;
    let first = to.replace_day(1).unwrap();
    let (mut day_cost, mut mtd, mut range) = (0.0, 0.0, 0.0);
    for ((_, d), c) in &want.cost {
        if *d == to {
            day_cost += c;
        }
        if (first..=to).contains(d) {
            mtd += c;
        }
        if (week..=to).contains(d) {
            range += c;
        }
    }
    assert_eq!(money(&ranged["totals"]["day_cost"]), cents(day_cost));
    assert_eq!(money(&ranged["totals"]["month_to_date"]), cents(mtd));
    assert_eq!(money(&ranged["totals"]["range_cost"]), cents(range));
    assert_eq!(
        rows(&ranged, "daily_totals").len(),
        7,
        "one line per day of the range"
    );

    let security = json(app, "/api/security", admin).await;
    assert_eq!(
        security["as_of"],
        orgwatch_model::Day(want.security_day.unwrap()).to_string()
    );
    let totals = &security["totals"];
    for severity in ["critical", "high", "medium", "low", "informational"] {
        let n = want
            .open
            .get(&severity.to_uppercase())
            .copied()
            .unwrap_or(0);
        assert_eq!(totals["open_findings"][severity], n, "{severity}");
    }
    let mut by_source: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for r in rows(&security, "findings") {
        for severity in ["critical", "high", "medium", "low", "informational"] {
            let n = r[severity].as_i64().unwrap();
            if n > 0 {
                *by_source
                    .entry((
                        r["source"].as_str().unwrap().to_owned(),
                        severity.to_uppercase(),
                    ))
                    .or_insert(0) += n;
            }
        }
    }
    assert_eq!(by_source, want.open_by_source);
    assert!(
        want.open_by_source.keys().any(|(s, _)| s == "Inspector")
            && want.open_by_source.keys().any(|(s, _)| s == "Security Hub"),
        "{:?}",
        want.open_by_source
    );
    assert_eq!(
        totals["certificates_expiring_30_days"],
        want.certificates_expiring
    );
    assert_eq!(
        totals["kms_keys_without_rotation"],
        want.kms_without_rotation
    );
    assert_eq!(
        totals["secrets_without_rotation"],
        want.secrets_without_rotation
    );
    // Over time: each of the 30 days against the files' state on that day; the last is the
    // totals.
    let trend = rows(&security, "trend_totals");
    assert_eq!(trend.len(), 30);
    for r in trend {
        let d = common::date(r["day"].as_str().unwrap());
        let on = want.open_on(d);
        for severity in ["critical", "high", "medium", "low", "informational"] {
            let n = on.get(&severity.to_uppercase()).copied().unwrap_or(0);
            assert_eq!(r[severity], n, "{d} {severity}");
        }
    }
    assert_eq!(trend[29]["critical"], totals["open_findings"]["critical"]);
    assert_eq!(trend[29]["total"], {
        let o = &totals["open_findings"];
        ["critical", "high", "medium", "low", "informational"]
            .iter()
            .map(|s| o[s].as_i64().unwrap())
            .sum::<i64>()
    });
    let critical = rows(&security, "critical");
    assert_eq!(critical.len() as i64, want.open["CRITICAL"].min(100));
    assert!(critical
        .iter()
        .all(|f| !f["remediation"].as_str().unwrap().is_empty()));
    let page = get(app, "/security", admin).await;
    assert_eq!(
        by_id(&page, "total-critical"),
        want.open["CRITICAL"].to_string()
    );
    assert_eq!(
        by_id(&page, "total-certificates-expiring"),
        want.certificates_expiring.to_string()
    );
}

async fn the_cost_and_security_pages_show_the_demo_figures_and_a_viewer_only_their_accounts(
    backend: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "11", "4", "70", "2026-11-24");
    let want = expected(dir.path());
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    the_cost_and_security_figures_are_the_files(&app, &admin, &want).await;
    assert!(want.certificates_expiring > 0 || want.kms_without_rotation > 0);

    // A viewer limited to one account: not one row of another, from any page, API, CSV,
    // sort or filter (even one naming another account).
    let all = json(&app, "/api/cost", &admin).await;
    let accounts: Vec<String> = rows(&all, "accounts")
        .iter()
        .map(|a| a["account_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(accounts.len(), 4);
    let mine = &accounts[2];
    add_user(
        &store,
        "one",
        Role::Viewer,
        &Access::Limited(Limits {
            accounts: vec![orgwatch_model::AccountId::parse(mine).unwrap()],
            ..Limits::default()
        }),
    )
    .await;
    let one = login(&app, "one").await;
    let mut paths = vec![
        "/cost".to_owned(),
        "/security".to_owned(),
        "/api/cost".to_owned(),
        "/api/security".to_owned(),
        "/cost?sort=daily.cost&dir=desc".to_owned(),
        "/security?sort=certificates.days_left&dir=asc".to_owned(),
    ];
    for other in accounts.iter().filter(|a| *a != mine) {
        paths.push(format!("/api/cost?account={other}"));
        paths.push(format!("/security?account={other},{mine}"));
    }
    for page in ["cost", "security"] {
        let doc = json(&app, &format!("/api/{page}"), &admin).await;
        for table in table_ids(&doc) {
            paths.push(format!("/api/{page}.csv?table={table}"));
            paths.push(format!("/api/{page}?format=csv&table={table}"));
        }
    }
    for path in &paths {
        let body = get(&app, path, &one).await;
        let body = without_echo(&body);
        for other in accounts.iter().filter(|a| *a != mine) {
            assert!(!body.contains(other.as_str()), "{other} leaked into {path}");
        }
    }
    // What they see is what an admin sees filtered to that account.
    let seen = json(&app, "/api/security", &one).await;
    let filtered = json(&app, &format!("/api/security?account={mine}"), &admin).await;
    assert_eq!(seen, filtered);
    let seen = json(&app, "/api/cost", &one).await;
    let filtered = json(&app, &format!("/api/cost?account={mine}"), &admin).await;
    assert_eq!(seen["totals"], filtered["totals"]);
    assert_eq!(seen["tables"]["daily"], filtered["tables"]["daily"]);
    assert!(!rows(&seen, "daily").is_empty());
    // A filter naming only another account shows nothing, and says why.
    let page = get(&app, &format!("/cost?account={}", accounts[0]), &one).await;
    assert!(
        page.contains("No account you may see matches the filter"),
        "{page}"
    );

    // An OU filter matches nothing: the A360 format carries no OU.
    let by_ou = json(&app, "/api/security?ou=Workloads", &admin).await;
    assert_eq!(rows(&by_ou, "accounts").len(), 0);

    // Bad input is a 400 that says what is wrong, not a 500.
    for bad in [
        "/api/cost?from=2026-11-30&to=2026-11-01",
        "/api/cost?account=42",
        "/api/cost.csv",
        "/api/cost.csv?table=nope",
        "/api/security?sort=certificates.nope",
    ] {
        let res = app
            .clone()
            .oneshot(
                Request::get(bad)
                    .header(header::COOKIE, &admin)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    store.close().await;

    // Another organisation, seed and scale, whose last day ends its month: the forecast is
    // the month itself.
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "5", "3", "40", "2026-12-01");
    let want = expected(dir.path());
    assert_eq!(want.day, Some(common::date("2026-11-30")));
    assert_eq!(cents(want.forecast), cents(want.month_to_date));
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    the_cost_and_security_figures_are_the_files(&app, &admin, &want).await;
    store.close().await;
}

on_both_backends!(
    the_cost_and_security_pages_show_the_demo_figures_and_a_viewer_only_their_accounts
);

/// Names from the data that a spreadsheet would run as formulas reach the CSV as text.
async fn csv_downloads_keep_formulas_from_the_data_as_text(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_slice(orgwatch_test_support::a360::DAILY).unwrap();
    let hostile = "=HYPERLINK(\"http://evil.example\",\"open me\")";
    doc["account"]["account_name"] = Value::from(hostile);
    doc["security"]["secrets_manager"][0]["name"] = Value::from("@SUM(1+1)");
    doc["security"]["secrets_manager"][1]["name"] = Value::from("-2+3");
    orgwatch_test_support::fs::put(
        dir.path(),
        orgwatch_test_support::a360::DAILY_PATH,
        doc.to_string().as_bytes(),
    );
    let db = TestDb::new(backend).await;
    let out = orgwatch!(&db, &["ingest", "--from", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    let accounts = get(&app, "/api/cost.csv?table=accounts", &admin).await;
    assert!(
        accounts.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"open me\"\")\","),
        "{accounts}"
    );
    let secrets = get(&app, "/api/security.csv?table=secrets", &admin).await;
    assert!(secrets.contains(",'@SUM(1+1),"), "{secrets}");
    assert!(secrets.contains(",'-2+3,"), "{secrets}");
    for csv in [&accounts, &secrets] {
        for field in csv.lines().flat_map(|l| l.split(',')) {
            let field = field.trim_start_matches('"');
            assert!(
                !field.starts_with(['=', '@', '+']) && !field.starts_with("-2"),
                "{field} in {csv}"
            );
        }
    }
    // The page shows the name as it is, escaped as HTML.
    let page = get(&app, "/security", &admin).await;
    assert!(
        page.contains("=HYPERLINK(&#34;http://evil.example&#34;"),
        "{page}"
    );
    store.close().await;
}

on_both_backends!(csv_downloads_keep_formulas_from_the_data_as_text);

// ------------------------------------------------------------------ Compliance, Inventory, Operations

/// A viewer limited to the third account gets not one row of another from `pages` (each
/// page, its API, every table's CSV both ways, a sort, a filter naming another account), and
/// sees what an admin sees filtered to that account.
async fn a_viewer_sees_only_their_account(
    app: &Router,
    store: &Store,
    admin: &str,
    pages: &[&str],
) {
    let all = json(app, "/api/security", admin).await;
    let accounts: Vec<String> = rows(&all, "accounts")
        .iter()
        .map(|a| a["account_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(accounts.len() >= 3);
    let mine = &accounts[2];
    add_user(
        store,
        "one",
        Role::Viewer,
        &Access::Limited(Limits {
            accounts: vec![orgwatch_model::AccountId::parse(mine).unwrap()],
            ..Limits::default()
        }),
    )
    .await;
    let one = login(app, "one").await;
    let mut paths = Vec::new();
    for page in pages {
        paths.push(format!("/{page}"));
        paths.push(format!("/api/{page}"));
        paths.push(format!("/{page}?sort=accounts.account_id&dir=desc"));
        for other in accounts.iter().filter(|a| *a != mine) {
            paths.push(format!("/api/{page}?account={other}"));
            paths.push(format!("/{page}?account={other},{mine}"));
        }
        let doc = json(app, &format!("/api/{page}"), admin).await;
        for table in table_ids(&doc) {
            // The admin's table holds other accounts' rows: the check below is not vacuous.
            paths.push(format!("/api/{page}.csv?table={table}"));
            paths.push(format!("/api/{page}?format=csv&table={table}"));
        }
        let seen = json(app, &format!("/api/{page}"), &one).await;
        let filtered = json(app, &format!("/api/{page}?account={mine}"), admin).await;
        assert_eq!(seen, filtered, "{page}");
        assert_eq!(rows(&seen, "accounts").len(), 1, "{page}");
    }
    for path in &paths {
        let body = get(app, path, &one).await;
        let body = without_echo(&body);
        for other in accounts.iter().filter(|a| *a != mine) {
            assert!(!body.contains(other.as_str()), "{other} leaked into {path}");
        }
    }
}

/// Every figure of the Compliance page and its API against the files, as of `to` (the
/// files' last day when `None`).
async fn the_compliance_figures_are_the_files(
    app: &Router,
    admin: &str,
    dir: &std::path::Path,
    to: Option<time::Date>,
) {
    let last = common::expected(dir).security_day.unwrap();
    let day = to.unwrap_or(last);
    let from = day - time::Duration::days(29);
    let want = common::expected_compliance(dir, from, day);
    let q = to.map_or(String::new(), |d| format!("?to={}", orgwatch_model::Day(d)));
    let doc = json(app, &format!("/api/compliance{q}"), admin).await;
    assert_eq!(doc["as_of"], orgwatch_model::Day(day).to_string());
    let totals = &doc["totals"];
    let sum = |m: &std::collections::BTreeMap<String, usize>| m.values().sum::<usize>();
    let rules = want
        .rules
        .values()
        .fold((0, 0, 0), |a, r| (a.0 + r.0, a.1 + r.1, a.2 + r.2));
    assert!(rules.0 > 0 && rules.2 > 0, "the demo has failing rules");
    assert_eq!(totals["rules"], rules.0);
    assert_eq!(totals["compliant_rules"], rules.1);
    assert_eq!(totals["non_compliant_rules"], rules.2);
    assert_eq!(
        totals["non_compliant_resources"],
        sum(&want.non_compliant_resources)
    );
    assert_eq!(totals["instances"], sum(&want.instances));
    assert_eq!(
        totals["non_compliant_instances"],
        sum(&want.non_compliant_instances)
    );
    assert_eq!(totals["missing_patches"], sum(&want.missing_patches));
    assert!(sum(&want.instances) > 0);
    // Per account: non-compliant rules, resources and patch compliance.
    let accounts = rows(&doc, "accounts");
    for a in accounts {
        let id = a["account_id"].as_str().unwrap();
        let r = want.rules.get(id).copied();
        assert_eq!(a["rules"].as_i64(), r.map(|r| r.0), "{id}");
        assert_eq!(a["non_compliant_rules"].as_i64(), r.map(|r| r.2), "{id}");
        let n = |m: &std::collections::BTreeMap<String, usize>| m.get(id).copied().unwrap_or(0);
        assert_eq!(
            a["non_compliant_resources"],
            n(&want.non_compliant_resources)
        );
        assert_eq!(a["instances"], n(&want.instances), "{id}");
        assert_eq!(
            a["non_compliant_instances"],
            n(&want.non_compliant_instances),
            "{id}"
        );
        assert_eq!(a["missing_patches"], n(&want.missing_patches), "{id}");
    }
    assert_eq!(
        rows(&doc, "resources").len(),
        sum(&want.non_compliant_resources)
    );
    let packs: std::collections::BTreeMap<String, usize> = rows(&doc, "conformance_packs")
        .iter()
        .map(|p| {
            (
                p["conformance_pack"].as_str().unwrap().to_owned(),
                p["resources"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(packs, want.per_pack);
    // The trend, day by day; its last day is the totals when every file of the day is there.
    let trend = rows(&doc, "trend_totals");
    assert_eq!(trend.len(), want.trend.len());
    assert_eq!(trend.len(), 30);
    for t in trend {
        let d = common::date(t["day"].as_str().unwrap());
        let (total, compliant, non_compliant) = want.trend[&d];
        assert_eq!(t["rules"], total, "{d}");
        assert_eq!(t["compliant_rules"], compliant, "{d}");
        assert_eq!(t["non_compliant_rules"], non_compliant, "{d}");
    }
    // The page shows the same, and links every page.
    let page = get(app, &format!("/compliance{q}"), admin).await;
    assert_eq!(by_id(&page, "as-of"), orgwatch_model::Day(day).to_string());
    assert_eq!(by_id(&page, "total-rules"), rules.0.to_string());
    assert_eq!(
        by_id(&page, "total-non-compliant-rules"),
        rules.2.to_string()
    );
    assert_eq!(
        by_id(&page, "total-non-compliant-resources"),
        sum(&want.non_compliant_resources).to_string()
    );
    assert_eq!(
        by_id(&page, "total-non-compliant-instances"),
        sum(&want.non_compliant_instances).to_string()
    );
    for nav in [
        "href=\"/\"",
        "href=\"/cost\"",
        "href=\"/security\"",
        "href=\"/compliance\" aria-current=\"page\"",
    ] {
        assert!(page.contains(nav), "{nav}");
    }
    // A CSV: a header and the same rows as the JSON.
    let csv = get(
        app,
        &format!(
            "/api/compliance.csv?table=rules&{}",
            &q.trim_start_matches('?')
        ),
        admin,
    )
    .await;
    assert!(
        csv.starts_with("account_id,name,rule,conformance_pack,resources\r\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), rows(&doc, "rules").len() + 1);
}

async fn the_compliance_page_shows_the_demo_figures_and_a_viewer_only_their_accounts(
    backend: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "11", "4", "70", "2026-11-24");
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    the_compliance_figures_are_the_files(&app, &admin, dir.path(), None).await;
    // As of an earlier day: the state and trend of that day.
    let earlier = common::date("2026-11-02");
    the_compliance_figures_are_the_files(&app, &admin, dir.path(), Some(earlier)).await;
    a_viewer_sees_only_their_account(&app, &store, &admin, &["compliance"]).await;
    store.close().await;

    // Another organisation, seed and scale.
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "5", "3", "40", "2026-12-01");
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    the_compliance_figures_are_the_files(&app, &admin, dir.path(), None).await;
    store.close().await;
}

on_both_backends!(the_compliance_page_shows_the_demo_figures_and_a_viewer_only_their_accounts);

/// Every figure of the Inventory page and its API against the files, as of `to` (the files'
/// last day when `None`).
async fn the_inventory_figures_are_the_files(
    app: &Router,
    admin: &str,
    dir: &std::path::Path,
    to: Option<time::Date>,
) {
    let day = to.unwrap_or_else(|| common::expected(dir).security_day.unwrap());
    let want = common::expected_inventory(dir, day);
    let q = to.map_or(String::new(), |d| format!("?to={}", orgwatch_model::Day(d)));
    let doc = json(app, &format!("/api/inventory{q}"), admin).await;
    assert_eq!(doc["as_of"], orgwatch_model::Day(day).to_string());
    let totals = &doc["totals"];
    let sum = |m: &std::collections::BTreeMap<String, usize>| m.values().sum::<usize>();
    assert!(sum(&want.instances) > 0 && want.recommendations > 0);
    assert_eq!(totals["instances"], sum(&want.instances));
    assert_eq!(totals["instances_not_online"], want.not_online);
    assert_eq!(totals["application_installs"], sum(&want.applications));
    assert_eq!(totals["patches"], want.patches);
    assert_eq!(totals["service_resources"], sum(&want.service_resources));
    assert_eq!(totals["recommendations"], want.recommendations);
    assert_eq!(
        cents(totals["monthly_savings"].as_f64().unwrap()),
        cents(want.monthly_savings)
    );
    assert_eq!(totals["config_resources"], want.config_resources);
    for a in rows(&doc, "accounts") {
        let id = a["account_id"].as_str().unwrap();
        let n = |m: &std::collections::BTreeMap<String, usize>| m.get(id).copied().unwrap_or(0);
        assert_eq!(a["instances"], n(&want.instances), "{id}");
        assert_eq!(a["applications"], n(&want.applications), "{id}");
        assert_eq!(a["service_resources"], n(&want.service_resources), "{id}");
    }
    assert_eq!(rows(&doc, "instances").len(), sum(&want.instances));
    assert_eq!(rows(&doc, "compute_optimizer").len(), want.recommendations);
    let savings: Vec<f64> = rows(&doc, "compute_optimizer")
        .iter()
        .map(|r| r["monthly_savings"].as_f64().unwrap_or(0.0))
        .collect();
    assert!(savings.windows(2).all(|w| w[0] >= w[1]), "largest first");
    // The demo records no Config inventory: the table says so.
    if want.config_resources == 0 {
        let empty = doc["tables"]["config_inventory"]["empty"].as_str().unwrap();
        assert!(
            empty.starts_with("No data") || empty.starts_with("Not collected"),
            "{empty}"
        );
    }
    let page = get(app, &format!("/inventory{q}"), admin).await;
    assert_eq!(by_id(&page, "as-of"), orgwatch_model::Day(day).to_string());
    assert_eq!(
        by_id(&page, "total-instances"),
        sum(&want.instances).to_string()
    );
    assert_eq!(
        by_id(&page, "total-monthly-savings"),
        format!("{:.2}", want.monthly_savings)
    );
    assert!(page.contains("href=\"/inventory\" aria-current=\"page\""));
    let csv = get(app, "/api/inventory.csv?table=instances", admin).await;
    assert!(
        csv.starts_with("account_id,name,region,instance_id,"),
        "{csv}"
    );
}

async fn the_inventory_page_shows_the_demo_figures_and_a_viewer_only_their_accounts(
    backend: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "11", "4", "70", "2026-11-24");
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    the_inventory_figures_are_the_files(&app, &admin, dir.path(), None).await;
    let earlier = common::date("2026-10-20");
    the_inventory_figures_are_the_files(&app, &admin, dir.path(), Some(earlier)).await;
    // Sorting is the query's: smallest savings first when asked; bad input is a 400.
    let sorted = json(
        &app,
        "/api/inventory?sort=compute_optimizer.monthly_savings&dir=asc",
        &admin,
    )
    .await;
    let savings: Vec<f64> = rows(&sorted, "compute_optimizer")
        .iter()
        .map(|r| r["monthly_savings"].as_f64().unwrap())
        .collect();
    assert!(savings.len() > 1 && savings.windows(2).all(|w| w[0] <= w[1]));
    for bad in [
        "/api/inventory?sort=instances.nope",
        "/api/compliance?sort=nope.rule",
        "/api/operations.csv",
        "/api/operations.csv?table=nope",
        "/api/compliance?from=2026-11-30&to=2026-11-01",
        "/api/inventory?account=42",
    ] {
        let res = app
            .clone()
            .oneshot(
                Request::get(bad)
                    .header(header::COOKIE, &admin)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    a_viewer_sees_only_their_account(&app, &store, &admin, &["inventory"]).await;
    store.close().await;

    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "5", "3", "40", "2026-12-01");
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    the_inventory_figures_are_the_files(&app, &admin, dir.path(), None).await;
    store.close().await;
}

on_both_backends!(the_inventory_page_shows_the_demo_figures_and_a_viewer_only_their_accounts);

/// Every figure of the Operations page and its API against the files, as of `to` (the files'
/// last day when `None`).
async fn the_operations_figures_are_the_files(
    app: &Router,
    admin: &str,
    dir: &std::path::Path,
    to: Option<time::Date>,
) {
    let day = to.unwrap_or_else(|| common::expected(dir).security_day.unwrap());
    let want = common::expected_operations(dir, day - time::Duration::days(29), day);
    let q = to.map_or(String::new(), |d| format!("?to={}", orgwatch_model::Day(d)));
    let doc = json(app, &format!("/api/operations{q}"), admin).await;
    assert_eq!(doc["as_of"], orgwatch_model::Day(day).to_string());
    let totals = &doc["totals"];
    let sum = |m: &std::collections::BTreeMap<String, usize>| m.values().sum::<usize>();
    assert!(want.events > 0 && sum(&want.advisor_warnings) > 0);
    assert_eq!(totals["health_events"], want.events);
    assert_eq!(totals["open_health_events"], sum(&want.open_events));
    assert_eq!(totals["upcoming_health_events"], want.upcoming_events);
    assert_eq!(totals["advisor_warnings"], sum(&want.advisor_warnings));
    assert_eq!(totals["advisor_errors"], want.advisor_errors);
    assert_eq!(
        cents(totals["advisor_savings"].as_f64().unwrap()),
        cents(want.advisor_savings)
    );
    assert_eq!(totals["resilience_apps"], want.apps);
    assert_eq!(totals["resilience_breached"], want.apps_breached);
    assert_eq!(totals["signal_services"], want.services);
    assert_eq!(totals["open_support_cases"], want.open_cases);
    for a in rows(&doc, "accounts") {
        let id = a["account_id"].as_str().unwrap();
        let n = |m: &std::collections::BTreeMap<String, usize>| m.get(id).copied().unwrap_or(0);
        assert_eq!(a["open_health_events"], n(&want.open_events), "{id}");
        assert_eq!(a["advisor_warnings"], n(&want.advisor_warnings), "{id}");
    }
    assert_eq!(rows(&doc, "health").len(), want.events);
    let page = get(app, &format!("/operations{q}"), admin).await;
    assert_eq!(by_id(&page, "as-of"), orgwatch_model::Day(day).to_string());
    assert_eq!(
        by_id(&page, "total-open-health-events"),
        sum(&want.open_events).to_string()
    );
    assert_eq!(
        by_id(&page, "total-advisor-warnings"),
        sum(&want.advisor_warnings).to_string()
    );
    assert!(page.contains("href=\"/operations\" aria-current=\"page\""));
    let csv = get(app, "/api/operations.csv?table=trusted_advisor", admin).await;
    assert!(csv.starts_with("account_id,name,check,"), "{csv}");
}

async fn the_operations_page_shows_the_demo_figures_and_a_viewer_only_their_accounts(
    backend: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "11", "4", "70", "2026-11-24");
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    the_operations_figures_are_the_files(&app, &admin, dir.path(), None).await;
    let earlier = common::date("2026-10-20");
    the_operations_figures_are_the_files(&app, &admin, dir.path(), Some(earlier)).await;
    // Support cases are rare in the demo: a range that holds some.
    let october = common::date("2026-10-31");
    let want = common::expected_operations(dir.path(), common::date("2026-10-02"), october);
    assert!(want.open_cases > 0, "{want:?}");
    the_operations_figures_are_the_files(&app, &admin, dir.path(), Some(october)).await;
    a_viewer_sees_only_their_account(&app, &store, &admin, &["operations"]).await;
    store.close().await;

    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "5", "3", "40", "2026-12-01");
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    the_operations_figures_are_the_files(&app, &admin, dir.path(), None).await;
    store.close().await;
}

on_both_backends!(the_operations_page_shows_the_demo_figures_and_a_viewer_only_their_accounts);

/// The genuine sender's file (Config, inventory, Health and support collection failed;
/// Trusted Advisor and Resilience Hub collected and empty), with two categories its log no
/// longer reports: each table of the three pages says which of these is why it is empty,
/// and a formula in the account's name reaches their CSV as text.
async fn the_new_pages_say_why_a_table_is_empty_from_the_files_logs(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_slice(orgwatch_test_support::a360::DAILY).unwrap();
    let hostile = "=HYPERLINK(\"http://evil.example\",\"open me\")";
    doc["account"]["account_name"] = Value::from(hostile);
    let logs = doc["logs"].as_object_mut().unwrap();
    logs.remove("resilience_hub_status").unwrap();
    logs.remove("application_status").unwrap();
    orgwatch_test_support::fs::put(
        dir.path(),
        orgwatch_test_support::a360::DAILY_PATH,
        doc.to_string().as_bytes(),
    );
    let db = TestDb::new(backend).await;
    let out = orgwatch!(&db, &["ingest", "--from", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    let why = |doc: &Value, table: &str| {
        assert_eq!(rows(doc, table).len(), 0, "{table}");
        doc["tables"][table]["empty"]
            .as_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .to_owned()
    };
    let compliance = json(&app, "/api/compliance", &admin).await;
    assert_eq!(compliance["as_of"], "2026-11-23");
    for table in [
        "rules",
        "conformance_packs",
        "resources",
        "trend",
        "patches",
    ] {
        assert_eq!(why(&compliance, table), "Failed", "{table}");
    }
    let inventory = json(&app, "/api/inventory", &admin).await;
    for (table, reason) in [
        ("instances", "Failed"),
        ("applications", "Failed"),
        ("compute_optimizer", "No data"),
        ("config_inventory", "No data"),
    ] {
        assert_eq!(why(&inventory, table), reason, "{table}");
    }
    // Service resources were collected: S3 buckets and the rest, counted by distinct id.
    let resources: i64 = rows(&inventory, "service_resources")
        .iter()
        .map(|r| r["resources"].as_i64().unwrap())
        .sum();
    let distinct: std::collections::BTreeSet<String> = doc["service_resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}/{}",
                r["service_name"], r["resource_type"], r["resource_id"]
            )
        })
        .collect();
    assert!(resources > 0);
    assert_eq!(resources as usize, distinct.len());
    let operations = json(&app, "/api/operations", &admin).await;
    for (table, reason) in [
        ("health", "Failed"),
        ("trusted_advisor", "No data"),
        ("resilience_hub", "Not collected"),
        ("application_signals", "Not collected"),
        ("support_cases", "Failed"),
    ] {
        assert_eq!(why(&operations, table), reason, "{table}");
    }
    let page = get(&app, "/operations", &admin).await;
    assert!(
        page.contains("id=\"resilience_hub-empty\">Not collected"),
        "{page}"
    );
    for page in ["compliance", "inventory", "operations"] {
        let csv = get(&app, &format!("/api/{page}.csv?table=accounts"), &admin).await;
        assert!(
            csv.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"open me\"\")\","),
            "{page}: {csv}"
        );
    }
    store.close().await;
}

on_both_backends!(the_new_pages_say_why_a_table_is_empty_from_the_files_logs);

// ------------------------------------------------------------------ live across processes

/// The `summary` messages of an open `/api/activity/stream`, read by a thread as they come.
fn summaries(addr: &str, cookie: &str) -> std::sync::mpsc::Receiver<Value> {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/activity/stream HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
         Accept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stream).lines();
        let mut event = String::new();
        let mut data = String::new();
        while let Some(Ok(line)) = lines.next() {
            // Chunked transfer: chunk sizes are lines of their own, never `event:`/`data:`.
            if let Some(e) = line.strip_prefix("event: ") {
                event = e.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data.push_str(d);
            } else if line.is_empty() && !data.is_empty() {
                if event == "summary" && tx.send(serde_json::from_str(&data).unwrap()).is_err() {
                    return;
                }
                data.clear();
                event.clear();
            }
        }
    });
    rx
}

/// Waits for a summary with `events` calls, for at most `wait`; the time it took.
fn summary_with(
    rx: &std::sync::mpsc::Receiver<Value>,
    events: u64,
    wait: std::time::Duration,
) -> std::time::Duration {
    let start = std::time::Instant::now();
    loop {
        let left = wait.saturating_sub(start.elapsed());
        let doc = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no summary with {events} events within {wait:?}"));
        if doc["totals"]["events"].as_u64() == Some(events) {
            return start.elapsed();
        }
    }
}

async fn events_another_process_stores_reach_the_stream_within_5s(backend: Backend) {
    let db = TestDb::new(backend).await;
    let running = start(&[
        "--database-url",
        &db.url,
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    let addr = running.addr();
    let session = http_login(&addr, "admin", running.password.as_deref().unwrap()).unwrap();
    let rx = summaries(&addr, &session);
    let first = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    assert!(
        first["empty"]
            .as_str()
            .unwrap()
            .contains("No activity is stored yet"),
        "{first}"
    );

    // Another process stores events in the same database.
    let dir = tempfile::tempdir().unwrap();
    orgwatch_test_support::cloudtrail::replay_files(dir.path(), 3, "live");
    let out = orgwatch!(&db, &["activity", "--from", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = db.store().await;
    let stored: u64 = store
        .raw_query_text("SELECT CAST(COUNT(*) AS TEXT) FROM activity_events", &[])
        .await
        .unwrap()[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(stored > 1000, "{stored}");
    // Its events were committed before it exited: the summary with all of them comes
    // within 5 s of that (or came already).
    let took = summary_with(&rx, stored, std::time::Duration::from_secs(5));
    eprintln!("{backend:?}: stored by another process, on the stream {took:?} after it exited");

    // And again: a second run adds to what the stream shows.
    let more = tempfile::tempdir().unwrap();
    orgwatch_test_support::cloudtrail::replay_files(more.path(), 2, "again");
    let out = orgwatch!(&db, &["activity", "--from", more.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let total: u64 = store
        .raw_query_text("SELECT CAST(COUNT(*) AS TEXT) FROM activity_events", &[])
        .await
        .unwrap()[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > stored, "{total} > {stored}");
    let took = summary_with(&rx, total, std::time::Duration::from_secs(5));
    eprintln!("{backend:?}: second run on the stream {took:?} after it exited");
    store.close().await;
    assert!(running.stop().success());
}

on_both_backends!(events_another_process_stores_reach_the_stream_within_5s);

// ------------------------------------------------------------------ Ingest

/// Writes `n` CloudTrail records of `account`, one a minute from `first` (epoch seconds), as
/// a file of the AWSLogs layout under `root`; returns its path.
fn trail_file(root: &std::path::Path, account: &str, first: i64, n: usize) -> std::path::PathBuf {
    let dir = root.join(format!("AWSLogs/{account}/CloudTrail/eu-west-1/2026/11/23"));
    std::fs::create_dir_all(&dir).unwrap();
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let t = time::OffsetDateTime::from_unix_timestamp(first + 60 * i as i64).unwrap();
            let t = t
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            serde_json::json!({"eventVersion": "1.08", "eventID": format!("{account}-{i}"),
                "eventTime": t, "recipientAccountId": account, "awsRegion": "eu-west-1",
                "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
                "sourceIPAddress": "198.51.100.7", "eventType": "AwsApiCall",
                "userIdentity": {"type": "IAMUser", "userName": "deploy"}})
        })
        .collect();
    let path = dir.join(format!(
        "{account}_CloudTrail_eu-west-1_20261123T1000Z_x.json"
    ));
    std::fs::write(&path, serde_json::json!({ "Records": records }).to_string()).unwrap();
    path
}

/// The files under `dir/sub` whose name ends with `suffix`.
fn files_under(dir: &std::path::Path, sub: &str, suffix: &str) -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(dir.join(sub))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(suffix))
        .collect()
}

type Loads = std::collections::BTreeMap<(String, String, String), String>;

/// The status of each account, region and category of these newest files, and how many
/// accounts have a failed one.
fn check_loads_want(
    newest: &std::collections::BTreeMap<(String, String), &serde_json::Value>,
) -> (Loads, usize) {
    let mut want = Loads::new();
    let mut failing = std::collections::BTreeSet::new();
    for ((account, region), doc) in newest {
        for category in orgwatch_model::Category::ALL {
            let status = match doc["logs"][format!("{category}_status")].as_str() {
                None => "not collected",
                Some(s) if s.eq_ignore_ascii_case("pass") => "pass",
                Some(_) => {
                    failing.insert(account.clone());
                    "fail"
                }
            };
            want.insert(
                (account.clone(), region.clone(), category.to_string()),
                status.to_owned(),
            );
        }
    }
    (want, failing.len())
}

/// The loads table and the failing accounts of `doc` are those of the newest files.
fn check_loads(
    doc: &Value,
    newest: &std::collections::BTreeMap<(String, String), &serde_json::Value>,
) {
    let (want, failing) = check_loads_want(newest);
    let got: Loads = rows(doc, "loads")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            ((s("account_id"), s("region"), s("category")), s("status"))
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(doc["totals"]["accounts_failing"], failing as u64);
    for r in rows(doc, "loads") {
        // The sender writes a message for each failure, and only for failures.
        let message = r["message"].as_str().unwrap();
        assert_eq!(r["status"] == "fail", !message.is_empty(), "{r}");
    }
}

/// The Ingest page against the files: a demo organisation (with its injected collection
/// failures), one malformed file quarantined, CloudTrail files of two accounts; then a
/// viewer limited to one account gets no row of another.
async fn the_ingest_page_shows_loads_failures_and_the_ledger_of_the_files(
    backend: Backend,
    seed: &str,
    accounts: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), seed, accounts, "20", "2026-11-24");
    let files = common::daily_files(dir.path());
    let ids: Vec<String> = files
        .iter()
        .map(|f| f.0.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(ids.len() >= 2, "{ids:?}");
    let (mine, other) = (ids[0].clone(), ids[1].clone());
    // A malformed delivery of the other account: quarantined with its reason.
    let region = &files.iter().find(|f| f.0 == other).unwrap().1;
    let bad = dir
        .path()
        .join(format!("data/{other}/{region}/2026-11-26_DAILY.json"));
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, b"{\"account\": {\"account_id\": ").unwrap();
    let out = orgwatch!(&db, &["ingest", "--from", dir.path().to_str().unwrap()]);
    // A run that quarantined a file says so, and in its exit status.
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("quarantined"),
        "{}",
        text(&out.stderr)
    );
    // CloudTrail: 5 events of mine, 7 of the other's, the newest at 10:06.
    let first = common::date("2026-11-23")
        .with_hms(10, 0, 0)
        .unwrap()
        .assume_utc()
        .unix_timestamp();
    let trail = dir.path().join("trail");
    trail_file(&trail, &mine, first, 5);
    trail_file(&trail, &other, first, 7);
    let out = orgwatch!(&db, &["activity", "--from", trail.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let store = db.store().await;
    // An organisation trail's files (AWSLogs/o-…/ACCOUNT/) that could not be read, one per
    // account, and a stream of no account.
    for account in [&mine, &other] {
        let path = format!(
            "AWSLogs/o-a1b2c3d4e5/{account}/CloudTrail/eu-west-1/2026/11/23/{account}_x.json.gz"
        );
        store
            .activity_file_failed(&path, 10, "gzip: unexpected end of file")
            .await
            .unwrap();
    }
    store
        .activity_file_failed("(a stream)", 0, "closed")
        .await
        .unwrap();
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let newest = first + 6 * 60;
    let now = newest + 3 * 3600 + 20 * 60;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        std::sync::Arc::new(move || now),
    ));
    let admin = login(&app, "admin").await;
    let doc = json(&app, "/api/ingest", &admin).await;

    // Independently, from the files: every loaded file, the quarantined one, and each
    // account and region's newest daily file's category statuses.
    let loaded = files_under(dir.path(), "loaded", ".json").len();
    let failed: Vec<_> = files_under(dir.path(), "failed", "")
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".error.txt"))
        .collect();
    // The demo's own truncated delivery and ours.
    assert_eq!(failed.len(), 2, "{failed:?}");
    let failed_of = |account: &str| {
        failed
            .iter()
            .filter(|p| p.to_string_lossy().contains(&format!("failed/{account}/")))
            .count()
    };
    let last_day = files.iter().map(|f| f.2).max().unwrap();
    check_loads(&doc, &common::newest_files(&files, last_day));
    // The newest day whose newest files hold an injected failure, seen as of that day.
    let fail_day = (0..)
        .map(|back| last_day - time::Duration::days(back))
        .find(|d| check_loads_want(&common::newest_files(&files, *d)).1 > 0)
        .unwrap();
    let at = json(
        &app,
        &format!("/api/ingest?to={}", orgwatch_model::Day(fail_day)),
        &admin,
    )
    .await;
    assert_eq!(at["as_of"], orgwatch_model::Day(fail_day).to_string());
    check_loads(&at, &common::newest_files(&files, fail_day));
    let totals = &doc["totals"];
    assert_eq!(totals["files_loaded"], loaded as u64);
    assert_eq!(totals["files_failed"], failed.len() as u64);
    assert_eq!(totals["ledger_files"], 5);
    assert_eq!(totals["events_stored"], 12);
    assert_eq!(totals["newest_event"], "2026-11-23T10:06:00Z");
    assert_eq!(totals["ingest_lag_seconds"], now - newest);
    assert!(totals["last_load"].as_str().is_some(), "{totals}");

    let failed_rows = rows(&doc, "failed_files");
    assert_eq!(failed_rows.len(), failed.len(), "{failed_rows:?}");
    // Newest first: ours.
    let row = &failed_rows[0];
    assert_eq!(row["account_id"], other.as_str());
    assert_eq!(
        row["file"],
        format!("data/{other}/{region}/2026-11-26_DAILY.json")
    );
    let reason = row["reason"].as_str().unwrap();
    let note = std::fs::read_to_string(
        files_under(dir.path(), "failed", ".error.txt")
            .into_iter()
            .find(|p| p.to_string_lossy().contains("2026-11-26_DAILY"))
            .unwrap(),
    )
    .unwrap();
    assert!(
        !reason.is_empty() && note.contains(reason),
        "{reason:?} / {note:?}"
    );

    let ledger = rows(&doc, "cloudtrail_files");
    assert_eq!(ledger.len(), 5);
    // Newest first: the stream, the organisation trail's files, then the files read.
    let states: Vec<&str> = ledger
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    let gzip = "failed: gzip: unexpected end of file";
    assert_eq!(states, ["failed: closed", gzip, gzip, "read", "read"]);
    let mut events: Vec<(String, i64)> = ledger
        .iter()
        .filter(|r| r["state"] == "read")
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_owned(),
                r["events"].as_i64().unwrap(),
            )
        })
        .collect();
    events.sort();
    let want: Vec<(String, i64)> = {
        let mut w = vec![
            (files_under(&trail, &format!("AWSLogs/{mine}"), ".json"), 5),
            (files_under(&trail, &format!("AWSLogs/{other}"), ".json"), 7),
        ]
        .into_iter()
        .map(|(p, n)| (p[0].strip_prefix(&trail).unwrap().display().to_string(), n))
        .collect::<Vec<_>>();
        w.sort();
        w
    };
    assert_eq!(events.len(), want.len());
    for ((path, n), (suffix, m)) in events.iter().zip(&want) {
        assert!(path.ends_with(suffix.as_str()), "{path} / {suffix}");
        assert_eq!(n, m);
    }

    let page = get(&app, "/ingest", &admin).await;
    assert!(page.contains("href=\"/ingest\" aria-current=\"page\""));
    assert_eq!(by_id(&page, "total-files-failed"), failed.len().to_string());
    assert_eq!(by_id(&page, "total-ingest-lag"), "3 h 20 min");
    assert_eq!(by_id(&page, "total-events-stored"), "12");
    let csv = get(&app, "/api/ingest.csv?table=failed_files", &admin).await;
    assert!(
        csv.starts_with("account_id,name,file,failed,reason"),
        "{csv}"
    );
    assert!(csv.contains(&other), "{csv}");

    // A viewer limited to `mine` gets not one row of the other account, and what an admin
    // gets filtered to it.
    add_user(
        &store,
        "one",
        Role::Viewer,
        &Access::Limited(Limits {
            accounts: vec![orgwatch_model::AccountId::parse(&mine).unwrap()],
            ..Limits::default()
        }),
    )
    .await;
    let one = login(&app, "one").await;
    let seen = json(&app, "/api/ingest", &one).await;
    let filtered = json(&app, &format!("/api/ingest?account={mine}"), &admin).await;
    assert_eq!(seen, filtered);
    // Their own trail's file and their organisation trail's, not the stream.
    let theirs = rows(&seen, "cloudtrail_files");
    assert_eq!(theirs.len(), 2, "{theirs:?}");
    assert!(theirs
        .iter()
        .all(|r| r["file"].as_str().unwrap().contains(&format!("/{mine}/"))));
    assert_eq!(rows(&seen, "failed_files").len(), failed_of(&mine));
    assert_eq!(seen["totals"]["events_stored"], 5);
    assert!(!rows(&seen, "loads").is_empty());
    let mut paths = vec![
        "/ingest".to_owned(),
        "/api/ingest".to_owned(),
        format!("/api/ingest?account={other}"),
        format!("/ingest?account={other},{mine}"),
        "/ingest?sort=failed_files.account_id&dir=desc".to_owned(),
    ];
    for table in table_ids(&doc) {
        paths.push(format!("/api/ingest.csv?table={table}"));
        paths.push(format!("/api/ingest?format=csv&table={table}"));
    }
    for path in &paths {
        let body = without_echo(&get(&app, path, &one).await);
        assert!(!body.contains(other.as_str()), "{other} leaked into {path}");
    }
    store.close().await;
}

async fn the_ingest_page_is_the_files(backend: Backend) {
    the_ingest_page_shows_loads_failures_and_the_ledger_of_the_files(backend, "3", "3").await;
    the_ingest_page_shows_loads_failures_and_the_ledger_of_the_files(backend, "8", "5").await;
}

on_both_backends!(the_ingest_page_is_the_files);

// ------------------------------------------------------------------ What changed

/// A table's rows as tuples of the given columns, as text.
fn keyed(doc: &Value, table: &str, columns: &[&str]) -> Vec<Vec<String>> {
    rows(doc, table)
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| match &r[*c] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// Every "What changed" table of the pages and the Overview's counts between `from` and
/// `to` (the pages' default range when `None`) against the files.
async fn the_changes_are_the_files(
    app: &Router,
    admin: &str,
    dir: &std::path::Path,
    range: Option<(time::Date, time::Date)>,
) -> common::ExpectedChanges {
    use std::collections::{BTreeMap, BTreeSet};
    let (from, to, q) = match range {
        Some((from, to)) => (
            from,
            to,
            format!(
                "?from={}&to={}",
                orgwatch_model::Day(from),
                orgwatch_model::Day(to)
            ),
        ),
        None => {
            let to = common::expected(dir).security_day.unwrap();
            (to - time::Duration::days(29), to, String::new())
        }
    };
    let want = common::expected_changes(dir, from, to);
    let set = |doc: &Value, table: &str, columns: &[&str]| -> BTreeSet<Vec<String>> {
        let rows = keyed(doc, table, columns);
        let set: BTreeSet<Vec<String>> = rows.iter().cloned().collect();
        assert_eq!(set.len(), rows.len(), "{table}: a row listed twice");
        set
    };
    let strings = |v: Vec<Vec<&str>>| -> BTreeSet<Vec<String>> {
        v.into_iter()
            .map(|r| r.into_iter().map(str::to_owned).collect())
            .collect()
    };

    let security = json(app, &format!("/api/security{q}"), admin).await;
    let range_json = serde_json::json!({
        "from": orgwatch_model::Day(from).to_string(),
        "to": orgwatch_model::Day(to).to_string(),
    });
    assert_eq!(security["changes"], range_json);
    assert_eq!(
        set(
            &security,
            "changes_findings",
            &["account_id", "change", "finding_id"]
        ),
        strings(
            want.findings
                .iter()
                .map(|(a, c, f)| vec![a.as_str(), c.as_str(), f.as_str()])
                .collect()
        )
    );
    assert_eq!(
        set(&security, "changes_certificates", &["account_id", "arn"]),
        strings(
            want.certificates
                .iter()
                .map(|(a, arn)| vec![a.as_str(), arn.as_str()])
                .collect()
        )
    );
    assert_eq!(
        set(&security, "changes_new_accounts", &["account_id"]),
        strings(want.new_accounts.iter().map(|a| vec![a.as_str()]).collect())
    );
    let compliance = json(app, &format!("/api/compliance{q}"), admin).await;
    let accounts: BTreeSet<Vec<String>> = want
        .accounts
        .iter()
        .map(|(a, c, b, n)| vec![a.clone(), c.clone(), b.to_string(), n.to_string()])
        .collect();
    assert_eq!(
        set(
            &compliance,
            "changes_compliance_accounts",
            &[
                "account_id",
                "change",
                "non_compliant_rules_from",
                "non_compliant_rules_to"
            ]
        ),
        accounts
    );
    assert_eq!(
        set(
            &compliance,
            "changes_compliance_rules",
            &["account_id", "region", "rule", "change"]
        ),
        strings(
            want.rules
                .iter()
                .map(|(a, r, rule, c)| vec![a.as_str(), r.as_str(), rule.as_str(), c.as_str()])
                .collect()
        )
    );
    let cost = json(app, &format!("/api/cost{q}"), admin).await;
    let movers = rows(&cost, "changes_cost");
    let got: BTreeMap<(String, String), (i64, i64)> = movers
        .iter()
        .map(|m| {
            (
                (
                    m["account_id"].as_str().unwrap().to_owned(),
                    m["service"].as_str().unwrap().to_owned(),
                ),
                (
                    cents(m["from_cost"].as_f64().unwrap()),
                    cents(m["to_cost"].as_f64().unwrap()),
                ),
            )
        })
        // A change of less than half a cent is a mover the files round away.
        .filter(|(_, (b, a))| b != a)
        .collect();
    assert_eq!(got, want.cost);
    // Biggest absolute change first.
    let changes: Vec<f64> = movers
        .iter()
        .map(|m| m["change"].as_f64().unwrap().abs())
        .collect();
    assert!(changes.windows(2).all(|w| w[0] >= w[1]), "{changes:?}");
    let inventory = json(app, &format!("/api/inventory{q}"), admin).await;
    assert_eq!(
        set(
            &inventory,
            "changes_instances",
            &["account_id", "change", "instance_id"]
        ),
        strings(
            want.instances
                .iter()
                .map(|(a, c, i)| vec![a.as_str(), c.as_str(), i.as_str()])
                .collect()
        )
    );
    // The Overview counts the same.
    let overview = json(app, &format!("/api/overview{q}"), admin).await;
    let count = |kind: &str| overview["changes"]["counts"][kind].as_u64().unwrap() as usize;
    let of = |change: &str| want.findings.iter().filter(|f| f.1 == change).count();
    assert_eq!(count("new_findings"), of("new"));
    assert_eq!(count("resolved_findings"), of("resolved"));
    assert_eq!(
        count("certificates_newly_expiring"),
        want.certificates.len()
    );
    assert_eq!(count("new_accounts"), want.new_accounts.len());
    assert_eq!(
        count("new_instances") + count("removed_instances"),
        want.instances.len()
    );
    assert_eq!(
        count("accounts_fell_out") + count("accounts_came_back"),
        want.accounts.len()
    );
    assert_eq!(count("cost_movers"), movers.len());
    want
}

async fn the_changes_between_two_days_of_the_demo_are_its_files(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    load_demo(&db, dir.path(), "11", "4", "70", "2026-11-24");
    let store = db.store().await;
    add_user(&store, "admin", Role::Admin, &Access::All).await;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let admin = login(&app, "admin").await;
    let d = common::date;
    // The default range: the demo's findings open and resolve, its costs move.
    let want = the_changes_are_the_files(&app, &admin, dir.path(), None).await;
    assert!(want.findings.iter().any(|f| f.1 == "new"), "{want:?}");
    assert!(want.findings.iter().any(|f| f.1 == "resolved"), "{want:?}");
    assert!(!want.cost.is_empty());
    assert!(want.new_accounts.is_empty());
    // Two other ranges, a long and a short one.
    the_changes_are_the_files(
        &app,
        &admin,
        dir.path(),
        Some((d("2026-10-01"), d("2026-11-20"))),
    )
    .await;
    the_changes_are_the_files(
        &app,
        &admin,
        dir.path(),
        Some((d("2026-11-22"), d("2026-11-23"))),
    )
    .await;
    // From before the demo's first file: every account is new, nothing is a change.
    let want = the_changes_are_the_files(
        &app,
        &admin,
        dir.path(),
        Some((d("2026-09-01"), d("2026-11-23"))),
    )
    .await;
    assert_eq!(want.new_accounts.len(), 4);
    assert!(want.findings.is_empty() && want.cost.is_empty());
    // The pages show the section, its heading naming the range.
    for page in ["/", "/cost", "/security", "/compliance", "/inventory"] {
        let html = get(
            &app,
            &format!("{page}?from=2026-10-01&to=2026-11-20"),
            &admin,
        )
        .await;
        assert!(
            html.contains("What changed between 2026-10-01 and 2026-11-20"),
            "{page}"
        );
    }
    store.close().await;
}

on_both_backends!(the_changes_between_two_days_of_the_demo_are_its_files);
