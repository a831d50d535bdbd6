//! Detector parameters ([`DetectorConfig`]) and the fixed tuning constants, with their defaults.

use orgwatch_model::activity::AlarmKind;
use serde::{Deserialize, Serialize};

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

/// Detector parameters. `Default` gives the documented values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// Trees per forest. Default 30 (RTIAA: 100; why 30: `DESIGN.md`, "Trees").
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
    /// Principals per scope with a forest of their own. Default 0 since the count model
    /// (issue 16): it tests every principal against its own rate, and with it the principal
    /// forests only added false alarms (quiet accounts: 5 in 24.75 account-days with 4, none
    /// with 0; same recall) at three times the memory and time (`docs/activity.md`).
    pub max_principals: usize,
    /// Most missing minutes filled with zero windows before a window (a longer gap is
    /// filled with this many). Default 1440 (a day).
    pub max_gap_fill: u32,
    /// An alarm also needs the count to exceed its recent average by at least this many
    /// calls. Default [`DEFAULT_MIN_ALARM_INCREASE`]: without it, in a quiet account (a few
    /// calls a day, like the sample logs) nearly every call after hours of zeros scores
    /// high and alarms; a burst that matters adds more calls than that in a minute.
    pub min_alarm_increase: u64,
    /// Seed of the forests' random cuts (each series derives its own from it and its name),
    /// so that runs are reproducible.
    pub seed: u64,
    /// The count model (`anomaly::counts`) alarms when the calls of a principal, or of one
    /// of its APIs, over the last 1, 2 or 5 minutes have a Poisson tail probability of at
    /// most `10^-count_threshold` given the key's recent rate. 0 turns the count model off.
    /// Default [`DEFAULT_COUNT_THRESHOLD`].
    pub count_threshold: f64,
    /// A key is expected at no less than this share of the scope's rate (a rare or new key
    /// is not expected at zero). Default [`DEFAULT_COUNT_PRIOR`].
    pub count_prior: f64,
    /// A key's expected count is its rate times `1 + count_slack`: the rate lags a rising
    /// day and real counts vary more than Poisson's. Default [`DEFAULT_COUNT_SLACK`].
    pub count_slack: f64,
    /// A count alarm also needs this many calls more than expected. Default
    /// [`DEFAULT_COUNT_MIN_EXCESS`].
    pub count_min_excess: u64,
    /// Windows a scope's count model learns before it alarms. Default 60.
    pub count_learning: u64,
    /// `new_api` alarms: a principal known for this many minutes calls an API it had not
    /// called (its APIs of the first minutes are its baseline, so a new account or principal
    /// does not alarm on everything). 0 turns them off. Default 1440 (a day).
    pub new_api_learning: u32,
    /// `root` alarms: the first minute of a root session (calls of an account's root user
    /// after [`DetectorConfig::root_quiet`] quiet minutes). Default on.
    pub root_alarms: bool,
    /// `new_api` alarms on (with a learning period above 0). Default on.
    pub new_api_alarms: bool,
    /// Minutes without root calls after which root calls are a new session, and alarm
    /// again. 0: every minute with root calls alarms. Default [`DEFAULT_ROOT_QUIET`].
    pub root_quiet: u32,
    /// `new_source` alarms: a principal known for [`DetectorConfig::new_source_learning`]
    /// calls from a source IP range or a region it had not used. Default on.
    pub new_source_alarms: bool,
    /// Minutes a principal's source ranges and regions are learnt before `new_source`
    /// alarms. Default 1440 (a day).
    pub new_source_learning: u32,
    /// `sign_in_failures` alarms: at least [`DetectorConfig::sign_in_failures`] failed console
    /// sign-ins in an account within [`SIGN_IN_MINUTES`]. Default on.
    pub sign_in_failure_alarms: bool,
    /// Failed console sign-ins within [`SIGN_IN_MINUTES`] that alarm. Default
    /// [`DEFAULT_SIGN_IN_FAILURES`].
    pub sign_in_failures: u32,
    /// `access_denied` alarms: a principal's `AccessDenied`-family errors over the last 1, 2
    /// or 5 minutes improbable given its own rate of them. Default on.
    pub access_denied_alarms: bool,
    /// An `access_denied` alarm also needs this many refused calls more than expected.
    /// Default [`DEFAULT_ACCESS_DENIED_MIN`].
    pub access_denied_min: u32,
    /// `unused_region` alarms: calls in a region no account of the organisation called in
    /// during the organisation's first [`DetectorConfig::unused_region_learning`] minutes (or
    /// since). Default on.
    pub unused_region_alarms: bool,
    /// Minutes the organisation's regions are learnt before `unused_region` alarms. Default
    /// 1440 (a day).
    pub unused_region_learning: u32,
}

