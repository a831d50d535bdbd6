//! The saved detector state: format versions 1 to 7 (`postcard` encoding, zlib compression of
//! each scope), writing the current one and reading all of them.

use super::config::{ConfigV4, ConfigV6, DetectorConfig};
use super::forest::Forest;
use super::regions::Regions;
use super::scope::{ScopeModels, ScopeModelsV5, ScopeModelsV6, ScopeStateV5};
use super::{AnomalyError, Detector, PartsFormat, Scope};
use orgwatch_model::InvalidScope;
use rcflib::rcf::RCFLarge;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Leading bytes of [`Detector::to_bytes`]: format name and version (7: each scope's forests,
/// count model and every new-behaviour kind's state; the configuration with every kind's
/// switch; the organisation's regions in the header).
const MAGIC: &[u8; 8] = b"OWRCF\x00\x00\x07";

/// Version 6 (each scope's forests and count model, with no `others` forest when no principal
/// may have a forest; `new_api` and `root` only), still read.
const MAGIC_V6: &[u8; 8] = b"OWRCF\x00\x00\x06";

/// Version 5 (every scope with an `others` forest), still read.
const MAGIC_V5: &[u8; 8] = b"OWRCF\x00\x00\x05";

/// Version 4 (each scope zlib-compressed on its own, so that scopes are compressed and
/// restored in parallel, and each forest tagged with its layout, small or large; no count
/// model), still read.
const MAGIC_V4: &[u8; 8] = b"OWRCF\x00\x00\x04";

/// Version 3 (as 4, with every forest large), still read.
const MAGIC_V3: &[u8; 8] = b"OWRCF\x00\x00\x03";

/// Version 2 (the whole detector compressed at once), still read.
const MAGIC_V2: &[u8; 8] = b"OWRCF\x00\x00\x02";

/// Version 1 (uncompressed), still read.
const MAGIC_V1: &[u8; 8] = b"OWRCF\x00\x00\x01";

impl Detector {
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

    /// Each scope as (its text, compressed bytes), in text order, compressed one at a time as the
    /// iterator is advanced: a checkpoint holds one scope's bytes, not the whole detector's
    /// (tens of megabytes once the forests are full). Compressing a few at a time on all
    /// cores raised a long run's memory at every checkpoint for little time saved
    /// (`bench/README.md`).
    pub fn scope_parts(&self) -> impl Iterator<Item = (String, Vec<u8>)> + Send + '_ {
        self.scopes
            .iter()
            .map(|(name, scope)| (name.to_string(), compress(scope)))
    }

    /// The parts ([`Detector::scope_parts`]) of the scopes changed since the last save
    /// ([`Detector::saved`]): what a checkpoint writes, the saved parts of the other scopes
    /// being up to date.
    pub fn unsaved_parts(&self) -> impl Iterator<Item = (String, Vec<u8>)> + Send + '_ {
        self.unsaved.iter().filter_map(|name| {
            let scope = self.scopes.get(name)?;
            Some((name.to_string(), compress(scope)))
        })
    }

    /// Adds scopes made by [`Detector::scope_parts`] (replacing scopes of the same name),
    /// decoding them on all cores, in the format of the header this detector was restored
    /// from (the parts were saved with it). Parts of an earlier format count as changed, so
    /// that the next save rewrites them in this one.
    pub fn restore_scopes(&mut self, parts: &[(String, Vec<u8>)]) -> Result<(), AnomalyError> {
        let (format, config) = (self.parts_format, &self.config);
        let scopes = in_parallel(parts, |(name, z)| {
            Ok((
                parse_scope(name)?,
                decode_scope(format, config, &inflate(z)?)?,
            ))
        });
        for scope in scopes {
            let (name, scope) = scope?;
            if format != PartsFormat::Current {
                self.unsaved.insert(name);
            }
            self.scopes.insert(name, scope);
        }
        Ok(())
    }

    fn encode(&self, scopes: Vec<(String, Vec<u8>)>) -> Vec<u8> {
        let parts = Parts {
            config: self.config.clone(),
            stale_windows: self.stale_windows,
            scopes,
            regions: self.regions.clone(),
        };
        let mut out = MAGIC.to_vec();
        // Serialising plain structs and byte strings into memory cannot fail.
        #[allow(clippy::expect_used)]
        out.extend(postcard::to_allocvec(&parts).expect("detector state serialises"));
        out
    }

    /// Restores a detector written by [`Detector::to_bytes`] (this version, or versions 1 to
    /// 6: uncompressed, compressed whole, compressed per scope with large forests, with small
    /// ones, with count models, with optional `others`; the scopes of versions 1 to 4 start
    /// learning their count models, those of versions 1 to 6 the new-behaviour kinds other
    /// than `new_api`). Its scores continue those of the saved detector exactly.
    pub fn from_bytes(b: &[u8]) -> Result<Self, AnomalyError> {
        if let Some(body) = b.strip_prefix(MAGIC_V1) {
            return Ok(decode::<Legacy>(body)?.upgrade());
        }
        if let Some(z) = b.strip_prefix(MAGIC_V2) {
            return Ok(decode::<Legacy>(&inflate(z)?)?.upgrade());
        }
        let versions = [
            (MAGIC_V3, PartsFormat::V3),
            (MAGIC_V4, PartsFormat::V4),
            (MAGIC_V5, PartsFormat::V5),
            (MAGIC_V6, PartsFormat::V6),
            (MAGIC, PartsFormat::Current),
        ];
        let (body, format) = versions
            .iter()
            .find_map(|(magic, format)| b.strip_prefix(magic.as_slice()).map(|b| (b, *format)))
            .ok_or(AnomalyError::Format)?;
        let parts = match format {
            PartsFormat::V3 | PartsFormat::V4 => decode::<PartsV6<ConfigV4>>(body)?.upgrade(),
            PartsFormat::V5 | PartsFormat::V6 => decode::<PartsV6<ConfigV6>>(body)?.upgrade(),
            PartsFormat::Current => decode::<Parts>(body)?,
        };
        Self::from_parts(parts, format)
    }

    /// The detector of a [`Parts`] encoding, each scope inflated and decoded as `format`
    /// wrote it.
    fn from_parts(parts: Parts, format: PartsFormat) -> Result<Self, AnomalyError> {
        let config = parts.config;
        let scopes = in_parallel(&parts.scopes, |(name, z)| {
            Ok((
                parse_scope(name)?,
                decode_scope(format, &config, &inflate(z)?)?,
            ))
        });
        let scopes: BTreeMap<Scope, ScopeModels> =
            scopes.into_iter().collect::<Result<_, AnomalyError>>()?;
        Ok(Detector {
            config,
            // Scopes inside the header have no saved part of their own yet.
            unsaved: scopes.keys().copied().collect(),
            scopes,
            stale_windows: parts.stale_windows,
            regions: parts.regions,
            parts_format: format,
        })
    }
}

