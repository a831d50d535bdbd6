//! Snapshot load throughput, in account-days per second, into SQLite and PostgreSQL, printed
//! beside the A360 receiver's approach (one INSERT per row, each its own commit, one file at a
//! time). Both run the real `orgwatch ingest` path end to end: read, hash, parse, load, move.
//!
//! `cargo bench -p orgwatch --bench load` measures SQLite; set `ORGWATCH_BENCH_POSTGRES_URL`
//! (or `DATABASE_URL`) to a server where the user may create databases to measure PostgreSQL
//! too (`bench/load` starts a durable throwaway cluster and does this). Sizes:
//! `ORGWATCH_BENCH_ACCOUNTS` (default 25), `ORGWATCH_BENCH_DAYS` (default 90: the demo organisation),
//! `ORGWATCH_BENCH_BASELINE_FILES` (default 60: the row-by-row baseline is slow).
// Benchmarks link every dependency of the package and use a few; a failed setup panics.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch::demo::generate::DemoOptions;
use orgwatch::ingest::{ingest_once, IngestOptions};
use orgwatch_model::Region;
use orgwatch_store::{Store, Strategy};
use std::path::Path;
use std::time::Duration;

// The same allocator as the binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Measure {
    backend: &'static str,
    strategy: String,
    files: u64,
    rows: u64,
    seconds: f64,
}

impl Measure {
    fn per_second(&self) -> f64 {
        self.files as f64 / self.seconds
    }
}

/// Copies the first `limit` files of `source/data` (in path order) into `target/data`.
fn copy_files(source: &Path, target: &Path, limit: usize) {
    let data = source.join("data");
    let mut files: Vec<_> = walkdir::WalkDir::new(&data)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    for f in files.into_iter().take(limit) {
        let to = target.join("data").join(f.strip_prefix(&data).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, &to).unwrap();
    }
}

async fn measure(
    store: &Store,
    backend: &'static str,
    strategy: Strategy,
    jobs: usize,
    batch_files: usize,
    source: &Path,
    limit: usize,
) -> Measure {
    let dir = tempfile::tempdir().unwrap();
    copy_files(source, dir.path(), limit);
    let opts = IngestOptions {
        root: dir.path().to_path_buf(),
        max_file_bytes: 32 * 1024 * 1024,
        settle: Duration::ZERO,
        progress: false,
        strategy,
        jobs,
        batch_files,
    };
    let summary = ingest_once(
        store,
        &opts,
        &mut std::pin::pin!(std::future::pending::<()>()),
    )
    .await
    .expect("ingest");
    assert_eq!(summary.loaded, summary.files, "{summary}");
    Measure {
        backend,
        strategy: match strategy {
            Strategy::Bulk => format!("bulk, {jobs} job(s), {batch_files}/tx"),
            Strategy::RowByRow => "row by row (A360 receiver)".to_owned(),
        },
        files: summary.files,
        rows: summary.rows,
        seconds: summary.seconds,
    }
}

async fn fresh_postgres(admin: &str, tag: &str) -> (Store, String) {
    let name = format!("orgwatch_bench_{tag}_{}", std::process::id());
    let pool = sqlx::PgPool::connect(admin)
        .await
        .expect("connect to the PostgreSQL server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    (
        Store::connect(&format!("{base}/{name}")).await.unwrap(),
        name,
    )
}

async fn drop_postgres(admin: &str, name: &str) {
    let pool = sqlx::PgPool::connect(admin).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await;
    pool.close().await;
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and then a tiny
    // organisation only checks that the benchmark still runs.
    let full = std::env::args().any(|a| a == "--bench");
    let (accounts, days, baseline_files) = if full {
        (
            env_usize("ORGWATCH_BENCH_ACCOUNTS", 25),
            env_usize("ORGWATCH_BENCH_DAYS", 90) as u32,
            env_usize("ORGWATCH_BENCH_BASELINE_FILES", 60),
        )
    } else {
        (2, 2, 2)
    };
    let opts = DemoOptions {
        accounts,
        days,
        seed: 42,
        end_date: time::macros::date!(2026 - 11 - 24),
        regions: vec![Region::parse("us-east-1").unwrap()],
    };
    let source = tempfile::tempdir().unwrap();
    let files = orgwatch::demo::write_files(&opts, source.path(), false).unwrap() as usize;
    println!("demo org: {accounts} accounts x {days} days = {files} files (daily and monthly)");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut results = Vec::new();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = |n: &str| format!("sqlite://{}", dir.path().join(n).display());
        let src = source.path();
        let store = Store::connect(&url("bulk.db")).await.unwrap();
        results.push(measure(&store, "sqlite", Strategy::Bulk, 1, 64, src, files).await);
        store.close().await;
        let store = Store::connect(&url("naive.db")).await.unwrap();
        results.push(measure(&store, "sqlite", Strategy::RowByRow, 1, 1, src, baseline_files).await);
        store.close().await;

        let pg = std::env::var("ORGWATCH_BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("DATABASE_URL"))
            .ok()
            .filter(|_| full);
        let Some(admin) = pg else {
            println!("postgres: skipped (set ORGWATCH_BENCH_POSTGRES_URL or DATABASE_URL)");
            return;
        };
        for (strategy, jobs, batch, limit, tag) in [
            (Strategy::Bulk, 3, 64, files, "bulk3"),
            (Strategy::Bulk, 1, 64, files, "bulk1"),
            (Strategy::Bulk, 1, 1, files, "bulk1x1"),
            (Strategy::RowByRow, 1, 1, baseline_files, "naive"),
        ] {
            let (store, name) = fresh_postgres(&admin, tag).await;
            if tag == "bulk3" {
                let durability = store
                    .raw_query_text(
                        "SELECT current_setting('fsync') || '/' || current_setting('synchronous_commit')",
                        &[],
                    )
                    .await
                    .unwrap();
                println!("postgres fsync/synchronous_commit: {}", durability[0][0].clone().unwrap_or_default());
            }
            results.push(measure(&store, "postgres", strategy, jobs, batch, src, limit).await);
            store.close().await;
            drop_postgres(&admin, &name).await;
        }
    });

    println!();
    println!(
        "{:<9} {:<30} {:>6} {:>9} {:>8} {:>16} {:>9} {:>12}",
        "backend",
        "strategy",
        "files",
        "rows",
        "seconds",
        "account-days/s",
        "rows/s",
        "vs baseline"
    );
    for m in &results {
        let baseline = results
            .iter()
            .find(|b| b.backend == m.backend && b.strategy.starts_with("row"))
            .map_or(f64::NAN, Measure::per_second);
        println!(
            "{:<9} {:<30} {:>6} {:>9} {:>8.2} {:>16.1} {:>9.0} {:>11.1}x",
            m.backend,
            m.strategy,
            m.files,
            m.rows,
            m.seconds,
            m.per_second(),
            m.rows as f64 / m.seconds,
            m.per_second() / baseline
        );
    }
}
