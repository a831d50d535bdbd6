//! Hostile input (issue 17, the framing and decoding half), each test first written against
//! the binary before the fix, where it failed as the issue describes:
//!
//! - a `.gz` log file whose one record has a 1 GB `userAgent` took `activity --no-store` to
//!   6.3 GB of RSS (and aborted the stored run under a memory limit); now the record is
//!   skipped as it streams past, counted as oversized, and the other records are kept;
//! - an invalid UTF-8 byte in record 5 of a 31-record plain file kept 4 events, dropped 26
//!   and exited 0, while the same byte in record 1, or inside a `.gz`, failed the whole file;
//!   now every form keeps 30 events, names the damaged record and exits 2;
//! - a UTF-8 byte order mark was refused by `ingest`; an empty file was 0 events without a
//!   word.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use flate2::write::GzEncoder;
use flate2::Compression;
use orgwatch_test_support::cli::text;
use orgwatch_test_support::orgwatch;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// One CloudTrail record (`i` makes its id and time).
fn record(i: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","userName":"alice"}},"eventTime":"2024-03-01T10:{:02}:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","userAgent":"aws-cli","eventID":"e{i}","recipientAccountId":"111111111111"}}"#,
        i % 60
    )
}

/// 31 records, record `bad` (from 1) with an invalid UTF-8 byte in its `userAgent`.
fn records_with_bad_byte(bad: usize) -> Vec<Vec<u8>> {
    (1..=31)
        .map(|i| {
            let r = record(i);
            if i == bad {
                r.replace("aws-cli", "aws\u{1}cli")
                    .bytes()
                    .map(|b| if b == 1 { 0xff } else { b })
                    .collect()
            } else {
                r.into_bytes()
            }
        })
        .collect()
}

/// `parts` joined by `sep`, between `open` and `close`.
fn join(open: &[u8], parts: &[Vec<u8>], sep: &[u8], close: &[u8]) -> Vec<u8> {
    let mut out = open.to_vec();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(p);
    }
    out.extend_from_slice(close);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// The records in every form they are delivered in: a log file (plain and gzip), NDJSON, and
/// EventBridge envelopes one after the other (as Firehose writes them).
fn every_form(records: &[Vec<u8>]) -> Vec<(&'static str, Vec<u8>)> {
    let log = join(b"{\"Records\":[", records, b",", b"]}");
    let envelopes: Vec<Vec<u8>> = records
        .iter()
        .map(|r| {
            join(
                br#"{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":"#,
                std::slice::from_ref(r),
                b"",
                b"}",
            )
        })
        .collect();
    vec![
        ("plain.json", log.clone()),
        ("log.json.gz", gzip(&log)),
        ("lines.ndjson", join(b"", records, b"\n", b"\n")),
        ("eventbridge.json", join(b"", &envelopes, b"", b"")),
    ]
}

/// `orgwatch activity` with `args`, one shot (no database).
fn one_shot(args: &[&str]) -> Command {
    let mut c = orgwatch!();
    c.env(
        "ORGWATCH_DATABASE_URL",
        "sqlite:///nonexistent/dir/never.db",
    )
    .args(["activity", "--no-store", "--report", "json"])
    .args(args);
    c
}

/// `orgwatch activity` into the SQLite database `db`.
fn stored(db: &Path, args: &[&str]) -> Command {
    let mut c = orgwatch!();
    c.arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(["activity", "--report", "json"])
        .args(args);
    c
}

/// Runs `c` reading `dir`, returning its JSON report, stderr and exit code.
fn run(mut c: Command, from: &Path) -> (Value, String, Option<i32>) {
    let out = c.arg("--from").arg(from).output().unwrap();
    parse(&out)
}

fn parse(out: &Output) -> (Value, String, Option<i32>) {
    let v = serde_json::from_str(&text(&out.stdout)).unwrap_or(Value::Null);
    (v, text(&out.stderr), out.status.code())
}

/// `(events, undecodable, oversized)` of a report.
fn counts(v: &Value) -> (u64, u64, u64) {
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (n("events"), n("undecodable"), n("oversized"))
}

