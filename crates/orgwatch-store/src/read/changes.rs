//! `changes`: what changed between two days, for the "What changed between FROM and TO"
//! section of every page.
//!
//! The two **sides** are the range's first day `from` and last day `to`: `to` is the
//! filter's last day, else the latest day with a DAILY file of the accounts shown; `from`
//! the filter's first day, else [`DEFAULT_RANGE_DAYS`] − 1 days before `to` (the range the
//! pages show by default). Each side is, for each account and region, the newest DAILY file
//! loaded on or before that day (as the pages' "as of"): a region whose sender stopped keeps
//! its last file on both sides, so it shows no change.
//!
//! Per account, each kind of change, defined once:
//! - **findings** (Security Hub's `findings`, whose source, the product that reported it, is
//!   Security Hub, GuardDuty or Inspector; the `guard_duty_findings` and
//!   `inspector_findings` lists repeat the same findings without a lasting state): each
//!   finding's state on a day is its latest DAILY row up to that day, as the Security page
//!   counts open findings; **new** = open at `to` and absent or closed at `from`;
//!   **resolved** = open at `from` and closed at `to`;
//! - **Config compliance**: an account's non-compliant rules are the sums over its regions'
//!   Config reports of the side; it **fell out** of compliance when it had a report and no
//!   non-compliant rule at `from` and has some at `to`, and **came back** the other way; a
//!   rule (per account and region) fell out when it has a `NON_COMPLIANT` evaluation at `to`
//!   and none at `from`, and came back the other way;
//! - **cost movers**: per account and service, Cost Explorer's cost *of the day* `from`
//!   against that of the day `to` (the DAILY `services` rows dated that day, every usage type
//!   summed; no row is 0), biggest absolute change first;
//! - **certificates newly expiring**: in the `to` side's files, a certificate whose expiry is
//!   after the end of `to` and at most [`EXPIRY_WARNING_DAYS`] days later, and that was not
//!   expiring so measured from the end of `from` in the `from` side's files (by ARN);
//! - **instances** (SSM managed instances): in the `to` side's files and not the `from`
//!   side's (**new**), or the other way (**removed**), by account and instance id.
//!
//! An account without a DAILY file on or before `from` is **new since `from`**
//! ([`AccountSides::is_new`]): none of its rows is listed as a change (everything of it
//! would look new). An account and region whose file on a side reports the category as not
//! collected or failed is not compared for that category (a failed collector's empty list
//! would look like everything removed); a region without a file at `from` is compared (the
//! account is older than the region). Each category's [`Sides`] say what the files of each
//! side report, so an empty list can say why.

use super::collection::Collection;
use super::compliance::{accounts_and_day, latest_files};
use super::cost::DEFAULT_RANGE_DAYS;
use super::filter::{account_id, visible, PageFilter};
use super::posture::{AccountRef, Certificate, EXPIRY_WARNING_DAYS};
use super::Access;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::{AccountId, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, OffsetDateTime};

/// Which kinds of change a caller needs: the others are neither read nor listed (a page
/// shows its own topic; the Overview counts them all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeKinds {
    /// New and resolved findings.
    pub findings: bool,
    /// Accounts and rules out of or back in Config compliance.
    pub compliance: bool,
    /// Cost movers.
    pub cost: bool,
    /// Certificates newly expiring.
    pub certificates: bool,
    /// New and removed instances.
    pub instances: bool,
}

impl ChangeKinds {
    /// Every kind.
    pub const ALL: ChangeKinds = ChangeKinds {
        findings: true,
        compliance: true,
        cost: true,
        certificates: true,
        instances: true,
    };
    /// None (each kind is then set by name).
    pub const NONE: ChangeKinds = ChangeKinds {
        findings: false,
        compliance: false,
        cost: false,
        certificates: false,
        instances: false,
    };
}

/// The two days compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeRange {
    /// The earlier side.
    pub from: Date,
    /// The later side.
    pub to: Date,
}

