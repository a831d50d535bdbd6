//! Anomaly scoring of per-minute call counts with Random Cut Forest (Guha et al. 2016).
//!
//! The forests come from the `krcflib` crate (the Rust code of AWS's
//! `random-cut-forest-by-aws`), in its compact layout; `DESIGN.md` ("Anomaly detection") says
//! why and gives the measured figures. Everything around the forests is written here, because
//! no RCF crate does it: which series exist per scope, which principals get a forest, gap
//! filling, the alarm rule, and the contributor of a score.
//!
//! Per scope (an account, or the organisation) a [`Detector`] keeps one 1-dimensional,
//! shingled forest for each of these series of 1-minute counts:
//!
//! - `total`: every call of the scope (what the RTIAA reference scored, per 10 s);
//! - `principal:NAME`: the calls of one *tracked* principal. At most
//!   [`DetectorConfig::max_principals`] principals per scope are tracked: the most active
//!   ones (an exponentially weighted average of their counts, time constant
//!   [`ACTIVITY_MINUTES`]). A principal active enough ([`ADMIT_ABOVE`]) takes a free slot; when all slots are
//!   taken it replaces the least active tracked principal once it is [`REPLACE_FACTOR`]
//!   times as active, and a tracked principal idle long enough to fall under
//!   [`EVICT_BELOW`] calls/minute frees its slot. This bounds memory and time per scope
//!   whatever the number of principals;
//! - `others`: the calls of all untracked principals together, so that a burst of a rare or
//!   new principal is still scored against a series that does not contain the big ones.
//!
//! A score is the forest's anomaly score of the window's count given the previous
//! `shingle - 1` counts, computed *before* the count is added to the forest. It is an
//! **alarm** when it is at least [`DetectorConfig::alarm_threshold`] and the count is above
//! the series' recent average by at least [`DetectorConfig::min_alarm_increase`] calls (RCF
//! also scores drops; orgwatch alarms on growth only).
//!
//! The **contributor** of a score is not the forest's attribution (`DiVector`): the forests
//! are 1-dimensional, so attribution could only name a minute of the shingle. Instead the
//! window's per-(principal, API) and per-source-IP counts are compared with their own recent
//! averages ([`BASELINE_MINUTES`]) and the keys that grew most are named, e.g.
//! `principal:deployer/ci-42 api:ec2.amazonaws.com:RunInstances ip:203.0.113.7`.
//!
//! ```
//! use orgwatch_activity::anomaly::{Detector, DetectorConfig, WindowCounts};
//! use orgwatch_model::Timestamp;
//!
//! let mut det = Detector::new(DetectorConfig { trees: 10, ..DetectorConfig::default() });
//! let start = Timestamp::parse("2026-11-23T08:00:00Z").unwrap();
//! let w = WindowCounts::empty(start, "123456789012");
//! let scores = det.observe(&w);
//! assert_eq!(scores[0].series, "total");
//! assert!(!scores[0].alarm); // a new forest is not ready: score 0
//! let restored = Detector::from_bytes(&det.to_bytes()).unwrap();
//! assert_eq!(restored.config(), det.config());
//! ```

use orgwatch_model::Timestamp;
use rcflib::rcf::{AugmentedRCF, RCFBuilder, RCFLarge, RCFOptionsBuilder, RCFSmall};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Duration;

/// Time constant, in minutes, of the averages the contributor and the "grew" test compare a
/// window with. Short enough to follow the day/night cycle, long enough that a 5-minute
/// burst stands out from it.
pub const BASELINE_MINUTES: f64 = 30.0;

/// Time constant, in minutes, of a principal's activity (which principals get a forest).
/// Long, so that one burst does not reshuffle the tracked principals.
pub const ACTIVITY_MINUTES: f64 = 240.0;

/// An untracked principal replaces the least active tracked one when it is this many times
/// as active (hysteresis: two similar principals do not swap back and forth).
pub const REPLACE_FACTOR: f64 = 4.0;

/// A tracked principal whose activity falls under this (calls/minute) loses its forest; an
/// average (per-key baseline) under it is forgotten.
pub const EVICT_BELOW: f64 = 0.01;

/// A principal gets a forest only once its activity reaches this (calls/minute): a
/// principal seen once or twice stays in `others` instead of costing a forest that is
/// dropped again minutes later.
pub const ADMIT_ABOVE: f64 = 0.05;

/// Leading bytes of [`Detector::to_bytes`]: format name and version (4: each scope
/// zlib-compressed on its own, so that scopes are compressed and restored in parallel, and
/// each forest tagged with its layout, small or large).
const MAGIC: &[u8; 8] = b"OWRCF\x00\x00\x04";

/// Version 3 (as 4, with every forest large), still read.
const MAGIC_V3: &[u8; 8] = b"OWRCF\x00\x00\x03";

