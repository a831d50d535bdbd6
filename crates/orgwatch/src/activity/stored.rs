//! `orgwatch activity --report json|table` without `--from`: the report of the stored
//! activity, de-duplicated as stored, with the anomaly alarms.

use super::TABLE_TOP;
use crate::cli::{ActivityArgs, ReportFormat};
use anyhow::Result;
use orgwatch_activity::Report;
use orgwatch_store::activity::{ActivityCounts, Metric, StoredAnomaly};
use orgwatch_store::Store;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::process::ExitCode;

/// Prints the stored report (JSON by default, since a table needs `--report table`).
pub async fn run(store: &Store, args: &ActivityArgs) -> Result<ExitCode> {
    let retention = args.retention();
    let counts = store
        .activity_counts(args.since, args.until, &retention)
        .await?;
    let anomalies = store.anomalies(args.since, args.until, true).await?;
    let report = as_report(&counts);
    match args.report.unwrap_or(ReportFormat::Json) {
        ReportFormat::Json => println!("{}", to_json(&report, &counts, &anomalies)),
        ReportFormat::Table => {
            print!("{}", report.to_table(TABLE_TOP));
            print!("{}", anomalies_table(&anomalies));
        }
    }
    Ok(ExitCode::SUCCESS)
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
pub fn to_json(report: &Report, c: &ActivityCounts, anomalies: &[StoredAnomaly]) -> Value {
    let mut v = report.to_json();
    let by = |m: Metric| json!(c.by.get(&m).cloned().unwrap_or_default());
    v["tier"] = json!(c.tier.map(|t| t.as_str()));
    v["by_ec2_outcome"] = by(Metric::Ec2Outcome);
    v["by_console_sign_in"] = by(Metric::ConsoleSignIn);
    v["anomalies"] = anomalies
        .iter()
        .map(|a| {
            json!({
                "time": a.time.to_string(),
                "account": a.scope,
                "series": a.series,
                "score": a.score,
                "contributor": a.contributor,
            })
        })
        .collect();
    v
}

fn anomalies_table(anomalies: &[StoredAnomaly]) -> String {
    let mut out = format!("\nanomalies ({})\n", anomalies.len());
    for a in anomalies.iter().take(50) {
        let _ = writeln!(
            out,
            "  {}  {:<12}  {:<28}  {:>6.2}  {}",
            a.time, a.scope, a.series, a.score, a.contributor
        );
    }
    if anomalies.len() > 50 {
        let _ = writeln!(out, "  … {} more (use --report json)", anomalies.len() - 50);
    }
    out
}
