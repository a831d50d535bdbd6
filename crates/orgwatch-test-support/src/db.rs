//! Throwaway databases: a SQLite file in a temp dir, or a fresh database on the PostgreSQL
//! server of `DATABASE_URL`.

use crate::Backend;
use std::collections::BTreeMap;

/// A database for one test, removed when dropped (PostgreSQL) or with its temp dir (SQLite).
pub struct TestDb {
    /// URL to pass to `--database-url`.
    pub url: String,
    /// Its backend.
    pub backend: Backend,
    _dir: tempfile::TempDir,
    pg_name: Option<String>,
}

/// The PostgreSQL server URL that `scripts/test` gives: `DATABASE_URL`, else
/// `ORGWATCH_TEST_POSTGRES_URL`.
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
                    backend,
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
                    backend,
                    _dir: dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Row count of every table the store knows, by name.
    pub async fn counts(&self) -> BTreeMap<&'static str, i64> {
        let store = self.store().await;
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

    /// The tables that exist in the database, read from its catalogue (not from the store's
    /// list of tables), sorted; without sqlx's migration ledger.
    pub async fn tables(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations' \
                 ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 AND table_name <> '_sqlx_migrations' ORDER BY table_name"
            }
        };
        let store = self.store().await;
        let rows = store.raw_query_text(sql, &[]).await.unwrap();
        store.close().await;
        rows.into_iter()
            .map(|row| row.into_iter().next().flatten().unwrap())
            .collect()
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
