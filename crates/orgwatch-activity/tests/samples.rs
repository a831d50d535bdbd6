//! The decoder on the real CloudTrail samples in testdata/cloudtrail, checked against an
//! independent count (serde_json::Value and a HashMap, not the production decoder).
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_activity::{decode_bytes, decode_file, Report};
use orgwatch_test_support::cloudtrail;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Default, Debug)]
struct Independent {
    total: u64,
    service: HashMap<String, u64>,
    api: HashMap<String, u64>,
    principal_type: HashMap<String, u64>,
    source_ip: HashMap<String, u64>,
    account: HashMap<String, u64>,
    error_code: HashMap<String, u64>,
}

fn independent() -> Independent {
    let mut c = Independent::default();
    for f in cloudtrail::files() {
        for r in cloudtrail::records_of(&f) {
            // An empty text value counts as absent (one Panther fixture has `"errorCode": ""`).
            let s = |k: &str| {
                r.get(k)
                    .and_then(|v| v.as_str())
                    .filter(|v| !v.is_empty())
                    .map(|v| v.to_string())
            };
            c.total += 1;
            *c.service.entry(s("eventSource").unwrap()).or_default() += 1;
            let api = format!("{}:{}", s("eventSource").unwrap(), s("eventName").unwrap());
            *c.api.entry(api).or_default() += 1;
            let ptype = r["userIdentity"]["type"]
                .as_str()
                .unwrap_or("Unknown")
                .to_string();
            *c.principal_type.entry(ptype).or_default() += 1;
            let ip = s("sourceIPAddress").unwrap_or_else(|| "(none)".into());
            *c.source_ip.entry(ip).or_default() += 1;
            // As written, even when not a 12-digit id: "(none)" only when absent or empty.
            let acct = s("recipientAccountId").unwrap_or_else(|| "(none)".into());
            *c.account.entry(acct).or_default() += 1;
            if let Some(code) = s("errorCode") {
                *c.error_code.entry(code).or_default() += 1;
            }
        }
    }
    c
}

fn as_hash(m: &BTreeMap<String, u64>) -> HashMap<String, u64> {
    m.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

fn decode_all() -> Report {
    let mut report = Report::new();
    for f in cloudtrail::files() {
        report.merge(decode_file(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display())));
    }
    report
}

#[test]
fn counts_match_an_independent_count() {
    let want = independent();
    let got = decode_all();
    assert_eq!(
        want.total, 2245,
        "the corpus SOURCES.md documents 2245 records"
    );
    assert_eq!(got.events, want.total);
    assert_eq!(got.undecodable, 0, "{:?}", got.undecodable_reasons);
    assert_eq!(got.records(), want.total);
    assert_eq!(as_hash(&got.by_service), want.service);
    assert_eq!(as_hash(&got.by_api), want.api);
    assert_eq!(as_hash(&got.by_principal_type), want.principal_type);
    assert_eq!(as_hash(&got.by_source_ip), want.source_ip);
    assert_eq!(as_hash(&got.by_account), want.account);
    assert_eq!(as_hash(&got.by_error_code), want.error_code);
    for t in [
        "IAMUser",
        "AssumedRole",
        "Unknown",
        "AWSService",
        "Root",
        "FederatedUser",
        "AWSAccount",
    ] {
        assert!(got.by_principal_type.contains_key(t), "{t} missing");
    }
    assert_eq!(got.by_principal.values().sum::<u64>(), want.total);
    assert_eq!(got.by_region.values().sum::<u64>(), want.total);
    let j = got.to_json();
    assert_eq!(j["first_event_time"], "2015-03-18T19:04:42Z");
    assert_eq!(j["last_event_time"], "2025-12-03T18:00:00Z");
    assert_eq!(j["by_principal_type"]["Root"], 7);
    assert_eq!(j["skipped"], serde_json::json!({"digest": 0, "insight": 0}));
}

#[test]
fn gzip_log_file_decodes_like_its_plain_twin() {
    let gz = cloudtrail::dir().join("grafana_loki/cloudtrail-log-file.json.gz");
    let plain = cloudtrail::plain_bytes(&gz);
    let a = decode_bytes(&std::fs::read(&gz).unwrap()).unwrap();
    let b = decode_bytes(&plain).unwrap();
    assert_eq!(a.events, 2);
    assert_eq!(a, b);
    let nd =
        cloudtrail::dir().join("panther-labs_panther-analysis/panther_rule_tests_part2.json.gz");
    let a = decode_file(&nd).unwrap();
    assert_eq!(a.events, 81);
    assert_eq!(a, decode_bytes(&cloudtrail::plain_bytes(&nd)).unwrap());
}

