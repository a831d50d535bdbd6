//! One module per category (or `security` part) this version collects; each returns the
//! model's typed items and the sub-calls that failed without sinking the whole part.

pub mod account;
pub mod application;
pub mod certificate_manager;
pub mod cloudtrail;
pub mod compute_optimizer;
pub mod config;
pub mod config_inventory;
pub mod cost;
pub mod guard_duty;
pub mod health;
pub mod inspector;
pub mod inventory;
pub mod kms;
pub mod period;
pub mod resilience_hub;
pub mod ri_sp_savings;
pub mod secrets_manager;
pub mod security_hub;
pub mod service_resources;
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

/// Listings that stand alone (one per service or resource type) as one category: every item
/// read, and the listings that failed as its problems; an error only when every listing
/// failed, so that nothing read at all is never written as an empty list.
pub fn combine<T>(
    listings: Vec<Result<Vec<T>, CallError>>,
) -> Result<Collected<Vec<T>>, CallError> {
    combine_read(
        listings
            .into_iter()
            .map(|l| l.map(Collected::clean))
            .collect(),
    )
}

/// [`combine`] for listings that have problems of their own (kept with the items).
pub fn combine_read<T>(
    reads: Vec<Result<Collected<Vec<T>>, CallError>>,
) -> Result<Collected<Vec<T>>, CallError> {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut failed = Vec::new();
    let mut any_read = false;
    for read in reads {
        match read {
            Ok(c) => {
                any_read = true;
                items.extend(c.items);
                problems.extend(c.problems);
            }
            Err(e) => failed.push(e),
        }
    }
    match (any_read, failed.first()) {
        (false, Some(first)) => Err(first.clone()),
        _ => {
            failed.append(&mut problems);
            Ok(Collected {
                items,
                problems: failed,
            })
        }
    }
}
