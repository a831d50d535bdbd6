//! `application`: the services CloudWatch Application Signals discovered in the region during
//! the window (ListServices). The sender had this collector but never called it (its files
//! hold `[]`); this one fills the receiver's `application_signals` table.

use crate::aws_call;
use crate::call::{next_token, CallError};
use crate::category::security_hub::Window;
use crate::category::Collected;
use aws_sdk_applicationsignals::primitives::DateTime;
use aws_sdk_applicationsignals::types::ServiceSummary;
use orgwatch_model::category::application::ApplicationSignal;

/// Reads the services seen in the window (every page).
pub async fn collect(
    client: &aws_sdk_applicationsignals::Client,
    window: Window,
) -> Result<Collected<Vec<ApplicationSignal>>, CallError> {
    let (start, end) = (
        DateTime::from_secs(window.start.unix_timestamp()),
        DateTime::from_secs(window.end.unix_timestamp()),
    );
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "application-signals:ListServices",
            client
                .list_services()
                .start_time(start)
                .end_time(end)
                .set_next_token(next.take())
        )?;
        out.extend(page.service_summaries().iter().map(service));
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(Collected::clean(out));
        }
    }
}

/// A service: its name and environment from its key attributes, which are kept whole
/// (`Type`, `Name`, `Environment`, and `ResourceType`/`Identifier` for AWS resources).
fn service(s: &ServiceSummary) -> ApplicationSignal {
    let keys = s.key_attributes();
    ApplicationSignal {
        service_name: keys.get("Name").cloned(),
        namespace: keys.get("Environment").cloned(),
        key_attributes: serde_json::to_value(keys).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_is_named_by_its_key_attributes() {
        let s = ServiceSummary::builder()
            .key_attributes("Type", "Service")
            .key_attributes("Name", "hello-world-python")
            .key_attributes("Environment", "lambda:default")
            .set_metric_references(Some(Vec::new()))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let got = service(&s);
        assert_eq!(got.service_name.as_deref(), Some("hello-world-python"));
        assert_eq!(got.namespace.as_deref(), Some("lambda:default"));
        assert_eq!(got.key_attributes["Type"], "Service");
    }
}