/// An account shown and the days of its newest DAILY file on or before each side.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSides {
    /// The account.
    pub account: AccountRef,
    /// Day of its newest DAILY file on or before `from` (`None`: none).
    pub from_day: Option<Date>,
    /// Day of its newest DAILY file on or before `to` (`None`: none).
    pub to_day: Option<Date>,
}

impl AccountSides {
    /// First loaded after `from`: none of its rows is a change, the account is new.
    pub fn is_new(&self) -> bool {
        self.from_day.is_none() && self.to_day.is_some()
    }
}

/// What the files of each side report of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sides {
    /// The `from` side's files.
    pub from: Collection,
    /// The `to` side's files.
    pub to: Collection,
}

/// How a finding changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingChange {
    /// Open at `to`, absent or closed at `from`.
    New,
    /// Open at `from`, closed at `to`.
    Resolved,
}

impl FindingChange {
    /// `new` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingChange::New => "new",
            FindingChange::Resolved => "resolved",
        }
    }
}

/// A finding that opened or was resolved between the two days.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedFinding {
    /// The account.
    pub account_id: AccountId,
    /// New or resolved.
    pub change: FindingChange,
    /// The product that reported it (`Security Hub`, `GuardDuty`, `Inspector`, …).
    pub source: String,
    /// Severity (upper case) of its state at `to`.
    pub severity: String,
    /// Title.
    pub title: String,
    /// Finding id.
    pub finding_id: String,
    /// Region of the file of its state at `to`.
    pub region: String,
}

/// Which way compliance went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ComplianceChange {
    /// Compliant at `from`, not at `to`.
    FellOut,
    /// Not compliant at `from`, compliant at `to`.
    CameBack,
}

impl ComplianceChange {
    /// `fell out` or `came back`.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceChange::FellOut => "fell out",
            ComplianceChange::CameBack => "came back",
        }
    }
}

/// An account whose Config compliance changed.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountComplianceChange {
    /// The account.
    pub account_id: AccountId,
    /// Which way.
    pub change: ComplianceChange,
    /// Non-compliant rules at `from`.
    pub from_non_compliant: i64,
    /// Non-compliant rules at `to`.
    pub to_non_compliant: i64,
    /// Rules at `to`.
    pub to_rules: i64,
}

/// A Config rule of one account and region whose compliance changed.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleComplianceChange {
    /// The account.
    pub account_id: AccountId,
    /// Region of the files.
    pub region: String,
    /// The rule.
    pub rule: String,
    /// Which way.
    pub change: ComplianceChange,
    /// Its non-compliant resources at `from`.
    pub from_resources: i64,
    /// Its non-compliant resources at `to`.
    pub to_resources: i64,
}

/// One account and service's cost on the two days.
#[derive(Debug, Clone, PartialEq)]
pub struct CostMover {
    /// The account.
    pub account_id: AccountId,
    /// Service, as Cost Explorer names it.
    pub service: String,
    /// Its cost of the day `from`.
    pub from_cost: f64,
    /// Its cost of the day `to`.
    pub to_cost: f64,
}

impl CostMover {
    /// `to_cost − from_cost`.
    pub fn change(&self) -> f64 {
        self.to_cost - self.from_cost
    }
}

/// How an instance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InstanceChange {
    /// In the `to` side's files only.
    New,
    /// In the `from` side's files only.
    Removed,
}

impl InstanceChange {
    /// `new` or `removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceChange::New => "new",
            InstanceChange::Removed => "removed",
        }
    }
}

/// An SSM managed instance that appeared or went.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedInstance {
    /// The account.
    pub account_id: AccountId,
    /// New or removed.
    pub change: InstanceChange,
    /// Region of the file.
    pub region: String,
    /// Instance id.
    pub instance_id: String,
    /// Computer name.
    pub computer_name: String,
    /// Platform and version.
    pub platform: String,
}

