//! orgwatch CloudTrail activity, with no AWS code.
//!
//! - [`decode`]: reads CloudTrail in any of its delivered forms (S3 log files `{"Records":[…]}`,
//!   plain or gzip, streamed record by record; EventBridge envelopes; NDJSON; a JSON array)
//!   into [`orgwatch_model::ActivityEvent`]s, never failing on one bad record, and never
//!   holding a record longer than the record-size limit (it is skipped and counted).
//! - [`anomaly`]: Random Cut Forest scores of per-minute call counts (per account and
//!   organisation-wide, total and per principal), with alarms and the principal and API that
//!   grew; the whole detector state serialises.
//! - [`counter`]: the [`MinuteCounter`] of the events a writer stored, so that scoring their
//!   windows need not read them back.
//! - [`scorer`]: the [`scorer::Scorer`]: closed windows, in time order, through the
//!   detector (the watermark, the organisation's window, the scores kept), with no store.
//! - [`report`]: the one-shot triage [`Report`]: counts per account, region, service, API,
//!   principal, source IP and error code, mergeable across files and threads.
//! - [`live`]: event-time windows (10 s and 1 min) with a watermark, published on a
//!   broadcast for the live dashboard.
//! - [`sink`]: the [`Sink`] the decoder writes into (a [`Report`], a [`sink::Buffered`] file).
//!
//! ```
//! let log = br#"{"Records":[{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s3.amazonaws.com",
//!   "eventName":"GetObject","userIdentity":{"type":"Root"}}]}"#;
//! let report = orgwatch_activity::decode::decode_bytes(log).unwrap();
//! assert_eq!(report.events, 1);
//! assert_eq!(report.by_principal["root"], 1);
//! ```
#![deny(missing_docs)]
// Unit tests link the dev-dependencies of the integration tests too.
#![cfg_attr(test, allow(unused_crate_dependencies))]

// A dependency only to turn on zlib-rs's `std` feature (see Cargo.toml).
use zlib_rs as _;

pub mod anomaly;
pub mod counter;
pub mod decode;
mod fast;
mod frame;
pub mod live;
pub mod report;
pub mod scorer;
pub mod sink;

pub use counter::MinuteCounter;
pub use decode::{
    decode_bytes, decode_file, decode_file_into, decode_file_limited, decode_reader,
    decode_reader_into, decode_reader_limited, DecodeError, DEFAULT_MAX_RECORD_BYTES,
};
pub use frame::{read_line, Line};
pub use report::Report;
pub use sink::{Buffered, Sink};
