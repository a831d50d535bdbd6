//! `orgwatch activity --no-store`: the triage report on the CloudTrail samples.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_test_support::cloudtrail;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn orgwatch() -> Command {
    let mut c = orgwatch_test_support::orgwatch!();
    // Never touch a real database: the command must not open one.
    c.env(
        "ORGWATCH_DATABASE_URL",
        "sqlite:///nonexistent/dir/never.db",
    );
    c
}

fn samples() -> PathBuf {
    cloudtrail::dir()
}

#[test]
fn json_report_of_the_samples() {
    let out = orgwatch()
        .args(["activity", "--from"])
        .arg(samples())
        .args(["--no-store", "--report", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "one JSON object on one line");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    // Counted without the decoder.
    let want = cloudtrail::records().len();
    assert_eq!(want, 2245);
    assert_eq!(v["events"], want);
    assert_eq!(v["undecodable"], 0);
    assert_eq!(v["by_principal_type"]["AWSAccount"], 1);
    assert!(!stderr.contains("database"), "{stderr}");
    assert!(stderr.contains("files not named"), "{stderr}"); // SOURCES.md and licences
    assert!(
        stderr.contains("SOURCES.md"),
        "the ignored files are named: {stderr}"
    );
}

#[test]
fn ignored_files_are_named_the_first_few_and_all_with_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let ok = samples().join("invictus-ir_aws_dataset/218007301253_CloudTrail_us-east-1_20230710T1150Z_1vnLavRRp0ek1mP4.json");
    std::fs::copy(&ok, dir.path().join("a.json")).unwrap();
    for i in 1..=7 {
        std::fs::write(dir.path().join(format!("note{i}.txt")), "x").unwrap();
    }
    let triage = |verbose: bool| {
        let mut c = orgwatch();
        if verbose {
            c.arg("-v");
        }
        let out = c
            .args(["activity", "--no-store", "--from"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let some = triage(false);
    assert!(
        some.contains("7 files not named *.json[.gz], *.jsonl, *.ndjson were ignored: note1.txt, note2.txt, note3.txt, note4.txt, note5.txt and 2 more (-v names them all)"),
        "{some}"
    );
    let all = triage(true);
    assert!(all.contains("note5.txt, note6.txt, note7.txt"), "{all}");
}

#[test]
fn a_missing_from_fails_before_any_database_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("orgwatch.db");
    let out = orgwatch()
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(["activity", "--from", "/no/such/cloudtrail"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--from /no/such/cloudtrail does not exist"),
        "{stderr}"
    );
    assert!(!stderr.contains("using database"), "{stderr}");
    assert!(!db.exists(), "no database is created");
}

#[test]
fn a_read_error_on_stdin_is_reported_and_exits_2() {
    // Reading a directory fails (EISDIR): the simplest stdin that breaks.
    let dir = tempfile::tempdir().unwrap();
    let out = orgwatch()
        .args(["activity", "--no-store", "--from", "-"])
        .stdin(std::fs::File::open(dir.path()).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("orgwatch activity: (stdin): "), "{stderr}");
}

#[test]
fn table_report_is_the_default_and_stdin_works() {
    let f = samples().join("grafana_loki/cloudtrail-log-file.json.gz");
    let out = orgwatch()
        .args(["activity", "--no-store", "--from", "-"])
        .stdin(std::fs::File::open(&f).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("events 2   undecodable 0   skipped 0\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nprincipal type (2 distinct)\n"),
        "{stdout}"
    );
}

#[test]
fn no_store_and_follow_need_a_source_and_exclude_each_other() {
    for args in [
        &["activity", "--no-store"][..],
        &["activity", "--follow"],
        &["activity", "--from", "-", "--no-store", "--follow"],
        &["activity", "--from", "-", "--since", "2024-01-01"],
        &["activity", "--keep-minutes", "soon"],
    ] {
        let out = orgwatch().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn recent_events_must_outlive_the_minute_tier() {
    let out = orgwatch()
        .args(["activity", "--keep-events", "1h", "--keep-minutes", "48h"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keep-events must be at least"));
}

#[test]
fn unreadable_files_are_named_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ok = samples().join("invictus-ir_aws_dataset/218007301253_CloudTrail_us-east-1_20230710T1150Z_1vnLavRRp0ek1mP4.json");
    std::fs::copy(&ok, dir.path().join("a.json")).unwrap();
    std::fs::write(dir.path().join("b.json"), "this is not json").unwrap();
    let out = orgwatch()
        .args(["activity", "--no-store", "--report", "json", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["events"], 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("b.json: not CloudTrail JSON"), "{stderr}");
}