/// Version 2 (the whole detector compressed at once), still read.
const MAGIC_V2: &[u8; 8] = b"OWRCF\x00\x00\x02";

/// Version 1 (uncompressed), still read.
const MAGIC_V1: &[u8; 8] = b"OWRCF\x00\x00\x01";

/// Why a detector could not be restored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnomalyError {
    /// The bytes are not a detector state of this format version.
    #[error("not an orgwatch anomaly detector state (or another format version)")]
    Format,
    /// The state does not decode.
    #[error("corrupt anomaly detector state: {0}")]
    Decode(String),
}

/// Counts of one closed 1-minute window for one scope (an account, or the organisation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowCounts {
    /// Minute start, UTC (seconds are ignored: the window is the minute containing it).
    pub start: Timestamp,
    /// 12-digit account id, or `"org"`.
    pub scope: String,
    /// Calls in the window.
    pub total: u64,
    /// Calls per principal (complete: sums to `total`).
    pub by_principal: BTreeMap<String, u64>,
    /// Calls per (principal, `"service:api"`), complete.
    pub by_principal_api: BTreeMap<(String, String), u64>,
    /// Calls per source IP (or service name, as CloudTrail writes it).
    pub by_source_ip: BTreeMap<String, u64>,
}

impl WindowCounts {
    /// A window with no calls.
    pub fn empty(start: Timestamp, scope: impl Into<String>) -> Self {
        WindowCounts {
            start,
            scope: scope.into(),
            total: 0,
            by_principal: BTreeMap::new(),
            by_principal_api: BTreeMap::new(),
            by_source_ip: BTreeMap::new(),
        }
    }

    /// Counts one call (a convenience for building windows by hand).
    pub fn add(&mut self, principal: &str, api: &str, source_ip: Option<&str>) {
        self.total += 1;
        *self.by_principal.entry(principal.to_owned()).or_insert(0) += 1;
        *self
            .by_principal_api
            .entry((principal.to_owned(), api.to_owned()))
            .or_insert(0) += 1;
        if let Some(ip) = source_ip {
            *self.by_source_ip.entry(ip.to_owned()).or_insert(0) += 1;
        }
    }
}

/// The score of one series for one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// The window's minute start.
    pub time: Timestamp,
    /// The window's scope.
    pub scope: String,
    /// `"total"`, `"principal:NAME"` or `"others"` (the untracked principals together).
    pub series: String,
    /// The RCF anomaly score (about 1 for usual windows; 0 while the series' forest has not
    /// seen enough windows to score).
    pub score: f64,
    /// The window's count in this series.
    pub value: u64,
    /// What grew most against its recent average: `principal:P api:S:A`, followed by
    /// ` ip:I` when a source IP grew; `"none"` when nothing grew.
    pub contributor: String,
    /// Whether this is an anomaly: `score >= alarm_threshold` and `value` above its recent
    /// average by at least `min_alarm_increase`.
    pub alarm: bool,
}

/// Detector parameters. `Default` gives the documented values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// Trees per forest. Default 30 (RTIAA: 100; the burst test scores the same with 100, 50,
    /// 30 and 20, and 30 keeps a long run of 50 accounts under 256 MiB: `DESIGN.md`).
    pub trees: usize,
    /// Points sampled per tree. Default 256 (RTIAA).
    pub sample_size: usize,
    /// Consecutive windows in one forest point. Default 4: RTIAA used 20 on 10-second
    /// windows; on 1-minute windows 20 was measured to be worse (strong bursts missed, more
    /// false alarms), 4 best of 1, 4, 6, 10, 20 (`DESIGN.md`).
    pub shingle: usize,
    /// Forgetting rate per update. Default `0.1 / sample_size` (the AWS RCF default: the
    /// sample spans about 10 × 256 minutes, i.e. more than a day, so the day/night cycle is
    /// in it). RTIAA's Kinesis `timeDecay = 100000` is a different parameterisation.
    pub time_decay: f64,
    /// Windows a new forest sees before it scores. Default `sample_size / 4`.
    pub output_after: usize,
    /// Alarm when the score is at least this (and the count grew). Default
    /// [`DEFAULT_ALARM_THRESHOLD`].
    pub alarm_threshold: f64,
    /// Principals per scope with a forest of their own. Default 4 (the burst test's setting:
    /// each forest of the default size holds 0.16 MB and costs about 85 µs per window).
    pub max_principals: usize,
    /// Most missing minutes filled with zero windows before a window (a longer gap is
    /// filled with this many). Default 1440 (a day).
    pub max_gap_fill: u32,
    /// An alarm also needs the count to exceed its recent average by at least this many
    /// calls. Default [`DEFAULT_MIN_ALARM_INCREASE`]: without it, in a quiet account (a few
    /// calls a day, like the sample logs) nearly every call after hours of zeros scores
    /// high and alarms; a burst that matters adds more calls than that in a minute.
    #[serde(default = "default_min_alarm_increase")]
    pub min_alarm_increase: u64,
    /// Seed of the forests' random cuts (each series derives its own from it and its name),
    /// so that runs are reproducible.
    pub seed: u64,
}

