//! Identifiers parsed once at the edge: AWS account ids, regions, collection intervals.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId([u8; 12]);

/// Text that is not a 12-digit account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an AWS account id (expected exactly 12 digits)")]
pub struct InvalidAccountId(pub String);

impl AccountId {
    /// Parses exactly 12 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, InvalidAccountId> {
        let b = s.as_bytes();
        if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
            return Err(InvalidAccountId(s.to_owned()));
        }
        let mut out = [0u8; 12];
        out.copy_from_slice(b);
        Ok(AccountId(out))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("000000000000")
    }
}

impl FromStr for AccountId {
    type Err = InvalidAccountId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountId::parse(s)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match &v {
            serde_json::Value::String(s) => AccountId::parse(s).map_err(de::Error::custom),
            other => Err(de::Error::custom(format!(
                "expected a 12-digit account id as a string, found {}",
                crate::lenient::json_kind(other)
            ))),
        }
    }
}

/// An AWS region name such as `us-east-1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(String);

/// Text that is not a region name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an AWS region name (expected e.g. us-east-1)")]
pub struct InvalidRegion(pub String);

impl Region {
    /// Parses a region name: lowercase letters, digits and dashes, starting with a letter and
    /// ending with a digit (`us-east-1`, `us-gov-west-1`, `eu-central-2`).
    pub fn parse(s: &str) -> Result<Self, InvalidRegion> {
        let ok = (4..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.as_bytes()[s.len() - 1].is_ascii_digit()
            && s.contains('-');
        if ok {
            Ok(Region(s.to_owned()))
        } else {
            Err(InvalidRegion(s.to_owned()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How long a snapshot's collection window is (the `{INTERVAL}` of its file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Granularity {
    /// One day: a file dated D covers D-1.
    Daily,
    /// Monday to Sunday.
    Weekly,
    /// One calendar month.
    Monthly,
    /// One calendar year.
    Yearly,
}

impl Granularity {
    /// The upper-case name used in file names and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Daily => "DAILY",
            Granularity::Weekly => "WEEKLY",
            Granularity::Monthly => "MONTHLY",
            Granularity::Yearly => "YEARLY",
        }
    }
}

impl FromStr for Granularity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "DAILY" => Ok(Granularity::Daily),
            "WEEKLY" => Ok(Granularity::Weekly),
            "MONTHLY" => Ok(Granularity::Monthly),
            "YEARLY" => Ok(Granularity::Yearly),
            _ => Err(format!("{s:?} is not DAILY, WEEKLY, MONTHLY or YEARLY")),
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_exactly_twelve_digits() {
        assert_eq!(
            AccountId::parse("012345678901").unwrap().as_str(),
            "012345678901"
        );
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 123456789012",
            "１２３４５６７８９０１２",
        ] {
            assert!(AccountId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn regions_look_like_regions() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(Region::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "Global", "us-east", "US-EAST-1", "../etc", "us east 1"] {
            assert!(Region::parse(bad).is_err(), "{bad:?}");
        }
    }
}
