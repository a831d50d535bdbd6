//! `compliance`: the Compliance page's figures, as of one day.
//!
//! The figures, each defined once:
//! - **as of**: the filter's last day, else the latest day with a DAILY file of the accounts
//!   shown (as the Security page's);
//! - **Config rules**: each account and region's latest DAILY file up to that day holds one
//!   Config report; an account's rules (total, compliant, non-compliant) are the sums over
//!   its regions' reports;
//! - **non-compliant resources**: the same files' rule evaluations whose compliance type is
//!   `NON_COMPLIANT` (the sender's list also carries some `COMPLIANT` ones), each with its
//!   rule and conformance pack;
//! - **trend**: on each day from the filter's first day (default: 29 days before the as-of
//!   day) to the as-of day, the sums of that day's DAILY Config reports per account;
//! - **patch compliance** (SSM): in the same latest files, an instance is non-compliant when
//!   one of its patches is `Missing` or `Failed` ([`PATCH_NON_COMPLIANT`]); every patch not
//!   `Installed` is listed.

use super::collection::Collection;
use super::filter::{account_id, visible, PageFilter};
use super::posture::AccountRef;
use super::Access;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::{AccountId, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, OffsetDateTime};

/// Patch states (compared without case) that make an instance non-compliant.
pub const PATCH_NON_COMPLIANT: &[&str] = &["MISSING", "FAILED"];

/// Config rules of one account, summed over its regions' latest reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleCounts {
    /// Rules evaluated.
    pub total: i64,
    /// Compliant rules.
    pub compliant: i64,
    /// Non-compliant rules.
    pub non_compliant: i64,
}

impl RuleCounts {
    /// Compliant rules as a percentage of the rules (`None` without rules).
    pub fn score(&self) -> Option<f64> {
        (self.total > 0).then(|| self.compliant as f64 / self.total as f64 * 100.0)
    }

    fn add(&mut self, other: &RuleCounts) {
        self.total += other.total;
        self.compliant += other.compliant;
        self.non_compliant += other.non_compliant;
    }
}

/// One account's Config rules.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRules {
    /// The account.
    pub account_id: AccountId,
    /// Regions whose latest file holds a Config report.
    pub regions: i64,
    /// The rules.
    pub rules: RuleCounts,
}

/// A resource a Config rule judged non-compliant.
#[derive(Debug, Clone, PartialEq)]
pub struct NonCompliant {
    /// The account.
    pub account_id: AccountId,
    /// Region of the file.
    pub region: String,
    /// The rule.
    pub rule: String,
    /// Its conformance pack (empty when none).
    pub conformance_pack: String,
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Why, as Config says it.
    pub annotation: String,
    /// When the rule last ran.
    pub invoked_at: Option<Timestamp>,
}

/// Config rules of one account on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceDay {
    /// The day.
    pub day: Date,
    /// The account.
    pub account_id: AccountId,
    /// Its rules that day, summed over that day's reports.
    pub rules: RuleCounts,
}

/// SSM patch compliance of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchCompliance {
    /// Managed instances.
    pub instances: i64,
    /// Instances with a patch in a [`PATCH_NON_COMPLIANT`] state.
    pub non_compliant_instances: i64,
    /// Missing patches.
    pub missing: i64,
    /// Failed patches.
    pub failed: i64,
    /// Installed, waiting for a reboot.
    pub pending_reboot: i64,
}

/// A patch that is not installed (or waits for a reboot).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPatch {
    /// The account.
    pub account_id: AccountId,
    /// Region of the file.
    pub region: String,
    /// Managed instance id.
    pub instance_id: String,
    /// Title.
    pub title: String,
    /// Classification.
    pub classification: String,
    /// Severity.
    pub severity: String,
    /// State (`Missing`, `Failed`, `InstalledPendingReboot`, …).
    pub state: String,
}

/// The Compliance page's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComplianceReport {
    /// The day the figures describe (`None`: no DAILY file of the accounts shown).
    pub as_of: Option<Date>,
    /// The accounts shown, by id.
    pub accounts: Vec<AccountRef>,
    /// Config rules per account (accounts without a report are left out).
    pub rules: Vec<AccountRules>,
    /// Non-compliant resources, by account, region, rule and resource.
    pub non_compliant: Vec<NonCompliant>,
    /// Config rules per day of the range and account, by day then account.
    pub trend: Vec<ComplianceDay>,
    /// Patch compliance per account (accounts with neither instances nor pending patches
    /// are left out).
    pub patches: BTreeMap<AccountId, PatchCompliance>,
    /// Patches not installed, by account, region, instance and title.
    pub pending_patches: Vec<PendingPatch>,
    /// Whether the current files collected Config.
    pub config_collection: Collection,
    /// Whether the current files collected the SSM inventory.
    pub inventory_collection: Collection,
}

impl ComplianceReport {
    /// Config rules of every account shown.
    pub fn rule_totals(&self) -> RuleCounts {
        let mut all = RuleCounts {
            total: 0,
            compliant: 0,
            non_compliant: 0,
        };
        for r in &self.rules {
            all.add(&r.rules);
        }
        all
    }

