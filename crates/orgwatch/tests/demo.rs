//! `orgwatch demo` end to end: reruns are idempotent, and the A360 README's SQL runs unchanged
//! on PostgreSQL over the demo organisation.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_test_support::cli::text;
use orgwatch_test_support::{orgwatch, testdata, Backend, TestDb};

fn demo_args(dir: &std::path::Path, accounts: u32, days: u32) -> Vec<String> {
    [
        "demo",
        "--no-serve",
        "--seed",
        "11",
        "--end-date",
        "2026-11-24",
        "--accounts",
        &accounts.to_string(),
        "--days",
        &days.to_string(),
        "--dir",
        dir.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn rerunning_the_demo_does_not_duplicate_rows(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    let args = demo_args(dir.path(), 3, 12);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = orgwatch!(&db, &args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    // The demo's one truncated delivery is quarantined, with its reason beside it.
    assert!(stdout.contains(" 1 failed"), "{stdout}");
    assert!(stdout.contains("3 accounts"), "{stdout}");
    let failed: Vec<_> = walkdir::WalkDir::new(dir.path().join("failed"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed
        .iter()
        .any(|p| p.to_string_lossy().ends_with("_DAILY.json.error.txt")));
    let before = db.counts().await;
    assert!(before["snapshots"] >= 36, "{before:?}");

    let second = orgwatch!(&db, &args);
    assert!(second.status.success(), "{}", text(&second.stderr));
    // Quarantined once: a rerun does not deliver it again.
    assert!(
        text(&second.stdout).contains(" 0 failed"),
        "{}",
        text(&second.stdout)
    );
    assert!(
        text(&second.stdout).contains(" 0 loaded"),
        "{}",
        text(&second.stdout)
    );
    assert_eq!(db.counts().await, before);
}

mod rerunning_the_demo_does_not_duplicate_rows {
    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite() {
        super::rerunning_the_demo_does_not_duplicate_rows(super::Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread")]
    async fn postgres() {
        super::rerunning_the_demo_does_not_duplicate_rows(super::Backend::Postgres).await
    }
}

/// The six queries of `testdata/a360-seed-queries.sql`, as written there.
fn seed_queries() -> Vec<(String, String)> {
    let sql = std::fs::read_to_string(testdata().join("a360-seed-queries.sql")).unwrap();
    let mut out = Vec::new();
    for block in sql.split(';') {
        let title = block
            .lines()
            .filter_map(|l| l.strip_prefix("-- "))
            .next_back();
        let query: String = block
            .lines()
            .filter(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if let (Some(title), false) = (title, query.trim().is_empty()) {
            out.push((title.to_owned(), query.trim().to_owned()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_a360_readme_queries_run_unchanged_on_postgres_and_return_rows() {
    let queries = seed_queries();
    assert_eq!(queries.len(), 6);
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Postgres).await;
    // Five accounts over two months: daily and monthly files, as a real deployment has.
    let args = demo_args(dir.path(), 5, 45);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = orgwatch!(&db, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for (title, query) in &queries {
        let rows = sqlx::raw_sql(query)
            .fetch_all(&pool)
            .await
            .unwrap_or_else(|e| panic!("{title}: {e}"));
        assert!(!rows.is_empty(), "{title} returned no rows");
    }
    pool.close().await;
}
