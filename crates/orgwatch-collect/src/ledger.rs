//! The run's ledger: one entry per account x region x part, saying what happened and why.
//! The summary is built from it, so a run that missed data never reads as clean.

use crate::call::{CallError, Failure};
use orgwatch_model::AccountId;
use std::collections::BTreeMap;
use std::fmt;

/// What happened to one part of one account (and region).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Read completely.
    Ok,
    /// Read, but some per-item calls failed (the fields they fill are empty).
    Partial,
    /// Not read: the call failed.
    Failed(Failure),
    /// Not read on purpose: a suspended account, or its role could not be used.
    Skipped,
}

impl Status {
    /// The ledger's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Partial => "partial",
            Status::Failed(f) => f.as_str(),
            Status::Skipped => "skipped",
        }
    }
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The account.
    pub account: AccountId,
    /// The region, for a regional part.
    pub region: Option<String>,
    /// What was read: `account`, `security.kms`, ..., or `role` / `regions` for the steps
    /// before any category.
    pub part: &'static str,
    /// What happened.
    pub status: Status,
    /// Items read.
    pub items: usize,
    /// Why, when not plainly ok.
    pub reason: Option<String>,
}

impl Entry {
    /// A part read with `items` items and these per-item problems.
    pub fn read(
        account: AccountId,
        region: Option<&str>,
        part: &'static str,
        items: usize,
        problems: &[CallError],
    ) -> Self {
        let reason = (!problems.is_empty()).then(|| join(problems));
        Entry {
            account,
            region: region.map(str::to_owned),
            part,
            status: if problems.is_empty() {
                Status::Ok
            } else {
                Status::Partial
            },
            items,
            reason,
        }
    }

    /// A part that failed.
    pub fn failed(
        account: AccountId,
        region: Option<&str>,
        part: &'static str,
        err: &CallError,
    ) -> Self {
        Entry {
            account,
            region: region.map(str::to_owned),
            part,
            status: Status::Failed(err.failure),
            items: 0,
            reason: Some(err.to_string()),
        }
    }
}

/// The problems of a part in one line (at most three named, then a count).
fn join(problems: &[CallError]) -> String {
    let mut s: Vec<String> = problems.iter().take(3).map(ToString::to_string).collect();
    if problems.len() > 3 {
        s.push(format!("and {} more", problems.len() - 3));
    }
    s.join("; ")
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}: {}",
            self.account,
            self.region.as_deref().unwrap_or("(global)"),
            self.part,
            self.status.as_str()
        )?;
        if let Some(r) = &self.reason {
            write!(f, ": {r}")?;
        }
        Ok(())
    }
}

/// Every entry of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// In the order they were made.
    pub entries: Vec<Entry>,
}

impl Ledger {
    /// Entries per status word, e.g. `{"ok": 24, "denied": 5}`.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for e in &self.entries {
            *m.entry(e.status.as_str()).or_insert(0) += 1;
        }
        m
    }

    /// True when every entry is ok: nothing was missed.
    pub fn is_complete(&self) -> bool {
        self.entries.iter().all(|e| e.status == Status::Ok)
    }

    /// The entries that are not ok.
    pub fn problems(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.status != Status::Ok)
    }
}

impl fmt::Display for Ledger {
    /// `24 ok, 2 partial, 3 denied` (every status present, in a fixed order).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = self.counts();
        if counts.is_empty() {
            return f.write_str("nothing read");
        }
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(failure: Failure) -> CallError {
        CallError {
            action: "kms:GetKeyRotationStatus",
            failure,
            code: None,
            message: "no".into(),
        }
    }

    #[test]
    fn a_run_with_any_miss_is_not_complete_and_says_so() {
        let a = AccountId::parse("111122223333").unwrap();
        let mut l = Ledger::default();
        l.entries
            .push(Entry::read(a, Some("eu-west-1"), "security.kms", 2, &[]));
        assert!(l.is_complete());
        l.entries.push(Entry::read(
            a,
            Some("eu-west-1"),
            "security.kms",
            2,
            &[err(Failure::Denied)],
        ));
        l.entries
            .push(Entry::failed(a, None, "role", &err(Failure::Denied)));
        assert!(!l.is_complete());
        assert_eq!(l.to_string(), "1 denied, 1 ok, 1 partial");
        assert_eq!(l.problems().count(), 2);
    }

    #[test]
    fn long_problem_lists_are_cut_with_a_count() {
        let a = AccountId::parse("111122223333").unwrap();
        let problems: Vec<CallError> = (0..5).map(|_| err(Failure::Error)).collect();
        let e = Entry::read(a, None, "account", 1, &problems);
        assert!(e.reason.as_deref().unwrap_or("").ends_with("and 2 more"));
    }
}
