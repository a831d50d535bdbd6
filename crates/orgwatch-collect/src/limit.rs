//! Per-service rate limits: one [`governor`] limiter per AWS service per run (so per process),
//! keyed by account and region, because AWS's API quotas are per account and region. Every
//! [`aws_call!`](crate::aws_call) waits for its service's limiter before sending, so a run over
//! a large organisation paces itself instead of leaning on throttling errors and retries.
//!
//! The account and region come from the task-local [`Scope`] the run sets around each
//! account's and each account-region's work ([`in_scope`]). A call outside any scope (the
//! organisation's discovery, the S3 and SQS sources) is not limited here; the SDK's adaptive
//! retry still applies to it.

use governor::{DefaultKeyedRateLimiter, Quota};
use orgwatch_model::AccountId;
use std::collections::BTreeMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Calls per second per account and region, and the burst allowed, by service (the IAM
/// prefix of the action).
///
/// Only Security Hub's figure is a quota AWS publishes for the call made (GetFindings: 3 per
/// second, bursts of 6, in the Security Hub API reference's throttling limits). The others are
/// conservative choices well under the quotas AWS documents for those services' read calls,
/// not published figures: better a run a little slower than one that throttles a member
/// account's own tooling.
pub const DEFAULTS: &[(&str, u32, u32)] = &[
    ("securityhub", 3, 6),
    ("guardduty", 10, 10),
    ("inspector2", 10, 10),
    ("wafv2", 10, 10),
    ("kms", 20, 20),
    ("secretsmanager", 20, 20),
    ("acm", 8, 8),
    ("cloudtrail", 10, 10),
    ("account", 5, 5),
    ("organizations", 10, 10),
    ("sts", 20, 20),
];

/// Calls per second (and burst) for a service without a default or an override.
pub const FALLBACK: u32 = 10;

/// Why a `--rate-limit` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    /// Not `SERVICE=N`.
    #[error("--rate-limit {0:?}: expected SERVICE=N, e.g. securityhub=3 (calls per second per account and region)")]
    Syntax(String),
    /// N is not a whole number of at least 1.
    #[error("--rate-limit {0:?}: the rate must be a whole number of calls per second, at least 1")]
    Rate(String),
}

/// Parses `SERVICE=N` (`securityhub=3`): the service as in IAM actions (any case), N calls
/// per second.
pub fn parse_override(text: &str) -> Result<(String, NonZeroU32), RateLimitError> {
    let (service, rate) = text
        .split_once('=')
        .filter(|(s, _)| !s.trim().is_empty())
        .ok_or_else(|| RateLimitError::Syntax(text.to_owned()))?;
    let rate = rate
        .trim()
        .parse::<u32>()
        .ok()
        .and_then(NonZeroU32::new)
        .ok_or_else(|| RateLimitError::Rate(text.to_owned()))?;
    Ok((service.trim().to_ascii_lowercase(), rate))
}

/// The limiter key: an account and a region (`None`: the account's global calls).
type Key = (AccountId, Option<String>);

/// A service's quota: `rate` per second, bursts of `burst`.
fn quota(rate: NonZeroU32, burst: NonZeroU32) -> Quota {
    Quota::per_second(rate).allow_burst(burst)
}

/// Every service's limiter of one run.
#[derive(Debug)]
pub struct RateLimits {
    limiters: BTreeMap<String, DefaultKeyedRateLimiter<Key>>,
    rates: BTreeMap<String, (NonZeroU32, NonZeroU32)>,
    fallback: DefaultKeyedRateLimiter<Key>,
}

