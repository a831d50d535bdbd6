//! `resilience_hub`: Resilience Hub applications created or assessed in the window.

use crate::lenient::record;
use crate::time::Timestamp;

record! {
    /// One Resilience Hub application.
    pub struct ResilienceHubApp {
        app_arn: Option<String>,
        name: Option<String>,
        description: Option<String>,
        creation_time: Option<Timestamp>,
        last_assessment_time: Option<Timestamp>,
        compliance_status: Option<String>,
        resiliency_score: Option<f64>,
        status: Option<String>,
        rpo: Option<i64>,
        rto: Option<i64>,
        last_drill: Option<Timestamp>,
        cost: Option<f64>,
    }
}
