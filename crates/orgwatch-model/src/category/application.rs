//! `application`: CloudWatch Application Signals services.

use crate::lenient::record;

record! {
    /// One Application Signals service.
    pub struct ApplicationSignal {
        service_name: Option<String>,
        namespace: Option<String>,
        key_attributes: serde_json::Value,
    }
}
