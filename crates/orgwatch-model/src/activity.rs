//! CloudTrail activity: [`ActivityEvent`], the compact form of one CloudTrail record, and
//! [`Principal`], the most specific identity behind it; what activity is counted and scored
//! by ([`Scope`], [`Series`], the [`NONE`] and [`ORG`] sentinels); a minute's counts
//! ([`WindowCounts`]) and their scores ([`Anomaly`]); and the epoch times they are stored in
//! ([`epoch_ms`], [`from_epoch_s`], [`from_epoch_ms`]).
//!
//! ```
//! let rec: serde_json::Value = serde_json::json!({
//!     "eventTime": "2023-07-10T11:41:05Z",
//!     "eventSource": "s3.amazonaws.com",
//!     "eventName": "GetObject",
//!     "recipientAccountId": "123456789012",
//!     "userIdentity": {
//!         "type": "AssumedRole",
//!         "arn": "arn:aws:sts::123456789012:assumed-role/deployer/ci-42",
//!         "sessionContext": {"sessionIssuer": {"userName": "deployer"}}
//!     },
//!     "userAgent": "aws-cli/2.13.0 Python/3.11.4"
//! });
//! let ev = orgwatch_model::ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap();
//! assert_eq!(ev.principal.as_str(), "deployer/ci-42");
//! assert_eq!(ev.user_agent_family, "aws-cli");
//! ```

/// Serialises a type as its text (`Display`) and reads it back with `FromStr`, so stored and
/// saved forms are exactly the strings the store and older detector states hold.
macro_rules! serde_as_text {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

mod anomaly;
mod epoch;
mod scope;
mod series;
mod window;

pub use anomaly::{AlarmKind, Anomaly, Explanation, InvalidAlarmKind};
pub use epoch::{epoch_ms, from_epoch_ms, from_epoch_s, TimeOutOfRange};
pub use scope::{InvalidScope, Scope, NONE, ORG};
pub use series::{InvalidSeries, Series};
pub use window::{
    is_access_denied, most, region_is_telling, CallKey, WindowCounts, ACCESS_DENIED_CODES,
    GLOBAL_SERVICES,
};

use crate::{AccountId, Timestamp};
use serde_json::{Map, Value};
use std::fmt;

/// One CloudTrail record, reduced to what activity metrics and triage need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEvent {
    /// `eventID`.
    pub event_id: Option<String>,
    /// `eventTime`, in UTC.
    pub event_time: Timestamp,
    /// `recipientAccountId`, when it is a 12-digit account id.
    pub account: Option<AccountId>,
    /// `recipientAccountId` as written when it is there but not a 12-digit account id (test
    /// corpora have 14-digit ones): `account` is then `None`, and the triage report shows this
    /// text rather than counting the record as having no account.
    pub unparsed_account: Option<Box<str>>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// `eventSource`, e.g. `s3.amazonaws.com`.
    pub service: String,
    /// `eventName`, e.g. `GetObject`.
    pub api: String,
    /// The most specific identity that made the call.
    pub principal: Principal,
    /// `userIdentity.type` (`IAMUser`, `AssumedRole`, …), `Unknown` when absent.
    pub principal_type: String,
    /// `sourceIPAddress` (an IP address or a service name such as `ec2.amazonaws.com`).
    pub source_ip: Option<String>,
    /// The caller's tool, see [`user_agent_family`].
    pub user_agent_family: String,
    /// `errorCode` of a failed call.
    pub error_code: Option<String>,
    /// `readOnly` (a boolean, or `"true"`/`"false"` text).
    pub read_only: Option<bool>,
    /// `eventType`, e.g. `AwsApiCall`, `AwsConsoleSignIn`.
    pub event_type: Option<String>,
    /// A console sign-in that failed: `responseElements.ConsoleLogin` is `Failure`, or the
    /// sign-in record carries an `errorMessage` (failed sign-ins have no `errorCode`).
    pub sign_in_failed: bool,
    /// For a record without `eventID`: `sha256:` and the hex SHA-256 of its canonical JSON
    /// (keys sorted at every level), so the same record delivered twice has the same key.
    pub content_hash: Option<String>,
}

/// Why a record is not an [`ActivityEvent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidEvent {
    /// A required field (`eventTime`, `eventSource`, `eventName`) is absent or not text.
    #[error("missing or non-text {0}")]
    Missing(&'static str),
    /// `eventTime` is not a timestamp.
    #[error("eventTime {0:?} is not a timestamp")]
    BadTime(String),
}

