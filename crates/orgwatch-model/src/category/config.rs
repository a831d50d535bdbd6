//! `config`: AWS Config rule compliance for the window, and the non-compliant resources.

use crate::lenient::record;
use crate::time::{Day, Timestamp};

record! {
    /// The `config` object (the sender writes `[]` when collection failed).
    pub struct ConfigReport {
        date_from: Option<Day>,
        date_to: Option<Day>,
        compliance_score: Option<f64>,
        total_rules: Option<i64>,
        compliant_rules: Option<i64>,
        non_compliant_rules: Option<i64>,
        curr_non_compliant: Option<i64>,
        curr_compliant: Option<i64>,
        non_compliant_resources: Vec<NonCompliantResource>,
    }
}

record! {
    /// One rule evaluation of a resource (COMPLIANT or NON_COMPLIANT despite the name).
    pub struct NonCompliantResource {
        rule_name: Option<String>,
        resource_id: Option<String>,
        resource_type: Option<String>,
        config_rule_invoked_time: Option<Timestamp>,
        conformance_pack: Option<String>,
        compliance_type: Option<String>,
        annotation: Option<String>,
        evaluation_mode: Option<String>,
    }
}
