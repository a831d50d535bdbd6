//! Read models: what the CLI summaries (and the web app) ask the store, as typed rows.
//!
//! Each figure is defined once, here, in SQL that both backends run; a value that does not
//! decode as its type is an error, never a default.

mod access;
mod activity;
mod changes;
mod collection;
mod compliance;
mod cost;
mod events;
mod filter;
mod gauges;
mod ingest;
mod inventory;
mod operations;
mod posture;
mod summary;

pub use access::{Access, Limits};
pub use activity::{
    ActivityAlarm, ActivityListener, ActivityRange, ActivityReport, ActivityVersion, CallsPoint,
    TopItem, DEFAULT_MINUTES, MINUTE_BUCKETS_UP_TO, TOP,
};
pub use changes::{
    AccountComplianceChange, AccountSides, ChangeKinds, ChangeRange, ChangedFinding,
    ChangedInstance, ChangesReport, ComplianceChange, CostMover, FindingChange, InstanceChange,
    RuleComplianceChange, Sides,
};
pub use collection::{Collection, Empty};
pub use compliance::{
    AccountRules, ComplianceDay, ComplianceReport, NonCompliant, PatchCompliance, PendingPatch,
    RuleCounts, PATCH_NON_COMPLIANT,
};
pub use cost::{
    AccountCost, CostRange, CostReport, DailyCost, DailyServiceCost, Forecast, ForecastSource,
    MarketplaceCost, Saving, ServiceCost, DEFAULT_RANGE_DAYS,
};
pub use events::{Cursor, EventFilter, InvalidCursor, MinutePoint, Page, RecentEvent, MAX_PAGE};
pub use filter::PageFilter;
pub use gauges::StoreGauges;
pub use ingest::{CategoryLoad, FailedFile, IngestReport, LedgerFile, LoadStatus, LEDGER_ROWS};
pub use inventory::{InventoryReport, KeyedCount, ManagedInstance, Recommendation};
pub use operations::{
    AdvisorCheck, HealthEvent, OperationsReport, ResilienceApp, SignalService, SupportCase,
};
pub use posture::{
    AccountRef, Certificate, CriticalFinding, FindingsDay, KmsKey, Secret, SecurityReport,
    SourceFindings, Trail, WebAcl, EXPIRY_WARNING_DAYS, NEWEST_CRITICAL, TREND_DAYS,
};
pub use summary::{AccountSummary, OpenFindings, OrgSummary};

use crate::conn::{Conn, Record};
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};

/// Every table orgwatch keeps snapshot data in, in load order.
pub const TABLES: &[&str] = &[
    "accounts",
    "account_ous",
    "contact_info",
    "alternate_contacts",
    "products",
    "product_accounts",
    "snapshots",
    "services",
    "cost_reports",
    "service_costs",
    "cost_forecasts",
    "security",
    "findings",
    "guard_duty_findings",
    "kms_keys",
    "waf_rules",
    "waf_rules_detailed",
    "cloudtrail_logs",
    "secrets_manager_secrets",
    "certificates",
    "inspector_findings",
    "config_reports",
    "non_compliant_resources",
    "service_resources",
    "compute_optimizer",
    "config_inventory",
    "inventory_instances",
    "inventory_applications",
    "inventory_patches",
    "marketplace_usage",
    "trusted_advisor_checks",
    "health_events",
    "application_signals",
    "resilience_hub_apps",
    "support_tickets",
    "ri_sp_daily_savings",
    "logs",
    "log_messages",
];

/// Rows in one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    /// Table name.
    pub table: &'static str,
    /// Number of rows.
    pub rows: i64,
}

/// A stored count as unsigned: a negative one is a corrupt row, not zero.
pub(crate) fn count(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Invalid(format!("negative count {n}")))
}

/// The posture data's version: it changes whenever a snapshot is loaded or replaced or a
/// failed file recorded, by any process on the database (see [`Store::posture_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PostureVersion(pub i64);

impl Store {
    /// The posture data's version: equal versions read equal posture data, so a computation
    /// from it can be shared until it changes (one row, written last by each loading
    /// transaction).
    pub async fn posture_version(&self) -> Result<PostureVersion, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            let v = c
                .fetch_i64("SELECT version FROM posture_version WHERE id = 1", &[])
                .await?;
            Ok(PostureVersion(v.unwrap_or(0)))
        })
    }

    /// Runs one read model's query on a connection of the pool, each row decoded as a `T`.
    pub(crate) async fn read_all<T: Record>(
        &self,
        sql: &str,
        args: &[Val],
    ) -> Result<Vec<T>, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            Ok(c.fetch_all(sql, args).await?)
        })
    }

    /// Row counts of every snapshot table ([`TABLES`]; the activity tables are apart).
    pub async fn table_counts(&self) -> Result<Vec<TableCount>, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            let mut out = Vec::with_capacity(TABLES.len());
            for &table in TABLES {
                let sql = format!("SELECT COUNT(*) FROM {table}");
                let rows = c.fetch_i64(&sql, &[]).await?.unwrap_or(0);
                out.push(TableCount { table, rows });
            }
            Ok(out)
        })
    }

    /// Runs any SQL and returns every cell as text: a door for tests only (compiled with
    /// the `test-support` feature), never for the product, whose reads are the typed read
    /// models of this module.
    #[cfg(feature = "test-support")]
    pub async fn raw_query_text(
        &self,
        sql: &str,
        args: &[&str],
    ) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        use sqlx::Row;
        let values: Vec<crate::value::Val> =
            args.iter().map(|a| crate::value::Val::str(a)).collect();
        on_pool!(self, |p, b| {
            let sql = match b {
                crate::Backend::Postgres => crate::conn::pg_sql(sql, &values),
                crate::Backend::Sqlite => sql.to_owned(),
            };
            let mut q = sqlx::query(&sql);
            for a in args {
                q = q.bind(*a);
            }
            let rows = q.fetch_all(p).await?;
            Ok(rows
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.try_get::<Option<String>, _>(i))
                        .collect::<Result<_, _>>()
                })
                .collect::<Result<_, _>>()?)
        })
    }

    /// Closes every connection (lets a SQLite file be checkpointed and removed).
    pub async fn close(&self) {
        on_pool!(self, |p, _b| p.close().await)
    }
}
