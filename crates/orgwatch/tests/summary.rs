//! The demo summary's figures against an independent computation from the generated files:
//! the first numbers a user sees must be right.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use time::macros::format_description;
use time::{Date, Duration, Month};

/// What the raw files say, computed without the store.
#[derive(Debug, Default)]
struct Expected {
    day: Option<Date>,
    day_cost: f64,
    month_to_date: f64,
    previous_month_to_date: f64,
    /// Open findings by severity (latest state of each finding).
    open: BTreeMap<String, i64>,
}

fn date(s: &str) -> Date {
    Date::parse(s, format_description!("[year]-[month]-[day]")).unwrap()
}

/// Reads every loaded DAILY file: the cost of each account-day (held once per account and
/// day, whichever region's file carries it) and the newest state of each finding.
fn expected(dir: &Path) -> Expected {
    let mut cost: BTreeMap<(String, Date), f64> = BTreeMap::new();
    // (account, finding id) -> (day of the file, severity, open)
    let mut findings: BTreeMap<(String, String), (Date, String, bool)> = BTreeMap::new();
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
            if findings.get(&key).is_none_or(|(d, _, _)| *d <= day) {
                findings.insert(key, (day, text("severity"), open));
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
        for ((_, d), c) in &cost {
            if *d == day {
                out.day_cost += c;
            }
            if (first..=day).contains(d) {
                out.month_to_date += c;
            }
            if (prev_first..=prev_last).contains(d) {
                out.previous_month_to_date += c;
            }
        }
    }
    for (_, severity, open) in findings.values() {
        if *open {
            *out.open.entry(severity.clone()).or_insert(0) += 1;
        }
    }
    out
}

/// The number after `prefix` in `line` (money with `$`, or a count).
fn figure(line: &str, prefix: &str) -> f64 {
    let at = line
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix:?} in {line}"))
        + prefix.len();
    let rest: String = line[at..]
        .trim_start_matches('$')
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    rest.parse()
        .unwrap_or_else(|_| panic!("{prefix:?} in {line}"))
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

#[test]
fn the_demo_summary_equals_an_independent_computation_from_its_files() {
    // Seeds, sizes and end dates past one fixture: a month start, a year start, a short month.
    for (seed, accounts, days, end) in [
        ("11", "4", "70", "2026-11-24"),
        ("3", "3", "40", "2026-03-31"),
        ("7", "2", "35", "2026-01-02"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("orgwatch.db").display());
        let out = Command::new(env!("CARGO_BIN_EXE_orgwatch"))
            .args([
                "--database-url",
                &db,
                "demo",
                "--seed",
                seed,
                "--accounts",
                accounts,
            ])
            .args(["--days", days, "--end-date", end, "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = expected(dir.path());
        let day = want.day.expect("the demo has daily cost");
        let line = stdout
            .lines()
            .find(|l| l.starts_with("organisation:"))
            .unwrap_or_else(|| panic!("no organisation line in {stdout}"));
        let case = format!("seed {seed}, end {end}: {line}");
        assert!(line.contains(&format!(" on {day};")), "{case}: day {day}");
        assert_eq!(
            cents(figure(line, "organisation: $")),
            cents(want.day_cost),
            "{case}"
        );
        assert_eq!(
            cents(figure(line, "; $")),
            cents(want.month_to_date),
            "{case}"
        );
        assert_eq!(
            cents(figure(line, "against $")),
            cents(want.previous_month_to_date),
            "{case}"
        );
        for severity in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] {
            let label = format!(" {}", severity.to_ascii_lowercase());
            let at = line
                .find(&label)
                .unwrap_or_else(|| panic!("{case}: no {label}"));
            let count: i64 = line[..at]
                .rsplit(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                count,
                want.open.get(severity).copied().unwrap_or(0),
                "{case}: {severity}"
            );
        }
        assert!(
            want.open.get("CRITICAL").copied().unwrap_or(0) > 0 && want.month_to_date > 0.0,
            "{case}: the demo should have open critical findings and cost"
        );
    }
}
