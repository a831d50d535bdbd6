//! Logging setup: tracing to stderr, as text or JSON lines.

use crate::cli::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Our crates, logged at the level the user chose; every other crate (sqlx's slow-statement
/// warnings, …) one level below it, so a library's chatter needs one more `-v`.
const OURS: [&str; 4] = [
    "orgwatch",
    "orgwatch_store",
    "orgwatch_activity",
    "orgwatch_model",
];

/// The filter for `verbose` (0: warnings, 1: info, more: debug).
fn directives(verbose: u8) -> String {
    let (ours, libraries) = match verbose {
        0 => ("warn", "error"),
        1 => ("info", "warn"),
        2 => ("debug", "info"),
        _ => ("debug", "debug"),
    };
    let mut out = libraries.to_owned();
    for name in OURS {
        out.push_str(&format!(",{name}={ours}"));
    }
    out
}

/// Installs the global subscriber; `RUST_LOG` overrides the verbosity flags. Colours only
/// when stderr is a terminal.
pub fn init(format: LogFormat, verbose: u8) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives(verbose)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_log_one_level_below_the_chosen_one() {
        assert_eq!(
            directives(0),
            "error,orgwatch=warn,orgwatch_store=warn,orgwatch_activity=warn,orgwatch_model=warn"
        );
        assert!(directives(1).starts_with("warn,orgwatch=info"));
    }
}