/// The default [`DetectorConfig::root_quiet`]: an hour, so that a root session (console
/// sign-in, a few changes) alarms once, and root back the next day alarms again.
pub const DEFAULT_ROOT_QUIET: u32 = 60;

/// Minutes over which failed console sign-ins are counted (and the least time between two
/// `sign_in_failures` alarms of an account: a long attack alarms every 5 minutes).
pub const SIGN_IN_MINUTES: i64 = 5;

/// The default [`DetectorConfig::sign_in_failures`]: someone mistyping a password fails one
/// to three times; a password guess or spray fails dozens of times. 5 in 5 minutes is above
/// the first and far below the second.
pub const DEFAULT_SIGN_IN_FAILURES: u32 = 5;

/// The default [`DetectorConfig::access_denied_min`]: a script probing its permissions is
/// refused tens to hundreds of times in minutes; a few refusals are a person or a
/// misconfigured job, which its own rate then learns.
pub const DEFAULT_ACCESS_DENIED_MIN: u32 = 10;

/// The `-log10` Poisson tail probability at which a principal's refused calls alarm (as the
/// count model's default, [`DEFAULT_COUNT_THRESHOLD`]).
pub const ACCESS_DENIED_THRESHOLD: f64 = 6.0;

/// A principal's refused calls are expected at no less than this rate (calls/minute): one
/// never refused is not expected at zero.
pub const ACCESS_DENIED_PRIOR: f64 = 0.1;

/// Source IP ranges (and, apart, regions) remembered per principal for `new_source`; when
/// full, the least recently seen is forgotten (and alarms again if it comes back). 64: a
/// principal that calls from more ranges than that is not one a new range says much about.
pub const MAX_SOURCES: usize = 64;

/// Regions remembered for the organisation (`unused_region`); when full, the least recently
/// used is forgotten. AWS has fewer than 40: the bound only guards against invented ones.
pub const MAX_REGIONS: usize = 256;

/// The default [`DetectorConfig::count_threshold`] (measured: `docs/activity.md`).
pub const DEFAULT_COUNT_THRESHOLD: f64 = 6.0;

/// The default [`DetectorConfig::count_prior`].
pub const DEFAULT_COUNT_PRIOR: f64 = 0.02;

/// The default [`DetectorConfig::count_slack`].
pub const DEFAULT_COUNT_SLACK: f64 = 0.4;

/// The default [`DetectorConfig::count_min_excess`].
pub const DEFAULT_COUNT_MIN_EXCESS: u64 = 3;

/// The default alarm threshold on the RCF score, measured on the burst test
/// (`tests/anomaly.rs`): usual windows score about 1, and no more than about 2.5 for
/// Poisson noise on a day/night cycle.
pub const DEFAULT_ALARM_THRESHOLD: f64 = 2.75;

/// The default [`DetectorConfig::min_alarm_increase`].
pub const DEFAULT_MIN_ALARM_INCREASE: u64 = 5;

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            trees: 30,
            sample_size: 256,
            shingle: 4,
            time_decay: 0.1 / 256.0,
            output_after: 64,
            alarm_threshold: DEFAULT_ALARM_THRESHOLD,
            max_principals: 0,
            max_gap_fill: 1440,
            min_alarm_increase: DEFAULT_MIN_ALARM_INCREASE,
            seed: 0x6f72_6777_6174_6368, // "orgwatch"
            count_threshold: DEFAULT_COUNT_THRESHOLD,
            count_prior: DEFAULT_COUNT_PRIOR,
            count_slack: DEFAULT_COUNT_SLACK,
            count_min_excess: DEFAULT_COUNT_MIN_EXCESS,
            count_learning: 60,
            new_api_learning: 1440,
            root_alarms: true,
            new_api_alarms: true,
            root_quiet: DEFAULT_ROOT_QUIET,
            new_source_alarms: true,
            new_source_learning: 1440,
            sign_in_failure_alarms: true,
            sign_in_failures: DEFAULT_SIGN_IN_FAILURES,
            access_denied_alarms: true,
            access_denied_min: DEFAULT_ACCESS_DENIED_MIN,
            unused_region_alarms: true,
            unused_region_learning: 1440,
        }
    }
}

