//! The synthetic calls: per account a handful of principals (an application role, a CI user,
//! a person through Identity Center, AWS Config, sometimes a data job) calling the APIs of the
//! services the account spends on, at a rate with a day/night rhythm; and a burst every few
//! minutes, one principal calling one of its APIs ten times its account's rate.
//!
//! Every minute of every account is drawn from its own ChaCha8 stream keyed by (seed,
//! account, minute), so any stretch of time can be generated alone, in any order, as often as
//! wanted, and comes out identical: event ids included, which is what lets a rerun store each
//! call once.

use super::catalog::{self, Api, Service};
use crate::demo::generate::{service_mixes, DemoOptions};
use orgwatch_model::{AccountId, Region};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// Fewest burst calls per minute, so a burst in a quiet account at night still stands out.
const MIN_BURST_PER_MINUTE: f64 = 20.0;

/// The region of global services' calls.
const GLOBAL_REGION: &str = "us-east-1";

/// When and how strong the injected bursts are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bursts {
    /// A burst starts every this many minutes (at minutes of the epoch divisible by it).
    pub every_minutes: u32,
    /// How long each lasts (at most `every_minutes`).
    pub minutes: u32,
    /// Its calls per minute, as a multiple of its account's usual rate then.
    pub factor: f64,
}

impl Default for Bursts {
    fn default() -> Self {
        Bursts {
            every_minutes: 6,
            minutes: 5,
            factor: 10.0,
        }
    }
}

/// How a principal appears in `userIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// An assumed role's session (`AssumedRole`).
    Role {
        /// The role's name.
        role: String,
        /// The session name.
        session: String,
    },
    /// An IAM user (`IAMUser`).
    User(String),
    /// An AWS service acting for the account (`AWSService`), e.g. `config.amazonaws.com`.
    Service(&'static str),
}

impl Identity {
    /// The principal orgwatch names it by (see `orgwatch_model::Principal`).
    pub fn principal(&self) -> String {
        match self {
            Identity::Role { role, session } => format!("{role}/{session}"),
            Identity::User(name) => name.clone(),
            Identity::Service(host) => (*host).to_owned(),
        }
    }
}

/// One principal of an account and what it calls.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who it is.
    pub identity: Identity,
    /// Where its calls come from: an IP address, or a service's host name.
    pub source_ip: String,
    /// Its `userAgent`.
    pub user_agent: &'static str,
    /// Its share of the account's calls.
    pub weight: f64,
    /// Its APIs with their weights, and whether each is a global service's.
    pub apis: Vec<(Api, f64, bool)>,
    /// Its share of calls that fail, and with which error code.
    pub errors: Option<(f64, &'static str)>,
}

/// One account's traffic.
#[derive(Debug, Clone)]
pub struct AccountPlan {
    /// The account.
    pub id: AccountId,
    /// Its name (principals are named after it).
    pub name: String,
    /// Calls per minute at the daily peak.
    pub peak_rate: f64,
    /// Hour of the day (UTC) of the peak.
    pub peak_hour: f64,
    /// Its principals.
    pub callers: Vec<Caller>,
    /// The regions it works in.
    pub regions: Vec<Region>,
}

/// One synthetic CloudTrail call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The account (index into [`Traffic::accounts`]).
    pub account: usize,
    /// The principal (index into the account's callers).
    pub caller: usize,
    /// The API called.
    pub api: Api,
    /// The region it is logged in.
    pub region: String,
    /// Event time, seconds since the epoch.
    pub time: i64,
    /// `eventID`, stable for the seed.
    pub event_id: String,
    /// `errorCode` of a failed call.
    pub error: Option<&'static str>,
    /// Part of an injected burst.
    pub burst: bool,
}

/// An injected burst.
#[derive(Debug, Clone, PartialEq)]
pub struct Burst {
    /// Its account (index).
    pub account: usize,
    /// Its principal (index into the account's callers).
    pub caller: usize,
    /// The API it calls.
    pub api: Api,
    /// Its first minute (minutes since the epoch).
    pub start_minute: i64,
    /// Its length in minutes.
    pub minutes: u32,
}

