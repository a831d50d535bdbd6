//! Unit tests of the generator.

use super::calendar::at;
use super::format::round;
use super::org::Org;
use super::world::World;
use super::{accounts, files, DemoOptions};
use orgwatch_model::category::logs::CollectionStatus;
use orgwatch_model::{AccountId, Day, Granularity, Region, Snapshot, SnapshotLocation, Timestamp};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::macros::date;
use time::{Date, Duration, Weekday};

fn opts(accounts: usize, days: u32, regions: &[&str]) -> DemoOptions {
    DemoOptions {
        accounts,
        days,
        seed: 42,
        end_date: date!(2026 - 03 - 05),
        regions: regions.iter().map(|r| Region::parse(r).unwrap()).collect(),
    }
}

fn default_org() -> DemoOptions {
    opts(25, 90, &["us-east-1"])
}

#[test]
fn same_options_give_identical_bytes() {
    let o = opts(4, 12, &["us-east-1", "eu-west-1"]);
    let a: Vec<Vec<u8>> = files(&o)
        .step_by(5)
        .map(|f| f.snapshot.to_json_pretty())
        .collect();
    let b: Vec<Vec<u8>> = files(&o)
        .step_by(5)
        .map(|f| f.snapshot.to_json_pretty())
        .collect();
    assert!(a.len() > 10);
    assert_eq!(a, b);
    let other_seed = DemoOptions {
        seed: 43,
        ..o.clone()
    };
    let c: Vec<Vec<u8>> = files(&other_seed)
        .step_by(5)
        .map(|f| f.snapshot.to_json_pretty())
        .collect();
    assert_ne!(a, c, "the seed changes the output");
}

#[test]
fn a_file_does_not_depend_on_the_files_generated_before_it() {
    let o = opts(3, 40, &["us-east-1", "eu-west-1"]);
    let org = Org::new(&o);
    for file in files(&o).filter(|f| f.location.run_date.day() % 7 == 3) {
        let account = org
            .profiles
            .iter()
            .position(|p| p.account.id == file.location.account)
            .unwrap();
        let region = o
            .regions
            .iter()
            .position(|r| Some(r) == file.location.region.as_ref())
            .unwrap();
        let world = World::new(&org, account, region);
        let alone = org.file(
            account,
            &world,
            file.location.run_date,
            file.location.granularity,
        );
        assert_eq!(
            alone.snapshot.to_json_pretty(),
            file.snapshot.to_json_pretty(),
            "{}",
            file.location.relative_path()
        );
    }
}

#[test]
fn there_is_one_daily_file_per_account_region_and_day_plus_one_monthly_per_month() {
    // Run dates 2026-02-24 ..= 2026-03-05: February and March.
    let o = opts(3, 10, &["us-east-1", "eu-west-1"]);
    let all: Vec<SnapshotLocation> = files(&o).map(|f| f.location).collect();
    assert_eq!(all.len(), 3 * 2 * 10 + 3 * 2 * 2);
    let unique: HashSet<String> = all.iter().map(SnapshotLocation::relative_path).collect();
    assert_eq!(unique.len(), all.len(), "no two files share a path");
    let monthly: Vec<&SnapshotLocation> = all
        .iter()
        .filter(|l| l.granularity == Granularity::Monthly)
        .collect();
    assert!(monthly
        .iter()
        .all(|l| [date!(2026 - 02 - 28), date!(2026 - 03 - 05)].contains(&l.run_date)));
    let first = all
        .iter()
        .filter(|l| l.granularity == Granularity::Daily)
        .map(|l| l.run_date)
        .min();
    assert_eq!(first, Some(date!(2026 - 02 - 24)));
    // Paths parse back to the same location.
    for l in &all {
        assert_eq!(&SnapshotLocation::parse(&l.relative_path()).unwrap(), l);
    }
}

#[test]
fn short_and_long_ranges_work() {
    assert_eq!(files(&opts(3, 0, &["us-east-1"])).count(), 0);
    assert_eq!(files(&opts(0, 30, &["us-east-1"])).count(), 0);
    assert_eq!(files(&opts(3, 30, &[])).count(), 0);
    // One run on the 1st: its MONTHLY file has no data day yet.
    let first = DemoOptions {
        end_date: date!(2026 - 03 - 01),
        ..opts(2, 1, &["us-east-1"])
    };
    for f in files(&first) {
        let s = &f.snapshot;
        assert_eq!(Snapshot::from_json(&s.to_json_pretty()).unwrap(), *s);
        if f.location.granularity == Granularity::Monthly {
            assert_eq!(s.service.as_ref().map(Vec::len), Some(0));
        }
    }
    // A range longer than a year crosses a year boundary and ACM renewals.
    let long = opts(2, 400, &["eu-central-1"]);
    let n = files(&long).inspect(|f| {
        let s = &f.snapshot;
        assert_eq!(Snapshot::from_json(&s.to_json_pretty()).unwrap(), *s);
    });
    // Runs from 2025-01-30: fifteen calendar months.
    assert_eq!(n.count(), 2 * 400 + 2 * 15);
}

