//! What the demo's generated files say, computed without the store: the independent side of
//! the tests that check the figures the summary, the Overview, Cost and Security pages and
//! their API show.
// Each test crate uses part of it.
#![allow(dead_code)]

pub mod router;

use std::collections::BTreeMap;
use std::path::Path;
use time::macros::format_description;
use time::{Date, Duration, Month};

/// What the raw files say, computed without the store.
#[derive(Debug, Default)]
pub struct Expected {
    pub day: Option<Date>,
    pub day_cost: f64,
    pub month_to_date: f64,
    pub previous_month_to_date: f64,
    /// Open findings by severity (latest state of each finding).
    pub open: BTreeMap<String, i64>,
    /// Open findings by (source, severity): the product that reported each.
    pub open_by_source: BTreeMap<(String, String), i64>,
    /// Month-end forecast of `day`'s month, summed over the accounts: month to date plus the
    /// forecast of the rest of the month in `day`'s file, else the month to date at its
    /// daily rate.
    pub forecast: f64,
    /// Accounts whose file holds no forecast of the rest of the month.
    pub run_rate_forecasts: usize,
    /// Cost per (account, day), as the files hold it.
    pub cost: BTreeMap<(String, Date), f64>,
    /// Cost per (service, day), summed over the accounts.
    pub service_cost: BTreeMap<(String, Date), f64>,
    /// Of each account and region's newest DAILY file: certificates whose `not_after` is
    /// after the end of `security_day` and at most 30 days later.
    pub certificates_expiring: usize,
    /// The same files' KMS keys without rotation.
    pub kms_without_rotation: usize,
    /// The same files' secrets without rotation.
    pub secrets_without_rotation: usize,
    /// The day of the newest DAILY file (the Security page's "as of").
    pub security_day: Option<Date>,
    /// Every DAILY row of each finding: (account, finding id) -> (day, severity, open).
    pub finding_rows: BTreeMap<(String, String), Vec<FindingRow>>,
}

impl Expected {
    /// Open findings by severity on `day`: each finding's latest row up to that day.
    pub fn open_on(&self, day: Date) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for rows in self.finding_rows.values() {
            let latest = rows
                .iter()
                .filter(|(d, _, _)| *d <= day)
                .max_by_key(|(d, _, _)| *d);
            if let Some((_, severity, true)) = latest {
                *out.entry(severity.clone()).or_insert(0) += 1;
            }
        }
        out
    }
}

pub fn date(s: &str) -> Date {
    Date::parse(s, format_description!("[year]-[month]-[day]")).unwrap()
}

/// One DAILY row of a finding: day, severity, open.
pub type FindingRow = (Date, String, bool);

/// A forecast bucket: first day, end (exclusive), amount.
type Bucket = (Date, Date, f64);