/// The organisation's synthetic traffic.
#[derive(Debug, Clone)]
pub struct Traffic {
    seed: u64,
    /// The accounts, in the generator's order.
    pub accounts: Vec<AccountPlan>,
    /// The bursts.
    pub bursts: Bursts,
}

impl Traffic {
    /// The traffic of the organisation of `opts` (its accounts, services and regions).
    pub fn new(opts: &DemoOptions, bursts: Bursts) -> Traffic {
        let accounts = service_mixes(opts)
            .into_iter()
            .enumerate()
            .map(|(index, mix)| {
                let mut rng = stream(opts.seed, "replay-account", index as u64, 0);
                let services: Vec<(Service, f64)> = mix
                    .services
                    .iter()
                    .filter_map(|(name, share)| catalog::service(name).map(|s| (s, *share)))
                    .collect();
                let peak_rate = match mix.account.environment.as_str() {
                    "PRODUCTION" => rng.random_range(12.0..30.0),
                    _ => rng.random_range(3.0..10.0),
                };
                AccountPlan {
                    callers: callers(&mut rng, &mix.account.name, index, &services),
                    id: mix.account.id,
                    name: mix.account.name,
                    peak_rate,
                    peak_hour: rng.random_range(12.0..17.0),
                    regions: opts.regions.clone(),
                }
            })
            .collect();
        Traffic {
            seed: opts.seed,
            accounts,
            bursts: Bursts {
                every_minutes: bursts.every_minutes.max(1),
                minutes: bursts.minutes.clamp(1, bursts.every_minutes.max(1)),
                factor: bursts.factor,
            },
        }
    }

    /// The usual calls per minute of `account` in `minute` (minutes since the epoch): a
    /// quarter of its peak at night, rising to the peak in the afternoon.
    pub fn rate(&self, account: usize, minute: i64) -> f64 {
        let plan = &self.accounts[account];
        let hour = minute.rem_euclid(24 * 60) as f64 / 60.0;
        let phase = (hour - plan.peak_hour) / 24.0 * std::f64::consts::TAU;
        plan.peak_rate * (0.25 + 0.75 * (1.0 + phase.cos()) / 2.0)
    }

    /// The burst of slot `slot` (the one starting at minute `slot * every_minutes`).
    pub fn burst(&self, slot: i64) -> Burst {
        let mut rng = stream(self.seed, "replay-burst", slot as u64, 0);
        let account = rng.random_range(0..self.accounts.len());
        let callers = &self.accounts[account].callers;
        let caller = rng.random_range(0..callers.len());
        let apis = &callers[caller].apis;
        let api = apis[rng.random_range(0..apis.len())].0;
        Burst {
            account,
            caller,
            api,
            start_minute: slot * i64::from(self.bursts.every_minutes),
            minutes: self.bursts.minutes,
        }
    }

    /// The bursts that start in `[from_minute, to_minute)`.
    pub fn bursts_starting(&self, from_minute: i64, to_minute: i64) -> Vec<Burst> {
        let every = i64::from(self.bursts.every_minutes);
        let first = (from_minute + every - 1).div_euclid(every);
        (first..)
            .map(|slot| self.burst(slot))
            .take_while(|b| b.start_minute < to_minute)
            .collect()
    }

    /// The burst running in `minute`, if any.
    pub fn burst_at(&self, minute: i64) -> Option<Burst> {
        let burst = self.burst(minute.div_euclid(i64::from(self.bursts.every_minutes)));
        (minute < burst.start_minute + i64::from(burst.minutes)).then_some(burst)
    }

    /// Every account's calls of `minute`, in time order (then account, then draw order).
    pub fn minute(&self, minute: i64) -> Vec<Call> {
        let mut calls = Vec::new();
        let burst = self.burst_at(minute);
        for account in 0..self.accounts.len() {
            self.usual_calls(account, minute, &mut calls);
            if let Some(b) = burst.as_ref().filter(|b| b.account == account) {
                self.burst_calls(b, minute, &mut calls);
            }
        }
        calls.sort_by_key(|c| (c.time, c.account));
        calls
    }