#[test]
fn accounts_have_unique_twelve_digit_ids_and_labels() {
    let list = accounts(&opts(60, 1, &["us-east-1"]));
    assert_eq!(list.len(), 60);
    let ids: HashSet<AccountId> = list.iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), 60);
    assert!(list
        .iter()
        .all(|a| a.id.as_str().len() == 12 && !a.id.as_str().starts_with('0')));
    let names: HashSet<&str> = list.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names.len(), 60, "names are unique too");
    let ous: HashSet<&str> = list.iter().map(|a| a.ou.as_str()).collect();
    for ou in [
        "Security",
        "Infrastructure",
        "Workloads/Prod",
        "Workloads/NonProd",
        "Sandbox",
    ] {
        assert!(ous.contains(ou), "{ou}");
    }
    let envs: HashSet<&str> = list.iter().map(|a| a.environment.as_str()).collect();
    assert_eq!(
        envs,
        HashSet::from(["PRODUCTION", "STAGING", "DEVELOPMENT", "TEST", "UAT"])
    );
    assert!(
        list.iter().any(|a| a.product.contains(',')),
        "some accounts have two products"
    );
    assert_eq!(list[0].name, "payments-prod");
    // The first accounts do not depend on how many there are.
    assert_eq!(accounts(&opts(5, 1, &["us-east-1"]))[..], list[..5]);
}

