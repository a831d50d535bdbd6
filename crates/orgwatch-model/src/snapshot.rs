//! The A360 snapshot document: one account (and region) for one collection window.

use crate::category::account::Account;
use crate::category::application::ApplicationSignal;
use crate::category::compute_optimizer::ComputeOptimizerRecommendation;
use crate::category::config::ConfigReport;
use crate::category::config_inventory::ConfigInventoryItem;
use crate::category::cost::CostReport;
use crate::category::health::HealthEvent;
use crate::category::inventory::Inventory;
use crate::category::logs::CollectionLog;
use crate::category::marketplace::MarketplaceUsage;
use crate::category::organization::Organization;
use crate::category::resilience_hub::ResilienceHubApp;
use crate::category::ri_sp_savings::RiSpSaving;
use crate::category::security::Security;
use crate::category::service::ServiceCost;
use crate::category::service_resources::ServiceResource;
use crate::category::support_tickets::SupportTicket;
use crate::category::trusted_advisor::TrustedAdvisorCheck;
use crate::id::{AccountId, Granularity, Region};
use crate::lenient;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// A whole A360 document, as the sender writes it (key order kept when written back).
///
/// A list category that is absent from the file is `None` ("not collected", as in v1 files
/// that predate `ri_sp_savings`); one that is present but empty is `Some(vec![])`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Snapshot {
    pub account: Account,
    #[serde(
        default,
        deserialize_with = "lenient::object_or_empty",
        serialize_with = "lenient::ser_object_or_empty"
    )]
    pub config: Option<ConfigReport>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub service: Option<Vec<ServiceCost>>,
    #[serde(
        default,
        deserialize_with = "lenient::object_or_empty",
        serialize_with = "lenient::ser_object_or_empty"
    )]
    pub cost: Option<CostReport>,
    #[serde(
        default,
        deserialize_with = "lenient::object_or_empty",
        serialize_with = "lenient::ser_object_or_empty"
    )]
    pub security: Option<Security>,
    #[serde(
        default,
        deserialize_with = "lenient::object_or_empty",
        serialize_with = "lenient::ser_object_or_empty"
    )]
    pub inventory: Option<Inventory>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub marketplace: Option<Vec<MarketplaceUsage>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub trusted_advisor: Option<Vec<TrustedAdvisorCheck>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub health: Option<Vec<HealthEvent>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub application: Option<Vec<ApplicationSignal>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub resilience_hub: Option<Vec<ResilienceHubApp>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_resources: Option<Vec<ServiceResource>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub compute_optimizer: Option<Vec<ComputeOptimizerRecommendation>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub ri_sp_savings: Option<Vec<RiSpSaving>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub config_inventory: Option<Vec<ConfigInventoryItem>>,
    #[serde(
        default,
        deserialize_with = "present_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub support_tickets: Option<Vec<SupportTicket>>,
    #[serde(default)]
    pub logs: CollectionLog,
    /// Not an A360 key (see [`Organization`]): absent unless `orgwatch collect --organization`
    /// wrote the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
}

/// A present key holding a list (`null` reads as an empty list); an object or scalar is an error.
fn present_list<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(lenient::list(d)?))
}

