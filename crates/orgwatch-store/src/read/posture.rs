//! `posture`: the Security page's figures, as of one day.
//!
//! The figures, each defined once:
//! - **as of**: the filter's last day, else the latest day with a DAILY file of the accounts
//!   shown; the instant the data describes is the end of that day (the next midnight UTC,
//!   the run date of its files);
//! - **open findings**: the latest state of each Security Hub finding in the DAILY files up to
//!   that day, open when active and neither resolved nor suppressed (as
//!   [`Store::org_summary`] counts them), by account, **source** (the product that reported
//!   it: Security Hub, Inspector, GuardDuty) and severity;
//! - **newest critical findings**: the open CRITICAL ones, newest first (at most
//!   [`NEWEST_CRITICAL`]), with their remediation text;
//! - **current state** (KMS keys, secrets, WAF web ACLs, CloudTrail trails, ACM
//!   certificates): the rows of each account and region's latest DAILY file up to that day;
//!   a trail that every region's file repeats (a multi-region trail) is shown once;
//! - **open findings over time**: the same count on each day from the filter's first day
//!   (default: 29 days before the as-of day) to the as-of day, each day from the latest
//!   state of each finding up to that day, per account and severity;
//! - **certificates expiring within 30 days**: `not_after` after the as-of instant and at
//!   most [`EXPIRY_WARNING_DAYS`] days later ([`Certificate::expires_within`]).

use super::collection::Collection;
use super::filter::{account_id, visible, PageFilter};
use super::summary::OpenFindings;
use super::Access;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::{AccountId, Timestamp};
use time::{Date, Duration, OffsetDateTime};

/// Most critical findings [`SecurityReport::critical`] lists.
pub const NEWEST_CRITICAL: i64 = 100;

/// Days the findings over time cover by default.
pub const TREND_DAYS: i64 = 30;

/// Certificates whose `not_after` is at most this many days after the as-of instant are
/// "expiring".
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Open findings of one account and source, by severity.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFindings {
    /// The account.
    pub account_id: AccountId,
    /// The product that reported them (`Security Hub`, `Inspector`, `GuardDuty`, …).
    pub source: String,
    /// Counts by severity.
    pub open: OpenFindings,
}

/// An open critical finding.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalFinding {
    /// The account.
    pub account_id: AccountId,
    /// Region of the file it came from.
    pub region: String,
    /// The product that reported it.
    pub source: String,
    /// Finding id.
    pub finding_id: String,
    /// Title.
    pub title: String,
    /// Resource type and id.
    pub resource: String,
    /// When it was created.
    pub created_at: Option<Timestamp>,
    /// The remediation text.
    pub remediation: String,
}

/// A KMS key.
#[derive(Debug, Clone, PartialEq)]
pub struct KmsKey {
    /// The account.
    pub account_id: AccountId,
    /// Region.
    pub region: String,
    /// Key id.
    pub key_id: String,
    /// Description.
    pub description: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub state: String,
    /// Automatic rotation (`None`: not reported, as the genuine sender writes it; the page
    /// counts it as without rotation, since nothing shows that it rotates).
    pub rotation_enabled: Option<bool>,
}

/// A Secrets Manager secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    /// The account.
    pub account_id: AccountId,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// Automatic rotation (`None`: not reported, as the genuine sender writes it; the page
    /// counts it as without rotation, since nothing shows that it rotates).
    pub rotation_enabled: Option<bool>,
    /// Last change.
    pub last_changed: Option<Timestamp>,
    /// Last access.
    pub last_accessed: Option<Timestamp>,
}

/// A WAF web ACL.
#[derive(Debug, Clone, PartialEq)]
pub struct WebAcl {
    /// The account.
    pub account_id: AccountId,
    /// Region of the file.
    pub region: String,
    /// Name.
    pub name: String,
    /// `REGIONAL` or `CLOUDFRONT`.
    pub scope: String,
    /// Rules.
    pub rules: Option<i64>,
    /// Rules the sender judged non-compliant.
    pub non_compliant_rules: i64,
    /// Associated resources.
    pub associated_resources: Option<i64>,
    /// Logging on.
    pub logging_enabled: Option<bool>,
}

