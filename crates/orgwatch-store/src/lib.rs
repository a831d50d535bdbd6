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
// Unit tests link the dev-dependencies of the integration tests too.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod activity;
pub mod auth;
mod conn;
mod db;
mod error;
mod load;
mod read;
mod value;

pub use db::Backend;
pub use error::StoreError;
pub use read::{
    Access, AccountComplianceChange, AccountCost, AccountRef, AccountRules, AccountSides,
    AccountSummary, ActivityAlarm, ActivityListener, ActivityRange, ActivityReport,
    ActivityVersion, AdvisorCheck, CallsPoint, CategoryLoad, Certificate, ChangeKinds, ChangeRange,
    ChangedFinding, ChangedInstance, ChangesReport, Collection, ComplianceChange, ComplianceDay,
    ComplianceReport, CostMover, CostRange, CostReport, CriticalFinding, Cursor, DailyCost,
    DailyServiceCost, Empty, EventFilter, FailedFile, FindingChange, FindingsDay, Forecast,
    ForecastSource, HealthEvent, IngestReport, InstanceChange, InvalidCursor, InventoryReport,
    KeyedCount, KmsKey, LedgerFile, Limits, LoadStatus, ManagedInstance, MarketplaceCost,
    MinutePoint, NonCompliant, OpenFindings, OperationsReport, OrgSummary, Page, PageFilter,
    PatchCompliance, PendingPatch, PostureVersion, RecentEvent, Recommendation, ResilienceApp,
    RuleComplianceChange, RuleCounts, Saving, Secret, SecurityReport, ServiceCost, Sides,
    SignalService, SourceFindings, StoreGauges, SupportCase, TableCount, TopItem, Trail, WebAcl,
    DEFAULT_MINUTES, DEFAULT_RANGE_DAYS, EXPIRY_WARNING_DAYS, LEDGER_ROWS, MAX_PAGE,
    MINUTE_BUCKETS_UP_TO, NEWEST_CRITICAL, PATCH_NON_COMPLIANT, TABLES, TOP, TREND_DAYS,
};

use db::{on_pool, Pool};
use orgwatch_model::{AccountId, Snapshot, SnapshotLocation};
use sqlx::migrate::Migrator;
use sqlx::{PgPool, SqlitePool};
use std::future::Future;
use std::time::Duration;

/// Migrations of the SQLite schema.
pub static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
/// Migrations of the PostgreSQL schema.
pub static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

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
    /// `postgresql://…`), creating a SQLite file if missing (not its directory), and applies
    /// the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let store = Store {
            pool: db::open(url).await?,
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
        on_pool!(self, |_p, b| b)
    }

    /// Applies pending migrations (safe to call on every start).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        on_pool!(self, |p, b| {
            let migrator = match b {
                Backend::Sqlite => &SQLITE_MIGRATOR,
                Backend::Postgres => &POSTGRES_MIGRATOR,
            };
            // SQLite has no migration lock: two processes opening a new database at once
            // race, and the loser fails on the tables the winner created. Its second try
            // finds the migrations applied. (PostgreSQL takes an advisory lock.)
            let retryable = |_: &sqlx::migrate::MigrateError| b == Backend::Sqlite;
            db::retry(5, Duration::from_millis(200), retryable, || migrator.run(p)).await?;
        });
        Ok(())
    }

    /// The newest migration applied to the database: its version and description.
    pub async fn schema_version(&self) -> Result<Option<(i64, String)>, StoreError> {
        const SQL: &str = "SELECT version, description FROM _sqlx_migrations \
            WHERE success ORDER BY version DESC LIMIT 1";
        Ok(self.read_all(SQL, &[]).await?.into_iter().next())
    }

    /// Runs `op` again (at most 5 times in all, with a growing pause) while it fails with a
    /// transient error: a deadlock or serialization failure on PostgreSQL, a busy or locked
    /// database on SQLite. The one retry loop for every caller of the store.
    pub async fn retry_transient<T, F, Fut>(op: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        db::retry(5, Duration::from_millis(50), StoreError::is_transient, op).await
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
        on_pool!(self, |p, b| {
            if strategy == Strategy::RowByRow {
                let mut conn = p.acquire().await?;
                let outcome = load::load(&mut *conn, input, strategy, None).await?;
                load::bump_posture_version(&mut *conn).await?;
                return Ok(outcome);
            }
            let mut tx = p.begin_with(b.begin_write()).await?;
            let outcome = load::load(&mut *tx, input, strategy, None).await?;
            match outcome {
                LoadOutcome::Loaded { .. } => {
                    load::bump_posture_version(&mut *tx).await?;
                    tx.commit().await?
                }
                _ => tx.rollback().await?,
            }
            Ok(outcome)
        })
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
        on_pool!(self, |p, b| {
            if !products.is_empty() {
                let mut tx = p.begin_with(b.begin_write()).await?;
                for p in &products {
                    load::ensure_product(&mut *tx, p).await?;
                }
                tx.commit().await?;
            }
            let mut tx = p.begin_with(b.begin_write()).await?;
            let mut deferred = load::Deferred::default();
            let mut outcomes = Vec::with_capacity(inputs.len());
            for input in inputs {
                outcomes
                    .push(load::load(&mut *tx, input, Strategy::Bulk, Some(&mut deferred)).await?);
            }
            deferred.flush(&mut *tx).await?;
            if outcomes
                .iter()
                .any(|o| matches!(o, LoadOutcome::Loaded { .. }))
            {
                load::bump_posture_version(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(outcomes)
        })
    }

    /// Records why a file was quarantined (`logs` outcome FAILED, the reason as an ERROR
    /// message); returns the log id.
    pub async fn record_failure(
        &self,
        file_name: &str,
        account: Option<AccountId>,
        reason: &str,
    ) -> Result<i64, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            let id = load::record_failure(&mut *tx, file_name, account, reason).await?;
            load::bump_posture_version(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        })
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