#[test]
fn every_document_reads_back_equal_to_itself() {
    let o = opts(6, 35, &["us-east-1", "eu-west-1"]);
    for f in files(&o) {
        let bytes = f.snapshot.to_json_pretty();
        let back = Snapshot::from_json(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", f.location.relative_path()));
        assert_eq!(back, f.snapshot, "{}", f.location.relative_path());
        assert_eq!(f.snapshot.account_id(), f.location.account);
    }
}

#[test]
fn global_categories_are_identical_in_every_region() {
    let o = opts(6, 20, &["us-east-1", "eu-west-1", "ap-southeast-2"]);
    let mut seen: HashMap<(AccountId, Date, Granularity), String> = HashMap::new();
    let mut compared = 0;
    for f in files(&o) {
        let s = &f.snapshot;
        let global = serde_json::to_string(&(
            &s.cost,
            &s.service,
            s.service_resources
                .iter()
                .flatten()
                .filter(|r| r.is_global())
                .collect::<Vec<_>>(),
            s.ri_sp_savings
                .iter()
                .flatten()
                .filter(|r| r.is_global())
                .collect::<Vec<_>>(),
            &s.trusted_advisor,
            &s.health,
            &s.support_tickets,
            &s.marketplace,
        ))
        .unwrap();
        let key = (
            f.location.account,
            f.location.run_date,
            f.location.granularity,
        );
        match seen.get(&key) {
            Some(first) => {
                assert_eq!(first, &global, "{}", f.location.relative_path());
                compared += 1;
            }
            None => {
                seen.insert(key, global);
            }
        }
    }
    assert_eq!(compared, seen.len() * 2);
    // The regional ones do differ.
    let first = accounts(&o)[0].id;
    let regional: HashSet<String> = files(&o)
        .take_while(|f| f.location.account == first)
        .filter(|f| {
            f.location.run_date == o.end_date && f.location.granularity == Granularity::Daily
        })
        .map(|f| serde_json::to_string(&f.snapshot.inventory).unwrap())
        .collect();
    assert_eq!(regional.len(), 3);
}

#[test]
fn applications_belong_to_the_files_instances() {
    let o = opts(5, 10, &["us-east-1", "eu-west-1"]);
    for f in files(&o) {
        let Some(inv) = &f.snapshot.inventory else {
            continue;
        };
        assert!(
            (5..=20).contains(&inv.instances.len()),
            "{}",
            inv.instances.len()
        );
        let ids: HashSet<&str> = inv
            .instances
            .iter()
            .filter_map(|i| i.instance_id.as_deref())
            .collect();
        for app in &inv.applications {
            assert!(
                ids.contains(app.instance_id.as_deref().unwrap()),
                "{}",
                f.location.relative_path()
            );
        }
        for patch in &inv.patches {
            assert!(ids.contains(patch.instance_id.as_deref().unwrap()));
        }
        let sets: HashSet<Vec<&str>> = ids
            .iter()
            .map(|id| {
                let mut names: Vec<&str> = inv
                    .applications
                    .iter()
                    .filter(|a| a.instance_id.as_deref() == Some(id))
                    .filter_map(|a| a.name.as_deref())
                    .collect();
                names.sort_unstable();
                names
            })
            .collect();
        assert!(sets.len() > 1, "instances have different applications");
    }
}

#[test]
fn documents_are_internally_consistent() {
    let o = opts(5, 40, &["us-east-1"]);
    for f in files(&o) {
        let s = &f.snapshot;
        let (from, to) = f.location.period();
        let path = f.location.relative_path();
        if let (Some(cost), Some(service)) = (&s.cost, &s.service) {
            let sum: f64 = service.iter().filter_map(|r| r.cost).sum();
            assert!(
                (sum - cost.current_period_cost.unwrap()).abs() < 0.01,
                "{path}"
            );
            assert!(cost.top_services.windows(2).all(|w| w[0].cost >= w[1].cost));
            let period = cost.period.as_ref().unwrap();
            assert_eq!(period.start, Some(Day(from)));
            assert_eq!(
                period.granularity.as_deref(),
                Some(f.location.granularity.as_str())
            );
            if f.location.granularity == Granularity::Daily {
                assert!(
                    (8..=15).contains(&service.len()),
                    "{path}: {}",
                    service.len()
                );
                assert_eq!(period.end, Some(Day(to)));
                assert!(service
                    .iter()
                    .all(|r| r.date_from == Some(Day(from)) && r.date_to == Some(Day(to))));
            }
            let prev = cost.previous_period_cost.unwrap();
            if prev <= 0.0 {
                assert_eq!(cost.cost_difference_percentage, Some(0.0));
            }
        }
        if let Some(config) = &s.config {
            let (c, n) = (
                config.compliant_rules.unwrap(),
                config.non_compliant_rules.unwrap(),
            );
            assert_eq!(config.total_rules, Some(c + n));
            assert_eq!(
                config.compliance_score,
                Some(round(c as f64 / (c + n) as f64 * 100.0, 2))
            );
            assert_eq!(config.date_from, Some(Day(from)));
        }
        if let Some(sec) = &s.security {
            for hub in sec.security_hub.iter().flatten() {
                let counts = hub.severity_counts.as_ref().unwrap();
                let total: i64 = [
                    counts.critical,
                    counts.high,
                    counts.medium,
                    counts.low,
                    counts.informational,
                ]
                .iter()
                .flatten()
                .sum();
                assert_eq!(hub.total_findings, Some(hub.findings.len() as i64));
                assert_eq!(total, hub.findings.len() as i64);
                assert!(!hub.findings.is_empty());
                assert_eq!(
                    hub.open_findings.unwrap() + hub.resolved_findings.unwrap(),
                    hub.findings.len() as i64
                );
                for finding in &hub.findings {
                    // Whatever changed the finding in the window happened in the window.
                    let updated = finding.updated_at.unwrap().get();
                    assert!(
                        updated >= at(from, 0).get()
                            && updated < at(to, 0).get() + Duration::minutes(5),
                        "{path}"
                    );
                }
            }
        }
        let log = &s.logs;
        assert_eq!(log.statuses.len(), 16);
        let failed = log
            .statuses
            .values()
            .filter(|s| **s == CollectionStatus::Fail)
            .count();
        assert_eq!(
            failed == 0,
            log.messages.iter().all(|m| m.key == "Forecast unavailable"),
            "{path}"
        );
    }
}

/// Facts about the default organisation (25 accounts x 90 days), gathered in one pass.
#[derive(Default)]
struct OrgFacts {
    critical_accounts: HashSet<AccountId>,
    severities: HashSet<String>,
    /// finding id -> statuses in the order seen
    lifecycle: HashMap<String, Vec<String>>,
    expiring: usize,
    expired: usize,
    monthly_service_rows_over_100: usize,
    failed_days: usize,
    error_messages: Vec<String>,
    daily_cost: BTreeMap<AccountId, Vec<(Date, f64)>>,
    missing_patches: usize,
    unrotated_keys: usize,
    noncompliant_waf_rules: usize,
    compliant_waf_rules: usize,
    trails_not_logging: usize,
    forecast_notes: usize,
    config_scores: HashMap<AccountId, HashSet<u64>>,
    public_health: HashMap<String, HashSet<AccountId>>,
    savings_plans: usize,
    support_cases: usize,
}

/// Gathered once and shared by the tests that read it: a pass takes seconds in debug.
fn facts() -> &'static OrgFacts {
    static FACTS: std::sync::OnceLock<OrgFacts> = std::sync::OnceLock::new();
    FACTS.get_or_init(gather)
}