/// A CloudTrail trail.
#[derive(Debug, Clone, PartialEq)]
pub struct Trail {
    /// The account.
    pub account_id: AccountId,
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Logging now.
    pub is_logging: Option<bool>,
    /// Multi-region.
    pub is_multi_region: Option<bool>,
    /// Log file validation.
    pub log_file_validation: Option<bool>,
    /// Encrypted with a KMS key.
    pub encrypted: bool,
    /// Latest delivery to S3.
    pub latest_delivery: Option<Timestamp>,
    /// When logging stopped, if it did.
    pub stopped_at: Option<Timestamp>,
}

/// An ACM certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// The account.
    pub account_id: AccountId,
    /// Region.
    pub region: String,
    /// Domain name.
    pub domain: String,
    /// ARN.
    pub arn: String,
    /// `ISSUED`, `EXPIRED`, …
    pub status: String,
    /// `AMAZON_ISSUED` or `IMPORTED`.
    pub kind: String,
    /// Expiry.
    pub not_after: Option<Timestamp>,
    /// ACM renews it.
    pub renewal_eligible: bool,
}

impl Certificate {
    /// Expires after `at` and at most `days` days later.
    pub fn expires_within(&self, at: Timestamp, days: i64) -> bool {
        self.not_after
            .is_some_and(|n| n > at && n.get() <= at.get() + Duration::days(days))
    }

    /// Expired at `at`.
    pub fn expired(&self, at: Timestamp) -> bool {
        self.not_after.is_some_and(|n| n <= at)
    }

    /// Whole days from `at` to expiry (negative once expired).
    pub fn days_left(&self, at: Timestamp) -> Option<i64> {
        self.not_after.map(|n| (n.get() - at.get()).whole_days())
    }
}

/// Open findings of one account on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingsDay {
    /// The day (its state: each finding's latest DAILY row up to it).
    pub day: Date,
    /// The account.
    pub account_id: AccountId,
    /// Counts by severity.
    pub open: OpenFindings,
}

/// An account shown.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRef {
    /// Id.
    pub account_id: AccountId,
    /// Name.
    pub name: String,
    /// Environment.
    pub environment: String,
}

/// The Security page's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecurityReport {
    /// The day the figures describe (`None`: no DAILY file of the accounts shown).
    pub as_of: Option<Date>,
    /// The accounts shown, by id.
    pub accounts: Vec<AccountRef>,
    /// Open findings per account and source.
    pub findings: Vec<SourceFindings>,
    /// Open findings per day of the range and account (accounts with none that day are
    /// left out), by day then account.
    pub trend: Vec<FindingsDay>,
    /// Open critical findings, newest first.
    pub critical: Vec<CriticalFinding>,
    /// KMS keys.
    pub kms_keys: Vec<KmsKey>,
    /// Secrets.
    pub secrets: Vec<Secret>,
    /// WAF web ACLs.
    pub web_acls: Vec<WebAcl>,
    /// CloudTrail trails.
    pub trails: Vec<Trail>,
    /// Certificates, soonest expiry first.
    pub certificates: Vec<Certificate>,
    /// Whether the current files collected security data.
    pub collection: Collection,
}

impl SecurityReport {
    /// The instant the figures describe: the end of [`SecurityReport::as_of`].
    pub fn as_of_instant(&self) -> Option<Timestamp> {
        self.as_of
            .map(|d| Timestamp::from_date(d + Duration::days(1)))
    }

    /// Open findings of every account and source.
    pub fn open_findings(&self) -> OpenFindings {
        let mut all = OpenFindings::default();
        for f in &self.findings {
            all.merge(&f.open);
        }
        all
    }