#[test]
fn eventbridge_envelope_counts_like_the_raw_event() {
    let f = cloudtrail::dir().join("panther-labs_panther-analysis/panther_rule_tests_part1.json");
    let raw = cloudtrail::plain_bytes(&f);
    let mut wrapped = String::new();
    let mut array = Vec::new();
    for line in String::from_utf8(raw.clone()).unwrap().lines() {
        let ev: Value = serde_json::from_str(line).unwrap();
        let env = serde_json::json!({
            "version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.s3", "account": "123456789012", "time": "2023-01-01T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail": ev,
        });
        wrapped.push_str(&env.to_string());
        wrapped.push('\n');
        array.push(env);
    }
    let want = decode_bytes(&raw).unwrap();
    assert_eq!(want.events, 149);
    assert_eq!(decode_bytes(wrapped.as_bytes()).unwrap(), want);
    // The same envelopes as one pretty-printed JSON array.
    let pretty = serde_json::to_vec_pretty(&array).unwrap();
    assert_eq!(decode_bytes(&pretty).unwrap(), want);
}

#[test]
fn digest_and_insight_are_skipped() {
    let digest = br#"{"awsAccountId":"111122223333","digestStartTime":"2023-07-10T11:00:00Z",
        "digestEndTime":"2023-07-10T12:00:00Z","digestS3Bucket":"b","logFiles":[]}"#;
    let r = decode_bytes(digest).unwrap();
    assert_eq!((r.events, r.undecodable, r.skipped["digest"]), (0, 0, 1));
    let dir = std::env::temp_dir().join(format!("orgwatch-digest-{}", std::process::id()));
    let p = dir.join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/x.json.gz");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, b"\x1f\x8b not really gzip").unwrap();
    assert_eq!(decode_file(&p).unwrap().skipped["digest"], 1);
    std::fs::remove_dir_all(&dir).unwrap();

    let insight = br#"{"Records":[{"eventVersion":"1.07","eventTime":"2023-07-10T11:00:00Z",
        "awsRegion":"us-east-1","eventID":"e","eventType":"AwsCloudTrailInsight",
        "recipientAccountId":"111122223333","sharedEventID":"s","insightDetails":{"state":"Start",
        "eventSource":"ssm.amazonaws.com","eventName":"UpdateInstanceAssociationStatus",
        "insightType":"ApiCallRateInsight"},"eventCategory":"Insight"},
        {"eventTime":"2023-07-10T11:41:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}"#;
    let r = decode_bytes(insight).unwrap();
    assert_eq!((r.events, r.undecodable, r.skipped["insight"]), (1, 0, 1));
    assert_eq!(
        r.to_json()["skipped"],
        serde_json::json!({"digest": 0, "insight": 1})
    );
}

#[test]
fn bad_records_are_counted_not_fatal() {
    let input = br#"{"Records":[1, {"eventSource":"s","eventName":"n"},
        {"eventTime":"nope","eventSource":"s","eventName":"n"}, [], null,
        {"eventTime":"2023-07-10T11:41:05Z","eventSource":"s","eventName":"n"}]}"#;
    let r = decode_bytes(input).unwrap();
    assert_eq!((r.events, r.undecodable), (1, 5));
    assert_eq!(
        r.undecodable_reasons[0],
        "record is a number, not an object"
    );
    assert_eq!(r.undecodable_reasons[1], "missing or non-text eventTime");
    assert!(decode_bytes(b"PK\x03\x04 zip").is_err());
    assert!(decode_bytes(b"\x1f\x8b\x08\x00garbage").is_err());
}

#[test]
fn table_lists_the_top_entries() {
    let t = decode_all().to_table(10);
    assert!(
        t.starts_with("events 2245   undecodable 0   skipped 0\n"),
        "{t}"
    );
    assert!(
        t.contains("\nservice (eventSource) (32 distinct)\n  ec2.amazonaws.com "),
        "{t}"
    );
    assert!(t.contains("  … 22 more\n"), "{t}");
}
