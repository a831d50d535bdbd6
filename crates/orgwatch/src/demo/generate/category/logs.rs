//! The collection log: collector failures injected into an account-day, what they leave empty,
//! and the messages they write.

use super::Ctx;
use crate::demo::generate::tables::FAILURES;
use orgwatch_model::{Category, Snapshot};
use rand::seq::SliceRandom;
use rand::Rng;

/// A collector failure injected into one account-day.
pub(super) struct Failure {
    pub(super) category: Category,
    pub(super) key: &'static str,
    pub(super) text: String,
}

impl Ctx<'_> {
    pub(super) fn failures(&self) -> Vec<Failure> {
        if !self.daily() {
            return Vec::new();
        }
        let mut rng = self.rng("failures", false, Some(self.run_date));
        if !rng.random_bool(0.03) {
            return Vec::new();
        }
        let n = if rng.random_bool(0.3) { 2 } else { 1 };
        let mut picks: Vec<&(Category, &str, &str)> = FAILURES.iter().collect();
        picks.shuffle(&mut rng);
        picks
            .into_iter()
            .take(n)
            .map(|(category, key, text)| Failure {
                category: *category,
                key,
                text: text
                    .replace("{account}", &self.account_id())
                    .replace("{region}", self.w.region.as_str()),
            })
            .collect()
    }
}

/// Empties what a failed collector leaves empty: `[]` for object categories, an empty list
/// for list categories, one list of `security` for a sub-step (the A360 sender writes `[]`
/// for a failed part, where `orgwatch collect` leaves it out).
pub(super) fn apply_failure(s: &mut Snapshot, key: &str, category: Category) {
    if let Some(sec) = s.security.as_mut() {
        match key {
            "guard_duty" => return sec.guard_duty = Some(Vec::new()),
            "inspector" => return sec.inspector = Some(Vec::new()),
            "kms" => return sec.kms = Some(Vec::new()),
            "security_hub" => return sec.security_hub = Some(Vec::new()),
            "waf" => {
                sec.waf = Some(Vec::new());
                return sec.waf_rules = Some(Vec::new());
            }
            _ => {}
        }
    }
    match category {
        Category::Config => s.config = None,
        Category::Cost => s.cost = None,
        Category::Security => s.security = None,
        Category::Inventory => s.inventory = None,
        Category::Service => s.service = Some(Vec::new()),
        Category::TrustedAdvisor => s.trusted_advisor = Some(Vec::new()),
        Category::Health => s.health = Some(Vec::new()),
        Category::ComputeOptimizer => s.compute_optimizer = Some(Vec::new()),
        Category::ServiceResources => s.service_resources = Some(Vec::new()),
        Category::ResilienceHub => s.resilience_hub = Some(Vec::new()),
        Category::RiSpSavings => s.ri_sp_savings = Some(Vec::new()),
        Category::SupportTickets => s.support_tickets = Some(Vec::new()),
        Category::Marketplace => s.marketplace = Some(Vec::new()),
        Category::Application => s.application = Some(Vec::new()),
        Category::ConfigInventory => s.config_inventory = Some(Vec::new()),
        Category::Account => {}
    }
}