    /// Patch compliance of every account shown.
    pub fn patch_totals(&self) -> PatchCompliance {
        let mut all = PatchCompliance::default();
        for p in self.patches.values() {
            all.instances += p.instances;
            all.non_compliant_instances += p.non_compliant_instances;
            all.missing += p.missing;
            all.failed += p.failed;
            all.pending_reboot += p.pending_reboot;
        }
        all
    }
}

impl Store {
    /// The Compliance page's figures for the accounts `access` sees and `filter` names, as
    /// of the filter's last day (see the module docs; `filter.from` bounds only the trend).
    pub async fn compliance_report(
        &self,
        access: &Access,
        filter: &PageFilter,
    ) -> Result<ComplianceReport, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let out = compliance_report(&mut *tx, access, filter).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

/// The accounts shown, and the as-of day.
pub(crate) async fn accounts_and_day<C: Conn>(
    c: &mut C,
    vis: &str,
    vis_args: &[Val],
    filter: &PageFilter,
) -> Result<(Vec<AccountRef>, Option<Date>), sqlx::Error> {
    let accounts = c
        .fetch_all::<(String, String, String)>(
            &format!(
                "SELECT a.account_id, COALESCE(a.account_name, a.account_id), \
                 COALESCE(a.account_type, '') FROM accounts a WHERE {vis} ORDER BY a.account_id"
            ),
            vis_args,
        )
        .await?
        .into_iter()
        .map(|(id, name, environment)| {
            Ok(AccountRef {
                account_id: account_id(&id)?,
                name,
                environment,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    if let Some(to) = filter.to {
        return Ok((accounts, Some(to)));
    }
    let (d,): (Option<Date>,) = c
        .fetch_optional(
            &format!(
                "SELECT MAX(sn.period_start) FROM snapshots sn \
                 JOIN accounts a ON a.id = sn.account_id \
                 WHERE sn.granularity = 'DAILY' AND {vis}"
            ),
            vis_args,
        )
        .await?
        .unwrap_or((None,));
    Ok((accounts, d))
}

/// SQL selecting each account and region's latest DAILY file up to a day: its placeholders
/// are one `?` for the day, then those of `vis`.
pub(crate) fn latest_files(vis: &str) -> String {
    format!(
        "SELECT sn.id FROM snapshots sn JOIN accounts a ON a.id = sn.account_id \
         WHERE sn.granularity = 'DAILY' AND sn.period_start = (\
         SELECT MAX(s2.period_start) FROM snapshots s2 WHERE s2.account_id = sn.account_id \
         AND s2.region = sn.region AND s2.granularity = 'DAILY' AND s2.period_start <= ?) \
         AND {vis}"
    )
}

fn counts(total: i64, compliant: i64, non_compliant: i64) -> RuleCounts {
    RuleCounts {
        total,
        compliant,
        non_compliant,
    }
}

type ResourceRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<OffsetDateTime>,
);

async fn compliance_report<C: Conn>(
    c: &mut C,
    access: &Access,
    filter: &PageFilter,
) -> Result<ComplianceReport, sqlx::Error> {
    let (vis, vis_args) = visible(access, filter, "a");
    let (accounts, as_of) = accounts_and_day(c, &vis, &vis_args, filter).await?;
    let Some(as_of) = as_of else {
        return Ok(ComplianceReport {
            as_of: None,
            accounts,
            rules: Vec::new(),
            non_compliant: Vec::new(),
            trend: Vec::new(),
            patches: BTreeMap::new(),
            pending_patches: Vec::new(),
            config_collection: Collection::default(),
            inventory_collection: Collection::default(),
        });
    };
    let args = {
        let mut all = vec![Val::Date(as_of)];
        all.extend(vis_args.iter().cloned());
        all
    };
    let current = latest_files(&vis);
    let rules = c
        .fetch_all::<(String, i64, i64, i64, i64)>(
            &format!(
                "SELECT acc.account_id, COUNT(*), \
                 CAST(COALESCE(SUM(cr.total_rules), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(cr.compliant_rules), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(cr.non_compliant_rules), 0) AS BIGINT) \
                 FROM config_reports cr JOIN accounts acc ON acc.id = cr.account_id \
                 WHERE cr.snapshot_id IN ({current}) \
                 GROUP BY acc.account_id ORDER BY acc.account_id"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(|(id, regions, total, compliant, non_compliant)| {
            Ok(AccountRules {
                account_id: account_id(&id)?,
                regions,
                rules: counts(total, compliant, non_compliant),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let non_compliant = c
        .fetch_all::<ResourceRow>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(r.rule_name, ''), \
                 COALESCE(r.conformance_pack, ''), COALESCE(r.resource_type, ''), \
                 COALESCE(r.resource_id, ''), COALESCE(r.annotation, ''), \
                 r.config_rule_invoked_time \
                 FROM non_compliant_resources r JOIN snapshots sn ON sn.id = r.snapshot_id \
                 JOIN accounts acc ON acc.id = r.account_id \
                 WHERE r.snapshot_id IN ({current}) \
                 AND UPPER(COALESCE(r.compliance_type, '')) = 'NON_COMPLIANT' \
                 ORDER BY acc.account_id, sn.region, r.rule_name, r.resource_type, r.resource_id"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(
            |(id, region, rule, pack, resource_type, resource_id, annotation, invoked)| {
                Ok(NonCompliant {
                    account_id: account_id(&id)?,
                    region,
                    rule,
                    conformance_pack: pack,
                    resource_type,
                    resource_id,
                    annotation,
                    invoked_at: invoked.map(Timestamp::new),
                })
            },
        )
        .collect::<Result<_, sqlx::Error>>()?;

    let from = filter
        .from
        .unwrap_or(as_of - Duration::days(super::TREND_DAYS - 1))
        .min(as_of);
    let mut trend_args = vec![Val::Date(from), Val::Date(as_of)];
    trend_args.extend(vis_args.iter().cloned());
    let trend = c
        .fetch_all::<(Date, String, i64, i64, i64)>(
            &format!(
                "SELECT sn.period_start, a.account_id, \
                 CAST(COALESCE(SUM(cr.total_rules), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(cr.compliant_rules), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(cr.non_compliant_rules), 0) AS BIGINT) \
                 FROM config_reports cr JOIN snapshots sn ON sn.id = cr.snapshot_id \
                 AND sn.granularity = 'DAILY' JOIN accounts a ON a.id = cr.account_id \
                 WHERE sn.period_start >= ? AND sn.period_start <= ? AND {vis} \
                 GROUP BY sn.period_start, a.account_id ORDER BY sn.period_start, a.account_id"
            ),
            &trend_args,
        )
        .await?
        .into_iter()
        .map(|(day, id, total, compliant, non_compliant)| {
            Ok(ComplianceDay {
                day,
                account_id: account_id(&id)?,
                rules: counts(total, compliant, non_compliant),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;

    let mut patches: BTreeMap<AccountId, PatchCompliance> = BTreeMap::new();
    for (id, n) in c
        .fetch_all::<(String, i64)>(
            &format!(
                "SELECT acc.account_id, COUNT(*) FROM inventory_instances i \
                 JOIN accounts acc ON acc.id = i.account_id \
                 WHERE i.snapshot_id IN ({current}) GROUP BY acc.account_id"
            ),
            &args,
        )
        .await?
    {
        patches.entry(account_id(&id)?).or_default().instances = n;
    }
    let pending = c
        .fetch_all::<(String, String, String, String, String, String, String)>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(p.managed_instance_id, ''), \
                 COALESCE(p.title, ''), COALESCE(p.classification, ''), \
                 COALESCE(p.severity, ''), COALESCE(p.state, '') \
                 FROM inventory_patches p JOIN snapshots sn ON sn.id = p.snapshot_id \
                 JOIN accounts acc ON acc.id = p.account_id \
                 WHERE p.snapshot_id IN ({current}) \
                 AND UPPER(COALESCE(p.state, '')) <> 'INSTALLED' \
                 ORDER BY acc.account_id, sn.region, p.managed_instance_id, p.title"
            ),
            &args,
        )
        .await?;
    let mut failing: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut pending_patches = Vec::with_capacity(pending.len());
    for (id, region, instance_id, title, classification, severity, state) in pending {
        let account = account_id(&id)?;
        let line = patches.entry(account).or_default();
        let upper = state.to_ascii_uppercase();
        match upper.as_str() {
            "MISSING" => line.missing += 1,
            "FAILED" => line.failed += 1,
            "INSTALLEDPENDINGREBOOT" => line.pending_reboot += 1,
            _ => {}
        }
        if PATCH_NON_COMPLIANT.contains(&upper.as_str())
            && failing.insert((id.clone(), region.clone(), instance_id.clone()))
        {
            line.non_compliant_instances += 1;
        }
        pending_patches.push(PendingPatch {
            account_id: account,
            region,
            instance_id,
            title,
            classification,
            severity,
            state,
        });
    }
    let config_collection = Collection::read(c, "config_status", &current, &args).await?;
    let inventory_collection = Collection::read(c, "inventory_status", &current, &args).await?;
    Ok(ComplianceReport {
        as_of: Some(as_of),
        accounts,
        rules,
        non_compliant,
        trend,
        patches,
        pending_patches,
        config_collection,
        inventory_collection,
    })
}

#[cfg(test)]
mod tests {
    use super::RuleCounts;

    #[test]
    fn the_score_is_compliant_rules_over_rules_and_none_without_rules() {
        let c = |total, compliant| RuleCounts {
            total,
            compliant,
            non_compliant: total - compliant,
        };
        assert_eq!(c(0, 0).score(), None);
        assert_eq!(c(8, 6).score(), Some(75.0));
        assert_eq!(c(3, 3).score(), Some(100.0));
    }
}
