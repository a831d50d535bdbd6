//! `account`: who the account is, its labels and contacts.

use crate::id::AccountId;
use crate::lenient::{self, record};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The `account` object: identity, organisation labels and contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The 12-digit account id; the one field a snapshot cannot do without.
    pub account_id: AccountId,
    /// Account name (the sender falls back to the id).
    #[serde(default, deserialize_with = "lenient::string")]
    pub account_name: Option<String>,
    /// Primary e-mail, when known.
    #[serde(default, deserialize_with = "lenient::string")]
    pub account_email: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, ...
    #[serde(default, deserialize_with = "lenient::string")]
    pub account_status: Option<String>,
    /// Organizations ARN of the account.
    #[serde(default, deserialize_with = "lenient::string")]
    pub account_arn: Option<String>,
    /// Partner label (unset labels are `"None"` in the file and absent here).
    #[serde(default, deserialize_with = "lenient::label")]
    pub partner_name: Option<String>,
    /// Customer label.
    #[serde(default, deserialize_with = "lenient::label")]
    pub customer_name: Option<String>,
    /// Category label (Both, Internet, Intranet, or free text).
    #[serde(default, deserialize_with = "lenient::label")]
    pub category: Option<String>,
    /// Environment label (PRODUCTION, STAGING, ...).
    #[serde(default, deserialize_with = "lenient::label")]
    pub account_type: Option<String>,
    /// How the account joined the organisation.
    #[serde(default, deserialize_with = "lenient::string")]
    pub joined_method: Option<String>,
    /// When the account joined the organisation.
    #[serde(default, deserialize_with = "crate::lenient::Lenient::de")]
    pub joined_timestamp: Option<Timestamp>,
    /// The region the sender ran in.
    #[serde(default, deserialize_with = "lenient::label")]
    pub region: Option<String>,
    /// Products: a comma list, a JSON list, or `"None"`.
    #[serde(
        default,
        deserialize_with = "products",
        serialize_with = "products_as_text"
    )]
    pub product: Vec<String>,
    /// Postal contact of the account.
    #[serde(default, deserialize_with = "crate::lenient::Lenient::de")]
    pub contact_info: Option<ContactInfo>,
    /// Billing, operations and security contacts.
    #[serde(default, deserialize_with = "crate::lenient::Lenient::de")]
    pub alternate_contacts: Option<AlternateContacts>,
}

impl Account {
    /// A minimal account record for `id`.
    pub fn new(id: AccountId) -> Self {
        Account {
            account_id: id,
            account_name: None,
            account_email: None,
            account_status: None,
            account_arn: None,
            partner_name: None,
            customer_name: None,
            category: None,
            account_type: None,
            joined_method: None,
            joined_timestamp: None,
            region: None,
            product: Vec::new(),
            contact_info: None,
            alternate_contacts: None,
        }
    }
}

/// Written as the sender writes it: a comma list, or `"None"` when there is no product.
fn products_as_text<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_str("None")
    } else {
        s.serialize_str(&v.join(","))
    }
}

fn products<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let items: Vec<String> = match v {
        serde_json::Value::String(s) => s.split(',').map(|p| p.trim().to_owned()).collect(),
        serde_json::Value::Array(a) => a
            .into_iter()
            .filter_map(|x| match x {
                serde_json::Value::String(s) => Some(s.trim().to_owned()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for p in items {
        // An empty PRODUCT or the "None" label is no product, not a product named "None".
        if p.is_empty() || p == "None" || out.iter().any(|o| o.eq_ignore_ascii_case(&p)) {
            continue;
        }
        out.push(p);
    }
    Ok(out)
}

record! {
    /// `account.contact_info` (empty when GetContactInformation failed).
    pub struct ContactInfo {
        address_line1: Option<String>,
        address_line2: Option<String>,
        address_line3: Option<String>,
        city: Option<String>,
        country_code: Option<String>,
        postal_code: Option<String>,
        state_or_region: Option<String>,
        company_name: Option<String>,
        phone_number: Option<String>,
        website_url: Option<String>,
        full_name: Option<String>,
    }
}

impl ContactInfo {
    /// True when the sender wrote `{}` (the call failed or nothing is set).
    pub fn is_empty(&self) -> bool {
        *self == ContactInfo::default()
    }
}

record! {
    /// `account.alternate_contacts`: one optional contact per type.
    pub struct AlternateContacts {
        billing: Option<AlternateContact>,
        operations: Option<AlternateContact>,
        security: Option<AlternateContact>,
    }
}

impl AlternateContacts {
    /// The contacts that are set, with their type name (`BILLING`, ...).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &AlternateContact)> {
        [
            ("BILLING", self.billing.as_ref()),
            ("OPERATIONS", self.operations.as_ref()),
            ("SECURITY", self.security.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }
}

record! {
    /// One alternate contact.
    pub struct AlternateContact {
        name: Option<String>,
        title: Option<String>,
        email: Option<String>,
        phone: Option<String>,
    }
}
