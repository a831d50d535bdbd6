//! CloudTrail decoding throughput, in events per second, on real-shaped gzip log files (the
//! samples in `testdata/cloudtrail` replayed with shifted times, fresh ids and synthetic
//! accounts, see `corpus.rs`), printed beside other ways of counting the same files:
//!
//! - `gzip -dc > /dev/null` over all files on one core: the physical floor;
//! - `orgwatch activity --from DIR --no-store --report json`: the release binary, one shot,
//!   decoding files on 2 threads;
//! - DuckDB `read_json` + `GROUP BY` (`bench/activity_duckdb.py`, needs `duckdb` importable
//!   by `ORGWATCH_BENCH_PYTHON`);
//! - Python `json` + `collections.Counter` (`bench/activity_counter.py`);
//! - `orgwatch activity --from DIR --report json` end to end into a new SQLite database, and
//!   into PostgreSQL when `ORGWATCH_BENCH_POSTGRES_URL` is set (decode, de-duplicate, store,
//!   roll up, score anomalies).
//!
//! Every contender is one [`Contender`] in [`contenders`]: a name and a command run over the
//! corpus directory, timed from start to exit (best of up to three runs). `bench/activity` runs
//! this with DuckDB installed; `bench/activity --memory` sets `ORGWATCH_BENCH_MEMORY_GZ_BYTES`
//! and measures peak RSS on a corpus of that many gzip bytes with `/usr/bin/time -v`: of the
//! one-shot decoder, and of a run end to end into SQLite, whose RSS is also sampled.
//!
//! `bench/activity --accounts N` sets `ORGWATCH_BENCH_HOURLY_ACCOUNTS=N`: a corpus of
//! `ORGWATCH_BENCH_EVENTS` events (default 1,000,000) over N accounts, each writing one file
//! per hour (every account active every hour), run end to end into SQLite: its events/s and
//! peak RSS, which must stay under 256 MiB.
//!
//! Sizes: `ORGWATCH_BENCH_EVENTS` (default 1,000,000), `ORGWATCH_BENCH_ACCOUNTS` (50),
//! `ORGWATCH_BENCH_SEED` (42). The corpus is kept under `ORGWATCH_BENCH_DIR` (default
//! `$HOME/.cache/orgwatch-bench`) and reused. Without `--bench` (`cargo test --benches`) a
//! corpus of 3,000 events in a temporary directory only checks that the benchmark still runs.
// Benchmarks link every dependency of the package and use a few; a failed setup panics.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod corpus;

use corpus::{CorpusOptions, CorpusStats};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn orgwatch() -> &'static str {
    env!("CARGO_BIN_EXE_orgwatch")
}

/// One way of counting the corpus.
struct Contender {
    name: &'static str,
    /// The command, given the corpus directory; `None` when it cannot run here (and why).
    command: fn(&Path) -> Result<Command, String>,
    /// Whether it is measured only with `--bench` (slow, or needs tools CI lacks).
    full_only: bool,
}

fn python() -> String {
    std::env::var("ORGWATCH_BENCH_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn gzip_floor(dir: &Path) -> Result<Command, String> {
    // One gzip process over every file (xargs batches the names), on one core.
    let list = gz_files(dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let list_file = dir.with_file_name("files.txt");
    std::fs::write(&list_file, list + "\n").map_err(|e| e.to_string())?;
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("xargs gzip -dc < \"$1\" > /dev/null")
        .arg("sh")
        .arg(&list_file);
    Ok(c)
}

fn orgwatch_no_store(dir: &Path) -> Result<Command, String> {
    let mut c = Command::new(orgwatch());
    c.args(["activity", "--no-store", "--report", "json", "--from"])
        .arg(dir);
    Ok(c)
}

fn python_script(script: &str, dir: &Path, probe: &str) -> Result<Command, String> {
    let ok = Command::new(python())
        .args(["-c", probe])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err(format!("`{} -c '{probe}'` fails", python()));
    }
    let mut c = Command::new(python());
    c.arg(repo().join("bench").join(script)).arg(dir);
    Ok(c)
}

fn duckdb(dir: &Path) -> Result<Command, String> {
    python_script("activity_duckdb.py", dir, "import duckdb")
}

fn python_counter(dir: &Path) -> Result<Command, String> {
    python_script("activity_counter.py", dir, "import json, gzip, collections")
}

/// `orgwatch activity --from DIR --report json` into a new, empty database at `url`: end to
/// end (decode, de-duplicate, store, roll up, score).
fn orgwatch_store(url: &str, dir: &Path) -> Command {
    let mut c = Command::new(orgwatch());
    c.args([
        "--database-url",
        url,
        "activity",
        "--report",
        "json",
        "--from",
    ])
    .arg(dir);
    c
}

fn orgwatch_sqlite(dir: &Path) -> Result<Command, String> {
    // A new database per run (outside the corpus tree): a rerun would find every file in the
    // ledger.
    let db = dir
        .parent()
        .and_then(Path::parent)
        .unwrap_or(dir)
        .join("store-bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    Ok(orgwatch_store(&format!("sqlite://{}", db.display()), dir))
}

fn orgwatch_postgres(dir: &Path) -> Result<Command, String> {
    let admin = std::env::var("ORGWATCH_BENCH_POSTGRES_URL")
        .map_err(|_| "ORGWATCH_BENCH_POSTGRES_URL is not set (bench/activity starts a cluster)")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&admin)
            .await
            .map_err(|e| e.to_string())?;
        for sql in [
            "DROP DATABASE IF EXISTS orgwatch_activity_bench",
            "CREATE DATABASE orgwatch_activity_bench",
        ] {
            sqlx::query(sql)
                .execute(&pool)
                .await
                .map_err(|e| e.to_string())?;
        }
        pool.close().await;
        Ok::<(), String>(())
    })?;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Ok(orgwatch_store(
        &format!("{base}/orgwatch_activity_bench"),
        dir,
    ))
}

