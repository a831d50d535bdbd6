//! orgwatch collection: reads AWS accounts through the AWS SDK for Rust and writes A360
//! snapshots that `orgwatch ingest` loads.
//!
//! - [`aws`]: the one place that builds AWS configuration (credential chain, profile,
//!   region, `AWS_ENDPOINT_URL`, adaptive retry, AssumeRole into member accounts).
//! - [`call`]: every request goes through [`aws_call!`], which names its IAM action and
//!   classifies its failure; [`policy`] is the IAM policy for exactly those actions.
//! - [`accounts`], [`regions`]: what a run reads; [`category`]: one module per category.
//! - [`run`]: the run (bounded concurrency), [`limit`]: the per-service rate limits,
//!   [`ledger`]: what happened to each part.
//! - [`write`]: where files go (a directory or `s3://`); [`remote`]: S3 buckets and SQS
//!   queues, for `collect --out s3://` and the S3/SQS sources of `ingest` and `activity`.
#![deny(missing_docs)]
// Unit tests link the dev-dependencies of the integration tests too.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod accounts;
pub mod aws;
pub mod call;
pub mod category;
pub mod ledger;
pub mod limit;
pub mod policy;
pub mod regions;
pub mod remote;
pub mod run;
pub mod sdk_time;
pub mod write;

pub use aws_config::SdkConfig;
pub use ledger::{Entry, Ledger, Status};
pub use run::{run, CollectError, CollectOptions, Progress, Report};