impl RateLimits {
    /// The defaults, with `overrides` (service → calls per second) on top. An override's
    /// burst is its rate: one second's calls at once.
    pub fn new(overrides: &BTreeMap<String, NonZeroU32>) -> Self {
        let mut rates: BTreeMap<String, (NonZeroU32, NonZeroU32)> = DEFAULTS
            .iter()
            .filter_map(|(s, n, b)| {
                Some((
                    (*s).to_owned(),
                    (NonZeroU32::new(*n)?, NonZeroU32::new(*b)?),
                ))
            })
            .collect();
        rates.extend(overrides.iter().map(|(s, n)| (s.clone(), (*n, *n))));
        let limiters = rates
            .iter()
            .map(|(s, (n, b))| (s.clone(), DefaultKeyedRateLimiter::keyed(quota(*n, *b))))
            .collect();
        let fallback = NonZeroU32::new(FALLBACK).unwrap_or(NonZeroU32::MIN);
        RateLimits {
            limiters,
            rates,
            fallback: DefaultKeyedRateLimiter::keyed(quota(fallback, fallback)),
        }
    }

    /// Calls per second allowed to `service` per account and region.
    pub fn rate(&self, service: &str) -> u32 {
        self.rates.get(service).map_or(FALLBACK, |(n, _)| n.get())
    }

    /// Calls `service` may make at once per account and region, after a pause.
    pub fn burst(&self, service: &str) -> u32 {
        self.rates.get(service).map_or(FALLBACK, |(_, b)| b.get())
    }

