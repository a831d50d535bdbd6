//! The web app in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`, which `scripts/test` installs) on the demo organisation.
//! It logs in, visits every page of the navigation, checks that every table has rows and
//! every chart drew, follows a drill-down, saves a screenshot of each page under
//! `target/tmp/screenshots/` and runs axe-core (npm, `ORGWATCH_AXE_JS`, installed by
//! `scripts/test`) on each page: no serious or critical violation.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use orgwatch_test_support::cli::Served;
use orgwatch_test_support::orgwatch;
use serde_json::{json, Value};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Every page the navigation links to, at least (the test follows the links it finds).
const PAGES: &[&str] = &[
    "/",
    "/cost",
    "/security",
    "/compliance",
    "/inventory",
    "/operations",
    "/activity",
    "/ingest",
    "/admin/users",
];

/// ChromeDriver on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: install Debian's chromium and chromium-driver \
                 (scripts/test does so as root)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let driver = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }

    async fn browser(&self) -> Client {
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,1024",
                ],
            }
        });
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session from chromedriver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn axe_source() -> String {
    let path = std::env::var("ORGWATCH_AXE_JS").expect(
        "ORGWATCH_AXE_JS is not set: scripts/test installs axe-core with npm and sets it \
         (or: npm install --prefix DIR axe-core@4; ORGWATCH_AXE_JS=DIR/node_modules/axe-core/axe.min.js)",
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The path of the page the browser shows.
async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_owned()
}

/// Polls `script` (returning a JSON array of problems) until it returns none or `wait` ends;
/// the last problems.
async fn settle(c: &Client, script: &str, wait: Duration) -> Vec<Value> {
    let deadline = Instant::now() + wait;
    loop {
        let problems = c.execute(script, vec![]).await.unwrap();
        let problems = problems.as_array().cloned().unwrap_or_default();
        if problems.is_empty() || Instant::now() >= deadline {
            return problems;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Tables whose body has no row, as `id`.
const EMPTY_TABLES: &str = "return [...document.querySelectorAll('table')]
    .filter(t => !t.tBodies.length || t.tBodies[0].rows.length === 0)
    .map(t => t.id || t.className);";

/// Charts (`[data-chart]`) that drew nothing: no canvas or SVG with a size.
const EMPTY_CHARTS: &str = "return [...document.querySelectorAll('[data-chart]')]
    .filter(e => { const g = e.querySelector('canvas, svg');
                   return !g || g.clientWidth === 0 || g.clientHeight === 0; })
    .map(e => e.id || e.dataset.chart);";

/// The page's headline figures, as one text.
const FIGURES: &str =
    "return [...document.querySelectorAll('.figure')].map(e => e.textContent).join(' | ');";

/// axe-core's serious and critical violations of the page, one line each.
async fn accessibility(c: &Client, axe: &str) -> Vec<String> {
    c.execute(axe, vec![]).await.unwrap();
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(r.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '
                        + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

async fn log_in(c: &Client, base: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("admin")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_url(&format!("{base}/").parse().unwrap())
        .await
        .expect("logged in, on the Overview");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_renders_the_demo_with_data_and_no_serious_accessibility_violation() {
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    let mut cmd = orgwatch!();
    cmd.args([
        "--database-url",
        &db,
        "demo",
        // Seed 1: three of the six accounts subscribe to a Marketplace product.
        "--seed",
        "1",
        "--accounts",
        "6",
        "--days",
        "70",
        "--end-date",
        "2026-11-24",
        "--listen",
        "127.0.0.1:0",
    ])
    .arg("--dir")
    .arg(dir.path());
    let demo = Served::start(cmd);
    let base = demo.url.trim_end_matches('/').to_owned();
    let password = demo.password.clone().expect("the demo prints a password");

    let driver = Driver::start();
    let c = driver.browser().await;

    // Without a session every page leads to the login form.
    c.goto(&format!("{base}/cost")).await.unwrap();
    assert_eq!(path(&c).await, "/login");

    log_in(&c, &base, &password).await;

    let mut links = Vec::new();
    for a in c
        .find_all(Locator::Css("nav[aria-label=Pages] a"))
        .await
        .unwrap()
    {
        links.push(a.attr("href").await.unwrap().unwrap());
    }
    for page in PAGES {
        assert!(
            links.iter().any(|l| l == page),
            "{page} not in the navigation: {links:?}"
        );
    }

    let shots = screenshots();
    let mut problems = Vec::new();
    for link in &links {
        c.goto(&format!("{base}{link}")).await.unwrap();
        assert_eq!(&path(&c).await, link, "still logged in on {link}");
        let tables = c.find_all(Locator::Css("table")).await.unwrap().len();
        assert!(tables > 0, "{link} shows no table");
        // The Activity page's alarms come with the replay's first scores (stored with the
        // detector's checkpoint, every 30 s), through the live stream.
        let wait = if link == "/activity" { 180 } else { 10 };
        for t in settle(&c, EMPTY_TABLES, Duration::from_secs(wait)).await {
            problems.push(format!("{link}: table {t} has no rows"));
        }
        for chart in settle(&c, EMPTY_CHARTS, Duration::from_secs(10)).await {
            problems.push(format!("{link}: chart {chart} drew nothing"));
        }
        let name = match link.trim_matches('/') {
            "" => "overview".to_owned(),
            other => other.replace('/', "_"),
        };
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot of {link}");
        let file = shots.join(format!("{name}.png"));
        std::fs::write(&file, png).unwrap();
        println!("{link}: {tables} tables; screenshot {}", file.display());
        for v in accessibility(&c, &axe).await {
            problems.push(format!("{link}: {v}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // A drill-down: a column header re-sorts the table in place and keeps its rows.
    c.goto(&format!("{base}/cost")).await.unwrap();
    let header = c.find(Locator::Css("table thead th a")).await.unwrap();
    let target = header.attr("href").await.unwrap().unwrap();
    header.click().await.unwrap();
    let shown = c.current_url().await.unwrap();
    assert!(
        target.contains(shown.query().unwrap_or("-")),
        "followed {target}, at {shown}"
    );
    assert!(settle(&c, EMPTY_TABLES, Duration::from_secs(5))
        .await
        .is_empty());

    // The Activity page follows the demo's replay without a reload: the stream's updates
    // redraw its figures while a marker set on the page survives.
    c.goto(&format!("{base}/activity")).await.unwrap();
    let before = c.execute(FIGURES, vec![]).await.unwrap();
    c.execute("window.orgwatchNotReloaded = true;", vec![])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = c.execute(FIGURES, vec![]).await.unwrap();
        let updates = c
            .execute(
                "return Number(document.getElementById('live-status').dataset.updates || 0);",
                vec![],
            )
            .await
            .unwrap();
        if now != before && updates.as_u64().unwrap_or(0) >= 2 {
            println!("/activity: {before} became {now} after {updates} stream updates");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the Activity page did not change within 60 s: {before}, {updates} updates"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let same_page = c
        .execute("return window.orgwatchNotReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, json!(true), "the page was not reloaded");

    // Clicking a bar of the top-services chart drills down to that service's recent events.
    let chart = c.find(Locator::Id("chart-services")).await.unwrap();
    let offset = c
        .execute(
            "const el = document.getElementById('chart-services');
             el.scrollIntoView({ block: 'center' });
             const chart = echarts.getInstanceByDom(el);
             const bar = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(0);
             return [bar.x + bar.width / 2 - el.clientWidth / 2,
                     bar.y + bar.height / 2 - el.clientHeight / 2];",
            vec![],
        )
        .await
        .unwrap();
    let click = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement {
            element: chart,
            duration: None,
            x: offset[0].as_f64().unwrap(),
            y: offset[1].as_f64().unwrap(),
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(click).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while path(&c).await != "/activity/events" {
        assert!(Instant::now() < deadline, "a bar click did not drill down");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drill = c.current_url().await.unwrap();
    assert!(drill.query().unwrap_or("").contains("service="), "{drill}");
    assert!(settle(&c, EMPTY_TABLES, Duration::from_secs(5))
        .await
        .is_empty());
    let shot = screenshots().join("activity_events.png");
    std::fs::write(&shot, c.screenshot().await.unwrap()).unwrap();
    println!("{drill}: screenshot {}", shot.display());

    // Logging out ends the session: pages lead to the login form again.
    c.find(Locator::Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.goto(&format!("{base}/cost")).await.unwrap();
    assert_eq!(path(&c).await, "/login");

    c.close().await.unwrap();
    drop(driver);
    assert!(demo.stop().success());
}
