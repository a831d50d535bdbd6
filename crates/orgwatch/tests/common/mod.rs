//! What the demo's generated files say, computed without the store: the independent side of
//! the tests that check the figures the summary, the Overview page and its API show.
// Each test crate uses part of it.
#![allow(dead_code)]

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
}

pub fn date(s: &str) -> Date {
    Date::parse(s, format_description!("[year]-[month]-[day]")).unwrap()
}

/// Reads every loaded DAILY file: the cost of each account-day (held once per account and
/// day, whichever region's file carries it) and the newest state of each finding.
pub fn expected(dir: &Path) -> Expected {
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

/// Money as whole cents, to compare figures summed in another order.
pub fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}