/// The contenders, in table order. A new way of counting (e.g. end to end into the store) is
/// one more entry.
fn contenders() -> Vec<Contender> {
    vec![
        Contender {
            name: "gzip -dc > /dev/null (1 core)",
            command: gzip_floor,
            full_only: false,
        },
        Contender {
            name: "orgwatch --no-store --report json",
            command: orgwatch_no_store,
            full_only: false,
        },
        Contender {
            name: "orgwatch end to end into SQLite",
            command: orgwatch_sqlite,
            full_only: false,
        },
        Contender {
            name: "orgwatch end to end into PostgreSQL",
            command: orgwatch_postgres,
            full_only: true,
        },
        Contender {
            name: "DuckDB read_json + GROUP BY",
            command: duckdb,
            full_only: true,
        },
        Contender {
            name: "Python json + Counter",
            command: python_counter,
            full_only: true,
        },
    ]
}

fn gz_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".gz"))
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

/// Runs a command to completion; its wall time, and the `events` of the JSON it printed.
fn run(mut c: Command) -> Result<(f64, Option<u64>), String> {
    let started = Instant::now();
    let out = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "{} ({})",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let events = serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| v["events"].as_u64());
    Ok((secs, events))
}

struct Row {
    name: &'static str,
    result: Result<f64, String>,
}

fn measure(c: &Contender, dir: &Path, stats: &CorpusStats, full: bool) -> Row {
    let result = (|| {
        let mut best = f64::INFINITY;
        let mut spent = 0.0;
        for _ in 0..if full { 3 } else { 1 } {
            let (secs, events) = run((c.command)(&dir.join("AWSLogs"))?)?;
            if let Some(n) = events {
                if n != stats.events {
                    return Err(format!("counted {n} events, not {}", stats.events));
                }
            }
            best = best.min(secs);
            spent += secs;
            if spent > 30.0 {
                break;
            }
        }
        Ok(best)
    })();
    Row {
        name: c.name,
        result,
    }
}

fn print_table(stats: &CorpusStats, rows: &[Row]) {
    let rate = |name: &str| {
        rows.iter()
            .find(|r| r.name.starts_with(name))
            .and_then(|r| r.result.as_ref().ok())
            .map(|s| stats.events as f64 / s)
    };
    let duck = rate("DuckDB");
    let gzip = rate("gzip");
    let decode = rate("orgwatch --no-store");
    println!();
    println!(
        "{:<36} {:>8} {:>11} {:>10} {:>9} {:>9} {:>10} {:>11}",
        "contender",
        "seconds",
        "events/s",
        "JSON MB/s",
        "gz MB/s",
        "vs DuckDB",
        "vs gzip -dc",
        "vs no-store"
    );
    for r in rows {
        match &r.result {
            Ok(secs) => {
                let eps = stats.events as f64 / secs;
                let ratio =
                    |b: Option<f64>| b.map_or("-".to_owned(), |b| format!("{:.2}x", eps / b));
                println!(
                    "{:<36} {:>8.2} {:>11.0} {:>10.0} {:>9.1} {:>9} {:>10} {:>11}",
                    r.name,
                    secs,
                    eps,
                    stats.json_bytes as f64 / 1e6 / secs,
                    stats.gz_bytes as f64 / 1e6 / secs,
                    ratio(duck),
                    ratio(gzip),
                    ratio(decode)
                );
            }
            Err(e) => println!("{:<36} skipped: {e}", r.name),
        }
    }
}

