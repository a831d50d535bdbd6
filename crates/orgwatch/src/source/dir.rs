//! The directory source: one walker for snapshots and CloudTrail files, with the settle delay
//! (files modified too recently may still be being written) and the activity ledger check.

use super::{Found, Input, Item, Outcome, Receipt, Source};
use anyhow::{Context, Result};
use orgwatch_model::SnapshotLocation;
use orgwatch_store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What a directory holds, and so what the walker keeps and what an acknowledgement does.
#[derive(Clone)]
pub enum Kind {
    /// A360 snapshots under `root/data/`: every file but partial ones (dot files, `.tmp`,
    /// `.partial`), named by their path under `data/`, oldest run date first. Acknowledged by
    /// moving the file to `loaded/` or to `failed/` (with the reason in a `.error.txt`).
    Snapshots,
    /// CloudTrail files under `root` (or `root` itself, whatever its name): `*.json[.gz]`,
    /// `*.jsonl`, `*.ndjson`, named by their whole path, in delivery-time order. With a
    /// store, files its ledger has at their current size are skipped, and a failure is
    /// recorded in the ledger (a file read to its end enters it with its last events, in
    /// their transaction, so there is nothing left to record then).
    Logs {
        /// The store whose ledger says what was read.
        ledger: Option<Store>,
    },
}

/// A directory read once, or followed (polled again after each pass).
pub struct DirSource {
    root: PathBuf,
    kind: Kind,
    settle: Duration,
    follow: bool,
    polled: AtomicBool,
}

impl DirSource {
    /// Snapshots under `root/data/`; files modified in the last `settle` wait for a later pass.
    pub fn snapshots(root: &Path, settle: Duration) -> DirSource {
        DirSource::new(root, Kind::Snapshots, settle, false)
    }

    /// CloudTrail files under `root`; `follow` polls again (each file then settles for
    /// `settle` first); `ledger` skips files already read.
    pub fn logs(root: &Path, ledger: Option<Store>, follow: bool, settle: Duration) -> DirSource {
        DirSource::new(root, Kind::Logs { ledger }, settle, follow)
    }

    fn new(root: &Path, kind: Kind, settle: Duration, follow: bool) -> DirSource {
        DirSource {
            root: root.to_owned(),
            kind,
            settle,
            follow,
            polled: AtomicBool::new(false),
        }
    }

    /// One pass over the directory.
    pub async fn list(&self) -> Result<Found> {
        match &self.kind {
            Kind::Snapshots => snapshots(&self.root, self.settle),
            Kind::Logs { ledger } => {
                let ledger = match ledger {
                    Some(store) => store.activity_files().await?,
                    None => HashMap::new(),
                };
                logs(&self.root, &ledger, self.settle)
            }
        }
    }
}

impl Source for DirSource {
    async fn poll(&self) -> Result<Option<Found>> {
        if self.polled.swap(true, Ordering::Relaxed) && !self.follow {
            return Ok(None);
        }
        let mut found = self.list().await?;
        found.last = !self.follow;
        Ok(Some(found))
    }

    async fn ack(&self, item: &Receipt, outcome: &Outcome) -> Result<()> {
        match (&self.kind, outcome) {
            (Kind::Snapshots, Outcome::Done) => move_to(&self.root, &item.name, "loaded").map(drop),
            (Kind::Snapshots, Outcome::Failed(reason)) => {
                let target = move_to(&self.root, &item.name, "failed")?;
                let note = target.with_file_name(format!(
                    "{}.error.txt",
                    target
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ));
                std::fs::write(&note, format!("{reason}\n"))
                    .with_context(|| format!("cannot write {}", note.display()))
            }
            (
                Kind::Logs {
                    ledger: Some(store),
                },
                Outcome::Failed(reason),
            ) => Ok(store
                .activity_file_failed(&item.name, item.size, reason)
                .await?),
            (Kind::Logs { .. }, _) => Ok(()),
        }
    }
}

/// Whether a file is still being written by its convention (snapshots only).
fn is_partial(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".partial")
}

/// File names read when walking a directory of CloudTrail: JSON, plain or gzip. Anything else
/// (README, SOURCES.md, licence files) is left alone; a file named with `--from` is always read.
pub fn is_cloudtrail_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson")
}

/// Whether a file modified at `modified` is younger than `settle`.
fn fresh(modified: Option<SystemTime>, settle: Duration) -> bool {
    !settle.is_zero()
        && modified
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age < settle)
}

/// `path` under `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every settled snapshot file under `root/data`, oldest run date first so newer files
/// replace older.
fn snapshots(root: &Path, settle: Duration) -> Result<Found> {
    let data = root.join("data");
    if !data.is_dir() {
        anyhow::bail!(
            "{} has no data/ directory (expected DIR/data/{{account}}/...)",
            root.display()
        );
    }
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&data).follow_links(false) {
        let entry = entry.with_context(|| format!("cannot list {}", data.display()))?;
        if !entry.file_type().is_file() || is_partial(&entry.file_name().to_string_lossy()) {
            continue;
        }
        if !settle.is_zero() {
            let modified = entry.metadata().ok().and_then(|m| m.modified().ok());
            if fresh(modified, settle) {
                continue;
            }
        }
        let name = relative(&data, entry.path());
        found.push((name, entry.into_path()));
    }
    found.sort_by_cached_key(|(name, _)| {
        let loc = SnapshotLocation::parse(name).ok();
        (loc.map(|l| l.run_date), name.clone())
    });
    let items = found
        .into_iter()
        .map(|(name, path)| Item {
            name: Arc::from(name),
            size: 0,
            input: Input::File(path),
        })
        .collect();
    Ok(Found {
        items,
        ..Found::default()
    })
}

