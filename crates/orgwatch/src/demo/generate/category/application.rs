//! The `application` rows: Application Signals services of a production workload.

use super::Ctx;
use crate::demo::generate::org::Kind;
use orgwatch_model::category::application::ApplicationSignal;
use serde_json::json;

impl Ctx<'_> {
    pub(super) fn application_signals(&self) -> Vec<ApplicationSignal> {
        if !(self.p.prod && self.p.kind == Kind::Workload && self.w.region_index == 0) {
            return Vec::new();
        }
        let name = &self.p.account.name;
        ["api", "worker"]
            .iter()
            .map(|s| {
                let service = format!("{name}-{s}");
                let environment = format!("eks:{name}/default");
                ApplicationSignal {
                    key_attributes: json!({
                        "Type": "Service",
                        "Name": service,
                        "Environment": environment,
                    }),
                    service_name: Some(service),
                    namespace: Some("default".to_owned()),
                }
            })
            .collect()
    }
}
