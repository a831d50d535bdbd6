//! The `marketplace` rows: the account's Marketplace subscription, if any.

use super::Ctx;
use crate::demo::generate::format::money;
use orgwatch_model::category::marketplace::MarketplaceUsage;
use orgwatch_model::Day;
use rand::Rng;

impl Ctx<'_> {
    pub(super) fn marketplace(&self) -> Vec<MarketplaceUsage> {
        let Some(m) = &self.w.global.marketplace else {
            return Vec::new();
        };
        let cost: f64 = self
            .data_days()
            .map(|d| {
                m.daily
                    * self
                        .rng("marketplace", false, Some(d))
                        .random_range(0.9..1.1)
            })
            .sum();
        if cost <= 0.0 {
            return Vec::new();
        }
        vec![MarketplaceUsage {
            product_code: Some(m.code.clone()),
            product_name: Some(m.name.to_owned()),
            cost_consumed: Some(money(cost)),
            currency: Some("USD".to_owned()),
            period_start: Some(Day(self.label_from)),
            period_end: Some(Day(self.label_to)),
            status: Some("Active".to_owned()),
        }]
    }
}
