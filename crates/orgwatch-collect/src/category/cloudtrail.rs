//! `security.cloudtrail`: the trails of the region (DescribeTrails, shadow trails included as
//! the A360 sender does) and each one's GetTrailStatus. The sender's LookupEvents call is
//! not made: its parameters were invalid, so its count was always 0; ours is unknown (`null`).

use super::Collected;
use crate::aws_call;
use crate::call::CallError;
use orgwatch_model::category::security::Trail;

/// Reads the region's trails.
pub async fn collect(
    client: &aws_sdk_cloudtrail::Client,
) -> Result<Collected<Vec<Trail>>, CallError> {
    // DescribeTrails is not paginated: one answer holds every trail.
    let trails = aws_call!(
        "cloudtrail:DescribeTrails",
        client.describe_trails().include_shadow_trails(true)
    )?;
    let mut out = Collected::clean(Vec::new());
    for t in trails.trail_list() {
        let Some(name) = t.trail_arn().or(t.name()) else {
            continue;
        };
        let status = match aws_call!(
            "cloudtrail:GetTrailStatus",
            client.get_trail_status().name(name)
        ) {
            Ok(s) => Some(s),
            Err(e) => {
                out.problems.push(e);
                None
            }
        };
        let status = status.as_ref();
        out.items.push(Trail {
            name: t.name().map(str::to_owned),
            arn: t.trail_arn().map(str::to_owned),
            is_logging: status.and_then(|s| s.is_logging()),
            is_multi_region: t.is_multi_region_trail(),
            include_global_events: t.include_global_service_events(),
            s3_bucket: t.s3_bucket_name().map(str::to_owned),
            kms_key_id: t.kms_key_id().map(str::to_owned),
            log_file_validation: t.log_file_validation_enabled(),
            recent_events_count: None,
            latest_delivery_time: crate::sdk_time::opt(
                status.and_then(|s| s.latest_delivery_time()),
            ),
            start_logging_time: crate::sdk_time::opt(status.and_then(|s| s.start_logging_time())),
            stop_logging_time: crate::sdk_time::opt(status.and_then(|s| s.stop_logging_time())),
        });
    }
    Ok(out)
}
