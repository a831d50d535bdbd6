//! Read models: what the CLI summaries (and later the web app) ask the store.

use crate::conn::Conn;
use crate::value::Val;
use crate::{Pool, Store, StoreError};

/// Every table orgwatch keeps snapshot data in, in load order.
pub const TABLES: &[&str] = &[
    "accounts",
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

/// One line of the organisation summary.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSummary {
    /// 12-digit account id.
    pub account_id: String,
    /// Account name.
    pub name: String,
    /// Environment label.
    pub environment: String,
    /// Snapshots loaded.
    pub snapshots: i64,
    /// Sum of daily cost reports.
    pub daily_cost_total: f64,
    /// Critical Security Hub findings created or changed, over all daily snapshots.
    pub critical_findings: i64,
    /// Config compliance score of the latest daily report.
    pub latest_compliance: Option<f64>,
    /// Mean health score of its loads.
    pub mean_health: Option<f64>,
}

macro_rules! with_conn {
    ($store:expr, |$c:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                let $c = &mut *conn;
                $body
            }
            Pool::Postgres(p) => {
                let mut conn = p.acquire().await?;
                let $c = &mut *conn;
                $body
            }
        }
    };
}

fn num<T: std::str::FromStr>(v: &Option<String>) -> Option<T> {
    v.as_deref().and_then(|s| s.parse().ok())
}

impl Store {
    /// Row counts of every table.
    pub async fn table_counts(&self) -> Result<Vec<TableCount>, StoreError> {
        let mut out = Vec::with_capacity(TABLES.len());
        for &table in TABLES {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let rows = with_conn!(self, |c| c.fetch_i64(&sql, &[]).await?).unwrap_or(0);
            out.push(TableCount { table, rows });
        }
        Ok(out)
    }

    /// Runs a query with bound text arguments and returns every cell as text; for tests and
    /// ad-hoc reports (cast non-text columns with `CAST(x AS TEXT)` in the query).
    pub async fn query_text(
        &self,
        sql: &str,
        args: &[&str],
    ) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        let args: Vec<Val> = args.iter().map(|a| Val::str(a)).collect();
        Ok(with_conn!(self, |c| c.fetch_text(sql, &args).await?))
    }

    /// [`Store::query_text`] with typed arguments.
    pub(crate) async fn query_text_args(
        &self,
        sql: &str,
        args: &[Val],
    ) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        Ok(with_conn!(self, |c| c.fetch_text(sql, args).await?))
    }

    /// One line per account: cost, findings, compliance and load health.
    pub async fn account_summaries(&self) -> Result<Vec<AccountSummary>, StoreError> {
        const SQL: &str = "SELECT a.account_id, COALESCE(a.account_name, a.account_id), \
            COALESCE(a.account_type, ''), \
            CAST((SELECT COUNT(*) FROM snapshots s WHERE s.account_id = a.id) AS TEXT), \
            CAST((SELECT COALESCE(SUM(cr.current_period_cost), 0) FROM cost_reports cr \
                  WHERE cr.account_id = a.id AND cr.period_granularity = 'DAILY') AS TEXT), \
            CAST((SELECT COALESCE(SUM(s.critical_count), 0) FROM security s \
                  JOIN snapshots sn ON sn.id = s.snapshot_id \
                  WHERE s.account_id = a.id AND sn.granularity = 'DAILY') AS TEXT), \
            CAST((SELECT cr.compliance_score FROM config_reports cr \
                  JOIN snapshots sn ON sn.id = cr.snapshot_id \
                  WHERE cr.account_id = a.id AND sn.granularity = 'DAILY' \
                  ORDER BY cr.date_from DESC, cr.id DESC LIMIT 1) AS TEXT), \
            CAST((SELECT AVG(l.health_score) FROM logs l \
                  WHERE l.account_id = a.id AND l.outcome = 'LOADED') AS TEXT) \
            FROM accounts a ORDER BY a.account_id";
        let rows = with_conn!(self, |c| c.fetch_text(SQL, &[]).await?);
        Ok(rows
            .into_iter()
            .map(|r| AccountSummary {
                account_id: r[0].clone().unwrap_or_default(),
                name: r[1].clone().unwrap_or_default(),
                environment: r[2].clone().unwrap_or_default(),
                snapshots: num(&r[3]).unwrap_or(0),
                daily_cost_total: num(&r[4]).unwrap_or(0.0),
                critical_findings: num(&r[5]).unwrap_or(0),
                latest_compliance: num(&r[6]),
                mean_health: num(&r[7]),
            })
            .collect())
    }

    /// Closes every connection (lets a SQLite file be checkpointed and removed).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}
