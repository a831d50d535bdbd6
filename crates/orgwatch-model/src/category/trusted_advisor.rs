//! `trusted_advisor`: checks in warning or error state with flagged resources.

use crate::lenient::record;
use crate::time::Timestamp;

record! {
    /// One flagged Trusted Advisor check (global: identical in every region's file).
    pub struct TrustedAdvisorCheck {
        check_name: Option<String>,
        category: Option<String>,
        severity: Option<String>,
        recommendation: Option<String>,
        affected_resources_count: Option<i64>,
        potential_savings: Option<f64>,
        timestamp: Option<Timestamp>,
    }
}
