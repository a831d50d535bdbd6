//! The anomaly score of one series of one closed window, as the detector gives it and the
//! store keeps it.

use super::{Scope, Series};
use crate::Timestamp;
use serde::{Deserialize, Serialize};

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
    /// seen enough windows to score).
    pub score: f64,
    /// What grew most against its recent average: `principal:P api:S:A`, followed by
    /// ` ip:I` when a source IP grew; `"none"` when nothing grew.
    pub contributor: String,
    /// Whether this is an anomaly: the score is at least the alarm threshold and the
    /// series' count is above its recent average by at least the minimum increase.
    pub alarm: bool,
}
