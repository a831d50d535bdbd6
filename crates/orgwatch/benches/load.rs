//! Snapshot load throughput, in account-days per second, into SQLite and PostgreSQL, printed
//! beside the A360 receiver's approach (one INSERT per row, each its own commit).
//!
//! `cargo bench -p orgwatch --bench load` measures SQLite; set `ORGWATCH_BENCH_POSTGRES_URL`
//! (or `DATABASE_URL`) to a server where the user may create databases to measure PostgreSQL
//! too (`bench/load` starts a durable throwaway cluster and does this). Sizes:
//! `ORGWATCH_BENCH_ACCOUNTS` (default 25), `ORGWATCH_BENCH_DAYS` (default 30),
//! `ORGWATCH_BENCH_BASELINE_FILES` (default 60: the row-by-row baseline is slow).

use orgwatch::demo::generate::{files, DemoOptions};
use orgwatch_model::{Region, Snapshot, SnapshotLocation};
use orgwatch_store::{LoadOutcome, SnapshotInput, Store, Strategy};
use sha2::{Digest, Sha256};
use std::time::Instant;

struct Prepared {
    location: SnapshotLocation,
    snapshot: Snapshot,
    name: String,
    sha: String,
    bytes: u64,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Measure {
    backend: &'static str,
    strategy: &'static str,
    files: usize,
    rows: u64,
    seconds: f64,
}

impl Measure {
    fn per_second(&self) -> f64 {
        self.files as f64 / self.seconds
    }
}

async fn measure(
    store: &Store,
    backend: &'static str,
    strategy: Strategy,
    snaps: &[Prepared],
) -> Measure {
    let started = Instant::now();
    let mut rows = 0;
    for p in snaps {
        let input = SnapshotInput {
            location: &p.location,
            snapshot: &p.snapshot,
            file_name: &p.name,
            sha256: &p.sha,
            bytes: p.bytes,
        };
        match store
            .load_snapshot_with(&input, strategy)
            .await
            .expect("load")
        {
            LoadOutcome::Loaded { rows: r, .. } => rows += r,
            other => panic!("{} not loaded: {other:?}", p.name),
        }
    }
    Measure {
        backend,
        strategy: match strategy {
            Strategy::Bulk => "bulk, one transaction per file",
            Strategy::RowByRow => "row by row (A360 receiver)",
        },
        files: snaps.len(),
        rows,
        seconds: started.elapsed().as_secs_f64(),
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
            env_usize("ORGWATCH_BENCH_DAYS", 30) as u32,
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

    let t = Instant::now();
    let mut snaps = Vec::new();
    let mut total_bytes = 0u64;
    for f in files(&opts) {
        let bytes = f.snapshot.to_json_pretty();
        total_bytes += bytes.len() as u64;
        let snapshot = Snapshot::from_json(&bytes).expect("generated files parse");
        snaps.push(Prepared {
            name: format!("data/{}", f.location.relative_path()),
            location: f.location,
            snapshot,
            sha: hex::encode(Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
        });
    }
    println!(
        "demo org: {accounts} accounts x {days} days = {} files ({:.1} MB), generated and parsed in {:.1} s",
        snaps.len(),
        total_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let baseline_n = baseline_files.min(snaps.len());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut results = Vec::new();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = |n: &str| format!("sqlite://{}", dir.path().join(n).display());
        let store = Store::connect(&url("bulk.db")).await.unwrap();
        results.push(measure(&store, "sqlite", Strategy::Bulk, &snaps).await);
        store.close().await;
        let store = Store::connect(&url("naive.db")).await.unwrap();
        results.push(measure(&store, "sqlite", Strategy::RowByRow, &snaps[..baseline_n]).await);
        store.close().await;

        let pg = std::env::var("ORGWATCH_BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("DATABASE_URL"))
            .ok()
            .filter(|_| full);
        match pg {
            Some(admin) => {
                let (store, name) = fresh_postgres(&admin, "bulk").await;
                let durability = store
                    .query_text("SELECT current_setting('fsync') || '/' || current_setting('synchronous_commit')", &[])
                    .await
                    .unwrap();
                println!("postgres fsync/synchronous_commit: {}", durability[0][0].clone().unwrap_or_default());
                results.push(measure(&store, "postgres", Strategy::Bulk, &snaps).await);
                store.close().await;
                drop_postgres(&admin, &name).await;
                let (store, name) = fresh_postgres(&admin, "naive").await;
                results.push(measure(&store, "postgres", Strategy::RowByRow, &snaps[..baseline_n]).await);
                store.close().await;
                drop_postgres(&admin, &name).await;
            }
            None => println!("postgres: skipped (set ORGWATCH_BENCH_POSTGRES_URL or DATABASE_URL)"),
        }
    });

    println!();
    println!(
        "{:<9} {:<32} {:>6} {:>9} {:>8} {:>16} {:>10}",
        "backend", "strategy", "files", "rows", "seconds", "account-days/s", "rows/s"
    );
    for m in &results {
        println!(
            "{:<9} {:<32} {:>6} {:>9} {:>8.2} {:>16.1} {:>10.0}",
            m.backend,
            m.strategy,
            m.files,
            m.rows,
            m.seconds,
            m.per_second(),
            m.rows as f64 / m.seconds
        );
    }
    for backend in ["sqlite", "postgres"] {
        let bulk = results
            .iter()
            .find(|m| m.backend == backend && m.strategy.starts_with("bulk"));
        let naive = results
            .iter()
            .find(|m| m.backend == backend && m.strategy.starts_with("row"));
        if let (Some(b), Some(n)) = (bulk, naive) {
            println!(
                "{backend}: bulk is {:.1}x the row-by-row baseline",
                b.per_second() / n.per_second()
            );
        }
    }
}