/// What changed between two days (see the module docs for each kind).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangesReport {
    /// The days compared (`None`: no DAILY file of the accounts shown).
    pub range: Option<ChangeRange>,
    /// The accounts shown, with their sides, by id.
    pub accounts: Vec<AccountSides>,
    /// New and resolved findings, by account, change, severity and id.
    pub findings: Vec<ChangedFinding>,
    /// Accounts that fell out of or came back to Config compliance, by account.
    pub account_compliance: Vec<AccountComplianceChange>,
    /// Config rules that did, by account, region and rule.
    pub rule_compliance: Vec<RuleComplianceChange>,
    /// Costs per account and service whose day cost differs, biggest absolute change first.
    pub cost_movers: Vec<CostMover>,
    /// Certificates newly expiring, soonest first.
    pub certificates: Vec<Certificate>,
    /// New and removed instances, by account, change, region and id.
    pub instances: Vec<ChangedInstance>,
    /// What the files report of security (findings and certificates).
    pub security: Sides,
    /// … of Config.
    pub config: Sides,
    /// … of Cost Explorer's services.
    pub cost: Sides,
    /// … of the SSM inventory.
    pub inventory: Sides,
}

impl ChangesReport {
    /// The end of `to`: the instant expiry is measured from.
    pub fn to_instant(&self) -> Option<Timestamp> {
        self.range
            .map(|r| Timestamp::from_date(r.to + Duration::days(1)))
    }

    /// Accounts new since `from`.
    pub fn new_accounts(&self) -> impl Iterator<Item = &AccountSides> {
        self.accounts.iter().filter(|a| a.is_new())
    }
}

impl Store {
    /// What changed between the filter's first and last day for the accounts `access` sees
    /// and `filter` names (see the module docs for the sides and each kind of change), of
    /// the `kinds` asked (the other lists are empty).
    pub async fn changes_report(
        &self,
        access: &Access,
        filter: &PageFilter,
        kinds: ChangeKinds,
    ) -> Result<ChangesReport, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let out = changes_report(&mut *tx, access, filter, kinds).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

/// One side's file of an account and region, and the statuses its log reports.
#[derive(Debug, Clone)]
struct SideFile {
    snapshot: i64,
    security: Option<String>,
    config: Option<String>,
    service: Option<String>,
    inventory: Option<String>,
}

type FileRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Account-region pairs compared, with their `from` snapshot (if the region had one) and
/// their `to` snapshot.
type Pairs = BTreeMap<(String, String), (Option<i64>, i64)>;

/// (account, region) → its file on one side.
type SideFiles = BTreeMap<(String, String), SideFile>;

async fn side_files<C: Conn>(
    c: &mut C,
    vis: &str,
    vis_args: &[Val],
    day: Date,
) -> Result<SideFiles, sqlx::Error> {
    let mut args = vec![Val::Date(day)];
    args.extend(vis_args.iter().cloned());
    let rows: Vec<FileRow> = c
        .fetch_all(
            &format!(
                "SELECT f.id, a.account_id, f.region, l.security_status, l.config_status, \
                 l.service_status, l.inventory_status FROM snapshots f \
                 JOIN accounts a ON a.id = f.account_id \
                 LEFT JOIN logs l ON l.snapshot_id = f.id AND l.outcome = 'LOADED' \
                 WHERE f.id IN ({}) ORDER BY f.id, l.id",
                latest_files(vis)
            ),
            &args,
        )
        .await?;
    let mut out = SideFiles::new();
    for (snapshot, account, region, security, config, service, inventory) in rows {
        // One log per loaded file; were there two, the first speaks for it.
        out.entry((account, region)).or_insert(SideFile {
            snapshot,
            security,
            config,
            service,
            inventory,
        });
    }
    Ok(out)
}

/// What `files` report of the category `status` picks, as [`Collection::read`] counts it.
fn collection(files: &SideFiles, status: impl Fn(&SideFile) -> &Option<String>) -> Collection {
    let mut c = Collection::default();
    for f in files.values() {
        c.files += 1;
        if let Some(s) = status(f) {
            c.reported += 1;
            if !s.eq_ignore_ascii_case("pass") {
                c.failed += 1;
            }
        }
    }
    c
}

/// The account-region pairs whose files on both sides may be compared for the category
/// `status` picks: the account is not new, the `to` file reports it as `Pass`, and the
/// `from` file (if the region had one) too. Each pair with its two snapshots.
fn comparable(
    from: &SideFiles,
    to: &SideFiles,
    new: &BTreeSet<&str>,
    status: impl Fn(&SideFile) -> &Option<String>,
) -> Pairs {
    let pass = |f: &SideFile| {
        status(f)
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("pass"))
    };
    to.iter()
        .filter(|((account, _), _)| !new.contains(account.as_str()))
        .filter(|(_, t)| pass(t))
        .filter_map(|(key, t)| match from.get(key) {
            Some(f) if pass(f) => Some((key.clone(), (Some(f.snapshot), t.snapshot))),
            Some(_) => None,
            None => Some((key.clone(), (None, t.snapshot))),
        })
        .collect()
}

