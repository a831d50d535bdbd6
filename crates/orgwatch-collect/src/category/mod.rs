//! One module per category (or `security` part) this version collects; each returns the
//! model's typed items and the sub-calls that failed without sinking the whole part.

pub mod account;
pub mod certificate_manager;
pub mod cloudtrail;
pub mod config;
pub mod cost;
pub mod guard_duty;
pub mod health;
pub mod inspector;
pub mod kms;
pub mod period;
pub mod resilience_hub;
pub mod secrets_manager;
pub mod security_hub;
pub mod support;
pub mod waf;

use crate::call::CallError;

/// What a collector brought: its items, and the per-item calls that failed (the items are
/// then kept with the fields those calls would have filled left empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Collected<T> {
    /// The items.
    pub items: T,
    /// Calls that failed for some items only.
    pub problems: Vec<CallError>,
}

impl<T> Collected<T> {
    /// Items with no problem.
    pub fn clean(items: T) -> Self {
        Collected {
            items,
            problems: Vec::new(),
        }
    }
}