/// The most specific identity behind a call (see [`Principal::from_user_identity`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Principal(String);

impl Principal {
    /// Wraps a principal name as is.
    pub fn new(name: impl Into<String>) -> Self {
        Principal(name.into())
    }

    /// The principal as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The most specific identity of a `userIdentity` object (`event_invoked_by` is the
    /// record's top-level `invokedBy`, if any). Never fails: every identity type maps to a name.
    ///
    /// | `userIdentity.type` | principal |
    /// |---|---|
    /// | `IAMUser` | `userName`, else the last part of the ARN |
    /// | `AssumedRole` | `role-name/session-name` (issuer `userName`, ARN session part) |
    /// | `Root` | `root` |
    /// | `AWSService` | `invokedBy` (of the identity, else of the record) |
    /// | `FederatedUser` | the federated user name (ARN part) |
    /// | `IdentityCenterUser`, `Unknown` or absent | `userName`, else `onBehalfOf.userId` |
    /// | `AWSAccount` | `accountId` (a cross-account call) |
    /// | anything else | the ARN, else `principalId` |
    ///
    /// When the preferred fields are absent the fallback chain is `userName`,
    /// `onBehalfOf.userId`, `invokedBy`, `arn`, `principalId`, `accountId`, then `unknown`.
    pub fn from_user_identity(
        ui: Option<&Map<String, Value>>,
        event_invoked_by: Option<&str>,
    ) -> Self {
        Principal::from_identity(&IdentityFields::from_map(ui), event_invoked_by)
    }

    /// [`Principal::from_user_identity`] from the `userIdentity` fields already picked out (by
    /// a decoder that does not build a [`Map`]); empty texts count as absent.
    pub fn from_identity(ui: &IdentityFields<'_>, event_invoked_by: Option<&str>) -> Self {
        let arn = non_empty(ui.arn);
        let issuer = non_empty(ui.issuer_user_name);
        let arn_tail = |n: usize| arn.and_then(|a| arn_resource_part(a, n));
        let invoked_by = non_empty(ui.invoked_by);
        let user_name = non_empty(ui.user_name);
        let principal_id = non_empty(ui.principal_id);
        let account_id = non_empty(ui.account_id);
        let specific: Option<String> = match non_empty(ui.kind).unwrap_or("Unknown") {
            "IAMUser" => user_name
                .or_else(|| arn.and_then(last_part))
                .map(str::to_owned),
            "AssumedRole" => {
                let role = issuer.or_else(|| arn_tail(1));
                match (role, arn_tail(2)) {
                    (Some(r), Some(sess)) => Some(format!("{r}/{sess}")),
                    (Some(r), None) => Some(r.to_owned()),
                    (None, _) => None,
                }
            }
            "Root" => Some("root".to_owned()),
            "AWSService" => invoked_by
                .or(non_empty(event_invoked_by))
                .map(str::to_owned),
            "FederatedUser" => arn_tail(1).or(issuer).map(str::to_owned),
            "AWSAccount" => account_id.map(str::to_owned),
            "IdentityCenterUser" | "Unknown" => None, // the fallback chain starts with userName
            _ => arn.or(principal_id).map(str::to_owned),
        };
        let name = specific.unwrap_or_else(|| {
            user_name
                .or(non_empty(ui.on_behalf_of_user_id))
                .or(invoked_by)
                .or(non_empty(event_invoked_by))
                .or(arn)
                .or(principal_id)
                .or(account_id)
                .unwrap_or("unknown")
                .to_owned()
        });
        Principal(name)
    }
}

/// The text fields of a `userIdentity` object that [`Principal::from_identity`] and
/// [`ActivityEvent::from_fields`] read (`None` when absent or not text; empty texts count as
/// absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdentityFields<'a> {
    /// `type`.
    pub kind: Option<&'a str>,
    /// `userName`.
    pub user_name: Option<&'a str>,
    /// `arn`.
    pub arn: Option<&'a str>,
    /// `principalId`.
    pub principal_id: Option<&'a str>,
    /// `accountId`.
    pub account_id: Option<&'a str>,
    /// `invokedBy`.
    pub invoked_by: Option<&'a str>,
    /// `sessionContext.sessionIssuer.userName`.
    pub issuer_user_name: Option<&'a str>,
    /// `onBehalfOf.userId`.
    pub on_behalf_of_user_id: Option<&'a str>,
}

