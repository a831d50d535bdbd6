//! Login rate limits (GCRA, `governor`): attempts per client IP and per user name, checked
//! before the password is, so that guessing is slow for one name from many addresses and
//! for many names from one address. The limits are per process: several `serve` processes
//! each allow their own.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Login attempts allowed per minute (each also the burst).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Per client IP address.
    pub per_ip: NonZeroU32,
    /// Per user name.
    pub per_user: NonZeroU32,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        LoginLimits {
            per_ip: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            per_user: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// Which limit an attempt hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Too many attempts from this address.
    Ip,
    /// Too many attempts for this user name.
    User,
}

/// The keyed limiters of a process.
pub struct LoginLimiter {
    ip: DefaultKeyedRateLimiter<IpAddr>,
    user: DefaultKeyedRateLimiter<String>,
}

/// Keys kept before stale ones are dropped (a spray of names must not grow memory forever).
const MAX_KEYS: usize = 10_000;

impl LoginLimiter {
    /// Limiters with these limits.
    pub fn new(limits: &LoginLimits) -> LoginLimiter {
        LoginLimiter {
            ip: RateLimiter::keyed(Quota::per_minute(limits.per_ip)),
            user: RateLimiter::keyed(Quota::per_minute(limits.per_user)),
        }
    }

    /// Counts one attempt for `ip` and `user`; `Err` when either is over its limit.
    pub fn check(&self, ip: IpAddr, user: &str) -> Result<(), Limited> {
        for limiter in [&self.ip as &dyn Prune, &self.user] {
            limiter.prune();
        }
        // Names are compared without case and bounded in length, as keys.
        let user: String = user.to_lowercase().chars().take(64).collect();
        self.ip.check_key(&ip).map_err(|_| Limited::Ip)?;
        self.user.check_key(&user).map_err(|_| Limited::User)?;
        Ok(())
    }
}

trait Prune {
    fn prune(&self);
}

impl<K: std::hash::Hash + Eq + Clone> Prune for DefaultKeyedRateLimiter<K> {
    fn prune(&self) {
        if self.len() > MAX_KEYS {
            self.retain_recent();
        }
    }
}