/// Reads every loaded DAILY file: the cost of each account-day (held once per account and
/// day, whichever region's file carries it) and the newest state of each finding.
pub fn expected(dir: &Path) -> Expected {
    let mut cost: BTreeMap<(String, Date), f64> = BTreeMap::new();
    let mut finding_rows: BTreeMap<(String, String), Vec<FindingRow>> = BTreeMap::new();
    let mut services_of: BTreeMap<(String, Date), Vec<(String, f64)>> = BTreeMap::new();
    // (account, day) -> forecast buckets (start, end, amount) of that day's file
    let mut forecasts: BTreeMap<(String, Date), Vec<Bucket>> = BTreeMap::new();
    // (account, region) -> (day, that file's security object)
    let mut newest: BTreeMap<(String, String), (Date, serde_json::Value)> = BTreeMap::new();
    // (account, finding id) -> (day of the file, severity, open, source)
    let mut findings: BTreeMap<(String, String), (Date, String, bool, String)> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir.join("loaded")) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(run) = name.strip_suffix("_DAILY.json") else {
            continue;
        };
        let day = date(run) - Duration::days(1);
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
        let account = doc["account"]["account_id"].as_str().unwrap().to_owned();
        if let Some(c) = doc["cost"]["current_period_cost"].as_f64() {
            let start = date(doc["cost"]["period"]["start"].as_str().unwrap());
            assert_eq!(start, day, "{}: a daily file's cost is its day", name);
            cost.insert((account.clone(), start), c);
            let buckets = doc["cost"]["forecast"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|f| {
                    (
                        date(f["period"]["start"].as_str().unwrap()),
                        date(f["period"]["end"].as_str().unwrap()),
                        f["amount"].as_f64().unwrap(),
                    )
                })
                .collect();
            forecasts.insert((account.clone(), start), buckets);
        }
        // Global: every region's file carries the same rows, held once per account and day;
        // a file whose service collection failed carries none and replaces nothing.
        let services = doc["service"].as_array().cloned().unwrap_or_default();
        if !services.is_empty() {
            let rows = services
                .iter()
                .map(|r| {
                    (
                        r["service"].as_str().unwrap().to_owned(),
                        r["cost"].as_f64().unwrap(),
                    )
                })
                .collect();
            services_of.insert((account.clone(), day), rows);
        }
        let region = entry
            .path()
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let key = (account.clone(), region);
        if newest.get(&key).is_none_or(|(d, _)| *d < day) {
            newest.insert(key, (day, doc["security"].clone()));
        }
        let hubs = doc["security"]["security_hub"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for f in hubs
            .iter()
            .flat_map(|h| h["findings"].as_array().cloned().unwrap_or_default())
        {
            let Some(id) = f["finding_id"].as_str() else {
                continue;
            };
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_ascii_uppercase();
            let workflow = text("workflow_state");
            let record = text("record_state");
            let open = (record.is_empty() || record == "ACTIVE")
                && workflow != "RESOLVED"
                && workflow != "SUPPRESSED";
            let key = (account.clone(), id.to_owned());
            let source = f["product_name"].as_str().unwrap().to_owned();
            finding_rows
                .entry(key.clone())
                .or_default()
                .push((day, text("severity"), open));
            if findings.get(&key).is_none_or(|(d, _, _, _)| *d <= day) {
                findings.insert(key, (day, text("severity"), open, source));
            }
        }
    }
    let mut out = Expected {
        day: cost.keys().map(|(_, d)| *d).max(),
        ..Expected::default()
    };
    if let Some(day) = out.day {
        let first = day.replace_day(1).unwrap();
        let (py, pm) = match day.month() {
            Month::January => (day.year() - 1, Month::December),
            m => (day.year(), m.previous()),
        };
        let prev_first = Date::from_calendar_date(py, pm, 1).unwrap();
        let prev_last = prev_first + Duration::days(i64::from(day.day().min(pm.length(py))) - 1);
        let mut month_to_date: BTreeMap<&str, f64> = BTreeMap::new();
        for ((account, d), c) in &cost {
            if *d == day {
                out.day_cost += c;
            }
            if (first..=day).contains(d) {
                out.month_to_date += c;
                *month_to_date.entry(account.as_str()).or_insert(0.0) += c;
            }
            if (prev_first..=prev_last).contains(d) {
                out.previous_month_to_date += c;
            }
        }
        let length = day.month().length(day.year());
        let next_month = first + Duration::days(i64::from(length));
        for (account, mtd) in &month_to_date {
            let rest = forecasts
                .get(&(account.to_string(), day))
                .and_then(|b| {
                    b.iter()
                        .find(|(s, e, _)| *s == day + Duration::days(1) && *e == next_month)
                })
                .map(|(_, _, amount)| *amount);
            out.forecast += if day.day() == length {
                *mtd
            } else if let Some(rest) = rest {
                mtd + rest
            } else {
                out.run_rate_forecasts += 1;
                mtd / f64::from(day.day()) * f64::from(length)
            };
        }
    }
    for (_, severity, open, source) in findings.values() {
        if *open {
            *out.open.entry(severity.clone()).or_insert(0) += 1;
            *out.open_by_source
                .entry((source.clone(), severity.clone()))
                .or_insert(0) += 1;
        }
    }
    out.security_day = newest.values().map(|(d, _)| *d).max();
    if let Some(day) = out.security_day {
        let end = time::PrimitiveDateTime::new(day + Duration::days(1), time::Time::MIDNIGHT)
            .assume_utc();
        for (_, security) in newest.values() {
            let list = |k: &str| security[k].as_array().cloned().unwrap_or_default();
            for c in list("certificate_manager") {
                let not_after = orgwatch_model::Timestamp::parse(c["not_after"].as_str().unwrap())
                    .unwrap()
                    .get();
                if not_after > end && not_after <= end + Duration::days(30) {
                    out.certificates_expiring += 1;
                }
            }
            out.kms_without_rotation += list("kms")
                .iter()
                .filter(|k| k["key_rotation_enabled"] != serde_json::Value::Bool(true))
                .count();
            out.secrets_without_rotation += list("secrets_manager")
                .iter()
                .filter(|s| s["rotation_enabled"] != serde_json::Value::Bool(true))
                .count();
        }
    }
    for ((_, day), rows) in services_of {
        for (service, c) in rows {
            *out.service_cost.entry((service, day)).or_insert(0.0) += c;
        }
    }
    out.cost = cost;
    out.finding_rows = finding_rows;
    out
}

