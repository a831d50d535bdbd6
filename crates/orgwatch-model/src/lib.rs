//! orgwatch domain types, with no I/O.
//!
//! - [`AccountId`], [`Region`], [`Granularity`]: identifiers parsed once at the edge.
//! - [`Snapshot`]: the A360 sender's JSON document, one struct per category under
//!   [`category`], read leniently ([`Snapshot::from_json`]) and written back as the sender does.
//! - [`ActivityEvent`], [`Principal`]: one CloudTrail record in compact form ([`activity`]);
//!   [`Scope`] and [`Series`]: what activity is counted and scored by.
//! - [`Names`]: the names activity is counted by, each held once ([`names`]).
//! - [`SnapshotLocation`]: where a snapshot file sits under `data/` and which window it covers.
//!
//! ```
//! let doc = br#"{"account": {"account_id": "123456789012"}, "cost": [], "service": []}"#;
//! let snap = orgwatch_model::Snapshot::from_json(doc).unwrap();
//! assert_eq!(snap.account_id().as_str(), "123456789012");
//! assert!(snap.cost.is_none()); // `[]` means the collector failed
//! ```
#![deny(missing_docs)]
// Unit tests link the dev-dependencies of the integration tests too.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod activity;
pub mod category;
mod id;
mod lenient;
pub mod names;
pub mod snapshot;
pub mod time;

pub use activity::{
    user_agent_family, ActivityEvent, IdentityFields, InvalidEvent, InvalidScope, InvalidSeries,
    Principal, RecordFields, Scope, Series, TimeOutOfRange,
};
pub use category::Category;
pub use id::{AccountId, Granularity, InvalidAccountId, InvalidRegion, Region};
pub use names::{Name, Names};
pub use snapshot::{read_located, Snapshot, SnapshotError, SnapshotLocation};
pub use time::{Day, Timestamp};
