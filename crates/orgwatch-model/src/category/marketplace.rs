//! `marketplace`: AWS Marketplace products used in the window.

use crate::lenient::record;
use crate::time::Day;

record! {
    /// One Marketplace product's usage.
    pub struct MarketplaceUsage {
        product_code: Option<String>,
        product_name: Option<String>,
        cost_consumed: Option<f64>,
        currency: Option<String>,
        period_start: Option<Day>,
        period_end: Option<Day>,
        status: Option<String>,
    }
}
