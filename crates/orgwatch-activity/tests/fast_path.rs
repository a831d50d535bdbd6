//! The decoder's fast path (records read from their bytes into the fields an event needs)
//! against the `Map` path (`ActivityEvent::from_cloudtrail` over a `serde_json::Value`): the
//! same events on the real samples, the same leniency, and the same JSON accepted.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_activity::{decode_bytes, decode_reader_into, Buffered};
use orgwatch_model::ActivityEvent;
use orgwatch_test_support::cloudtrail;
use serde_json::{json, Map, Value};
use std::io::Read;
use std::path::Path;

fn records_of(p: &Path) -> Vec<Map<String, Value>> {
    let bytes = cloudtrail::plain_bytes(p);
    let values: Vec<Value> = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut whole)) => match whole.remove("Records") {
            Some(Value::Array(recs)) => recs,
            _ => vec![Value::Object(whole)],
        },
        _ => serde_json::Deserializer::from_slice(&bytes)
            .into_iter::<Value>()
            .map(Result::unwrap)
            .collect(),
    };
    values
        .into_iter()
        .map(|v| match v {
            Value::Object(m) => m,
            other => panic!("{other}"),
        })
        .collect()
}

fn decode_events(bytes: &[u8]) -> Vec<ActivityEvent> {
    let mut b = Buffered::default();
    decode_reader_into(bytes, &mut b).unwrap();
    assert_eq!(
        b.report.undecodable, 0,
        "{:?}",
        b.report.undecodable_reasons
    );
    b.events
}

#[test]
fn samples_give_the_events_of_the_map_path() {
    let mut n = 0;
    for f in cloudtrail::files() {
        let want: Vec<ActivityEvent> = records_of(&f)
            .iter()
            .map(|m| ActivityEvent::from_cloudtrail(m).unwrap())
            .collect();
        let got = decode_events(&std::fs::read(&f).unwrap());
        assert_eq!(got, want, "{}", f.display());
        n += got.len();
    }
    assert_eq!(n, 2245);
}

#[test]
fn samples_without_event_ids_are_keyed_on_their_content() {
    for f in cloudtrail::files() {
        let recs: Vec<Map<String, Value>> = records_of(&f)
            .into_iter()
            .map(|mut m| {
                m.remove("eventID");
                m
            })
            .collect();
        let want: Vec<ActivityEvent> = recs
            .iter()
            .map(|m| ActivityEvent::from_cloudtrail(m).unwrap())
            .collect();
        assert!(want.iter().all(|e| e.content_hash.is_some()));
        let log = json!({ "Records": recs }).to_string();
        assert_eq!(decode_events(log.as_bytes()), want, "{}", f.display());
    }
}

/// The fast path on one record (in a log file, and as an NDJSON line) against the `Map` path.
fn same_as_map_path(rec: &str) {
    let m: Map<String, Value> = serde_json::from_str(rec).unwrap();
    let want = ActivityEvent::from_cloudtrail(&m);
    for input in [
        format!("{{\"Records\":[{rec}]}}"),
        format!("{rec}\n{rec}\n"),
    ] {
        let mut b = Buffered::default();
        decode_reader_into(input.as_bytes(), &mut b).unwrap();
        match &want {
            Ok(ev) => assert!(
                b.events.iter().all(|e| e == ev) && !b.events.is_empty(),
                "{rec}"
            ),
            Err(e) => assert_eq!(b.report.undecodable_reasons[0], e.to_string(), "{rec}"),
        }
    }
}

#[test]
fn leniency_is_the_map_paths() {
    let base = r#""eventTime":"2023-07-10T11:41:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"e-1""#;
    for extra in [
        // The last of duplicate keys wins, whole values included.
        r#""eventSource":"ec2.amazonaws.com""#,
        r#""userIdentity":{"type":"IAMUser","userName":"a"},"userIdentity":5"#,
        r#""userIdentity":{"type":"IAMUser","userName":"a","userName":"b"}"#,
        r#""userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s","sessionContext":{"sessionIssuer":{"userName":"X"}},"sessionContext":{}}"#,
        r#""userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s","sessionContext":{"sessionIssuer":{"userName":"X"}}}"#,
        r#""userIdentity":{"type":"IdentityCenterUser","onBehalfOf":{"userId":"u-1"}}"#,
        r#""userIdentity":{"type":"AWSService","invokedBy":""},"invokedBy":"ec2.amazonaws.com""#,
        // Values of another type count as absent; empty texts too.
        r#""awsRegion":5,"sourceIPAddress":"","errorCode":null,"userAgent":["aws-cli"]"#,
        r#""readOnly":"TRUE","recipientAccountId":"123456789012""#,
        r#""readOnly":"maybe","recipientAccountId":"12345""#,
        r#""recipientAccountId":"12345678901234""#,
        r#""eventName":{"nested":true}"#,
        r#""eventTime":"yesterday""#,
        // Escaped strings.
        r#""eventName":"Get\u004fbject","userAgent":"aws-cli\/2""#,
        // Fields no report reads, of every shape.
        r#""requestParameters":{"a":[1,2.5,-3e10,true,null,{"b":"c"}]},"responseElements":null"#,
        r#""eventCategory":"Management","eventCategory":"Data""#,
    ] {
        same_as_map_path(&format!("{{{base},{extra}}}"));
    }
}