impl<'a> IdentityFields<'a> {
    /// The fields of a `userIdentity` object (all absent for `None`).
    pub fn from_map(ui: Option<&'a Map<String, Value>>) -> Self {
        let Some(ui) = ui else {
            return IdentityFields::default();
        };
        let s = |k: &str| text(ui, k);
        IdentityFields {
            kind: s("type"),
            user_name: s("userName"),
            arn: s("arn"),
            principal_id: s("principalId"),
            account_id: s("accountId"),
            invoked_by: s("invokedBy"),
            issuer_user_name: ui
                .get("sessionContext")
                .and_then(|c| c.get("sessionIssuer"))
                .and_then(|i| i.get("userName"))
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty()),
            on_behalf_of_user_id: ui
                .get("onBehalfOf")
                .and_then(|o| o.get("userId"))
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty()),
        }
    }
}

/// The fields of one CloudTrail record that [`ActivityEvent::from_fields`] reads (`None` when
/// absent or not text; empty texts count as absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordFields<'a> {
    /// `eventTime`.
    pub event_time: Option<&'a str>,
    /// `eventSource`.
    pub event_source: Option<&'a str>,
    /// `eventName`.
    pub event_name: Option<&'a str>,
    /// `eventID`.
    pub event_id: Option<&'a str>,
    /// `recipientAccountId`.
    pub recipient_account_id: Option<&'a str>,
    /// `awsRegion`.
    pub aws_region: Option<&'a str>,
    /// `sourceIPAddress`.
    pub source_ip_address: Option<&'a str>,
    /// `userAgent`.
    pub user_agent: Option<&'a str>,
    /// `errorCode`.
    pub error_code: Option<&'a str>,
    /// `eventType`.
    pub event_type: Option<&'a str>,
    /// The record's top-level `invokedBy`.
    pub invoked_by: Option<&'a str>,
    /// `readOnly`: a boolean, or `"true"`/`"false"` in any case.
    pub read_only: Option<bool>,
    /// `userIdentity`, when it is an object.
    pub user_identity: Option<IdentityFields<'a>>,
    /// `responseElements.ConsoleLogin` (`Success` or `Failure` for a console sign-in).
    pub console_login: Option<&'a str>,
    /// Whether the record has an `errorMessage` (a failed sign-in has no `errorCode`).
    pub has_error_message: bool,
}

impl<'a> RecordFields<'a> {
    /// The fields of a record.
    pub fn from_map(rec: &'a Map<String, Value>) -> Self {
        let s = |k: &str| text(rec, k);
        RecordFields {
            event_time: s("eventTime"),
            event_source: s("eventSource"),
            event_name: s("eventName"),
            event_id: s("eventID"),
            recipient_account_id: s("recipientAccountId"),
            aws_region: s("awsRegion"),
            source_ip_address: s("sourceIPAddress"),
            user_agent: s("userAgent"),
            error_code: s("errorCode"),
            event_type: s("eventType"),
            invoked_by: s("invokedBy"),
            read_only: match rec.get("readOnly") {
                Some(Value::Bool(b)) => Some(*b),
                Some(Value::String(s)) => read_only_text(s),
                _ => None,
            },
            user_identity: rec
                .get("userIdentity")
                .and_then(Value::as_object)
                .map(|u| IdentityFields::from_map(Some(u))),
            console_login: rec
                .get("responseElements")
                .and_then(|r| r.get("ConsoleLogin"))
                .and_then(Value::as_str),
            has_error_message: rec.contains_key("errorMessage"),
        }
    }
}

/// `readOnly` given as text: `"true"` or `"false"`, in any case.
pub fn read_only_text(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|v| !v.is_empty())
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A non-empty text field.
fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str).filter(|v| !v.is_empty())
}

/// Part `n` (0-based) of an ARN's resource split on `/`: for
/// `arn:aws:sts::1:assumed-role/R/S`, part 1 is `R` and part 2 is `S`.
fn arn_resource_part(arn: &str, n: usize) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    resource.split('/').nth(n).filter(|p| !p.is_empty())
}

/// The last `/`-separated part of an ARN's resource.
fn last_part(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    resource.rsplit('/').next().filter(|p| !p.is_empty())
}

