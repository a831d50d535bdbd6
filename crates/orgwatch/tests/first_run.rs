//! A new user's first mistakes with the database URL: each gets one clear message, at once.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn orgwatch(database_url: &str, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_orgwatch"))
        .arg("--database-url")
        .arg(database_url)
        .args(args)
        .output()
        .unwrap();
    (out, started.elapsed())
}

#[test]
fn a_sqlite_file_in_a_missing_directory_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/no/such/dir/orgwatch.db", dir.path().display());
    let (out, _) = orgwatch(&url, &["migrate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("no/such/dir"), "{stderr}");
    assert_eq!(
        stderr.matches("does not exist").count(),
        1,
        "said twice: {stderr}"
    );
    assert!(
        !stderr.contains("code: 14"),
        "SQLite's own words, not ours: {stderr}"
    );
    assert!(!dir.path().join("no").exists(), "created the directory");
}

#[test]
fn a_closed_postgres_port_is_refused_at_once_without_the_password() {
    // Bind and drop a listener: nothing listens on its port now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://orgwatch:hunter2@127.0.0.1:{port}/orgwatch");
    let (out, took) = orgwatch(&url, &["migrate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert_eq!(stderr.matches("refused").count(), 1, "said twice: {stderr}");
    assert!(!stderr.contains("pool timed out"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn an_unknown_scheme_says_which_ones_work() {
    let (out, _) = orgwatch("mysql://localhost/db", &["migrate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("sqlite://") && stderr.contains("postgres://"),
        "{stderr}"
    );
}
