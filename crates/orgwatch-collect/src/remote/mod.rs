//! S3 buckets and SQS queues as places snapshots and CloudTrail files are written to and
//! read from: `collect --out s3://…`, and the S3 and SQS sources of `ingest` and `activity`
//! (which live in the binary, `orgwatch/src/source/`; this module is their only AWS code, so
//! the SDK stays in this crate).
//!
//! - [`S3Url`]: a parsed `s3://bucket/prefix`.
//! - [`s3::Bucket`]: list, get, put (SSE-KMS), copy, delete, under one prefix.
//! - [`sqs::Queue`]: receive, extend the visibility, delete, and the queue's dead-letter
//!   queue (its redrive policy).
//! - [`notification`]: what an S3 event notification names (and `s3:TestEvent`).
//!
//! The identity that reads or writes them needs [`CALLS`] (`orgwatch iam-policy` prints
//! them as the `storage_policy`), not the collector's discovery policy.

pub mod notification;
pub mod s3;
pub mod sqs;

use crate::call::CallError;
use serde_json::{json, Value};
use std::fmt;
use std::path::PathBuf;

/// Every IAM action of this module, and what needs it.
pub const CALLS: &[(&str, &str)] = &[
    ("s3:ListBucket", "ingest/activity --from s3://"),
    ("s3:GetObject", "ingest/activity --from s3:// or sqs://"),
    ("s3:PutObject", "collect --out s3://; ingest moving objects"),
    ("s3:DeleteObject", "ingest moving objects"),
    ("sqs:ReceiveMessage", "--from sqs://"),
    ("sqs:ChangeMessageVisibility", "--from sqs://"),
    ("sqs:DeleteMessage", "--from sqs://"),
    (
        "sqs:GetQueueAttributes",
        "--from sqs:// (the redrive policy)",
    ),
    ("sqs:GetQueueUrl", "--from sqs:// (the dead-letter queue)"),
    (
        "sqs:SendMessage",
        "--from sqs:// (a malformed message to the dead-letter queue)",
    ),
];

/// The policy of an identity that writes snapshots to a bucket and reads snapshots and
/// CloudTrail files from a bucket or a queue. Resources are `*`: narrow them to the bucket
/// (`arn:aws:s3:::BUCKET` and `arn:aws:s3:::BUCKET/PREFIX/*`) and the queues. With
/// `--kms-key`, or a bucket encrypted with a customer managed key, the identity also needs
/// `kms:GenerateDataKey` (writing) and `kms:Decrypt` (reading) on that key.
pub fn storage_policy() -> Value {
    let mut s3: Vec<&str> = CALLS
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| a.starts_with("s3:"))
        .collect();
    s3.sort_unstable();
    let mut sqs: Vec<&str> = CALLS
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| a.starts_with("sqs:"))
        .collect();
    sqs.sort_unstable();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            { "Sid": "OrgwatchBucket", "Effect": "Allow", "Action": s3, "Resource": "*" },
            { "Sid": "OrgwatchQueue", "Effect": "Allow", "Action": sqs, "Resource": "*" },
            {
                "Sid": "OrgwatchKmsKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": { "StringLike": { "kms:ViaService": "s3.*.amazonaws.com" } }
            }
        ]
    })
}

/// A configuration with fixed credentials against `endpoint` in `region`: for an emulator
/// (the tests' moto_server), where no credential chain is wanted.
pub fn emulator_config(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(crate::aws::http_client())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "emulator",
        )))
        .build()
}

/// `s3://bucket/prefix`: a bucket and a key prefix (without its trailing `/`; may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The prefix, without a leading or trailing `/`.
    pub prefix: String,
}

/// Why a text is not an `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not s3://BUCKET[/PREFIX]")]
pub struct BadS3Url(pub String);

impl S3Url {
    /// Parses `s3://bucket[/prefix[/]]`.
    pub fn parse(text: &str) -> Result<S3Url, BadS3Url> {
        let bad = || BadS3Url(text.to_owned());
        let rest = text.strip_prefix("s3://").ok_or_else(bad)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // Bucket names: 3-63 lower-case letters, digits, dots and hyphens.
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !valid {
            return Err(bad());
        }
        Ok(S3Url {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    /// The key of `relative` (a path under the prefix, `/`-separated).
    pub fn key(&self, relative: &str) -> String {
        if self.prefix.is_empty() {
            relative.to_owned()
        } else {
            format!("{}/{relative}", self.prefix)
        }
    }

    /// `key` relative to the prefix, when it is under it.
    pub fn relative<'k>(&self, key: &'k str) -> Option<&'k str> {
        if self.prefix.is_empty() {
            Some(key)
        } else {
            key.strip_prefix(self.prefix.as_str())?.strip_prefix('/')
        }
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// A failure of an S3 or SQS operation.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The request failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// An object's body broke off while it was read.
    #[error("cannot read s3://{bucket}/{key}: {message}")]
    Body {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What went wrong.
        message: String,
    },
    /// A downloaded object could not be written to a local file.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The local file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Percent-encodes a key for a `CopySource` (`/` kept, everything else but unreserved
/// characters encoded).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_name_a_bucket_and_a_prefix() {
        let u = S3Url::parse("s3://my-bucket/org/posture/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.bucket, "my-bucket");
        assert_eq!(u.prefix, "org/posture");
        assert_eq!(u.key("data/1/x.json"), "org/posture/data/1/x.json");
        assert_eq!(u.relative("org/posture/data/x"), Some("data/x"));
        assert_eq!(u.relative("org/posturex/data/x"), None);
        assert_eq!(u.to_string(), "s3://my-bucket/org/posture");
        let bare = S3Url::parse("s3://b.c-1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((bare.prefix.as_str(), bare.key("k").as_str()), ("", "k"));
        assert_eq!(bare.relative("k/x"), Some("k/x"));
        for bad in [
            "s3:/b/p",
            "https://b/p",
            "s3://",
            "s3://UPPER/p",
            "s3://ab",
            "s3://a_b/p",
        ] {
            assert_eq!(S3Url::parse(bad), Err(BadS3Url(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn copy_sources_are_percent_encoded_but_keep_slashes() {
        assert_eq!(encode_key("a/b c+d/é.json"), "a/b%20c%2Bd/%C3%A9.json");
    }

    #[test]
    fn the_storage_policy_lists_every_call_of_this_module() {
        let p = storage_policy();
        let text = p.to_string();
        for (action, _) in CALLS {
            assert!(text.contains(action), "{action}");
        }
    }
}
