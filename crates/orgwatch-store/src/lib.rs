//! orgwatch's database: SQLite (embedded, the default) or PostgreSQL (scale-out), one API.
//!
//! - [`Store::connect`] picks the backend from the URL scheme and applies the migrations of
//!   `migrations/{sqlite,postgres}` (kept in lockstep, same names).
//! - [`Store::load_snapshot`] loads one A360 [`Snapshot`](orgwatch_model::Snapshot) in one
//!   transaction, keyed by (account, region, period start, granularity): loading the same file
//!   again changes nothing, a newer file for the key replaces the old rows, an older one is
//!   refused as superseded.
//! - [`Store::record_failure`] keeps the reason a file was quarantined in `logs`/`log_messages`.
#![deny(missing_docs)]

pub mod activity;
mod conn;
mod load;
mod read;
mod value;

pub use read::{AccountSummary, TableCount};

use orgwatch_model::{AccountId, Snapshot, SnapshotLocation};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Migrations of the SQLite schema.
pub static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
/// Migrations of the PostgreSQL schema.
pub static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no backend orgwatch has.
    #[error(
        "unsupported database URL scheme in {0:?}: use sqlite://PATH or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    /// Could not open or reach the database.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// Applying the schema failed.
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// Two files of one batch are for the same account, period and granularity.
    #[error("{0} shares its account, period and granularity with another file of the batch")]
    BatchConflict(String),
}

impl StoreError {
    /// True when the database refused the data itself (a constraint, a value out of range),
    /// so the file is at fault and should be quarantined; false when the database is
    /// unreachable or failing, where quarantining a good file would be wrong.
    pub fn is_bad_input(&self) -> bool {
        let StoreError::Query(sqlx::Error::Database(db)) = self else {
            return false;
        };
        let code = db.code().unwrap_or_default();
        if code.len() == 5 {
            // PostgreSQL SQLSTATE: class 22 data exception, class 23 integrity violation.
            return code.starts_with("22") || code.starts_with("23");
        }
        // SQLite primary result codes: 18 TOOBIG, 19 CONSTRAINT (and its extended codes), 20 MISMATCH.
        code.parse::<i32>()
            .map(|c| matches!(c & 0xff, 18..=20))
            .unwrap_or(false)
    }
}

impl StoreError {
    /// True when the database gave up on a transaction that may succeed if run again
    /// (PostgreSQL deadlock or serialization failure, SQLite busy or locked).
    pub fn is_transient(&self) -> bool {
        let StoreError::Query(sqlx::Error::Database(db)) = self else {
            return false;
        };
        let code = db.code().unwrap_or_default();
        match code.len() {
            5 => code == "40P01" || code == "40001",
            _ => code
                .parse::<i32>()
                .map(|c| matches!(c & 0xff, 5 | 6))
                .unwrap_or(false),
        }
    }
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL (or Aurora PostgreSQL).
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How a snapshot's rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Whole tables at once (COPY on PostgreSQL, multi-row INSERT on SQLite). The default.
    #[default]
    Bulk,
    /// One INSERT per row, as the A360 receiver did; only for benchmarking against it.
    RowByRow,
}

/// A parsed snapshot file, ready to load.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotInput<'a> {
    /// Where the file sits under `data/` (gives the key and the window).
    pub location: &'a SnapshotLocation,
    /// The document.
    pub snapshot: &'a Snapshot,
    /// The file's path relative to the ingest root, for lineage.
    pub file_name: &'a str,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: &'a str,
    /// Size of the file.
    pub bytes: u64,
}

/// What loading a snapshot did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// Committed.
    Loaded {
        /// Id of the new `snapshots` row.
        snapshot_id: i64,
        /// Rows written, over all tables.
        rows: u64,
        /// File name of the snapshot it replaced, if any.
        replaced: Option<String>,
    },
    /// The same bytes are already loaded for this key: nothing written.
    Unchanged {
        /// Id of the existing `snapshots` row.
        snapshot_id: i64,
    },
    /// A file with a later run date is already loaded for this key: nothing written.
    Superseded {
        /// File name of the newer snapshot.
        by_file: String,
        /// Its run date.
        by_run_date: String,
    },
}