    /// Certificates expiring within [`EXPIRY_WARNING_DAYS`] days of the as-of instant.
    pub fn expiring_certificates(&self) -> usize {
        self.as_of_instant().map_or(0, |at| {
            self.certificates
                .iter()
                .filter(|c| c.expires_within(at, EXPIRY_WARNING_DAYS))
                .count()
        })
    }
}

impl Store {
    /// The Security page's figures for the accounts `access` sees and `filter` names, as of
    /// the filter's last day (see the module docs for every figure; `filter.from` bounds
    /// only the findings over time: every other figure is a state at one day).
    pub async fn security_report(
        &self,
        access: &Access,
        filter: &PageFilter,
    ) -> Result<SecurityReport, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let out = security_report(&mut *tx, access, filter).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

/// Open, as `summary` defines it, on the columns of a `latest` subquery.
const OPEN: &str = "newest = 1 AND UPPER(COALESCE(record_state, 'ACTIVE')) = 'ACTIVE' \
    AND UPPER(COALESCE(workflow_state, 'NEW')) NOT IN ('RESOLVED', 'SUPPRESSED')";

fn ts(t: Option<OffsetDateTime>) -> Option<Timestamp> {
    t.map(Timestamp::new)
}

type CriticalRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<OffsetDateTime>,
    String,
);
type TrailRow = (
    String,
    String,
    String,
    Option<bool>,
    Option<bool>,
    Option<bool>,
    bool,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
);