/// The default alarm threshold on the RCF score, measured on the burst test
/// (`tests/anomaly.rs`): usual windows score about 1, and no more than about 2.5 for
/// Poisson noise on a day/night cycle.
pub const DEFAULT_ALARM_THRESHOLD: f64 = 2.75;

/// The default [`DetectorConfig::min_alarm_increase`].
pub const DEFAULT_MIN_ALARM_INCREASE: u64 = 5;

fn default_min_alarm_increase() -> u64 {
    DEFAULT_MIN_ALARM_INCREASE
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            trees: 30,
            sample_size: 256,
            shingle: 4,
            time_decay: 0.1 / 256.0,
            output_after: 64,
            alarm_threshold: DEFAULT_ALARM_THRESHOLD,
            max_principals: 4,
            max_gap_fill: 1440,
            min_alarm_increase: DEFAULT_MIN_ALARM_INCREASE,
            seed: 0x6f72_6777_6174_6368, // "orgwatch"
        }
    }
}

/// The forest of one series.
///
/// New forests are `krcflib`'s `RCFSmall` (8- and 16-bit node and sample indices): 0.5 MB for
/// 100 trees of 256 points, where `krcf`'s wrapper type, `RCFLarge` (every index a `usize`),
/// holds 1.4 MB; their scores are the same. `Large` forests come only from states saved before
/// format 4 and are kept as they are, so an upgrade keeps its model.
#[derive(Clone, Serialize, Deserialize)]
enum Forest {
    Small(RCFSmall<u64, u64>),
    Large(RCFLarge<u64, u64>),
}

impl Forest {
    fn is_output_ready(&self) -> bool {
        match self {
            Forest::Small(f) => f.is_output_ready(),
            Forest::Large(f) => f.is_output_ready(),
        }
    }

    fn score(&self, x: &[f32]) -> f64 {
        let score = match self {
            Forest::Small(f) => f.score(x),
            Forest::Large(f) => f.score(x),
        };
        // The forest's dimensions are fixed at creation and `x` has that one dimension.
        score.unwrap_or(0.0)
    }

    fn update(&mut self, x: &[f32]) {
        // As for `score`: `x` has the forest's one dimension, so this does not fail.
        let _ = match self {
            Forest::Small(f) => f.update(x, 0),
            Forest::Large(f) => f.update(x, 0),
        };
    }
}

/// A new forest of series `name` of `scope`, small or large.
fn build_forest(
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
struct Series<F = Forest> {
    forest: F,
    /// Exponentially weighted average of the count ([`BASELINE_MINUTES`]).
    baseline: f64,
}

impl<F> Series<F> {
    /// The series with its forest replaced by `f` of it.
    fn map_forest<G>(self, f: impl Fn(F) -> G) -> Series<G> {
        Series {
            forest: f(self.forest),
            baseline: self.baseline,
        }
    }
}

impl Series {
    fn new(config: &DetectorConfig, scope: &str, name: &str) -> Self {
        // The small layout takes at most 256 points per tree and 254 dimensions.
        let forest = build_forest(config, scope, name, true)
            .or_else(|_| build_forest(config, scope, name, false))
            // Only invalid parameters fail; DetectorConfig is plain data, so say which.
            .unwrap_or_else(|e| panic!("invalid anomaly DetectorConfig {config:?}: {e:?}"));
        Series {
            forest,
            baseline: 0.0,
        }
    }

    /// Scores `value` (before learning it), then learns it. Returns (score, grew): grew is
    /// `value` above the recent average by at least `min_increase`.
    fn observe(&mut self, value: u64, min_increase: u64) -> (f64, bool) {
        let x = [value as f32];
        let score = if self.forest.is_output_ready() {
            self.forest.score(&x)
        } else {
            0.0
        };
        let grew =
            value as f64 > self.baseline && value as f64 >= self.baseline + min_increase as f64;
        self.forest.update(&x);
        self.baseline += (value as f64 - self.baseline) / BASELINE_MINUTES;
        (score, grew)
    }
}

/// Per-scope state (generic over the forest, as [`Series`]).
#[derive(Clone, Serialize, Deserialize)]
struct Scope<F = Forest> {
    /// Minute (Unix seconds / 60) of the last window observed.
    last_minute: i64,
    total: Series<F>,
    others: Series<F>,
    principals: BTreeMap<String, Series<F>>,
    /// Activity (calls/minute, [`ACTIVITY_MINUTES`]) of every recently active principal.
    activity: BTreeMap<String, f64>,
    /// Recent average per (principal, API) and per source IP ([`BASELINE_MINUTES`]).
    key_baseline: BTreeMap<(String, String), f64>,
    ip_baseline: BTreeMap<String, f64>,
    /// Windows left during which `others` does not alarm: a change of the tracked
    /// principals shifts its level for a known reason (the change's effect leaves the
    /// shingle after `shingle` windows).
    others_settling: usize,
}

/// The anomaly detector of every scope. Serialisable as a whole ([`Detector::to_bytes`], or
/// serde): a restored detector continues exactly as one that never stopped, with no warm-up.
#[derive(Clone, Serialize, Deserialize)]
pub struct Detector {
    config: DetectorConfig,
    scopes: BTreeMap<String, Scope>,
    stale_windows: u64,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("config", &self.config)
            .field("scopes", &self.scopes.len())
            .field("forests", &self.forests())
            .field("stale_windows", &self.stale_windows)
            .finish()
    }
}