/// One scope as `format` wrote it, as this version keeps it under `config`.
fn decode_scope(
    format: PartsFormat,
    config: &DetectorConfig,
    plain: &[u8],
) -> Result<ScopeModels, AnomalyError> {
    Ok(match format {
        PartsFormat::V3 => {
            let forests =
                decode::<ScopeStateV5<RCFLarge<u64, u64>>>(plain)?.map_forests(Forest::Large);
            ScopeModels::upgrade(config, forests)
        }
        PartsFormat::V4 => ScopeModels::upgrade(config, decode::<ScopeStateV5>(plain)?),
        PartsFormat::V5 => decode::<ScopeModelsV5>(plain)?.upgrade(config),
        PartsFormat::V6 => decode::<ScopeModelsV6>(plain)?.upgrade(),
        PartsFormat::Current => decode::<ScopeModels>(plain)?,
    })
}

/// The detector as versions 1 and 2 encoded it: large forests.
#[derive(Serialize, Deserialize)]
struct Legacy {
    config: ConfigV4,
    scopes: BTreeMap<Scope, ScopeStateV5<RCFLarge<u64, u64>>>,
    stale_windows: u64,
}

impl Legacy {
    fn upgrade(self) -> Detector {
        let config: DetectorConfig = self.config.into();
        Detector {
            unsaved: self.scopes.keys().copied().collect(),
            scopes: self
                .scopes
                .into_iter()
                .map(|(name, scope)| {
                    let forests = scope.map_forests(Forest::Large);
                    (name, ScopeModels::upgrade(&config, forests))
                })
                .collect(),
            config,
            stale_windows: self.stale_windows,
            regions: Regions::default(),
            parts_format: PartsFormat::Current,
        }
    }
}

fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, AnomalyError> {
    postcard::from_bytes(bytes).map_err(|e| AnomalyError::Decode(e.into()))
}

