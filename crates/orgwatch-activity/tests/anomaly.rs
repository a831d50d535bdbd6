//! The anomaly detector on days of synthetic traffic replayed from the real CloudTrail samples
//! in testdata/cloudtrail, with injected 5-minute bursts of one principal calling one API.
//! Deterministic: every random choice comes from seeded ChaCha generators.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_activity::anomaly::{Anomaly, Detector, DetectorConfig, Scope, WindowCounts};
use orgwatch_model::{ActivityEvent, Timestamp};
use orgwatch_test_support::cloudtrail;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

const DAYS: i64 = 3;
/// The first day is warm-up: its alarms are not counted and it has no bursts.
const WARMUP: i64 = 1440;
/// Accounts and their mean calls per minute (the day/night cycle goes ±60% around it).
const ACCOUNTS: [(&str, f64); 4] = [
    ("111111111111", 12.0),
    ("222222222222", 25.0),
    ("333333333333", 50.0),
    ("444444444444", 100.0),
];
const BURST_MINUTES: i64 = 5;

/// (api, source ip) of every sample call, per principal.
type Calls = BTreeMap<String, Vec<(String, Option<String>)>>;

fn sample_calls() -> Calls {
    let mut calls = Calls::new();
    for f in cloudtrail::files() {
        // S3 log files ({"Records": [...]}) and NDJSON, as in tests/samples.rs.
        let records = cloudtrail::records_of(&f);
        for r in records {
            let Some(obj) = r.as_object() else { continue };
            let Ok(ev) = ActivityEvent::from_cloudtrail(obj) else {
                continue;
            };
            calls
                .entry(ev.principal.as_str().to_owned())
                .or_default()
                .push((format!("{}:{}", ev.service, ev.api), ev.source_ip));
        }
    }
    calls
}

/// An alarm of a new-behaviour kind (`new_api`, `root`), not of the burst detectors.
fn is_behaviour(a: &Anomaly) -> bool {
    a.explanation
        .as_ref()
        .is_some_and(|e| e.kind.is_behaviour())
}

fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u64 {
    if lambda < 30.0 {
        // Knuth's method, exact for small means.
        let limit = (-lambda).exp();
        let (mut k, mut p) = (0, 1.0);
        loop {
            p *= rng.random::<f64>();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    // Normal approximation for large means.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (lambda + z * lambda.sqrt()).round().max(0.0) as u64
}

#[derive(Debug, Clone)]
struct Burst {
    account: &'static str,
    start: i64,
    strong: bool,
    principal: String,
    api: String,
}

struct Account {
    id: &'static str,
    mean: f64,
    phase: f64,
    /// (principal, share of the account's calls).
    principals: Vec<(String, f64)>,
}

fn minute_ts(m: i64) -> Timestamp {
    // 2026-11-02T00:00:00Z plus m minutes.
    Timestamp::new(
        time::OffsetDateTime::from_unix_timestamp(1_793_577_600).unwrap()
            + time::Duration::minutes(m),
    )
}

/// The rate of an account at minute m: mean ±60% over the day.
fn rate(a: &Account, m: i64) -> f64 {
    let day = (m % 1440) as f64 / 1440.0;
    a.mean * (1.0 + 0.6 * (2.0 * std::f64::consts::PI * day + a.phase).sin())
}

/// Every account's window for every minute (with the bursts in), plus the org's.
struct Traffic {
    windows: Vec<Vec<WindowCounts>>, // [minute][scope]: the accounts, then "org"
    bursts: Vec<Burst>,
    events: u64,
}

fn traffic(calls: &Calls) -> Traffic {
    let mut rng = ChaCha8Rng::seed_from_u64(20261127);
    let names: Vec<&String> = calls.keys().collect();
    let accounts: Vec<Account> = ACCOUNTS
        .iter()
        .enumerate()
        .map(|(i, &(id, mean))| {
            // Each account has its own mix: the sample principals in a random order, with
            // Zipf shares 1/rank.
            let mut order = names.clone();
            for j in (1..order.len()).rev() {
                order.swap(j, rng.random_range(0..=j));
            }
            let h: f64 = (1..=order.len()).map(|r| 1.0 / r as f64).sum();
            let principals = order
                .iter()
                .enumerate()
                .map(|(r, p)| ((*p).clone(), 1.0 / ((r + 1) as f64 * h)))
                .collect();
            Account {
                id,
                mean,
                phase: i as f64 * 1.3,
                principals,
            }
        })
        .collect();
    // Bursts every 6 to 9 h after the warm-up day, strong and subtle in turn.
    let mut bursts = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        let mut t = WARMUP + 60 + rng.random_range(0..600);
        let mut strong = i % 2 == 0;
        while t + BURST_MINUTES < DAYS * 1440 {
            let (p, _) = &a.principals[rng.random_range(0..a.principals.len())];
            let pc = &calls[p];
            let (api, _) = &pc[rng.random_range(0..pc.len())];
            bursts.push(Burst {
                account: a.id,
                start: t,
                strong,
                principal: p.clone(),
                api: api.clone(),
            });
            strong = !strong;
            t += 360 + rng.random_range(0..180);
        }
    }
    let mut windows = Vec::new();
    let mut events = 0;
    for m in 0..DAYS * 1440 {
        let mut org = WindowCounts::empty(minute_ts(m), Scope::Org);
        let mut row = Vec::new();
        for a in &accounts {
            let mut w = WindowCounts::empty(minute_ts(m), a.id.parse().unwrap());
            let r = rate(a, m);
            for (p, share) in &a.principals {
                let pc = &calls[p];
                for _ in 0..poisson(&mut rng, r * share) {
                    let (api, ip) = &pc[rng.random_range(0..pc.len())];
                    w.add(p, api, ip.as_deref());
                    org.add(p, api, ip.as_deref());
                }
            }
            for b in bursts.iter().filter(|b| b.account == a.id) {
                if (b.start..b.start + BURST_MINUTES).contains(&m) {
                    // Strong: 10x the account's rate; subtle: the account's rate again.
                    let extra = if b.strong { 10.0 * r } else { r };
                    for _ in 0..poisson(&mut rng, extra) {
                        w.add(&b.principal, &b.api, Some("198.51.100.66"));
                        org.add(&b.principal, &b.api, Some("198.51.100.66"));
                    }
                }
            }
            events += w.total;
            row.push(w);
        }
        row.push(org);
        windows.push(row);
    }
    Traffic {
        windows,
        bursts,
        events,
    }
}

#[test]
fn bursts_are_found_and_named_with_few_false_alarms() {
    let calls = sample_calls();
    assert!(calls.len() >= 8, "sample principals: {}", calls.len());
    let gen = Instant::now();
    let t = traffic(&calls);
    eprintln!("traffic generated in {:.1} s", gen.elapsed().as_secs_f64());
    // The default configuration: no principal forests (the count model tests every
    // principal against its own rate; the forests score `total` and `others`).
    let f = busy_run(&t, DetectorConfig::default());
    assert!(f.strong >= 0.9, "strong recall {}", f.strong);
    assert!(f.subtle >= 0.5, "subtle recall {}", f.subtle);
    assert!(
        f.false_rate < 1.0,
        "false alarms per account-day {}",
        f.false_rate
    );
    assert!(f.misnamed.is_empty(), "{:#?}", f.misnamed);
}

/// The busy-account figures of one run.
struct BusyFigures {
    strong: f64,
    subtle: f64,
    false_rate: f64,
    /// Alarms during a burst that name another principal or API.
    misnamed: Vec<String>,
}

/// Runs a detector of `config` over the busy stream (restored from its bytes after the
/// warm-up day), prints what it found and returns the figures.
fn busy_run(t: &Traffic, config: DetectorConfig) -> BusyFigures {
    let shingle = config.shingle as i64;
    let mut det = Detector::new(config);
    let mut alarms: Vec<(i64, Anomaly)> = Vec::new();
    let started = Instant::now();
    let mut updates = 0;
    let mut state_bytes = 0;
    for (m, row) in t.windows.iter().enumerate() {
        let m = m as i64;
        if m == WARMUP {
            // Restart after the warm-up day: the rest of the run is scored by a restored
            // detector, which must need no warm-up of its own.
            let bytes = det.to_bytes();
            state_bytes = bytes.len();
            det = Detector::from_bytes(&bytes).unwrap();
        }
        for w in row {
            let scores = det.observe(w);
            updates += scores.len();
            if m >= WARMUP {
                // The burst detectors' alarms (new-behaviour kinds are tested on their own).
                alarms.extend(
                    scores
                        .into_iter()
                        .filter(|a| a.alarm && !is_behaviour(a))
                        .map(|a| (m, a)),
                );
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();

    // An alarm belongs to a burst when it is in the burst's scope (or the org) from the
    // burst's start until its last minute has left the shingle.
    let belongs = |b: &Burst, m: i64, a: &Anomaly| {
        (a.scope.as_str() == b.account || a.scope == Scope::Org)
            && (b.start..b.start + BURST_MINUTES + shingle).contains(&m)
    };
    let mut found = [0usize; 2];
    let mut total = [0usize; 2];
    let mut misnamed = Vec::new();
    for b in &t.bursts {
        let k = usize::from(!b.strong);
        total[k] += 1;
        let mine: Vec<&(i64, Anomaly)> = alarms
            .iter()
            .filter(|(m, a)| a.scope.as_str() == b.account && belongs(b, *m, a))
            .collect();
        let named = |a: &Anomaly| {
            a.contributor
                .contains(&format!("principal:{} ", b.principal))
                && a.contributor.contains(&format!(" api:{}", b.api))
        };
        if mine
            .iter()
            .any(|(m, a)| *m < b.start + BURST_MINUTES && named(a))
        {
            found[k] += 1;
        } else {
            eprintln!("missed {b:?}");
        }
        // Alarms during the burst must name it; alarms in the minutes after it (while its
        // counts are still in the shingle) are the burst's, not false alarms, but the burst
        // key no longer grows then, so they may name another key.
        for (m, a) in mine {
            if *m < b.start + BURST_MINUTES && !named(a) {
                misnamed.push(format!("{b:?} at +{}: {a:?}", m - b.start));
            }
        }
    }
    // False alarms: alarmed (scope, minute)s that belong to no burst.
    let false_alarms: BTreeSet<(&str, i64)> = alarms
        .iter()
        .filter(|(m, a)| !t.bursts.iter().any(|b| belongs(b, *m, a)))
        .map(|(m, a)| (a.scope.as_str(), *m))
        .collect();
    let account_fa = false_alarms.iter().filter(|(s, _)| *s != "org").count();
    let org_fa = false_alarms.len() - account_fa;
    for (s, m) in false_alarms.iter().take(20) {
        let why: Vec<_> = alarms
            .iter()
            .filter(|(mm, a)| mm == m && a.scope.as_str() == *s)
            .map(|(_, a)| format!("{} {:.2} {}", a.series, a.score, a.contributor))
            .collect();
        eprintln!("false alarm {s} minute {m}: {why:?}");
    }
    let eval_days = (DAYS * 1440 - WARMUP) as f64 / 1440.0;
    let account_days = eval_days * ACCOUNTS.len() as f64;
    let recall_strong = found[0] as f64 / total[0] as f64;
    let recall_subtle = found[1] as f64 / total[1] as f64;
    let fa_rate = account_fa as f64 / account_days;
    eprintln!(
        "anomaly burst test: {} events, {} bursts ({} strong, {} subtle)",
        t.events,
        t.bursts.len(),
        total[0],
        total[1]
    );
    eprintln!(
        "  recall strong {recall_strong:.2} ({}/{}), subtle {recall_subtle:.2} ({}/{})",
        found[0], total[0], found[1], total[1]
    );
    eprintln!("  false alarms per account-day {fa_rate:.2} ({account_fa} in {account_days} account-days); org: {org_fa} in {eval_days} days");
    eprintln!(
        "  alarms naming another principal/API in a burst window: {}",
        misnamed.len()
    );
    eprintln!(
        "  {updates} series updates in {secs:.1} s: {:.0} updates/s; {} forests, state {} bytes ({} per forest)",
        updates as f64 / secs,
        det.forests(),
        state_bytes,
        state_bytes / det.forests().max(1)
    );
    for m in misnamed.iter().take(10) {
        eprintln!("misnamed: {m}");
    }
    BusyFigures {
        strong: recall_strong,
        subtle: recall_subtle,
        false_rate: fa_rate,
        misnamed,
    }
}

/// The busy-account sweep of `docs/activity.md`: `cargo test --release -p orgwatch-activity
/// --test anomaly -- --ignored --nocapture busy_sweep`.
#[test]
#[ignore = "a sweep for the documentation, minutes long"]
fn busy_sweep() {
    let t = traffic(&sample_calls());
    let configs = sweep_configs();
    println!("| configuration | strong | subtle | false alarms / account-day | misnamed |");
    println!("|---|---|---|---|---|");
    for (name, c) in configs {
        let f = busy_run(&t, c);
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {} |",
            f.strong,
            f.subtle,
            f.false_rate,
            f.misnamed.len()
        );
    }
}

// --- Quiet accounts (issue 16) -------------------------------------------------------------
//
// 3 accounts x 3 days at 1 to 11 calls per minute (a day/night sine per account), the first
// 6 hours warm-up; 18 bursts of 5 minutes of one principal calling one API: 9 strong (10x the
// account's current rate) and 9 subtle (1x: the account's total only doubles). Scored as
// issue 16 says: a burst is found when an alarm of its account falls from 1 minute before its
// start to 10 minutes after its end; an alarm more than 15 minutes from every burst of its
// account is false, alarms less than 10 minutes apart being one.

const QUIET_DAYS: i64 = 3;
const QUIET_WARMUP: i64 = 360;
const QUIET_ACCOUNTS: [&str; 3] = ["555555555555", "666666666666", "777777777777"];

/// The account's calls per minute at minute m: 1 to 11 over the day.
fn quiet_rate(phase: f64, m: i64) -> f64 {
    let day = (m % 1440) as f64 / 1440.0;
    6.0 + 5.0 * (2.0 * std::f64::consts::PI * day + phase).sin()
}

/// The quiet stream of one seed: each minute's windows (the accounts, then "org") and the
/// bursts.
fn quiet_traffic(calls: &Calls, seed: u64) -> Traffic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let names: Vec<&String> = calls.keys().collect();
    let accounts: Vec<Account> = QUIET_ACCOUNTS
        .iter()
        .map(|&id| {
            let mut order = names.clone();
            for j in (1..order.len()).rev() {
                order.swap(j, rng.random_range(0..=j));
            }
            let h: f64 = (1..=order.len()).map(|r| 1.0 / r as f64).sum();
            let principals = order
                .iter()
                .enumerate()
                .map(|(r, p)| ((*p).clone(), 1.0 / ((r + 1) as f64 * h)))
                .collect();
            Account {
                id,
                mean: 6.0,
                phase: rng.random_range(0.0..std::f64::consts::TAU),
                principals,
            }
        })
        .collect();
    // 6 bursts per account (3 strong, 3 subtle, in a random order) at random times after the
    // warm-up, at least an hour apart.
    let mut bursts: Vec<Burst> = Vec::new();
    for a in &accounts {
        let mut kinds = [true, true, true, false, false, false];
        for j in (1..kinds.len()).rev() {
            kinds.swap(j, rng.random_range(0..=j));
        }
        let mut starts: Vec<i64> = Vec::new();
        while starts.len() < kinds.len() {
            let t = rng.random_range(QUIET_WARMUP + 15..QUIET_DAYS * 1440 - BURST_MINUTES - 15);
            if starts.iter().all(|s| (s - t).abs() >= 60) {
                starts.push(t);
            }
        }
        starts.sort();
        for (start, strong) in starts.into_iter().zip(kinds) {
            let (p, _) = &a.principals[rng.random_range(0..a.principals.len())];
            let pc = &calls[p];
            let (api, _) = &pc[rng.random_range(0..pc.len())];
            bursts.push(Burst {
                account: a.id,
                start,
                strong,
                principal: p.clone(),
                api: api.clone(),
            });
        }
    }
    let mut windows = Vec::new();
    let mut events = 0;
    for m in 0..QUIET_DAYS * 1440 {
        let mut org = WindowCounts::empty(minute_ts(m), Scope::Org);
        let mut row = Vec::new();
        for a in &accounts {
            let mut w = WindowCounts::empty(minute_ts(m), a.id.parse().unwrap());
            let r = quiet_rate(a.phase, m);
            for (p, share) in &a.principals {
                let pc = &calls[p];
                for _ in 0..poisson(&mut rng, r * share) {
                    let (api, ip) = &pc[rng.random_range(0..pc.len())];
                    w.add(p, api, ip.as_deref());
                }
            }
            for b in bursts.iter().filter(|b| b.account == a.id) {
                if (b.start..b.start + BURST_MINUTES).contains(&m) {
                    let extra = if b.strong { 10.0 * r } else { r };
                    // The source IPs this principal used with this API in the samples.
                    let ips: Vec<&Option<String>> = calls[&b.principal]
                        .iter()
                        .filter(|(api, _)| *api == b.api)
                        .map(|(_, ip)| ip)
                        .collect();
                    for _ in 0..poisson(&mut rng, extra) {
                        let ip = ips[rng.random_range(0..ips.len())];
                        w.add(&b.principal, &b.api, ip.as_deref());
                    }
                }
            }
            org.merge(&w);
            events += w.total;
            row.push(w);
        }
        row.push(org);
        windows.push(row);
    }
    Traffic {
        windows,
        bursts,
        events,
    }
}

/// The quiet-account figures of one run.
#[derive(Debug, Clone)]
struct QuietFigures {
    strong: (usize, usize),
    subtle: (usize, usize),
    false_alarms: usize,
    account_days: f64,
    /// New-behaviour alarms of the accounts after the warm-up, by kind.
    behaviour: std::collections::BTreeMap<String, usize>,
}

impl QuietFigures {
    fn strong_recall(&self) -> f64 {
        self.strong.0 as f64 / self.strong.1 as f64
    }
    fn subtle_recall(&self) -> f64 {
        self.subtle.0 as f64 / self.subtle.1 as f64
    }
    fn false_rate(&self) -> f64 {
        self.false_alarms as f64 / self.account_days
    }
}

/// Runs a detector of `config` over the quiet stream (restored from its bytes after the
/// warm-up) and scores its account alarms as issue 16 does.
fn quiet_run(t: &Traffic, config: &DetectorConfig) -> QuietFigures {
    let mut det = Detector::new(config.clone());
    // (account, minute) of every account alarm after the warm-up.
    let mut alarms: Vec<(&str, i64)> = Vec::new();
    let mut behaviour = std::collections::BTreeMap::new();
    for (m, row) in t.windows.iter().enumerate() {
        let m = m as i64;
        if m == QUIET_WARMUP {
            det = Detector::from_bytes(&det.to_bytes()).unwrap();
        }
        for w in row {
            let scores = det.observe(w);
            let burst_alarm = scores.iter().any(|a| a.alarm && !is_behaviour(a));
            if m >= QUIET_WARMUP && w.scope != Scope::Org {
                for a in scores.iter().filter(|a| a.alarm && is_behaviour(a)) {
                    let kind = a.explanation.as_ref().unwrap().kind.to_string();
                    *behaviour.entry(kind).or_insert(0) += 1;
                }
            }
            if m >= QUIET_WARMUP && w.scope != Scope::Org && burst_alarm {
                let id = QUIET_ACCOUNTS
                    .iter()
                    .find(|id| **id == w.scope.as_str())
                    .unwrap();
                alarms.push((id, m));
            }
        }
    }
    let (mut strong, mut subtle) = ((0, 0), (0, 0));
    for b in &t.bursts {
        let found = alarms.iter().any(|&(a, m)| {
            a == b.account && (b.start - 1..=b.start + BURST_MINUTES + 10).contains(&m)
        });
        let tally = if b.strong { &mut strong } else { &mut subtle };
        tally.1 += 1;
        tally.0 += usize::from(found);
    }
    let mut false_alarms = 0;
    for id in QUIET_ACCOUNTS {
        let mut last: Option<i64> = None;
        for &(_, m) in alarms.iter().filter(|(a, _)| *a == id) {
            let near = t.bursts.iter().any(|b| {
                b.account == id && m >= b.start - 15 && m <= b.start + BURST_MINUTES - 1 + 15
            });
            if near {
                continue;
            }
            if last.is_none_or(|l| m - l >= 10) {
                false_alarms += 1;
            }
            last = Some(m);
        }
    }
    QuietFigures {
        strong,
        subtle,
        false_alarms,
        account_days: (QUIET_DAYS * 1440 - QUIET_WARMUP) as f64 / 1440.0
            * QUIET_ACCOUNTS.len() as f64,
        behaviour,
    }
}

/// One seed of the quiet-account test: the figures the issue asks for, printed and checked.
fn quiet_accounts(seed: u64) {
    let calls = sample_calls();
    let t = quiet_traffic(&calls, seed);
    assert_eq!(t.bursts.iter().filter(|b| b.strong).count(), 9);
    assert_eq!(t.bursts.iter().filter(|b| !b.strong).count(), 9);
    let f = quiet_run(&t, &DetectorConfig::default());
    eprintln!(
        "quiet accounts, seed {seed}: {} events; strong {}/{}, subtle {}/{}, {} false alarms ({:.2} per account-day)",
        t.events, f.strong.0, f.strong.1, f.subtle.0, f.subtle.1, f.false_alarms, f.false_rate()
    );
    // Reported, not asserted: the streams replay the samples' principals at random, so each
    // principal's APIs and sources keep growing (`docs/activity.md` has the figures).
    eprintln!(
        "quiet accounts, seed {seed}: new-behaviour alarms in {:.2} account-days: {:?}",
        f.account_days, f.behaviour
    );
    assert!(f.strong_recall() >= 0.9, "seed {seed}: {f:?}");
    assert!(f.subtle_recall() >= 0.5, "seed {seed}: {f:?}");
    assert!(f.false_rate() < 1.0, "seed {seed}: {f:?}");
}

// Three seeds, each a test of its own (the test runner spreads them over the cores); more
// seeds in `docs/activity.md` (`quiet_sweep`).

#[test]
fn quiet_accounts_show_strong_and_subtle_bursts_seed_16() {
    quiet_accounts(16);
}

#[test]
fn quiet_accounts_show_strong_and_subtle_bursts_seed_1601() {
    quiet_accounts(1601);
}

#[test]
fn quiet_accounts_show_strong_and_subtle_bursts_seed_1602() {
    quiet_accounts(1602);
}

/// The sweep of `docs/activity.md`: `cargo test --release -p orgwatch-activity --test anomaly
/// -- --ignored --nocapture quiet_sweep` (seeds from `ORGWATCH_QUIET_SEEDS`, comma-separated).
#[test]
#[ignore = "a sweep for the documentation, minutes long"]
fn quiet_sweep() {
    let calls = sample_calls();
    let seeds: Vec<u64> = std::env::var("ORGWATCH_QUIET_SEEDS")
        .map(|s| s.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .unwrap_or_else(|_| (1..=10).collect());
    let traffic: Vec<(u64, Traffic)> = seeds
        .iter()
        .map(|&s| (s, quiet_traffic(&calls, s)))
        .collect();
    let configs = sweep_configs();
    println!("| configuration | strong | subtle | false alarms / account-day | per seed (strong, subtle, false) |");
    println!("|---|---|---|---|---|");
    for (name, c) in configs {
        let figs: Vec<(u64, QuietFigures)> = traffic
            .iter()
            .map(|(s, t)| (*s, quiet_run(t, &c)))
            .collect();
        let sum =
            |f: &dyn Fn(&QuietFigures) -> usize| figs.iter().map(|(_, x)| f(x)).sum::<usize>();
        let days: f64 = figs.iter().map(|(_, x)| x.account_days).sum();
        let per: Vec<String> = figs
            .iter()
            .map(|(s, f)| {
                format!(
                    "{s}: {}/{} {}/{} {}",
                    f.strong.0, f.strong.1, f.subtle.0, f.subtle.1, f.false_alarms
                )
            })
            .collect();
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {} |",
            sum(&|f| f.strong.0) as f64 / sum(&|f| f.strong.1) as f64,
            sum(&|f| f.subtle.0) as f64 / sum(&|f| f.subtle.1) as f64,
            sum(&|f| f.false_alarms) as f64 / days,
            per.join("; ")
        );
    }
}

/// The sweeps' configurations: the defaults, the forests alone, the principal forests of
/// before issue 16, and one count-model knob at a time around the defaults.
fn sweep_configs() -> Vec<(String, DetectorConfig)> {
    let base = DetectorConfig::default();
    let mut configs: Vec<(String, DetectorConfig)> = vec![
        (
            "forests only (count model off)".into(),
            DetectorConfig {
                count_threshold: 0.0,
                ..base.clone()
            },
        ),
        ("default".into(), base.clone()),
        (
            "max_principals 4 (before issue 16)".into(),
            DetectorConfig {
                max_principals: 4,
                ..base.clone()
            },
        ),
    ];
    // One knob at a time around the defaults.
    for th in [4.0, 5.0, 7.0, 8.0] {
        configs.push((
            format!("count_threshold {th}"),
            DetectorConfig {
                count_threshold: th,
                ..base.clone()
            },
        ));
    }
    for prior in [0.005, 0.01, 0.05, 0.1] {
        configs.push((
            format!("count_prior {prior}"),
            DetectorConfig {
                count_prior: prior,
                ..base.clone()
            },
        ));
    }
    for slack in [0.0, 0.1, 0.4] {
        configs.push((
            format!("count_slack {slack}"),
            DetectorConfig {
                count_slack: slack,
                ..base.clone()
            },
        ));
    }
    for excess in [1, 2, 5, 8] {
        configs.push((
            format!("count_min_excess {excess}"),
            DetectorConfig {
                count_min_excess: excess,
                ..base.clone()
            },
        ));
    }
    configs
}
