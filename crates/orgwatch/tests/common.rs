//! Helpers for the command-line tests: a fresh database per test on either backend, the
//! binary, and directory fixtures copied into temp dirs (tests move files).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The backends every CLI test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// A SQLite file in a temp dir.
    Sqlite,
    /// A fresh database on the server of `DATABASE_URL`.
    Postgres,
}

/// A database for one test, removed when dropped (PostgreSQL) or with its temp dir (SQLite).
pub struct TestDb {
    /// URL to pass to `--database-url`.
    pub url: String,
    _dir: tempfile::TempDir,
    pg_name: Option<String>,
}

/// PostgreSQL server URL given by scripts/test.
pub fn postgres_admin_url() -> String {
    std::env::var("DATABASE_URL")
        .or_else(|_| std::env::var("ORGWATCH_TEST_POSTGRES_URL"))
        .expect("set DATABASE_URL to a PostgreSQL server (scripts/test starts one)")
}

impl TestDb {
    /// A new, empty database.
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("orgwatch.db").display());
                TestDb {
                    url,
                    _dir: dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("orgwatch_cli_{}_{}", std::process::id(), rand_suffix());
                let pool = sqlx::PgPool::connect(&admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(b, _)| b)
                    .to_owned();
                TestDb {
                    url: format!("{base}/{name}"),
                    _dir: dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Row count of every table.
    pub async fn counts(&self) -> BTreeMap<&'static str, i64> {
        let store = orgwatch_store::Store::connect(&self.url).await.unwrap();
        let out = store
            .table_counts()
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.table, t.rows))
            .collect();
        store.close().await;
        out
    }

    /// A connection to it.
    pub async fn store(&self) -> orgwatch_store::Store {
        orgwatch_store::Store::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Best effort: a leftover database dies with the throwaway cluster anyway.
            let admin = postgres_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{nanos:x}")
}

/// The orgwatch binary built for these tests.
pub fn orgwatch() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_orgwatch"));
    c.env_remove("ORGWATCH_DATABASE_URL").env("NO_COLOR", "1");
    c
}

/// Runs orgwatch with a database and arguments, returning its output.
pub fn run(db: &TestDb, args: &[&str]) -> Output {
    orgwatch()
        .arg("--database-url")
        .arg(&db.url)
        .args(args)
        .output()
        .unwrap()
}

/// Bytes as (lossy) text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The repository's testdata directory.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Copies a file into `root/data/REL`.
pub fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join("data").join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Files (relative paths) under a directory, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    out.sort();
    out
}

/// Generates a demo organisation's files (not loaded) under `dir/data`.
pub fn generate(dir: &Path, accounts: u32, days: u32) {
    let out = orgwatch()
        .args([
            "demo",
            "--generate-only",
            "--end-date",
            "2026-11-24",
            "--seed",
            "7",
        ])
        .args([
            "--accounts",
            &accounts.to_string(),
            "--days",
            &days.to_string(),
        ])
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}
