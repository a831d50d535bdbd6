//! `logs`: the sender's own report of which categories it collected, and its error messages.

use super::Category;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Outcome of collecting one category, as the sender reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionStatus {
    /// Collected (`"Pass"`).
    Pass,
    /// The collector raised (`"Fail"`).
    Fail,
    /// Any other text the sender wrote.
    Other(String),
}

impl CollectionStatus {
    fn parse(s: &str) -> Self {
        match s.trim() {
            t if t.eq_ignore_ascii_case("pass") => CollectionStatus::Pass,
            t if t.eq_ignore_ascii_case("fail") => CollectionStatus::Fail,
            t => CollectionStatus::Other(t.to_owned()),
        }
    }

    /// The text stored in the database and written to files.
    pub fn as_str(&self) -> &str {
        match self {
            CollectionStatus::Pass => "Pass",
            CollectionStatus::Fail => "Fail",
            CollectionStatus::Other(s) => s,
        }
    }
}

/// One entry of `logs.message`: `{key: text}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMessage {
    /// What failed (a category, a sub-step such as `guard_duty`, or `Forecast unavailable`).
    pub key: String,
    /// The error text.
    pub text: String,
}

/// The `logs` object: per-category status and the error messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionLog {
    /// Status per category, for the categories the file reports.
    pub statuses: BTreeMap<Category, CollectionStatus>,
    /// `*_status` keys that name no known category, kept as they are.
    pub other_statuses: BTreeMap<String, String>,
    /// Messages in file order; repeated keys are kept (the original receiver collapsed them).
    pub messages: Vec<LogMessage>,
}

impl<'de> Deserialize<'de> for CollectionLog {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let obj = match v {
            serde_json::Value::Null => return Ok(CollectionLog::default()),
            serde_json::Value::Array(a) if a.is_empty() => return Ok(CollectionLog::default()),
            serde_json::Value::Object(o) => o,
            other => {
                return Err(de::Error::custom(format!(
                    "expected an object, found {}",
                    crate::lenient::json_kind(&other)
                )))
            }
        };
        let mut log = CollectionLog::default();
        for (key, value) in obj {
            if key == "message" || key == "messages" {
                collect_messages(value, &mut log.messages);
                continue;
            }
            let Some(name) = key.strip_suffix("_status") else {
                continue;
            };
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            match name.parse::<Category>() {
                Ok(c) => {
                    log.statuses.insert(c, CollectionStatus::parse(&text));
                }
                Err(_) => {
                    log.other_statuses.insert(key, text);
                }
            }
        }
        Ok(log)
    }
}

fn collect_messages(value: serde_json::Value, out: &mut Vec<LogMessage>) {
    let text_of = |v: serde_json::Value| match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    match value {
        serde_json::Value::Array(items) => {
            for item in items {
                collect_messages(item, out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, text) in map {
                out.push(LogMessage {
                    key,
                    text: text_of(text),
                });
            }
        }
        serde_json::Value::Null => {}
        other => out.push(LogMessage {
            key: "message".to_owned(),
            text: text_of(other),
        }),
    }
}

impl Serialize for CollectionLog {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (c, st) in &self.statuses {
            map.serialize_entry(&format!("{}_status", c.key()), st.as_str())?;
        }
        for (k, v) in &self.other_statuses {
            map.serialize_entry(k, v)?;
        }
        let messages: Vec<BTreeMap<&str, &str>> = self
            .messages
            .iter()
            .map(|m| BTreeMap::from([(m.key.as_str(), m.text.as_str())]))
            .collect();
        map.serialize_entry("message", &messages)?;
        map.end()
    }
}

impl CollectionLog {
    /// The load's health score: the percentage of reported categories that passed, 0–100
    /// with two decimals, or `None` when the file reports no status at all.
    ///
    /// Every reported category weighs the same; a status other than Pass counts as a failure.
    pub fn health_score(&self) -> Option<f64> {
        if self.statuses.is_empty() {
            return None;
        }
        let passed = self
            .statuses
            .values()
            .filter(|s| **s == CollectionStatus::Pass)
            .count();
        let score = passed as f64 * 100.0 / self.statuses.len() as f64;
        Some((score * 100.0).round() / 100.0)
    }
}
