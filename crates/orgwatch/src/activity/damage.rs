//! The inputs a run could not read whole, named one by one: files with undecodable or
//! oversized records, files that failed or stopped early (incomplete), and empty files. The
//! summary and `--report json` list them, and any of them but an empty file makes the exit
//! status 2, so a script can tell that records were dropped.

use orgwatch_activity::Report;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What went wrong in one input.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileDamage {
    /// Records that could not be decoded (oversized ones included).
    pub undecodable: u64,
    /// Of those, records longer than `--max-record-bytes`.
    pub oversized: u64,
    /// The first reason given for an undecodable record.
    pub first_reason: Option<String>,
    /// Why the input was not read to its end (failed, or incomplete after some records).
    pub error: Option<String>,
}

/// The damaged and the empty inputs of a run, by name.
#[derive(Debug, Default)]
pub struct Damage {
    files: BTreeMap<String, FileDamage>,
    empty: Vec<String>,
}

impl Damage {
    /// Notes the counts of (part of) an input.
    pub fn add(&mut self, name: &str, report: &Report) {
        if report.skipped.contains_key("empty") {
            self.empty.push(name.to_owned());
        }
        if report.undecodable == 0 {
            return;
        }
        let d = self.files.entry(name.to_owned()).or_default();
        d.undecodable += report.undecodable;
        d.oversized += report.oversized;
        if d.first_reason.is_none() {
            d.first_reason = report.undecodable_reasons.first().cloned();
        }
    }

    /// Notes an input that could not be read to its end.
    pub fn failed(&mut self, name: &str, reason: &str) {
        self.files.entry(name.to_owned()).or_default().error = Some(reason.to_owned());
    }

    /// Whether a record was dropped or an input not read to its end.
    pub fn any(&self) -> bool {
        !self.files.is_empty()
    }

    /// Adds another run part's damage.
    pub fn merge(&mut self, other: Damage) {
        for (name, d) in other.files {
            let mine = self.files.entry(name).or_default();
            mine.undecodable += d.undecodable;
            mine.oversized += d.oversized;
            mine.first_reason = mine.first_reason.take().or(d.first_reason);
            mine.error = mine.error.take().or(d.error);
        }
        self.empty.extend(other.empty);
    }

    /// One line per damaged input (`FILE: 2 undecodable records (1 oversized), first: …;
    /// incomplete: …`), then one per empty input, for stderr.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, d) in &self.files {
            let mut parts = Vec::new();
            if d.undecodable > 0 {
                let s = if d.undecodable == 1 { "" } else { "s" };
                let mut p = format!("{} undecodable record{s}", d.undecodable);
                if d.oversized > 0 {
                    p.push_str(&format!(" ({} oversized)", d.oversized));
                }
                if let Some(r) = &d.first_reason {
                    // The decoder names the file in its reasons already.
                    let r = r.strip_prefix(&format!("{name}: ")).unwrap_or(r);
                    p.push_str(&format!(", first: {r}"));
                }
                parts.push(p);
            }
            if let Some(e) = &d.error {
                parts.push(e.clone());
            }
            out.push(format!("{name}: {}", parts.join("; ")));
        }
        let mut empty = self.empty.clone();
        empty.sort();
        for name in empty {
            out.push(format!(
                "{name}: empty (no records: 0 bytes or whitespace only)"
            ));
        }
        out
    }

    /// Adds `oversized` (the records skipped for their size, also counted in `undecodable`)
    /// and `damaged_files` (`[{"file", "undecodable", "oversized", "error"}]`, in name order)
    /// to a report's JSON object.
    pub fn annotate(&self, report: &Report, json: &mut Value) {
        if let Value::Object(m) = json {
            m.insert("oversized".to_owned(), json!(report.oversized));
            let files = self
                .files
                .iter()
                .map(|(name, d)| {
                    json!({
                        "file": name,
                        "undecodable": d.undecodable,
                        "oversized": d.oversized,
                        "error": d.error,
                    })
                })
                .collect();
            m.insert("damaged_files".to_owned(), Value::Array(files));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_inputs_are_named_one_line_each() {
        let mut d = Damage::default();
        let mut r = Report::new();
        r.add_oversized("a.json: record 3 at byte 90: too long");
        r.add_undecodable("record 5 at byte 400: bad");
        d.add("a.json", &r);
        d.add("b.json", &Report::new());
        let mut empty = Report::new();
        empty.add_skipped("empty");
        d.add("c.json", &empty);
        d.failed("d.json.gz", "incomplete: reading stopped after 3 records");
        assert!(d.any());
        assert_eq!(
            d.lines(),
            [
                "a.json: 2 undecodable records (1 oversized), first: record 3 at byte 90: too long",
                "d.json.gz: incomplete: reading stopped after 3 records",
                "c.json: empty (no records: 0 bytes or whitespace only)",
            ]
        );
        let mut json = json!({});
        d.annotate(&r, &mut json);
        assert_eq!(json["oversized"], 1);
        assert_eq!(json["damaged_files"][1]["file"], "d.json.gz");
        assert_eq!(json["damaged_files"][0]["undecodable"], 2);
    }
}
