//! `security.security_hub`: the Security Hub findings of the window, as the A360 sender reads
//! them: GetFindings (every page, 100 a page) twice, (1) created in the window, ACTIVE, of
//! this account, severity CRITICAL to LOW, workflow NEW; (2) the same but updated in the
//! window and workflow RESOLVED, NOTIFIED or SUPPRESSED; deduplicated by id and grouped by
//! product into one summary each.
//!
//! The same conditions are applied again to what comes back, so an endpoint that ignores
//! the filters (moto does) cannot widen the window.

use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, DateFilter, StringFilter, StringFilterComparison,
};
use orgwatch_model::category::security::{SecurityHubFinding, SecurityHubSummary, SeverityCounts};
use orgwatch_model::{AccountId, Timestamp};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The window `[start, end)` findings are read for.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// First instant.
    pub start: OffsetDateTime,
    /// First instant after.
    pub end: OffsetDateTime,
}

impl Window {
    /// From `start` 00:00 UTC to `end` 00:00 UTC.
    pub fn days(start: time::Date, end: time::Date) -> Window {
        Window {
            start: start.midnight().assume_utc(),
            end: end.midnight().assume_utc(),
        }
    }

    /// True when `t` lies in the window.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.start <= t && t < self.end
    }
}

const SEVERITIES: [&str; 4] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];
const NEW: [&str; 1] = ["NEW"];
const CHANGED: [&str; 3] = ["RESOLVED", "NOTIFIED", "SUPPRESSED"];

fn equals(value: &str) -> StringFilter {
    StringFilter::builder()
        .value(value)
        .comparison(StringFilterComparison::Equals)
        .build()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Which date a query filters on.
#[derive(Clone, Copy)]
enum On {
    Created,
    Updated,
}

fn filters(
    account: AccountId,
    window: Window,
    on: On,
    workflow: &[&str],
) -> AwsSecurityFindingFilters {
    let dates = DateFilter::builder()
        .start(rfc3339(window.start))
        .end(rfc3339(window.end))
        .build();
    let mut f = AwsSecurityFindingFilters::builder()
        .record_state(equals("ACTIVE"))
        .aws_account_id(equals(account.as_str()));
    f = match on {
        On::Created => f.created_at(dates),
        On::Updated => f.updated_at(dates),
    };
    for s in SEVERITIES {
        f = f.severity_label(equals(s));
    }
    for w in workflow {
        f = f.workflow_status(equals(w));
    }
    f.build()
}

/// The finding matches the query's conditions (checked again on our side).
fn matches(
    f: &AwsSecurityFinding,
    account: AccountId,
    window: Window,
    on: On,
    workflow: &[&str],
) -> bool {
    let when = match on {
        On::Created => f.created_at(),
        On::Updated => f.updated_at(),
    };
    let in_window = when
        .and_then(|t| Timestamp::parse(t).ok())
        .is_some_and(|t| window.contains(t.get()));
    let severity = f
        .severity()
        .and_then(|s| s.label())
        .is_some_and(|l| SEVERITIES.contains(&l.as_str()));
    let state = f.record_state().is_some_and(|r| r.as_str() == "ACTIVE");
    let status = f
        .workflow()
        .and_then(|w| w.status())
        .map_or("NEW", |s| s.as_str());
    in_window
        && severity
        && state
        && workflow.contains(&status)
        && f.aws_account_id() == Some(account.as_str())
}

/// Reads the window's findings of `account`.
pub async fn collect(
    client: &aws_sdk_securityhub::Client,
    account: AccountId,
    window: Window,
) -> Result<Collected<Vec<SecurityHubSummary>>, CallError> {
    let mut seen: BTreeMap<String, AwsSecurityFinding> = BTreeMap::new();
    for (on, workflow) in [(On::Created, &NEW[..]), (On::Updated, &CHANGED[..])] {
        let mut token: Option<String> = None;
        loop {
            let page = aws_call!(
                "securityhub:GetFindings",
                client
                    .get_findings()
                    .filters(filters(account, window, on, workflow))
                    .max_results(100)
                    .set_next_token(token.take())
            )?;
            for f in page.findings() {
                if matches(f, account, window, on, workflow) {
                    if let Some(id) = f.id() {
                        seen.entry(id.to_owned()).or_insert_with(|| f.clone());
                    }
                }
            }
            token = next_token(page.next_token());
            if token.is_none() {
                break;
            }
        }
    }
    // Grouped by product, products and findings in a stable order.
    let mut by_product: BTreeMap<String, Vec<SecurityHubFinding>> = BTreeMap::new();
    for f in seen.values() {
        let product = f.product_name().unwrap_or("Security Hub").to_owned();
        by_product.entry(product).or_default().push(finding(f));
    }
    Ok(Collected::clean(
        by_product
            .into_iter()
            .map(|(product, findings)| summary(product, findings))
            .collect(),
    ))
}

fn finding(f: &AwsSecurityFinding) -> SecurityHubFinding {
    let resource = f.resources().first();
    let status = f
        .workflow()
        .and_then(|w| w.status())
        .map(|s| s.as_str().to_owned());
    SecurityHubFinding {
        finding_id: f.id().map(str::to_owned),
        // The sender labels a finding with its first resource's type.
        service: resource.and_then(|r| r.r#type()).map(str::to_owned),
        title: f.title().map(str::to_owned),
        description: f.description().map(str::to_owned),
        severity: f
            .severity()
            .and_then(|s| s.label())
            .map(|l| l.as_str().to_owned()),
        status: Some(status.clone().unwrap_or_else(|| "OPEN".to_owned())),
        resource_type: resource.and_then(|r| r.r#type()).map(str::to_owned),
        resource_id: resource.and_then(|r| r.id()).map(str::to_owned),
        created_at: f.created_at().and_then(|t| Timestamp::parse(t).ok()),
        updated_at: f.updated_at().and_then(|t| Timestamp::parse(t).ok()),
        recommendation: f
            .remediation()
            .and_then(|r| r.recommendation())
            .and_then(|r| r.text())
            .map(str::to_owned),
        compliance_status: f
            .compliance()
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_owned()),
        region: f.region().map(str::to_owned),
        workflow_state: status,
        record_state: f.record_state().map(|r| r.as_str().to_owned()),
        product_name: f.product_name().map(str::to_owned),
        company_name: f.company_name().map(str::to_owned),
        product_arn: f.product_arn().map(str::to_owned),
        generator_id: f.generator_id().map(str::to_owned),
        generator: f.product_name().map(str::to_owned),
    }
}

fn summary(product: String, findings: Vec<SecurityHubFinding>) -> SecurityHubSummary {
    let count = |label: &str| {
        findings
            .iter()
            .filter(|f| f.severity.as_deref() == Some(label))
            .count() as i64
    };
    let resolved = findings
        .iter()
        .filter(|f| matches!(f.status.as_deref(), Some("RESOLVED" | "SUPPRESSED")))
        .count() as i64;
    let total = findings.len() as i64;
    SecurityHubSummary {
        service: Some(product),
        total_findings: Some(total),
        severity_counts: Some(SeverityCounts {
            critical: Some(count("CRITICAL")),
            high: Some(count("HIGH")),
            medium: Some(count("MEDIUM")),
            low: Some(count("LOW")),
            informational: Some(count("INFORMATIONAL")),
        }),
        open_findings: Some(total - resolved),
        resolved_findings: Some(resolved),
        findings,
    }
}