    /// The calls with event time in `[from, to)` (seconds since the epoch), in time order.
    pub fn calls(&self, from: i64, to: i64) -> impl Iterator<Item = Call> + '_ {
        (from.div_euclid(60)..to.div_euclid(60) + 1)
            .flat_map(move |m| self.minute(m))
            .filter(move |c| c.time >= from && c.time < to)
    }

    fn usual_calls(&self, account: usize, minute: i64, out: &mut Vec<Call>) {
        let plan = &self.accounts[account];
        let mut rng = stream(self.seed, "replay-minute", account as u64, minute as u64);
        let n = poisson(&mut rng, self.rate(account, minute));
        let callers_total: f64 = plan.callers.iter().map(|c| c.weight).sum();
        for _ in 0..n {
            let caller = weighted(&mut rng, &plan.callers, callers_total, |c| c.weight);
            let c = &plan.callers[caller];
            let apis_total: f64 = c.apis.iter().map(|a| a.1).sum();
            let (api, _, global) = c.apis[weighted(&mut rng, &c.apis, apis_total, |a| a.1)];
            let error = c
                .errors
                .and_then(|(share, code)| rng.random_bool(share).then_some(code));
            out.push(Call {
                account,
                caller,
                api,
                region: region(&mut rng, plan, global),
                time: minute * 60 + rng.random_range(0..60),
                event_id: uuid(&mut rng),
                error,
                burst: false,
            });
        }
    }

    fn burst_calls(&self, burst: &Burst, minute: i64, out: &mut Vec<Call>) {
        let plan = &self.accounts[burst.account];
        let mut rng = stream(
            self.seed,
            "replay-burst-minute",
            burst.account as u64,
            minute as u64,
        );
        let per_minute = (self.bursts.factor * self.rate(burst.account, minute))
            .max(MIN_BURST_PER_MINUTE)
            .ceil() as usize;
        let global = plan.callers[burst.caller]
            .apis
            .iter()
            .any(|(a, _, g)| *a == burst.api && *g);
        for _ in 0..per_minute {
            out.push(Call {
                account: burst.account,
                caller: burst.caller,
                api: burst.api,
                region: region(&mut rng, plan, global),
                time: minute * 60 + rng.random_range(0..60),
                event_id: uuid(&mut rng),
                error: None,
                burst: true,
            });
        }
    }
}