#[test]
fn insights_digests_and_envelopes_inside_records() {
    let ev =
        r#"{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s","eventName":"n","eventID":"1"}"#;
    let input = format!(
        r#"{{"Records":[{ev},
        {{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s","eventName":"n","eventID":"2","eventCategory":"Insight"}},
        {{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s","eventName":"n","eventID":"3","insightDetails":{{}}}},
        {{"digestStartTime":"x","eventID":"4"}},
        {{"detail-type":"AWS API Call via CloudTrail","detail":{ev},"eventID":"5"}},
        {{"detail-type":"Scheduled Event","detail":{{}}}}]}}"#
    );
    let r = decode_bytes(input.as_bytes()).unwrap();
    assert_eq!(r.events, 2);
    assert_eq!(r.skipped["insight"], 2);
    assert_eq!(r.skipped["digest"], 1);
    assert_eq!(r.skipped["eventbridge-other"], 1);
}

/// A `recipientAccountId` that is not a 12-digit id (real test corpora have 14-digit ones) is
/// reported as written by both paths, never folded into `(none)`, which stays for a missing
/// or empty one.
#[test]
fn an_account_that_is_not_an_id_is_reported_as_written() {
    let rec = |account: &str, id: &str| {
        format!(
            r#"{{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"{account}"{id}}}"#
        )
    };
    // With an eventID the fast path reads the record; without one, or inside an EventBridge
    // envelope, the `Map` path does.
    let fast = rec("12345678901234", r#","eventID":"e-1""#);
    let slow = rec("12345678901234", "");
    same_as_map_path(&fast);
    for input in [
        format!(r#"{{"Records":[{fast}]}}"#),
        format!(r#"{{"Records":[{slow}]}}"#),
        format!("{fast}\n"),
        format!("{slow}\n"),
        format!(r#"{{"detail-type":"AWS API Call via CloudTrail","detail":{slow}}}"#),
    ] {
        let r = decode_bytes(input.as_bytes()).unwrap();
        assert_eq!(r.events, 1, "{input}");
        assert_eq!(
            r.by_account.into_iter().collect::<Vec<_>>(),
            [("12345678901234".to_owned(), 1)],
            "{input}"
        );
    }
    let log = format!(
        r#"{{"Records":[{fast},{},{},{}]}}"#,
        rec("", r#","eventID":"e-2""#),
        rec("123456789012", r#","eventID":"e-3""#),
        r#"{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s","eventName":"n","eventID":"e-4"}"#,
    );
    let r = decode_bytes(log.as_bytes()).unwrap();
    assert_eq!(
        r.by_account
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect::<Vec<_>>(),
        [("(none)", 2), ("123456789012", 1), ("12345678901234", 1)]
    );
    let table = r.to_table(10);
    assert!(
        table.contains("12345678901234          1  (not an account id)\n"),
        "{table}"
    );
    assert!(table.contains("123456789012            1\n"), "{table}");
}

/// A log file decodes to one event exactly when serde_json reads the whole file as a `Value`:
/// the fast path accepts no JSON the `Map` path rejects.
#[test]
fn accepts_exactly_what_serde_json_accepts() {
    let head = r#"{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s","eventName":"n","eventID":"1","requestParameters":"#;
    let nest = |n: usize| "[".repeat(n) + &"]".repeat(n);
    let mut cases: Vec<Vec<u8>> = vec![
        br#""\ud800""#.to_vec(),
        br#""\udc00\ud800""#.to_vec(),
        br#""\ud83d\ude00""#.to_vec(),
        b"1e999".to_vec(),
        b"-1e400".to_vec(),
        b"1.7976931348623157e308".to_vec(),
        b"\"\xff\xfe\"".to_vec(),
        b"\"a\x01b\"".to_vec(),
        br#""\x""#.to_vec(),
        b"01".to_vec(),
        b"[1,]".to_vec(),
        b"{\"a\":1,}".to_vec(),
        b"tru".to_vec(),
    ];
    for n in [120, 123, 124, 125, 126, 127] {
        cases.push(nest(n).into_bytes());
    }
    for case in cases {
        let mut doc = b"{\"Records\":[".to_vec();
        doc.extend_from_slice(head.as_bytes());
        doc.extend_from_slice(&case);
        doc.extend_from_slice(b"}]}");
        let valid = serde_json::from_slice::<Value>(&doc).is_ok();
        let label = String::from_utf8_lossy(&case).into_owned();
        // The record's framing is whole, so a bad one is one undecodable record, never an
        // error of the file (issue 17: one rule for a damaged file).
        let r = decode_bytes(&doc).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            (r.events, r.undecodable),
            (u64::from(valid), u64::from(!valid)),
            "{label}: {:?}",
            r.undecodable_reasons
        );
        // After a good record, bad JSON is one undecodable record and the good one is kept.
        let good = format!("{head}1}}");
        let mut doc2 = format!("{{\"Records\":[{good},").into_bytes();
        doc2.extend_from_slice(&doc[12..]);
        let r = decode_bytes(&doc2).unwrap();
        assert_eq!(
            (r.events, r.undecodable),
            (1 + u64::from(valid), u64::from(!valid)),
            "{label}"
        );
    }
}

/// A log file far larger than the read-ahead, given a few bytes at a time.
#[test]
fn streams_a_large_log_file_in_small_reads() {
    struct Trickle {
        data: Vec<u8>,
        at: usize,
    }
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(7).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }
    let rec = r#"{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s","eventName":"n","eventID":"1","requestParameters":{"k":"a very long value that repeats"}}"#;
    let n = 20_000;
    let mut data = String::from("\u{feff}{\"Records\": [\n");
    for i in 0..n {
        if i > 0 {
            data.push_str(",\n");
        }
        data.push_str(rec);
    }
    data.push_str("\n]}\n");
    let mut b = Buffered::default();
    decode_reader_into(
        Trickle {
            data: data.into_bytes(),
            at: 0,
        },
        &mut b,
    )
    .unwrap();
    assert_eq!(b.report.events, n);
}