async fn security_report<C: Conn>(
    c: &mut C,
    access: &Access,
    filter: &PageFilter,
) -> Result<SecurityReport, sqlx::Error> {
    let (vis, vis_args) = visible(access, filter, "a");
    let accounts = c
        .fetch_all::<(String, String, String)>(
            &format!(
                "SELECT a.account_id, COALESCE(a.account_name, a.account_id), \
                 COALESCE(a.account_type, '') FROM accounts a WHERE {vis} ORDER BY a.account_id"
            ),
            &vis_args,
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
    let as_of = match filter.to {
        Some(to) => Some(to),
        None => {
            let (d,): (Option<Date>,) = c
                .fetch_optional(
                    &format!(
                        "SELECT MAX(sn.period_start) FROM snapshots sn \
                         JOIN accounts a ON a.id = sn.account_id \
                         WHERE sn.granularity = 'DAILY' AND {vis}"
                    ),
                    &vis_args,
                )
                .await?
                .unwrap_or((None,));
            d
        }
    };
    let Some(as_of) = as_of else {
        return Ok(SecurityReport {
            as_of: None,
            accounts,
            findings: Vec::new(),
            trend: Vec::new(),
            critical: Vec::new(),
            kms_keys: Vec::new(),
            secrets: Vec::new(),
            web_acls: Vec::new(),
            trails: Vec::new(),
            certificates: Vec::new(),
            collection: Collection::default(),
        });
    };
    // Arguments of a query whose only placeholders are one `?` for the day, then `{vis}`.
    let args = {
        let mut all = vec![Val::Date(as_of)];
        all.extend(vis_args.iter().cloned());
        all
    };

    // The latest state of each finding up to the day.
    let latest = format!(
        "SELECT a.account_id AS account, COALESCE(f.product_name, 'Security Hub') AS source, \
         UPPER(COALESCE(f.severity, '')) AS severity, f.workflow_state, f.record_state, \
         f.finding_id, COALESCE(f.title, '') AS title, sn.region AS region, \
         COALESCE(f.resource_type, '') AS resource_type, \
         COALESCE(f.resource_id, '') AS resource_id, f.created_at AS created, \
         COALESCE(f.recommendation, '') AS recommendation, \
         ROW_NUMBER() OVER (PARTITION BY f.account_id, f.finding_id \
                            ORDER BY sn.period_start DESC, sn.id DESC) AS newest \
         FROM findings f JOIN snapshots sn ON sn.id = f.snapshot_id \
         AND sn.granularity = 'DAILY' JOIN accounts a ON a.id = f.account_id \
         WHERE f.finding_id IS NOT NULL AND sn.period_start <= ? AND {vis}"
    );
    let mut findings: Vec<SourceFindings> = Vec::new();
    for (id, source, severity, n) in c
        .fetch_all::<(String, String, String, i64)>(
            &format!(
                "SELECT account, source, severity, COUNT(*) FROM ({latest}) latest \
                 WHERE {OPEN} GROUP BY account, source, severity ORDER BY account, source"
            ),
            &args,
        )
        .await?
    {
        let account = account_id(&id)?;
        match findings.last_mut() {
            Some(f) if f.account_id == account && f.source == source => {
                f.open.add(&severity, n);
            }
            _ => {
                let mut open = OpenFindings::default();
                open.add(&severity, n);
                findings.push(SourceFindings {
                    account_id: account,
                    source,
                    open,
                });
            }
        }
    }
    let mut critical_args = args.clone();
    critical_args.push(Val::Int(NEWEST_CRITICAL));
    let critical = c
        .fetch_all::<CriticalRow>(
            &format!(
                "SELECT account, region, source, finding_id, title, \
                 resource_type || ' ' || resource_id, created, recommendation \
                 FROM ({latest}) latest WHERE {OPEN} AND severity = 'CRITICAL' \
                 ORDER BY created DESC, account, finding_id LIMIT ?"
            ),
            &critical_args,
        )
        .await?
        .into_iter()
        .map(
            |(id, region, source, finding_id, title, resource, created, remediation)| {
                Ok(CriticalFinding {
                    account_id: account_id(&id)?,
                    region,
                    source,
                    finding_id,
                    title,
                    resource: resource.trim().to_owned(),
                    created_at: ts(created),
                    remediation,
                })
            },
        )
        .collect::<Result<_, sqlx::Error>>()?;

    // Each account and region's latest DAILY file up to the day.
    let current = format!(
        "SELECT sn.id FROM snapshots sn JOIN accounts a ON a.id = sn.account_id \
         WHERE sn.granularity = 'DAILY' AND sn.period_start = (\
         SELECT MAX(s2.period_start) FROM snapshots s2 WHERE s2.account_id = sn.account_id \
         AND s2.region = sn.region AND s2.granularity = 'DAILY' AND s2.period_start <= ?) \
         AND {vis}"
    );
    let kms_keys = c
        .fetch_all::<(String, String, String, String, String, Option<bool>)>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(k.key_id, ''), \
                 COALESCE(k.description, ''), COALESCE(k.key_state, ''), \
                 k.key_rotation_enabled FROM kms_keys k \
                 JOIN snapshots sn ON sn.id = k.snapshot_id \
                 JOIN accounts acc ON acc.id = k.account_id \
                 WHERE k.snapshot_id IN ({current}) \
                 ORDER BY acc.account_id, sn.region, k.key_id"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(|(id, region, key_id, description, state, rotation)| {
            Ok(KmsKey {
                account_id: account_id(&id)?,
                region,
                key_id,
                description,
                state,
                rotation_enabled: rotation,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    type SecretRow = (
        String,
        String,
        String,
        Option<bool>,
        Option<OffsetDateTime>,
        Option<OffsetDateTime>,
    );
    let secrets = c
        .fetch_all::<SecretRow>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(s.name, s.arn, ''), \
                 s.rotation_enabled, s.last_changed_date, s.last_accessed_date \
                 FROM secrets_manager_secrets s JOIN snapshots sn ON sn.id = s.snapshot_id \
                 JOIN accounts acc ON acc.id = s.account_id \
                 WHERE s.snapshot_id IN ({current}) \
                 ORDER BY acc.account_id, sn.region, s.name"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(|(id, region, name, rotation, changed, accessed)| {
            Ok(Secret {
                account_id: account_id(&id)?,
                region,
                name,
                rotation_enabled: rotation,
                last_changed: ts(changed),
                last_accessed: ts(accessed),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    type AclRow = (
        String,
        String,
        String,
        String,
        Option<i64>,
        i64,
        Option<i64>,
        Option<bool>,
    );
    let web_acls = c
        .fetch_all::<AclRow>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(w.name, ''), \
                 COALESCE(w.scope, ''), CAST(w.rules_count AS BIGINT), \
                 (SELECT COUNT(*) FROM waf_rules_detailed d \
                  WHERE d.snapshot_id = w.snapshot_id AND d.web_acl_name = w.name \
                  AND d.is_compliant = FALSE), \
                 CAST(w.associated_resources_count AS BIGINT), w.logging_enabled \
                 FROM waf_rules w JOIN snapshots sn ON sn.id = w.snapshot_id \
                 JOIN accounts acc ON acc.id = w.account_id \
                 WHERE w.snapshot_id IN ({current}) \
                 ORDER BY acc.account_id, sn.region, w.name"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(
            |(id, region, name, scope, rules, bad, associated, logging)| {
                Ok(WebAcl {
                    account_id: account_id(&id)?,
                    region,
                    name,
                    scope,
                    rules,
                    non_compliant_rules: bad,
                    associated_resources: associated,
                    logging_enabled: logging,
                })
            },
        )
        .collect::<Result<_, sqlx::Error>>()?;
    let trails = c
        .fetch_all::<TrailRow>(
            &format!(
                "SELECT account, name, arn, is_logging, is_multi_region, log_file_validation, \
                 encrypted, latest_delivery_time, stop_logging_time FROM (\
                 SELECT acc.account_id AS account, COALESCE(t.name, '') AS name, \
                 COALESCE(t.arn, t.name, '') AS arn, t.is_logging, t.is_multi_region, \
                 t.log_file_validation, t.kms_key_id IS NOT NULL AS encrypted, \
                 t.latest_delivery_time, t.stop_logging_time, \
                 ROW_NUMBER() OVER (PARTITION BY t.account_id, COALESCE(t.arn, t.name, '') \
                                    ORDER BY sn.period_start DESC, sn.region, sn.id) AS newest \
                 FROM cloudtrail_logs t JOIN snapshots sn ON sn.id = t.snapshot_id \
                 JOIN accounts acc ON acc.id = t.account_id \
                 WHERE t.snapshot_id IN ({current})) trails \
                 WHERE newest = 1 ORDER BY account, arn"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(
            |(id, name, arn, logging, multi, validation, encrypted, delivery, stopped)| {
                Ok(Trail {
                    account_id: account_id(&id)?,
                    name,
                    arn,
                    is_logging: logging,
                    is_multi_region: multi,
                    log_file_validation: validation,
                    encrypted,
                    latest_delivery: ts(delivery),
                    stopped_at: ts(stopped),
                })
            },
        )
        .collect::<Result<_, sqlx::Error>>()?;
    type CertRow = (
        String,
        String,
        String,
        String,
        String,
        String,
        Option<OffsetDateTime>,
        bool,
    );
    let certificates = c
        .fetch_all::<CertRow>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(ce.domain_name, ''), \
                 COALESCE(ce.arn, ''), COALESCE(ce.status, ''), COALESCE(ce.type, ''), \
                 ce.not_after, UPPER(COALESCE(ce.renewal_eligibility, '')) = 'ELIGIBLE' \
                 FROM certificates ce JOIN snapshots sn ON sn.id = ce.snapshot_id \
                 JOIN accounts acc ON acc.id = ce.account_id \
                 WHERE ce.snapshot_id IN ({current}) \
                 ORDER BY ce.not_after, acc.account_id, ce.arn"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(
            |(id, region, domain, arn, status, kind, not_after, renewal_eligible)| {
                Ok(Certificate {
                    account_id: account_id(&id)?,
                    region,
                    domain,
                    arn,
                    status,
                    kind,
                    not_after: ts(not_after),
                    renewal_eligible,
                })
            },
        )
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // NULLs sort first on SQLite and last on PostgreSQL: order here, the same on both.
    let mut certificates = certificates;
    certificates.sort_by(|a, b| {
        (a.not_after.is_none(), a.not_after, &a.account_id, &a.arn).cmp(&(
            b.not_after.is_none(),
            b.not_after,
            &b.account_id,
            &b.arn,
        ))
    });
    let from = filter
        .from
        .unwrap_or(as_of - Duration::days(TREND_DAYS - 1))
        .min(as_of);
    let trend = trend(c, &vis, &args, from, as_of).await?;
    let collection = Collection::read(c, "security_status", &current, &args).await?;
    Ok(SecurityReport {
        as_of: Some(as_of),
        accounts,
        findings,
        trend,
        critical,
        kms_keys,
        secrets,
        web_acls,
        trails,
        certificates,
        collection,
    })
}

/// One DAILY row of a finding: account, finding id, day, severity, workflow and record state.
type FindingRow = (String, String, Date, String, Option<String>, Option<String>);

/// Open, as [`OPEN`] says it in SQL.
fn is_open(workflow: Option<&str>, record: Option<&str>) -> bool {
    let upper = |v: Option<&str>, or: &str| v.unwrap_or(or).to_ascii_uppercase();
    upper(record, "ACTIVE") == "ACTIVE"
        && !matches!(upper(workflow, "NEW").as_str(), "RESOLVED" | "SUPPRESSED")
}

/// Open findings per day of `from ..= to` and account: each finding's rows in day order,
/// each state holding from its day to the next row's (the latest row of a day wins).
async fn trend<C: Conn>(
    c: &mut C,
    vis: &str,
    args: &[Val],
    from: Date,
    to: Date,
) -> Result<Vec<FindingsDay>, sqlx::Error> {
    let rows: Vec<FindingRow> = c
        .fetch_all(
            &format!(
                "SELECT a.account_id, f.finding_id, sn.period_start, \
                 UPPER(COALESCE(f.severity, '')), f.workflow_state, f.record_state \
                 FROM findings f JOIN snapshots sn ON sn.id = f.snapshot_id \
                 AND sn.granularity = 'DAILY' JOIN accounts a ON a.id = f.account_id \
                 WHERE f.finding_id IS NOT NULL AND sn.period_start <= ? AND {vis} \
                 ORDER BY a.account_id, f.finding_id, sn.period_start, sn.id"
            ),
            args,
        )
        .await?;
    let mut days: std::collections::BTreeMap<(Date, &str), OpenFindings> = Default::default();
    for (i, (account, finding, day, severity, workflow, record)) in rows.iter().enumerate() {
        // This state holds until the finding's next row, or to the end of the range.
        let until = match rows.get(i + 1) {
            Some((a, f, next, ..)) if a == account && f == finding => *next - Duration::days(1),
            _ => to,
        };
        if !is_open(workflow.as_deref(), record.as_deref()) {
            continue;
        }
        let mut d = (*day).max(from);
        while d <= until.min(to) {
            days.entry((d, account.as_str()))
                .or_default()
                .add(severity, 1);
            d += Duration::days(1);
        }
    }
    days.into_iter()
        .map(|((day, account), open)| {
            Ok(FindingsDay {
                day,
                account_id: account_id(account)?,
                open,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::is_open;

    #[test]
    fn open_is_active_and_neither_resolved_nor_suppressed() {
        assert!(is_open(None, None));
        assert!(is_open(Some("new"), Some("active")));
        assert!(is_open(Some("NOTIFIED"), None));
        assert!(!is_open(Some("resolved"), None));
        assert!(!is_open(Some("SUPPRESSED"), Some("ACTIVE")));
        assert!(!is_open(None, Some("ARCHIVED")));
    }
}