/// The files `damaged_files` names.
fn damaged(v: &Value) -> Vec<String> {
    v["damaged_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["file"].as_str().unwrap();
            Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn a_damaged_record_is_dropped_alone_and_named_in_every_form() {
    for bad in [1, 5, 31] {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in every_form(&records_with_bad_byte(bad)) {
            let one = dir.path().join(name);
            std::fs::write(&one, bytes).unwrap();
            let (v, stderr, code) = run(one_shot(&[]), &one);
            // Named by its line in NDJSON, by its index and offset otherwise.
            let what = if name.ends_with(".ndjson") {
                format!("line {bad}: invalid JSON: invalid unicode code point")
            } else {
                format!("record {bad} at byte ")
            };
            assert_eq!(counts(&v), (30, 1, 0), "{name}, record {bad}: {stderr}");
            assert_eq!(
                code,
                Some(2),
                "{name}: a dropped record is exit 2: {stderr}"
            );
            assert_eq!(damaged(&v), [name], "{name}");
            assert!(
                stderr.contains(&format!("{name}: 1 undecodable record, first: {what}")),
                "{name}: {stderr}"
            );
        }
        // Stored: the same counts, every file named, each in the ledger once.
        let db = tempfile::tempdir().unwrap();
        let db = db.path().join("orgwatch.db");
        let (v, stderr, code) = run(stored(&db, &[]), dir.path());
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(counts(&v), (120, 4, 0), "{stderr}");
        let mut names = damaged(&v);
        names.sort();
        assert_eq!(
            names,
            [
                "eventbridge.json",
                "lines.ndjson",
                "log.json.gz",
                "plain.json"
            ]
        );
        assert!(
            stderr.contains(
                "4 files read (0 already in the ledger, 0 failed, 0 taken by another run"
            ),
            "{stderr}"
        );
        // The four forms hold the same 30 events: 30 new, 90 duplicates.
        assert!(
            stderr.contains("120 events: 30 new, 90 duplicates"),
            "{stderr}"
        );
        let (_, stderr, code) = run(stored(&db, &[]), dir.path());
        assert_eq!(code, Some(0), "nothing new to read: {stderr}");
        assert!(
            stderr.contains("0 files read (4 already in the ledger"),
            "{stderr}"
        );
    }
}

#[test]
fn a_file_cut_short_is_incomplete_keeps_its_records_and_is_read_again_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Vec<u8>> = (1..=31).map(|i| record(i).into_bytes()).collect();
    let whole = gzip(&join(b"{\"Records\":[", &records, b",", b"]}"));
    let file = dir.path().join("cut.json.gz");
    // Cut inside the compressed stream: the first records inflate, then it ends.
    std::fs::write(&file, &whole[..whole.len() * 2 / 3]).unwrap();
    let (v, stderr, code) = run(one_shot(&[]), &file);
    assert_eq!(code, Some(2), "{stderr}");
    let kept = v["events"].as_u64().unwrap();
    assert!((1..31).contains(&kept), "{kept}: {stderr}");
    assert!(
        stderr.contains(&format!(
            "cut.json.gz: incomplete: reading stopped after {kept} records"
        )),
        "{stderr}"
    );
    assert_eq!(
        v["damaged_files"][0]["error"]
            .as_str()
            .map(|e| e.starts_with("incomplete")),
        Some(true)
    );

    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("orgwatch.db");
    let (v, stderr, code) = run(stored(&db, &[]), dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(v["events"], kept, "the records before the cut are stored");
    // Unchanged, it is not read again; complete, it is, and only its new events count: the
    // records read before the cut are rereads, not duplicates.
    let (_, stderr, _) = run(stored(&db, &[]), dir.path());
    assert!(
        stderr.contains("0 files read (1 already in the ledger"),
        "{stderr}"
    );
    std::fs::write(&file, &whole).unwrap();
    let (v, stderr, code) = run(stored(&db, &[]), dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(v["events"], 31);
    assert!(
        stderr.contains(&format!("31 events: {} new, 0 duplicates", 31 - kept)),
        "{stderr}"
    );
}

/// Writes `{"Records":[r1,r2,<one record whose userAgent has `len` bytes>,r4,r5]}` to
/// `out` through `w`, 1 MiB at a time.
fn with_long_record(mut w: impl Write, len: usize) {
    let long = record(3);
    let (head, tail) = long.split_once("aws-cli").unwrap();
    w.write_all(format!("{{\"Records\":[{},{},{head}", record(1), record(2)).as_bytes())
        .unwrap();
    let block = vec![b'a'; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len());
        w.write_all(&block[..n]).unwrap();
        left -= n;
    }
    w.write_all(format!("{tail},{},{}]}}", record(4), record(5)).as_bytes())
        .unwrap();
}

/// The largest resident set of any child process of this test process that has ended, from
/// getrusage(2) (`RUSAGE_CHILDREN`): the kernel keeps each process's peak, so nothing is
/// missed between samples, as polling `/proc/PID/status` could. Other tests' children of
/// this process can only raise it (they read kilobytes), so it bounds the run measured.
#[cfg(target_os = "linux")]
fn children_peak_rss_mib() -> i64 {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss() / 1024
}

#[cfg(target_os = "linux")]
#[test]
fn a_one_gigabyte_record_is_skipped_as_it_streams_past_in_bounded_memory() {
    const GB: usize = 1 << 30;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.json.gz");
    let gz = GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&file).unwrap()),
        Compression::fast(),
    );
    with_long_record(gz, GB);
    let t = std::time::Instant::now();
    eprintln!("gz {} bytes", std::fs::metadata(&file).unwrap().len());

    let (v, stderr, code) = run(one_shot(&[]), &file);
    eprintln!("one shot {:?}", t.elapsed());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(counts(&v), (4, 1, 1), "{stderr}");
    assert_eq!(damaged(&v), ["huge.json.gz"]);
    assert!(
        stderr.contains(&format!(
            "record 3 at byte {}: {} bytes, longer than the limit of 1048576 (--max-record-bytes)",
            12 + 2 * (record(1).len() + 1),
            record(3).len() - "aws-cli".len() + GB
        )),
        "{stderr}"
    );

    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("orgwatch.db");
    let (v, stderr, code) = run(stored(&db, &[]), dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(counts(&v), (4, 1, 1), "{stderr}");
    assert!(stderr.contains("4 events: 4 new"), "{stderr}");

    // A line of 1 GB on stdin, between two good ones.
    let mut child = stored(&db, &["--from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        stdin
            .write_all(format!("{}\n", record(6)).as_bytes())
            .unwrap();
        let long = record(7);
        let (head, tail) = long.split_once("aws-cli").unwrap();
        stdin.write_all(head.as_bytes()).unwrap();
        let block = vec![b'a'; 1 << 20];
        for _ in 0..GB / block.len() {
            stdin.write_all(&block).unwrap();
        }
        stdin
            .write_all(format!("{tail}\n{}\n", record(8)).as_bytes())
            .unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let (v, stderr, code) = parse(&out);
    eprintln!("stdin {:?}", t.elapsed());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(counts(&v), (2, 1, 1), "{stderr}");

    let peak = children_peak_rss_mib();
    eprintln!("peak RSS of the orgwatch runs: {peak} MiB");
    assert!(peak < 256, "peak RSS of orgwatch {peak} MiB");
}

#[test]
fn a_byte_order_mark_is_accepted_by_activity_and_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = b"\xEF\xBB\xBF".to_vec();
    log.extend_from_slice(format!("{{\"Records\":[{}]}}", record(1)).as_bytes());
    let file = dir.path().join("bom.json");
    std::fs::write(&file, &log).unwrap();
    let (v, stderr, code) = run(one_shot(&[]), &file);
    assert_eq!((counts(&v), code), ((1, 0, 0), Some(0)), "{stderr}");

    let rel = "210987654321/us-east-1/2026-11-24_DAILY.json";
    let sample = orgwatch_test_support::testdata()
        .join("a360-sample/data")
        .join(rel);
    let mut doc = b"\xEF\xBB\xBF".to_vec();
    doc.extend_from_slice(&std::fs::read(sample).unwrap());
    orgwatch_test_support::fs::put(dir.path(), rel, &doc);
    let db = dir.path().join("orgwatch.db");
    let out = orgwatch!()
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(["ingest", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        dir.path().join("loaded").join(rel).exists(),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_empty_or_blank_file_is_zero_events_with_a_warning_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blank.json"), vec![b' '; 4 << 20]).unwrap();
    std::fs::write(dir.path().join("empty.json"), b"").unwrap();
    let (v, stderr, code) = run(one_shot(&[]), dir.path());
    assert_eq!((v["events"].as_u64(), code), (Some(0), Some(0)), "{stderr}");
    for name in ["blank.json", "empty.json"] {
        assert!(
            stderr.contains(&format!(
                "{name}: empty (no records: 0 bytes or whitespace only)"
            )),
            "{stderr}"
        );
    }
}
