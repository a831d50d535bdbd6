//! `security.inspector`: Inspector (v2) findings first observed, last observed or updated in
//! the window: ListFindings with no filter, as the A360 sender asks, but every page (it read
//! one), kept when one of the three times falls in the window.

use super::security_hub::Window;
use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError};
use crate::sdk_time;
use aws_sdk_inspector2::types::Finding;
use orgwatch_model::category::security::InspectorFinding;

/// Reads the window's findings.
pub async fn collect(
    client: &aws_sdk_inspector2::Client,
    window: Window,
) -> Result<Collected<Vec<InspectorFinding>>, CallError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws_call!(
            "inspector2:ListFindings",
            client.list_findings().set_next_token(token.take())
        )?;
        out.extend(
            page.findings()
                .iter()
                .filter(|f| in_window(f, window))
                .map(finding),
        );
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    out.sort_by(|a, b| a.finding_arn.cmp(&b.finding_arn));
    Ok(Collected::clean(out))
}

fn in_window(f: &Finding, window: Window) -> bool {
    [
        Some(f.first_observed_at()),
        Some(f.last_observed_at()),
        f.updated_at(),
    ]
    .into_iter()
    .flatten()
    .filter_map(sdk_time::timestamp)
    .any(|t| window.contains(t.get()))
}

fn finding(f: &Finding) -> InspectorFinding {
    InspectorFinding {
        finding_arn: Some(f.finding_arn().to_owned()),
        severity: Some(f.severity().as_str().to_owned()),
        status: Some(f.status().as_str().to_owned()),
        finding_type: Some(f.r#type().as_str().to_owned()),
        title: f.title().map(str::to_owned),
        description: Some(f.description().to_owned()),
        first_observed_at: sdk_time::timestamp(f.first_observed_at()),
        last_observed_at: sdk_time::timestamp(f.last_observed_at()),
        updated_at: sdk_time::opt(f.updated_at()),
    }
}
