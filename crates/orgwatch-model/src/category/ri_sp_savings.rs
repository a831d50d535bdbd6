//! `ri_sp_savings`: daily utilisation and savings of Reserved Instances and Savings Plans.

use crate::lenient::record;
use crate::time::{Day, Timestamp};

record! {
    /// One day of one reservation (Savings Plans are global, Reserved Instances regional).
    pub struct RiSpSaving {
        reservation_type: Option<String>,
        subscription_id: Option<String>,
        date_from: Option<Day>,
        date_to: Option<Day>,
        date: Option<Day>,
        utilization_percentage: Option<f64>,
        on_demand_cost: Option<f64>,
        reservation_cost: Option<f64>,
        net_savings: Option<f64>,
        service: Option<String>,
        offering_id: Option<String>,
        savings_plan_arn: Option<String>,
        instance_type: Option<String>,
        instance_family: Option<String>,
        instance_count: Option<i64>,
        instance_tenancy: Option<String>,
        offering_class: Option<String>,
        offering_type: Option<String>,
        product_types: Option<String>,
        region: Option<String>,
        currency: Option<String>,
        commitment: Option<f64>,
        upfront_cost: Option<f64>,
        recurring_cost: Option<f64>,
        recurring_frequency: Option<String>,
        usage_price: Option<f64>,
        start_date: Option<Timestamp>,
        end_date: Option<Timestamp>,
        returnable_until: Option<Timestamp>,
        duration_seconds: Option<i64>,
        state: Option<String>,
        description: Option<String>,
    }
}

impl RiSpSaving {
    /// Savings Plans are bought account-wide, so every region's file carries the same ones.
    pub fn is_global(&self) -> bool {
        self.reservation_type.as_deref() == Some("Savings Plan")
    }
}
