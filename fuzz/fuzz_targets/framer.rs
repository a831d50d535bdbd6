//! Fuzzes the framer with a small record-size limit (`decode_reader_limited`): records and
//! NDJSON lines longer than the limit are skipped as they stream past, never held.
//!
//! - Decoding never panics, whatever the bytes and the limit (8 to 263 bytes, from the last
//!   input byte, so that skipping is common).
//! - The report is consistent: `records()` is `events + undecodable + skipped`, oversized
//!   records are at most the undecodable ones, and each kept reason of an oversized record
//!   names the limit.
//! - The result does not depend on how the input is cut into reads (1 to 7 bytes at a time,
//!   from the first input byte): the framer's buffer boundaries change nothing (except before
//!   the error of a corrupt gzip stream, where flate2 drops the bytes of the failing read).
//! - A limit at least the input's length skips nothing in a plain (not gzip) input: the
//!   result is `decode_bytes`'s.
//! - Skipping never invents an event: with the small limit there are at most as many events
//!   as without one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orgwatch_activity::{decode_bytes, decode_reader_limited, DecodeError, Report};
use std::io::Read;

/// Gives its bytes `step` at a time.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn limited(read: impl Read, max: usize) -> (Report, Result<(), String>) {
    let mut r = Report::new();
    let out = decode_reader_limited(read, max, &mut r).map_err(|e: DecodeError| e.to_string());
    (r, out)
}

fuzz_target!(|data: &[u8]| {
    let Some(&last) = data.last() else { return };
    let max = 8 + usize::from(last);
    let (r, out) = limited(data, max);
    if let Err(e) = &out {
        assert!(!e.is_empty());
    }
    let skipped: u64 = r.skipped.values().sum();
    assert_eq!(r.records(), r.events + r.undecodable + skipped);
    assert!(r.oversized <= r.undecodable);
    assert!(r.undecodable_reasons.len() as u64 <= r.undecodable);
    if r.oversized > 0 && r.oversized == r.undecodable {
        for reason in &r.undecodable_reasons {
            assert!(
                reason.contains(&format!("longer than the limit of {max}")),
                "{reason}"
            );
        }
    }

    let step = 1 + usize::from(data[0] % 7);
    let trickled = limited(Trickle { data, step }, max);
    // flate2 drops what it inflated in the read that meets a corrupt gzip stream, so how
    // much comes before that error depends on the reads; everything else must not.
    if out.is_ok() || !data.starts_with(&[0x1f, 0x8b]) {
        assert_eq!(trickled, (r.clone(), out.clone()));
    }

    let whole = decode_bytes(data);
    // The limit counts decompressed bytes: only a plain input's length bounds them.
    if !data.starts_with(&[0x1f, 0x8b]) {
        let (unlimited, unlimited_out) = limited(data, data.len().max(1));
        match &whole {
            Ok(w) => assert_eq!((&unlimited, unlimited_out.is_ok()), (w, true)),
            Err(e) => assert_eq!(unlimited_out, Err(e.to_string())),
        }
    }
    if let (Ok(()), Ok(w)) = (&out, &whole) {
        assert!(r.events <= w.events, "{} > {}", r.events, w.events);
    }
});
