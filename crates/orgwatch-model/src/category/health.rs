//! `health`: AWS Health events that started in the window.

use crate::lenient::record;
use crate::time::Timestamp;

record! {
    /// One AWS Health event (global: identical in every region's file).
    pub struct HealthEvent {
        arn: Option<String>,
        service: Option<String>,
        event_type_code: Option<String>,
        event_type_category: Option<String>,
        region: Option<String>,
        availability_zone: Option<String>,
        start_time: Option<Timestamp>,
        end_time: Option<Timestamp>,
        last_updated_time: Option<Timestamp>,
        status_code: Option<String>,
        event_scope_code: Option<String>,
    }
}
