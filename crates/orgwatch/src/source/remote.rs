//! What the S3 and SQS sources share: the local spool their objects are downloaded to (the
//! readers take files), where a snapshot object lives (`…/data/REST` and its `loaded/` and
//! `failed/` twins), and moving it there with its reason.

use anyhow::{Context, Result};
use orgwatch_collect::remote::s3::Bucket;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Objects being read, as local files: one temporary directory per source, removed with it.
pub struct Spool {
    dir: tempfile::TempDir,
    next: AtomicU64,
}

impl Spool {
    /// A new spool under the system's temporary directory.
    pub fn new() -> Result<Spool> {
        let dir = tempfile::Builder::new()
            .prefix("orgwatch-spool-")
            .tempdir()
            .context("cannot create a spool directory for downloaded objects")?;
        Ok(Spool {
            dir,
            next: AtomicU64::new(0),
        })
    }

    /// A new file name in the spool (never reused).
    pub fn file(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("{n}.obj"))
    }
}

/// A snapshot object's key split at its `data/` folder: `(root, rest)`, where `root` is
/// the prefix before `data/` (empty or ending in `/`) and `rest` the path under it
/// (`{account}/{region}/{date}_{INTERVAL}.json`, the name ingest parses).
pub fn split_data(key: &str) -> Option<(&str, &str)> {
    if let Some(rest) = key.strip_prefix("data/") {
        return Some(("", rest));
    }
    let at = key.rfind("/data/")?;
    Some((&key[..at + 1], &key[at + "/data/".len()..]))
}

/// Whether a snapshot key is a file still being written by its convention.
pub fn is_partial(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".partial")
}

/// Moves the snapshot object `key` (`ROOT/data/REST`) to `ROOT/loaded/REST`. `false` when
/// another run moved it first.
pub async fn mark_loaded(bucket: &Bucket, key: &str) -> Result<bool> {
    let (root, rest) = split_data(key).with_context(|| format!("{key} is not under data/"))?;
    let to = format!("{root}loaded/{rest}");
    bucket
        .move_object(key, &to)
        .await
        .with_context(|| format!("cannot move s3://{}/{key} to {to}", bucket.url.bucket))
}

/// Whether the snapshot object `key` (`ROOT/data/REST`) is in `ROOT/loaded/` already.
pub async fn is_loaded(bucket: &Bucket, key: &str) -> Result<bool> {
    let Some((root, rest)) = split_data(key) else {
        return Ok(false);
    };
    Ok(bucket.exists(&format!("{root}loaded/{rest}")).await?)
}

/// Moves the refused snapshot object `key` (`ROOT/data/REST`) to `ROOT/failed/REST`, its
/// reason first written beside it as `REST.error.txt`, as the directory source does. A name
/// already in `failed/` is kept: this delivery becomes `REST.2`, `REST.3`, …. If the reason
/// cannot be written the object stays in `data/`.
pub async fn quarantine(bucket: &Bucket, key: &str, reason: &str) -> Result<Option<String>> {
    let (root, rest) = split_data(key).unwrap_or(("", key));
    let first = format!("{root}failed/{rest}");
    let mut n = 1u32;
    let target = loop {
        let target = if n == 1 {
            first.clone()
        } else {
            format!("{first}.{n}")
        };
        n += 1;
        if !bucket.exists(&target).await? && !bucket.exists(&format!("{target}.error.txt")).await? {
            break target;
        }
    };
    bucket
        .put(
            &format!("{target}.error.txt"),
            format!("{reason}\n").into_bytes(),
            "text/plain; charset=utf-8",
            None,
        )
        .await
        .with_context(|| format!("cannot write {target}.error.txt (the object stays in data/)"))?;
    let moved = bucket
        .move_object(key, &target)
        .await
        .with_context(|| format!("cannot move s3://{}/{key} to {target}", bucket.url.bucket))?;
    if !moved {
        // Another run moved it meanwhile: the note would name nothing.
        bucket.delete(&format!("{target}.error.txt")).await?;
        return Ok(None);
    }
    Ok(Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_keys_split_at_their_data_folder() {
        assert_eq!(
            split_data("org/p/data/111111111111/us-east-1/2026-12-01_DAILY.json"),
            Some(("org/p/", "111111111111/us-east-1/2026-12-01_DAILY.json"))
        );
        assert_eq!(split_data("data/1/x.json"), Some(("", "1/x.json")));
        assert_eq!(split_data("p/metadata/x.json"), None);
        assert_eq!(split_data("x.json"), None);
        assert!(is_partial("p/data/1/.x.json") && is_partial("p/data/1/x.json.tmp"));
        assert!(!is_partial("p/data/1/x.json"));
    }
}