impl Detector {
    /// A detector with no scopes yet.
    pub fn new(config: DetectorConfig) -> Self {
        Detector {
            config,
            scopes: BTreeMap::new(),
            stale_windows: 0,
        }
    }

    /// Its parameters.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Feeds one scope's closed window and returns its scores: `total`, `others`, then one
    /// per tracked principal (by name).
    ///
    /// Windows of a scope must come in time order, one per minute. **The detector fills
    /// gaps itself**: when minutes are missing since the scope's previous window it first
    /// feeds zero windows for them (at most [`DetectorConfig::max_gap_fill`]; their scores are
    /// not returned), so the caller may skip empty minutes. A window not after the scope's
    /// previous one (late or duplicate) is ignored: it returns no scores and is counted in
    /// [`Detector::stale_windows`].
    pub fn observe(&mut self, w: &WindowCounts) -> Vec<Anomaly> {
        let minute = w.start.get().unix_timestamp().div_euclid(60);
        let start = Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + Duration::minutes(minute));
        let config = &self.config;
        let scope = match self.scopes.get_mut(&w.scope) {
            Some(s) => {
                if minute <= s.last_minute {
                    self.stale_windows += 1;
                    return Vec::new();
                }
                let missing = (minute - s.last_minute - 1).min(i64::from(config.max_gap_fill));
                for m in (minute - missing)..minute {
                    let t = Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + Duration::minutes(m));
                    s.observe(config, &WindowCounts::empty(t, w.scope.clone()), m);
                }
                s
            }
            None => self
                .scopes
                .entry(w.scope.clone())
                .or_insert_with(|| Scope::new(config, &w.scope, minute)),
        };
        let mut out = scope.observe(config, w, minute);
        for a in &mut out {
            a.time = start;
        }
        out
    }

    /// Windows ignored because they were not after their scope's previous window.
    pub fn stale_windows(&self) -> u64 {
        self.stale_windows
    }

    /// The scopes seen, by name.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.keys().map(String::as_str)
    }

    /// The principals of a scope that have a forest of their own.
    pub fn tracked_principals(&self, scope: &str) -> Vec<&str> {
        self.scopes
            .get(scope)
            .map(|s| s.principals.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Forests held (two per scope plus one per tracked principal); memory is about
    /// proportional to it (see `DESIGN.md` for the size of one).
    pub fn forests(&self) -> usize {
        self.scopes.values().map(|s| 2 + s.principals.len()).sum()
    }

    /// The whole state: a format header, then the configuration and each scope in `postcard`
    /// encoding (binary serde; the forests' floats and random generators are kept exactly),
    /// each scope zlib-compressed (fast level) on its own, scopes spread over the CPU's cores:
    /// forests are allocated for their full sample, so a young one is mostly zeros.
    ///
    /// A detector of many scopes is better saved in parts: [`Detector::header`] and
    /// [`Detector::scope_parts`], restored with [`Detector::from_bytes`] of the header and
    /// [`Detector::restore_scopes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode(self.scope_parts().collect())
    }

    /// [`Detector::to_bytes`] without the scopes: restored by [`Detector::from_bytes`] as a
    /// detector with no scopes, to which [`Detector::restore_scopes`] adds them.
    pub fn header(&self) -> Vec<u8> {
        self.encode(Vec::new())
    }

    /// Each scope as (name, compressed bytes), in name order, compressed one at a time as the
    /// iterator is advanced: a checkpoint holds one scope's bytes, not the whole detector's
    /// (tens of megabytes once the forests are full). Compressing a few at a time on all
    /// cores raised a long run's memory by 40 MB at every checkpoint, to save a fraction of
    /// a second every 30 s.
    pub fn scope_parts(&self) -> impl Iterator<Item = (String, Vec<u8>)> + Send + '_ {
        self.scopes
            .iter()
            .map(|(name, scope)| (name.clone(), compress(scope)))
    }

    /// Adds scopes made by [`Detector::scope_parts`] (replacing scopes of the same name),
    /// decoding them on all cores.
    pub fn restore_scopes(&mut self, parts: &[(String, Vec<u8>)]) -> Result<(), AnomalyError> {
        let scopes = in_parallel(parts, |(name, z)| {
            Ok((name.clone(), decode::<Scope>(&inflate(z)?)?))
        });
        for scope in scopes {
            let (name, scope) = scope?;
            self.scopes.insert(name, scope);
        }
        Ok(())
    }

    fn encode(&self, scopes: Vec<(String, Vec<u8>)>) -> Vec<u8> {
        let parts = Parts {
            config: self.config.clone(),
            stale_windows: self.stale_windows,
            scopes,
        };
        let mut out = MAGIC.to_vec();
        // Serialising plain structs and byte strings into memory cannot fail.
        out.extend(postcard::to_allocvec(&parts).expect("detector state serialises"));
        out
    }

    /// Restores a detector written by [`Detector::to_bytes`] (this version, or versions 1 to
    /// 3: uncompressed, compressed whole, compressed per scope; their forests are large).
    pub fn from_bytes(b: &[u8]) -> Result<Self, AnomalyError> {
        if let Some(body) = b.strip_prefix(MAGIC_V1) {
            return Ok(decode::<Legacy>(body)?.upgrade());
        }
        if let Some(z) = b.strip_prefix(MAGIC_V2) {
            return Ok(decode::<Legacy>(&inflate(z)?)?.upgrade());
        }
        if let Some(body) = b.strip_prefix(MAGIC_V3) {
            return Self::from_parts(body, |z| {
                Ok(decode::<Scope<RCFLarge<u64, u64>>>(z)?.map_forests(Forest::Large))
            });
        }
        let body = b.strip_prefix(MAGIC).ok_or(AnomalyError::Format)?;
        Self::from_parts(body, |z| decode::<Scope>(z))
    }

    /// The detector of a [`Parts`] encoding, each scope inflated and decoded by `scope`.
    fn from_parts(
        body: &[u8],
        scope: impl Fn(&[u8]) -> Result<Scope, AnomalyError> + Sync,
    ) -> Result<Self, AnomalyError> {
        let parts: Parts = decode(body)?;
        let scopes = in_parallel(&parts.scopes, |(name, z)| {
            Ok((name.clone(), scope(&inflate(z)?)?))
        });
        Ok(Detector {
            config: parts.config,
            scopes: scopes.into_iter().collect::<Result<_, AnomalyError>>()?,
            stale_windows: parts.stale_windows,
        })
    }
}