/// Classifies a `userAgent` into a small family, checked in this order:
///
/// - `terraform`: contains `terraform` (before the SDK test: Terraform's agent names aws-sdk-go);
/// - `aws-cli`: contains `aws-cli` (its agent also names botocore);
/// - `console`: `signin.amazonaws.com`, `console.amazonaws.com`, `console.<svc>.amazonaws.com`,
///   `AWS Internal`, or a service console agent such as `S3Console/…`;
/// - `boto3`: contains `boto3` or `botocore`;
/// - `aws-sdk-<lang>`: contains `aws-sdk-<lang>` (e.g. `aws-sdk-go`, `aws-sdk-java`);
/// - `service`: a bare `*.amazonaws.com` name (a call an AWS service made);
/// - `other`: anything else, including an absent agent and browsers.
///
/// Matching ignores case and a leading `[`.
pub fn user_agent_family(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "other".to_owned();
    };
    let ua = ua.trim().trim_start_matches('[').to_ascii_lowercase();
    let family = if ua.contains("terraform") {
        "terraform"
    } else if ua.contains("aws-cli") {
        "aws-cli"
    } else if ua == "signin.amazonaws.com"
        || ua == "aws internal"
        || ua.starts_with("aws internal")
        || ua.starts_with("s3console")
        || (ua.starts_with("console.") && ua.ends_with(".amazonaws.com") && !ua.contains(' '))
    {
        "console"
    } else if ua.contains("boto3") || ua.contains("botocore") {
        "boto3"
    } else if let Some(i) = ua.find("aws-sdk-") {
        let lang: String = ua[i + "aws-sdk-".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .take(16)
            .collect();
        if lang.is_empty() {
            "other"
        } else {
            return format!("aws-sdk-{lang}");
        }
    } else if ua.ends_with(".amazonaws.com") && !ua.contains([' ', '/']) {
        "service"
    } else {
        "other"
    };
    family.to_owned()
}

impl ActivityEvent {
    /// Reads one CloudTrail record (as in a log file's `Records` array or an EventBridge
    /// `detail`). Needs `eventTime`, `eventSource` and `eventName`; every other field is
    /// optional and read leniently (a value of the wrong type counts as absent).
    pub fn from_cloudtrail(rec: &Map<String, Value>) -> Result<Self, InvalidEvent> {
        let fields = RecordFields::from_map(rec);
        let hash = fields.event_id.is_none().then(|| canonical_hash(rec));
        ActivityEvent::from_fields(&fields, hash)
    }

    /// [`ActivityEvent::from_cloudtrail`] from the fields already picked out of a record (by a
    /// decoder that does not build a [`Map`]). `content_hash` is used only when the record has
    /// no `eventID`; it must then be the record's [`canonical_hash`].
    pub fn from_fields(
        rec: &RecordFields<'_>,
        content_hash: Option<String>,
    ) -> Result<Self, InvalidEvent> {
        let req = |v: Option<&str>, k: &'static str| {
            non_empty(v)
                .map(str::to_owned)
                .ok_or(InvalidEvent::Missing(k))
        };
        let time_text = non_empty(rec.event_time).ok_or(InvalidEvent::Missing("eventTime"))?;
        let event_time =
            Timestamp::parse(time_text).map_err(|_| InvalidEvent::BadTime(clip(time_text)))?;
        let service = req(rec.event_source, "eventSource")?;
        let api = req(rec.event_name, "eventName")?;
        let ui = rec.user_identity.unwrap_or_default();
        let principal_type = non_empty(ui.kind).unwrap_or("Unknown").to_owned();
        let principal = Principal::from_identity(&ui, rec.invoked_by);
        let owned = |v: Option<&str>| non_empty(v).map(str::to_owned);
        let event_id = owned(rec.event_id);
        let content_hash = if event_id.is_none() {
            content_hash
        } else {
            None
        };
        let sign_in_failed = rec.console_login == Some("Failure")
            || (rec.event_type == Some("AwsConsoleSignIn") && rec.has_error_message);
        let account_text = non_empty(rec.recipient_account_id);
        let account = account_text.and_then(|a| AccountId::parse(a).ok());
        let unparsed_account = match account {
            Some(_) => None,
            None => account_text.map(Box::from),
        };
        Ok(ActivityEvent {
            event_id,
            content_hash,
            sign_in_failed,
            event_time,
            account,
            unparsed_account,
            region: owned(rec.aws_region),
            service,
            api,
            principal,
            principal_type,
            source_ip: owned(rec.source_ip_address),
            user_agent_family: user_agent_family(non_empty(rec.user_agent)),
            error_code: owned(rec.error_code),
            read_only: rec.read_only,
            event_type: owned(rec.event_type),
        })
    }
}

