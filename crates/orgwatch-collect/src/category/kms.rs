//! `security.kms`: every KMS key of the region (ListKeys, all pages) with DescribeKey and
//! GetKeyRotationStatus. Unlike the A360 sender, a denied rotation status is left unknown
//! (`null`) and reported, not recorded as enabled.

use super::Collected;
use crate::aws_call;
use crate::call::{is_not_found, CallError};
use aws_sdk_kms::types::{KeyMetadata, KeyState};
use orgwatch_model::category::security::KmsKey;

/// Reads the region's keys.
pub async fn collect(client: &aws_sdk_kms::Client) -> Result<Collected<Vec<KmsKey>>, CallError> {
    let mut ids = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = aws_call!("kms:ListKeys", client.list_keys().set_marker(marker.take()))?;
        ids.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_id().map(str::to_owned)),
        );
        marker = page.next_marker().map(str::to_owned);
        if !page.truncated() || marker.is_none() {
            break;
        }
    }
    let mut out = Collected::clean(Vec::with_capacity(ids.len()));
    for id in ids {
        let described = match aws_call!("kms:DescribeKey", client.describe_key().key_id(&id)) {
            Ok(d) => d,
            // Deleted between the listing and now: not a key any more.
            Err(e) if is_not_found(&e) => continue,
            Err(e) => return Err(e),
        };
        let Some(meta) = described.key_metadata() else {
            continue;
        };
        // A key pending deletion or import, or unavailable, has no rotation status to ask
        // for (KMS answers KMSInvalidStateException): unknown, and no failure.
        let usable = matches!(
            meta.key_state(),
            Some(KeyState::Enabled) | Some(KeyState::Disabled)
        );
        if !usable {
            out.items.push(key(meta, None));
            continue;
        }
        let rotation = match aws_call!(
            "kms:GetKeyRotationStatus",
            client.get_key_rotation_status().key_id(&id)
        ) {
            Ok(r) => Some(r.key_rotation_enabled()),
            Err(e) => {
                out.problems.push(e);
                None
            }
        };
        out.items.push(key(meta, rotation));
    }
    Ok(out)
}

fn key(meta: &KeyMetadata, rotation: Option<bool>) -> KmsKey {
    KmsKey {
        key_id: Some(meta.key_id().to_owned()),
        arn: meta.arn().map(str::to_owned),
        description: meta.description().map(str::to_owned),
        key_usage: meta.key_usage().map(|u| u.as_str().to_owned()),
        key_state: meta.key_state().map(|s| s.as_str().to_owned()),
        creation_date: crate::sdk_time::opt(meta.creation_date()),
        enabled: Some(meta.enabled()),
        key_rotation_enabled: rotation,
    }
}