/// Money as whole cents, to compare figures summed in another order.
pub fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// Every loaded DAILY file: (account, region, day of its data, document), in path order.
pub fn daily_files(dir: &Path) -> Vec<(String, String, Date, serde_json::Value)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir.join("loaded")).sort_by_file_name() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(run) = name.strip_suffix("_DAILY.json") else {
            continue;
        };
        let day = date(run) - Duration::days(1);
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
        let account = doc["account"]["account_id"].as_str().unwrap().to_owned();
        let region = entry
            .path()
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        out.push((account, region, day, doc));
    }
    out
}

/// Each account and region's newest DAILY file up to `day`: (account, region) -> document.
pub fn newest_files(
    files: &[(String, String, Date, serde_json::Value)],
    day: Date,
) -> BTreeMap<(String, String), &serde_json::Value> {
    let mut newest: BTreeMap<(String, String), (Date, &serde_json::Value)> = BTreeMap::new();
    for (account, region, d, doc) in files.iter().filter(|f| f.2 <= day) {
        let key = (account.clone(), region.clone());
        if newest.get(&key).is_none_or(|(n, _)| n < d) {
            newest.insert(key, (*d, doc));
        }
    }
    newest.into_iter().map(|(k, (_, doc))| (k, doc)).collect()
}

/// Config rules: total, compliant, non-compliant.
pub type Rules = (i64, i64, i64);

fn rules_of(config: &serde_json::Value) -> Option<Rules> {
    let n = |k: &str| config[k].as_i64();
    Some((
        n("total_rules")?,
        n("compliant_rules")?,
        n("non_compliant_rules")?,
    ))
}

/// What the Compliance page shows, computed from the files.
#[derive(Debug, Default)]
pub struct ExpectedCompliance {
    /// Rules per account, summed over its regions' newest files up to the day.
    pub rules: BTreeMap<String, Rules>,
    /// Non-compliant evaluations per account in the same files.
    pub non_compliant_resources: BTreeMap<String, usize>,
    /// Non-compliant evaluations per conformance pack.
    pub per_pack: BTreeMap<String, usize>,
    /// Managed instances per account.
    pub instances: BTreeMap<String, usize>,
    /// Instances with a Missing or Failed patch, per account.
    pub non_compliant_instances: BTreeMap<String, usize>,
    /// Missing patches per account.
    pub missing_patches: BTreeMap<String, usize>,
    /// Rules per day, summed over that day's files.
    pub trend: BTreeMap<Date, Rules>,
}

/// The Compliance page's figures as of `day`, its trend from `from`.
pub fn expected_compliance(dir: &Path, from: Date, day: Date) -> ExpectedCompliance {
    let files = daily_files(dir);
    let mut out = ExpectedCompliance::default();
    for ((account, _), doc) in newest_files(&files, day) {
        if let Some((t, c, n)) = rules_of(&doc["config"]) {
            let e = out.rules.entry(account.clone()).or_default();
            *e = (e.0 + t, e.1 + c, e.2 + n);
        }
        for r in doc["config"]["non_compliant_resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if r["compliance_type"] == "NON_COMPLIANT" {
                *out.non_compliant_resources
                    .entry(account.clone())
                    .or_default() += 1;
                *out.per_pack
                    .entry(
                        r["conformance_pack"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    )
                    .or_default() += 1;
            }
        }
        let inventory = &doc["inventory"];
        let instances = inventory["instances"].as_array().map_or(0, Vec::len);
        if instances > 0 {
            *out.instances.entry(account.clone()).or_default() += instances;
        }
        let mut failing = std::collections::BTreeSet::new();
        for p in inventory["patches"].as_array().cloned().unwrap_or_default() {
            let state = p["state"].as_str().unwrap_or_default();
            if state == "Missing" {
                *out.missing_patches.entry(account.clone()).or_default() += 1;
            }
            if state == "Missing" || state == "Failed" {
                failing.insert(p["instance_id"].as_str().unwrap().to_owned());
            }
        }
        if !failing.is_empty() {
            *out.non_compliant_instances
                .entry(account.clone())
                .or_default() += failing.len();
        }
    }
    for (_, _, d, doc) in &files {
        if (from..=day).contains(d) {
            if let Some((t, c, n)) = rules_of(&doc["config"]) {
                let e = out.trend.entry(*d).or_default();
                *e = (e.0 + t, e.1 + c, e.2 + n);
            }
        }
    }
    out
}

