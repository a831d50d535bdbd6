//! SDK configurations pointed at a test's moto_server.
#![allow(dead_code, clippy::unwrap_used)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
pub use orgwatch_test_support::moto::{Moto, MANAGEMENT};

/// A configuration with these static credentials, pointed at `moto`.
pub async fn config(moto: &Moto, creds: Credentials, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(orgwatch_collect::aws::http_client())
        .endpoint_url(&moto.url)
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .load()
        .await
}

/// The management account's configuration (moto's default account).
pub async fn management(moto: &Moto, region: &str) -> SdkConfig {
    config(
        moto,
        Credentials::new("test", "test", None, None, "test"),
        region,
    )
    .await
}

/// Credentials of `role` in `account`, assumed from the management account: what moto
/// creates with them lands in `account`.
pub async fn member(moto: &Moto, account: &str, role: &str, region: &str) -> SdkConfig {
    let sts = aws_sdk_sts::Client::new(&management(moto, region).await);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{role}"))
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "seed",
    );
    config(moto, creds, region).await
}
