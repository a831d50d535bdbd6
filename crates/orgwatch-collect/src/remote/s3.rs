//! One bucket under one prefix: what the S3 sources and `collect --out s3://` do with it.

use super::{encode_key, RemoteError, S3Url};
use crate::aws_call;
use crate::call::{is_not_found, CallError};
use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use std::path::Path;

/// An object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Its whole key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// How an object is encrypted at rest (`HeadObject`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encryption {
    /// `aws:kms`, `AES256`, … (`None`: not said).
    pub algorithm: Option<String>,
    /// The KMS key's ARN, for `aws:kms`.
    pub kms_key_id: Option<String>,
}

/// A bucket and the prefix everything is read and written under.
#[derive(Debug, Clone)]
pub struct Bucket {
    client: aws_sdk_s3::Client,
    /// Where.
    pub url: S3Url,
}

/// Whether a failed call says the key is not there.
fn missing(e: &CallError) -> bool {
    is_not_found(e) || e.code.as_deref() == Some("NoSuchKey")
}

impl Bucket {
    /// The bucket of `url`, reached with `config`. With an endpoint URL (an emulator, a
    /// private endpoint) requests are path-style (`ENDPOINT/bucket/key`), since the
    /// endpoint's host has no bucket sub-domains.
    pub fn new(config: &SdkConfig, url: S3Url) -> Bucket {
        let mut builder = aws_sdk_s3::config::Builder::from(config);
        if config.endpoint_url().is_some() {
            builder = builder.force_path_style(true);
        }
        Bucket {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            url,
        }
    }

    /// The key of `relative` under the prefix.
    pub fn key(&self, relative: &str) -> String {
        self.url.key(relative)
    }

    /// Every object whose key starts with the prefix and then `under` (e.g. `data/`), in
    /// key order, page by page.
    pub async fn list(&self, under: &str) -> Result<Vec<Object>, CallError> {
        let start = self.key(under);
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let client = &self.client;
            let page = aws_call!(
                "s3:ListBucket",
                client
                    .list_objects_v2()
                    .bucket(&self.url.bucket)
                    .prefix(&start)
                    .set_continuation_token(token.take())
            )?;
            out.extend(page.contents().iter().filter_map(|o| {
                Some(Object {
                    key: o.key()?.to_owned(),
                    size: o.size().map_or(0, |s| u64::try_from(s).unwrap_or(0)),
                })
            }));
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    /// Writes the object `key` of this bucket into the file `to`; its size, or `None` when
    /// there is no such key.
    pub async fn download(&self, key: &str, to: &Path) -> Result<Option<u64>, RemoteError> {
        let client = &self.client;
        let got = aws_call!(
            "s3:GetObject",
            client.get_object().bucket(&self.url.bucket).key(key)
        );
        let got = match got {
            Ok(g) => g,
            Err(e) if missing(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bytes = got
            .body
            .collect()
            .await
            .map_err(|e| RemoteError::Body {
                bucket: self.url.bucket.clone(),
                key: key.to_owned(),
                message: e.to_string(),
            })?
            .into_bytes();
        std::fs::write(to, &bytes).map_err(|source| RemoteError::Io {
            path: to.to_owned(),
            source,
        })?;
        Ok(Some(bytes.len() as u64))
    }

    /// Writes `body` as the object `key` in one PutObject, so no reader ever sees part of
    /// it; encrypted with the KMS key `kms_key` when given (SSE-KMS), else as the bucket's
    /// default encryption says.
    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        kms_key: Option<&str>,
    ) -> Result<(), CallError> {
        let client = &self.client;
        aws_call!(
            "s3:PutObject",
            client
                .put_object()
                .bucket(&self.url.bucket)
                .key(key)
                .content_type(content_type)
                .set_server_side_encryption(kms_key.map(|_| ServerSideEncryption::AwsKms))
                .set_ssekms_key_id(kms_key.map(str::to_owned))
                .body(ByteStream::from(body))
        )
        .map(drop)
    }

    /// How `key` is encrypted; `None` when there is no such key.
    pub async fn encryption(&self, key: &str) -> Result<Option<Encryption>, CallError> {
        // HeadObject is authorised by s3:GetObject.
        let client = &self.client;
        match aws_call!(
            "s3:GetObject",
            client.head_object().bucket(&self.url.bucket).key(key)
        ) {
            Ok(h) => Ok(Some(Encryption {
                algorithm: h.server_side_encryption().map(|s| s.as_str().to_owned()),
                kms_key_id: h.ssekms_key_id().map(str::to_owned),
            })),
            Err(e) if missing(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, CallError> {
        Ok(self.encryption(key).await?.is_some())
    }

    /// Copies `from` to `to` (keeping its SSE-KMS key), then deletes `from`: a move. `false`
    /// when `from` is not there (another run moved it). A copy is atomic, so `to` is
    /// either absent or whole; a crash between the two leaves both, and the next move of
    /// `from` copies again over the same `to`.
    pub async fn move_object(&self, from: &str, to: &str) -> Result<bool, CallError> {
        let Some(enc) = self.encryption(from).await? else {
            return Ok(false);
        };
        // S3 copies the object's metadata but not its encryption: a KMS-encrypted object
        // would otherwise become the bucket default's.
        let kms = enc.algorithm.as_deref() == Some("aws:kms");
        let client = &self.client;
        // CopyObject is authorised by s3:GetObject on the source and s3:PutObject on the target.
        match aws_call!(
            "s3:PutObject",
            client
                .copy_object()
                .bucket(&self.url.bucket)
                .key(to)
                .copy_source(format!("{}/{}", self.url.bucket, encode_key(from)))
                .set_server_side_encryption(kms.then_some(ServerSideEncryption::AwsKms))
                .set_ssekms_key_id(enc.kms_key_id.filter(|_| kms))
        ) {
            Ok(_) => {}
            Err(e) if missing(&e) => return Ok(false),
            Err(e) => return Err(e),
        }
        self.delete(from).await?;
        Ok(true)
    }

    /// Deletes `key` (nothing happens when it is not there).
    pub async fn delete(&self, key: &str) -> Result<(), CallError> {
        let client = &self.client;
        aws_call!(
            "s3:DeleteObject",
            client.delete_object().bucket(&self.url.bucket).key(key)
        )
        .map(drop)
    }
}