/// Peak RSS over a corpus of about `gz_bytes` gzip bytes, measured with `/usr/bin/time -v`, of
/// the one-shot decoder and of a run end to end into a new SQLite database (printed with its
/// RSS every 10 s, to show that it stays flat); both must stay under 256 MiB.
fn memory(samples: &Path, base: &Path, gz_bytes: u64, seed: u64) {
    let events = corpus::events_for_gz_bytes(samples, gz_bytes, seed);
    let dir = base.join(format!("activity-gz{}M-seed{seed}", gz_bytes / 1_000_000));
    let opts = CorpusOptions {
        events,
        accounts: env_u64("ORGWATCH_BENCH_ACCOUNTS", 50) as usize,
        seed,
        threads: 2,
        hourly: false,
    };
    let started = Instant::now();
    let stats = corpus::ensure(samples, &dir, &opts);
    println!(
        "memory corpus {}: {} events in {} files, {:.2} GB gzip on disk, {:.2} GB JSON ({:.0} s to make or check)",
        dir.display(),
        stats.events,
        stats.files,
        stats.gz_bytes as f64 / 1e9,
        stats.json_bytes as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );
    let logs = dir.join("AWSLogs");
    let one_shot = measure_rss(
        &["activity", "--no-store", "--report", "json"],
        &logs,
        &stats,
    );
    println!(
        "orgwatch --no-store --report json: {} events in {:.1} s ({:.0} events/s), max RSS {:.1} MiB (limit 256 MiB)",
        stats.events,
        one_shot.secs,
        stats.events as f64 / one_shot.secs,
        one_shot.max_mib
    );
    let db = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", db.path().join("activity.db").display());
    let stored = measure_rss(
        &["--database-url", &url, "activity", "--report", "json"],
        &logs,
        &stats,
    );
    // Past the first 30 s (the forests and caches being made), or all samples of a short run.
    let (first, rest) = stored.rss_mib.split_at(stored.rss_mib.len().min(3));
    let steady = if rest.is_empty() { first } else { rest };
    println!(
        "orgwatch end to end into SQLite: {} events in {:.1} s ({:.0} events/s), max RSS {:.1} MiB (limit 256 MiB); \
         RSS every 10 s (MiB): {}; after the first 30 s between {:.0} and {:.0}",
        stats.events,
        stored.secs,
        stats.events as f64 / stored.secs,
        stored.max_mib,
        stored
            .rss_mib
            .iter()
            .map(|m| format!("{m:.0}"))
            .collect::<Vec<_>>()
            .join(" "),
        steady.iter().copied().fold(f64::MAX, f64::min),
        steady.iter().copied().fold(0.0, f64::max),
    );
    for (run, m) in [("one-shot", &one_shot), ("end-to-end", &stored)] {
        assert!(
            m.max_mib < 256.0,
            "{run} max RSS {:.1} MiB is not under 256 MiB",
            m.max_mib
        );
    }
}

