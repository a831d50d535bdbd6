//! The `trusted_advisor` rows: a fixed set of flagged checks per account.

use super::Ctx;
use crate::demo::generate::calendar::between;
use crate::demo::generate::format::money;
use crate::demo::generate::tables::TA_CHECKS;
use orgwatch_model::category::trusted_advisor::TrustedAdvisorCheck;
use rand::seq::SliceRandom;
use rand::Rng;

impl Ctx<'_> {
    pub(super) fn trusted_advisor(&self) -> Vec<TrustedAdvisorCheck> {
        if !self.p.trusted_advisor {
            return Vec::new();
        }
        let mut fixed = self.rng("trusted-advisor", false, None);
        let mut rng = self.rng("trusted-advisor", false, Some(self.asof));
        let mut checks: Vec<&(&str, &str, &str, &str, f64)> = TA_CHECKS.iter().collect();
        checks.shuffle(&mut fixed);
        let n = fixed.random_range(3..=7);
        checks
            .into_iter()
            .take(n)
            .map(|(name, category, severity, recommendation, savings)| {
                let affected = fixed.random_range(1..12) + rng.random_range(0..3);
                TrustedAdvisorCheck {
                    check_name: Some((*name).to_owned()),
                    category: Some((*category).to_owned()),
                    severity: Some((*severity).to_owned()),
                    recommendation: Some((*recommendation).to_owned()),
                    affected_resources_count: Some(affected),
                    potential_savings: (*savings > 0.0)
                        .then(|| money(savings * affected as f64 * rng.random_range(0.8..1.2))),
                    timestamp: Some(between(&mut rng, self.asof, 3, 23)),
                }
            })
            .collect()
    }
}
