//! Writing a snapshot where `orgwatch ingest` reads it: a directory, or an S3 bucket.

use crate::remote::s3::Bucket;
use crate::remote::S3Url;
use crate::run::CollectError;
use aws_config::SdkConfig;
use orgwatch_model::{Snapshot, SnapshotLocation};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a run writes (`--out`): both in the layout `data/{account}/{region}/{date}_{INTERVAL}.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// Under `DIR/data/`.
    Dir(PathBuf),
    /// Under `s3://bucket/prefix/data/`, one PutObject per file.
    S3 {
        /// The bucket and prefix.
        url: S3Url,
        /// The KMS key (id, ARN or alias) for SSE-KMS (`--kms-key`); `None`: the bucket's
        /// default encryption.
        kms_key: Option<String>,
    },
}

impl Out {
    /// Where the files go, for messages: `DIR/data` or `s3://bucket/prefix/data`.
    pub fn data(&self) -> String {
        match self {
            Out::Dir(dir) => dir.join("data").display().to_string(),
            Out::S3 { url, .. } => format!("s3://{}/{}", url.bucket, url.key("data")),
        }
    }

    /// Writes `snapshot` at `location`; returns the file written (for S3, `s3://bucket/key`).
    pub async fn write(
        &self,
        config: &SdkConfig,
        location: &SnapshotLocation,
        snapshot: &Snapshot,
    ) -> Result<PathBuf, CollectError> {
        let relative = format!("data/{}", location.relative_path());
        match self {
            Out::Dir(dir) => {
                self::snapshot(dir, location, snapshot).map_err(|source| CollectError::Write {
                    path: dir.join(&relative),
                    source,
                })
            }
            Out::S3 { url, kms_key } => {
                let bucket = Bucket::new(config, url.clone());
                let key = bucket.key(&relative);
                bucket
                    .put(
                        &key,
                        snapshot.to_json_pretty(),
                        "application/json",
                        kms_key.as_deref(),
                    )
                    .await
                    .map_err(|source| CollectError::Upload {
                        url: format!("s3://{}/{key}", url.bucket),
                        source,
                    })?;
                Ok(PathBuf::from(format!("s3://{}/{key}", url.bucket)))
            }
        }
    }
}

/// Writes `snapshot` as `dir/data/{account}/{region}/{date}_{INTERVAL}.json` with the A360
/// writer, through a temporary name and a rename, so a concurrent `ingest --watch` never
/// reads half a file (the temporary name does not end in `.json`, so ingest skips it).
pub fn snapshot(
    dir: &Path,
    location: &SnapshotLocation,
    snapshot: &Snapshot,
) -> std::io::Result<PathBuf> {
    let data = dir.join("data");
    let path = data.join(location.relative_path());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&snapshot.to_json_pretty())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