/// What the Inventory page shows, computed from the files.
#[derive(Debug, Default)]
pub struct ExpectedInventory {
    /// Managed instances per account.
    pub instances: BTreeMap<String, usize>,
    /// Of them, not `Online`.
    pub not_online: usize,
    /// Application rows per account.
    pub applications: BTreeMap<String, usize>,
    /// Patch rows.
    pub patches: usize,
    /// Distinct (service, type, id) per account.
    pub service_resources: BTreeMap<String, usize>,
    /// Compute Optimizer recommendations.
    pub recommendations: usize,
    /// Their estimated monthly savings.
    pub monthly_savings: f64,
    /// Config inventory rows.
    pub config_resources: usize,
}

/// The Inventory page's figures as of `day`.
pub fn expected_inventory(dir: &Path, day: Date) -> ExpectedInventory {
    let files = daily_files(dir);
    let mut out = ExpectedInventory::default();
    let mut resources: BTreeMap<String, std::collections::BTreeSet<(String, String, String)>> =
        BTreeMap::new();
    let list = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
    for ((account, _), doc) in newest_files(&files, day) {
        let inventory = &doc["inventory"];
        for i in list(&inventory["instances"]) {
            *out.instances.entry(account.clone()).or_default() += 1;
            if i["ping_status"] != "Online" {
                out.not_online += 1;
            }
        }
        let apps = list(&inventory["applications"]).len();
        if apps > 0 {
            *out.applications.entry(account.clone()).or_default() += apps;
        }
        out.patches += list(&inventory["patches"]).len();
        for r in list(&doc["service_resources"]) {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            resources.entry(account.clone()).or_default().insert((
                s("service_name"),
                s("resource_type"),
                s("resource_id"),
            ));
        }
        for r in list(&doc["compute_optimizer"]) {
            out.recommendations += 1;
            out.monthly_savings += r["estimated_monthly_savings_usd"].as_f64().unwrap_or(0.0);
        }
        out.config_resources += list(&doc["config_inventory"]).len();
    }
    out.service_resources = resources.into_iter().map(|(a, s)| (a, s.len())).collect();
    out
}

/// What the Operations page shows, computed from the files.
#[derive(Debug, Default)]
pub struct ExpectedOperations {
    /// Open Health events per account (account-wide: once per ARN).
    pub open_events: BTreeMap<String, usize>,
    /// Upcoming Health events.
    pub upcoming_events: usize,
    /// Health events.
    pub events: usize,
    /// Trusted Advisor checks of severity `warning`, per account (once per check).
    pub advisor_warnings: BTreeMap<String, usize>,
    /// … of severity `error`.
    pub advisor_errors: usize,
    /// Their potential savings.
    pub advisor_savings: f64,
    /// Resilience Hub applications, and those breaching their policy.
    pub apps: usize,
    pub apps_breached: usize,
    /// Application Signals services.
    pub services: usize,
    /// Support cases not resolved (once per case id).
    pub open_cases: usize,
}

/// The Operations page's figures as of `day`, the Health events and support cases of the
/// files of `from ..= day`.
pub fn expected_operations(dir: &Path, from: Date, day: Date) -> ExpectedOperations {
    let files = daily_files(dir);
    let newest = newest_files(&files, day);
    let mut out = ExpectedOperations::default();
    // (account, key) -> the row of the newest file holding it: account-wide categories, of
    // the range's files (`range`) or of each region's newest file.
    let once = |category: &str, key: &str, range: bool| {
        let mut rows: BTreeMap<(String, String), (Date, serde_json::Value)> = BTreeMap::new();
        for (account, region, d, doc) in files.iter().filter(|f| f.2 <= day) {
            let wanted = if range {
                *d >= from
            } else {
                newest
                    .get(&(account.clone(), region.clone()))
                    .is_some_and(|n| std::ptr::eq(*n, doc))
            };
            if !wanted {
                continue;
            }
            for r in doc[category].as_array().cloned().unwrap_or_default() {
                let k = (
                    account.clone(),
                    r[key].as_str().unwrap_or_default().to_owned(),
                );
                if rows.get(&k).is_none_or(|(n, _)| n < d) {
                    rows.insert(k, (*d, r));
                }
            }
        }
        rows
    };
    for ((account, _), (_, e)) in once("health", "arn", true) {
        out.events += 1;
        match e["status_code"].as_str() {
            Some("open") => *out.open_events.entry(account).or_default() += 1,
            Some("upcoming") => out.upcoming_events += 1,
            _ => {}
        }
    }
    for ((account, _), (_, c)) in once("trusted_advisor", "check_name", false) {
        match c["severity"].as_str() {
            Some("warning") => *out.advisor_warnings.entry(account).or_default() += 1,
            Some("error") => out.advisor_errors += 1,
            _ => {}
        }
        out.advisor_savings += c["potential_savings"].as_f64().unwrap_or(0.0);
    }
    for (_, (_, c)) in once("support_tickets", "case_id", true) {
        if c["status"] != "resolved" {
            out.open_cases += 1;
        }
    }
    for doc in newest.values() {
        for a in doc["resilience_hub"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            out.apps += 1;
            if a["compliance_status"] == "PolicyBreached" {
                out.apps_breached += 1;
            }
        }
        out.services += doc["application"].as_array().map_or(0, Vec::len);
    }
    out
}

