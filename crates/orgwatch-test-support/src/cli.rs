//! The `orgwatch` binary under test. Its path is known only to the test crates of the
//! `orgwatch` package (`CARGO_BIN_EXE_orgwatch`), so these functions take it and the
//! [`orgwatch!`](crate::orgwatch) macro passes it.

use crate::TestDb;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// `orgwatch!()`: a [`Command`] for the binary, as [`command`] makes it;
/// `orgwatch!(&db, &["migrate"])`: runs it on a [`TestDb`](crate::TestDb), as [`run`] does.
#[macro_export]
macro_rules! orgwatch {
    () => {
        $crate::cli::command(env!("CARGO_BIN_EXE_orgwatch"))
    };
    ($db:expr, $args:expr $(,)?) => {
        $crate::cli::run(env!("CARGO_BIN_EXE_orgwatch"), $db, $args)
    };
}

/// The binary at `bin`, with no database from the environment and no colours.
pub fn command(bin: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(bin);
    c.env_remove("ORGWATCH_DATABASE_URL").env("NO_COLOR", "1");
    c
}

/// Runs the binary at `bin` on a database with arguments, returning its output.
pub fn run(bin: impl AsRef<OsStr>, db: &TestDb, args: &[&str]) -> Output {
    command(bin)
        .arg("--database-url")
        .arg(&db.url)
        .args(args)
        .output()
        .unwrap()
}

/// Bytes as (lossy) text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Generates a demo organisation's files (not loaded) under `dir/data` with the binary at
/// `bin`.
pub fn generate(bin: impl AsRef<OsStr>, dir: &Path, accounts: u32, days: u32) {
    let out = command(bin)
        .args([
            "demo",
            "--generate-only",
            "--end-date",
            "2026-11-24",
            "--seed",
            "7",
        ])
        .args([
            "--accounts",
            &accounts.to_string(),
            "--days",
            &days.to_string(),
        ])
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}
