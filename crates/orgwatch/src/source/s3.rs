//! An S3 bucket under a prefix as a source: snapshots under `PREFIX/data/` (moved to
//! `loaded/` or `failed/` when acknowledged, as the directory source moves files), or the
//! CloudTrail files of an organisation trail's bucket (`AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/
//! REGION/YYYY/MM/DD/*.json.gz`, every account and region), skipped when the activity ledger
//! has them at their size, so a late or out-of-order delivery is read exactly once.
//!
//! Objects are downloaded to a local [`Spool`] as they are listed, and read from there by the
//! same readers as directory files.

use super::claim::LogClaimer;
use super::dir::is_cloudtrail_name;
use super::remote::{is_partial, mark_loaded, quarantine, split_data, Spool};
use super::{Found, Input, Item, Outcome, Receipt, Source};
use anyhow::{Context, Result};
use futures_util::StreamExt;
use orgwatch_collect::remote::s3::{Bucket, Object};
use orgwatch_model::SnapshotLocation;
use orgwatch_store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Objects downloaded at once.
const DOWNLOADS: usize = 8;

/// What the bucket holds.
pub enum Kind {
    /// A360 snapshots under `PREFIX/data/`.
    Snapshots,
    /// CloudTrail files under `PREFIX/`, with the store whose ledger says what was read.
    Logs {
        /// The activity ledger.
        ledger: Option<Store>,
    },
}

/// A bucket read once, or followed (listed again on each poll).
pub struct S3Source {
    bucket: Bucket,
    kind: Kind,
    follow: bool,
    polled: AtomicBool,
    spool: Spool,
    /// The object of each spooled file, to move it when it is acknowledged.
    keys: Mutex<HashMap<PathBuf, String>>,
}

/// Whether a key in an organisation trail's bucket is a CloudTrail log file: digests
/// (`CloudTrail-Digest/`) are signatures of the logs, not events.
pub fn is_cloudtrail_key(key: &str) -> bool {
    !key.contains("/CloudTrail-Digest/")
        && is_cloudtrail_name(key.rsplit('/').next().unwrap_or(key))
}

