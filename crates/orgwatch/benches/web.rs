//! The web app under load (`bench/web`): an organisation of `ORGWATCH_BENCH_WEB_ACCOUNTS`
//! (1,000) accounts x `ORGWATCH_BENCH_WEB_DAYS` (90) days loaded by `orgwatch demo`, a
//! CloudTrail corpus stored by `orgwatch activity`, then a real `orgwatch serve` hit by `wrk`
//! with `ORGWATCH_BENCH_WEB_CONNECTIONS` (32) connections for `ORGWATCH_BENCH_WEB_SECONDS` (60)
//! per target: the Overview, Cost and Activity APIs and pages, each beside the same server
//! answering a static body of the same size (`/bench/static/{bytes}`: from memory, behind the
//! same layers and session check, no query), p50 and p99 side by side. Then the activity
//! pipeline's speed: a second corpus of the same size stored alone, then one more while `wrk`
//! loads every page and API at once.
//!
//! On SQLite, and on PostgreSQL when `ORGWATCH_BENCH_POSTGRES_URL` names a server (the
//! `bench/web` script starts a durable throwaway cluster). Corpora are kept under
//! `ORGWATCH_BENCH_DIR` (default `$HOME/.cache/orgwatch-bench`). Without `--bench`
//! (`cargo test --benches`) a tiny organisation and 1-second runs only check that the
//! benchmark still works. Needs `wrk` on the PATH (scripts/test installs Debian's).
// Benchmarks link every dependency of the package and use a few; a failed setup panics.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "activity/corpus.rs"]
mod corpus;

use corpus::CorpusOptions;
use orgwatch_test_support::cli::Served;
use orgwatch_test_support::http::{http_get, http_login};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn orgwatch() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_orgwatch"));
    c.env_remove("ORGWATCH_DATABASE_URL").env("NO_COLOR", "1");
    c
}

/// What one run measures.
struct Sizes {
    accounts: u64,
    days: u64,
    seconds: u64,
    connections: u64,
    events: u64,
    /// Days loaded per `demo` run.
    chunk_days: u64,
}

/// The targets: the Overview, Cost and Activity APIs and pages.
const TARGETS: &[&str] = &[
    "/api/overview",
    "/api/cost",
    "/api/activity",
    "/",
    "/cost",
    "/activity",
];

/// What `wrk` reported.
#[derive(Debug, Default, Clone)]
struct Load {
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    per_second: f64,
    /// Non-2xx/3xx responses plus socket errors (connect, read, write, timeout).
    errors: u64,
}

/// A `wrk` duration (`812.00us`, `1.20ms`, `2.01s`, `1.00m`) in milliseconds.
fn millis(s: &str) -> f64 {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => f64::NAN,
    }
}

/// Parses `wrk --latency` output.
fn parse_wrk(out: &str) -> Load {
    let mut load = Load::default();
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => load.p50_ms = millis(v),
            ["99%", v] => load.p99_ms = millis(v),
            [n, "requests", "in", ..] => load.requests = n.parse().unwrap_or(0),
            ["Requests/sec:", v] => load.per_second = v.parse().unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => load.errors += n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                // connect N, read N, write N, timeout N
                load.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    load
}

fn wrk_command(sizes: &Sizes, cookie: &str, seconds: u64) -> Command {
    let mut c = Command::new(std::env::var("ORGWATCH_BENCH_WRK").unwrap_or("wrk".into()));
    c.args(["-t2", "--latency", "--timeout", "10s"])
        .arg(format!("-c{}", sizes.connections))
        .arg(format!("-d{seconds}s"))
        .arg("-H")
        .arg(format!("Cookie: {cookie}"));
    c
}

/// `wrk` on one URL for the run's seconds.
fn wrk(sizes: &Sizes, cookie: &str, url: &str) -> Load {
    let out = wrk_command(sizes, cookie, sizes.seconds)
        .arg(url)
        .output()
        .expect("wrk runs (apt-get install wrk; scripts/test installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk {url}: {text}");
    let mut load = parse_wrk(&text);
    if load.requests == 0 {
        // Every request outlived wrk's 10 s timeout: no latency to report, all errors.
        println!("wrk {url}: no request completed in {} s", sizes.seconds);
        load.p50_ms = f64::INFINITY;
        load.p99_ms = f64::INFINITY;
        load.errors = load.errors.max(1);
    }
    load
}