/// The detector as versions 1 and 2 encoded it: large forests.
#[derive(Serialize, Deserialize)]
struct Legacy {
    config: DetectorConfig,
    scopes: BTreeMap<String, Scope<RCFLarge<u64, u64>>>,
    stale_windows: u64,
}

impl Legacy {
    fn upgrade(self) -> Detector {
        Detector {
            config: self.config,
            scopes: self
                .scopes
                .into_iter()
                .map(|(name, scope)| (name, scope.map_forests(Forest::Large)))
                .collect(),
            stale_windows: self.stale_windows,
        }
    }
}

fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, AnomalyError> {
    postcard::from_bytes(bytes).map_err(|e| AnomalyError::Decode(e.to_string()))
}

/// [`Detector::to_bytes`] after the header: the scopes compressed one by one.
#[derive(Serialize, Deserialize)]
struct Parts {
    config: DetectorConfig,
    stale_windows: u64,
    scopes: Vec<(String, Vec<u8>)>,
}

/// One scope in postcard encoding, zlib-compressed (streamed: the plain encoding of a scope
/// is megabytes).
fn compress<T: Serialize>(scope: &T) -> Vec<u8> {
    let z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut w = std::io::BufWriter::with_capacity(1 << 16, z);
    // Serialising plain structs, maps and floats into memory cannot fail.
    postcard::to_io(scope, &mut w).expect("detector state serialises");
    let z = w.into_inner().expect("compress into memory");
    z.finish().expect("compress into memory")
}

fn inflate(z: &[u8]) -> Result<Vec<u8>, AnomalyError> {
    use std::io::Read;
    let mut plain = Vec::new();
    flate2::read::ZlibDecoder::new(z)
        .read_to_end(&mut plain)
        .map_err(|e| AnomalyError::Decode(e.to_string()))?;
    Ok(plain)
}