/// Events/s and peak RSS end to end into a new SQLite database, on a corpus of
/// `ORGWATCH_BENCH_EVENTS` events over `accounts` accounts, each active every hour: the
/// memory of many scopes, which must stay under 256 MiB.
fn hourly_accounts(samples: &Path, base: &Path, accounts: usize, seed: u64) {
    let opts = CorpusOptions {
        events: env_u64("ORGWATCH_BENCH_EVENTS", 1_000_000),
        accounts,
        seed,
        threads: 2,
        hourly: true,
    };
    let dir = base.join(format!(
        "activity-{}ev-{accounts}acc-hourly-seed{seed}",
        opts.events
    ));
    let started = Instant::now();
    let stats = corpus::ensure(samples, &dir, &opts);
    println!(
        "corpus {}: {} events in {} files over {accounts} accounts, one file per account and hour ({:.1} s to make or check)",
        dir.display(),
        stats.events,
        stats.files,
        started.elapsed().as_secs_f64()
    );
    let db = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", db.path().join("activity.db").display());
    let stored = measure_rss(
        &["--database-url", &url, "activity", "--report", "json"],
        &dir.join("AWSLogs"),
        &stats,
    );
    println!(
        "orgwatch end to end into SQLite, {accounts} accounts: {} events in {:.1} s ({:.0} events/s), max RSS {:.1} MiB (limit 256 MiB); RSS every 10 s (MiB): {}",
        stats.events,
        stored.secs,
        stats.events as f64 / stored.secs,
        stored.max_mib,
        stored
            .rss_mib
            .iter()
            .map(|m| format!("{m:.0}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    assert!(
        stored.max_mib < 256.0,
        "max RSS {:.1} MiB is not under 256 MiB",
        stored.max_mib
    );
}

/// A run of [`measure_rss`].
struct Measured {
    secs: f64,
    max_mib: f64,
    /// RSS every 10 s.
    rss_mib: Vec<f64>,
}

/// Runs orgwatch with `args` and `--from logs` under `/usr/bin/time -v`, sampling its RSS
/// every 10 s; checks that its report counted every event of the corpus.
fn measure_rss(args: &[&str], logs: &Path, stats: &CorpusStats) -> Measured {
    let out_dir = tempfile::tempdir().expect("a temporary directory");
    let (stdout, stderr) = (out_dir.path().join("out"), out_dir.path().join("err"));
    let file = |p: &Path| std::fs::File::create(p).expect("an output file");
    let mut child = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(orgwatch())
        .args(args)
        .arg("--from")
        .arg(logs)
        .stdout(file(&stdout))
        .stderr(file(&stderr))
        .spawn()
        .expect("/usr/bin/time (apt-get install time)");
    let started = Instant::now();
    let mut rss_mib = Vec::new();
    // Checked every second, so the run's end is seen within a second.
    let mut seconds = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for /usr/bin/time") {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        seconds += 1;
        if seconds.is_multiple_of(10) {
            if let Some(kib) = child_rss_kib(child.id()) {
                rss_mib.push(kib as f64 / 1024.0);
            }
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let stderr = std::fs::read_to_string(&stderr).expect("the run's stderr");
    assert!(status.success(), "{stderr}");
    let report = std::fs::read(&stdout).expect("the run's report");
    let v: serde_json::Value = serde_json::from_slice(&report).expect("a JSON report");
    assert_eq!(v["events"].as_u64(), Some(stats.events));
    let kib: u64 = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("time -v reports the maximum RSS");
    Measured {
        secs,
        max_mib: kib as f64 / 1024.0,
        rss_mib,
    }
}

/// The RSS of the (one) child process of `pid`, from `/proc`.
fn child_rss_kib(pid: u32) -> Option<u64> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    let child = children.split_whitespace().next()?;
    let status = std::fs::read_to_string(format!("/proc/{child}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then a tiny corpus
    // only checks that the benchmark still runs.
    let full = std::env::args().any(|a| a == "--bench");
    let samples = repo().join("testdata/cloudtrail");
    let seed = env_u64("ORGWATCH_BENCH_SEED", 42);
    let base = std::env::var_os("ORGWATCH_BENCH_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/orgwatch-bench")))
        .unwrap_or_else(|| std::env::temp_dir().join("orgwatch-bench"));
    if full {
        if let Some(gz) = std::env::var("ORGWATCH_BENCH_MEMORY_GZ_BYTES")
            .ok()
            .and_then(|v| v.replace('_', "").parse().ok())
        {
            memory(&samples, &base, gz, seed);
            return;
        }
        if let Some(accounts) = std::env::var("ORGWATCH_BENCH_HOURLY_ACCOUNTS")
            .ok()
            .and_then(|v| v.replace('_', "").parse().ok())
        {
            hourly_accounts(&samples, &base, accounts, seed);
            return;
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let opts = CorpusOptions {
        events: if full {
            env_u64("ORGWATCH_BENCH_EVENTS", 1_000_000)
        } else {
            3_000
        },
        accounts: env_u64("ORGWATCH_BENCH_ACCOUNTS", 50) as usize,
        seed,
        threads: 2,
        hourly: false,
    };
    let dir = if full {
        base.join(format!("activity-{}ev-seed{seed}", opts.events))
    } else {
        tmp.path().to_owned()
    };
    let started = Instant::now();
    let stats = corpus::ensure(&samples, &dir, &opts);
    println!(
        "corpus {}: {} events in {} files, {:.1} MB gzip, {:.1} MB JSON ({:.1} s to make or check)",
        dir.display(),
        stats.events,
        stats.files,
        stats.gz_bytes as f64 / 1e6,
        stats.json_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let rows: Vec<Row> = contenders()
        .iter()
        .filter(|c| full || !c.full_only)
        .map(|c| measure(c, &dir, &stats, full))
        .collect();
    print_table(&stats, &rows);
    if !full {
        for r in &rows {
            if let Err(e) = &r.result {
                panic!("{}: {e}", r.name);
            }
        }
    }
}