impl ActivityEvent {
    /// What identifies this event among the events of its account and second: `eventID`, or
    /// the content hash of a record without one. De-duplication keys on
    /// (`account`, `dedup_id`, `event_time`), never on the id alone: real ids are GUIDs but
    /// sample and test data reuse ids such as `"1"` for different events.
    pub fn dedup_id(&self) -> &str {
        self.event_id
            .as_deref()
            .or(self.content_hash.as_deref())
            .unwrap_or_default()
    }

    /// Whether this is a console sign-in (`eventType` `AwsConsoleSignIn`, or `ConsoleLogin`).
    pub fn is_console_sign_in(&self) -> bool {
        self.event_type.as_deref() == Some("AwsConsoleSignIn") || self.api == "ConsoleLogin"
    }

    /// For a console sign-in, whether it succeeded: `Some(true)` or `Some(false)` (failed
    /// by [`ActivityEvent::sign_in_failed`] or an error code); `None` for any other call.
    pub fn sign_in_succeeded(&self) -> Option<bool> {
        self.is_console_sign_in()
            .then(|| !self.sign_in_failed && self.error_code.is_none())
    }

    /// For an EC2 call, its outcome: `Ok(())` or `Err(error code)`; `None` for other services.
    pub fn ec2_outcome(&self) -> Option<Result<(), &str>> {
        let outcome = match &self.error_code {
            Some(code) => Err(code.as_str()),
            None => Ok(()),
        };
        (self.service == "ec2.amazonaws.com").then_some(outcome)
    }
}

