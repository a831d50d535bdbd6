//! Fuzzes the A360 snapshot reader and the snapshot path parser.
//!
//! - `Snapshot::from_json` must never panic; a document it accepts must survive
//!   `to_json_pretty` + `from_json` unchanged, and a refusal must say why.
//! - Valid UTF-8 input is also parsed as a path under `data/`: a location it accepts must
//!   parse back from its `relative_path()` to the same location.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orgwatch_model::{Snapshot, SnapshotLocation};

fuzz_target!(|data: &[u8]| {
    match Snapshot::from_json(data) {
        Ok(snapshot) => {
            let written = snapshot.to_json_pretty();
            let reread = Snapshot::from_json(&written).unwrap_or_else(|e| {
                panic!(
                    "the written snapshot does not read back: {e}\n--- written ---\n{}",
                    String::from_utf8_lossy(&written)
                )
            });
            assert_eq!(
                reread,
                snapshot,
                "round trip changed the snapshot\n--- written ---\n{}",
                String::from_utf8_lossy(&written)
            );
        }
        Err(e) => assert!(!e.to_string().is_empty(), "empty error message for {e:?}"),
    }

    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(location) = SnapshotLocation::parse(s) {
            let relative = location.relative_path();
            let reparsed = SnapshotLocation::parse(&relative).unwrap_or_else(|e| {
                panic!(
                    "relative_path() {relative:?} of {location:?} (from {s:?}) does not parse: {e}"
                )
            });
            assert_eq!(
                reparsed, location,
                "{s:?} -> {relative:?} -> another location"
            );
        }
    }
});
