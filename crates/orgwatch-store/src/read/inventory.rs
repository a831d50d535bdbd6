//! `inventory`: the Inventory page's figures, as of one day.
//!
//! Every figure reads each account and region's latest DAILY file up to the as-of day (the
//! filter's last day, else the latest day with a DAILY file of the accounts shown):
//! - **instances**: the SSM-managed instances, with their agent, ping and association;
//! - **applications**: installed applications per account, name and publisher (installs:
//!   rows, one per instance and version);
//! - **patches**: SSM patches per account, classification and state;
//! - **service resources**: per account, service and resource type, the distinct resource
//!   ids (S3 buckets, which every region's file lists, count once);
//! - **Compute Optimizer**: each recommendation, with its estimated monthly savings;
//! - **Config inventory**: resources AWS Config records, per account and resource type.

use super::collection::Collection;
use super::compliance::{accounts_and_day, latest_files};
use super::filter::{account_id, visible, PageFilter};
use super::posture::AccountRef;
use super::Access;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::{AccountId, Timestamp};
use time::{Date, OffsetDateTime};

/// An SSM-managed instance.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedInstance {
    /// The account.
    pub account_id: AccountId,
    /// Region of the file.
    pub region: String,
    /// Instance id.
    pub instance_id: String,
    /// Computer name.
    pub computer_name: String,
    /// Platform and version.
    pub platform: String,
    /// SSM agent version.
    pub agent_version: String,
    /// The agent is the latest.
    pub latest_agent: Option<bool>,
    /// `Online`, `ConnectionLost`, …
    pub ping_status: String,
    /// Last ping.
    pub last_ping: Option<Timestamp>,
    /// State association: `Success`, `Failed`, …
    pub association_status: String,
}

/// A count of rows by account and up to two keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedCount {
    /// The account.
    pub account_id: AccountId,
    /// First key (application name, patch classification, service, resource type).
    pub key: String,
    /// Second key (publisher, patch state, resource type; empty when none).
    pub detail: String,
    /// Rows.
    pub count: i64,
}

/// A Compute Optimizer recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// The account.
    pub account_id: AccountId,
    /// Region of the file.
    pub region: String,
    /// Resource type.
    pub resource_type: String,
    /// Resource name (else its ARN).
    pub resource: String,
    /// `Overprovisioned`, `Underprovisioned`, `Optimized`, …
    pub finding: String,
    /// Current configuration (instance type, volume type or memory).
    pub current: String,
    /// Recommended configuration.
    pub recommended: String,
    /// Estimated monthly savings in USD.
    pub monthly_savings: Option<f64>,
    /// Savings as a percentage of the cost.
    pub savings_percentage: Option<f64>,
    /// Performance risk.
    pub performance_risk: Option<f64>,
}

/// The Inventory page's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InventoryReport {
    /// The day the figures describe (`None`: no DAILY file of the accounts shown).
    pub as_of: Option<Date>,
    /// The accounts shown, by id.
    pub accounts: Vec<AccountRef>,
    /// Managed instances, by account, region and id.
    pub instances: Vec<ManagedInstance>,
    /// Installs per account, application name and publisher.
    pub applications: Vec<KeyedCount>,
    /// Patches per account, classification and state.
    pub patches: Vec<KeyedCount>,
    /// Distinct resources per account, service and resource type.
    pub service_resources: Vec<KeyedCount>,
    /// Compute Optimizer recommendations, largest savings first.
    pub recommendations: Vec<Recommendation>,
    /// Config-recorded resources per account and resource type (and subtype).
    pub config_inventory: Vec<KeyedCount>,
    /// Whether the current files collected the SSM inventory.
    pub inventory_collection: Collection,
    /// … service resources.
    pub service_resources_collection: Collection,
    /// … Compute Optimizer.
    pub compute_optimizer_collection: Collection,
    /// … the Config inventory.
    pub config_inventory_collection: Collection,
}

impl InventoryReport {
    /// Estimated monthly savings of every recommendation shown.
    pub fn monthly_savings(&self) -> f64 {
        self.recommendations
            .iter()
            .filter_map(|r| r.monthly_savings)
            .sum()
    }
}