/// Why a byte string is not a snapshot orgwatch can load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// No bytes, or only whitespace.
    #[error("the file is empty")]
    Empty,
    /// Larger than the configured limit.
    #[error("the file is {size} bytes, above the limit of {limit} bytes (raise --max-file-bytes to load it)")]
    TooLarge {
        /// Size of the file.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// Ends in the middle of the document.
    #[error("the JSON ends early at line {line}, column {column}: the file is truncated")]
    Truncated {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Not JSON.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The account id is missing or is not 12 digits.
    #[error("no valid account id: {0}")]
    Account(String),
    /// JSON, but a field has a type or shape the document never has.
    #[error("field `{path}`: {message}")]
    Field {
        /// Dotted path to the field (`security.kms[0].enabled`).
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// The document names a different account than its location.
    #[error("the document is for account {document} but sits under data/{path}/: refusing a file that claims another account")]
    AccountMismatch {
        /// `account.account_id` in the document.
        document: AccountId,
        /// The account directory of the file.
        path: AccountId,
    },
}

impl Snapshot {
    /// The document of `account` with every category absent (not collected) and empty logs.
    pub fn new(account: Account) -> Snapshot {
        Snapshot {
            account,
            config: None,
            service: None,
            cost: None,
            security: None,
            inventory: None,
            marketplace: None,
            trusted_advisor: None,
            health: None,
            application: None,
            resilience_hub: None,
            service_resources: None,
            compute_optimizer: None,
            ri_sp_savings: None,
            config_inventory: None,
            support_tickets: None,
            logs: CollectionLog::default(),
            organization: None,
        }
    }

    /// Reads a document from bytes: lenient on values, strict on shape and on the account id.
    /// A UTF-8 byte order mark before it (as some Windows tools write) is skipped, as
    /// `orgwatch activity` skips one.
    pub fn from_json(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(SnapshotError::Empty);
        }
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            // serde would read a top-level array as a struct's fields in order: refuse it plainly.
            return match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(v) => Err(SnapshotError::Field {
                    path: "(document)".to_owned(),
                    message: format!("expected a JSON object, found {}", lenient::json_kind(&v)),
                }),
                Err(e) => Err(classify(String::new(), e)),
            };
        }
        // Fast path without path tracking; a document that fails is read again with it, so the
        // error names the field.
        if let Ok(snapshot) = serde_json::from_slice::<Snapshot>(bytes) {
            return Ok(snapshot);
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let parsed: Result<Snapshot, _> = serde_path_to_error::deserialize(&mut de);
        let snapshot = match parsed {
            Ok(s) => s,
            Err(e) => {
                let path = e.path().to_string();
                return Err(classify(path, e.into_inner()));
            }
        };
        de.end().map_err(|e| classify(String::new(), e))?;
        Ok(snapshot)
    }

    /// Writes the document the way the A360 sender does (four-space indent).
    pub fn to_json_pretty(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 * 1024);
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        // Serialising plain data (maps keyed by strings) into a Vec cannot fail.
        #[allow(clippy::expect_used)]
        self.serialize(&mut ser).expect("snapshot serialises");
        out
    }

    /// The account the document is for.
    pub fn account_id(&self) -> AccountId {
        self.account.account_id
    }
}

fn classify(path: String, e: serde_json::Error) -> SnapshotError {
    use serde_json::error::Category as C;
    match e.classify() {
        C::Eof => SnapshotError::Truncated {
            line: e.line(),
            column: e.column(),
        },
        C::Syntax | C::Io => SnapshotError::Syntax {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        },
        C::Data => {
            let message = strip_position(&e.to_string());
            if path == "account.account_id" || path == "account" && message.contains("account_id") {
                SnapshotError::Account(message)
            } else if path.is_empty() || path == "." {
                if message.contains("missing field `account`") {
                    SnapshotError::Account("the document has no `account` object".to_owned())
                } else {
                    SnapshotError::Field {
                        path: "(document)".to_owned(),
                        message,
                    }
                }
            } else {
                SnapshotError::Field { path, message }
            }
        }
    }
}

/// serde_json appends " at line L column C"; the error variants carry position separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Where a snapshot file sits under `data/`, parsed from its relative path.
///
/// Two layouts exist: `{account}/{region}/{YYYY-MM-DD}_{INTERVAL}.json` (v2) and
/// `{account}/{YYYY-MM-DD}_{INTERVAL}.json` (v1, before regions were added).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SnapshotLocation {
    /// The account directory.
    pub account: AccountId,
    /// The region directory (v2 layout only).
    pub region: Option<Region>,
    /// The date in the file name: the day the sender ran, not the data's day.
    pub run_date: Date,
    /// The interval in the file name.
    pub granularity: Granularity,
}