/// The snapshot ids of `pairs`' `from` side and `to` side.
fn side_ids(
    pairs: &BTreeMap<(String, String), (Option<i64>, i64)>,
) -> (BTreeSet<i64>, BTreeSet<i64>) {
    (
        pairs.values().filter_map(|(f, _)| *f).collect(),
        pairs.values().map(|(_, t)| *t).collect(),
    )
}

/// The snapshot ids of `pairs` as a SQL list of placeholders and their arguments.
fn snapshot_list(pairs: &Pairs) -> (String, Vec<Val>) {
    let ids: BTreeSet<i64> = pairs
        .values()
        .flat_map(|(f, t)| f.iter().copied().chain([*t]))
        .collect();
    if ids.is_empty() {
        return ("NULL".to_owned(), Vec::new());
    }
    (
        vec!["?"; ids.len()].join(", "),
        ids.into_iter().map(Val::Int).collect(),
    )
}

/// One DAILY row of a finding: account, finding id, day, severity, workflow and record
/// state, source, title, region.
type FindingRow = (
    String,
    String,
    Date,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

/// An account's non-compliant rules at `from`, and its (rules, non-compliant rules) at `to`
/// (`None`: no Config report on that side).
type AccountSums = (Option<i64>, Option<(i64, i64)>);

type CertRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<OffsetDateTime>,
    bool,
);

