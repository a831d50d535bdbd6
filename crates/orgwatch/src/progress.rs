//! The progress bar every command shows on a terminal: one style, one place.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` files labelled `what` (`ingest`, `activity`, `generate`), followed by
/// `tail` (indicatif template keys such as `{per_sec}` or `{msg}`); hidden unless `show`.
pub fn files(show: bool, what: &str, len: u64, tail: &str) -> ProgressBar {
    let bar = if show {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    let template = format!("{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} files {tail}");
    // A bad template is a programming error; a plain bar is better than no progress at all.
    let style =
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_used_is_valid() {
        for tail in ["{per_sec} eta {eta} {msg}", "{msg}", "{per_sec}"] {
            let template = format!("{{spinner}} x [{{bar:30}}] {{pos}}/{{len}} files {tail}");
            assert!(
                indicatif::ProgressStyle::with_template(&template).is_ok(),
                "{tail}"
            );
        }
    }
}
