//! `orgwatch activity --report json|table` without `--from`: the report of the stored
//! activity, de-duplicated as stored, with the anomaly alarms.

use super::TABLE_TOP;
use crate::cli::ReportFormat;
use anyhow::Result;
use orgwatch_activity::Report;
use orgwatch_model::Timestamp;
use orgwatch_store::activity::{epoch_ms, ActivityCounts, Anomaly, Metric, Retention, Tier};
use orgwatch_store::Store;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

/// Prints the stored report of events in `[since, until)`.
pub async fn run(
    store: &Store,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    format: ReportFormat,
    retention: &Retention,
) -> Result<ExitCode> {
    let counts = store.activity_counts(since, until, retention).await?;
    let anomalies = store.anomalies(since, until, true).await?;
    let report = as_report(&counts);
    match format {
        ReportFormat::Json => crate::outln!("{}", to_json(&report, &counts, &anomalies))?,
        ReportFormat::Table => {
            let newest = store.activity_state().await?.max_event_time;
            let newest = newest.filter(|n| until.is_none_or(|u| *n < u));
            crate::out!("{}", to_table(&report, &counts, newest))?;
            crate::out!("{}", anomalies_table(&anomalies))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The table form: which tier was read, the event time span (exact where the store knows
/// it, else named as a window bound), the triage table's counts, EC2 outcomes and console
/// sign-ins. `newest` is the newest stored event, if it falls in the range.
pub fn to_table(report: &Report, c: &ActivityCounts, newest: Option<Timestamp>) -> String {
    let mut out = match c.tier {
        Some(tier) => format!(
            "read from the {} tier ({} windows)\n",
            tier.as_str(),
            window_name(tier)
        ),
        None => "nothing stored yet\n".to_owned(),
    };
    let table = report.to_table(TABLE_TOP);
    let (head, rest) = table.split_once('\n').unwrap_or((&table, ""));
    let rest = rest
        .split_once('\n')
        .filter(|(line, _)| line.starts_with("event time "))
        .map_or(rest, |(_, after)| after);
    let first = span_end(c.first_event_time, c.tier, "start");
    let last = match (newest, c.last_event_time) {
        (Some(n), Some(l)) if n <= l => n.to_string(),
        (_, l) => span_end(l, c.tier, "end"),
    };
    let _ = writeln!(out, "{head}\nevent time {first} .. {last}");
    out.push_str(rest);
    let by = |m: Metric| c.by.get(&m).cloned().unwrap_or_default();
    out.push_str(&section("EC2 outcome", &by(Metric::Ec2Outcome)));
    out.push_str(&section("console sign-in", &by(Metric::ConsoleSignIn)));
    out
}

/// "one-day", "one-hour", "one-minute".
fn window_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Minute => "one-minute",
        Tier::Hour => "one-hour",
        Tier::Day => "one-day",
    }
}

/// A span end: the exact time, or, when it sits on a window bound of the tier read (the
/// events themselves are no longer kept), that bound named as such.
fn span_end(t: Option<Timestamp>, tier: Option<Tier>, which: &str) -> String {
    let Some(t) = t else {
        return "-".to_owned();
    };
    match tier {
        Some(tier) if epoch_ms(t).rem_euclid(tier.seconds() * 1000) == 0 => {
            format!("{t} ({which} of a {} window)", window_name(tier))
        }
        _ => t.to_string(),
    }
}

/// One count in the triage table's layout.
fn section(title: &str, m: &BTreeMap<String, u64>) -> String {
    let mut out = format!("\n{title} ({} distinct)\n", m.len());
    let mut rows: Vec<(&String, &u64)> = m.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let width = rows
        .iter()
        .take(TABLE_TOP)
        .map(|r| r.0.len())
        .max()
        .unwrap_or(0);
    for (k, n) in rows.iter().take(TABLE_TOP) {
        let _ = writeln!(out, "  {k:<width$}  {n:>9}");
    }
    if rows.len() > TABLE_TOP {
        let _ = writeln!(out, "  … {} more", rows.len() - TABLE_TOP);
    }
    out
}

/// The stored counts in the triage report's shape.
pub fn as_report(c: &ActivityCounts) -> Report {
    let by = |m: Metric| c.by.get(&m).cloned().unwrap_or_default();
    let mut r = Report::new();
    r.events = c.events;
    r.undecodable = c.undecodable;
    r.skipped = c.skipped.clone();
    r.first_event_time = c.first_event_time;
    r.last_event_time = c.last_event_time;
    r.by_account = c.by_account.clone();
    r.by_region = c.by_region.clone();
    r.by_service = by(Metric::Service);
    r.by_api = by(Metric::Api);
    r.by_principal_type = by(Metric::PrincipalType);
    r.by_principal = by(Metric::Principal);
    r.by_source_ip = by(Metric::SourceIp);
    r.by_error_code = by(Metric::ErrorCode);
    r
}

/// The report object plus `tier`, `by_ec2_outcome`, `by_console_sign_in` and `anomalies`.
pub fn to_json(report: &Report, c: &ActivityCounts, anomalies: &[Anomaly]) -> Value {
    let mut v = report.to_json();
    let by = |m: Metric| json!(c.by.get(&m).cloned().unwrap_or_default());
    v["tier"] = json!(c.tier.map(|t| t.as_str()));
    v["by_ec2_outcome"] = by(Metric::Ec2Outcome);
    v["by_console_sign_in"] = by(Metric::ConsoleSignIn);
    v["anomalies"] = anomalies.iter().map(anomaly_json).collect();
    v
}

/// One alarm of the report: where, what scored, and its explanation's fields.
fn anomaly_json(a: &Anomaly) -> Value {
    let mut v = json!({
        "time": a.time.to_string(),
        "account": a.scope,
        "series": a.series,
        "score": a.score,
        "contributor": a.contributor,
    });
    if let Some(e) = &a.explanation {
        v["kind"] = json!(e.kind);
        v["observed"] = json!(e.observed);
        v["expected"] = json!(e.expected);
        v["minutes"] = json!(e.minutes);
        v["principal"] = json!(e.principal);
        v["api"] = json!(e.api);
        v["source_ip"] = json!(e.source_ip);
        v["region"] = json!(e.region);
    }
    v
}

fn anomalies_table(anomalies: &[Anomaly]) -> String {
    let mut out = format!("\nanomalies ({})\n", anomalies.len());
    for a in anomalies.iter().take(50) {
        // What grew and against what: "count 40 calls in 5 min, expected 2.1".
        let why = a.explanation.as_ref().map_or(String::new(), |e| {
            format!(
                "{:<6}  {:>5} calls in {} min, expected {:.1}  ",
                e.kind, e.observed, e.minutes, e.expected
            )
        });
        let region = a
            .explanation
            .as_ref()
            .and_then(|e| e.region.as_deref())
            .map_or(String::new(), |r| format!(" region:{r}"));
        let _ = writeln!(
            out,
            "  {}  {:<12}  {:<28}  {:>6.2}  {why}{}{region}",
            a.time, a.scope, a.series, a.score, a.contributor
        );
    }
    if anomalies.len() > 50 {
        let _ = writeln!(out, "  … {} more (use --report json)", anomalies.len() - 50);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgwatch_activity::anomaly::{AlarmKind, Explanation};

    fn alarm() -> Anomaly {
        Anomaly {
            time: Timestamp::parse("2026-11-02T03:04:00Z").unwrap(),
            scope: "111111111111".parse().unwrap(),
            series: "principal:deployer".parse().unwrap(),
            score: 7.5,
            contributor: "principal:deployer api:iam.amazonaws.com:CreateUser ip:203.0.113.7"
                .into(),
            alarm: true,
            explanation: Some(Explanation {
                kind: AlarmKind::Count,
                observed: 12,
                expected: 0.6,
                minutes: 5,
                principal: Some("deployer".into()),
                api: Some("iam.amazonaws.com:CreateUser".into()),
                source_ip: Some("203.0.113.7".into()),
                region: None,
            }),
        }
    }

    #[test]
    fn an_alarm_says_what_grew_and_against_what() {
        let v = anomaly_json(&alarm());
        assert_eq!(
            v,
            json!({
                "time": "2026-11-02T03:04:00Z", "account": "111111111111",
                "series": "principal:deployer", "score": 7.5,
                "contributor": "principal:deployer api:iam.amazonaws.com:CreateUser ip:203.0.113.7",
                "kind": "count", "observed": 12, "expected": 0.6, "minutes": 5,
                "principal": "deployer", "api": "iam.amazonaws.com:CreateUser",
                "source_ip": "203.0.113.7", "region": null
            })
        );
        let table = anomalies_table(&[alarm()]);
        assert!(
            table.contains("count      12 calls in 5 min, expected 0.6  principal:deployer"),
            "{table}"
        );
    }
}
