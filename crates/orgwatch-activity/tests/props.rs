//! Property tests: the decoder never panics, and counts do not depend on how the input is cut.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_activity::{decode_bytes, Report};
use orgwatch_test_support::cloudtrail;
use proptest::prelude::*;

fn panther_lines() -> Vec<String> {
    let text = String::from_utf8(cloudtrail::read(
        "panther-labs_panther-analysis/panther_rule_tests_part1.json",
    ))
    .unwrap();
    text.lines().map(str::to_owned).collect()
}

/// Counts must add up: every map of events sums to `events`.
fn consistent(r: &Report) {
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
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(r) = decode_bytes(&bytes) {
            consistent(&r);
        }
    }

    #[test]
    fn mangled_samples_never_panic(cut in 0usize..40_000, flip in 0usize..40_000, byte in any::<u8>()) {
        let mut b = cloudtrail::read("invictus-ir_aws_dataset/218007301253_CloudTrail_us-east-1_20230710T1205Z_dOIWyEekdNWhkpqY.json");
        let flip = flip % b.len();
        b[flip] = byte;
        b.truncate(cut % (b.len() + 1));
        if let Ok(r) = decode_bytes(&b) {
            consistent(&r);
        }
    }

    #[test]
    fn counts_do_not_depend_on_batches(cuts in proptest::collection::vec(0usize..149, 0..12)) {
        let lines = panther_lines();
        let mut cuts = cuts;
        cuts.push(0);
        cuts.push(lines.len());
        cuts.sort();
        cuts.dedup();
        let mut merged = Report::new();
        for w in cuts.windows(2) {
            let chunk = lines[w[0]..w[1]].join("\n");
            merged.merge(decode_bytes(chunk.as_bytes()).unwrap());
        }
        let whole = decode_bytes(lines.join("\n").as_bytes()).unwrap();
        prop_assert_eq!(merged.to_json(), whole.to_json());
        prop_assert_eq!(whole.events, 149);
    }

    #[test]
    fn counts_do_not_depend_on_file_order(seed in any::<u64>()) {
        let files = [
            "grafana_loki/cloudtrail-log-file.json.gz",
            "panther-labs_panther-analysis/panther_rule_tests_part1.json",
            "panther-labs_panther-analysis/panther_rule_tests_part2.json.gz",
            "invictus-ir_aws_dataset/218007301253_CloudTrail_us-east-1_20230710T1205Z_dOIWyEekdNWhkpqY.json",
            "invictus-ir_aws_dataset/218007301253_CloudTrail_us-east-1_20230710T1150Z_1vnLavRRp0ek1mP4.json",
        ];
        let reports: Vec<Report> = files.iter().map(|f| decode_bytes(&cloudtrail::read(f)).unwrap()).collect();
        let mut order: Vec<usize> = (0..files.len()).collect();
        // A permutation from the seed (Fisher-Yates with a simple LCG).
        let mut s = seed;
        for i in (1..order.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        let mut a = Report::new();
        for r in &reports { a.merge(r.clone()); }
        let mut b = Report::new();
        for &i in &order { b.merge(reports[i].clone()); }
        prop_assert_eq!(a.to_json(), b.to_json());
        prop_assert_eq!(a.events, 2 + 149 + 81 + 26 + 2);
    }
}
