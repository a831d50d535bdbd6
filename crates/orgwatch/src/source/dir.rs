//! The directory source: one walker for snapshots and CloudTrail files, with the settle delay
//! (files modified too recently may still be being written) and the activity ledger check.

use super::claim::LogClaimer;
use super::name::escape;
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
    /// moving the file to `loaded/`, or to `failed/` after its reason is written beside it in
    /// a `.error.txt` (never over an earlier delivery of the same name: see [`quarantine`]).
    Snapshots,
    /// CloudTrail files under `root` (or `root` itself, whatever its name): `*.json[.gz]`,
    /// `*.jsonl`, `*.ndjson`, named by their whole path, in delivery-time order. With a
    /// store, files its ledger has at their current size are skipped, each file is claimed
    /// by its reader (another run may be reading the same directory), and a failure is
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
                let (read, claimer) = match ledger {
                    Some(store) => (
                        store.activity_files().await?,
                        Some(LogClaimer::new(store.clone())),
                    ),
                    None => (HashMap::new(), None),
                };
                logs(&self.root, &read, claimer, self.settle)
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
            (Kind::Snapshots, Outcome::Done) => move_to(&self.root, snapshot_path(item)?, "loaded"),
            (Kind::Snapshots, Outcome::Failed(reason)) => {
                quarantine(&self.root, snapshot_path(item)?, reason).map(drop)
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

/// `path` under `root`, with `/` separators, escaped ([`escape`]).
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| escape(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

/// What a walk found that is neither a file nor a directory, by its name under `root`.
fn is_special(entry: &walkdir::DirEntry) -> bool {
    let t = entry.file_type();
    !t.is_file() && !t.is_dir()
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
    let mut special = Vec::new();
    for entry in walkdir::WalkDir::new(&data).follow_links(false) {
        let entry = entry.with_context(|| format!("cannot list {}", data.display()))?;
        if is_special(&entry) {
            special.push(relative(&data, entry.path()));
            continue;
        }
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
            claimer: None,
        })
        .collect();
    Ok(Found {
        items,
        special,
        ..Found::default()
    })
}

/// CloudTrail files under `root` not in `ledger` at their current size and settled; their
/// readers claim them with `claimer`.
fn logs(
    root: &Path,
    ledger: &HashMap<String, u64>,
    claimer: Option<LogClaimer>,
    settle: Duration,
) -> Result<Found> {
    let meta =
        std::fs::metadata(root).with_context(|| format!("cannot read {}", root.display()))?;
    let mut paths = Vec::new();
    let mut ignored = Vec::new();
    let mut special = Vec::new();
    if meta.is_dir() {
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = entry.with_context(|| format!("cannot list {}", root.display()))?;
            if is_special(&entry) {
                special.push(relative(root, entry.path()));
                continue;
            }
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
        special,
        ..Found::default()
    };
    let mut files = Vec::new();
    for path in paths {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let name = escape(path.as_os_str());
        if ledger.get(&name) == Some(&meta.len()) {
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
            name: Arc::from(escape(path.as_os_str())),
            size,
            input: Input::File(path),
            claimer: claimer.clone(),
        })
        .collect();
    Ok(found)
}

/// The `yyyymmddThhmmZ` of a CloudTrail log file name
/// (`{account}_CloudTrail_{region}_{yyyymmddThhmmZ}_{random}.json.gz`), if it has one.
pub(crate) fn log_time(path: &Path) -> Option<String> {
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

/// A snapshot's file (`root/data/...`) from its receipt.
fn snapshot_path(item: &Receipt) -> Result<&Path> {
    item.path
        .as_deref()
        .with_context(|| format!("{} is not a file", item.name))
}

/// `from` (under `root/data/`) as it is to be under `root/DEST/`.
fn target_in(root: &Path, from: &Path, dest: &str) -> Result<PathBuf> {
    let data = root.join("data");
    let under = from
        .strip_prefix(&data)
        .with_context(|| format!("{} is not under {}", from.display(), data.display()))?;
    let target = root.join(dest).join(under);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    Ok(target)
}

/// Moves `from` (under `root/data/`) to the same place under `root/DEST/`.
fn move_to(root: &Path, from: &Path, dest: &str) -> Result<()> {
    let target = target_in(root, from, dest)?;
    std::fs::rename(from, &target)
        .with_context(|| format!("cannot move {} to {}", from.display(), target.display()))
}

/// The name of the reason written beside a quarantined file.
fn note_of(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".error.txt");
    PathBuf::from(name)
}

/// Moves a refused file (under `root/data/`) to `root/failed/`, its reason first written
/// beside it in `NAME.error.txt`; returns where it went. A name already in `failed/` (an
/// earlier delivery refused too) is kept: this one becomes `NAME.2`, `NAME.3`, …. If the
/// reason cannot be written (a full disk) or the file cannot move, nothing is left behind in
/// `failed/` and the file stays in `data/`: the error says why.
pub fn quarantine(root: &Path, from: &Path, reason: &str) -> Result<PathBuf> {
    let first = target_in(root, from, "failed")?;
    // The caller holds the file's claim, so no other run quarantines it meanwhile; the note
    // is created with `create_new`, so an existing one is never overwritten either way.
    let mut n = 1u32;
    let (target, note, mut out) = loop {
        let mut name = first.as_os_str().to_owned();
        if n > 1 {
            name.push(format!(".{n}"));
        }
        n += 1;
        let target = PathBuf::from(name);
        if target.symlink_metadata().is_ok() {
            continue;
        }
        let note = note_of(&target);
        match std::fs::File::create_new(&note) {
            Ok(f) => break (target, note, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot write {} (the file stays in data/)", note.display())
                })
            }
        }
    };
    let written = std::io::Write::write_all(&mut out, format!("{reason}\n").as_bytes())
        .and_then(|()| out.sync_all());
    drop(out);
    let moved = written
        .with_context(|| format!("cannot write {} (the file stays in data/)", note.display()))
        .and_then(|()| {
            std::fs::rename(from, &target)
                .with_context(|| format!("cannot move {} to {}", from.display(), target.display()))
        });
    if let Err(e) = moved {
        let _ = std::fs::remove_file(&note);
        return Err(e);
    }
    Ok(target)
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

    #[test]
    fn a_redelivered_bad_file_is_kept_beside_the_first_with_its_own_reason() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data/111111111111");
        std::fs::create_dir_all(&data).unwrap();
        let file = data.join("bad.json");
        let failed = dir.path().join("failed/111111111111");
        for (n, reason) in ["first", "second", "third"].iter().enumerate() {
            std::fs::write(&file, format!("delivery {n}")).unwrap();
            quarantine(dir.path(), &file, reason).unwrap();
        }
        for (name, body, reason) in [
            ("bad.json", "delivery 0", "first"),
            ("bad.json.2", "delivery 1", "second"),
            ("bad.json.3", "delivery 2", "third"),
        ] {
            assert_eq!(std::fs::read_to_string(failed.join(name)).unwrap(), body);
            let note = failed.join(format!("{name}.error.txt"));
            assert_eq!(
                std::fs::read_to_string(note).unwrap(),
                format!("{reason}\n")
            );
        }
        assert!(!file.exists());
    }

    #[test]
    fn a_reason_that_cannot_be_written_leaves_the_file_where_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data/111111111111");
        std::fs::create_dir_all(&data).unwrap();
        // 250 bytes: the file fits, its `.error.txt` is longer than a name may be.
        let file = data.join("x".repeat(245) + ".json");
        std::fs::write(&file, "bad").unwrap();
        let e = quarantine(dir.path(), &file, "why").unwrap_err();
        assert!(
            format!("{e:#}").contains("(the file stays in data/)"),
            "{e:#}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "bad");
        let failed = dir.path().join("failed/111111111111");
        assert_eq!(std::fs::read_dir(failed).unwrap().count(), 0);
    }
}