/// An account's principals, named after the account.
fn callers(
    rng: &mut ChaCha8Rng,
    account: &str,
    index: usize,
    services: &[(Service, f64)],
) -> Vec<Caller> {
    let top = |n: usize| services.iter().take(n);
    let net = index % 250;
    let mut out = vec![
        Caller {
            identity: Identity::Role {
                role: format!("{account}-app"),
                session: format!("i-0{}", hex(rng, 16)),
            },
            source_ip: format!(
                "10.{net}.{}.{}",
                rng.random_range(0..16),
                rng.random_range(4..250)
            ),
            user_agent: "aws-sdk-java/2.25.60 Linux/6.1 OpenJDK_64-Bit_Server_VM/21",
            weight: 0.45,
            apis: top(4)
                .flat_map(|(s, share)| {
                    let g = s.global;
                    s.read_apis()
                        .map(move |a| (a, 4.0 * share, g))
                        .chain(s.write_apis().map(move |a| (a, *share, g)))
                })
                .collect(),
            errors: Some((0.01, "ThrottlingException")),
        },
        Caller {
            identity: Identity::User("ci-deploy".to_owned()),
            source_ip: format!("203.0.113.{}", rng.random_range(10..250)),
            user_agent: "aws-cli/2.17.20 Python/3.11.9 Linux/6.1 exe/x86_64",
            weight: 0.12,
            apis: top(3)
                .flat_map(|(s, share)| s.write_apis().map(move |a| (a, *share, s.global)))
                .chain(catalog::STS.read_apis().map(|a| (a, 0.3, false)))
                .collect(),
            errors: None,
        },
        Caller {
            identity: Identity::Role {
                role: format!("AWSReservedSSO_AdministratorAccess_{}", hex(rng, 16)),
                session: format!("{}@example.com", PEOPLE[rng.random_range(0..PEOPLE.len())]),
            },
            source_ip: format!("198.51.100.{}", rng.random_range(10..250)),
            user_agent: "console.amazonaws.com",
            weight: 0.08,
            // A person signs in to the console now and then (about one call in 40).
            apis: top(6)
                .flat_map(|(s, _)| s.read_apis().take(1).map(|a| (a, 1.0, s.global)))
                .chain(catalog::SIGNIN.write_apis().map(|a| (a, 0.15, true)))
                .collect(),
            errors: Some((0.02, "AccessDenied")),
        },
        Caller {
            identity: Identity::Service("config.amazonaws.com"),
            source_ip: "config.amazonaws.com".to_owned(),
            user_agent: "config.amazonaws.com",
            weight: 0.25,
            apis: top(8)
                .flat_map(|(s, share)| {
                    s.read_apis()
                        .take(1)
                        .map(move |a| (a, 0.5 + share, s.global))
                })
                .collect(),
            errors: None,
        },
    ];
    let data: Vec<&(Service, f64)> = services
        .iter()
        .filter(|(s, _)| {
            ["s3.", "glue.", "kinesis.", "dynamodb.", "sagemaker."]
                .iter()
                .any(|p| s.source.starts_with(p))
        })
        .collect();
    if data.len() >= 2 {
        out.push(Caller {
            identity: Identity::Role {
                role: format!("{account}-etl"),
                session: "etl-nightly".to_owned(),
            },
            source_ip: format!(
                "10.{net}.{}.{}",
                rng.random_range(16..32),
                rng.random_range(4..250)
            ),
            user_agent: "Boto3/1.34.144 md/Botocore#1.34.144 Python/3.12.4",
            weight: 0.10,
            apis: data
                .iter()
                .flat_map(|(s, _)| {
                    s.read_apis()
                        .take(1)
                        .chain(s.write_apis().take(1))
                        .map(|a| (a, 1.0, s.global))
                })
                .collect(),
            errors: None,
        });
    }
    // An account whose services have no changing API still has a CI user that calls STS.
    out.retain(|c| !c.apis.is_empty());
    out
}

/// First names of the people who sign in (`name@example.com`).
const PEOPLE: [&str; 8] = [
    "maria.garcia",
    "wei.chen",
    "amara.okafor",
    "lars.nilsson",
    "priya.sharma",
    "tom.becker",
    "yuki.tanaka",
    "sofia.rossi",
];

/// A call's region: `us-east-1` for a global service, else one of the account's.
fn region(rng: &mut ChaCha8Rng, plan: &AccountPlan, global: bool) -> String {
    if global || plan.regions.is_empty() {
        return GLOBAL_REGION.to_owned();
    }
    plan.regions[rng.random_range(0..plan.regions.len())]
        .as_str()
        .to_owned()
}

/// An index drawn with probability proportional to `weight`.
fn weighted<T>(rng: &mut ChaCha8Rng, items: &[T], total: f64, weight: impl Fn(&T) -> f64) -> usize {
    let mut x = rng.random_range(0.0..total);
    for (i, item) in items.iter().enumerate() {
        x -= weight(item);
        if x < 0.0 {
            return i;
        }
    }
    items.len() - 1
}

/// A Poisson draw (Knuth's method, in steps of at most 30 so `exp(-mean)` stays exact).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    let mut left = mean.max(0.0);
    let mut n = 0;
    while left > 0.0 {
        let step = left.min(30.0);
        left -= step;
        let limit = (-step).exp();
        let mut p: f64 = rng.random();
        while p > limit {
            n += 1;
            p *= rng.random::<f64>();
        }
    }
    n
}

/// The stream of one purpose: independent of every other (seed, purpose, a, b).
fn stream(seed: u64, purpose: &str, a: u64, b: u64) -> ChaCha8Rng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(purpose.as_bytes());
    h.update(a.to_le_bytes());
    h.update(b.to_le_bytes());
    ChaCha8Rng::from_seed(h.finalize().into())
}

