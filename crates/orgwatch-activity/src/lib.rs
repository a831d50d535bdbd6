//! orgwatch CloudTrail activity, with no AWS code.
//!
//! - [`decode`]: reads CloudTrail in any of its delivered forms (S3 log files `{"Records":[…]}`,
//!   plain or gzip, streamed record by record; EventBridge envelopes; NDJSON; a JSON array)
//!   into [`orgwatch_model::ActivityEvent`]s, never failing on one bad record.
//! - [`report`]: the one-shot triage [`Report`]: counts per account, region, service, API,
//!   principal, source IP and error code, mergeable across files and threads.
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

pub mod decode;
mod fast;
mod frame;
pub mod report;
pub mod sink;

pub use decode::{
    decode_bytes, decode_file, decode_file_into, decode_reader, decode_reader_into, DecodeError,
};
pub use report::Report;
pub use sink::{Buffered, Sink};
