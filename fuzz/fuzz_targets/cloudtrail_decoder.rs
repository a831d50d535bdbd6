//! Fuzzes the CloudTrail decoder (`orgwatch_activity::decode_bytes`).
//!
//! - Decoding never panics, whatever the bytes (plain or gzip, any JSON shape).
//! - A report it returns is consistent: `records()` is `events + undecodable + skipped`, every
//!   per-dimension count of events sums to `events` (errors to at most `events`), the time
//!   range exists exactly when there are events, and the JSON form says the same.
//! - An error has a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orgwatch_activity::{decode_bytes, Report};

fn check(r: &Report) {
    let skipped: u64 = r.skipped.values().sum();
    assert_eq!(r.records(), r.events + r.undecodable + skipped);
    for m in [
        &r.by_account,
        &r.by_region,
        &r.by_service,
        &r.by_api,
        &r.by_principal_type,
        &r.by_principal,
        &r.by_source_ip,
    ] {
        assert_eq!(m.values().sum::<u64>(), r.events);
    }
    assert!(r.by_error_code.values().sum::<u64>() <= r.events);
    assert_eq!(r.first_event_time.is_some(), r.events > 0);
    assert!(r.first_event_time <= r.last_event_time);
    assert!(r.undecodable_reasons.len() as u64 <= r.undecodable);
    let j = r.to_json();
    assert_eq!(j["events"].as_u64(), Some(r.events));
    assert_eq!(j["undecodable"].as_u64(), Some(r.undecodable));
    let _ = r.to_table(10);
}

fuzz_target!(|data: &[u8]| {
    match decode_bytes(data) {
        Ok(report) => {
            check(&report);
            // Merging with itself doubles every count.
            let mut twice = report.clone();
            twice.merge(report.clone());
            assert_eq!(twice.events, 2 * report.events);
            assert_eq!(twice.records(), 2 * report.records());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