/// What the "What changed" sections show between `from` and `to`, computed from the files
/// (`docs/web.md` defines each kind): sets of rows, as their key columns.
#[derive(Debug, Default)]
pub struct ExpectedChanges {
    /// Accounts without a DAILY file on or before `from`.
    pub new_accounts: std::collections::BTreeSet<String>,
    /// (account, change, finding id).
    pub findings: std::collections::BTreeSet<(String, String, String)>,
    /// (account, change, non-compliant rules at `from`, at `to`).
    pub accounts: std::collections::BTreeSet<(String, String, i64, i64)>,
    /// (account, region, rule, change).
    pub rules: std::collections::BTreeSet<(String, String, String, String)>,
    /// (account, service) -> (cost of `from`, cost of `to`) in cents, where they differ.
    pub cost: BTreeMap<(String, String), (i64, i64)>,
    /// (account, ARN) of the certificates newly expiring.
    pub certificates: std::collections::BTreeSet<(String, String)>,
    /// (account, change, instance id).
    pub instances: std::collections::BTreeSet<(String, String, String)>,
}

/// The changes between `from` and `to`, from the demo's loaded files alone.
pub fn expected_changes(dir: &Path, from: Date, to: Date) -> ExpectedChanges {
    use std::collections::BTreeSet;
    let files = daily_files(dir);
    let mut out = ExpectedChanges::default();
    let accounts: BTreeSet<String> = files.iter().map(|f| f.0.clone()).collect();
    let old: BTreeSet<String> = files
        .iter()
        .filter(|f| f.2 <= from)
        .map(|f| f.0.clone())
        .collect();
    out.new_accounts = accounts
        .iter()
        .filter(|a| !old.contains(*a) && files.iter().any(|f| &f.0 == *a && f.2 <= to))
        .cloned()
        .collect();

    // Findings: each one's latest row up to a day says whether it is open that day.
    let e = expected(dir);
    for ((account, id), rows) in &e.finding_rows {
        if !old.contains(account) {
            continue;
        }
        let open_on = |d: Date| {
            rows.iter()
                .filter(|(day, _, _)| *day <= d)
                .max_by_key(|(day, _, _)| *day)
                .is_some_and(|(_, _, open)| *open)
        };
        let change = match (open_on(from), open_on(to)) {
            (false, true) => "new",
            (true, false) => "resolved",
            _ => continue,
        };
        out.findings
            .insert((account.clone(), change.to_owned(), id.clone()));
    }

    // Each account and region's newest file on each side; compared for a category when
    // the `to` file reports it as Pass and the `from` file (if any) too.
    let before = newest_files(&files, from);
    let after = newest_files(&files, to);
    let pass = |doc: &serde_json::Value, status: &str| {
        doc["logs"][status]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("pass"))
    };
    let compared = |status: &str| {
        after
            .iter()
            .filter(|((account, _), doc)| old.contains(account) && pass(doc, status))
            .filter_map(|(key, doc)| match before.get(key) {
                Some(b) if pass(b, status) => Some((key.clone(), Some(*b), *doc)),
                Some(_) => None,
                None => Some((key.clone(), None, *doc)),
            })
            .collect::<Vec<_>>()
    };

    // Config.
    let mut sums: BTreeMap<String, (Option<i64>, Option<i64>)> = BTreeMap::new();
    let bad_rules = |doc: &serde_json::Value| {
        let mut m: BTreeMap<String, i64> = BTreeMap::new();
        for r in doc["config"]["non_compliant_resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if r["compliance_type"] == "NON_COMPLIANT" {
                *m.entry(r["rule_name"].as_str().unwrap_or_default().to_owned())
                    .or_default() += 1;
            }
        }
        m
    };
    for ((account, region), b, a) in compared("config_status") {
        let line = sums.entry(account.clone()).or_default();
        if let Some(n) = b.and_then(|b| rules_of(&b["config"])) {
            *line.0.get_or_insert(0) += n.2;
        }
        if let Some(n) = rules_of(&a["config"]) {
            *line.1.get_or_insert(0) += n.2;
        }
        let was = b.map(bad_rules).unwrap_or_default();
        let is = bad_rules(a);
        for rule in was.keys().chain(is.keys()) {
            let change = match (was.contains_key(rule), is.contains_key(rule)) {
                (false, true) => "fell out",
                (true, false) => "came back",
                _ => continue,
            };
            out.rules.insert((
                account.clone(),
                region.clone(),
                rule.clone(),
                change.to_owned(),
            ));
        }
    }
    for (account, (b, a)) in sums {
        let (Some(b), Some(a)) = (b, a) else { continue };
        let change = match (b > 0, a > 0) {
            (false, true) => "fell out",
            (true, false) => "came back",
            _ => continue,
        };
        out.accounts.insert((account, change.to_owned(), b, a));
    }

    // Cost of each day per account and service: the services rows of any region's file of
    // that day (a global category, the same in each; a failed one carries none).
    let mut day_cost: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    let mut seen: BTreeSet<(String, Date)> = BTreeSet::new();
    for (account, _, d, doc) in &files {
        if !old.contains(account) || (*d != from && *d != to) {
            continue;
        }
        let rows = doc["service"].as_array().cloned().unwrap_or_default();
        if rows.is_empty() || !seen.insert((account.clone(), *d)) {
            continue;
        }
        for r in rows {
            let line = day_cost
                .entry((account.clone(), r["service"].as_str().unwrap().to_owned()))
                .or_default();
            let c = r["cost"].as_f64().unwrap();
            if *d == from {
                line.0 += c;
            }
            if *d == to {
                line.1 += c;
            }
        }
    }
    out.cost = day_cost
        .into_iter()
        .map(|(k, (b, a))| (k, (cents(b), cents(a))))
        .filter(|(_, (b, a))| b != a)
        .collect();

    // Certificates expiring within 30 days of the end of `to`, not of the end of `from`.
    let end = |d: Date| {
        time::PrimitiveDateTime::new(d + Duration::days(1), time::Time::MIDNIGHT).assume_utc()
    };
    let expiring = |doc: &serde_json::Value, d: Date| -> BTreeSet<String> {
        doc["security"]["certificate_manager"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|c| {
                let n = orgwatch_model::Timestamp::parse(c["not_after"].as_str().unwrap())
                    .unwrap()
                    .get();
                n > end(d) && n <= end(d) + Duration::days(30)
            })
            .map(|c| c["arn"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut was: BTreeSet<(String, String)> = BTreeSet::new();
    for ((account, _), b, a) in compared("security_status") {
        if let Some(b) = b {
            was.extend(
                expiring(b, from)
                    .into_iter()
                    .map(|arn| (account.clone(), arn)),
            );
        }
        out.certificates.extend(
            expiring(a, to)
                .into_iter()
                .map(|arn| (account.clone(), arn)),
        );
    }
    out.certificates.retain(|c| !was.contains(c));

    // Instances.
    let ids = |doc: &serde_json::Value| -> BTreeSet<String> {
        doc["inventory"]["instances"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|i| i["instance_id"].as_str().unwrap().to_owned())
            .collect()
    };
    // (account, instance id) on each side.
    let mut was: BTreeSet<(String, String)> = BTreeSet::new();
    let mut is: BTreeSet<(String, String)> = BTreeSet::new();
    for ((account, _), b, a) in compared("inventory_status") {
        if let Some(b) = b {
            was.extend(ids(b).into_iter().map(|i| (account.clone(), i)));
        }
        is.extend(ids(a).into_iter().map(|i| (account.clone(), i)));
    }
    for (account, i) in is.difference(&was) {
        out.instances
            .insert((account.clone(), "new".to_owned(), i.clone()));
    }
    for (account, i) in was.difference(&is) {
        out.instances
            .insert((account.clone(), "removed".to_owned(), i.clone()));
    }
    out
}
