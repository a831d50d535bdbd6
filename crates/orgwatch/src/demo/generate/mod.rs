//! The synthetic organisation behind `orgwatch demo`: its accounts, and the DAILY and MONTHLY
//! A360 documents their senders would have written.
//!
//! Every file is a pure function of the options and of its location. Each part of a document
//! draws from its own ChaCha8 stream keyed by (seed, account, region, day, purpose), so files
//! can be generated alone or in any order and still come out byte-identical. Things that span
//! days (a finding that opens and later resolves, a patch gap, a config rule drifting) are
//! re-derived from the day they started rather than carried over from the previous file.
//!
//! Global categories (cost, service, S3 buckets, Savings Plans, Trusted Advisor, Health,
//! support cases, Marketplace) draw from streams that do not involve the region, so every
//! region's file of an account and day carries the same rows, as the real sender's do.
//!
//! Layout: `org` holds the accounts and their runs; `world` the resources of one
//! account-region, drawn by `resources` from the data in `tables`; `category` turns a world
//! into one file's document, one module per A360 category; `random`, `calendar` and
//! `format` are the draws, dates and number formats they share.

mod calendar;
mod category;
mod format;
mod org;
mod random;
mod resources;
mod tables;
#[cfg(test)]
mod tests;
mod world;

use org::{profiles, Org};
use orgwatch_model::{AccountId, Region, Snapshot, SnapshotLocation};
use std::sync::Arc;
use time::Date;
use world::World;

/// Options of the synthetic organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// How many accounts the organisation has.
    pub accounts: usize,
    /// How many daily runs each account and region makes, ending at `end_date`.
    pub days: u32,
    /// Seed of every random choice.
    pub seed: u64,
    /// The last run date (a DAILY file dated D holds the data of D-1).
    pub end_date: Date,
    /// Regions the senders run in: one file per region.
    pub regions: Vec<Region>,
}

/// One generated file: where it goes under data/ and its document.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFile {
    /// The file's path under `data/`, as a location.
    pub location: SnapshotLocation,
    /// The document.
    pub snapshot: Snapshot,
}

/// One account of the synthetic organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// The 12-digit account id.
    pub id: AccountId,
    /// Account name, e.g. `payments-prod`.
    pub name: String,
    /// Organisational unit path, e.g. `Workloads/Prod`.
    pub ou: String,
    /// Environment label: PRODUCTION, STAGING, DEVELOPMENT, TEST or UAT.
    pub environment: String,
    /// Products, as the sender's comma list.
    pub product: String,
}

/// The organisation's accounts (id, name, OU, environment), derived from the options.
pub fn accounts(opts: &DemoOptions) -> Vec<DemoAccount> {
    profiles(opts).into_iter().map(|p| p.account).collect()
}

/// One account with the services it spends on (the cost data's names) and each one's share
/// of its spend, largest first: what the activity replay calls, so that both views agree.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceMix {
    /// The account.
    pub account: DemoAccount,
    /// Cost Explorer service names and their shares (summing to 1), largest first.
    pub services: Vec<(&'static str, f64)>,
}

/// Every account's [`ServiceMix`], in account order.
pub fn service_mixes(opts: &DemoOptions) -> Vec<ServiceMix> {
    profiles(opts)
        .into_iter()
        .map(|p| ServiceMix {
            account: p.account,
            services: p.services,
        })
        .collect()
}

/// All files, in a deterministic order, built lazily one at a time.
///
/// The order is: per account, per region, its DAILY files by run date, then its MONTHLY ones.
/// Any file's content depends only on the options and its location, not on this order.
pub fn files(opts: &DemoOptions) -> impl Iterator<Item = DemoFile> {
    let org = Arc::new(Org::new(opts));
    let pairs: Vec<(usize, usize)> = (0..org.profiles.len())
        .flat_map(|a| (0..org.opts.regions.len()).map(move |r| (a, r)))
        .collect();
    pairs.into_iter().flat_map(move |(account, region)| {
        let org = Arc::clone(&org);
        // The static part of an account-region is built once and shared by its files.
        let world = World::new(&org, account, region);
        let runs = org.runs();
        runs.into_iter()
            .map(move |(run_date, granularity)| org.file(account, &world, run_date, granularity))
    })
}

/// How many files [`files`] yields, without generating them (for progress bars).
pub fn file_count(opts: &DemoOptions) -> u64 {
    let org = Org::new(opts);
    (org.runs().len() * org.profiles.len() * opts.regions.len()) as u64
}
