//! Seeded random streams, one per purpose, and the draws made from them: picks, counts, ids.

use orgwatch_model::Region;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::Date;

/// The account index of organisation-wide streams.
pub(super) const ORG: usize = usize::MAX;

#[derive(Debug, Clone, Copy)]
pub(super) struct Keys {
    pub(super) seed: u64,
}

impl Keys {
    /// The stream for one purpose of one account (and region, and day): independent of every
    /// other stream, so that no file depends on what was generated before it.
    pub(super) fn rng(
        self,
        purpose: &str,
        account: usize,
        region: Option<&Region>,
        day: Option<Date>,
    ) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&(account as u64).to_le_bytes());
        let region = region.map_or("", Region::as_str);
        key[16..24].copy_from_slice(&fnv1a(&[purpose.as_bytes(), region.as_bytes()]).to_le_bytes());
        let day = day.map_or(u64::MAX, |d| i64::from(d.to_julian_day()) as u64);
        key[24..].copy_from_slice(&day.to_le_bytes());
        ChaCha8Rng::from_seed(key)
    }
}

pub(super) fn hex(rng: &mut impl Rng, n: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..n)
        .map(|_| DIGITS[rng.random_range(0..16)] as char)
        .collect()
}

pub(super) fn uuid(rng: &mut impl Rng) -> String {
    let variant = ['8', '9', 'a', 'b'][rng.random_range(0..4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        variant,
        hex(rng, 3),
        hex(rng, 12)
    )
}

pub(super) fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Picks by weight; `items` must not be empty.
pub(super) fn pick_weighted<'a, T>(rng: &mut impl Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// A count with mean about `mean` (geometric), capped.
pub(super) fn count_around(rng: &mut impl Rng, mean: f64, cap: usize) -> usize {
    let p = mean / (1.0 + mean);
    let mut n = 0;
    while n < cap && rng.random_bool(p) {
        n += 1;
    }
    n
}

/// FNV-1a: a stable hash for stream keys (std's hasher may change between releases).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
