//! `resilience_hub`: the region's Resilience Hub applications created or assessed in the
//! window, with the recovery objectives (RPO, RTO) of their policy for an Availability Zone
//! disruption, as the sender reads them.

use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError};
use crate::category::security_hub::Window;
use aws_sdk_resiliencehub::types::{AppSummary, DisruptionType};
use orgwatch_model::category::resilience_hub::ResilienceHubApp;

/// Reads the applications (every page) and, for each kept, its policy's AZ objectives.
///
/// Not asked, unlike the sender: ListTestRecommendations and
/// DescribeAppVersionResourcesResolutionStatus, whose answers have no drill time and no cost
/// (the sender's `last_drill` and `cost` come out null); here they are null without the calls.
pub async fn collect(
    client: &aws_sdk_resiliencehub::Client,
    window: Window,
) -> Result<Collected<Vec<ResilienceHubApp>>, CallError> {
    let mut apps = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "resiliencehub:ListApps",
            client.list_apps().set_next_token(next.take())
        )?;
        apps.extend(
            page.app_summaries()
                .iter()
                .filter(|a| in_window(a, window))
                .cloned(),
        );
        next = next_token(page.next_token());
        if next.is_none() {
            break;
        }
    }
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(apps.len());
    for app in apps {
        let (rpo, rto) = match objectives(client, app.app_arn()).await {
            Ok(Some(o)) => o,
            // No policy: the summary's own objectives, when it has them.
            Ok(None) => (
                app.rpo_in_secs().map(i64::from),
                app.rto_in_secs().map(i64::from),
            ),
            Err(e) => {
                problems.push(e);
                (None, None)
            }
        };
        out.push(ResilienceHubApp {
            app_arn: Some(app.app_arn().to_owned()),
            name: Some(app.name().to_owned()),
            description: app.description().map(str::to_owned),
            creation_time: crate::sdk_time::timestamp(app.creation_time()),
            last_assessment_time: crate::sdk_time::opt(app.last_app_compliance_evaluation_time()),
            compliance_status: app.compliance_status().map(|c| c.as_str().to_owned()),
            resiliency_score: Some(app.resiliency_score()),
            status: app.status().map(|s| s.as_str().to_owned()),
            rpo,
            rto,
            last_drill: None,
            cost: None,
        });
    }
    Ok(Collected {
        items: out,
        problems,
    })
}

/// Created or last assessed in the window.
fn in_window(app: &AppSummary, window: Window) -> bool {
    let at = |t: &aws_sdk_resiliencehub::primitives::DateTime| {
        crate::sdk_time::timestamp(t).is_some_and(|t| window.contains(t.get()))
    };
    at(app.creation_time()) || app.last_app_compliance_evaluation_time().is_some_and(at)
}

/// The AZ RPO and RTO (seconds) of the app's resiliency policy; `None` without a policy.
async fn objectives(
    client: &aws_sdk_resiliencehub::Client,
    app_arn: &str,
) -> Result<Option<(Option<i64>, Option<i64>)>, CallError> {
    let described = aws_call!(
        "resiliencehub:DescribeApp",
        client.describe_app().app_arn(app_arn)
    )?;
    let Some(policy_arn) = described.app().and_then(|a| a.policy_arn()) else {
        return Ok(None);
    };
    let policy = aws_call!(
        "resiliencehub:DescribeResiliencyPolicy",
        client.describe_resiliency_policy().policy_arn(policy_arn)
    )?;
    let az = policy
        .policy()
        .and_then(|p| p.policy())
        .and_then(|m| m.get(&DisruptionType::Az));
    Ok(Some((
        az.map(|f| i64::from(f.rpo_in_secs())),
        az.map(|f| i64::from(f.rto_in_secs())),
    )))
}
