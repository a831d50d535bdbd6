//! `cost`: the account's total for the window, the previous window, top services and forecast.

use crate::lenient::record;
use crate::time::Day;

record! {
    /// The `cost` object (global: identical in every region's file).
    pub struct CostReport {
        account_id: Option<String>,
        current_period_cost: Option<f64>,
        previous_period_cost: Option<f64>,
        cost_difference: Option<f64>,
        cost_difference_percentage: Option<f64>,
        top_services: Vec<TopService>,
        period: Option<CostPeriod>,
        forecast: Vec<CostForecast>,
    }
}

record! {
    /// One of the top five services of the window.
    pub struct TopService {
        service: Option<String>,
        cost: Option<f64>,
    }
}

record! {
    /// The window the cost covers (CE end is exclusive).
    pub struct CostPeriod {
        start: Option<Day>,
        end: Option<Day>,
        granularity: Option<String>,
    }
}

record! {
    /// One forecast bucket.
    pub struct CostForecast {
        period: Option<ForecastPeriod>,
        amount: Option<f64>,
    }
}

record! {
    /// The window of one forecast bucket.
    pub struct ForecastPeriod {
        start: Option<Day>,
        end: Option<Day>,
    }
}