/// The scope a part is saved under.
fn parse_scope(text: &str) -> Result<Scope, AnomalyError> {
    text.parse()
        .map_err(|e: InvalidScope| AnomalyError::Decode(e.into()))
}

/// [`Detector::to_bytes`] after the header: the scopes compressed one by one, and the
/// organisation's regions.
#[derive(Serialize, Deserialize)]
struct Parts {
    config: DetectorConfig,
    stale_windows: u64,
    scopes: Vec<(String, Vec<u8>)>,
    regions: Regions,
}

/// [`Parts`] as formats 3 to 6 wrote them (`C`: [`ConfigV4`] or [`ConfigV6`]), without the
/// regions: read, `unused_region` starts learning.
#[derive(Serialize, Deserialize)]
struct PartsV6<C> {
    config: C,
    stale_windows: u64,
    scopes: Vec<(String, Vec<u8>)>,
}

impl<C: Into<DetectorConfig>> PartsV6<C> {
    fn upgrade(self) -> Parts {
        Parts {
            config: self.config.into(),
            stale_windows: self.stale_windows,
            scopes: self.scopes,
            regions: Regions::default(),
        }
    }
}

/// One scope in postcard encoding, zlib-compressed (streamed: the plain encoding of a scope
/// is megabytes).
// Serialising plain structs, maps and floats into memory, and compressing into a Vec,
// cannot fail.
#[allow(clippy::expect_used)]
fn compress<T: Serialize>(scope: &T) -> Vec<u8> {
    let z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut w = std::io::BufWriter::with_capacity(1 << 16, z);
    postcard::to_io(scope, &mut w).expect("detector state serialises");
    let z = w.into_inner().expect("compress into memory");
    z.finish().expect("compress into memory")
}