impl DetectorConfig {
    /// Whether the new-behaviour kind `kind` is switched on (the burst detectors, `forest`
    /// and `count`, have no switch here: `None`).
    pub fn alarm_on(&self, kind: AlarmKind) -> Option<bool> {
        Some(match kind {
            AlarmKind::Forest | AlarmKind::Count => return None,
            AlarmKind::NewApi => self.new_api_alarms && self.new_api_learning > 0,
            AlarmKind::Root => self.root_alarms,
            AlarmKind::NewSource => self.new_source_alarms,
            AlarmKind::SignInFailures => self.sign_in_failure_alarms,
            AlarmKind::AccessDenied => self.access_denied_alarms,
            AlarmKind::UnusedRegion => self.unused_region_alarms,
        })
    }

    /// Switches a new-behaviour kind on or off (switching `new_api` on also gives it the
    /// default learning period if it had none); `forest` and `count` are left as they are.
    pub fn set_alarm(&mut self, kind: AlarmKind, on: bool) {
        match kind {
            AlarmKind::Forest | AlarmKind::Count => {}
            AlarmKind::NewApi => {
                self.new_api_alarms = on;
                if on && self.new_api_learning == 0 {
                    self.new_api_learning = DetectorConfig::default().new_api_learning;
                }
            }
            AlarmKind::Root => self.root_alarms = on,
            AlarmKind::NewSource => self.new_source_alarms = on,
            AlarmKind::SignInFailures => self.sign_in_failure_alarms = on,
            AlarmKind::AccessDenied => self.access_denied_alarms = on,
            AlarmKind::UnusedRegion => self.unused_region_alarms = on,
        }
    }
}

impl super::Detector {
    /// Switches a new-behaviour kind on or off ([`DetectorConfig::set_alarm`]): no state
    /// depends on the switches, so a saved detector takes them as a new one would.
    pub fn set_alarm(&mut self, kind: AlarmKind, on: bool) {
        self.config.set_alarm(kind, on);
    }
}

/// The configuration as formats 5 and 6 saved it (before the new-behaviour kinds of this
/// format). Restored, those kinds have their defaults and start learning.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ConfigV6 {
    pub(super) trees: usize,
    pub(super) sample_size: usize,
    pub(super) shingle: usize,
    pub(super) time_decay: f64,
    pub(super) output_after: usize,
    pub(super) alarm_threshold: f64,
    pub(super) max_principals: usize,
    pub(super) max_gap_fill: u32,
    pub(super) min_alarm_increase: u64,
    pub(super) seed: u64,
    pub(super) count_threshold: f64,
    pub(super) count_prior: f64,
    pub(super) count_slack: f64,
    pub(super) count_min_excess: u64,
    pub(super) count_learning: u64,
    pub(super) new_api_learning: u32,
    pub(super) root_alarms: bool,
}

impl From<ConfigV6> for DetectorConfig {
    fn from(c: ConfigV6) -> Self {
        DetectorConfig {
            trees: c.trees,
            sample_size: c.sample_size,
            shingle: c.shingle,
            time_decay: c.time_decay,
            output_after: c.output_after,
            alarm_threshold: c.alarm_threshold,
            max_principals: c.max_principals,
            max_gap_fill: c.max_gap_fill,
            min_alarm_increase: c.min_alarm_increase,
            seed: c.seed,
            count_threshold: c.count_threshold,
            count_prior: c.count_prior,
            count_slack: c.count_slack,
            count_min_excess: c.count_min_excess,
            count_learning: c.count_learning,
            new_api_learning: c.new_api_learning,
            root_alarms: c.root_alarms,
            ..DetectorConfig::default()
        }
    }
}

/// The configuration as formats 1 to 4 saved it (before the count model). Restored, the
/// count model has its defaults and starts learning: an upgrade gains it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ConfigV4 {
    pub(super) trees: usize,
    pub(super) sample_size: usize,
    pub(super) shingle: usize,
    pub(super) time_decay: f64,
    pub(super) output_after: usize,
    pub(super) alarm_threshold: f64,
    pub(super) max_principals: usize,
    pub(super) max_gap_fill: u32,
    pub(super) min_alarm_increase: u64,
    pub(super) seed: u64,
}

impl From<ConfigV4> for DetectorConfig {
    fn from(c: ConfigV4) -> Self {
        DetectorConfig {
            trees: c.trees,
            sample_size: c.sample_size,
            shingle: c.shingle,
            time_decay: c.time_decay,
            output_after: c.output_after,
            alarm_threshold: c.alarm_threshold,
            max_principals: c.max_principals,
            max_gap_fill: c.max_gap_fill,
            min_alarm_increase: c.min_alarm_increase,
            seed: c.seed,
            ..DetectorConfig::default()
        }
    }
}
