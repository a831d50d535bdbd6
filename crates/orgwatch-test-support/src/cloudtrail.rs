//! The CloudTrail samples in `testdata/cloudtrail`, read the simple way: with `serde_json`
//! and the system's `gzip`, not with the decoder under test or its gzip code.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The samples directory.
pub fn dir() -> PathBuf {
    crate::testdata().join("cloudtrail")
}

/// The bytes of one sample file, by its path under [`dir`].
pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(dir().join(rel)).unwrap()
}

/// Every sample file (`.json` and `.json.gz`), sorted.
pub fn files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| {
            let name = p.to_string_lossy();
            p.is_file() && (name.ends_with(".json") || name.ends_with(".json.gz"))
        })
        .collect();
    out.sort();
    out
}

/// A file's bytes, gunzipped (with the system's `gzip`) when they are gzip.
pub fn plain_bytes(p: &Path) -> Vec<u8> {
    let raw = std::fs::read(p).unwrap();
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return raw;
    }
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(p)
        .output()
        .expect("gzip");
    assert!(out.status.success(), "gzip -dc {}", p.display());
    out.stdout
}

/// The records of one file: its `Records` array (an S3 log file), the object itself
/// (an EventBridge envelope or a lone record), or one per non-empty line (NDJSON).
pub fn records_of(p: &Path) -> Vec<Value> {
    let text = String::from_utf8(plain_bytes(p)).unwrap();
    if let Ok(Value::Object(mut whole)) = serde_json::from_str::<Value>(&text) {
        if let Some(Value::Array(recs)) = whole.remove("Records") {
            return recs;
        }
        return vec![Value::Object(whole)];
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every record of every sample file, file by file in [`files`] order.
pub fn records() -> Vec<Value> {
    files().iter().flat_map(|f| records_of(f)).collect()
}

/// Writes the sample records (Insight events left out) as `n` CloudTrail log files under
/// `dir`, record `i` in file `i % n`, with the id `{id_prefix}-{i}`, a time over one day and
/// one of four accounts; returns the number of events written.
pub fn replay_files(dir: &Path, n: usize, id_prefix: &str) -> usize {
    let records: Vec<Value> = records()
        .into_iter()
        .filter(|r| r.get("eventCategory") != Some(&json!("Insight")))
        .collect();
    let mut total = 0;
    for f in 0..n {
        let batch: Vec<Value> = records
            .iter()
            .enumerate()
            .filter(|(i, _)| i % n == f)
            .map(|(i, r)| {
                let mut r = r.clone();
                r["eventID"] = json!(format!("{id_prefix}-{i}"));
                r["eventTime"] = json!(format!(
                    "2024-03-01T{:02}:{:02}:{:02}Z",
                    8 + i / 3600 % 10,
                    i / 60 % 60,
                    i % 60
                ));
                r["recipientAccountId"] = json!(format!("{:012}", 100 + i % 4));
                r
            })
            .collect();
        total += batch.len();
        let p = dir.join(format!(
            "AWSLogs/x/CloudTrail/eu-west-1/2024/03/01/f{f:04}.json"
        ));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, json!({"Records": batch}).to_string()).unwrap();
    }
    total
}

/// `record` as an EventBridge rule delivers it (to a queue, say): the envelope CloudTrail's
/// events have, with event id `id`, the `detail-type` of the record's `eventType`, the
/// `source` of its `eventSource` (`s3.amazonaws.com` is `aws.s3`), its time, and the account
/// and region it names (`recipientAccountId`, else `userIdentity.accountId`, else
/// `111111111111`; `awsRegion`, else `us-east-1`); `detail` is the record, unchanged.
pub fn eventbridge_event(record: &Value, id: &str) -> Value {
    let text = |k: &str| record.get(k).and_then(Value::as_str);
    let detail_type = match text("eventType") {
        Some("AwsConsoleSignIn") => "AWS Console Sign In via CloudTrail",
        Some("AwsServiceEvent") => "AWS Service Event via CloudTrail",
        Some("AwsConsoleAction") => "AWS Console Action via CloudTrail",
        _ => "AWS API Call via CloudTrail",
    };
    let service = text("eventSource").unwrap_or("cloudtrail.amazonaws.com");
    let account = text("recipientAccountId")
        .or_else(|| {
            record
                .pointer("/userIdentity/accountId")
                .and_then(Value::as_str)
        })
        .unwrap_or("111111111111");
    json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": format!("aws.{}", service.split('.').next().unwrap_or(service)),
        "account": account,
        "time": text("eventTime").unwrap_or("2023-07-10T00:00:00Z"),
        "region": text("awsRegion").unwrap_or("us-east-1"),
        "resources": [],
        "detail": record,
    })
}