fn gather() -> OrgFacts {
    let o = default_org();
    let mut facts = OrgFacts::default();
    for file in files(&o) {
        let f = &file;
        let s = &f.snapshot;
        let acct = f.location.account;
        let daily = f.location.granularity == Granularity::Daily;
        if let Some(sec) = &s.security {
            for hub in sec.security_hub.iter().flatten() {
                if hub.severity_counts.as_ref().unwrap().critical.unwrap() > 0 {
                    facts.critical_accounts.insert(acct);
                }
                for finding in hub.findings.iter().filter(|_| daily) {
                    facts.severities.insert(finding.severity.clone().unwrap());
                    facts
                        .lifecycle
                        .entry(finding.finding_id.clone().unwrap())
                        .or_default()
                        .push(finding.status.clone().unwrap());
                }
            }
            if f.location.run_date == o.end_date && daily {
                for cert in sec.certificate_manager.iter().flatten() {
                    let left = cert.not_after.unwrap().get() - at(o.end_date, 0).get();
                    if left > Duration::ZERO && left <= Duration::days(30) {
                        facts.expiring += 1;
                    }
                    if cert.status.as_deref() == Some("EXPIRED") {
                        facts.expired += 1;
                    }
                }
                facts.unrotated_keys += sec
                    .kms
                    .iter()
                    .flatten()
                    .filter(|k| k.key_rotation_enabled == Some(false))
                    .count();
                facts.noncompliant_waf_rules += sec
                    .waf_rules
                    .iter()
                    .flatten()
                    .filter(|r| r.is_compliant == Some(false))
                    .count();
                facts.compliant_waf_rules += sec
                    .waf_rules
                    .iter()
                    .flatten()
                    .filter(|r| r.is_compliant == Some(true))
                    .count();
            }
            if daily {
                facts.trails_not_logging += sec
                    .cloudtrail
                    .iter()
                    .flatten()
                    .filter(|t| t.is_logging == Some(false))
                    .count();
            }
        }
        if !daily {
            facts.monthly_service_rows_over_100 += s
                .service
                .iter()
                .flatten()
                .filter(|r| r.cost.unwrap() > 100.0)
                .count();
            continue;
        }
        if let Some(cost) = &s.cost {
            facts.daily_cost.entry(acct).or_default().push((
                f.location.run_date - Duration::days(1),
                cost.current_period_cost.unwrap(),
            ));
        }
        if s.logs
            .statuses
            .values()
            .any(|st| *st == CollectionStatus::Fail)
        {
            facts.failed_days += 1;
        }
        for m in &s.logs.messages {
            if m.key == "Forecast unavailable" {
                facts.forecast_notes += 1;
            } else {
                facts.error_messages.push(format!("{}: {}", m.key, m.text));
            }
        }
        if let Some(inv) = &s.inventory {
            facts.missing_patches += inv
                .patches
                .iter()
                .filter(|p| p.state.as_deref() == Some("Missing"))
                .count();
        }
        if let Some(c) = &s.config {
            facts
                .config_scores
                .entry(acct)
                .or_default()
                .insert(c.compliance_score.unwrap().to_bits());
        }
        for e in s
            .health
            .iter()
            .flatten()
            .filter(|e| e.event_scope_code.as_deref() == Some("PUBLIC"))
        {
            facts
                .public_health
                .entry(e.arn.clone().unwrap())
                .or_default()
                .insert(acct);
        }
        facts.savings_plans += s
            .ri_sp_savings
            .iter()
            .flatten()
            .filter(|r| r.is_global())
            .count();
        facts.support_cases += s.support_tickets.iter().flatten().count();
    }
    facts
}