/// The CPU's cores.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `f` of every item, in order, computed on as many threads as the CPU has cores.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let per_thread = items.len().div_ceil(threads()).max(1);
    std::thread::scope(|s| {
        let f = &f;
        let running: Vec<_> = items
            .chunks(per_thread)
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        running
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

impl<F> Scope<F> {
    /// The scope with each series' forest replaced by `f` of it (how states of format 1 to 3
    /// are read: their large forests become [`Forest::Large`]).
    fn map_forests<G>(self, f: impl Fn(F) -> G) -> Scope<G> {
        Scope {
            last_minute: self.last_minute,
            total: self.total.map_forest(&f),
            others: self.others.map_forest(&f),
            principals: self
                .principals
                .into_iter()
                .map(|(name, series)| (name, series.map_forest(&f)))
                .collect(),
            activity: self.activity,
            key_baseline: self.key_baseline,
            ip_baseline: self.ip_baseline,
            others_settling: self.others_settling,
        }
    }
}

impl Scope {
    fn new(config: &DetectorConfig, scope: &str, minute: i64) -> Self {
        Scope {
            last_minute: minute - 1,
            total: Series::new(config, scope, "total"),
            others: Series::new(config, scope, "others"),
            principals: BTreeMap::new(),
            activity: BTreeMap::new(),
            key_baseline: BTreeMap::new(),
            ip_baseline: BTreeMap::new(),
            others_settling: 0,
        }
    }

    fn observe(&mut self, config: &DetectorConfig, w: &WindowCounts, minute: i64) -> Vec<Anomaly> {
        self.last_minute = minute;
        decay_into(&mut self.activity, &w.by_principal, ACTIVITY_MINUTES);
        let before = self.principals.len();
        let changed = self.track(config, &w.scope, &w.by_principal);
        if changed && before > 0 {
            self.others_settling = config.shingle;
        }
        let others_may_alarm = self.others_settling == 0;
        self.others_settling = self.others_settling.saturating_sub(1);

        // What grew, computed once per window: each principal's API that grew most over its
        // baseline, and the source IP that grew most.
        let mut grown: BTreeMap<&str, (&str, f64)> = BTreeMap::new();
        // Both maps are sorted by the same key: a merge join, with no key built per lookup.
        let mut baselines = self.key_baseline.iter().peekable();
        for (key, &n) in &w.by_principal_api {
            while baselines.next_if(|(k, _)| *k < key).is_some() {}
            let base = baselines
                .next_if(|(k, _)| *k == key)
                .map_or(0.0, |(_, &b)| b);
            let (p, api) = key;
            let excess = n as f64 - base;
            if excess > 0.0 && grown.get(p.as_str()).is_none_or(|&(_, e)| excess > e) {
                grown.insert(p, (api, excess));
            }
        }
        let ip = w
            .by_source_ip
            .iter()
            .map(|(k, &n)| {
                (
                    k,
                    n as f64 - self.ip_baseline.get(k).copied().unwrap_or(0.0),
                )
            })
            .filter(|(_, excess)| *excess > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(k, _)| k.as_str());
        let contributor = |include: &dyn Fn(&str) -> bool| -> String {
            let best = grown
                .iter()
                .filter(|(p, _)| include(p))
                .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1).then_with(|| b.0.cmp(a.0)));
            match (best, ip) {
                (Some((p, (api, _))), Some(ip)) => format!("principal:{p} api:{api} ip:{ip}"),
                (Some((p, (api, _))), None) => format!("principal:{p} api:{api}"),
                (None, _) => "none".to_owned(),
            }
        };
        let anomaly =
            |series: String, value: u64, (score, grew): (f64, bool), contributor: String| Anomaly {
                time: w.start,
                scope: w.scope.clone(),
                series,
                score,
                value,
                contributor,
                alarm: grew && score >= config.alarm_threshold,
            };

        let mut out = Vec::with_capacity(2 + self.principals.len());
        let min = config.min_alarm_increase;
        let scored = self.total.observe(w.total, min);
        out.push(anomaly(
            "total".into(),
            w.total,
            scored,
            contributor(&|_| true),
        ));

        let tracked = &self.principals;
        let others: u64 = w
            .by_principal
            .iter()
            .filter(|(p, _)| !tracked.contains_key(*p))
            .map(|(_, n)| n)
            .sum();
        let untracked = contributor(&|p| !tracked.contains_key(p));
        let (score, grew) = self.others.observe(others, min);
        out.push(anomaly(
            "others".into(),
            others,
            (score, grew && others_may_alarm),
            untracked,
        ));

        for (name, series) in &mut self.principals {
            let n = w.by_principal.get(name).copied().unwrap_or(0);
            let scored = series.observe(n, min);
            let c = contributor(&|p| p == name);
            out.push(anomaly(format!("principal:{name}"), n, scored, c));
        }

        // Baselines last: the contributor compares the window with the minutes before it.
        decay_into(
            &mut self.key_baseline,
            &w.by_principal_api,
            BASELINE_MINUTES,
        );
        decay_into(&mut self.ip_baseline, &w.by_source_ip, BASELINE_MINUTES);
        out
    }

    /// Gives forests to active principals, within `max_principals` (see the module doc).
    /// Returns whether the tracked principals changed.
    fn track(
        &mut self,
        config: &DetectorConfig,
        scope: &str,
        seen: &BTreeMap<String, u64>,
    ) -> bool {
        let activity = &self.activity;
        let before = self.principals.len();
        self.principals
            .retain(|p, _| activity.get(p).is_some_and(|&a| a >= EVICT_BELOW));
        // Most active untracked principal in this window first; ties by name (determinism).
        let mut candidates: Vec<(&String, f64)> = seen
            .keys()
            .filter(|p| !self.principals.contains_key(*p))
            .map(|p| (p, activity.get(p).copied().unwrap_or(0.0)))
            .filter(|(_, a)| *a >= ADMIT_ABOVE)
            .collect();
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut changed = self.principals.len() != before;
        let mut replaced = false;
        for (p, a) in candidates {
            if self.principals.len() < config.max_principals {
                changed = true;
                self.principals.insert(
                    p.clone(),
                    Series::new(config, scope, &format!("principal:{p}")),
                );
            } else if !replaced {
                // At most one swap per window: each swap shifts the `others` series.
                replaced = true;
                let least = self
                    .principals
                    .keys()
                    .map(|q| (q, activity.get(q).copied().unwrap_or(0.0)))
                    .min_by(|x, y| x.1.total_cmp(&y.1).then_with(|| y.0.cmp(x.0)));
                if let Some((q, qa)) = least {
                    if a > REPLACE_FACTOR * qa {
                        let q = q.clone();
                        changed = true;
                        self.principals.remove(&q);
                        self.principals.insert(
                            p.clone(),
                            Series::new(config, scope, &format!("principal:{p}")),
                        );
                    }
                }
            }
        }
        changed
    }
}