impl Store {
    /// The Inventory page's figures for the accounts `access` sees and `filter` names, as of
    /// the filter's last day (see the module docs).
    pub async fn inventory_report(
        &self,
        access: &Access,
        filter: &PageFilter,
    ) -> Result<InventoryReport, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let out = inventory_report(&mut *tx, access, filter).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

/// Rows of `(account, key, detail, count)` as [`KeyedCount`]s.
async fn keyed<C: Conn>(
    c: &mut C,
    sql: &str,
    args: &[Val],
) -> Result<Vec<KeyedCount>, sqlx::Error> {
    c.fetch_all::<(String, String, String, i64)>(sql, args)
        .await?
        .into_iter()
        .map(|(id, key, detail, count)| {
            Ok(KeyedCount {
                account_id: account_id(&id)?,
                key,
                detail,
                count,
            })
        })
        .collect()
}

type InstanceRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<bool>,
    String,
    Option<OffsetDateTime>,
    String,
);
type RecommendationRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

async fn inventory_report<C: Conn>(
    c: &mut C,
    access: &Access,
    filter: &PageFilter,
) -> Result<InventoryReport, sqlx::Error> {
    let (vis, vis_args) = visible(access, filter, "a");
    let (accounts, as_of) = accounts_and_day(c, &vis, &vis_args, filter).await?;
    let Some(as_of) = as_of else {
        return Ok(InventoryReport {
            as_of: None,
            accounts,
            instances: Vec::new(),
            applications: Vec::new(),
            patches: Vec::new(),
            service_resources: Vec::new(),
            recommendations: Vec::new(),
            config_inventory: Vec::new(),
            inventory_collection: Collection::default(),
            service_resources_collection: Collection::default(),
            compute_optimizer_collection: Collection::default(),
            config_inventory_collection: Collection::default(),
        });
    };
    let args = {
        let mut all = vec![Val::Date(as_of)];
        all.extend(vis_args.iter().cloned());
        all
    };
    let current = latest_files(&vis);
    let instances = c
        .fetch_all::<InstanceRow>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(i.instance_id, ''), \
                 COALESCE(i.computer_name, ''), \
                 TRIM(COALESCE(i.platform, '') || ' ' || COALESCE(i.platform_version, '')), \
                 COALESCE(i.agent_version, ''), i.is_latest_version, \
                 COALESCE(i.ping_status, ''), i.last_ping_date_time, \
                 COALESCE(i.association_status, '') \
                 FROM inventory_instances i JOIN snapshots sn ON sn.id = i.snapshot_id \
                 JOIN accounts acc ON acc.id = i.account_id \
                 WHERE i.snapshot_id IN ({current}) \
                 ORDER BY acc.account_id, sn.region, i.instance_id"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(
            |(
                id,
                region,
                instance_id,
                computer_name,
                platform,
                agent,
                latest,
                ping,
                last,
                assoc,
            )| {
                Ok(ManagedInstance {
                    account_id: account_id(&id)?,
                    region,
                    instance_id,
                    computer_name,
                    platform,
                    agent_version: agent,
                    latest_agent: latest,
                    ping_status: ping,
                    last_ping: last.map(Timestamp::new),
                    association_status: assoc,
                })
            },
        )
        .collect::<Result<_, sqlx::Error>>()?;
    let applications = keyed(
        c,
        &format!(
            "SELECT acc.account_id, COALESCE(x.name, ''), COALESCE(x.publisher, ''), COUNT(*) \
             FROM inventory_applications x JOIN accounts acc ON acc.id = x.account_id \
             WHERE x.snapshot_id IN ({current}) \
             GROUP BY acc.account_id, COALESCE(x.name, ''), COALESCE(x.publisher, '') \
             ORDER BY acc.account_id, 2, 3"
        ),
        &args,
    )
    .await?;
    let patches = keyed(
        c,
        &format!(
            "SELECT acc.account_id, COALESCE(x.classification, ''), COALESCE(x.state, ''), \
             COUNT(*) FROM inventory_patches x JOIN accounts acc ON acc.id = x.account_id \
             WHERE x.snapshot_id IN ({current}) \
             GROUP BY acc.account_id, COALESCE(x.classification, ''), COALESCE(x.state, '') \
             ORDER BY acc.account_id, 2, 3"
        ),
        &args,
    )
    .await?;
    let service_resources = keyed(
        c,
        &format!(
            "SELECT acc.account_id, COALESCE(x.service_name, ''), \
             COALESCE(x.resource_type, ''), COUNT(DISTINCT COALESCE(x.resource_id, '')) \
             FROM service_resources x JOIN accounts acc ON acc.id = x.account_id \
             WHERE x.snapshot_id IN ({current}) \
             GROUP BY acc.account_id, COALESCE(x.service_name, ''), \
             COALESCE(x.resource_type, '') ORDER BY acc.account_id, 2, 3"
        ),
        &args,
    )
    .await?;
    let config_inventory = keyed(
        c,
        &format!(
            "SELECT acc.account_id, x.resource_type, COALESCE(x.resource_subtype, ''), COUNT(*) \
             FROM config_inventory x JOIN accounts acc ON acc.id = x.account_id \
             WHERE x.snapshot_id IN ({current}) \
             GROUP BY acc.account_id, x.resource_type, COALESCE(x.resource_subtype, '') \
             ORDER BY acc.account_id, 2, 3"
        ),
        &args,
    )
    .await?;
    let mut recommendations = c
        .fetch_all::<RecommendationRow>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(x.resource_type, ''), \
                 COALESCE(x.resource_name, x.resource_arn, ''), COALESCE(x.finding, ''), \
                 COALESCE(x.current_instance_type, x.current_volume_type, ''), \
                 COALESCE(x.recommended_instance_type, x.recommended_volume_type, ''), \
                 CAST(x.current_memory_size AS DOUBLE PRECISION), \
                 CAST(x.recommended_memory_size AS DOUBLE PRECISION), \
                 CAST(x.estimated_monthly_savings_usd AS DOUBLE PRECISION), \
                 CAST(x.savings_opportunity_percentage AS DOUBLE PRECISION), \
                 CAST(x.performance_risk AS DOUBLE PRECISION) \
                 FROM compute_optimizer x JOIN snapshots sn ON sn.id = x.snapshot_id \
                 JOIN accounts acc ON acc.id = x.account_id \
                 WHERE x.snapshot_id IN ({current}) \
                 ORDER BY acc.account_id, sn.region, x.resource_arn"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(
            |(
                id,
                region,
                kind,
                resource,
                finding,
                current,
                recommended,
                memory,
                to,
                savings,
                pct,
                risk,
            )| {
                // A function's configuration is its memory, in MB.
                let or_memory = |t: String, m: Option<f64>| match m {
                    Some(m) if t.is_empty() => format!("{m:.0} MB"),
                    _ => t,
                };
                Ok(Recommendation {
                    account_id: account_id(&id)?,
                    region,
                    resource_type: kind,
                    resource,
                    finding,
                    current: or_memory(current, memory),
                    recommended: or_memory(recommended, to),
                    monthly_savings: savings,
                    savings_percentage: pct,
                    performance_risk: risk,
                })
            },
        )
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // Largest savings first, then as read (NULLs sort differently on the two backends).
    recommendations.sort_by(|a, b| {
        b.monthly_savings
            .unwrap_or(0.0)
            .total_cmp(&a.monthly_savings.unwrap_or(0.0))
    });
    let inventory_collection = Collection::read(c, "inventory_status", &current, &args).await?;
    let service_resources_collection =
        Collection::read(c, "service_resources_status", &current, &args).await?;
    let compute_optimizer_collection =
        Collection::read(c, "compute_optimizer_status", &current, &args).await?;
    let config_inventory_collection =
        Collection::read(c, "config_inventory_status", &current, &args).await?;
    Ok(InventoryReport {
        as_of: Some(as_of),
        accounts,
        instances,
        applications,
        patches,
        service_resources,
        recommendations,
        config_inventory,
        inventory_collection,
        service_resources_collection,
        compute_optimizer_collection,
        config_inventory_collection,
    })
}