/// The database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens the database named by `url` (`sqlite://PATH`, `sqlite::memory:`, `postgres://…`,
    /// `postgresql://…`), creating a SQLite file if missing, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(StoreError::Connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                // 2 MiB of page cache per connection (SQLite's default): with 4 connections,
                // 8 MiB stored activity up to 5 % faster but held 24 MiB more, and a long
                // activity run must stay under 256 MiB (bench/activity --memory).
                .pragma("cache_size", "-2048")
                // Statement journals and large sorts in temporary files (the page cache
                // holds what is hot), not in process memory: a batch's journal held 15 MB.
                .pragma("temp_store", "file")
                // Checkpoint the WAL every 64k pages (256 MiB) rather than 1k: a page rewritten
                // by many batches is copied into the database once, and storing activity spends
                // less of its commits checkpointing (bench/activity: 1.2 s → 1.0 s a million
                // events at 16k pages).
                .pragma("wal_autocheckpoint", "65536");
            // One connection per in-memory database, or each would see an empty one. A file
            // has one writer at a time (WAL), so two connections let reads go on beside it;
            // each holds its page cache, prepared statements and worker thread, and four
            // stored activity no faster (bench/activity).
            let max = if url.contains(":memory:") { 1 } else { 2 };
            let pool = SqlitePoolOptions::new()
                .max_connections(max)
                .connect_with(opts)
                .await
                .map_err(StoreError::Connect)?;
            Store {
                pool: Pool::Sqlite(pool),
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await
                .map_err(StoreError::Connect)?;
            Store {
                pool: Pool::Postgres(pool),
            }
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Wraps an already migrated SQLite pool (for `#[sqlx::test]`).
    pub fn from_sqlite(pool: SqlitePool) -> Store {
        Store {
            pool: Pool::Sqlite(pool),
        }
    }

    /// Wraps an already migrated PostgreSQL pool (for `#[sqlx::test]`).
    pub fn from_postgres(pool: PgPool) -> Store {
        Store {
            pool: Pool::Postgres(pool),
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations (safe to call on every start).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => {
                // SQLite has no migration lock: two processes opening a new database at once
                // race, and the loser fails on the tables the winner created. Its second try
                // finds the migrations applied.
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match SQLITE_MIGRATOR.run(p).await {
                        Ok(()) => break,
                        Err(_) if attempt < 5 => {
                            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Pool::Postgres(p) => POSTGRES_MIGRATOR.run(p).await?,
        }
        Ok(())
    }

    /// Loads one snapshot in one transaction (see the crate docs for the key and replace rules).
    pub async fn load_snapshot(
        &self,
        input: &SnapshotInput<'_>,
    ) -> Result<LoadOutcome, StoreError> {
        self.load_snapshot_with(input, Strategy::Bulk).await
    }

    /// Loads one snapshot with the given write strategy.
    ///
    /// [`Strategy::RowByRow`] runs outside a transaction, each row committed on its own, as the
    /// A360 receiver did: use it only to measure the baseline.
    pub async fn load_snapshot_with(
        &self,
        input: &SnapshotInput<'_>,
        strategy: Strategy,
    ) -> Result<LoadOutcome, StoreError> {
        macro_rules! run {
            ($pool:expr) => {{
                if strategy == Strategy::RowByRow {
                    let mut conn = $pool.acquire().await?;
                    return Ok(load::load(&mut *conn, input, strategy, None).await?);
                }
                let mut tx = $pool.begin().await?;
                let outcome = load::load(&mut *tx, input, strategy, None).await?;
                match outcome {
                    LoadOutcome::Loaded { .. } => tx.commit().await?,
                    _ => tx.rollback().await?,
                }
                Ok(outcome)
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => run!(p),
            Pool::Postgres(p) => run!(p),
        }
    }

    /// Loads several snapshots in one transaction, writing each table's rows of all of them
    /// with one bulk write: the fast path for many small files. All or nothing: on any error
    /// nothing is committed, and the caller can retry the files one by one with
    /// [`Store::load_snapshot`] to find and quarantine a bad one.
    ///
    /// No two inputs may share an account, period start and granularity (two regions of one
    /// account-day would both hold its global categories); such inputs are refused with
    /// [`StoreError::BatchConflict`] before anything is written.
    pub async fn load_batch(
        &self,
        inputs: &[SnapshotInput<'_>],
    ) -> Result<Vec<LoadOutcome>, StoreError> {
        let mut keys = std::collections::HashSet::new();
        for i in inputs {
            let key = (
                i.location.account,
                i.location.period().0,
                i.location.granularity,
            );
            if !keys.insert(key) {
                return Err(StoreError::BatchConflict(i.file_name.to_owned()));
            }
        }
        // Products are shared by accounts that concurrent workers load: create them first, in
        // name order and committed at once, so that no two long batch transactions wait on each
        // other's new product rows (a deadlock). An unused product row is harmless.
        let mut products: Vec<&String> = inputs
            .iter()
            .flat_map(|i| &i.snapshot.account.product)
            .collect();
        products.sort_by_key(|p| p.to_lowercase());
        products.dedup_by_key(|p| p.to_lowercase());
        macro_rules! run {
            ($pool:expr) => {{
                if !products.is_empty() {
                    let mut tx = $pool.begin().await?;
                    for p in &products {
                        load::ensure_product(&mut *tx, p).await?;
                    }
                    tx.commit().await?;
                }
                let mut tx = $pool.begin().await?;
                let mut deferred = load::Deferred::default();
                let mut outcomes = Vec::with_capacity(inputs.len());
                for input in inputs {
                    outcomes.push(
                        load::load(&mut *tx, input, Strategy::Bulk, Some(&mut deferred)).await?,
                    );
                }
                deferred.flush(&mut *tx).await?;
                tx.commit().await?;
                Ok(outcomes)
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => run!(p),
            Pool::Postgres(p) => run!(p),
        }
    }

    /// Records why a file was quarantined (`logs` outcome FAILED, the reason as an ERROR
    /// message); returns the log id.
    pub async fn record_failure(
        &self,
        file_name: &str,
        account: Option<AccountId>,
        reason: &str,
    ) -> Result<i64, StoreError> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let id = load::record_failure(&mut *tx, file_name, account, reason).await?;
                tx.commit().await?;
                Ok(id)
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => run!(p),
            Pool::Postgres(p) => run!(p),
        }
    }
}

/// The URL without its password, for error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