    /// Forgets the account-regions whose limiters are back to full, so the limiters hold
    /// the account-regions being read rather than every one the run has seen (memory grows
    /// with the concurrency, not with the organisation). Called as each account ends.
    pub fn forget_idle(&self) {
        for limiter in self.limiters.values().chain([&self.fallback]) {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many account-regions the limiters remember, all services together.
    pub fn remembered(&self) -> usize {
        self.limiters
            .values()
            .chain([&self.fallback])
            .map(|l| l.len())
            .sum()
    }

    /// Waits until `service` may be called for `key`.
    async fn until_ready(&self, service: &str, key: &Key) {
        let limiter = self.limiters.get(service).unwrap_or(&self.fallback);
        limiter.until_key_ready(key).await;
    }
}

/// What the calls of a task are made for: the run's limits, an account and a region.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The run's limiters.
    pub limits: Arc<RateLimits>,
    /// The account.
    pub account: AccountId,
    /// The region (`None`: the account's global calls).
    pub region: Option<String>,
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// Runs `fut` with its AWS calls limited as `scope` says (a scope inside it replaces this one).
pub async fn in_scope<F: Future>(scope: Scope, fut: F) -> F::Output {
    SCOPE.scope(scope, fut).await
}

/// Waits for the limiter of `action`'s service (`kms` of `kms:ListKeys`) in the current
/// scope; returns at once outside any scope. Used by [`aws_call!`](crate::aws_call).
pub async fn acquire(action: &str) {
    let Ok(scope) = SCOPE.try_with(Scope::clone) else {
        return;
    };
    let service = action.split_once(':').map_or(action, |(s, _)| s);
    scope
        .limits
        .until_ready(service, &(scope.account, scope.region.clone()))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn limits(overrides: &[(&str, u32)]) -> Arc<RateLimits> {
        let overrides = overrides
            .iter()
            .map(|(s, n)| ((*s).to_owned(), NonZeroU32::new(*n).unwrap()))
            .collect();
        Arc::new(RateLimits::new(&overrides))
    }

    fn scope(limits: &Arc<RateLimits>, account: &str, region: &str) -> Scope {
        Scope {
            limits: limits.clone(),
            account: AccountId::parse(account).unwrap(),
            region: Some(region.to_owned()),
        }
    }

    #[test]
    fn an_override_is_service_equals_calls_per_second_and_a_bad_one_names_the_flag() {
        assert_eq!(
            parse_override(" SecurityHub = 5"),
            Ok(("securityhub".to_owned(), NonZeroU32::new(5).unwrap()))
        );
        for bad in ["kms", "=3", " =3", ""] {
            let e = parse_override(bad).unwrap_err();
            assert_eq!(e, RateLimitError::Syntax(bad.to_owned()));
            assert!(e.to_string().contains("expected SERVICE=N"), "{e}");
        }
        for bad in ["kms=0", "kms=1.5", "kms=-1", "kms=", "kms=fast"] {
            let e = parse_override(bad).unwrap_err();
            assert_eq!(e, RateLimitError::Rate(bad.to_owned()));
            assert!(e.to_string().starts_with("--rate-limit"), "{e}");
        }
    }

    #[test]
    fn an_override_replaces_the_default_and_unknown_services_get_the_fallback() {
        let l = limits(&[("kms", 2), ("ec2", 1)]);
        assert_eq!((l.rate("kms"), l.burst("kms")), (2, 2));
        assert_eq!((l.rate("ec2"), l.burst("ec2")), (1, 1));
        assert_eq!((l.rate("securityhub"), l.burst("securityhub")), (3, 6));
        assert_eq!((l.rate("s3"), l.burst("s3")), (FALLBACK, FALLBACK));
    }

    #[tokio::test]
    async fn calls_past_the_burst_wait_and_other_keys_and_services_are_not_held_up() {
        // 2 a second, bursts of 2: the third call of one account-region waits half a second.
        let l = limits(&[("kms", 2)]);
        let start = Instant::now();
        in_scope(scope(&l, "111111111111", "eu-west-1"), async {
            for _ in 0..3 {
                acquire("kms:ListKeys").await;
            }
        })
        .await;
        let paced = start.elapsed();
        assert!(paced >= Duration::from_millis(450), "{paced:?}");
        // Its limiter is spent now; another account, another region, another service and a
        // call outside any scope each pass at once (a wait would be 500 ms).
        let start = Instant::now();
        in_scope(
            scope(&l, "222222222222", "eu-west-1"),
            acquire("kms:ListKeys"),
        )
        .await;
        in_scope(
            scope(&l, "111111111111", "us-east-1"),
            acquire("kms:ListKeys"),
        )
        .await;
        in_scope(
            scope(&l, "111111111111", "eu-west-1"),
            acquire("acm:ListCertificates"),
        )
        .await;
        acquire("kms:ListKeys").await;
        let free = start.elapsed();
        assert!(free < Duration::from_millis(250), "{free:?}");
    }

    #[tokio::test]
    async fn account_regions_whose_limiters_are_full_again_are_forgotten() {
        // 50 a second: one call's cell is back 20 ms later.
        let l = limits(&[("kms", 50), ("acm", 50)]);
        for account in ["111111111111", "222222222222", "333333333333"] {
            in_scope(scope(&l, account, "eu-west-1"), async {
                acquire("kms:ListKeys").await;
                acquire("acm:ListCertificates").await;
            })
            .await;
        }
        assert_eq!(l.remembered(), 6);
        // One account-region still busy: spent 50 calls in a burst, full again in a second.
        in_scope(scope(&l, "444444444444", "eu-west-1"), async {
            for _ in 0..50 {
                acquire("kms:ListKeys").await;
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        l.forget_idle();
        assert_eq!(l.remembered(), 1, "only the busy account-region is kept");
    }

    #[tokio::test]
    async fn a_scope_inside_another_replaces_it() {
        let l = limits(&[("sts", 1)]);
        let start = Instant::now();
        in_scope(scope(&l, "111111111111", "eu-west-1"), async {
            acquire("sts:GetCallerIdentity").await;
            // The same account's other region: its own limiter, so no wait.
            in_scope(
                scope(&l, "111111111111", "us-east-1"),
                acquire("sts:GetCallerIdentity"),
            )
            .await;
        })
        .await;
        assert!(start.elapsed() < Duration::from_millis(250));
        // Back in the first region: spent, so the next call waits about a second.
        in_scope(
            scope(&l, "111111111111", "eu-west-1"),
            acquire("sts:GetCallerIdentity"),
        )
        .await;
        assert!(start.elapsed() >= Duration::from_millis(900));
    }
}
