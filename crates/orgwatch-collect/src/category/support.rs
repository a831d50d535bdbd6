//! `trusted_advisor` and `support_tickets`: the AWS Support API (us-east-1, once per
//! account). Both need a Business, Enterprise On-Ramp or Enterprise support plan; without
//! one every call answers SubscriptionRequiredException, recorded as "not enabled".

use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError};
use crate::category::security_hub::Window;
use orgwatch_model::category::support_tickets::SupportTicket;
use orgwatch_model::category::trusted_advisor::TrustedAdvisorCheck;
use orgwatch_model::time::{Day, Timestamp};

/// The language of check names and descriptions (the sender's).
const LANGUAGE: &str = "en";

/// The check results kept: flagged ones.
const FLAGGED: [&str; 2] = ["warning", "error"];

/// Reads every Trusted Advisor check and its latest result; keeps the checks in warning or
/// error with flagged resources, refreshed in `window` or never (as the sender does).
///
/// Results are read one check after another, and the first failure fails the category: a
/// list without the checks not read would claim they are clean.
pub async fn trusted_advisor(
    client: &aws_sdk_support::Client,
    window: Window,
) -> Result<Collected<Vec<TrustedAdvisorCheck>>, CallError> {
    let checks = aws_call!(
        "support:DescribeTrustedAdvisorChecks",
        client.describe_trusted_advisor_checks().language(LANGUAGE)
    )?;
    let mut out = Vec::new();
    for check in checks.checks() {
        let answer = aws_call!(
            "support:DescribeTrustedAdvisorCheckResult",
            client
                .describe_trusted_advisor_check_result()
                .check_id(check.id())
                .language(LANGUAGE)
        )?;
        let Some(result) = answer.result() else {
            continue;
        };
        let flagged = result.flagged_resources().len();
        if !FLAGGED.contains(&result.status()) || flagged == 0 {
            continue;
        }
        let timestamp = Timestamp::parse(result.timestamp()).ok();
        if timestamp.is_some_and(|t| !window.contains(t.get())) {
            continue;
        }
        let affected = result
            .resources_summary()
            .map_or(flagged as i64, |s| s.resources_flagged());
        out.push(TrustedAdvisorCheck {
            check_name: Some(check.name().to_owned()),
            category: Some(check.category().to_owned()),
            severity: Some(result.status().to_owned()),
            recommendation: Some(check.description().to_owned()),
            affected_resources_count: Some(affected),
            potential_savings: result
                .category_specific_summary()
                .and_then(|s| s.cost_optimizing())
                .map(|c| c.estimated_monthly_savings()),
            timestamp,
        });
    }
    Ok(Collected::clean(out))
}

/// Reads the support cases opened in `window` (unresolved ones, as the sender asks for),
/// following every page.
pub async fn tickets(
    client: &aws_sdk_support::Client,
    window: Window,
) -> Result<Collected<Vec<SupportTicket>>, CallError> {
    let (date_from, date_to) = (Day(window.start.date()), Day(window.end.date()));
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "support:DescribeCases",
            client
                .describe_cases()
                .language(LANGUAGE)
                .set_next_token(next.take())
        )?;
        for case in page.cases() {
            let created = case.time_created().and_then(|t| Timestamp::parse(t).ok());
            if !created.is_some_and(|t| window.contains(t.get())) {
                continue;
            }
            out.push(SupportTicket {
                case_id: case.case_id().map(str::to_owned),
                display_id: case.display_id().map(str::to_owned),
                subject: case.subject().map(str::to_owned),
                status: case.status().map(str::to_owned),
                severity_code: case.severity_code().map(str::to_owned),
                service_code: case.service_code().map(str::to_owned),
                category_code: case.category_code().map(str::to_owned),
                time_created: created,
                submitted_by: case.submitted_by().map(str::to_owned),
                language: case.language().map(str::to_owned),
                date_from: Some(date_from),
                date_to: Some(date_to),
            });
        }
        next = next_token(page.next_token());
        if next.is_none() {
            break;
        }
    }
    Ok(Collected::clean(out))
}