/// `wrk` on every target in turn (a Lua script picks the next path per request), until
/// stopped with SIGINT; its output is read when it ends.
fn wrk_mix(sizes: &Sizes, cookie: &str, base: &str, dir: &Path) -> Child {
    let script = dir.join("mix.lua");
    let paths: Vec<String> = TARGETS.iter().map(|p| format!("{p:?}")).collect();
    std::fs::write(
        &script,
        format!(
            "local paths = {{{}}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  \
             return wrk.format(\"GET\", paths[i])\nend\n",
            paths.join(", ")
        ),
    )
    .unwrap();
    wrk_command(sizes, cookie, 3600)
        .arg("-s")
        .arg(&script)
        .arg(base)
        .stdout(Stdio::piped())
        .spawn()
        .expect("wrk runs")
}

/// A corpus of CloudTrail files (the activity bench's generator) with its own seed.
fn corpus(root: &Path, sizes: &Sizes, seed: u64) -> PathBuf {
    let dir = root.join(format!("web-activity-{}ev-seed{seed}", sizes.events));
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/cloudtrail");
    let stats = corpus::ensure(
        &samples,
        &dir,
        &CorpusOptions {
            events: sizes.events,
            accounts: 50,
            seed,
            threads: 2,
            hourly: false,
        },
    );
    assert_eq!(stats.events, sizes.events);
    dir
}

/// Stores a corpus; events per second.
fn store_activity(db: &str, dir: &Path, events: u64) -> f64 {
    let t = Instant::now();
    let out = orgwatch()
        .args([
            "--database-url",
            db,
            "activity",
            "--report",
            "json",
            "--from",
        ])
        .arg(dir.join("AWSLogs"))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "activity: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    events as f64 / t.elapsed().as_secs_f64()
}

/// One row of the result: a target beside the static body of its size.
struct Row {
    backend: &'static str,
    target: &'static str,
    bytes: usize,
    app: Load,
    baseline: Load,
}

/// The pipeline's speed alone and under the mixed load.
struct Pipeline {
    backend: &'static str,
    alone: f64,
    loaded: f64,
    mix: Load,
}

