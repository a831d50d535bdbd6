//! The series an anomaly score is of: every call, the untracked principals, or one principal.

use super::AlarmKind;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Which calls of a scope a score counts. Written `"total"`, `"others"` or `"principal:NAME"`,
/// which is how it is stored and serialised; sorted as that text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Series {
    /// Every call of the scope.
    Total,
    /// The calls of the principals without a series of their own, together.
    Others,
    /// The calls of one principal.
    Principal(String),
    /// A new-behaviour alarm of one principal (`KIND:NAME`, e.g. `new_api:alice`): kept apart
    /// from the principal's count series, so both alarm in one window.
    Behaviour(AlarmKind, String),
}

/// Prefix of [`Series::Principal`] in text.
const PRINCIPAL: &str = "principal:";

impl Series {
    /// Rank in text order: `others` < `principal:…` < `total`.
    fn rank(&self) -> u8 {
        match self {
            Series::Others => 0,
            Series::Principal(_) | Series::Behaviour(..) => 1,
            Series::Total => 2,
        }
    }
}

impl Ord for Series {
    fn cmp(&self, other: &Self) -> Ordering {
        // As text (as stored rows are ordered), without writing it out.
        match (self, other) {
            (Series::Principal(a), Series::Principal(b)) => a.cmp(b),
            // Rare (alarms only): compare the texts.
            (Series::Behaviour(..), _) | (_, Series::Behaviour(..)) => {
                self.to_string().cmp(&other.to_string())
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Series {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Text that is not a [`Series`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an anomaly series (expected \"total\", \"others\" or \"principal:NAME\")")]
pub struct InvalidSeries(pub String);

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Series::Total => f.pad("total"),
            Series::Others => f.pad("others"),
            // Built only when a width or precision asks for padding.
            Series::Principal(name) if f.width().is_some() || f.precision().is_some() => {
                f.pad(&format!("{PRINCIPAL}{name}"))
            }
            Series::Principal(name) => write!(f, "{PRINCIPAL}{name}"),
            Series::Behaviour(kind, name) => f.pad(&format!("{kind}:{name}")),
        }
    }
}

impl FromStr for Series {
    type Err = InvalidSeries;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "total" => Ok(Series::Total),
            "others" => Ok(Series::Others),
            _ => {
                if let Some(name) = s.strip_prefix(PRINCIPAL) {
                    return Ok(Series::Principal(name.to_owned()));
                }
                s.split_once(':')
                    .and_then(|(kind, name)| {
                        let kind: AlarmKind = kind.parse().ok()?;
                        kind.is_behaviour()
                            .then(|| Series::Behaviour(kind, name.to_owned()))
                    })
                    .ok_or_else(|| InvalidSeries(s.to_owned()))
            }
        }
    }
}

serde_as_text!(Series);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        let cases = [
            ("total", Series::Total),
            ("others", Series::Others),
            ("principal:alice", Series::Principal("alice".into())),
            (
                "principal:role/ci:deploy 42",
                Series::Principal("role/ci:deploy 42".into()),
            ),
            ("principal:total", Series::Principal("total".into())),
            (
                "root:root",
                Series::Behaviour(AlarmKind::Root, "root".into()),
            ),
            (
                "new_api:role/ci:x",
                Series::Behaviour(AlarmKind::NewApi, "role/ci:x".into()),
            ),
        ];
        for (text, series) in cases {
            assert_eq!(text.parse::<Series>().unwrap(), series);
            assert_eq!(series.to_string(), text);
            let json = serde_json::to_string(&series).unwrap();
            assert_eq!(json, format!("{text:?}"));
            assert_eq!(serde_json::from_str::<Series>(&json).unwrap(), series);
        }
        let alice = Series::Principal("alice".into());
        assert_eq!(format!("{alice:<18}|"), "principal:alice   |");
    }

    #[test]
    fn series_sort_as_their_text() {
        let text = [
            "total",
            "principal:b",
            "others",
            "principal:a",
            "principal:",
            "principal:ab",
        ];
        let mut series: Vec<Series> = text.iter().map(|t| t.parse().unwrap()).collect();
        series.sort();
        let mut sorted = text.to_vec();
        sorted.sort();
        let written: Vec<String> = series.iter().map(Series::to_string).collect();
        assert_eq!(written, sorted);
    }

    #[test]
    fn other_text_is_refused() {
        for text in ["", "Total", "principal", "alice", "others "] {
            assert_eq!(text.parse::<Series>(), Err(InvalidSeries(text.to_owned())));
        }
    }
}