/// `sha256:` + hex SHA-256 of a record's canonical JSON: keys sorted at every level, no
/// whitespace, so the hash does not depend on how the record was formatted or ordered.
pub fn canonical_hash(rec: &Map<String, Value>) -> String {
    use sha2::{Digest, Sha256};
    fn write(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(&Value::String(k.clone()), out);
                    out.push(b':');
                    write(&m[k], out);
                }
                out.push(b'}');
            }
            Value::Array(a) => {
                out.push(b'[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(x, out);
                }
                out.push(b']');
            }
            scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
        }
    }
    let mut bytes = Vec::new();
    write(&Value::Object(rec.clone()), &mut bytes);
    let digest = Sha256::digest(&bytes);
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// At most 64 characters of a value, for error messages.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal(ui: Value) -> String {
        Principal::from_user_identity(ui.as_object(), None).0
    }

    #[test]
    fn records_without_event_id_are_keyed_on_their_content() {
        let a = json!({"eventTime": "2023-07-10T11:41:05Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "requestParameters": {"bucket": "b", "key": "k"}});
        let reordered: Value = serde_json::from_str(
            r#"{"requestParameters": {"key": "k",
            "bucket": "b"}, "eventName": "GetObject", "eventSource": "s3.amazonaws.com",
            "eventTime": "2023-07-10T11:41:05Z"}"#,
        )
        .unwrap();
        let other = json!({"eventTime": "2023-07-10T11:41:05Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "requestParameters": {"bucket": "b", "key": "other"}});
        let ev = |v: &Value| ActivityEvent::from_cloudtrail(v.as_object().unwrap()).unwrap();
        assert!(ev(&a).dedup_id().starts_with("sha256:"));
        assert_eq!(ev(&a).dedup_id().len(), 7 + 64);
        assert_eq!(ev(&a).dedup_id(), ev(&reordered).dedup_id());
        assert_ne!(ev(&a).dedup_id(), ev(&other).dedup_id());
        let mut with_id = a.clone();
        with_id["eventID"] = json!("1");
        assert_eq!(ev(&with_id).dedup_id(), "1");
        assert_eq!(ev(&with_id).content_hash, None);
    }

    #[test]
    fn principal_per_identity_type() {
        let cases = [
            (
                json!({"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::1:user/x"}),
                "alice",
            ),
            (
                json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/path/bob"}),
                "bob",
            ),
            (
                json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/Admin/sess",
                       "sessionContext": {"sessionIssuer": {"userName": "Admin"}}}),
                "Admin/sess",
            ),
            (
                json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/tester"}),
                "tester",
            ),
            (
                json!({"type": "Root", "arn": "arn:aws:iam::1:root"}),
                "root",
            ),
            (
                json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}),
                "ec2.amazonaws.com",
            ),
            (
                json!({"type": "FederatedUser", "arn": "arn:aws:sts::1:federated-user/carol"}),
                "carol",
            ),
            (
                json!({"type": "IdentityCenterUser", "onBehalfOf": {"userId": "u-1"}}),
                "u-1",
            ),
            (json!({"type": "Unknown", "userName": "dave"}), "dave"),
            (
                json!({"type": "AWSAccount", "accountId": "111122223333", "principalId": "X"}),
                "111122223333",
            ),
            (
                json!({"type": "SAMLUser", "principalId": "p:erin"}),
                "p:erin",
            ),
            (
                json!({"accountId": "1", "invokedBy": "secretsmanager.amazonaws.com"}),
                "secretsmanager.amazonaws.com",
            ),
            (json!({}), "unknown"),
        ];
        for (ui, want) in cases {
            assert_eq!(principal(ui.clone()), want, "{ui}");
        }
        assert_eq!(
            Principal::from_user_identity(None, None).as_str(),
            "unknown"
        );
    }

    #[test]
    fn user_agent_families() {
        let cases = [
            ("aws-cli/2.13.0 Python/3.11.4 Linux botocore/2.0", "aws-cli"),
            (
                "APN/1.0 HashiCorp/1.0 Terraform/1.1.2 aws-sdk-go/1.44",
                "terraform",
            ),
            ("signin.amazonaws.com", "console"),
            ("console.amazonaws.com", "console"),
            ("console.ec2.amazonaws.com", "console"),
            ("AWS Internal", "console"),
            (
                "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12]",
                "console",
            ),
            ("Boto3/1.26.165 Python/3.10.6 Botocore/1.29", "boto3"),
            ("aws-sdk-go/1.41.4 (go1.18.3; linux; amd64)", "aws-sdk-go"),
            ("aws-sdk-java/1.12.0", "aws-sdk-java"),
            ("ec2.amazonaws.com", "service"),
            ("Mozilla/5.0 (X11)", "other"),
        ];
        for (ua, want) in cases {
            assert_eq!(user_agent_family(Some(ua)), want, "{ua}");
        }
        assert_eq!(user_agent_family(None), "other");
    }

    #[test]
    fn required_fields() {
        let ok = json!({"eventTime": "2023-07-10T11:41:05Z", "eventSource": "s", "eventName": "n",
                        "readOnly": "true", "recipientAccountId": "123456789"});
        let ev = ActivityEvent::from_cloudtrail(ok.as_object().unwrap()).unwrap();
        assert_eq!(ev.principal_type, "Unknown");
        assert_eq!(ev.read_only, Some(true));
        assert_eq!(ev.account, None); // 9 digits is not an account id
        let no_name = json!({"eventTime": "2023-07-10T11:41:05Z", "eventSource": "s"});
        assert_eq!(
            ActivityEvent::from_cloudtrail(no_name.as_object().unwrap()),
            Err(InvalidEvent::Missing("eventName"))
        );
        let bad_time = json!({"eventTime": "yesterday", "eventSource": "s", "eventName": "n"});
        assert!(matches!(
            ActivityEvent::from_cloudtrail(bad_time.as_object().unwrap()),
            Err(InvalidEvent::BadTime(_))
        ));
    }

    #[test]
    fn an_account_that_is_not_an_id_is_kept_as_written() {
        let ev = |account: Value| {
            let rec = json!({"eventTime": "2023-07-10T11:41:05Z", "eventSource": "s",
                             "eventName": "n", "recipientAccountId": account});
            let ev = ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap();
            (ev.account.map(|a| a.to_string()), ev.unparsed_account)
        };
        assert_eq!(
            ev(json!("123456789012")),
            (Some("123456789012".into()), None)
        );
        assert_eq!(
            ev(json!("12345678901234")),
            (None, Some("12345678901234".into()))
        );
        assert_eq!(ev(json!("")), (None, None));
        assert_eq!(ev(json!(123456789012u64)), (None, None)); // not text: absent
    }
}
