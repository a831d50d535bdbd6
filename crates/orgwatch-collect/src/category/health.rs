//! `health`: AWS Health events that started in the window (health:DescribeEvents in
//! us-east-1, the global endpoint, once per account). The Health API needs a Business,
//! Enterprise On-Ramp or Enterprise support plan; without one it answers
//! SubscriptionRequiredException, recorded as "not enabled".

use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError};
use crate::category::security_hub::Window;
use aws_sdk_health::primitives::DateTime;
use aws_sdk_health::types::{DateTimeRange, EventFilter};
use orgwatch_model::category::health::HealthEvent;

/// Reads the events that started in `window`, following every page (the sender: the first).
pub async fn collect(
    client: &aws_sdk_health::Client,
    window: Window,
) -> Result<Collected<Vec<HealthEvent>>, CallError> {
    let instant = |t: time::OffsetDateTime| DateTime::from_secs(t.unix_timestamp());
    // The filter's `to` is inclusive: the last second before the window's end.
    let started = DateTimeRange::builder()
        .from(instant(window.start))
        .to(instant(window.end - time::Duration::SECOND))
        .build();
    let filter = EventFilter::builder().start_times(started).build();
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "health:DescribeEvents",
            client
                .describe_events()
                .filter(filter.clone())
                .set_next_token(next.take())
        )?;
        out.extend(page.events().iter().map(|e| HealthEvent {
            arn: e.arn().map(str::to_owned),
            service: e.service().map(str::to_owned),
            event_type_code: e.event_type_code().map(str::to_owned),
            event_type_category: e.event_type_category().map(|c| c.as_str().to_owned()),
            region: e.region().map(str::to_owned),
            availability_zone: e.availability_zone().map(str::to_owned),
            start_time: crate::sdk_time::opt(e.start_time()),
            end_time: crate::sdk_time::opt(e.end_time()),
            last_updated_time: crate::sdk_time::opt(e.last_updated_time()),
            status_code: e.status_code().map(|c| c.as_str().to_owned()),
            event_scope_code: e.event_scope_code().map(|c| c.as_str().to_owned()),
        }));
        next = next_token(page.next_token());
        if next.is_none() {
            break;
        }
    }
    Ok(Collected::clean(out))
}