/// Moves each average of `avg` towards this window's count (0 when absent), with time
/// constant `minutes`, adds the keys new in `now`, and forgets averages under
/// [`EVICT_BELOW`] (which bounds the maps by the recently active keys).
fn decay_into<K: Ord + Clone>(avg: &mut BTreeMap<K, f64>, now: &BTreeMap<K, u64>, minutes: f64) {
    // Both maps are sorted by key: merge them in one pass (no lookup per key), and rebuild
    // the map from the sorted result (a bulk build).
    let mut now_iter = now.iter().peekable();
    let mut merged: Vec<(K, f64)> = Vec::with_capacity(avg.len() + now.len());
    for (k, a) in std::mem::take(avg) {
        while let Some((nk, &n)) = now_iter.next_if(|(nk, _)| **nk < k) {
            merged.push((nk.clone(), n as f64 / minutes));
        }
        let n = now_iter.next_if(|(nk, _)| **nk == k).map_or(0, |(_, &n)| n);
        merged.push((k, a + (n as f64 - a) / minutes));
    }
    merged.extend(now_iter.map(|(nk, &n)| (nk.clone(), n as f64 / minutes)));
    *avg = merged
        .into_iter()
        .filter(|(_, a)| *a >= EVICT_BELOW)
        .collect();
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

    /// Small forests: these tests check the plumbing, not the detection quality.
    fn small() -> DetectorConfig {
        DetectorConfig {
            trees: 10,
            sample_size: 32,
            output_after: 8,
            ..DetectorConfig::default()
        }
    }

    fn at(m: i64) -> Timestamp {
        Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + Duration::minutes(29_000_000 + m))
    }

    fn window(m: i64, scope: &str, n: u64) -> WindowCounts {
        let mut w = WindowCounts::empty(at(m), scope);
        for i in 0..n {
            let p = if i % 3 == 0 { "alice" } else { "ci/deploy" };
            w.add(p, "s3.amazonaws.com:GetObject", Some("192.0.2.1"));
        }
        w
    }

    #[test]
    fn empty_windows_score_without_alarms() {
        let mut det = Detector::new(small());
        for m in 0..100 {
            let out = det.observe(&WindowCounts::empty(at(m), "org"));
            assert_eq!(out.len(), 2, "total and others only: no principal was seen");
            assert!(out
                .iter()
                .all(|a| !a.alarm && a.value == 0 && a.contributor == "none"));
        }
        assert_eq!(det.forests(), 2);
    }

    #[test]
    fn a_gap_is_the_same_as_zero_windows() {
        let (mut gaps, mut zeros) = (Detector::new(small()), Detector::new(small()));
        let mut last = (Vec::new(), Vec::new());
        for m in 0..200 {
            let n = if (50..70).contains(&m) {
                0
            } else {
                5 + (m % 4) as u64
            };
            let w = window(m, "123456789012", n);
            if n > 0 {
                last.0 = gaps.observe(&w);
            }
            last.1 = zeros.observe(&w);
            if n > 0 {
                assert_eq!(last.0, last.1, "minute {m}");
            }
        }
        // (Not compared: the state bytes, whose map order inside krcflib may differ.)
        assert_eq!(last.0[0].time, at(199));
    }

    #[test]
    fn late_windows_are_ignored() {
        let mut det = Detector::new(small());
        det.observe(&window(10, "org", 3));
        assert!(det.observe(&window(10, "org", 3)).is_empty());
        assert!(det.observe(&window(9, "org", 3)).is_empty());
        assert_eq!(det.stale_windows(), 2);
        assert!(!det.observe(&window(11, "org", 3)).is_empty());
    }

    #[test]
    fn restore_continues_identically() {
        let mut det = Detector::new(small());
        for m in 0..60 {
            det.observe(&window(m, "111111111111", 4));
            det.observe(&window(m, "org", 4));
        }
        let mut restored = Detector::from_bytes(&det.to_bytes()).unwrap();
        for m in 60..120 {
            let n = if m == 100 { 40 } else { 4 };
            for scope in ["111111111111", "org"] {
                let a = det.observe(&window(m, scope, n));
                assert_eq!(a, restored.observe(&window(m, scope, n)));
                assert!(a[0].score > 0.0, "scores right after the restore");
            }
        }
        assert_eq!(restored.tracked_principals("org"), ["alice", "ci/deploy"]);
    }

    /// A detector whose forests are all large, as formats 1 to 3 saved them (more than 256
    /// points per tree do not fit the small layout), fed 30 minutes; and its legacy form.
    fn large_detector() -> (Detector, Legacy) {
        let mut d = Detector::new(DetectorConfig {
            sample_size: 300,
            ..small()
        });
        for m in 0..30 {
            d.observe(&window(m, "111111111111", 4));
            d.observe(&window(m, "org", 4));
        }
        let large = |f: Forest| match f {
            Forest::Large(f) => f,
            Forest::Small(_) => panic!("a small forest in a detector of 300 points per tree"),
        };
        let legacy = Legacy {
            config: d.config.clone(),
            stale_windows: d.stale_windows,
            scopes: d
                .scopes
                .iter()
                .map(|(name, s)| (name.clone(), s.clone().map_forests(large)))
                .collect(),
        };
        (d, legacy)
    }

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

    #[test]
    fn version_3_states_are_still_read_and_keep_their_large_forests() {
        let (mut d, legacy) = large_detector();
        let parts = Parts {
            config: legacy.config.clone(),
            stale_windows: legacy.stale_windows,
            scopes: legacy
                .scopes
                .iter()
                .map(|(n, s)| (n.clone(), compress(s)))
                .collect(),
        };
        let mut v3 = MAGIC_V3.to_vec();
        v3.extend(postcard::to_allocvec(&parts).unwrap());
        let mut restored = Detector::from_bytes(&v3).unwrap();
        assert_eq!(restored.to_bytes(), d.to_bytes());
        for m in 30..60 {
            let w = window(m, "org", if m == 50 { 40 } else { 4 });
            assert_eq!(restored.observe(&w), d.observe(&w), "minute {m}");
        }
    }

    #[test]
    fn version_2_states_are_still_read() {
        let (d, legacy) = large_detector();
        let mut z = flate2::write::ZlibEncoder::new(MAGIC_V2.to_vec(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, &postcard::to_allocvec(&legacy).unwrap()).unwrap();
        let restored = Detector::from_bytes(&z.finish().unwrap()).unwrap();
        assert_eq!(restored.to_bytes(), d.to_bytes());
    }

    #[test]
    fn uncompressed_version_1_states_are_still_read() {
        let (d, legacy) = large_detector();
        let mut v1 = MAGIC_V1.to_vec();
        v1.extend(postcard::to_allocvec(&legacy).unwrap());
        let restored = Detector::from_bytes(&v1).unwrap();
        assert_eq!(restored.to_bytes(), d.to_bytes());
    }

    #[test]
    fn new_forests_are_small() {
        let mut d = Detector::new(small());
        d.observe(&window(0, "org", 4));
        let scope = &d.scopes["org"];
        assert!([&scope.total, &scope.others]
            .into_iter()
            .chain(scope.principals.values())
            .all(|s| matches!(s.forest, Forest::Small(_))));
    }

    #[test]
    fn foreign_bytes_are_refused() {
        assert!(matches!(
            Detector::from_bytes(b"{}"),
            Err(AnomalyError::Format)
        ));
        let mut b = Detector::new(small()).to_bytes();
        b.truncate(MAGIC.len() + 3);
        assert!(matches!(
            Detector::from_bytes(&b),
            Err(AnomalyError::Decode(_))
        ));
    }
}
