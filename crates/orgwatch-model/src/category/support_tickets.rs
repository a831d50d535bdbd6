//! `support_tickets`: AWS Support cases opened in the window.

use crate::lenient::record;
use crate::time::{Day, Timestamp};

record! {
    /// One support case (global: identical in every region's file).
    pub struct SupportTicket {
        case_id: Option<String>,
        display_id: Option<String>,
        subject: Option<String>,
        status: Option<String>,
        severity_code: Option<String>,
        service_code: Option<String>,
        category_code: Option<String>,
        time_created: Option<Timestamp>,
        submitted_by: Option<String>,
        language: Option<String>,
        date_from: Option<Day>,
        date_to: Option<Day>,
    }
}