async fn changes_report<C: Conn>(
    c: &mut C,
    access: &Access,
    filter: &PageFilter,
    kinds: ChangeKinds,
) -> Result<ChangesReport, sqlx::Error> {
    let (vis, vis_args) = visible(access, filter, "a");
    let (accounts, to) = accounts_and_day(c, &vis, &vis_args, filter).await?;
    let Some(to) = to else {
        return Ok(ChangesReport {
            range: None,
            accounts: accounts
                .into_iter()
                .map(|account| AccountSides {
                    account,
                    from_day: None,
                    to_day: None,
                })
                .collect(),
            findings: Vec::new(),
            account_compliance: Vec::new(),
            rule_compliance: Vec::new(),
            cost_movers: Vec::new(),
            certificates: Vec::new(),
            instances: Vec::new(),
            security: Sides::default(),
            config: Sides::default(),
            cost: Sides::default(),
            inventory: Sides::default(),
        });
    };
    let from = filter
        .from
        .unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS - 1))
        .min(to);

    // Each account's newest DAILY file on or before each side.
    let mut day_args = vec![Val::Date(from), Val::Date(to)];
    day_args.extend(vis_args.iter().cloned());
    let days: BTreeMap<String, (Option<Date>, Option<Date>)> = c
        .fetch_all::<(String, Option<Date>, Option<Date>)>(
            &format!(
                "SELECT a.account_id, \
                 MAX(CASE WHEN sn.period_start <= ? THEN sn.period_start END), \
                 MAX(sn.period_start) FROM snapshots sn JOIN accounts a ON a.id = sn.account_id \
                 WHERE sn.granularity = 'DAILY' AND sn.period_start <= ? AND {vis} \
                 GROUP BY a.account_id"
            ),
            &day_args,
        )
        .await?
        .into_iter()
        .map(|(id, f, t)| (id, (f, t)))
        .collect();
    let accounts: Vec<AccountSides> = accounts
        .into_iter()
        .map(|account| {
            let (from_day, to_day) = days
                .get(account.account_id.as_str())
                .copied()
                .unwrap_or((None, None));
            AccountSides {
                account,
                from_day,
                to_day,
            }
        })
        .collect();
    let new: BTreeSet<&str> = accounts
        .iter()
        .filter(|a| a.from_day.is_none())
        .map(|a| a.account.account_id.as_str())
        .collect();

    let from_files = side_files(c, &vis, &vis_args, from).await?;
    let to_files = side_files(c, &vis, &vis_args, to).await?;
    let sides = |status: fn(&SideFile) -> &Option<String>| Sides {
        from: collection(&from_files, status),
        to: collection(&to_files, status),
    };
    let security = sides(|f| &f.security);
    let config = sides(|f| &f.config);
    let cost = sides(|f| &f.service);
    let inventory = sides(|f| &f.inventory);

    let findings = if kinds.findings {
        changed_findings(c, &vis, &vis_args, from, to, &new).await?
    } else {
        Vec::new()
    };
    // A kind not asked compares no pair, so its queries read nothing.
    let compared = |wanted: bool, status: fn(&SideFile) -> &Option<String>| {
        if wanted {
            comparable(&from_files, &to_files, &new, status)
        } else {
            Pairs::new()
        }
    };

    // Config: account sums and rules, over the pairs both sides may compare.
    let pairs = compared(kinds.compliance, |f| &f.config);
    let (list, ids) = snapshot_list(&pairs);
    let reports: BTreeMap<i64, (i64, i64)> = c
        .fetch_all::<(i64, i64, i64)>(
            &format!(
                "SELECT cr.snapshot_id, CAST(COALESCE(cr.total_rules, 0) AS BIGINT), \
                 CAST(COALESCE(cr.non_compliant_rules, 0) AS BIGINT) \
                 FROM config_reports cr WHERE cr.snapshot_id IN ({list})"
            ),
            &ids,
        )
        .await?
        .into_iter()
        .map(|(s, total, bad)| (s, (total, bad)))
        .collect();
    let mut evaluations: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for (s, rule, n) in c
        .fetch_all::<(i64, String, i64)>(
            &format!(
                "SELECT r.snapshot_id, COALESCE(r.rule_name, ''), COUNT(*) \
                 FROM non_compliant_resources r WHERE r.snapshot_id IN ({list}) \
                 AND UPPER(COALESCE(r.compliance_type, '')) = 'NON_COMPLIANT' \
                 GROUP BY r.snapshot_id, r.rule_name"
            ),
            &ids,
        )
        .await?
    {
        *evaluations.entry(s).or_default().entry(rule).or_default() += n;
    }
    let mut sums: BTreeMap<&str, AccountSums> = BTreeMap::new();
    let mut rule_compliance = Vec::new();
    let none = BTreeMap::new();
    for ((account, region), (f, t)) in &pairs {
        let line = sums.entry(account.as_str()).or_default();
        if let Some((_, bad)) = f.and_then(|f| reports.get(&f)) {
            *line.0.get_or_insert(0) += bad;
        }
        if let Some((total, bad)) = reports.get(t) {
            let s = line.1.get_or_insert((0, 0));
            s.0 += total;
            s.1 += bad;
        }
        let before = f.and_then(|f| evaluations.get(&f)).unwrap_or(&none);
        let after = evaluations.get(t).unwrap_or(&none);
        let rules: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for rule in rules {
            let (b, a) = (
                before.get(rule).copied().unwrap_or(0),
                after.get(rule).copied().unwrap_or(0),
            );
            let change = match (b > 0, a > 0) {
                (false, true) => ComplianceChange::FellOut,
                (true, false) => ComplianceChange::CameBack,
                _ => continue,
            };
            rule_compliance.push(RuleComplianceChange {
                account_id: account_id(account)?,
                region: region.clone(),
                rule: rule.clone(),
                change,
                from_resources: b,
                to_resources: a,
            });
        }
    }
    let mut account_compliance = Vec::new();
    for (account, (before, after)) in sums {
        let (Some(before), Some((rules, after))) = (before, after) else {
            continue;
        };
        let change = match (before > 0, after > 0) {
            (false, true) => ComplianceChange::FellOut,
            (true, false) => ComplianceChange::CameBack,
            _ => continue,
        };
        account_compliance.push(AccountComplianceChange {
            account_id: account_id(account)?,
            change,
            from_non_compliant: before,
            to_non_compliant: after,
            to_rules: rules,
        });
    }

    let cost_movers = if kinds.cost {
        cost_movers(c, &vis, &vis_args, from, to, &new).await?
    } else {
        Vec::new()
    };

    // Certificates: expiring at `to`, not at `from`, by account and ARN.
    let pairs = compared(kinds.certificates, |f| &f.security);
    let (list, ids) = snapshot_list(&pairs);
    let rows: Vec<CertRow> = c
        .fetch_all(
            &format!(
                "SELECT ce.snapshot_id, acc.account_id, sn.region, \
                 COALESCE(ce.domain_name, ''), COALESCE(ce.arn, ''), COALESCE(ce.status, ''), \
                 COALESCE(ce.type, ''), ce.not_after, \
                 UPPER(COALESCE(ce.renewal_eligibility, '')) = 'ELIGIBLE' \
                 FROM certificates ce JOIN snapshots sn ON sn.id = ce.snapshot_id \
                 JOIN accounts acc ON acc.id = ce.account_id WHERE ce.snapshot_id IN ({list}) \
                 ORDER BY acc.account_id, ce.arn"
            ),
            &ids,
        )
        .await?;
    let (from_ids, to_ids) = side_ids(&pairs);
    let at = |d: Date| Timestamp::from_date(d + Duration::days(1));
    let mut certs_from: BTreeSet<(String, String)> = BTreeSet::new();
    let mut certificates = Vec::new();
    for (snapshot, id, region, domain, arn, status, kind, not_after, renewal_eligible) in rows {
        let cert = Certificate {
            account_id: account_id(&id)?,
            region,
            domain,
            arn,
            status,
            kind,
            not_after: not_after.map(Timestamp::new),
            renewal_eligible,
        };
        if from_ids.contains(&snapshot) && cert.expires_within(at(from), EXPIRY_WARNING_DAYS) {
            certs_from.insert((id.clone(), cert.arn.clone()));
        }
        if to_ids.contains(&snapshot) && cert.expires_within(at(to), EXPIRY_WARNING_DAYS) {
            certificates.push(cert);
        }
    }
    certificates.retain(|c| !certs_from.contains(&(c.account_id.to_string(), c.arn.clone())));
    certificates.sort_by(|a, b| {
        (a.not_after, &a.account_id, &a.arn).cmp(&(b.not_after, &b.account_id, &b.arn))
    });
    certificates.dedup_by(|a, b| a.account_id == b.account_id && a.arn == b.arn);

    // Instances, by account and id.
    let pairs = compared(kinds.instances, |f| &f.inventory);
    let (list, ids) = snapshot_list(&pairs);
    let (from_ids, to_ids) = side_ids(&pairs);
    let rows: Vec<(i64, String, String, String, String, String)> = c
        .fetch_all(
            &format!(
                "SELECT i.snapshot_id, acc.account_id, sn.region, COALESCE(i.instance_id, ''), \
                 COALESCE(i.computer_name, ''), \
                 TRIM(COALESCE(i.platform, '') || ' ' || COALESCE(i.platform_version, '')) \
                 FROM inventory_instances i JOIN snapshots sn ON sn.id = i.snapshot_id \
                 JOIN accounts acc ON acc.id = i.account_id WHERE i.snapshot_id IN ({list})"
            ),
            &ids,
        )
        .await?;
    type Seen = BTreeMap<(String, String), (String, String, String)>;
    let (mut before, mut after): (Seen, Seen) = Default::default();
    for (snapshot, account, region, instance, name, platform) in rows {
        let key = (account, instance);
        if from_ids.contains(&snapshot) {
            before.insert(
                key.clone(),
                (region.clone(), name.clone(), platform.clone()),
            );
        }
        if to_ids.contains(&snapshot) {
            after.insert(key, (region, name, platform));
        }
    }
    let mut instances = Vec::new();
    for (side, other, change) in [
        (&after, &before, InstanceChange::New),
        (&before, &after, InstanceChange::Removed),
    ] {
        for ((account, instance), (region, name, platform)) in side {
            if other.contains_key(&(account.clone(), instance.clone())) {
                continue;
            }
            instances.push(ChangedInstance {
                account_id: account_id(account)?,
                change,
                region: region.clone(),
                instance_id: instance.clone(),
                computer_name: name.clone(),
                platform: platform.clone(),
            });
        }
    }
    instances.sort_by(|a, b| {
        (&a.account_id, a.change, &a.region, &a.instance_id).cmp(&(
            &b.account_id,
            b.change,
            &b.region,
            &b.instance_id,
        ))
    });

    Ok(ChangesReport {
        range: Some(ChangeRange { from, to }),
        accounts,
        findings,
        account_compliance,
        rule_compliance,
        cost_movers,
        certificates,
        instances,
        security,
        config,
        cost,
        inventory,
    })
}