fn run_backend(
    backend: &'static str,
    db: &str,
    sizes: &Sizes,
    corpora: &[PathBuf; 3],
    work: &Path,
) -> (Vec<Row>, Pipeline) {
    let t = Instant::now();
    // In chunks of days, oldest first, each chunk's files deleted once loaded: 1,000 accounts
    // x 90 days at once would be 9 GB of files beside the database. The organisation's
    // accounts depend on the seed only, so the chunks make one history.
    let end = time::macros::date!(2026 - 11 - 30);
    let mut left = sizes.days;
    while left > 0 {
        let days = left.min(sizes.chunk_days);
        let chunk_end = end - time::Duration::days(i64::try_from(left - days).unwrap());
        left -= days;
        let demo = work.join(format!("demo-{backend}"));
        let out = orgwatch()
            .args(["--database-url", db, "demo", "--no-serve"])
            .args(["--end-date", &chunk_end.to_string()])
            .args(["--accounts", &sizes.accounts.to_string()])
            .args(["--days", &days.to_string()])
            .arg("--dir")
            .arg(&demo)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "demo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_dir_all(&demo).unwrap();
    }
    println!(
        "{backend}: {} accounts x {} days loaded in {:.1} s",
        sizes.accounts,
        sizes.days,
        t.elapsed().as_secs_f64()
    );
    // The activity the pages show, then the pipeline alone on a second corpus.
    store_activity(db, &corpora[0], sizes.events);
    let alone = store_activity(db, &corpora[1], sizes.events);

    let mut serve = orgwatch();
    serve.args(["--database-url", db, "serve", "--listen", "127.0.0.1:0"]);
    serve.args(["--bench-static-bytes", &(64 * 1024 * 1024).to_string()]);
    let served = Served::start(serve);
    let addr = served.addr();
    let password = served.password.clone().expect("a new admin's password");
    let cookie = http_login(&addr, "admin", &password).expect("the admin logs in");
    let mut rows = Vec::new();
    for &target in TARGETS {
        let (status, response) = http_get(&addr, target, &cookie);
        assert_eq!(status, 200, "{target}: {response}");
        let bytes = content_length(&response).expect("a Content-Length");
        let app = wrk(sizes, &cookie, &format!("http://{addr}{target}"));
        let baseline = wrk(
            sizes,
            &cookie,
            &format!("http://{addr}/bench/static/{bytes}"),
        );
        let row = Row {
            backend,
            target,
            bytes,
            app,
            baseline,
        };
        // Printed as measured too: a long run that fails later keeps its figures.
        println!("{}", row_line(&row));
        rows.push(row);
    }
    let mix = wrk_mix(sizes, &cookie, &format!("http://{addr}"), work);
    let loaded = store_activity(db, &corpora[2], sizes.events);
    let stopped = Command::new("kill")
        .args(["-INT", &mix.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let out = mix.wait_with_output().unwrap();
    let mix = parse_wrk(&String::from_utf8_lossy(&out.stdout));
    // wrk counts a 3xx as success: a session that expired mid-run would have measured the
    // redirect to the login form.
    let (status, _) = http_get(&addr, "/", &cookie);
    assert_eq!(status, 200, "the session outlived the run");
    assert!(served.stop().success());
    (
        rows,
        Pipeline {
            backend,
            alone,
            loaded,
            mix,
        },
    )
}

/// One row of the table of results.
fn row_line(r: &Row) -> String {
    format!(
        "| {} | `{}` | {} | {:.2} | {:.2} | {:.0} | {} | {:.2} | {:.2} | {:.0} | {:.1} |",
        r.backend,
        r.target,
        r.bytes,
        r.app.p50_ms,
        r.app.p99_ms,
        r.app.per_second,
        r.app.errors,
        r.baseline.p50_ms,
        r.baseline.p99_ms,
        r.baseline.per_second,
        r.app.p99_ms / r.baseline.p99_ms
    )
}

fn content_length(response: &str) -> Option<usize> {
    response
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
}

async fn fresh_postgres(admin: &str) -> (String, String) {
    let name = format!("orgwatch_bench_web_{}", std::process::id());
    let pool = sqlx::PgPool::connect(admin)
        .await
        .expect("connect to the PostgreSQL server");
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    (format!("{base}/{name}"), name)
}

async fn drop_postgres(admin: &str, name: &str) {
    let pool = sqlx::PgPool::connect(admin).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await;
    pool.close().await;
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full {
        Sizes {
            accounts: env_u64("ORGWATCH_BENCH_WEB_ACCOUNTS", 1000),
            days: env_u64("ORGWATCH_BENCH_WEB_DAYS", 90),
            seconds: env_u64("ORGWATCH_BENCH_WEB_SECONDS", 60),
            connections: env_u64("ORGWATCH_BENCH_WEB_CONNECTIONS", 32),
            events: env_u64("ORGWATCH_BENCH_WEB_EVENTS", 1_000_000),
            chunk_days: env_u64("ORGWATCH_BENCH_WEB_CHUNK_DAYS", 10).max(1),
        }
    } else {
        Sizes {
            accounts: 3,
            days: 3,
            seconds: 1,
            connections: 4,
            events: 2_000,
            chunk_days: 2,
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = if full {
        std::env::var_os("ORGWATCH_BENCH_DIR").map_or_else(
            || PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/orgwatch-bench"),
            PathBuf::from,
        )
    } else {
        tmp.path().to_owned()
    };
    std::fs::create_dir_all(&root).unwrap();
    let corpora = [4201, 4202, 4203].map(|seed| corpus(&root, &sizes, seed));
    println!(
        "bench/web: {} accounts x {} days, {} connections, {} s per target, corpora of {} events",
        sizes.accounts, sizes.days, sizes.connections, sizes.seconds, sizes.events
    );

    let mut rows = Vec::new();
    let mut pipelines = Vec::new();
    let sqlite = format!("sqlite://{}", tmp.path().join("web.db").display());
    let (r, p) = run_backend("sqlite", &sqlite, &sizes, &corpora, tmp.path());
    rows.extend(r);
    pipelines.push(p);
    if let Ok(admin) = std::env::var("ORGWATCH_BENCH_POSTGRES_URL") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (url, name) = rt.block_on(fresh_postgres(&admin));
        let (r, p) = run_backend("postgres", &url, &sizes, &corpora, tmp.path());
        rows.extend(r);
        pipelines.push(p);
        rt.block_on(drop_postgres(&admin, &name));
    } else {
        println!("postgres: skipped (set ORGWATCH_BENCH_POSTGRES_URL)");
    }

    println!();
    println!(
        "| backend | target | bytes | p50 ms | p99 ms | req/s | errors | static p50 ms | static p99 ms | static req/s | p99 / static p99 |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!("{}", row_line(r));
    }
    println!();
    println!("| backend | activity alone, events/s | under load, events/s | ratio | mixed load: req/s, p99 ms, errors |");
    println!("|---|---:|---:|---:|---|");
    for p in &pipelines {
        println!(
            "| {} | {:.0} | {:.0} | {:.2} | {:.0}, {:.2}, {} |",
            p.backend,
            p.alone,
            p.loaded,
            p.loaded / p.alone,
            p.mix.per_second,
            p.mix.p99_ms,
            p.mix.errors
        );
    }
    let errors: u64 = rows
        .iter()
        .map(|r| r.app.errors + r.baseline.errors)
        .sum::<u64>()
        + pipelines.iter().map(|p| p.mix.errors).sum::<u64>();
    assert_eq!(errors, 0, "requests failed under load");
}
