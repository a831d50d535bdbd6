//! The command line itself: database selection, migrations, log format, help.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_test_support::cli::text;
use orgwatch_test_support::fs::put;
use orgwatch_test_support::{a360, orgwatch, Backend, TestDb};

#[tokio::test(flavor = "multi_thread")]
async fn migrate_creates_the_schema_and_is_safe_to_repeat() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::new(backend).await;
        for _ in 0..2 {
            let out = orgwatch!(&db, &["migrate"]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert!(
                text(&out.stderr).contains("schema is up to date: version "),
                "{}",
                text(&out.stderr)
            );
        }
        // The snapshot tables the store counts are the schema's (read from the database's
        // catalogue), activity's, the web app's users and sessions and the posture version's
        // one row aside.
        let counts = db.counts().await;
        let counted: Vec<&str> = counts.keys().copied().collect();
        let snapshot_tables: Vec<String> = db
            .tables()
            .await
            .into_iter()
            .filter(|t| !t.starts_with("activity_") && t != "posture_version")
            .filter(|t| !orgwatch_store::auth::TABLES.contains(&t.as_str()))
            .collect();
        assert_eq!(snapshot_tables, counted, "{backend:?}");
        assert!(counts.values().all(|n| *n == 0), "{counts:?}");
    }
}

#[test]
fn an_unknown_database_scheme_is_a_clear_error() {
    let out = orgwatch!()
        .args(["--database-url", "mysql://u:secret@h/db", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("unsupported database URL scheme"), "{err}");
    assert!(
        !err.contains("secret"),
        "the password is never printed: {err}"
    );
}

#[test]
fn the_environment_variable_selects_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("env.db").display());
    let out = orgwatch!()
        .env("ORGWATCH_DATABASE_URL", &url)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("using database {url}")));
    assert!(dir.path().join("env.db").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), a360::DAILY_PATH, a360::DAILY);
    let db = TestDb::new(Backend::Sqlite).await;
    let out = orgwatch!(
        &db,
        &[
            "-v",
            "--log-format",
            "json",
            "ingest",
            "--from",
            dir.path().to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let logs: Vec<serde_json::Value> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        logs.iter().any(
            |l| l["fields"]["message"] == "loaded" && l["fields"]["rows"].as_u64().unwrap() > 0
        ),
        "{logs:?}"
    );
}

#[test]
fn every_command_has_help() {
    for cmd in [
        "demo", "ingest", "migrate", "activity", "serve", "users", "tokens",
    ] {
        let out = orgwatch!().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd}");
        assert!(
            text(&out.stdout).contains("--database-url"),
            "{cmd}: global options listed"
        );
    }
}

#[test]
fn migrate_reports_the_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("o.db").display());
    let out = orgwatch!()
        .args(["--database-url", &url, "migrate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let newest = orgwatch_store::SQLITE_MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("schema is up to date: version {newest} (")),
        "{stderr}"
    );
}