/// Open, as the Security page's `is_open` says it.
fn is_open(workflow: Option<&str>, record: Option<&str>) -> bool {
    let upper = |v: Option<&str>, or: &str| v.unwrap_or(or).to_ascii_uppercase();
    upper(record, "ACTIVE") == "ACTIVE"
        && !matches!(upper(workflow, "NEW").as_str(), "RESOLVED" | "SUPPRESSED")
}

/// Findings open at one side and not the other: each finding's rows in day order, its
/// state at a side the last row up to that day.
async fn changed_findings<C: Conn>(
    c: &mut C,
    vis: &str,
    vis_args: &[Val],
    from: Date,
    to: Date,
    new: &BTreeSet<&str>,
) -> Result<Vec<ChangedFinding>, sqlx::Error> {
    let mut args = vec![Val::Date(to)];
    args.extend(vis_args.iter().cloned());
    let rows: Vec<FindingRow> = c
        .fetch_all(
            &format!(
                "SELECT a.account_id, f.finding_id, sn.period_start, \
                 UPPER(COALESCE(f.severity, '')), f.workflow_state, f.record_state, \
                 COALESCE(f.product_name, 'Security Hub'), COALESCE(f.title, ''), sn.region \
                 FROM findings f JOIN snapshots sn ON sn.id = f.snapshot_id \
                 AND sn.granularity = 'DAILY' JOIN accounts a ON a.id = f.account_id \
                 WHERE f.finding_id IS NOT NULL AND sn.period_start <= ? AND {vis} \
                 ORDER BY a.account_id, f.finding_id, sn.period_start, sn.id"
            ),
            &args,
        )
        .await?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let (account, finding) = (&rows[i].0, &rows[i].1);
        let mut end = i;
        while end + 1 < rows.len() && rows[end + 1].0 == *account && rows[end + 1].1 == *finding {
            end += 1;
        }
        let group = &rows[i..=end];
        i = end + 1;
        if new.contains(account.as_str()) {
            continue;
        }
        let open_at = |day: Date| {
            group
                .iter()
                .rev()
                .find(|r| r.2 <= day)
                .is_some_and(|r| is_open(r.4.as_deref(), r.5.as_deref()))
        };
        let change = match (open_at(from), open_at(to)) {
            (false, true) => FindingChange::New,
            (true, false) => FindingChange::Resolved,
            _ => continue,
        };
        let last = &group[group.len() - 1];
        out.push(ChangedFinding {
            account_id: account_id(account)?,
            change,
            source: last.6.clone(),
            severity: last.3.clone(),
            title: last.7.clone(),
            finding_id: finding.clone(),
            region: last.8.clone(),
        });
    }
    out.sort_by(|a, b| {
        (
            &a.account_id,
            a.change,
            severity_rank(&a.severity),
            &a.finding_id,
        )
            .cmp(&(
                &b.account_id,
                b.change,
                severity_rank(&b.severity),
                &b.finding_id,
            ))
    });
    Ok(out)
}

