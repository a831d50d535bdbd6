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
    let shingle = DetectorConfig::default().shingle as i64;

    // The default configuration: 4 tracked principals per scope (the other principals are
    // scored together as `others`, so bursts of untracked principals are tested too).
    let config = DetectorConfig::default();
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
                alarms.extend(scores.into_iter().filter(|a| a.alarm).map(|a| (m, a)));
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
    assert!(recall_strong >= 0.9, "strong recall {recall_strong}");
    assert!(recall_subtle >= 0.5, "subtle recall {recall_subtle}");
    assert!(fa_rate < 1.0, "false alarms per account-day {fa_rate}");
    assert!(misnamed.is_empty(), "{misnamed:#?}");
}
