//! The snapshot reader, specified against the genuine A360 sender output in `testdata/`.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_model::category::logs::CollectionStatus;
use orgwatch_model::category::security::PARTS;
use orgwatch_model::{Category, Granularity, Snapshot, SnapshotError, SnapshotLocation};
use orgwatch_test_support::a360::{DAILY, MONTHLY};
use proptest::prelude::*;

#[test]
fn reads_the_genuine_daily_file() {
    let s = Snapshot::from_json(DAILY).unwrap();
    assert_eq!(s.account_id().as_str(), "210987654321");
    assert_eq!(s.account.partner_name.as_deref(), Some("Example Partner"));
    assert_eq!(s.account.product, vec!["Orders Platform".to_owned()]);
    let contacts = s.account.alternate_contacts.as_ref().unwrap();
    assert_eq!(
        contacts.billing.as_ref().unwrap().phone.as_deref(),
        Some("+1-206-555-0101")
    );
    assert!(contacts.operations.is_none());
    assert!(
        s.config.is_none(),
        "config is [] in the file: not collected"
    );
    assert_eq!(s.service.as_ref().unwrap().len(), 10);
    let cost = s.cost.as_ref().unwrap();
    assert_eq!(cost.current_period_cost, Some(8.411839));
    assert_eq!(cost.top_services.len(), 5);
    assert_eq!(
        cost.period.as_ref().unwrap().start.unwrap().to_string(),
        "2026-11-23"
    );
    let sec = s.security.as_ref().unwrap();
    assert_eq!(sec.security_hub.as_ref().unwrap().len(), 2);
    assert_eq!(sec.security_hub.as_ref().unwrap()[0].findings.len(), 3);
    assert_eq!(sec.kms.as_ref().unwrap().len(), 2);
    assert_eq!(sec.cloudtrail.as_ref().unwrap().len(), 1);
    assert_eq!(sec.inspector.as_ref().unwrap().len(), 1);
    assert_eq!(s.service_resources.as_ref().unwrap().len(), 15);
    assert_eq!(s.logs.statuses.len(), 16);
    assert_eq!(s.logs.statuses[&Category::Config], CollectionStatus::Fail);
    assert_eq!(s.logs.messages.len(), 10);
    assert_eq!(s.logs.health_score(), Some(75.0));
}

#[test]
fn reads_the_genuine_monthly_file() {
    let s = Snapshot::from_json(MONTHLY).unwrap();
    let p = s.cost.unwrap().period.unwrap();
    assert_eq!(p.granularity.as_deref(), Some("MONTHLY"));
    assert_eq!(p.start.unwrap().to_string(), "2026-11-01");
}

#[test]
fn writing_and_reading_back_gives_the_same_snapshot() {
    for bytes in [DAILY, MONTHLY] {
        let s = Snapshot::from_json(bytes).unwrap();
        let again = Snapshot::from_json(&s.to_json_pretty()).unwrap();
        assert_eq!(s, again);
    }
}

#[test]
fn values_are_read_leniently() {
    let doc = br#"{
        "account": {"account_id": "123456789012", "partner_name": "None", "product": "A, B,None,,a"},
        "service": [{"service": "EC2", "cost": "12.5", "date_from": "2026-01-01", "utilization": null}],
        "security": {"kms": [{"key_id": "k", "enabled": "True", "creation_date": "2026-01-01T00:00:00"}],
                     "guard_duty": null},
        "inventory": [],
        "health": null,
        "extra_key_from_a_newer_sender": {"kept": "in the raw file"}
    }"#;
    let s = Snapshot::from_json(doc).unwrap();
    assert_eq!(s.account.partner_name, None);
    assert_eq!(s.account.product, vec!["A".to_owned(), "B".to_owned()]);
    assert_eq!(s.service.unwrap()[0].cost, Some(12.5));
    let sec = s.security.unwrap();
    assert_eq!(sec.kms.as_ref().unwrap()[0].enabled, Some(true));
    assert_eq!(sec.guard_duty, Some(vec![]), "null reads as an empty list");
    assert_eq!(sec.waf, None, "absent part: not collected");
    assert_eq!(sec.present_parts(), vec!["guard_duty", "kms"]);
    assert!(s.inventory.is_none());
    assert_eq!(s.health, Some(vec![]));
    assert_eq!(s.ri_sp_savings, None, "absent key: not collected");
}

fn err(doc: &[u8]) -> String {
    Snapshot::from_json(doc).unwrap_err().to_string()
}