/// Most severe first.
fn severity_rank(s: &str) -> u8 {
    match s {
        "CRITICAL" => 0,
        "HIGH" => 1,
        "MEDIUM" => 2,
        "LOW" => 3,
        _ => 4,
    }
}

/// Cost of the day `from` against the day `to`, per account and service.
async fn cost_movers<C: Conn>(
    c: &mut C,
    vis: &str,
    vis_args: &[Val],
    from: Date,
    to: Date,
    new: &BTreeSet<&str>,
) -> Result<Vec<CostMover>, sqlx::Error> {
    let mut args = vec![Val::Date(from), Val::Date(to)];
    args.extend(vis_args.iter().cloned());
    let mut costs: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for (account, service, day, cost) in c
        .fetch_all::<(String, String, Date, f64)>(
            &format!(
                "SELECT a.account_id, s.service, s.date_from, \
                 CAST(SUM(s.cost) AS DOUBLE PRECISION) \
                 FROM services s JOIN snapshots sn ON sn.id = s.snapshot_id \
                 AND sn.granularity = 'DAILY' JOIN accounts a ON a.id = s.account_id \
                 WHERE s.date_from IN (?, ?) AND {vis} \
                 GROUP BY a.account_id, s.service, s.date_from"
            ),
            &args,
        )
        .await?
    {
        if new.contains(account.as_str()) {
            continue;
        }
        let line = costs.entry((account, service)).or_default();
        // `from == to` reads one day, which is then both sides.
        if day == from {
            line.0 += cost;
        }
        if day == to {
            line.1 += cost;
        }
    }
    let mut out = Vec::with_capacity(costs.len());
    for ((account, service), (from_cost, to_cost)) in costs {
        if from_cost == to_cost {
            continue;
        }
        out.push(CostMover {
            account_id: account_id(&account)?,
            service,
            from_cost,
            to_cost,
        });
    }
    out.sort_by(|a, b| {
        b.change()
            .abs()
            .total_cmp(&a.change().abs())
            .then_with(|| a.account_id.cmp(&b.account_id))
            .then_with(|| a.service.cmp(&b.service))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{collection, comparable, SideFile, SideFiles};
    use std::collections::BTreeSet;

    fn file(snapshot: i64, inventory: Option<&str>) -> SideFile {
        SideFile {
            snapshot,
            security: None,
            config: None,
            service: None,
            inventory: inventory.map(str::to_owned),
        }
    }

    fn key(a: &str, r: &str) -> (String, String) {
        (a.to_owned(), r.to_owned())
    }

    #[test]
    fn only_regions_that_collected_on_both_sides_are_compared() {
        let mut from = SideFiles::new();
        let mut to = SideFiles::new();
        from.insert(key("111111111111", "eu-west-1"), file(1, Some("Pass")));
        to.insert(key("111111111111", "eu-west-1"), file(2, Some("pass")));
        // Failed at `to`: its empty list is no removal.
        from.insert(key("111111111111", "us-east-1"), file(3, Some("Pass")));
        to.insert(key("111111111111", "us-east-1"), file(4, Some("Fail")));
        // Failed at `from`: its empty list is no addition.
        from.insert(key("111111111111", "us-west-2"), file(5, Some("Fail")));
        to.insert(key("111111111111", "us-west-2"), file(6, Some("Pass")));
        // A region first sent after `from` is compared with nothing.
        to.insert(key("111111111111", "ap-south-1"), file(7, Some("Pass")));
        // Not reported at `to`: not collected.
        to.insert(key("111111111111", "sa-east-1"), file(8, None));
        // An account new since `from` is never compared.
        to.insert(key("222222222222", "eu-west-1"), file(9, Some("Pass")));
        let new = BTreeSet::from(["222222222222"]);
        let pairs = comparable(&from, &to, &new, |f| &f.inventory);
        let got: Vec<_> = pairs.iter().map(|((_, r), s)| (r.as_str(), *s)).collect();
        assert_eq!(
            got,
            [("ap-south-1", (None, 7)), ("eu-west-1", (Some(1), 2))]
        );
        let c = collection(&to, |f| &f.inventory);
        assert_eq!((c.files, c.reported, c.failed), (6, 5, 1));
    }
}
