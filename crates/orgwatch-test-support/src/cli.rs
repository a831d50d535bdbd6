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

/// A running `orgwatch serve` or `demo` and what it printed before serving.
pub struct Served {
    /// The process.
    pub child: std::process::Child,
    /// The `url:` it printed.
    pub url: String,
    /// The `password:` it printed (new credentials only).
    pub password: Option<String>,
    /// The `metrics:` URL it printed (with `--metrics-listen` only).
    pub metrics: Option<String>,
}

impl Served {
    /// Starts `cmd` and reads its stdout up to the `url:` line (the credentials, when there
    /// are new ones, come just before it); panics if it exits first.
    pub fn start(mut cmd: Command) -> Served {
        use std::io::BufRead;
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut user = None;
        let mut password = None;
        let mut metrics = None;
        for line in lines {
            let line = line.unwrap();
            if let Some(u) = line.strip_prefix("user: ") {
                user = Some(u.to_owned());
            } else if let Some(p) = line.strip_prefix("password: ") {
                password = Some(p.to_owned());
            } else if let Some(m) = line.strip_prefix("metrics: ") {
                metrics = Some(m.to_owned());
            } else if let Some(url) = line.strip_prefix("url: ") {
                assert_eq!(user.is_some(), password.is_some());
                assert!(user.is_none_or(|u| u == "admin"));
                return Served {
                    child,
                    url: url.to_owned(),
                    password,
                    metrics,
                };
            }
        }
        // Ended without serving: reap it, then fail.
        let status = child.wait().unwrap();
        panic!("no url: line; the process exited with {status}")
    }

    /// `host:port` of the URL.
    pub fn addr(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned()
    }

    /// SIGTERM, then the exit status (a graceful shutdown exits 0).
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        self.child.wait().unwrap()
    }
}
