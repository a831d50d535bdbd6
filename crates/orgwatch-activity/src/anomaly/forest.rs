//! The forest of one series: building `krcflib`'s small or large Random Cut Forest, scoring
//! a count before learning it, and the series' recent average.

use super::config::{DetectorConfig, BASELINE_MINUTES};
use super::{Scope, Series};
use rcflib::rcf::{AugmentedRCF, RCFBuilder, RCFLarge, RCFOptionsBuilder, RCFSmall};
use serde::{Deserialize, Serialize};

/// The forest of one series.
///
/// New forests are `krcflib`'s `RCFSmall` (8- and 16-bit node and sample indices): 0.5 MB for
/// 100 trees of 256 points, where `krcf`'s wrapper type, `RCFLarge` (every index a `usize`),
/// holds 1.4 MB; their scores are the same. `Large` forests come only from states saved before
/// format 4 and are kept as they are, so an upgrade keeps its model.
#[derive(Clone, Serialize, Deserialize)]
pub(super) enum Forest {
    /// The compact layout, for every new forest.
    Small(RCFSmall<u64, u64>),
    /// The layout of states saved before format 4.
    Large(RCFLarge<u64, u64>),
}

impl Forest {
    pub(super) fn is_output_ready(&self) -> bool {
        match self {
            Forest::Small(f) => f.is_output_ready(),
            Forest::Large(f) => f.is_output_ready(),
        }
    }

    pub(super) fn score(&self, x: &[f32]) -> f64 {
        let score = match self {
            Forest::Small(f) => f.score(x),
            Forest::Large(f) => f.score(x),
        };
        // The forest's dimensions are fixed at creation and `x` has that one dimension.
        score.unwrap_or(0.0)
    }

    pub(super) fn update(&mut self, x: &[f32]) {
        // As for `score`: `x` has the forest's one dimension, so this does not fail.
        let _ = match self {
            Forest::Small(f) => f.update(x, 0),
            Forest::Large(f) => f.update(x, 0),
        };
    }
}

/// A new forest of series `name` of `scope`, small or large.
pub(super) fn build_forest(
    config: &DetectorConfig,
    scope: &str,
    name: &str,
    small: bool,
) -> Result<Forest, rcflib::errors::RCFError> {
    let mut options = RCFBuilder::new(1, config.shingle);
    options
        .number_of_trees(config.trees)
        .tree_capacity(config.sample_size)
        .output_after(config.output_after)
        .random_seed(config.seed ^ fnv1a(scope, name))
        // One thread per forest: many forests are updated per window, and the results must
        // not depend on scheduling.
        .parallel_enabled(false)
        .time_decay(config.time_decay)
        .internal_shingling(true)
        // The cache only saves recomputing bounding boxes: scores are the same without it,
        // and a forest is 2.5 times smaller.
        .bounding_box_cache_fraction(0.0);
    Ok(if small {
        Forest::Small(options.build_small_simple::<u64>()?)
    } else {
        Forest::Large(options.build_large_simple::<u64>()?)
    })
}

/// One scored series: its forest and its recent average. Generic over the forest only to
/// read states of format 1 to 3, whose forests are bare `RCFLarge`s.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct SeriesForest<F = Forest> {
    pub(super) forest: F,
    /// Exponentially weighted average of the count ([`BASELINE_MINUTES`]).
    baseline: f64,
}

impl<F> SeriesForest<F> {
    /// The series with its forest replaced by `f` of it.
    pub(super) fn map_forest<G>(self, f: impl Fn(F) -> G) -> SeriesForest<G> {
        SeriesForest {
            forest: f(self.forest),
            baseline: self.baseline,
        }
    }
}

impl SeriesForest {
    pub(super) fn new(config: &DetectorConfig, scope: Scope, series: &Series) -> Self {
        // The seed comes from the texts, as it did when scopes and series were strings.
        let (scope, name) = (scope.as_str(), series.to_string());
        // The small layout takes at most 256 points per tree and 254 dimensions.
        let forest = build_forest(config, scope, &name, true)
            .or_else(|_| build_forest(config, scope, &name, false))
            // Only invalid parameters fail; DetectorConfig is plain data, so say which.
            .unwrap_or_else(|e| panic!("invalid anomaly DetectorConfig {config:?}: {e:?}"));
        SeriesForest {
            forest,
            baseline: 0.0,
        }
    }

    /// Scores `value` (before learning it), then learns it.
    pub(super) fn observe(&mut self, value: u64, min_increase: u64) -> Scored {
        let x = [value as f32];
        let score = if self.forest.is_output_ready() {
            self.forest.score(&x)
        } else {
            0.0
        };
        let grew =
            value as f64 > self.baseline && value as f64 >= self.baseline + min_increase as f64;
        self.forest.update(&x);
        let expected = self.baseline;
        self.baseline += (value as f64 - self.baseline) / BASELINE_MINUTES;
        Scored {
            score,
            grew,
            observed: value,
            expected,
        }
    }
}

/// A series' score of one window.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scored {
    /// The forest's score (0 until it is ready).
    pub(super) score: f64,
    /// The count is above the recent average by at least the minimum increase.
    pub(super) grew: bool,
    /// The window's count.
    pub(super) observed: u64,
    /// The recent average it was compared with.
    pub(super) expected: f64,
}

/// FNV-1a of a scope and series name: a seed per series that is stable across runs and
/// platforms (std's hasher is randomised).
fn fnv1a(scope: &str, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in scope.bytes().chain([0]).chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::tests::small;

    #[test]
    fn small_and_large_forests_score_alike() {
        let config = small();
        let (mut a, mut b) = (
            build_forest(&config, "org", "total", true).unwrap(),
            build_forest(&config, "org", "total", false).unwrap(),
        );
        assert!(matches!((&a, &b), (Forest::Small(_), Forest::Large(_))));
        for m in 0..300u32 {
            let x = [if (200..205).contains(&m) {
                90.0
            } else {
                (m % 7) as f32
            }];
            if m >= 8 {
                assert_eq!(a.score(&x), b.score(&x), "minute {m}");
            }
            a.update(&x);
            b.update(&x);
        }
    }
}