/// A path that is not in either snapshot layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path:?} is not a snapshot path ({reason}); expected {{account}}/[{{region}}/]{{YYYY-MM-DD}}_{{DAILY|MONTHLY}}.json under data/")]
pub struct InvalidLocation {
    /// The path as given.
    pub path: String,
    /// What did not match.
    pub reason: String,
}

impl SnapshotLocation {
    /// Parses the path of a file relative to `data/` (components separated by `/`).
    pub fn parse(relative: &str) -> Result<Self, InvalidLocation> {
        let bad = |reason: String| InvalidLocation {
            path: relative.to_owned(),
            reason,
        };
        let parts: Vec<&str> = relative.split('/').filter(|p| !p.is_empty()).collect();
        let (account, region, file) = match parts.as_slice() {
            [a, f] => (*a, None, *f),
            [a, r, f] => (*a, Some(*r), *f),
            _ => return Err(bad(format!("{} path components", parts.len()))),
        };
        let account = AccountId::parse(account).map_err(|e| bad(e.to_string()))?;
        let region = region
            .map(Region::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?;
        let stem = file
            .strip_suffix(".json")
            .ok_or_else(|| bad("the file name does not end in .json".to_owned()))?;
        let (date, interval) = stem
            .split_once('_')
            .ok_or_else(|| bad("the file name has no _INTERVAL".to_owned()))?;
        let run_date = crate::time::parse_date(date)
            .ok_or_else(|| bad(format!("{date:?} is not a YYYY-MM-DD date")))?;
        let granularity = interval.parse::<Granularity>().map_err(bad)?;
        Ok(SnapshotLocation {
            account,
            region,
            run_date,
            granularity,
        })
    }

    /// The path relative to `data/` (v2 layout when a region is known).
    pub fn relative_path(&self) -> String {
        let file = format!(
            "{}_{}.json",
            crate::time::Day(self.run_date),
            self.granularity
        );
        match &self.region {
            Some(r) => format!("{}/{}/{}", self.account, r, file),
            None => format!("{}/{}", self.account, file),
        }
    }

    /// The collection window `[start, end)` that a file of this name covers.
    ///
    /// DAILY files cover the day before the run; WEEKLY the Monday-to-Sunday week of the run;
    /// MONTHLY the calendar month of the run; YEARLY its calendar year.
    pub fn period(&self) -> (Date, Date) {
        period_of(self.run_date, self.granularity)
    }
}

/// The collection window `[start, end)` for a run on `run_date`.
pub fn period_of(run_date: Date, granularity: Granularity) -> (Date, Date) {
    match granularity {
        Granularity::Daily => (run_date - Duration::days(1), run_date),
        Granularity::Weekly => {
            let start =
                run_date - Duration::days(i64::from(run_date.weekday().number_days_from_monday()));
            (start, start + Duration::days(7))
        }
        Granularity::Monthly => {
            let start = run_date - Duration::days(i64::from(run_date.day()) - 1);
            let length = start.month().length(start.year());
            (start, start + Duration::days(i64::from(length)))
        }
        Granularity::Yearly => {
            let start = run_date - Duration::days(i64::from(run_date.ordinal()) - 1);
            let length = time::util::days_in_year(start.year());
            (start, start + Duration::days(i64::from(length)))
        }
    }
}

/// Reads a snapshot found at `location`, checking that the document's account matches it.
pub fn read_located(bytes: &[u8], location: &SnapshotLocation) -> Result<Snapshot, SnapshotError> {
    let snapshot = Snapshot::from_json(bytes)?;
    if snapshot.account.account_id != location.account {
        return Err(SnapshotError::AccountMismatch {
            document: snapshot.account.account_id,
            path: location.account,
        });
    }
    Ok(snapshot)
}