fn hex(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

/// A version 4 UUID from the stream.
fn uuid(rng: &mut ChaCha8Rng) -> String {
    let variant = ['8', '9', 'a', 'b'][rng.random_range(0..4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(accounts: usize, seed: u64) -> Traffic {
        let opts = DemoOptions {
            accounts,
            days: 2,
            seed,
            end_date: time::macros::date!(2026 - 11 - 24),
            regions: vec![Region::parse("eu-west-1").unwrap()],
        };
        Traffic::new(&opts, Bursts::default())
    }

    #[test]
    fn a_minute_comes_out_the_same_whenever_and_however_it_is_drawn() {
        let t = traffic(4, 7);
        let m = 29_000_000;
        assert_eq!(t.minute(m), traffic(4, 7).minute(m));
        let whole: Vec<Call> = t.calls(m * 60, m * 60 + 60).collect();
        let halves: Vec<Call> = t
            .calls(m * 60, m * 60 + 17)
            .chain(t.calls(m * 60 + 17, m * 60 + 60))
            .collect();
        assert_eq!(whole, halves);
        assert!(!whole.is_empty());
        assert_ne!(t.minute(m), traffic(4, 8).minute(m), "another seed");
    }

    #[test]
    fn rates_follow_the_day_and_night() {
        for seed in [1, 2, 3] {
            let t = traffic(6, seed);
            for a in 0..6 {
                let day: f64 = (0..1440).map(|m| t.rate(a, 29_000_160 + m)).sum();
                let peak = t.accounts[a].peak_rate;
                let rates: Vec<f64> = (0..1440).map(|m| t.rate(a, 29_000_160 + m)).collect();
                let lo = rates.iter().copied().fold(f64::MAX, f64::min);
                let hi = rates.iter().copied().fold(0.0, f64::max);
                assert!((lo - peak / 4.0).abs() < 0.01 * peak, "{lo} {peak}");
                assert!((hi - peak).abs() < 0.01 * peak, "{hi} {peak}");
                assert!((day / 1440.0 - 0.625 * peak).abs() < 0.01 * peak);
            }
        }
    }

    #[test]
    fn draws_match_the_rate_on_average() {
        let t = traffic(3, 5);
        for a in 0..3 {
            let minutes = 29_000_000..29_000_600;
            let expected: f64 = minutes.clone().map(|m| t.rate(a, m)).sum();
            let mut calls = Vec::new();
            for m in minutes {
                t.usual_calls(a, m, &mut calls);
            }
            let n = calls.len() as f64;
            // Poisson: the sum's standard deviation is sqrt(expected); allow 5 of them.
            assert!(
                (n - expected).abs() < 5.0 * expected.sqrt(),
                "{n} {expected}"
            );
        }
    }

    #[test]
    fn bursts_come_every_few_minutes_and_stand_out() {
        let t = traffic(5, 9);
        let bursts = t.bursts_starting(29_000_001, 29_000_061);
        assert_eq!(bursts.len(), 10);
        for b in &bursts {
            assert_eq!(b.start_minute % 6, 0);
            let calls = t.minute(b.start_minute);
            let of_burst = calls.iter().filter(|c| c.burst).count() as f64;
            assert!(of_burst >= (10.0 * t.rate(b.account, b.start_minute)).max(20.0).floor());
            assert!(calls
                .iter()
                .filter(|c| c.burst)
                .all(|c| c.account == b.account && c.caller == b.caller && c.api == b.api));
            assert_eq!(t.burst_at(b.start_minute + 4).as_ref(), Some(b));
            assert_eq!(t.burst_at(b.start_minute + 5), None);
        }
        let principals: std::collections::HashSet<_> =
            bursts.iter().map(|b| (b.account, b.caller)).collect();
        assert!(principals.len() > 3, "bursts move between principals");
    }

    #[test]
    fn every_account_has_a_handful_of_principals_with_apis() {
        for seed in [1, 42, 1000] {
            let t = traffic(25, seed);
            for plan in &t.accounts {
                assert!((4..=5).contains(&plan.callers.len()), "{}", plan.name);
                assert!(plan.callers.iter().all(|c| !c.apis.is_empty()));
            }
        }
    }
}
