//! One module per top-level key of the A360 document.

pub mod account;
pub mod application;
pub mod compute_optimizer;
pub mod config;
pub mod config_inventory;
pub mod cost;
pub mod health;
pub mod inventory;
pub mod logs;
pub mod marketplace;
pub mod organization;
pub mod resilience_hub;
pub mod ri_sp_savings;
pub mod security;
pub mod service;
pub mod service_resources;
pub mod support_tickets;
pub mod trusted_advisor;

use std::fmt;
use std::str::FromStr;

/// The sixteen collection categories that `logs` reports a status for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// `account`
    Account,
    /// `config`
    Config,
    /// `service`
    Service,
    /// `cost`
    Cost,
    /// `security`
    Security,
    /// `inventory`
    Inventory,
    /// `marketplace`
    Marketplace,
    /// `trusted_advisor`
    TrustedAdvisor,
    /// `health`
    Health,
    /// `application`
    Application,
    /// `resilience_hub`
    ResilienceHub,
    /// `compute_optimizer`
    ComputeOptimizer,
    /// `ri_sp_savings`
    RiSpSavings,
    /// `service_resources`
    ServiceResources,
    /// `config_inventory`
    ConfigInventory,
    /// `support_tickets`
    SupportTickets,
}

impl Category {
    /// Every category, in the document's order.
    pub const ALL: [Category; 16] = [
        Category::Account,
        Category::Config,
        Category::Service,
        Category::Cost,
        Category::Security,
        Category::Inventory,
        Category::Marketplace,
        Category::TrustedAdvisor,
        Category::Health,
        Category::Application,
        Category::ResilienceHub,
        Category::ComputeOptimizer,
        Category::RiSpSavings,
        Category::ServiceResources,
        Category::ConfigInventory,
        Category::SupportTickets,
    ];

    /// The document key (and the prefix of its `logs` status key).
    pub fn key(self) -> &'static str {
        match self {
            Category::Account => "account",
            Category::Config => "config",
            Category::Service => "service",
            Category::Cost => "cost",
            Category::Security => "security",
            Category::Inventory => "inventory",
            Category::Marketplace => "marketplace",
            Category::TrustedAdvisor => "trusted_advisor",
            Category::Health => "health",
            Category::Application => "application",
            Category::ResilienceHub => "resilience_hub",
            Category::ComputeOptimizer => "compute_optimizer",
            Category::RiSpSavings => "ri_sp_savings",
            Category::ServiceResources => "service_resources",
            Category::ConfigInventory => "config_inventory",
            Category::SupportTickets => "support_tickets",
        }
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.key() == s)
            .ok_or_else(|| format!("{s:?} is not a collection category"))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