#[test]
fn bad_documents_get_a_readable_reason() {
    assert_eq!(err(b""), "the file is empty");
    assert_eq!(err(b"  \n"), "the file is empty");
    assert!(
        err(b"{\"account\": {\"account_id\": \"1234").contains("truncated"),
        "{}",
        err(b"{\"account\": {\"account_id\": \"1234")
    );
    assert!(err(b"{not json}").starts_with("invalid JSON at line 1"));
    assert!(err(b"{}").contains("no valid account id"), "{}", err(b"{}"));
    assert!(err(br#"{"account": {}}"#).contains("no valid account id"));
    assert!(err(br#"{"account": {"account_id": "12345"}}"#)
        .contains("\"12345\" is not an AWS account id"));
    assert!(err(br#"{"account": {"account_id": 123456789012}}"#).contains("no valid account id"));
    let e = err(br#"{"account": {"account_id": "123456789012"}, "security": {"kms": [{"enabled": "maybe"}]}}"#);
    assert!(
        e.contains("security") && e.contains("kms[0].enabled") && e.contains("expected a boolean"),
        "{e}"
    );
    let e = err(br#"{"account": {"account_id": "123456789012"}, "service": "EC2"}"#);
    assert!(e.starts_with("field `service`"), "{e}");
    let e = err(br#"{"account": {"account_id": "123456789012"}, "cost": 12}"#);
    assert!(
        e.contains("cost") && e.contains("expected an object"),
        "{e}"
    );
    let e = err(br#"{"account": {"account_id": "123456789012"}} trailing"#);
    assert!(e.starts_with("invalid JSON"), "{e}");
    assert!(err(b"[1,2,3]").contains("(document)"));
}

#[test]
fn both_path_layouts_are_understood() {
    let v2 = SnapshotLocation::parse("210987654321/us-east-1/2026-11-24_DAILY.json").unwrap();
    assert_eq!(v2.region.as_ref().unwrap().as_str(), "us-east-1");
    assert_eq!(v2.granularity, Granularity::Daily);
    let (start, end) = v2.period();
    assert_eq!(
        (start.to_string(), end.to_string()),
        ("2026-11-23".into(), "2026-11-24".into())
    );
    let v1 = SnapshotLocation::parse("210987654321/2026-11-24_MONTHLY.json").unwrap();
    assert!(v1.region.is_none());
    let (start, end) = v1.period();
    assert_eq!(
        (start.to_string(), end.to_string()),
        ("2026-11-01".into(), "2026-12-01".into())
    );
    assert_eq!(v1.relative_path(), "210987654321/2026-11-24_MONTHLY.json");
    for bad in [
        "2026-11-24_DAILY.json",
        "21098765432/2026-11-24_DAILY.json",
        "210987654321/us-east-1/2026-11-24_HOURLY.json",
        "210987654321/us-east-1/2026-13-24_DAILY.json",
        "210987654321/../2026-11-24_DAILY.json",
        "210987654321/us-east-1/x/2026-11-24_DAILY.json",
        "210987654321/2026-11-24_DAILY.txt",
    ] {
        assert!(SnapshotLocation::parse(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn a_document_claiming_another_account_is_refused() {
    let loc = SnapshotLocation::parse("111111111111/us-east-1/2026-11-24_DAILY.json").unwrap();
    let e = orgwatch_model::read_located(DAILY, &loc).unwrap_err();
    assert!(matches!(e, SnapshotError::AccountMismatch { .. }), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_bytes_give_a_snapshot_or_a_clear_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        match Snapshot::from_json(&bytes) {
            Ok(s) => prop_assert_eq!(s.account_id().as_str().len(), 12),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn any_prefix_of_a_real_file_is_a_clear_error(cut in 0usize..33355) {
        let cut = cut.min(DAILY.len() - 1);
        let e = Snapshot::from_json(&DAILY[..cut]).unwrap_err();
        prop_assert!(matches!(e, SnapshotError::Empty | SnapshotError::Truncated { .. }), "{}", e);
    }

    #[test]
    fn mutated_real_files_never_panic(pos in 0usize..33355, byte in any::<u8>()) {
        let mut doc = DAILY.to_vec();
        let pos = pos % doc.len();
        doc[pos] = byte;
        let _ = Snapshot::from_json(&doc).map(|s| s.to_json_pretty());
    }
}

#[test]
fn a_category_that_was_not_collected_stays_not_collected_when_written() {
    // Found by the fuzzer: absent lists were written as `null` and read back as empty.
    let s = Snapshot::from_json(br#"{"account": {"account_id": "123456789012"}}"#).unwrap();
    assert_eq!(s.health, None);
    let again = Snapshot::from_json(&s.to_json_pretty()).unwrap();
    assert_eq!(again, s);
}

#[test]
fn the_fast_path_reads_the_genuine_files() {
    // Snapshot::from_json first tries serde without path tracking; it must succeed on real files.
    for bytes in [DAILY, MONTHLY] {
        let fast: Snapshot = serde_json::from_slice(bytes).unwrap();
        assert_eq!(fast, Snapshot::from_json(bytes).unwrap());
    }
}

/// Issue 17: `activity` accepted a UTF-8 byte order mark and `ingest` refused it.
#[test]
fn a_byte_order_mark_before_the_document_is_skipped() {
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(DAILY);
    assert_eq!(
        Snapshot::from_json(&bom).unwrap(),
        Snapshot::from_json(DAILY).unwrap()
    );
}

#[test]
fn a_security_part_that_was_not_collected_is_absent_not_empty() {
    // orgwatch collect leaves out a part it could not read; a reader must not see "0 items".
    let doc = br#"{"account": {"account_id": "123456789012"},
                   "security": {"kms": [], "cloudtrail": [{"name": "t"}]}}"#;
    let s = Snapshot::from_json(doc).unwrap();
    let sec = s.security.as_ref().unwrap();
    assert_eq!(sec.kms, Some(vec![]), "collected, none");
    assert_eq!(sec.guard_duty, None, "not collected");
    assert_eq!(sec.present_parts(), vec!["kms", "cloudtrail"]);
    let written: serde_json::Value = serde_json::from_slice(&s.to_json_pretty()).unwrap();
    let keys: Vec<&String> = written["security"].as_object().unwrap().keys().collect();
    // (serde_json's Value sorts keys.)
    assert_eq!(keys, ["cloudtrail", "kms"], "absent parts stay absent");
    assert_eq!(Snapshot::from_json(&s.to_json_pretty()).unwrap(), s);
    // The genuine sender's files hold every part.
    let g = Snapshot::from_json(DAILY).unwrap();
    assert_eq!(g.security.unwrap().present_parts(), PARTS);
}