/// The name of an object in messages and in the activity ledger.
pub fn object_name(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

impl S3Source {
    /// Snapshots under `bucket`'s `data/`; `follow` lists it again on each poll.
    pub fn snapshots(bucket: Bucket, follow: bool) -> Result<S3Source> {
        S3Source::new(bucket, Kind::Snapshots, follow)
    }

    /// CloudTrail files under `bucket`'s prefix; `follow` lists it again on each poll.
    pub fn logs(bucket: Bucket, ledger: Option<Store>, follow: bool) -> Result<S3Source> {
        S3Source::new(bucket, Kind::Logs { ledger }, follow)
    }

    fn new(bucket: Bucket, kind: Kind, follow: bool) -> Result<S3Source> {
        Ok(S3Source {
            bucket,
            kind,
            follow,
            polled: AtomicBool::new(false),
            spool: Spool::new()?,
            keys: Mutex::new(HashMap::new()),
        })
    }

    /// Downloads `objects` (name, key) into the spool, a few at once; objects gone since
    /// the listing (moved by another run) are left out.
    async fn download(
        &self,
        objects: Vec<(String, Object)>,
    ) -> Result<Vec<(String, Object, PathBuf)>> {
        let fetched: Vec<_> =
            futures_util::stream::iter(objects.into_iter().map(|(name, o)| async move {
                let path = self.spool.file();
                let got = self.bucket.download(&o.key, &path).await;
                (name, o, path, got)
            }))
            .buffered(DOWNLOADS)
            .collect()
            .await;
        let mut out = Vec::new();
        for (name, o, path, got) in fetched {
            let got = got.with_context(|| object_name(&self.bucket.url.bucket, &o.key))?;
            if let Some(size) = got {
                out.push((name, Object { size, ..o }, path));
            }
        }
        Ok(out)
    }

    /// Forgets the spooled files of the last poll (all acknowledged or left to others).
    fn clear_spool(&self) {
        if let Ok(mut keys) = self.keys.lock() {
            for path in keys.keys() {
                let _ = std::fs::remove_file(path);
            }
            keys.clear();
        }
    }

    async fn list_snapshots(&self) -> Result<Found> {
        let mut objects: Vec<(String, Object)> = self
            .bucket
            .list("data/")
            .await?
            .into_iter()
            .filter(|o| !is_partial(&o.key))
            .filter_map(|o| {
                let (_, rest) = split_data(&o.key)?;
                Some((rest.to_owned(), o))
            })
            .collect();
        // Oldest run date first, so newer files replace older ones (as from a directory).
        objects.sort_by_cached_key(|(name, _)| {
            let loc = SnapshotLocation::parse(name).ok();
            (loc.map(|l| l.run_date), name.clone())
        });
        let fetched = self.download(objects).await?;
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| anyhow::anyhow!("spool lock poisoned"))?;
        let items = fetched
            .into_iter()
            .map(|(name, o, path)| {
                keys.insert(path.clone(), o.key);
                Item {
                    name: Arc::from(name),
                    size: 0,
                    input: Input::File(path),
                    claimer: None,
                }
            })
            .collect();
        Ok(Found {
            items,
            ..Found::default()
        })
    }

    async fn list_logs(&self, ledger: Option<&Store>) -> Result<Found> {
        let read = match ledger {
            Some(store) => store.activity_files().await?,
            None => HashMap::new(),
        };
        let mut found = Found::default();
        let mut objects = Vec::new();
        for o in self.bucket.list("").await? {
            if !is_cloudtrail_key(&o.key) {
                // Digests are CloudTrail's own signatures: expected, not worth a message.
                if !o.key.contains("/CloudTrail-Digest/") {
                    found
                        .ignored
                        .push(object_name(&self.bucket.url.bucket, &o.key));
                }
                continue;
            }
            let name = object_name(&self.bucket.url.bucket, &o.key);
            if read.get(&name) == Some(&o.size) {
                found.already += 1;
                continue;
            }
            objects.push((name, o));
        }
        // In delivery-time order, as from a directory (see `dir::logs`).
        objects.sort_by_cached_key(|(name, _)| {
            (
                super::dir::log_time(std::path::Path::new(name.as_str())),
                name.clone(),
            )
        });
        let fetched = self.download(objects).await?;
        let claimer = ledger.map(|s| LogClaimer::new(s.clone()));
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| anyhow::anyhow!("spool lock poisoned"))?;
        found.items = fetched
            .into_iter()
            .map(|(name, o, path)| {
                keys.insert(path.clone(), o.key);
                Item {
                    name: Arc::from(name),
                    size: o.size,
                    input: Input::File(path),
                    claimer: claimer.clone(),
                }
            })
            .collect();
        Ok(found)
    }
}

impl Source for S3Source {
    async fn poll(&self) -> Result<Option<Found>> {
        if self.polled.swap(true, Ordering::Relaxed) && !self.follow {
            return Ok(None);
        }
        self.clear_spool();
        let mut found = match &self.kind {
            Kind::Snapshots => self.list_snapshots().await?,
            Kind::Logs { ledger } => self.list_logs(ledger.as_ref()).await?,
        };
        found.last = !self.follow;
        Ok(Some(found))
    }

    async fn ack(&self, item: &Receipt, outcome: &Outcome) -> Result<()> {
        let key = item.path.as_ref().and_then(|p| {
            let mut keys = self.keys.lock().ok()?;
            let _ = std::fs::remove_file(p);
            keys.remove(p)
        });
        match (&self.kind, outcome) {
            (Kind::Snapshots, outcome) => {
                let key = key.with_context(|| format!("{} was not listed", item.name))?;
                match outcome {
                    Outcome::Done => mark_loaded(&self.bucket, &key).await.map(drop),
                    Outcome::Failed(reason) => {
                        quarantine(&self.bucket, &key, reason).await.map(drop)
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_trails_log_files_are_read_and_its_digests_are_not() {
        for yes in [
            "AWSLogs/o-abc/111111111111/CloudTrail/us-east-1/2024/03/01/111111111111_CloudTrail_us-east-1_20240301T1005Z_x.json.gz",
            "p/AWSLogs/111111111111/CloudTrail/eu-west-1/2024/03/01/a.json.gz",
        ] {
            assert!(is_cloudtrail_key(yes), "{yes}");
        }
        for no in [
            "AWSLogs/o-abc/111111111111/CloudTrail-Digest/us-east-1/2024/03/01/d.json.gz",
            "AWSLogs/111111111111/CloudTrail/us-east-1/2024/03/01/README",
        ] {
            assert!(!is_cloudtrail_key(no), "{no}");
        }
    }
}
