//! `service`: cost per AWS service for the window.

use crate::lenient::record;
use crate::time::Day;

record! {
    /// One row of `service` (global: identical in every region's file).
    pub struct ServiceCost {
        service: Option<String>,
        usage_types: Option<String>,
        date_from: Option<Day>,
        date_to: Option<Day>,
        cost: Option<f64>,
        currency: Option<String>,
        utilization: Option<f64>,
        utilization_unit: Option<String>,
    }
}