/// CloudTrail files under `root` not in `ledger` at their current size and settled.
fn logs(root: &Path, ledger: &HashMap<String, u64>, settle: Duration) -> Result<Found> {
    let meta =
        std::fs::metadata(root).with_context(|| format!("cannot read {}", root.display()))?;
    let mut paths = Vec::new();
    let mut ignored = Vec::new();
    if meta.is_dir() {
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = entry.with_context(|| format!("cannot list {}", root.display()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            if is_cloudtrail_name(&entry.file_name().to_string_lossy()) {
                paths.push(entry.into_path());
            } else {
                ignored.push(relative(root, entry.path()));
            }
        }
    } else {
        paths.push(root.to_owned());
    }
    let mut found = Found {
        ignored,
        ..Found::default()
    };
    let mut files = Vec::new();
    for path in paths {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let name = path.to_string_lossy();
        if ledger.get(name.as_ref()) == Some(&meta.len()) {
            found.already += 1;
            continue;
        }
        if !fresh(meta.modified().ok(), settle) {
            files.push((path, meta.len()));
        }
    }
    // In time order, not path order (the S3 layout is account first): events then arrive
    // roughly as they happened, so each transaction adds to the newest end of the recent
    // events and to a few rollup windows instead of touching pages across the whole time
    // range, and the live windows close in order instead of every account after the first
    // amending them as late.
    files.sort_by_cached_key(|(path, _)| (log_time(path), path.clone()));
    found.items = files
        .into_iter()
        .map(|(path, size)| Item {
            name: Arc::from(path.to_string_lossy().as_ref()),
            size,
            input: Input::File(path),
        })
        .collect();
    Ok(found)
}

/// The `yyyymmddThhmmZ` of a CloudTrail log file name
/// (`{account}_CloudTrail_{region}_{yyyymmddThhmmZ}_{random}.json.gz`), if it has one.
fn log_time(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    name.split('_')
        .find(|part| {
            let b = part.as_bytes();
            b.len() == 14
                && b[8] == b'T'
                && b[13] == b'Z'
                && b[..8].iter().chain(&b[9..13]).all(u8::is_ascii_digit)
        })
        .map(str::to_owned)
}

/// Moves `data/NAME` to `DEST/NAME` under the root; a file someone else already moved is fine.
fn move_to(root: &Path, name: &str, dest: &str) -> Result<PathBuf> {
    let from = root.join("data").join(name);
    let target = root.join(dest).join(name);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match std::fs::rename(&from, &target) {
        Ok(()) => Ok(target),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(target),
        Err(e) => Err(e)
            .with_context(|| format!("cannot move {} to {}", from.display(), target.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudtrail_names() {
        for yes in [
            "a.json",
            "a.json.gz",
            "x_CloudTrail_us-east-1_1.json.gz",
            "e.jsonl",
            "e.NDJSON.gz",
        ] {
            assert!(is_cloudtrail_name(yes), "{yes}");
        }
        for no in ["SOURCES.md", "LICENSE.upstream.txt", "a.gz", "json"] {
            assert!(!is_cloudtrail_name(no), "{no}");
        }
    }

    #[test]
    fn log_files_sort_by_their_delivery_time_not_their_account() {
        let name = |p: &str| PathBuf::from(p);
        let a = name("AWSLogs/111111111111/CloudTrail/us-east-1/2024/03/01/111111111111_CloudTrail_us-east-1_20240301T1005Z_abc.json.gz");
        let b = name("AWSLogs/222222222222/CloudTrail/eu-west-1/2024/03/01/222222222222_CloudTrail_eu-west-1_20240301T1000Z_def.json.gz");
        assert_eq!(log_time(&a).as_deref(), Some("20240301T1005Z"));
        assert_eq!(log_time(&b).as_deref(), Some("20240301T1000Z"));
        assert_eq!(log_time(&name("events.ndjson")), None);
        assert_eq!(log_time(&name("x_2024030XT1000Z_y.json")), None);
        let mut files = vec![a.clone(), b.clone(), name("events.ndjson")];
        files.sort_by_cached_key(|p| (log_time(p), p.clone()));
        assert_eq!(files, [name("events.ndjson"), b, a]);
    }

    #[tokio::test]
    async fn a_directory_read_once_is_then_exhausted_and_names_what_it_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        std::fs::write(dir.path().join("README.md"), "x").unwrap();
        let source = DirSource::logs(dir.path(), None, false, Duration::ZERO);
        let found = source.poll().await.unwrap().unwrap();
        assert_eq!(found.items.len(), 1);
        assert_eq!(found.ignored, ["README.md"]);
        assert!(source.poll().await.unwrap().is_none());
    }
}