fn inflate(z: &[u8]) -> Result<Vec<u8>, AnomalyError> {
    use std::io::Read;
    let mut plain = Vec::new();
    flate2::read::ZlibDecoder::new(z)
        .read_to_end(&mut plain)
        .map_err(|e| AnomalyError::Decode(e.into()))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::tests::{small, window};

    /// The configuration as format 4 wrote it.
    fn v4(c: &DetectorConfig) -> ConfigV4 {
        ConfigV4 {
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
        }
    }

    /// The configuration as formats 5 and 6 wrote it.
    fn v6(c: &DetectorConfig) -> ConfigV6 {
        ConfigV6 {
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
        }
    }

    /// Forgets what formats 1 to 6 did not save: the new-behaviour kinds since format 6
    /// (restored, they start learning) and the organisation's regions.
    fn forget_new_kinds(d: &mut Detector) {
        for s in d.scopes.values_mut() {
            s.behaviour = s.behaviour.to_v6().upgrade();
        }
        d.regions = Regions::default();
    }

    /// A detector whose forests are all large, as formats 1 to 3 saved them (more than 256
    /// points per tree do not fit the small layout), fed 30 minutes, with its count and
    /// behaviour models forgotten (formats 1 to 4 had none: restored, they start learning);
    /// and its legacy form.
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
        for s in d.scopes.values_mut() {
            s.counts = Default::default();
            s.behaviour = Default::default();
        }
        d.regions = Regions::default();
        let legacy = Legacy {
            config: v4(&d.config),
            stale_windows: d.stale_windows,
            scopes: d
                .scopes
                .iter()
                .map(|(name, s)| (*name, s.forests.to_v5(&d.config, *name).map_forests(large)))
                .collect(),
        };
        (d, legacy)
    }

    #[test]
    fn version_3_states_are_still_read_and_keep_their_large_forests() {
        let (mut d, legacy) = large_detector();
        let parts = PartsV6 {
            config: legacy.config.clone(),
            stale_windows: legacy.stale_windows,
            scopes: legacy
                .scopes
                .iter()
                .map(|(n, s)| (n.to_string(), compress(s)))
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
    fn version_4_states_are_still_read_and_their_count_models_start_learning() {
        let mut d = Detector::new(small());
        for m in 0..30 {
            d.observe(&window(m, "org", 4));
        }
        for s in d.scopes.values_mut() {
            s.counts = Default::default();
            s.behaviour = Default::default();
        }
        d.regions = Regions::default();
        let parts = PartsV6 {
            config: v4(&d.config),
            stale_windows: d.stale_windows,
            scopes: d
                .scopes
                .iter()
                .map(|(n, s)| (n.to_string(), compress(&s.forests.to_v5(&d.config, *n))))
                .collect(),
        };
        let mut bytes = MAGIC_V4.to_vec();
        bytes.extend(postcard::to_allocvec(&parts).unwrap());
        let mut restored = Detector::from_bytes(&bytes).unwrap();
        assert_eq!(restored.config(), &small());
        assert_eq!(restored.to_bytes(), d.to_bytes());
        for m in 30..60 {
            let w = window(m, "org", if m == 50 { 40 } else { 4 });
            assert_eq!(restored.observe(&w), d.observe(&w), "minute {m}");
        }
    }

    type ScopeParts = Vec<(String, Vec<u8>)>;

    /// A detector of the default configuration (no principal forests) fed `minutes` of two
    /// scopes, and its state as format 5 wrote it: header, and scope parts with an `others`
    /// forest each.
    fn version_5(minutes: i64) -> (Detector, Vec<u8>, ScopeParts) {
        let mut d = Detector::new(DetectorConfig {
            trees: 10,
            sample_size: 32,
            output_after: 8,
            ..DetectorConfig::default()
        });
        for m in 0..minutes {
            d.observe(&window(m, "111111111111", 4));
            d.observe(&window(m, "org", 4));
        }
        forget_new_kinds(&mut d);
        let parts: ScopeParts = d
            .scopes
            .iter()
            .map(|(n, s)| {
                let v5 = ScopeModelsV5 {
                    forests: s.forests.to_v5(&d.config, *n),
                    counts: s.counts.clone(),
                    behaviour: s.behaviour.to_v6(),
                };
                (n.to_string(), compress(&v5))
            })
            .collect();
        let header = PartsV6 {
            config: v6(&d.config),
            stale_windows: d.stale_windows,
            scopes: Vec::new(),
        };
        let mut bytes = MAGIC_V5.to_vec();
        bytes.extend(postcard::to_allocvec(&header).unwrap());
        (d, bytes, parts)
    }

    #[test]
    fn version_5_states_lose_the_unused_others_forest_and_continue_identically() {
        let (mut d, header, parts) = version_5(40);
        assert_eq!(d.forests(), 2, "one forest per scope: `total`");
        let mut restored = Detector::from_bytes(&header).unwrap();
        assert!(
            restored.needs_every_scope(),
            "parts of format 5 are not read lazily"
        );
        restored.restore_scopes(&parts).unwrap();
        assert_eq!(
            restored.unsaved_parts().count(),
            2,
            "the next checkpoint rewrites them in this format"
        );
        assert_eq!(restored.forests(), 2);
        assert_eq!(restored.to_bytes(), d.to_bytes());
        for m in 40..100 {
            for scope in ["111111111111", "org"] {
                let w = window(m, scope, if m == 80 { 60 } else { 4 });
                let a = d.observe(&w);
                assert_eq!(a, restored.observe(&w), "minute {m}");
                assert_eq!(a[0].series, crate::anomaly::Series::Total);
                assert!(a.iter().all(|s| s.series != crate::anomaly::Series::Others));
            }
        }
        // Saved again, in this format: read back as it is.
        restored.saved();
        assert!(!restored.needs_every_scope());
        let mut again = Detector::from_bytes(&restored.header()).unwrap();
        assert!(!again.needs_every_scope());
        again
            .restore_scopes(&restored.scope_parts().collect::<Vec<_>>())
            .unwrap();
        assert_eq!(again.to_bytes(), d.to_bytes());
    }

    #[test]
    fn version_6_states_keep_new_api_and_their_other_kinds_start_learning() {
        use crate::anomaly::AlarmKind;
        let config = DetectorConfig {
            new_api_learning: 10,
            new_source_learning: 10,
            unused_region_learning: 10,
            ..small()
        };
        let mut d = Detector::new(config.clone());
        let account = |m: i64, ip: &str, region: &str| {
            let start = crate::anomaly::tests::at(m);
            let mut w = crate::anomaly::WindowCounts::empty(start, "111111111111".parse().unwrap());
            w.add_in("alice", "s3.amazonaws.com:GetObject", region, Some(ip));
            w
        };
        for m in 0..30 {
            d.observe(&account(m, "192.0.2.1", "eu-west-1"));
            d.observe(&window(m, "org", 4));
        }
        // As format 6 wrote it: its configuration, and each scope's `new_api` baselines.
        let mut header = MAGIC_V6.to_vec();
        let v6_parts = PartsV6 {
            config: v6(&d.config),
            stale_windows: d.stale_windows,
            scopes: Vec::new(),
        };
        header.extend(postcard::to_allocvec(&v6_parts).unwrap());
        let parts: Vec<(String, Vec<u8>)> = d
            .scopes
            .iter()
            .map(|(n, s)| {
                let v6 = ScopeModelsV6 {
                    forests: s.forests.clone(),
                    counts: s.counts.clone(),
                    behaviour: s.behaviour.to_v6(),
                };
                (n.to_string(), compress(&v6))
            })
            .collect();
        let mut restored = Detector::from_bytes(&header).unwrap();
        restored.restore_scopes(&parts).unwrap();
        // The new kinds' settings are the defaults; the saved ones are kept.
        assert_eq!(restored.config().new_api_learning, 10);
        assert_eq!(restored.config().new_source_learning, 1440);
        assert_eq!(
            restored.config().root_quiet,
            DetectorConfig::default().root_quiet
        );
        forget_new_kinds(&mut d);
        d.config = restored.config.clone();
        assert_eq!(restored.to_bytes(), d.to_bytes());
        // A new range and region right after the restore: the kinds learn again, no alarm;
        // alice's APIs are still known.
        let w = account(30, "203.0.113.5", "sa-east-1");
        let scores = restored.observe(&w);
        assert_eq!(scores, d.observe(&w));
        assert!(
            scores.iter().all(|a| !a
                .explanation
                .as_ref()
                .is_some_and(|e| e.kind.is_behaviour())),
            "{scores:?}"
        );
        let kinds = |scores: Vec<crate::anomaly::Anomaly>| -> Vec<AlarmKind> {
            scores
                .into_iter()
                .filter_map(|a| a.explanation.map(|e| e.kind))
                .filter(|k| k.is_behaviour())
                .collect()
        };
        // Past the default learning, the same sources are known; a day later, new ones alarm.
        let later = 30 + 1440;
        assert!(kinds(restored.observe(&account(later, "203.0.113.9", "sa-east-1"))).is_empty());
        let found = kinds(restored.observe(&account(later + 1, "198.51.100.1", "ap-south-1")));
        assert_eq!(found, [AlarmKind::NewSource, AlarmKind::UnusedRegion]);
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
    fn foreign_bytes_are_refused() {
        assert!(matches!(
            Detector::from_bytes(b"{}"),
            Err(AnomalyError::Format)
        ));
        let mut b = Detector::new(small()).to_bytes();
        b.truncate(MAGIC.len() + 3);
        let e = Detector::from_bytes(&b).unwrap_err();
        assert!(matches!(e, AnomalyError::Decode(_)));
        // The cause is the source, printed by whoever prints the chain, not in the message.
        assert_eq!(e.to_string(), "corrupt anomaly detector state");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn scopes_are_written_as_the_strings_they_were() {
        // States of every version keyed their scopes by these strings.
        let text = ["(none)", "111111111111", "org"];
        let typed: BTreeMap<Scope, u8> = text.iter().map(|s| (s.parse().unwrap(), 1)).collect();
        let strings: BTreeMap<&str, u8> = text.iter().map(|s| (*s, 1)).collect();
        assert_eq!(
            postcard::to_allocvec(&typed).unwrap(),
            postcard::to_allocvec(&strings).unwrap()
        );
        let mut d = Detector::new(small());
        d.observe(&window(0, "(none)", 2));
        let parts: Vec<(String, Vec<u8>)> = d.scope_parts().collect();
        assert_eq!(parts[0].0, "(none)");
        let mut restored = Detector::from_bytes(&d.header()).unwrap();
        restored.restore_scopes(&parts).unwrap();
        assert_eq!(restored.scopes().collect::<Vec<_>>(), [Scope::NoAccount]);
    }

    #[test]
    fn a_part_of_an_unknown_scope_is_refused() {
        let mut d = Detector::new(small());
        d.observe(&window(0, "org", 2));
        let mut parts: Vec<(String, Vec<u8>)> = d.scope_parts().collect();
        parts[0].0 = "12345678901234".into();
        let e = d.restore_scopes(&parts).unwrap_err();
        let cause = std::error::Error::source(&e).unwrap().to_string();
        assert!(
            cause.contains("\"12345678901234\" is not an activity scope"),
            "{cause}"
        );
    }
}
