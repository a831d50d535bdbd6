//! The anomaly score of one series of one closed window, as the detector gives it and the
//! store keeps it, with the explanation of an alarm.

use super::{Scope, Series};
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The score of one series for one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// The window's minute start.
    pub time: Timestamp,
    /// The window's scope.
    pub scope: Scope,
    /// The series scored: total, one tracked principal, or the untracked ones together.
    pub series: Series,
    /// The RCF anomaly score (about 1 for usual windows; 0 while the series' forest has not
    /// seen enough windows to score); for an alarm of the count model only (an untracked
    /// principal), its surprise (`-log10` of the tail probability).
    pub score: f64,
    /// What grew most against its recent average: `principal:P api:S:A`, followed by
    /// ` ip:I` when a source IP grew; `"none"` when nothing grew.
    pub contributor: String,
    /// Whether this is an anomaly: the score is at least the alarm threshold and the
    /// series' count is above its recent average by at least the minimum increase, or the
    /// count model found the principal's calls beyond what its rate explains.
    pub alarm: bool,
    /// What grew and against what; every alarm has one.
    pub explanation: Option<Explanation>,
}

/// What an alarm saw: which calls grew, how many there were and how many were expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Which detector raised it.
    pub kind: AlarmKind,
    /// Calls counted over the window that alarmed (the series' for `forest`, the
    /// principal's or its API's for `count`).
    pub observed: u64,
    /// Calls expected over the same window.
    pub expected: f64,
    /// The window's length, in minutes (1 to 5).
    pub minutes: u32,
    /// The principal whose calls grew most.
    pub principal: Option<String>,
    /// Its API that grew most (`service:api`).
    pub api: Option<String>,
    /// The source IP that grew most in the window.
    pub source_ip: Option<String>,
    /// The region of the calls, when the window knows it.
    pub region: Option<String>,
}

/// The detector behind an alarm. Written `forest`, `count`, `new_api`, `root`, `new_source`,
/// `sign_in_failures`, `access_denied` or `unused_region`, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlarmKind {
    /// A series' Random Cut Forest score crossed the threshold and its count grew.
    Forest,
    /// A principal's (or one of its APIs') calls over the last minutes are improbable given
    /// its own recent rate (the count model).
    Count,
    /// A principal known for the learning period called an API it had not called.
    NewApi,
    /// The account's root user made calls (the first minute of a root session).
    Root,
    /// A principal known for the learning period called from a source IP range or a region
    /// it had not used.
    NewSource,
    /// A burst of failed console sign-ins in an account.
    SignInFailures,
    /// A spike of `AccessDenied`-family errors of one principal against its own rate.
    AccessDenied,
    /// Calls in a region the organisation did not use during the learning period.
    UnusedRegion,
}

impl AlarmKind {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::Forest => "forest",
            AlarmKind::Count => "count",
            AlarmKind::NewApi => "new_api",
            AlarmKind::Root => "root",
            AlarmKind::NewSource => "new_source",
            AlarmKind::SignInFailures => "sign_in_failures",
            AlarmKind::AccessDenied => "access_denied",
            AlarmKind::UnusedRegion => "unused_region",
        }
    }

    /// A new-behaviour kind (its alarms are scores of [`super::Series::Behaviour`]), not a
    /// burst detector's.
    pub fn is_behaviour(self) -> bool {
        !matches!(self, AlarmKind::Forest | AlarmKind::Count)
    }

    /// Every kind, burst detectors first.
    pub const ALL: [AlarmKind; 8] = [
        AlarmKind::Forest,
        AlarmKind::Count,
        AlarmKind::NewApi,
        AlarmKind::Root,
        AlarmKind::NewSource,
        AlarmKind::SignInFailures,
        AlarmKind::AccessDenied,
        AlarmKind::UnusedRegion,
    ];
}

impl fmt::Display for AlarmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Text that is not an [`AlarmKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an alarm kind (expected \"forest\", \"count\", \"new_api\", \"root\", \
     \"new_source\", \"sign_in_failures\", \"access_denied\" or \"unused_region\")"
)]
pub struct InvalidAlarmKind(pub String);

impl FromStr for AlarmKind {
    type Err = InvalidAlarmKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlarmKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| InvalidAlarmKind(s.to_owned()))
    }
}

serde_as_text!(AlarmKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_as_text() {
        for k in AlarmKind::ALL {
            assert_eq!(k.as_str().parse::<AlarmKind>().unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!("rcf".parse::<AlarmKind>().is_err());
        let behaviour: Vec<&str> = AlarmKind::ALL
            .into_iter()
            .filter(|k| k.is_behaviour())
            .map(AlarmKind::as_str)
            .collect();
        assert_eq!(
            behaviour,
            [
                "new_api",
                "root",
                "new_source",
                "sign_in_failures",
                "access_denied",
                "unused_region"
            ]
        );
    }
}
