//! The source stage: each pass polls the [`Source`], says what it ignored, and hands the
//! items to the decoders while the writer drains them.

use super::decode;
use super::write::{Writer, QUEUED_CHUNKS};
use crate::source::{Input, Source};
use anyhow::{bail, Result};
use tokio::sync::mpsc;

/// Ignored names listed without `-v`.
const IGNORED_SHOWN: usize = 5;

/// The message naming the files a walk ignored for their name (all of them with `verbose`).
pub fn ignored_message(ignored: &[String], verbose: bool) -> Option<String> {
    if ignored.is_empty() {
        return None;
    }
    let shown = if verbose {
        ignored.len()
    } else {
        ignored.len().min(IGNORED_SHOWN)
    };
    let mut out = format!(
        "{} files not named *.json[.gz], *.jsonl, *.ndjson were ignored: {}",
        ignored.len(),
        ignored[..shown].join(", ")
    );
    if shown < ignored.len() {
        out.push_str(&format!(
            " and {} more (-v names them all)",
            ignored.len() - shown
        ));
    }
    Some(out)
}

/// What a pass did.
#[derive(Debug, Clone, Copy)]
pub struct Pass {
    /// Items read.
    pub items: usize,
    /// The source has nothing more to give.
    pub last: bool,
}

/// One pass over `writer.source`; `None` when it is exhausted. The first pass says what was
/// ignored and refuses a source with nothing in it at all (unless it is followed).
pub async fn pass<S: Source + 'static>(
    writer: &mut Writer<'_, S>,
    first: bool,
    follow: bool,
    verbose: bool,
    label: &str,
    progress: bool,
) -> Result<Option<Pass>> {
    let Some(found) = writer.source.poll().await? else {
        return Ok(None);
    };
    let files = found
        .items
        .iter()
        .filter(|i| matches!(i.input, Input::File(_)))
        .count() as u64;
    if first {
        writer.totals.special = found.special.len() as u64;
        if verbose {
            for name in &found.special {
                eprintln!("orgwatch activity: {name}: not a file (symlink, FIFO, …); skipped");
            }
        }
        writer.totals.already = found.already;
        if let Some(msg) = ignored_message(&found.ignored, verbose) {
            eprintln!("orgwatch activity: {msg}");
        }
        if found.items.is_empty() && found.already == 0 && !follow {
            bail!("no CloudTrail files (*.json, *.json.gz, *.jsonl, *.ndjson) under {label}");
        }
        writer.bar = crate::progress::files(progress, "activity", files, "{msg}");
    } else {
        writer.bar.inc_length(files);
    }
    let items = found.items.len();
    let last = found.last;
    if items > 0 {
        let (tx, mut rx) = mpsc::channel(QUEUED_CHUNKS);
        let decoders = decode::spawn(found.items, &tx, follow, writer.max_record_bytes);
        drop(tx);
        writer.drain(&mut rx).await?;
        for d in decoders {
            if let Err(p) = d.await {
                std::panic::resume_unwind(p);
            }
        }
    }
    Ok(Some(Pass { items, last }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_files_are_named_the_first_few_or_all() {
        let names: Vec<String> = (1..=7).map(|i| format!("f{i}.txt")).collect();
        assert_eq!(
            ignored_message(&names[..2], false).unwrap(),
            "2 files not named *.json[.gz], *.jsonl, *.ndjson were ignored: f1.txt, f2.txt"
        );
        let some = ignored_message(&names, false).unwrap();
        assert!(
            some.ends_with("f5.txt and 2 more (-v names them all)"),
            "{some}"
        );
        assert!(ignored_message(&names, true)
            .unwrap()
            .ends_with("f6.txt, f7.txt"));
        assert_eq!(ignored_message(&[], false), None);
    }
}
