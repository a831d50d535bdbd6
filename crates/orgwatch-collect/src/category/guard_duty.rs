//! `security.guard_duty`: the findings of the region's GuardDuty detectors updated in the
//! window: ListDetectors, ListFindings (`updatedAt` in the window, every page), GetFindings
//! (50 ids a call, the API's limit). The A360 sender read one page and the first 50 findings
//! only; this reads them all.
//!
//! A region without a detector has GuardDuty off: the part is `not enabled` (not an empty
//! list, which would read as "no finding").

use super::security_hub::Window;
use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError, Failure};
use aws_sdk_guardduty::types::{Condition, Finding, FindingCriteria};
use orgwatch_model::category::security::GuardDutyFinding;
use orgwatch_model::Timestamp;

/// GetFindings takes at most this many ids.
const IDS_PER_CALL: usize = 50;

/// Reads the window's findings of every detector of the region.
pub async fn collect(
    client: &aws_sdk_guardduty::Client,
    window: Window,
) -> Result<Collected<Vec<GuardDutyFinding>>, CallError> {
    let mut detectors = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws_call!(
            "guardduty:ListDetectors",
            client.list_detectors().set_next_token(token.take())
        )?;
        detectors.extend(page.detector_ids().iter().cloned());
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    if detectors.is_empty() {
        return Err(CallError {
            action: "guardduty:ListDetectors",
            failure: Failure::NotEnabled,
            code: None,
            message: "GuardDuty has no detector in this region".to_owned(),
        });
    }
    let millis = |t: time::OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
    let criteria = FindingCriteria::builder()
        .criterion(
            "updatedAt",
            Condition::builder()
                .greater_than_or_equal(millis(window.start))
                .less_than(millis(window.end))
                .build(),
        )
        .build();
    let mut out = Vec::new();
    for detector in detectors {
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = aws_call!(
                "guardduty:ListFindings",
                client
                    .list_findings()
                    .detector_id(&detector)
                    .finding_criteria(criteria.clone())
                    .set_next_token(token.take())
            )?;
            ids.extend(page.finding_ids().iter().cloned());
            token = next_token(page.next_token());
            if token.is_none() {
                break;
            }
        }
        for chunk in ids.chunks(IDS_PER_CALL) {
            let got = aws_call!(
                "guardduty:GetFindings",
                client
                    .get_findings()
                    .detector_id(&detector)
                    .set_finding_ids(Some(chunk.to_vec()))
            )?;
            out.extend(got.findings().iter().map(finding));
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Collected::clean(out))
}

fn finding(f: &Finding) -> GuardDutyFinding {
    GuardDutyFinding {
        id: f.id().map(str::to_owned),
        finding_type: f.r#type().map(str::to_owned),
        severity: f.severity(),
        title: f.title().map(str::to_owned),
        description: f.description().map(str::to_owned),
        created_at: f.created_at().and_then(|t| Timestamp::parse(t).ok()),
        updated_at: f.updated_at().and_then(|t| Timestamp::parse(t).ok()),
        confidence: f.confidence(),
        region: f.region().map(str::to_owned),
    }
}
