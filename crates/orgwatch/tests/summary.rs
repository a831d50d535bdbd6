//! The demo summary's figures against an independent computation from the generated files:
//! the first numbers a user sees must be right.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cents, expected};
use std::process::Command;

/// The number after `prefix` in `line` (money with `$`, or a count).
fn figure(line: &str, prefix: &str) -> f64 {
    let at = line
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix:?} in {line}"))
        + prefix.len();
    let rest: String = line[at..]
        .trim_start_matches('$')
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    rest.parse()
        .unwrap_or_else(|_| panic!("{prefix:?} in {line}"))
}

#[test]
fn the_demo_summary_equals_an_independent_computation_from_its_files() {
    // Seeds, sizes and end dates past one fixture: a month start, a year start, a short month.
    for (seed, accounts, days, end) in [
        ("11", "4", "70", "2026-11-24"),
        ("3", "3", "40", "2026-03-31"),
        ("7", "2", "35", "2026-01-02"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("orgwatch.db").display());
        let out = Command::new(env!("CARGO_BIN_EXE_orgwatch"))
            .args([
                "--database-url",
                &db,
                "demo",
                "--no-serve",
                "--seed",
                seed,
                "--accounts",
                accounts,
            ])
            .args(["--days", days, "--end-date", end, "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = expected(dir.path());
        let day = want.day.expect("the demo has daily cost");
        let line = stdout
            .lines()
            .find(|l| l.starts_with("organisation:"))
            .unwrap_or_else(|| panic!("no organisation line in {stdout}"));
        let case = format!("seed {seed}, end {end}: {line}");
        assert!(line.contains(&format!(" on {day};")), "{case}: day {day}");
        assert_eq!(
            cents(figure(line, "organisation: $")),
            cents(want.day_cost),
            "{case}"
        );
        assert_eq!(
            cents(figure(line, "; $")),
            cents(want.month_to_date),
            "{case}"
        );
        assert_eq!(
            cents(figure(line, "against $")),
            cents(want.previous_month_to_date),
            "{case}"
        );
        for severity in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] {
            let label = format!(" {}", severity.to_ascii_lowercase());
            let at = line
                .find(&label)
                .unwrap_or_else(|| panic!("{case}: no {label}"));
            let count: i64 = line[..at]
                .rsplit(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                count,
                want.open.get(severity).copied().unwrap_or(0),
                "{case}: {severity}"
            );
        }
        assert!(
            want.open.get("CRITICAL").copied().unwrap_or(0) > 0 && want.month_to_date > 0.0,
            "{case}: the demo should have open critical findings and cost"
        );
    }
}
