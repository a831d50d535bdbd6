//! The one place that builds AWS configuration: the standard credential chain (or
//! `--profile`), the region, `AWS_ENDPOINT_URL` (read by the SDK's own loader, so tests point
//! every client at an emulator), adaptive retry, and AssumeRole into member accounts.

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::retry::{ClientRateLimiter, RetryPartition};
use aws_sdk_sts::config::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use orgwatch_model::AccountId;
use std::time::{Duration, SystemTime};

/// Attempts per request (the first and four retries). Adaptive retry also slows a client
/// down when its service throttles it; every client of an account-region has its own
/// limiter ([`own_retry_partition`]), so that slowing stays within the throttled account.
pub const MAX_ATTEMPTS: u32 = 5;

/// How long one attempt of a request may take before it is abandoned and retried (and
/// finally recorded as an error): an endpoint that accepts a request and never answers
/// must not hold a run up for ever. Generous: Cost Explorer and large listings take seconds.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The timeouts of every AWS client ([`ATTEMPT_TIMEOUT`], [`CONNECT_TIMEOUT`]).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// The region global services and discovery are called in when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// A profile of the shared config files (`--profile`); default: the standard chain.
    pub profile: Option<String>,
    /// The home region (`--region`); default: the profile's or `AWS_REGION`, else us-east-1.
    pub region: Option<String>,
}

/// The HTTP client of every AWS client: hyper with rustls on ring (no C toolchain for
/// aws-lc in the build); plain HTTP too, for an emulator on loopback.
pub fn http_client() -> aws_sdk_sts::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The base configuration of the identity orgwatch runs as.
pub async fn base_config(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .retry_config(RetryConfig::adaptive().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(timeouts());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let config = loader.load().await;
    if config.region().is_some() {
        config
    } else {
        config
            .into_builder()
            .region(Region::from_static(DEFAULT_REGION))
            .build()
    }
}

/// How orgwatch assumes its role in a member account.
#[derive(Debug, Clone)]
pub struct RoleOptions {
    /// The role's name in every member account (`--role-name`).
    pub role_name: String,
    /// The external id the role's trust policy requires (`--external-id`), if any.
    pub external_id: Option<String>,
    /// The session name CloudTrail shows for orgwatch's calls in the member account.
    pub session_name: String,
}

impl RoleOptions {
    /// The role's ARN in `account` (partition from the caller's, `aws` by default).
    pub fn role_arn(&self, partition: &str, account: &AccountId) -> String {
        format!("arn:{partition}:iam::{account}:role/{}", self.role_name)
    }
}

/// A configuration whose credentials are the role's in `account`, assumed with the base
/// credentials. The SDK's identity cache refreshes them before they expire, so a run longer
/// than the session (an hour by default) keeps working.
pub async fn assume_role(
    base: &SdkConfig,
    role: &RoleOptions,
    partition: &str,
    account: &AccountId,
) -> SdkConfig {
    // The provider calls sts:AssumeRole itself (listed in iam-policy as such).
    let mut builder = AssumeRoleProvider::builder(role.role_arn(partition, account))
        .session_name(role.session_name.clone())
        .configure(base);
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id.clone());
    }
    let provider = builder.build().await;
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

/// The same configuration in another region.
pub fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build()
}

/// A retry partition of a client's own: a fresh adaptive rate limiter and retry token
/// bucket. The SDK's default partition is one per service and region, shared by every
/// client of the process, so one member account's throttling would slow the same service's
/// calls of every other account in that region; AWS throttles per account and region, so
/// each account-region's client adapts on its own. Both are dropped with the client, so
/// memory does not grow with the number of accounts.
pub fn own_retry_partition(service: &'static str) -> RetryPartition {
    // As the SDK starts its shared limiters: not limiting until the first throttle.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    RetryPartition::custom(service)
        .client_rate_limiter(ClientRateLimiter::new(now))
        .build()
}

/// `$sdk::Client` for the configuration `$config` (an account-region's) on a retry
/// partition of its own ([`own_retry_partition`](crate::aws::own_retry_partition)):
/// `aws_client!(aws_sdk_kms, &config)`.
#[macro_export]
macro_rules! aws_client {
    ($sdk:ident, $config:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($config)
                .retry_partition($crate::aws::own_retry_partition(stringify!($sdk)))
                .build(),
        )
    };
}

/// The partition of an ARN (`arn:aws-cn:...` -> `aws-cn`), `aws` when it has none.
pub fn partition_of(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_follow_the_callers_partition() {
        let role = RoleOptions {
            role_name: "OrgwatchReadOnly".into(),
            external_id: None,
            session_name: "orgwatch".into(),
        };
        let account = AccountId::parse("111122223333").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            role.role_arn(
                partition_of("arn:aws-cn:iam::444455556666:user/x"),
                &account
            ),
            "arn:aws-cn:iam::111122223333:role/OrgwatchReadOnly"
        );
        assert_eq!(partition_of("garbage"), "aws");
    }
}