#[test]
fn the_default_organisation_has_something_to_show() {
    let facts = facts();
    assert!(
        facts.critical_accounts.len() >= 5,
        "CRITICAL findings in {} accounts",
        facts.critical_accounts.len()
    );
    for s in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] {
        assert!(facts.severities.contains(s), "{s}");
    }
    let reopened = facts
        .lifecycle
        .values()
        .filter(|v| v.as_slice() == ["NEW", "RESOLVED"])
        .count();
    assert!(
        reopened > 100,
        "findings that open then resolve: {reopened}"
    );
    // A finding is seen once as NEW, then at most once more as RESOLVED (or only resolved,
    // when it opened before the generated days).
    for statuses in facts.lifecycle.values() {
        let statuses: Vec<&str> = statuses.iter().map(String::as_str).collect();
        assert!(
            matches!(statuses[..], ["NEW"] | ["NEW", "RESOLVED"] | ["RESOLVED"]),
            "{statuses:?}"
        );
    }
    assert!(facts.expiring >= 1, "expiring certificates");
    assert!(facts.expired >= 1, "expired certificates");
    assert!(
        facts.monthly_service_rows_over_100 > 50,
        "{}",
        facts.monthly_service_rows_over_100
    );
    assert!(
        facts.failed_days >= 20,
        "failed account-days: {}",
        facts.failed_days
    );
    assert!(facts
        .error_messages
        .iter()
        .any(|m| m.contains("An error occurred (AccessDeniedException)")));
    assert!(facts.forecast_notes > 50);
    assert!(facts.missing_patches > 0);
    assert!(facts.unrotated_keys > 0);
    assert!(facts.noncompliant_waf_rules > 0 && facts.compliant_waf_rules > 0);
    assert!(facts.trails_not_logging > 0);
    assert!(facts.savings_plans > 0);
    assert!(facts.support_cases > 0);
    assert!(
        facts
            .public_health
            .values()
            .any(|accounts| accounts.len() > 1),
        "a public event seen by several accounts"
    );
    // Compliance drifts: most accounts see several distinct scores.
    assert!(
        facts
            .config_scores
            .values()
            .filter(|s| s.len() >= 3)
            .count()
            >= 20
    );
}

#[test]
fn costs_follow_environment_weekends_growth_and_spikes() {
    let facts = facts();
    let list = accounts(&default_org());
    let mut spikes = 0;
    for a in &list {
        let mut sorted: Vec<f64> = facts.daily_cost[&a.id].iter().map(|(_, c)| *c).collect();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        if a.environment == "PRODUCTION" {
            assert!((250.0..2500.0).contains(&median), "{}: {median}", a.name);
        } else {
            assert!((10.0..250.0).contains(&median), "{}: {median}", a.name);
        }
        if sorted[sorted.len() - 1] > 2.5 * median {
            spikes += 1;
        }
    }
    assert!((1..=8).contains(&spikes), "accounts with a spike: {spikes}");
    // Weekends are cheaper for non-prod accounts.
    let dev = list
        .iter()
        .find(|a| a.environment == "DEVELOPMENT")
        .unwrap();
    let (mut weekend, mut weekday) = (Vec::new(), Vec::new());
    for (day, c) in &facts.daily_cost[&dev.id] {
        match day.weekday() {
            Weekday::Saturday | Weekday::Sunday => weekend.push(*c),
            _ => weekday.push(*c),
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let ratio = mean(&weekend) / mean(&weekday);
    assert!((0.55..0.85).contains(&ratio), "weekend/weekday {ratio}");
}

#[test]
fn findings_resolve_under_the_same_arn_with_a_later_update() {
    let o = opts(3, 45, &["us-east-1"]);
    let mut new: HashMap<String, Timestamp> = HashMap::new();
    let mut checked = 0;
    for f in files(&o).filter(|f| f.location.granularity == Granularity::Daily) {
        for hub in f
            .snapshot
            .security
            .iter()
            .flat_map(|s| s.security_hub.iter().flatten())
        {
            for finding in &hub.findings {
                let id = finding.finding_id.clone().unwrap();
                match finding.status.as_deref() {
                    Some("NEW") => {
                        new.insert(id, finding.updated_at.unwrap());
                    }
                    Some("RESOLVED") => {
                        if let Some(opened) = new.get(&id) {
                            assert!(finding.updated_at.unwrap() > *opened);
                            assert!(finding.created_at.unwrap() < finding.updated_at.unwrap());
                            checked += 1;
                        }
                    }
                    other => panic!("status {other:?}"),
                }
            }
        }
    }
    assert!(checked > 10, "{checked}");
}

#[test]
fn the_default_organisation_is_generated_and_serialised_quickly() {
    let start = std::time::Instant::now();
    let (mut n, mut bytes) = (0usize, 0usize);
    for f in files(&default_org()) {
        n += 1;
        bytes += f.snapshot.to_json_pretty().len();
    }
    let elapsed = start.elapsed();
    eprintln!("25 accounts x 90 days x 1 region: {n} files, {bytes} bytes, {elapsed:.2?}");
    assert_eq!(n, 25 * 90 + 25 * 4);
    if !cfg!(debug_assertions) {
        assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
    }
}
