//! The synthetic organisation behind `orgwatch demo`: its accounts, and the DAILY and MONTHLY
//! A360 documents their senders would have written.
//!
//! Every file is a pure function of the options and of its location. Each part of a document
//! draws from its own ChaCha8 stream keyed by (seed, account, region, day, purpose), so files
//! can be generated alone or in any order and still come out byte-identical. Things that span
//! days (a finding that opens and later resolves, a patch gap, a config rule drifting) are
//! re-derived from the day they started rather than carried over from the previous file.
//!
//! Global categories (cost, service, S3 buckets, Savings Plans, Trusted Advisor, Health,
//! support cases, Marketplace) draw from streams that do not involve the region, so every
//! region's file of an account and day carries the same rows, as the real sender's do.

use orgwatch_model::category::account::{
    Account, AlternateContact, AlternateContacts, ContactInfo,
};
use orgwatch_model::category::application::ApplicationSignal;
use orgwatch_model::category::compute_optimizer::ComputeOptimizerRecommendation;
use orgwatch_model::category::config::{ConfigReport, NonCompliantResource};
use orgwatch_model::category::cost::{
    CostForecast, CostPeriod, CostReport, ForecastPeriod, TopService,
};
use orgwatch_model::category::health::HealthEvent;
use orgwatch_model::category::inventory::{Application, Instance, Inventory, Patch};
use orgwatch_model::category::logs::{CollectionLog, CollectionStatus, LogMessage};
use orgwatch_model::category::marketplace::MarketplaceUsage;
use orgwatch_model::category::resilience_hub::ResilienceHubApp;
use orgwatch_model::category::ri_sp_savings::RiSpSaving;
use orgwatch_model::category::security::{
    Certificate, GuardDutyFinding, InspectorFinding, KmsKey, Secret, Security, SecurityHubFinding,
    SecurityHubSummary, SeverityCounts, Trail, WafRule, WebAcl,
};
use orgwatch_model::category::service::ServiceCost;
use orgwatch_model::category::service_resources::ServiceResource;
use orgwatch_model::category::support_tickets::SupportTicket;
use orgwatch_model::category::trusted_advisor::TrustedAdvisorCheck;
use orgwatch_model::{
    AccountId, Category, Day, Granularity, Region, Snapshot, SnapshotLocation, Timestamp,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use time::{Date, Duration, PrimitiveDateTime, Time, Weekday};

// =============================================================================================
// Public API
// =============================================================================================

/// Options of the synthetic organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// How many accounts the organisation has.
    pub accounts: usize,
    /// How many daily runs each account and region makes, ending at `end_date`.
    pub days: u32,
    /// Seed of every random choice.
    pub seed: u64,
    /// The last run date (a DAILY file dated D holds the data of D-1).
    pub end_date: Date,
    /// Regions the senders run in: one file per region.
    pub regions: Vec<Region>,
}

/// One generated file: where it goes under data/ and its document.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFile {
    /// The file's path under `data/`, as a location.
    pub location: SnapshotLocation,
    /// The document.
    pub snapshot: Snapshot,
}

/// One account of the synthetic organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// The 12-digit account id.
    pub id: AccountId,
    /// Account name, e.g. `payments-prod`.
    pub name: String,
    /// Organisational unit path, e.g. `Workloads/Prod`.
    pub ou: String,
    /// Environment label: PRODUCTION, STAGING, DEVELOPMENT, TEST or UAT.
    pub environment: String,
    /// Products, as the sender's comma list.
    pub product: String,
}

/// The organisation's accounts (id, name, OU, environment), derived from the options.
pub fn accounts(opts: &DemoOptions) -> Vec<DemoAccount> {
    profiles(opts).into_iter().map(|p| p.account).collect()
}

/// All files, in a deterministic order, built lazily one at a time.
///
/// The order is: per account, per region, its DAILY files by run date, then its MONTHLY ones.
/// Any file's content depends only on the options and its location, not on this order.
pub fn files(opts: &DemoOptions) -> impl Iterator<Item = DemoFile> {
    let org = Arc::new(Org::new(opts));
    let pairs: Vec<(usize, usize)> = (0..org.profiles.len())
        .flat_map(|a| (0..org.opts.regions.len()).map(move |r| (a, r)))
        .collect();
    pairs.into_iter().flat_map(move |(account, region)| {
        let org = Arc::clone(&org);
        // The static part of an account-region is built once and shared by its files.
        let world = World::new(&org, account, region);
        let runs = org.runs();
        runs.into_iter()
            .map(move |(run_date, granularity)| org.file(account, &world, run_date, granularity))
    })
}

/// How many files [`files`] yields, without generating them (for progress bars).
pub fn file_count(opts: &DemoOptions) -> u64 {
    let org = Org::new(opts);
    (org.runs().len() * org.profiles.len() * opts.regions.len()) as u64
}

// =============================================================================================
// Small helpers
// =============================================================================================

/// Midnight UTC of `day` plus `secs` seconds.
fn at(day: Date, secs: i64) -> Timestamp {
    Timestamp::new(
        PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_utc() + Duration::seconds(secs),
    )
}

/// A random instant within `day`.
fn during(rng: &mut impl Rng, day: Date) -> Timestamp {
    at(day, rng.random_range(0..86_400))
}

/// A random instant on a random day `range` days before `day`.
fn ago(rng: &mut impl Rng, day: Date, range: std::ops::Range<i64>) -> Timestamp {
    let d = day - days(rng.random_range(range));
    during(rng, d)
}

/// A random instant within `day`, between two hours of the clock.
fn between(rng: &mut impl Rng, day: Date, from_hour: i64, to_hour: i64) -> Timestamp {
    at(day, rng.random_range(from_hour * 3600..to_hour * 3600))
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Rounds to `decimals` places. Kept short so that serde_json, which does not parse long
/// mantissas exactly without its `float_roundtrip` feature, reads back the same f64.
fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn money(x: f64) -> f64 {
    round(x, 6)
}

/// `arn:aws:{service}:{region}:{account}:{resource}`.
fn arn(service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{region}:{account}:{resource}")
}

fn hex(rng: &mut impl Rng, n: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..n)
        .map(|_| DIGITS[rng.random_range(0..16)] as char)
        .collect()
}

fn uuid(rng: &mut impl Rng) -> String {
    let variant = ['8', '9', 'a', 'b'][rng.random_range(0..4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        variant,
        hex(rng, 3),
        hex(rng, 12)
    )
}

fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Picks by weight; `items` must not be empty.
fn pick_weighted<'a, T>(rng: &mut impl Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// A count with mean about `mean` (geometric), capped.
fn count_around(rng: &mut impl Rng, mean: f64, cap: usize) -> usize {
    let p = mean / (1.0 + mean);
    let mut n = 0;
    while n < cap && rng.random_bool(p) {
        n += 1;
    }
    n
}

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).expect("day 1 exists")
}

fn last_of_month(d: Date) -> Date {
    d.replace_day(d.month().length(d.year()))
        .expect("the month's last day exists")
}

fn first_of_next_month(d: Date) -> Date {
    last_of_month(d) + days(1)
}

/// FNV-1a: a stable hash for stream keys (std's hasher may change between releases).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn owned<'a>(items: impl Iterator<Item = &'a String>) -> Vec<String> {
    items.cloned().collect()
}

/// Days in `[from, to)`.
fn day_range(from: Date, to: Date) -> impl Iterator<Item = Date> {
    let n = (to - from).whole_days().max(0);
    (0..n).map(move |i| from + days(i))
}

// =============================================================================================
// The organisation and its accounts
// =============================================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Security,
    Infrastructure,
    Workload,
    Sandbox,
}

struct Template {
    name: &'static str,
    ou: &'static str,
    environment: &'static str,
    kind: Kind,
    products: &'static str,
    category: &'static str,
}

const fn t(
    name: &'static str,
    ou: &'static str,
    environment: &'static str,
    kind: Kind,
    products: &'static str,
    category: &'static str,
) -> Template {
    Template {
        name,
        ou,
        environment,
        kind,
        products,
        category,
    }
}

const PROD: &str = "PRODUCTION";
const W_PROD: &str = "Workloads/Prod";
const W_NONPROD: &str = "Workloads/NonProd";

/// The first 25 accounts; larger organisations repeat them with a numeric suffix. Interleaved
/// so that a small organisation still has prod, non-prod, security and sandbox accounts.
#[rustfmt::skip]
const TEMPLATES: [Template; 25] = [
    t("payments-prod", W_PROD, PROD, Kind::Workload, "Payments Gateway, Fraud Detection", "Internet"),
    t("security-tooling", "Security", PROD, Kind::Security, "Security Tooling", "Intranet"),
    t("orders-prod", W_PROD, PROD, Kind::Workload, "Orders Platform", "Internet"),
    t("payments-staging", W_NONPROD, "STAGING", Kind::Workload, "Payments Gateway", "Both"),
    t("network-hub", "Infrastructure", PROD, Kind::Infrastructure, "Network Core", "Both"),
    t("orders-dev", W_NONPROD, "DEVELOPMENT", Kind::Workload, "Orders Platform", "Intranet"),
    t("identity-prod", W_PROD, PROD, Kind::Workload, "Customer Identity", "Internet"),
    t("log-archive", "Security", PROD, Kind::Security, "Log Archive", "Intranet"),
    t("identity-uat", W_NONPROD, "UAT", Kind::Workload, "Customer Identity", "Both"),
    t("analytics-prod", W_PROD, PROD, Kind::Workload, "Analytics Lake, Reporting", "Intranet"),
    t("sandbox-data-science", "Sandbox", "DEVELOPMENT", Kind::Sandbox, "Experiments", "Intranet"),
    t("orders-test", W_NONPROD, "TEST", Kind::Workload, "Orders Platform", "Intranet"),
    t("shared-services", "Infrastructure", PROD, Kind::Infrastructure, "Shared Services, CI/CD", "Intranet"),
    t("search-prod", W_PROD, PROD, Kind::Workload, "Product Search", "Internet"),
    t("analytics-test", W_NONPROD, "TEST", Kind::Workload, "Analytics Lake", "Intranet"),
    t("mobile-api-prod", W_PROD, PROD, Kind::Workload, "Mobile Backend, Notifications", "Internet"),
    t("search-staging", W_NONPROD, "STAGING", Kind::Workload, "Product Search", "Both"),
    t("payments-uat", W_NONPROD, "UAT", Kind::Workload, "Payments Gateway, Fraud Detection", "Both"),
    t("sandbox-platform", "Sandbox", "DEVELOPMENT", Kind::Sandbox, "Experiments", "Intranet"),
    t("notifications-prod", W_PROD, PROD, Kind::Workload, "Notifications", "Internet"),
    t("mobile-api-dev", W_NONPROD, "DEVELOPMENT", Kind::Workload, "Mobile Backend", "Intranet"),
    t("data-lake-prod", W_PROD, PROD, Kind::Workload, "Analytics Lake", "Intranet"),
    t("audit", "Security", PROD, Kind::Security, "Security Tooling, Compliance Reporting", "Intranet"),
    t("notifications-dev", W_NONPROD, "DEVELOPMENT", Kind::Workload, "Notifications", "Intranet"),
    t("sandbox-ml", "Sandbox", "DEVELOPMENT", Kind::Sandbox, "Experiments, ML Research", "Intranet"),
];

/// A few days of one account where one service runs away.
#[derive(Debug, Clone)]
struct Spike {
    start: Date,
    len: i64,
    factor: f64,
    service: usize,
}

/// One account and the traits that shape its data.
#[derive(Debug, Clone)]
struct Profile {
    index: usize,
    account: DemoAccount,
    kind: Kind,
    prod: bool,
    category: &'static str,
    partner: Option<&'static str>,
    customer: Option<&'static str>,
    created: Date,
    contact_info: ContactInfo,
    contacts: AlternateContacts,
    /// Daily spend at `end_date`, before seasonality.
    base_cost: f64,
    weekend_factor: f64,
    /// Services and their share of the spend (shares sum to 1).
    services: Vec<(&'static str, f64)>,
    spike: Option<Spike>,
    /// 0 = tidy account, 1 = neglected: drives findings, config drift and patch gaps.
    posture: f64,
    expiring_cert: bool,
    expired_cert: bool,
    /// When the org trail stopped logging, and when (if ever) it was turned back on.
    trail_outage: Option<(Date, Option<Date>)>,
    trusted_advisor: bool,
}

fn profiles(opts: &DemoOptions) -> Vec<Profile> {
    let keys = Keys { seed: opts.seed };
    let mut ids = keys.rng("account-ids", ORG, None, None);
    let mut seen = HashSet::new();
    (0..opts.accounts)
        .map(|index| {
            let id = loop {
                let n: u64 = ids.random_range(100_000_000_000..=999_999_999_999);
                if seen.insert(n) {
                    break AccountId::parse(&n.to_string()).expect("12 digits");
                }
            };
            profile(opts, keys, index, id)
        })
        .collect()
}

fn profile(opts: &DemoOptions, keys: Keys, index: usize, id: AccountId) -> Profile {
    let tpl = &TEMPLATES[index % TEMPLATES.len()];
    let round_no = index / TEMPLATES.len();
    let name = if round_no == 0 {
        tpl.name.to_owned()
    } else {
        format!("{}-{}", tpl.name, round_no + 1)
    };
    let mut rng = keys.rng("profile", index, None, None);
    let prod = tpl.environment == PROD;
    let team = tpl.name.split('-').next().unwrap_or(tpl.name);

    let base_cost = match (prod, tpl.kind) {
        (true, _) => rng.random_range(300.0..2000.0),
        (false, Kind::Sandbox) => rng.random_range(20.0..80.0),
        (false, _) => rng.random_range(20.0..200.0),
    };
    let weekend_factor = if prod {
        rng.random_range(0.9..0.97)
    } else {
        rng.random_range(0.65..0.75)
    };
    let services = service_mix(&mut rng, tpl.kind);
    let spike = (rng.random_bool(0.12) || index == 2).then(|| {
        let span = i64::from(opts.days);
        let offset = if span > 4 {
            rng.random_range(2..span - 1)
        } else {
            0
        };
        Spike {
            start: opts.end_date - days(1 + offset),
            len: rng.random_range(1..=2),
            factor: rng.random_range(3.0..5.0),
            // Runaway spend is in one of the account's big services.
            service: rng.random_range(0..3.min(services.len())),
        }
    });
    let posture = match tpl.kind {
        Kind::Sandbox => rng.random_range(0.6..1.0),
        Kind::Security => rng.random_range(0.1..0.5),
        _ => rng.random_range(0.2..0.9),
    };
    let trail_outage = rng.random_bool(0.12).then(|| {
        let stop = opts.end_date - days(rng.random_range(1..=i64::from(opts.days.max(2))));
        let restart = rng
            .random_bool(0.5)
            .then(|| stop + days(rng.random_range(2..10)));
        (stop, restart)
    });

    let contact_info = if rng.random_bool(0.9) {
        ContactInfo {
            address_line1: Some("410 Terry Ave N".to_owned()),
            city: Some("Seattle".to_owned()),
            country_code: Some("US".to_owned()),
            postal_code: Some("98109".to_owned()),
            state_or_region: Some("WA".to_owned()),
            company_name: Some("Example Corp".to_owned()),
            phone_number: Some("+1-206-555-0100".to_owned()),
            website_url: Some("https://example-corp.com".to_owned()),
            full_name: Some("Example Corp Cloud Team".to_owned()),
            ..Default::default()
        }
    } else {
        // GetContactInformation failed: the sender writes `{}`.
        ContactInfo::default()
    };
    let contact = |name: &str, title: &str, email: String, phone: &str| AlternateContact {
        name: Some(name.to_owned()),
        title: Some(title.to_owned()),
        email: Some(email),
        phone: Some(phone.to_owned()),
    };
    let contacts = AlternateContacts {
        billing: Some(contact(
            "Maria Garcia",
            "Finance Manager",
            "billing@example-corp.com".into(),
            "+1-206-555-0101",
        )),
        operations: (tpl.kind != Kind::Sandbox && rng.random_bool(0.6)).then(|| {
            contact(
                &format!("{team} on-call"),
                "SRE Lead",
                format!("{team}-oncall@example-corp.com"),
                "+1-206-555-0102",
            )
        }),
        security: rng.random_bool(0.85).then(|| {
            contact(
                "Priya Nair",
                "CISO",
                "security@example-corp.com".into(),
                "+1-206-555-0103",
            )
        }),
    };

    Profile {
        index,
        account: DemoAccount {
            id,
            name,
            ou: tpl.ou.to_owned(),
            environment: tpl.environment.to_owned(),
            product: tpl.products.to_owned(),
        },
        kind: tpl.kind,
        prod,
        category: tpl.category,
        partner: (tpl.kind != Kind::Sandbox).then_some("AnyCompany Cloud Services"),
        customer: match tpl.kind {
            Kind::Sandbox => None,
            _ if team == "mobile" || team == "notifications" => Some("Example Corp Digital"),
            _ => Some("Example Corp"),
        },
        created: opts.end_date - days(rng.random_range(200..2500)),
        contact_info,
        contacts,
        base_cost,
        weekend_factor,
        services,
        spike,
        posture,
        expiring_cert: rng.random_bool(0.12) || index == 1,
        expired_cert: rng.random_bool(0.08) || index == 4,
        trail_outage,
        trusted_advisor: tpl.kind != Kind::Sandbox,
    }
}

/// AWS services with their typical share of an account's bill.
const SERVICES: [(&str, f64); 30] = [
    ("Amazon Elastic Compute Cloud - Compute", 30.0),
    ("Amazon Relational Database Service", 14.0),
    ("EC2 - Other", 7.0),
    ("Amazon Simple Storage Service", 5.0),
    ("Elastic Load Balancing", 3.0),
    ("AmazonCloudWatch", 2.5),
    ("Amazon GuardDuty", 1.2),
    ("AWS Security Hub", 0.8),
    ("AWS Key Management Service", 0.4),
    ("Amazon Inspector", 0.6),
    ("AWS Config", 1.0),
    ("AWS CloudTrail", 0.5),
    ("AWS Lambda", 2.0),
    ("Amazon Virtual Private Cloud", 3.0),
    ("Amazon Route 53", 0.5),
    ("AWS Network Firewall", 4.0),
    ("Amazon SageMaker", 8.0),
    ("Amazon DynamoDB", 4.0),
    ("Amazon CloudFront", 3.0),
    ("Amazon ElastiCache", 4.0),
    ("Amazon OpenSearch Service", 5.0),
    ("Amazon Elastic Container Service for Kubernetes", 3.0),
    ("Amazon Elastic Container Service", 2.0),
    ("Amazon Simple Queue Service", 0.5),
    ("Amazon Simple Notification Service", 0.3),
    ("AWS Secrets Manager", 0.2),
    ("AWS WAF", 0.6),
    ("Amazon Kinesis", 2.0),
    ("AWS Glue", 2.0),
    ("AWS Backup", 1.5),
];

/// 8 to 15 services: the ones every account of its kind runs, then random extras.
fn service_mix(rng: &mut impl Rng, kind: Kind) -> Vec<(&'static str, f64)> {
    let core: &[usize] = match kind {
        Kind::Workload => &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        Kind::Security => &[6, 7, 9, 10, 11, 3, 12, 8],
        Kind::Infrastructure => &[13, 2, 0, 14, 15, 5, 3, 8],
        Kind::Sandbox => &[0, 3, 12, 16, 5, 6, 7, 8],
    };
    let mut chosen: Vec<usize> = core.to_vec();
    let mut rest: Vec<usize> = (0..SERVICES.len()).filter(|i| !core.contains(i)).collect();
    rest.shuffle(rng);
    let want = rng.random_range(8..=15).max(chosen.len());
    chosen.extend(rest.into_iter().take(want - chosen.len()));
    let mut mix: Vec<(&'static str, f64)> = chosen
        .into_iter()
        .map(|i| (SERVICES[i].0, SERVICES[i].1 * rng.random_range(0.6..1.6)))
        .collect();
    let total: f64 = mix.iter().map(|(_, w)| w).sum();
    for (_, w) in &mut mix {
        *w /= total;
    }
    mix.sort_by(|a, b| b.1.total_cmp(&a.1));
    mix
}

// =============================================================================================
// Random streams
// =============================================================================================

/// The account index of organisation-wide streams.
const ORG: usize = usize::MAX;

#[derive(Debug, Clone, Copy)]
struct Keys {
    seed: u64,
}

impl Keys {
    /// The stream for one purpose of one account (and region, and day): independent of every
    /// other stream, so that no file depends on what was generated before it.
    fn rng(
        self,
        purpose: &str,
        account: usize,
        region: Option<&Region>,
        day: Option<Date>,
    ) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&(account as u64).to_le_bytes());
        let region = region.map_or("", Region::as_str);
        key[16..24].copy_from_slice(&fnv1a(&[purpose.as_bytes(), region.as_bytes()]).to_le_bytes());
        let day = day.map_or(u64::MAX, |d| i64::from(d.to_julian_day()) as u64);
        key[24..].copy_from_slice(&day.to_le_bytes());
        ChaCha8Rng::from_seed(key)
    }
}

struct Org {
    opts: DemoOptions,
    keys: Keys,
    profiles: Vec<Profile>,
}

/// One file being generated: the account, the region's world, and the days it covers.
struct Ctx<'a> {
    org: &'a Org,
    p: &'a Profile,
    w: &'a World,
    run_date: Date,
    granularity: Granularity,
    /// `date_from`/`date_to` as the sender labels them (MONTHLY ends on the month's last day).
    label_from: Date,
    label_to: Date,
    /// The days whose events the file reports, `[from, to)`; empty for a MONTHLY run on the 1st.
    data_from: Date,
    data_to: Date,
    /// The day "current state" categories describe.
    asof: Date,
}

impl Org {
    fn new(opts: &DemoOptions) -> Self {
        Org {
            opts: opts.clone(),
            keys: Keys { seed: opts.seed },
            profiles: profiles(opts),
        }
    }

    fn rng(
        &self,
        purpose: &str,
        account: usize,
        region: Option<&Region>,
        day: Option<Date>,
    ) -> ChaCha8Rng {
        self.keys.rng(purpose, account, region, day)
    }

    fn first_run(&self) -> Date {
        self.opts.end_date - days(i64::from(self.opts.days) - 1)
    }

    /// Every file of one account-region: DAILY runs by date, then one MONTHLY run per month,
    /// on the last run date within it.
    fn runs(&self) -> Vec<(Date, Granularity)> {
        let dailies: Vec<Date> = (0..i64::from(self.opts.days))
            .map(|i| self.first_run() + days(i))
            .collect();
        let monthlies = dailies
            .iter()
            .filter(|d| **d == self.opts.end_date || (**d + days(1)).month() != d.month())
            .map(|d| (*d, Granularity::Monthly));
        dailies
            .iter()
            .map(|d| (*d, Granularity::Daily))
            .chain(monthlies)
            .collect()
    }

    fn file(
        &self,
        account: usize,
        w: &World,
        run_date: Date,
        granularity: Granularity,
    ) -> DemoFile {
        let p = &self.profiles[account];
        let (label_from, label_to, data_from) = match granularity {
            Granularity::Monthly => {
                let start = first_of_month(run_date);
                // Cost Explorer's end is exclusive, so the sender's month ends on its last day.
                (start, last_of_month(run_date), start)
            }
            _ => (run_date - days(1), run_date, run_date - days(1)),
        };
        let ctx = Ctx {
            org: self,
            p,
            w,
            run_date,
            granularity,
            label_from,
            label_to,
            data_from,
            data_to: run_date,
            asof: run_date - days(1),
        };
        DemoFile {
            location: SnapshotLocation {
                account: p.account.id,
                region: Some(w.region.clone()),
                run_date,
                granularity,
            },
            snapshot: ctx.snapshot(),
        }
    }
}

// =============================================================================================
// The static world of one account-region
// =============================================================================================

struct Platform {
    name: &'static str,
    kind: &'static str,
    version: &'static str,
    windows: bool,
}

const PLATFORMS: [(Platform, f64); 4] = [
    (
        Platform {
            name: "Amazon Linux",
            kind: "Linux",
            version: "2023",
            windows: false,
        },
        5.0,
    ),
    (
        Platform {
            name: "Amazon Linux",
            kind: "Linux",
            version: "2",
            windows: false,
        },
        2.0,
    ),
    (
        Platform {
            name: "Ubuntu",
            kind: "Linux",
            version: "22.04",
            windows: false,
        },
        2.0,
    ),
    (
        Platform {
            name: "Microsoft Windows Server 2022 Datacenter",
            kind: "Windows",
            version: "10.0.20348",
            windows: true,
        },
        1.5,
    ),
];

/// (type, on-demand $/hour)
const PROD_TYPES: [(&str, f64); 8] = [
    ("m5.large", 0.096),
    ("m5.xlarge", 0.192),
    ("m5.2xlarge", 0.384),
    ("c6i.xlarge", 0.17),
    ("r6i.large", 0.126),
    ("m7g.large", 0.0816),
    ("m7g.xlarge", 0.1632),
    ("c7g.large", 0.0725),
];
const NONPROD_TYPES: [(&str, f64); 4] = [
    ("t3.small", 0.0208),
    ("t3.medium", 0.0416),
    ("t3.large", 0.0832),
    ("m5.large", 0.096),
];

/// (name, publisher, application_type)
const LINUX_APPS: [(&str, &str, &str); 16] = [
    ("nginx", "Amazon Linux", "System Environment/Daemons"),
    ("httpd", "Amazon Linux", "System Environment/Daemons"),
    ("docker", "Amazon Linux", "System Environment/Base"),
    ("containerd", "Amazon Linux", "System Environment/Base"),
    (
        "java-17-amazon-corretto",
        "Amazon.com",
        "Development/Languages",
    ),
    ("nodejs", "Amazon Linux", "Development/Languages"),
    ("python3", "Amazon Linux", "Development/Languages"),
    ("postgresql15", "Amazon Linux", "Applications/Databases"),
    ("redis6", "Amazon Linux", "Applications/Databases"),
    (
        "amazon-cloudwatch-agent",
        "Amazon.com",
        "System Environment/Daemons",
    ),
    ("git", "Amazon Linux", "Development/Tools"),
    ("php8.2", "Amazon Linux", "Development/Languages"),
    ("tomcat9", "Amazon Linux", "System Environment/Daemons"),
    ("haproxy", "Amazon Linux", "System Environment/Daemons"),
    (
        "datadog-agent",
        "Datadog, Inc.",
        "System Environment/Daemons",
    ),
    (
        "falcon-sensor",
        "CrowdStrike, Inc.",
        "System Environment/Daemons",
    ),
];
const WINDOWS_APPS: [(&str, &str, &str); 9] = [
    ("Microsoft Edge", "Microsoft Corporation", ""),
    ("Microsoft .NET Framework 4.8", "Microsoft Corporation", ""),
    ("Microsoft SQL Server 2019", "Microsoft Corporation", ""),
    (
        "AWS Tools for Windows",
        "Amazon Web Services Developer Relations",
        "",
    ),
    ("Notepad++ (64-bit x64)", "Notepad++ Team", ""),
    ("7-Zip 23.01 (x64)", "Igor Pavlov", ""),
    ("Google Chrome", "Google LLC", ""),
    (
        "Microsoft Visual C++ 2019 X64 Minimum Runtime",
        "Microsoft Corporation",
        "",
    ),
    ("Amazon CloudWatch Agent", "Amazon.com, Inc.", ""),
];

struct Host {
    id: String,
    name: String,
    platform: &'static Platform,
    instance_type: &'static str,
    hourly: f64,
    ip: String,
    az: usize,
    vpc: usize,
    launched: Date,
    stopped: bool,
    apps: Vec<Application>,
    /// Days during which Critical/Security patches are missing, `[from, to)`.
    gap: Option<(Date, Date)>,
    gap_patches: Vec<(String, &'static str)>,
    patch_day: Weekday,
    old_agent: bool,
}

struct Volume {
    id: String,
    az: usize,
    size: i64,
    kind: &'static str,
    attached: bool,
    created: Date,
}

struct Subnet {
    id: String,
    name: String,
    az: usize,
    vpc: usize,
    free_ips: i64,
}

struct Database {
    id: String,
    engine: &'static str,
    class: &'static str,
    az: usize,
}

struct LoadBalancer {
    arn: String,
    name: String,
    scheme: &'static str,
    created: Date,
}

struct Asg {
    name: String,
    min: i64,
    max: i64,
    created: Date,
}

struct Function {
    name: String,
    runtime: &'static str,
    memory: i64,
    arch: &'static str,
    package: &'static str,
    modified: Timestamp,
}

struct Key {
    id: String,
    description: String,
    state: &'static str,
    created: Timestamp,
    /// None: never rotated; Some(d): rotation on from day d.
    rotation_from: Option<Date>,
}

struct SecretDef {
    name: String,
    arn: String,
    description: Option<String>,
    created: Timestamp,
    rotation: bool,
    used: bool,
    kms_key: Option<String>,
    tagged: bool,
}

struct Cert {
    arn: String,
    domain: String,
    /// When it was first requested (ACM) or imported.
    requested: Timestamp,
    /// Imported certificates expire on a fixed date; ACM ones renew themselves.
    imported_expiry: Option<Timestamp>,
}

/// ACM certificates are valid 395 days and renewed 60 days before they expire.
const ACM_VALIDITY: i64 = 395;
const ACM_RENEWAL: i64 = 335;

struct AclDef {
    name: String,
    id: String,
    scope: &'static str,
    rules: Vec<&'static RuleTemplate>,
    logging: bool,
    blocked: Vec<&'static str>,
    created: Timestamp,
    modified: Timestamp,
}

struct ConfigRule {
    name: &'static str,
    resource_type: &'static str,
    annotation: Option<&'static str>,
    pack: &'static str,
    /// Resources it evaluates; the first n are non-compliant on a day with n failures.
    candidates: Vec<String>,
    level: f64,
    trend: f64,
}

impl ConfigRule {
    fn evaluation(
        &self,
        resource: &str,
        compliant: bool,
        invoked: Timestamp,
    ) -> NonCompliantResource {
        NonCompliantResource {
            rule_name: Some(self.name.to_owned()),
            resource_id: Some(resource.to_owned()),
            resource_type: Some(self.resource_type.to_owned()),
            config_rule_invoked_time: Some(invoked),
            conformance_pack: Some(self.pack.to_owned()),
            compliance_type: Some(
                if compliant {
                    "COMPLIANT"
                } else {
                    "NON_COMPLIANT"
                }
                .to_owned(),
            ),
            annotation: self.annotation.filter(|_| !compliant).map(str::to_owned),
            evaluation_mode: Some("DETECTIVE".to_owned()),
        }
    }
}

struct Bucket {
    name: String,
    created: Timestamp,
}

struct SavingsPlan {
    id: String,
    offering: String,
    hourly: f64,
    plan_type: &'static str,
    payment: &'static str,
    start: Timestamp,
    years: i64,
}

struct ReservedInstance {
    id: String,
    instance_type: &'static str,
    count: i64,
    hourly: f64,
    start: Timestamp,
}

struct MarketplaceProduct {
    code: String,
    name: &'static str,
    daily: f64,
}

/// The resources of one account in one region, stable over the generated days (plus the
/// account's global resources, which do not depend on the region).
struct World {
    region: Region,
    region_index: usize,
    azs: Vec<String>,
    vpcs: Vec<String>,
    subnets: Vec<Subnet>,
    security_groups: Vec<String>,
    hosts: Vec<Host>,
    volumes: Vec<Volume>,
    databases: Vec<Database>,
    load_balancers: Vec<LoadBalancer>,
    asgs: Vec<Asg>,
    functions: Vec<Function>,
    iam_users: Vec<String>,
    keys: Vec<Key>,
    secrets: Vec<SecretDef>,
    certs: Vec<Cert>,
    acls: Vec<AclDef>,
    detector: String,
    rules: Vec<ConfigRule>,
    resilience_apps: Vec<(String, String)>,
    reserved: Option<ReservedInstance>,
    global: Global,
}

impl World {
    fn new(org: &Org, account: usize, region_index: usize) -> Self {
        let p = &org.profiles[account];
        let region = org.opts.regions[region_index].clone();
        let mut rng = org.rng("world", account, Some(&region), None);
        let b = Builder {
            p,
            end: org.opts.end_date,
            days: i64::from(org.opts.days.max(1)),
            region: region.as_str(),
            acct: p.account.id.as_str(),
            name: &p.account.name,
        };
        let azs: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|s| format!("{region}{s}"))
            .collect();
        let vpcs: Vec<String> = (0..rng.random_range(1..=2))
            .map(|_| format!("vpc-{}", hex(&mut rng, 17)))
            .collect();
        let subnets = b.subnets(&mut rng, azs.len(), vpcs.len());
        let security_groups: Vec<String> = (0..rng.random_range(3..=6))
            .map(|_| format!("sg-{}", hex(&mut rng, 17)))
            .collect();
        let hosts = b.hosts(&mut rng, azs.len(), vpcs.len());
        let volumes = b.volumes(&mut rng, &hosts, azs.len());
        let databases = b.databases(&mut rng, azs.len());
        let load_balancers = b.load_balancers(&mut rng);
        let asgs = b.asgs(&mut rng);
        let functions = b.functions(&mut rng);
        let iam_users: Vec<String> = IAM_USERS
            .iter()
            .take(rng.random_range(1..=IAM_USERS.len()))
            .map(|u| format!("arn:aws:iam::{}:user/{u}", b.acct))
            .collect();
        let keys = b.keys(&mut rng);
        let secrets = b.secrets(&mut rng, &keys[keys.len() - 1].id);
        let certs = b.certs(&mut rng, region_index == 0);
        let mut acls = Vec::new();
        if !load_balancers.is_empty() && (p.prod || rng.random_bool(0.5)) {
            acls.push(acl(
                &mut rng,
                format!("{}-regional-acl", b.name),
                "REGIONAL",
                b.end,
            ));
        }
        // CloudFront web ACLs live in us-east-1.
        if b.region == "us-east-1" && p.prod && p.category == "Internet" {
            acls.push(acl(
                &mut rng,
                format!("{}-cloudfront-acl", b.name),
                "CLOUDFRONT",
                b.end,
            ));
        }
        let global = Global::new(org, account);

        // Config rules evaluate the resources above.
        let rules = config_rules(&mut rng, p, |target| match target {
            Target::Buckets => owned(global.buckets.iter().map(|b| &b.name)),
            Target::Volumes => owned(volumes.iter().map(|v| &v.id)),
            Target::SecurityGroups => security_groups.clone(),
            Target::Account => vec![b.acct.to_owned()],
            Target::Instances => owned(hosts.iter().map(|h| &h.id)),
            Target::Databases => owned(databases.iter().map(|d| &d.id)),
            Target::Vpcs => vpcs.clone(),
            Target::Functions => owned(functions.iter().map(|f| &f.name)),
            Target::Users => IAM_USERS[..iam_users.len()]
                .iter()
                .map(|u| u.to_string())
                .collect(),
            Target::Keys => owned(keys.iter().map(|k| &k.id)),
        });

        let workload_home = p.prod && p.kind == Kind::Workload && region_index == 0;
        let resilience_apps = if workload_home {
            b.resilience_apps(&mut rng)
        } else {
            Vec::new()
        };
        let reserved = (workload_home && rng.random_bool(0.4)).then(|| {
            let (instance_type, hourly) = *pick(&mut rng, &PROD_TYPES);
            ReservedInstance {
                id: uuid(&mut rng),
                instance_type,
                count: rng.random_range(2..=6),
                // A standard 1-year RI costs about 62% of on-demand.
                hourly: round(hourly * 0.62, 4),
                start: ago(&mut rng, b.end, 60..300),
            }
        });
        World {
            detector: hex(&mut rng, 32),
            region,
            region_index,
            azs,
            vpcs,
            subnets,
            security_groups,
            hosts,
            volumes,
            databases,
            load_balancers,
            asgs,
            functions,
            iam_users,
            keys,
            secrets,
            certs,
            acls,
            rules,
            resilience_apps,
            reserved,
            global,
        }
    }

    /// Instances running on `day`.
    fn hosts_on(&self, day: Date) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(move |h| h.launched <= day)
    }
}

const IAM_USERS: [&str; 5] = [
    "ci-deployer",
    "terraform",
    "backup-operator",
    "reporting-bot",
    "legacy-admin",
];

/// What every part of a world is named after.
struct Builder<'a> {
    p: &'a Profile,
    end: Date,
    /// The number of generated days (at least 1).
    days: i64,
    region: &'a str,
    acct: &'a str,
    name: &'a str,
}

impl Builder<'_> {
    fn arn(&self, service: &str, resource: &str) -> String {
        arn(service, self.region, self.acct, resource)
    }

    fn subnets(&self, rng: &mut impl Rng, azs: usize, vpcs: usize) -> Vec<Subnet> {
        (0..rng.random_range(3..=6))
            .map(|i| Subnet {
                id: format!("subnet-{}", hex(rng, 17)),
                name: match i % 2 {
                    0 => format!("{}-private-{}", self.name, i / 2 + 1),
                    _ => String::new(),
                },
                az: i % azs,
                vpc: i % vpcs,
                free_ips: rng.random_range(180..4091),
            })
            .collect()
    }

    fn hosts(&self, rng: &mut impl Rng, azs: usize, vpcs: usize) -> Vec<Host> {
        let p = self.p;
        let n = match (p.prod, p.kind) {
            (true, Kind::Workload) => rng.random_range(8..=20),
            (true, _) => rng.random_range(5..=10),
            (false, _) => rng.random_range(5..=12),
        };
        // Up to two are launched during the generated days, never leaving fewer than 5.
        let late = rng.random_range(0..=2).min(n - 5);
        let types: &[(&str, f64)] = if p.prod { &PROD_TYPES } else { &NONPROD_TYPES };
        let roles = [
            "web", "api", "worker", "batch", "bastion", "jenkins", "proxy", "cache",
        ];
        (0..n)
            .map(|i| {
                let platform = pick_weighted(rng, &PLATFORMS);
                let (instance_type, hourly) = *pick(rng, types);
                let id = format!("i-{}", hex(rng, 17));
                let launched = if i >= n - late {
                    self.end - days(rng.random_range(1..=self.days))
                } else {
                    self.end - days(rng.random_range(120..900))
                };
                let arch = if instance_type.contains("g.") {
                    "aarch64"
                } else {
                    "x86_64"
                };
                let apps = host_apps(rng, platform, &id, arch, launched);
                let gap = rng.random_bool(0.1 + 0.3 * p.posture).then(|| {
                    let from = self.end - days(rng.random_range(0..self.days + 10));
                    (from, from + days(rng.random_range(3..40)))
                });
                let gap_patches = match gap {
                    Some((from, _)) => (0..rng.random_range(1..=3))
                        .map(|_| patch_title(rng, platform, from))
                        .collect(),
                    None => Vec::new(),
                };
                let ip = format!(
                    "10.{}.{}.{}",
                    rng.random_range(0..64),
                    rng.random_range(0..255),
                    rng.random_range(4..255)
                );
                let weekdays = [Weekday::Tuesday, Weekday::Wednesday, Weekday::Saturday];
                Host {
                    name: format!("{}-{}-{:02}", self.name, pick(rng, &roles), i + 1),
                    platform,
                    instance_type,
                    hourly,
                    ip,
                    az: rng.random_range(0..azs),
                    vpc: rng.random_range(0..vpcs),
                    launched,
                    stopped: rng.random_bool(0.08),
                    apps,
                    gap,
                    gap_patches,
                    patch_day: *pick(rng, &weekdays),
                    old_agent: rng.random_bool(0.25),
                    id,
                }
            })
            .collect()
    }

    /// A root volume per instance, and a few forgotten unattached ones.
    fn volumes(&self, rng: &mut impl Rng, hosts: &[Host], azs: usize) -> Vec<Volume> {
        let mut volumes: Vec<Volume> = hosts
            .iter()
            .map(|h| Volume {
                id: format!("vol-{}", hex(rng, 17)),
                az: h.az,
                size: if h.platform.windows {
                    100
                } else {
                    *pick(rng, &[8, 20, 30, 50, 100])
                },
                kind: if rng.random_bool(0.75) { "gp3" } else { "gp2" },
                attached: true,
                created: h.launched,
            })
            .collect();
        for _ in 0..rng.random_range(0..=2) {
            volumes.push(Volume {
                id: format!("vol-{}", hex(rng, 17)),
                az: rng.random_range(0..azs),
                size: *pick(rng, &[100, 200, 500]),
                kind: "gp2",
                attached: false,
                created: self.end - days(rng.random_range(100..700)),
            });
        }
        volumes
    }

    fn databases(&self, rng: &mut impl Rng, azs: usize) -> Vec<Database> {
        let p = self.p;
        let n = match (p.kind, p.prod) {
            (Kind::Workload, true) => rng.random_range(1..=2),
            (Kind::Workload, false) => rng.random_range(0..=1),
            _ => 0,
        };
        let classes: &[&str] = if p.prod {
            &["db.r6g.large", "db.r6g.xlarge", "db.m6g.large"]
        } else {
            &["db.t4g.micro", "db.t4g.medium"]
        };
        (0..n)
            .map(|i| {
                let engine = *pick(rng, &["postgres", "mysql", "aurora-postgresql"]);
                let short = engine.trim_start_matches("aurora-");
                let class = *pick(rng, classes);
                Database {
                    id: format!("{}-{short}-{}", self.name, i + 1),
                    engine,
                    class,
                    az: rng.random_range(0..azs),
                }
            })
            .collect()
    }

    fn load_balancers(&self, rng: &mut impl Rng) -> Vec<LoadBalancer> {
        let p = self.p;
        let n = match (p.kind, p.prod) {
            (Kind::Workload, true) => rng.random_range(1..=2),
            (Kind::Workload, false) => rng.random_range(0..=1),
            _ => 0,
        };
        (0..n)
            .map(|i| {
                let name = match i {
                    0 => format!("{}-alb", self.name),
                    _ => format!("{}-internal-alb", self.name),
                };
                let public = i == 0 && p.category != "Intranet";
                LoadBalancer {
                    arn: self.arn(
                        "elasticloadbalancing",
                        &format!("loadbalancer/app/{name}/{}", hex(rng, 16)),
                    ),
                    scheme: if public {
                        "internet-facing"
                    } else {
                        "internal"
                    },
                    name,
                    created: self.end - days(rng.random_range(100..900)),
                }
            })
            .collect()
    }

    fn asgs(&self, rng: &mut impl Rng) -> Vec<Asg> {
        let n = if self.p.kind == Kind::Workload {
            rng.random_range(0..=2)
        } else {
            0
        };
        (0..n)
            .map(|i| Asg {
                name: format!("{}-{}-asg", self.name, ["web", "worker"][i]),
                min: if self.p.prod { 2 } else { 1 },
                max: if self.p.prod {
                    rng.random_range(6..=12)
                } else {
                    3
                },
                created: self.end - days(rng.random_range(100..900)),
            })
            .collect()
    }

    fn functions(&self, rng: &mut impl Rng) -> Vec<Function> {
        let mut names = vec![
            "api-handler",
            "image-resize",
            "order-events",
            "nightly-report",
            "slack-notifier",
            "cost-exporter",
            "log-shipper",
            "authorizer",
            "s3-indexer",
        ];
        names.shuffle(rng);
        // Repeats weigh the common runtimes; the last two are deprecated.
        let runtimes = [
            "python3.12",
            "python3.12",
            "python3.13",
            "nodejs20.x",
            "nodejs20.x",
            "nodejs22.x",
            "java21",
            "python3.9",
            "nodejs16.x",
        ];
        names
            .into_iter()
            .take(rng.random_range(2..=8))
            .map(|f| Function {
                name: format!("{}-{f}", self.name),
                runtime: runtimes[rng.random_range(0..runtimes.len())],
                memory: *pick(rng, &[128, 256, 512, 1024, 2048]),
                arch: if rng.random_bool(0.3) {
                    "arm64"
                } else {
                    "x86_64"
                },
                package: if rng.random_bool(0.15) {
                    "Image"
                } else {
                    "Zip"
                },
                modified: ago(rng, self.end, 10..400),
            })
            .collect()
    }

    /// The AWS-managed EBS key, then customer keys, some never rotated.
    fn keys(&self, rng: &mut impl Rng) -> Vec<Key> {
        let p = self.p;
        let mut keys = vec![Key {
            id: uuid(rng),
            description: "Default key that protects my EBS volumes when no other key is defined"
                .to_owned(),
            state: "Enabled",
            created: during(rng, p.created + days(1)),
            rotation_from: Some(p.created),
        }];
        let uses = [
            "application data",
            "RDS storage",
            "S3 bucket",
            "Secrets Manager",
            "CloudTrail logs",
            "EBS volumes",
        ];
        for usage in uses.iter().take(rng.random_range(1..=5)) {
            let created = self.end - days(rng.random_range(60..900));
            let rotated = rng.random_bool(0.75 - 0.45 * p.posture);
            // Some unrotated keys get fixed during the generated days.
            let rotation_from = if rotated {
                Some(created)
            } else if rng.random_bool(0.3) {
                Some(self.end - days(rng.random_range(1..=self.days)))
            } else {
                None
            };
            let state = match rng.random::<f64>() {
                x if x < 0.08 => "PendingDeletion",
                x if x < 0.12 => "Disabled",
                _ => "Enabled",
            };
            keys.push(Key {
                id: uuid(rng),
                description: format!("{} {usage} key", self.name),
                state,
                created: during(rng, created),
                rotation_from,
            });
        }
        keys
    }

    fn secrets(&self, rng: &mut impl Rng, kms_key: &str) -> Vec<SecretDef> {
        let env = self.p.account.environment.to_ascii_lowercase();
        let names = [
            "app/db-password",
            "ci/github-token",
            "app/api-key",
            "app/stripe-key",
            "app/jwt-signing-key",
            "ops/pagerduty-token",
        ];
        names
            .iter()
            .take(rng.random_range(1..=5))
            .map(|s| {
                let name = format!("{env}/{s}");
                let what = s.replace(['/', '-'], " ");
                SecretDef {
                    arn: self.arn("secretsmanager", &format!("secret:{name}-{}", hex(rng, 6))),
                    name,
                    description: rng
                        .random_bool(0.6)
                        .then(|| format!("{what} for {}", self.name)),
                    created: ago(rng, self.end, 100..800),
                    // Database passwords always rotate; other secrets rarely do.
                    rotation: s.contains("db-password") || rng.random_bool(0.3),
                    used: rng.random_bool(0.8),
                    kms_key: rng.random_bool(0.5).then(|| kms_key.to_owned()),
                    tagged: rng.random_bool(0.6),
                }
            })
            .collect()
    }

    /// ACM certificates, plus the imported ones that lapse (in the first region only, so that
    /// an account shows them once).
    fn certs(&self, rng: &mut impl Rng, first_region: bool) -> Vec<Cert> {
        let domain = format!("{}.example-corp.com", self.name.replace("-prod", ""));
        let mut certs: Vec<Cert> = ["", "api.", "www."]
            .iter()
            .take(rng.random_range(1..=3))
            .map(|host| Cert {
                arn: self.arn("acm", &format!("certificate/{}", uuid(rng))),
                domain: format!("{host}{domain}"),
                requested: ago(rng, self.end, 30..1200),
                imported_expiry: None,
            })
            .collect();
        let lapsing = [
            (self.p.expiring_cert, rng.random_range(3..=28)),
            (self.p.expired_cert, -rng.random_range(5..=40)),
        ];
        for (wanted, offset) in lapsing {
            if wanted && first_region {
                let not_after = at(self.end + days(offset), rng.random_range(0..86_400));
                certs.push(Cert {
                    arn: self.arn("acm", &format!("certificate/{}", uuid(rng))),
                    domain: format!("legacy.{domain}"),
                    requested: Timestamp::new(not_after.get() - days(360)),
                    imported_expiry: Some(not_after),
                });
            }
        }
        certs
    }

    fn resilience_apps(&self, rng: &mut impl Rng) -> Vec<(String, String)> {
        let product = self.p.account.product.split(',').next().unwrap_or("app");
        let product = product.trim().to_ascii_lowercase().replace(' ', "-");
        (0..rng.random_range(1..=2))
            .map(|i| {
                let app = if i == 0 {
                    product.clone()
                } else {
                    format!("{product}-batch")
                };
                (
                    self.arn("resiliencehub", &format!("app/{}", uuid(rng))),
                    app,
                )
            })
            .collect()
    }
}

/// An account's global resources: listed account-wide, so the same in every region's file.
struct Global {
    buckets: Vec<Bucket>,
    savings_plan: Option<SavingsPlan>,
    marketplace: Option<MarketplaceProduct>,
}

impl Global {
    fn new(org: &Org, account: usize) -> Self {
        let p = &org.profiles[account];
        let end = org.opts.end_date;
        // A stream without the region, so that every region derives the same resources.
        let mut rng = org.rng("world-global", account, None, None);
        let purposes: &[&str] = match p.kind {
            Kind::Security => &[
                "org-cloudtrail-logs",
                "org-config-logs",
                "security-findings",
                "athena-results",
                "access-logs",
            ],
            _ => &[
                "artifacts",
                "logs",
                "backups",
                "static-assets",
                "data",
                "terraform-state",
                "athena-results",
            ],
        };
        let buckets = purposes
            .iter()
            .take(rng.random_range(3..=purposes.len()))
            .map(|purpose| {
                let created = p.created + days(rng.random_range(1..150));
                Bucket {
                    name: format!("{}-{purpose}-{}", p.account.name, p.account.id),
                    created: during(&mut rng, created),
                }
            })
            .collect();
        let savings_plan = (p.prod && rng.random_bool(0.35)).then(|| SavingsPlan {
            id: uuid(&mut rng),
            offering: uuid(&mut rng),
            // Commits to a fifth to two fifths of the account's spend.
            hourly: round(p.base_cost / 24.0 * rng.random_range(0.2..0.4), 3),
            plan_type: if rng.random_bool(0.7) {
                "Compute"
            } else {
                "EC2Instance"
            },
            payment: if rng.random_bool(0.6) {
                "No Upfront"
            } else {
                "Partial Upfront"
            },
            start: ago(&mut rng, end, 30..700),
            years: if rng.random_bool(0.5) { 1 } else { 3 },
        });
        let products = [
            ("Datadog Pro", 4.0),
            ("CrowdStrike Falcon", 6.0),
            ("Splunk Cloud Platform", 12.0),
            ("Trend Micro Cloud One", 3.0),
        ];
        let marketplace = rng.random_bool(0.2).then(|| {
            let (name, daily) = *pick(&mut rng, &products);
            MarketplaceProduct {
                code: hex(&mut rng, 25),
                name,
                daily: daily * rng.random_range(0.5..2.0),
            }
        });
        Global {
            buckets,
            savings_plan,
            marketplace,
        }
    }
}

fn host_apps(
    rng: &mut impl Rng,
    platform: &Platform,
    instance_id: &str,
    arch: &str,
    launched: Date,
) -> Vec<Application> {
    let agent = if platform.windows {
        "Amazon SSM Agent"
    } else {
        "amazon-ssm-agent"
    };
    let catalog: &[(&str, &str, &str)] = if platform.windows {
        &WINDOWS_APPS
    } else {
        &LINUX_APPS
    };
    let mut pool: Vec<&(&str, &str, &str)> = catalog.iter().collect();
    pool.shuffle(rng);
    let extra = rng.random_range(2..=6);
    let mut apps = vec![(
        agent,
        "Amazon.com",
        if platform.windows {
            ""
        } else {
            "System Environment/Daemons"
        },
    )];
    apps.extend(pool.into_iter().take(extra).copied());
    apps.into_iter()
        .map(|(name, publisher, application_type)| Application {
            instance_id: Some(instance_id.to_owned()),
            name: Some(name.to_owned()),
            version: Some(format!(
                "{}.{}.{}",
                rng.random_range(1..20),
                rng.random_range(0..12),
                rng.random_range(0..40)
            )),
            publisher: Some(publisher.to_owned()),
            architecture: Some(if platform.windows { "x86_64" } else { arch }.to_owned()),
            application_type: Some(application_type.to_owned()),
            install_time: Some(during(rng, launched)),
        })
        .collect()
}

fn patch_title(rng: &mut impl Rng, platform: &Platform, day: Date) -> (String, &'static str) {
    if platform.windows {
        let kb = rng.random_range(5_030_000..5_050_000);
        let (year, month) = (day.year(), u8::from(day.month()));
        let os = "Microsoft server operating system version 21H2 for x64-based Systems";
        let title = format!("{year}-{month:02} Cumulative Update for {os} (KB{kb})");
        (title, "SecurityUpdates")
    } else {
        let pkg = pick(
            rng,
            &[
                "kernel",
                "openssl-libs",
                "glibc",
                "openssh-server",
                "curl",
                "sudo",
                "libxml2",
                "python3",
                "systemd",
                "expat",
            ],
        );
        let suffix = if platform.name == "Ubuntu" {
            "ubuntu0.22.04.1"
        } else {
            "amzn2023"
        };
        (
            format!(
                "{pkg}-{}.{}.{}-{}.{suffix}",
                rng.random_range(1..7),
                rng.random_range(0..20),
                rng.random_range(0..200),
                rng.random_range(1..30)
            ),
            "Security",
        )
    }
}

struct RuleTemplate {
    name: &'static str,
    statement: &'static str,
    capacity: i64,
    action: &'static str,
}

const WAF_RULES: [RuleTemplate; 14] = [
    RuleTemplate {
        name: "AWS-AWSManagedRulesCommonRuleSet",
        statement: "ManagedRuleGroupStatement",
        capacity: 700,
        action: "",
    },
    RuleTemplate {
        name: "AWS-AWSManagedRulesKnownBadInputsRuleSet",
        statement: "ManagedRuleGroupStatement",
        capacity: 200,
        action: "",
    },
    RuleTemplate {
        name: "AWS-AWSManagedRulesSQLiRuleSet",
        statement: "ManagedRuleGroupStatement",
        capacity: 200,
        action: "",
    },
    RuleTemplate {
        name: "AWS-AWSManagedRulesAmazonIpReputationList",
        statement: "ManagedRuleGroupStatement",
        capacity: 25,
        action: "",
    },
    RuleTemplate {
        name: "AWS-AWSManagedRulesBotControlRuleSet",
        statement: "ManagedRuleGroupStatement",
        capacity: 50,
        action: "",
    },
    RuleTemplate {
        name: "F5-OWASP_Managed",
        statement: "ManagedRuleGroupStatement",
        capacity: 1000,
        action: "",
    },
    RuleTemplate {
        name: "RateLimit-2000",
        statement: "RateBasedStatement",
        capacity: 2,
        action: "Block",
    },
    RuleTemplate {
        name: "GeoBlock-HighRisk",
        statement: "GeoMatchStatement",
        capacity: 1,
        action: "Block",
    },
    RuleTemplate {
        name: "AllowOfficeIPs",
        statement: "IPSetReferenceStatement",
        capacity: 1,
        action: "Allow",
    },
    RuleTemplate {
        name: "XssBodyInspection",
        statement: "XssMatchStatement",
        capacity: 40,
        action: "Block",
    },
    RuleTemplate {
        name: "SqliQueryString",
        statement: "SqliMatchStatement",
        capacity: 20,
        action: "Block",
    },
    RuleTemplate {
        name: "BlockAdminPath",
        statement: "ByteMatchStatement",
        capacity: 9,
        action: "Block",
    },
    RuleTemplate {
        name: "RequireApiKeyHeader",
        statement: "ByteMatchStatement",
        capacity: 9,
        action: "Block",
    },
    RuleTemplate {
        name: "BlockBadUserAgents",
        statement: "RegexPatternSetReferenceStatement",
        capacity: 25,
        action: "Count",
    },
];

fn acl(rng: &mut impl Rng, name: String, scope: &'static str, end: Date) -> AclDef {
    let mut rules: Vec<&'static RuleTemplate> = vec![&WAF_RULES[0]];
    let mut managed: Vec<&'static RuleTemplate> = WAF_RULES[1..6].iter().collect();
    managed.shuffle(rng);
    rules.extend(managed.into_iter().take(rng.random_range(1..=3)));
    if rng.random_bool(0.7) {
        rules.push(&WAF_RULES[6]);
    }
    let mut custom: Vec<&'static RuleTemplate> = WAF_RULES[7..].iter().collect();
    custom.shuffle(rng);
    rules.extend(custom.into_iter().take(rng.random_range(0..=3)));
    let mut countries = vec!["KP", "IR", "RU", "CU", "SY", "BY"];
    countries.shuffle(rng);
    countries.truncate(rng.random_range(2..=5));
    let created = end - days(rng.random_range(120..900));
    let modified = created + days(rng.random_range(0..100));
    AclDef {
        id: uuid(rng),
        scope,
        logging: rng.random_bool(0.7),
        blocked: if rules.iter().any(|r| r.statement == "GeoMatchStatement") {
            countries
        } else {
            Vec::new()
        },
        created: during(rng, created),
        modified: during(rng, modified),
        rules,
        name,
    }
}

#[derive(Clone, Copy)]
enum Target {
    Buckets,
    Volumes,
    SecurityGroups,
    Account,
    Instances,
    Databases,
    Vpcs,
    Functions,
    Users,
    Keys,
}

/// (rule, what it evaluates, resource type, annotation)
const CONFIG_RULES: [(&str, Target, &str, Option<&str>); 18] = [
    (
        "s3-bucket-public-read-prohibited",
        Target::Buckets,
        "AWS::S3::Bucket",
        None,
    ),
    (
        "encrypted-volumes",
        Target::Volumes,
        "AWS::EC2::Volume",
        None,
    ),
    (
        "restricted-ssh",
        Target::SecurityGroups,
        "AWS::EC2::SecurityGroup",
        None,
    ),
    (
        "iam-password-policy",
        Target::Account,
        "AWS::::Account",
        Some("The password policy does not require a minimum length of 14 characters."),
    ),
    (
        "s3-bucket-ssl-requests-only",
        Target::Buckets,
        "AWS::S3::Bucket",
        None,
    ),
    (
        "s3-bucket-logging-enabled",
        Target::Buckets,
        "AWS::S3::Bucket",
        None,
    ),
    (
        "vpc-sg-open-only-to-authorized-ports",
        Target::SecurityGroups,
        "AWS::EC2::SecurityGroup",
        None,
    ),
    (
        "root-account-mfa-enabled",
        Target::Account,
        "AWS::::Account",
        None,
    ),
    (
        "cloudtrail-enabled",
        Target::Account,
        "AWS::::Account",
        None,
    ),
    (
        "ec2-instance-managed-by-systems-manager",
        Target::Instances,
        "AWS::EC2::Instance",
        None,
    ),
    (
        "ec2-imdsv2-check",
        Target::Instances,
        "AWS::EC2::Instance",
        Some("HttpTokens is set to optional."),
    ),
    (
        "rds-storage-encrypted",
        Target::Databases,
        "AWS::RDS::DBInstance",
        None,
    ),
    (
        "rds-instance-public-access-check",
        Target::Databases,
        "AWS::RDS::DBInstance",
        None,
    ),
    ("vpc-flow-logs-enabled", Target::Vpcs, "AWS::EC2::VPC", None),
    (
        "lambda-function-public-access-prohibited",
        Target::Functions,
        "AWS::Lambda::Function",
        None,
    ),
    (
        "access-keys-rotated",
        Target::Users,
        "AWS::IAM::User",
        Some("Access key is older than 90 days."),
    ),
    (
        "iam-user-mfa-enabled",
        Target::Users,
        "AWS::IAM::User",
        None,
    ),
    (
        "cmk-backing-key-rotation-enabled",
        Target::Keys,
        "AWS::KMS::Key",
        None,
    ),
];

fn config_rules(
    rng: &mut impl Rng,
    p: &Profile,
    candidates: impl Fn(Target) -> Vec<String>,
) -> Vec<ConfigRule> {
    let want = rng.random_range(8..=14);
    let pack = if rng.random_bool(0.5) {
        "Operational-Best-Practices-for-CIS-AWS-v1.4-Level1"
    } else {
        "Standalone"
    };
    // The first four are always deployed; the rest are optional.
    let mut order: Vec<usize> = (4..CONFIG_RULES.len()).collect();
    order.shuffle(rng);
    (0..4)
        .chain(order)
        .filter_map(|i| {
            let (name, target, resource_type, annotation) = CONFIG_RULES[i];
            let mut list = candidates(target);
            list.shuffle(rng);
            let evaluable = matches!(target, Target::Buckets) || !list.is_empty();
            evaluable.then(|| ConfigRule {
                name,
                resource_type,
                annotation,
                pack: if rng.random_bool(0.6) {
                    pack
                } else {
                    "Standalone"
                },
                candidates: list,
                level: rng.random_range(-3.5..1.0) + 1.5 * p.posture,
                trend: rng.random_range(-0.8..0.8),
            })
        })
        .take(want)
        .collect()
}

// =============================================================================================
// The document
// =============================================================================================

/// A collector failure injected into one account-day.
struct Failure {
    category: Category,
    key: &'static str,
    text: String,
}

const FORECAST_UNAVAILABLE: &str = "An error occurred (DataUnavailableException) when calling \
    the GetCostForecast operation: Insufficient amount of historical data to generate forecast.";

/// (category, message key, error text with {account} and {region} placeholders)
#[rustfmt::skip]
const FAILURES: [(Category, &str, &str); 16] = [
    (Category::Security, "guard_duty", "An error occurred (AccessDeniedException) when calling the ListFindings operation: User: arn:aws:sts::{account}:assumed-role/A360-Sender-Role-{region}/A360-Sender is not authorized to perform: guardduty:ListFindings on resource: arn:aws:guardduty:{region}:{account}:detector/* because no identity-based policy allows the guardduty:ListFindings action"),
    (Category::Security, "inspector", "An error occurred (AccessDeniedException) when calling the ListFindings operation: Amazon Inspector is not enabled for account {account} in {region}."),
    (Category::Security, "kms", "An error occurred (ThrottlingException) when calling the GetKeyRotationStatus operation (reached max retries: 2): Rate exceeded"),
    (Category::Security, "security_hub", "An error occurred (InvalidAccessException) when calling the GetFindings operation: Account {account} is not subscribed to AWS Security Hub"),
    (Category::Security, "waf", "An error occurred (WAFInternalErrorException) when calling the ListWebACLs operation (reached max retries: 2): AWS WAF couldn't perform the operation because of a system problem. Retry your request."),
    (Category::Config, "config", "An error occurred (ThrottlingException) when calling the DescribeComplianceByConfigRule operation (reached max retries: 2): Rate exceeded"),
    (Category::Inventory, "inventory", "An error occurred (ThrottlingException) when calling the DescribeInstanceInformation operation (reached max retries: 2): Rate exceeded"),
    (Category::Cost, "cost_analysis", "An error occurred (LimitExceededException) when calling the GetCostAndUsage operation: Rate exceeded"),
    (Category::Service, "services_data", "An error occurred (DataUnavailableException) when calling the GetCostAndUsage operation: Data is not available. Please try to adjust the time period."),
    (Category::TrustedAdvisor, "trusted_advisor", "An error occurred (ThrottlingException) when calling the DescribeTrustedAdvisorCheckResult operation (reached max retries: 2): Rate exceeded"),
    (Category::Health, "health", "An error occurred (ThrottlingException) when calling the DescribeEvents operation (reached max retries: 2): Rate exceeded"),
    (Category::ComputeOptimizer, "compute_optimizer", "An error occurred (OptInRequiredException) when calling the GetEC2InstanceRecommendations operation: The account {account} is not opted in to AWS Compute Optimizer."),
    (Category::ServiceResources, "service_resources", "An error occurred (UnauthorizedOperation) when calling the DescribeVolumes operation: You are not authorized to perform this operation. User: arn:aws:sts::{account}:assumed-role/A360-Sender-Role-{region}/A360-Sender is not authorized to perform: ec2:DescribeVolumes"),
    (Category::ResilienceHub, "resilience_hub", "An error occurred (AccessDeniedException) when calling the ListApps operation: User is not authorized to perform: resiliencehub:ListApps"),
    (Category::RiSpSavings, "ri_sp_savings", "Error getting Savings Plans - An error occurred (AccessDeniedException) when calling the DescribeSavingsPlans operation: User: arn:aws:sts::{account}:assumed-role/A360-Sender-Role-{region}/A360-Sender is not authorized to perform: savingsplans:DescribeSavingsPlans"),
    (Category::SupportTickets, "support_tickets", "An error occurred (SubscriptionRequiredException) when calling the DescribeCases operation: AWS Premium Support Subscription is required to use this service."),
];

impl Ctx<'_> {
    fn rng(&self, purpose: &str, region: bool, day: Option<Date>) -> ChaCha8Rng {
        self.org
            .rng(purpose, self.p.index, region.then_some(&self.w.region), day)
    }

    fn account_id(&self) -> String {
        self.p.account.id.to_string()
    }

    /// An ARN in this file's account and region.
    fn arn(&self, service: &str, resource: &str) -> String {
        arn(
            service,
            self.w.region.as_str(),
            self.p.account.id.as_str(),
            resource,
        )
    }

    fn region(&self) -> String {
        self.w.region.to_string()
    }

    /// Whether something created at `t` exists in this file's "current state".
    fn exists(&self, t: Timestamp) -> bool {
        t.get().date() <= self.asof
    }

    fn daily(&self) -> bool {
        self.granularity == Granularity::Daily
    }

    fn data_days(&self) -> impl Iterator<Item = Date> {
        day_range(self.data_from, self.data_to)
    }

    fn snapshot(&self) -> Snapshot {
        // Decided per account-day (not per region) so global categories stay identical.
        let failures = self.failures();
        let mut log = CollectionLog::default();
        for c in Category::ALL {
            let status = if failures.iter().any(|f| f.category == c) {
                CollectionStatus::Fail
            } else {
                CollectionStatus::Pass
            };
            log.statuses.insert(c, status);
        }

        let (cost, service, forecast_note) = self.cost_and_service();
        let mut snapshot = Snapshot {
            account: self.account(),
            config: Some(self.config()),
            service: Some(service),
            cost: Some(cost),
            security: Some(self.security()),
            inventory: Some(self.inventory()),
            marketplace: Some(self.marketplace()),
            trusted_advisor: Some(self.trusted_advisor()),
            health: Some(self.health()),
            application: Some(self.application_signals()),
            resilience_hub: Some(self.resilience_hub()),
            service_resources: Some(self.service_resources()),
            compute_optimizer: Some(self.compute_optimizer()),
            ri_sp_savings: Some(self.ri_sp_savings()),
            config_inventory: Some(Vec::new()),
            support_tickets: Some(self.support_tickets()),
            logs: CollectionLog::default(),
        };
        let cost_failed = failures.iter().any(|f| f.category == Category::Cost);
        if let Some(note) = forecast_note.filter(|_| !cost_failed) {
            log.messages.push(LogMessage {
                key: "Forecast unavailable".to_owned(),
                text: note,
            });
        }

        for f in failures {
            apply_failure(&mut snapshot, f.key, f.category);
            log.messages.push(LogMessage {
                key: f.key.to_owned(),
                text: f.text,
            });
        }
        snapshot.logs = log;
        snapshot
    }

    fn failures(&self) -> Vec<Failure> {
        if !self.daily() {
            return Vec::new();
        }
        let mut rng = self.rng("failures", false, Some(self.run_date));
        if !rng.random_bool(0.03) {
            return Vec::new();
        }
        let n = if rng.random_bool(0.3) { 2 } else { 1 };
        let mut picks: Vec<&(Category, &str, &str)> = FAILURES.iter().collect();
        picks.shuffle(&mut rng);
        picks
            .into_iter()
            .take(n)
            .map(|(category, key, text)| Failure {
                category: *category,
                key,
                text: text
                    .replace("{account}", &self.account_id())
                    .replace("{region}", self.w.region.as_str()),
            })
            .collect()
    }

    // ---------------------------------------------------------------------------- account

    fn account(&self) -> Account {
        let p = self.p;
        Account {
            account_name: Some(p.account.name.clone()),
            account_status: Some("ACTIVE".to_owned()),
            partner_name: p.partner.map(str::to_owned),
            customer_name: p.customer.map(str::to_owned),
            category: Some(p.category.to_owned()),
            account_type: Some(p.account.environment.clone()),
            joined_timestamp: Some(at(p.created, 37_800)),
            region: Some(self.region()),
            product: p
                .account
                .product
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect(),
            contact_info: Some(p.contact_info.clone()),
            alternate_contacts: Some(p.contacts.clone()),
            ..Account::new(p.account.id)
        }
    }

    // ---------------------------------------------------------------------------- cost

    /// The account's spend on `day`, per service (aligned with `Profile::services`).
    fn day_costs(&self, day: Date) -> Vec<f64> {
        let p = self.p;
        let mut rng = self.rng("cost", false, Some(day));
        let offset = (day - self.org.opts.end_date).whole_days() as f64;
        let growth = 1.003f64.powf(offset);
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        let season = if weekend { p.weekend_factor } else { 1.0 };
        let target = p.base_cost * growth * season * rng.random_range(0.95..1.05);
        let mut costs: Vec<f64> = p
            .services
            .iter()
            .map(|(_, share)| target * share * rng.random_range(0.85..1.15))
            .collect();
        if let Some(s) = &p.spike {
            if day >= s.start && day < s.start + days(s.len) {
                costs[s.service] += target * (s.factor - 1.0);
            }
        }
        costs.into_iter().map(money).collect()
    }

    fn sum_costs(&self, from: Date, to: Date) -> Vec<f64> {
        let mut sums = vec![0.0; self.p.services.len()];
        for day in day_range(from, to) {
            for (s, c) in sums.iter_mut().zip(self.day_costs(day)) {
                *s += c;
            }
        }
        sums.into_iter().map(money).collect()
    }

    /// The `cost` object, the `service` rows, and the forecast error of a day without forecast.
    fn cost_and_service(&self) -> (CostReport, Vec<ServiceCost>, Option<String>) {
        let p = self.p;
        let per_service = self.sum_costs(self.data_from, self.data_to);
        let mut rows: Vec<(&'static str, f64)> = p
            .services
            .iter()
            .map(|(n, _)| *n)
            .zip(per_service)
            .filter(|(_, c)| *c > 0.0)
            .collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        let current = money(rows.iter().map(|(_, c)| c).sum());
        // The previous period has the length of the labelled one, as the sender computes it.
        let span = (self.label_to - self.label_from).whole_days().max(1);
        let previous = money(
            self.sum_costs(self.label_from - days(span), self.label_from)
                .iter()
                .sum(),
        );
        let difference = money(current - previous);
        let percentage = if previous > 0.0 {
            round(difference / previous * 100.0, 6)
        } else {
            0.0
        };

        let mut rng = self.rng("forecast", false, Some(self.run_date));
        let (forecast_from, forecast_to) = if self.daily() {
            (self.run_date, first_of_next_month(self.run_date))
        } else {
            let next = first_of_next_month(self.run_date);
            (next, first_of_next_month(next))
        };
        let daily_rate = if self.daily() {
            current
        } else {
            current / (self.data_to - self.data_from).whole_days().max(1) as f64
        };
        let forecast = vec![CostForecast {
            period: Some(ForecastPeriod {
                start: Some(Day(forecast_from)),
                end: Some(Day(forecast_to)),
            }),
            amount: Some(money(
                daily_rate
                    * (forecast_to - forecast_from).whole_days() as f64
                    * rng.random_range(0.97..1.08),
            )),
        }];
        let note = (self.daily() && rng.random_bool(0.08)).then(|| FORECAST_UNAVAILABLE.to_owned());
        let granularity = self.granularity.as_str().to_owned();
        let service = rows
            .iter()
            .map(|(name, cost)| ServiceCost {
                service: Some((*name).to_owned()),
                usage_types: Some("Aggregated".to_owned()),
                date_from: Some(Day(self.label_from)),
                date_to: Some(Day(self.label_to)),
                cost: Some(*cost),
                currency: Some("USD".to_owned()),
                utilization: None,
                utilization_unit: None,
            })
            .collect();
        let cost = CostReport {
            account_id: Some(self.account_id()),
            current_period_cost: Some(current),
            previous_period_cost: Some(previous),
            cost_difference: Some(difference),
            cost_difference_percentage: Some(percentage),
            top_services: rows
                .iter()
                .take(5)
                .map(|(n, c)| TopService {
                    service: Some((*n).to_owned()),
                    cost: Some(*c),
                })
                .collect(),
            period: Some(CostPeriod {
                start: Some(Day(self.label_from)),
                end: Some(Day(self.label_to)),
                granularity: Some(granularity),
            }),
            // GetCostForecast failed: no bucket, and an entry in the log instead.
            forecast: if note.is_some() { Vec::new() } else { forecast },
        };
        (cost, service, note)
    }

    // ---------------------------------------------------------------------------- config

    fn config(&self) -> ConfigReport {
        // The sender keeps evaluations recorded on the window's first day, even for a month.
        let day = self.label_from;
        let x = (day - self.org.opts.end_date).whole_days() as f64 / 30.0;
        let mut rows = Vec::new();
        let (mut compliant, mut non_compliant, mut curr_compliant) = (0u32, 0u32, 0u32);
        for rule in &self.w.rules {
            let mut rng = self
                .org
                .rng(rule.name, self.p.index, Some(&self.w.region), Some(day));
            let noise = match rng.random::<f64>() {
                v if v < 0.07 => -1.0,
                v if v > 0.93 => 1.0,
                _ => 0.0,
            };
            let failing = (rule.level + rule.trend * x + noise)
                .round()
                .clamp(0.0, rule.candidates.len() as f64) as usize;
            if failing > 0 {
                non_compliant += 1;
                for resource in &rule.candidates[..failing] {
                    rows.push(rule.evaluation(resource, false, during(&mut rng, day)));
                }
            } else {
                compliant += 1;
                // Despite its name, the list also carries some COMPLIANT evaluations.
                if let (Some(first), true) = (rule.candidates.first(), rng.random_bool(0.5)) {
                    curr_compliant += 1;
                    rows.push(rule.evaluation(first, true, during(&mut rng, day)));
                }
            }
        }
        let total = compliant + non_compliant;
        ConfigReport {
            date_from: Some(Day(self.label_from)),
            date_to: Some(Day(self.label_to)),
            compliance_score: Some(if total > 0 {
                round(f64::from(compliant) / f64::from(total) * 100.0, 2)
            } else {
                0.0
            }),
            total_rules: Some(i64::from(total)),
            compliant_rules: Some(i64::from(compliant)),
            non_compliant_rules: Some(i64::from(non_compliant)),
            curr_non_compliant: Some(i64::from(non_compliant)),
            curr_compliant: Some(i64::from(curr_compliant)),
            non_compliant_resources: rows,
        }
    }

    // ---------------------------------------------------------------------------- security

    fn security(&self) -> Security {
        let findings = self.findings_in_window();
        let mut security_hub = Vec::new();
        for product in [Product::SecurityHub, Product::Inspector, Product::GuardDuty] {
            let list: Vec<SecurityHubFinding> = findings
                .iter()
                .filter(|(f, _)| f.product == product)
                .map(|(f, resolved)| self.hub_finding(f, *resolved))
                .collect();
            if !list.is_empty() {
                security_hub.push(summarise(product.name(), list));
            }
        }
        let guard_duty = findings
            .iter()
            .filter(|(f, _)| f.product == Product::GuardDuty)
            .map(|(f, resolved)| GuardDutyFinding {
                id: Some(f.native_id.clone()),
                finding_type: Some(f.title.clone()),
                severity: Some(f.score),
                title: Some(f.description.clone()),
                description: Some(f.description.clone()),
                created_at: Some(f.created),
                updated_at: Some(f.updated(*resolved)),
                confidence: Some(f.confidence),
                region: Some(self.region()),
            })
            .collect();
        let inspector = findings
            .iter()
            .filter(|(f, _)| f.product == Product::Inspector)
            .map(|(f, resolved)| InspectorFinding {
                finding_arn: Some(f.id.clone()),
                severity: Some(f.severity.to_owned()),
                status: Some(if *resolved { "CLOSED" } else { "ACTIVE" }.to_owned()),
                finding_type: Some(f.finding_type.to_owned()),
                title: Some(f.title.clone()),
                description: Some(f.description.clone()),
                first_observed_at: Some(f.created),
                last_observed_at: Some(f.updated(*resolved)),
                updated_at: Some(f.updated(*resolved)),
            })
            .collect();
        let (waf, waf_rules) = self.waf();
        Security {
            security_hub,
            guard_duty,
            kms: self.kms(),
            waf,
            waf_rules,
            cloudtrail: self.cloudtrail(),
            secrets_manager: self.secrets(),
            certificate_manager: self.certificates(),
            inspector,
        }
    }

    /// Findings created in the window (as NEW) or resolved in it (as RESOLVED, with the same
    /// id): the sender's two GetFindings queries, deduplicated by id.
    fn findings_in_window(&self) -> Vec<(Finding, bool)> {
        let mut out = Vec::new();
        for day in day_range(self.data_from - days(MAX_OPEN_DAYS), self.data_to) {
            for f in self.findings_created_on(day) {
                let resolved_here = f
                    .resolved
                    .is_some_and(|(d, _)| d >= self.data_from && d < self.data_to);
                if resolved_here {
                    out.push((f, true));
                } else if day >= self.data_from {
                    out.push((f, false));
                }
            }
        }
        out
    }

    /// The findings first seen on `day`, with when (if ever) they get resolved.
    fn findings_created_on(&self, day: Date) -> Vec<Finding> {
        let p = self.p;
        let mut rng = self.rng("findings", true, Some(day));
        let mean = if p.prod { 1.0 } else { 0.5 } * (0.5 + p.posture);
        let n = count_around(&mut rng, mean, 6);
        let instances: Vec<&Host> = self.w.hosts_on(day).collect();
        (0..n)
            .map(|_| {
                let created = during(&mut rng, day);
                let roll = rng.random::<f64>();
                let mut f = if roll < 0.6 || instances.is_empty() {
                    self.control_finding(&mut rng, created)
                } else {
                    let host = pick(&mut rng, &instances);
                    if roll < 0.85 {
                        self.inspector_finding(&mut rng, created, host)
                    } else {
                        self.guardduty_finding(&mut rng, created, host)
                    }
                };
                if rng.random_bool(0.75) {
                    let d = day + days(rng.random_range(1..=MAX_OPEN_DAYS));
                    f.resolved = Some((d, during(&mut rng, d)));
                }
                f
            })
            .collect()
    }

    fn control_finding(&self, rng: &mut impl Rng, created: Timestamp) -> Finding {
        let (control, title, severity, target) = pick_weighted(rng, &CONTROLS);
        // A passed control check is reported at INFORMATIONAL.
        let passed = rng.random_bool(0.1);
        let (resource_type, resource_id) = self.resource_for(rng, *target);
        let resource = format!("security-control/{control}/finding/{}", uuid(rng));
        Finding {
            product: Product::SecurityHub,
            id: self.arn("securityhub", &resource),
            native_id: String::new(),
            title: (*title).to_owned(),
            description: format!("This control checks whether {}.", title.to_lowercase()),
            severity: if passed { "INFORMATIONAL" } else { severity },
            finding_type: CONTROL_TYPE,
            score: 0.0,
            confidence: 0.0,
            resource_type,
            resource_id,
            generator_id: format!("security-control/{control}"),
            compliance: Some(if passed { "PASSED" } else { "FAILED" }),
            created,
            resolved: None,
        }
    }

    fn inspector_finding(&self, rng: &mut impl Rng, created: Timestamp, host: &Host) -> Finding {
        let (title, severity, description) = pick(rng, &CVES);
        let network = title.starts_with("Port");
        Finding {
            product: Product::Inspector,
            id: self.arn("inspector2", &format!("finding/{}", hex(rng, 32))),
            native_id: String::new(),
            title: (*title).to_owned(),
            description: (*description).to_owned(),
            severity,
            finding_type: if network {
                "NETWORK_REACHABILITY"
            } else {
                "PACKAGE_VULNERABILITY"
            },
            score: 0.0,
            confidence: 0.0,
            resource_type: "AwsEc2Instance",
            resource_id: self.arn("ec2", &format!("instance/{}", host.id)),
            generator_id: "AWSInspector".to_owned(),
            compliance: None,
            created,
            resolved: None,
        }
    }

    fn guardduty_finding(&self, rng: &mut impl Rng, created: Timestamp, host: &Host) -> Finding {
        let (kind, severity, score, text) = pick(rng, &GUARDDUTY_TYPES);
        let native_id = hex(rng, 32);
        let detector = self.arn("guardduty", &format!("detector/{}", self.w.detector));
        let text = text.replace("{instance}", &host.id);
        Finding {
            product: Product::GuardDuty,
            id: format!("{detector}/finding/{native_id}"),
            native_id,
            title: (*kind).to_owned(),
            description: text,
            severity,
            finding_type: "TTPs",
            score: round(score + rng.random_range(0.0..0.9), 1),
            confidence: round(rng.random_range(5.0..10.0), 1),
            resource_type: "AwsEc2Instance",
            resource_id: self.arn("ec2", &format!("instance/{}", host.id)),
            generator_id: detector,
            compliance: None,
            created,
            resolved: None,
        }
    }

    /// A resource of the world for a Security Hub control (the account when there is none).
    fn resource_for(&self, rng: &mut impl Rng, target: Target) -> (&'static str, String) {
        let w = self.w;
        let choice = match target {
            Target::Buckets if !w.global.buckets.is_empty() => {
                let b = pick(rng, &w.global.buckets);
                Some(("AwsS3Bucket", format!("arn:aws:s3:::{}", b.name)))
            }
            Target::SecurityGroups | Target::Vpcs => {
                let sg = pick(rng, &w.security_groups);
                Some((
                    "AwsEc2SecurityGroup",
                    self.arn("ec2", &format!("security-group/{sg}")),
                ))
            }
            Target::Instances | Target::Volumes => {
                let h = pick(rng, &w.hosts);
                Some((
                    "AwsEc2Instance",
                    self.arn("ec2", &format!("instance/{}", h.id)),
                ))
            }
            Target::Databases if !w.databases.is_empty() => {
                let d = pick(rng, &w.databases);
                Some(("AwsRdsDbInstance", self.arn("rds", &format!("db:{}", d.id))))
            }
            Target::Functions => {
                let f = pick(rng, &w.functions);
                Some((
                    "AwsLambdaFunction",
                    self.arn("lambda", &format!("function:{}", f.name)),
                ))
            }
            Target::Users => Some(("AwsIamUser", pick(rng, &w.iam_users).clone())),
            Target::Keys => {
                let k = pick(rng, &w.keys);
                Some(("AwsKmsKey", self.arn("kms", &format!("key/{}", k.id))))
            }
            _ => None,
        };
        choice.unwrap_or_else(|| {
            (
                "AwsAccount",
                format!("AWS::::Account:{}", self.account_id()),
            )
        })
    }

    fn hub_finding(&self, f: &Finding, resolved: bool) -> SecurityHubFinding {
        let status = if resolved { "RESOLVED" } else { "NEW" };
        let (company, slug, recommendation) = match f.product {
            Product::SecurityHub => ("AWS", "securityhub", CONTROL_RECOMMENDATION),
            Product::Inspector => ("Amazon", "inspector", INSPECTOR_RECOMMENDATION),
            Product::GuardDuty => (
                "Amazon",
                "guardduty",
                "Isolate the instance and investigate.",
            ),
        };
        // Closed Inspector and GuardDuty findings are archived; controls stay active, PASSED.
        let archived = resolved && f.product != Product::SecurityHub;
        SecurityHubFinding {
            finding_id: Some(f.id.clone()),
            service: Some(f.resource_type.to_owned()),
            title: Some(f.title.clone()),
            description: Some(f.description.clone()),
            severity: Some(f.severity.to_owned()),
            status: Some(status.to_owned()),
            resource_type: Some(f.resource_type.to_owned()),
            resource_id: Some(f.resource_id.clone()),
            created_at: Some(f.created),
            updated_at: Some(f.updated(resolved)),
            recommendation: Some(recommendation.to_owned()),
            compliance_status: f
                .compliance
                .map(|c| if resolved { "PASSED" } else { c }.to_owned()),
            region: Some(self.region()),
            workflow_state: Some(status.to_owned()),
            record_state: Some(if archived { "ARCHIVED" } else { "ACTIVE" }.to_owned()),
            product_name: Some(f.product.name().to_owned()),
            company_name: Some(company.to_owned()),
            product_arn: Some(arn(
                "securityhub",
                self.w.region.as_str(),
                "",
                &format!("product/aws/{slug}"),
            )),
            generator_id: Some(f.generator_id.clone()),
            generator: Some(f.product.name().to_owned()),
        }
    }

    fn kms(&self) -> Vec<KmsKey> {
        let (region, acct) = (self.region(), self.account_id());
        self.w
            .keys
            .iter()
            .filter(|k| self.exists(k.created))
            .map(|k| KmsKey {
                key_id: Some(k.id.clone()),
                arn: Some(format!("arn:aws:kms:{region}:{acct}:key/{}", k.id)),
                description: Some(k.description.clone()),
                key_usage: Some("ENCRYPT_DECRYPT".to_owned()),
                key_state: Some(k.state.to_owned()),
                creation_date: Some(k.created),
                enabled: Some(k.state == "Enabled"),
                key_rotation_enabled: Some(k.rotation_from.is_some_and(|d| d <= self.asof)),
            })
            .collect()
    }

    fn waf(&self) -> (Vec<WebAcl>, Vec<WafRule>) {
        let (region, acct) = (self.region(), self.account_id());
        let mut acls = Vec::new();
        let mut rules = Vec::new();
        for a in self.w.acls.iter().filter(|a| self.exists(a.created)) {
            let scope_path = if a.scope == "CLOUDFRONT" {
                "global"
            } else {
                "regional"
            };
            let is = |s: &str| a.rules.iter().filter(|r| r.statement == s).count() as i64;
            let managed = is("ManagedRuleGroupStatement");
            let rate = is("RateBasedStatement");
            let associated: Vec<String> = if a.scope == "REGIONAL" {
                self.w
                    .load_balancers
                    .iter()
                    .map(|l| l.arn.clone())
                    .collect()
            } else {
                Vec::new()
            };
            let ip_sets = if is("IPSetReferenceStatement") > 0 {
                json!([format!(
                    "arn:aws:wafv2:{region}:{acct}:{scope_path}/ipset/office-ips/{}",
                    &a.id[..8]
                )])
            } else {
                json!([])
            };
            acls.push(WebAcl {
                name: Some(a.name.clone()),
                id: Some(a.id.clone()),
                arn: Some(format!(
                    "arn:aws:wafv2:{region}:{acct}:{scope_path}/webacl/{}/{}",
                    a.name, a.id
                )),
                scope: Some(a.scope.to_owned()),
                description: Some(format!("Web ACL for {}", self.p.account.name)),
                default_action: json!({"Allow": {}}),
                rules_count: Some(a.rules.len() as i64),
                capacity: Some(a.rules.iter().map(|r| r.capacity).sum()),
                managed_rules_count: Some(managed),
                custom_rules_count: Some(a.rules.len() as i64 - managed - rate),
                rate_limit_rules_count: Some(rate),
                associated_resources_count: Some(associated.len() as i64),
                associated_resources: associated,
                logging_enabled: Some(a.logging),
                log_destinations: if a.logging {
                    vec![format!(
                        "arn:aws:logs:{region}:{acct}:log-group:aws-waf-logs-{}",
                        a.name
                    )]
                } else {
                    Vec::new()
                },
                geo_blocking_enabled: Some(!a.blocked.is_empty()),
                blocked_countries: a.blocked.iter().map(|c| (*c).to_owned()).collect(),
                ip_sets,
                created_date: Some(a.created),
                last_modified: Some(a.modified),
                tags: json!([{"Key": "Environment", "Value": self.p.account.environment}]),
                sampled_requests_enabled: Some(true),
                cloudwatch_metrics_enabled: Some(true),
            });
            for (priority, r) in a.rules.iter().enumerate() {
                let managed = r.statement == "ManagedRuleGroupStatement";
                let rate = r.statement == "RateBasedStatement";
                let aws_vendor = r.name.starts_with("AWS-");
                let compliant = match r.statement {
                    "ManagedRuleGroupStatement" => aws_vendor,
                    "RateBasedStatement"
                    | "SqliMatchStatement"
                    | "XssMatchStatement"
                    | "GeoMatchStatement"
                    | "IPSetReferenceStatement"
                    | "RuleGroupReferenceStatement" => true,
                    _ => false,
                };
                rules.push(WafRule {
                    web_acl_name: Some(a.name.clone()),
                    rule_name: Some(r.name.to_owned()),
                    priority: Some(priority as i64),
                    // Managed rule groups have an override action, not an action.
                    action: if r.action.is_empty() {
                        json!({})
                    } else {
                        json!({ r.action: {} })
                    },
                    statement_type: Some(r.statement.to_owned()),
                    is_managed_rule: Some(managed),
                    is_custom_rule: Some(!managed && !rate),
                    rate_limit: Some(rate),
                    logging_enabled: Some(a.logging),
                    geo_blocking: Some(r.statement == "GeoMatchStatement"),
                    sql_injection: Some(
                        r.name.contains("SQLi") || r.statement == "SqliMatchStatement",
                    ),
                    sample_request_enabled: Some(true),
                    cloudwatch_enabled: Some(true),
                    has_xss_protection: Some(r.statement == "XssMatchStatement"),
                    waf_version: Some("v2".to_owned()),
                    is_compliant: Some(compliant),
                    scope: Some(a.scope.to_owned()),
                });
            }
        }
        (acls, rules)
    }

    fn cloudtrail(&self) -> Vec<Trail> {
        let p = self.p;
        let acct = self.account_id();
        let home = &self.org.opts.regions[0];
        let logging = match p.trail_outage {
            Some((stop, restart)) => self.asof < stop || restart.is_some_and(|r| self.asof >= r),
            None => true,
        };
        let mut rng = self.rng("cloudtrail", true, Some(self.asof));
        let mut trails = vec![Trail {
            name: Some("org-trail".to_owned()),
            arn: Some(format!("arn:aws:cloudtrail:{home}:{acct}:trail/org-trail")),
            is_logging: Some(logging),
            is_multi_region: Some(true),
            include_global_events: Some(true),
            s3_bucket: Some(format!("org-cloudtrail-logs-{acct}")),
            kms_key_id: (p.posture < 0.6).then(|| {
                // The trail is the same in every region: its key comes from a global stream.
                let key = uuid(&mut self.rng("org-trail-key", false, None));
                format!("arn:aws:kms:{home}:{acct}:key/{key}")
            }),
            log_file_validation: Some(p.posture < 0.8),
            // LookupEvents is called with an invalid parameter, so this is always 0.
            recent_events_count: Some(0),
            latest_delivery_time: Some(match p.trail_outage {
                Some((stop, _)) if !logging => between(&mut rng, stop - days(1), 20, 24),
                _ => between(&mut rng, self.asof, 22, 24),
            }),
            start_logging_time: Some(at(p.created, 40_000)),
            stop_logging_time: match p.trail_outage {
                Some((stop, _)) if !logging => Some(at(stop, 3_600 * 9 + 1_234)),
                _ => None,
            },
        }];
        if !p.prod && self.w.region_index == 0 && p.posture > 0.7 {
            // A forgotten single-region trail from an early experiment.
            trails.push(Trail {
                name: Some(format!("{}-trail", p.account.name)),
                arn: Some(format!(
                    "arn:aws:cloudtrail:{}:{acct}:trail/{}-trail",
                    self.region(),
                    p.account.name
                )),
                is_logging: Some(false),
                is_multi_region: Some(false),
                include_global_events: Some(true),
                s3_bucket: Some(format!("{}-cloudtrail-{acct}", p.account.name)),
                log_file_validation: Some(false),
                recent_events_count: Some(0),
                ..Default::default()
            });
        }
        trails
    }

    fn secrets(&self) -> Vec<Secret> {
        let rotation_lambda = self.arn(
            "lambda",
            "function:SecretsManagerRDSPostgreSQLRotationSingleUser",
        );
        let env_tag = json!([{"Key": "Environment", "Value": self.p.account.environment}]);
        self.w
            .secrets
            .iter()
            .filter(|s| self.exists(s.created))
            .map(|s| {
                let created = s.created.get().date();
                // Rotated every 30 days since creation.
                let last_changed = if s.rotation {
                    let age = (self.asof - created).whole_days();
                    at(created + days(age - age % 30), 7_200)
                } else {
                    s.created
                };
                Secret {
                    name: Some(s.name.clone()),
                    arn: Some(s.arn.clone()),
                    description: s.description.clone(),
                    created_date: Some(s.created),
                    last_changed_date: Some(last_changed),
                    last_accessed_date: s.used.then(|| at(self.asof, 0)),
                    rotation_enabled: Some(s.rotation),
                    rotation_lambda_arn: s.rotation.then(|| rotation_lambda.clone()),
                    kms_key_id: s.kms_key.clone(),
                    tags: if s.tagged { env_tag.clone() } else { json!([]) },
                }
            })
            .collect()
    }

    fn certificates(&self) -> Vec<Certificate> {
        let now = at(self.run_date, 0);
        let key_usages = json!([{"Name": "DIGITAL_SIGNATURE"}, {"Name": "KEY_ENCIPHERMENT"}]);
        let server_auth =
            json!([{"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"}]);
        self.w
            .certs
            .iter()
            .filter(|c| c.requested <= now)
            .map(|c| {
                let (issued, not_before, not_after) = match c.imported_expiry {
                    Some(expiry) => (None, Timestamp::new(expiry.get() - days(365)), expiry),
                    None => {
                        // The certificate in force: the latest renewal before the snapshot.
                        let age = (now.get() - c.requested.get()).whole_days();
                        let renewals = age / ACM_RENEWAL;
                        let issued =
                            Timestamp::new(c.requested.get() + days(renewals * ACM_RENEWAL));
                        (
                            Some(issued),
                            issued,
                            Timestamp::new(issued.get() + days(ACM_VALIDITY)),
                        )
                    }
                };
                let imported = c.imported_expiry.is_some();
                Certificate {
                    arn: Some(c.arn.clone()),
                    domain_name: Some(c.domain.clone()),
                    subject_alternative_names: vec![c.domain.clone(), format!("*.{}", c.domain)],
                    status: Some(
                        if not_after <= now {
                            "EXPIRED"
                        } else {
                            "ISSUED"
                        }
                        .to_owned(),
                    ),
                    cert_type: Some(
                        if imported {
                            "IMPORTED"
                        } else {
                            "AMAZON_ISSUED"
                        }
                        .to_owned(),
                    ),
                    key_algorithm: Some("RSA_2048".to_owned()),
                    signature_algorithm: Some("SHA256WITHRSA".to_owned()),
                    created_at: Some(c.requested),
                    issued_at: issued,
                    not_before: Some(not_before),
                    not_after: Some(not_after),
                    renewal_eligibility: Some(
                        if imported { "INELIGIBLE" } else { "ELIGIBLE" }.to_owned(),
                    ),
                    key_usages: key_usages.clone(),
                    extended_key_usages: server_auth.clone(),
                }
            })
            .collect()
    }

    // ---------------------------------------------------------------------------- inventory

    fn inventory(&self) -> Inventory {
        let day = self.asof;
        let mut rng = self.rng("inventory", true, Some(day));
        let mut instances = Vec::new();
        let mut applications = Vec::new();
        let mut patches = Vec::new();
        for h in self.w.hosts_on(day) {
            // A stopped instance stays registered with SSM but stops pinging.
            let lost = h.stopped || rng.random_bool(0.03);
            let ping = if lost {
                between(&mut rng, day, 0, 12)
            } else {
                between(&mut rng, day, 22, 24)
            };
            let association_ok = rng.random_bool(0.92);
            let executed = between(&mut rng, day, 1, 6);
            instances.push(Instance {
                instance_id: Some(h.id.clone()),
                platform: Some(h.platform.name.to_owned()),
                platform_type: Some(h.platform.kind.to_owned()),
                platform_version: Some(h.platform.version.to_owned()),
                agent_version: Some(
                    if h.old_agent {
                        "3.2.2303.0"
                    } else {
                        "3.3.1802.0"
                    }
                    .to_owned(),
                ),
                is_latest_version: Some(!h.old_agent),
                last_ping: Some(ping),
                computer_name: Some(if h.platform.windows {
                    format!("EC2AMAZ-{}", h.id[2..9].to_ascii_uppercase())
                } else {
                    format!("ip-{}.ec2.internal", h.ip.replace('.', "-"))
                }),
                instance_type: Some("EC2Instance".to_owned()),
                ip_address: Some(h.ip.clone()),
                ping_status: Some(if lost { "ConnectionLost" } else { "Online" }.to_owned()),
                last_ping_date_time: Some(ping),
                association_status: Some(
                    if association_ok { "Success" } else { "Failed" }.to_owned(),
                ),
                association_execution_date: Some(executed),
                association_success_date: Some(if association_ok {
                    executed
                } else {
                    between(&mut rng, day - days(1), 1, 6)
                }),
            });
            applications.extend(h.apps.iter().cloned());
            patches.extend(self.patches(h, day, &mut rng));
        }
        Inventory {
            instances,
            applications,
            patches,
        }
    }

    /// Patches installed on `day`, plus the ones missing while the host is in a patch gap.
    fn patches(&self, h: &Host, day: Date, rng: &mut impl Rng) -> Vec<Patch> {
        let id = Some(h.id.clone());
        let mut out = Vec::new();
        let installs = if day.weekday() == h.patch_day {
            rng.random_range(2..=4)
        } else {
            rng.random_range(0..=1)
        };
        for _ in 0..installs {
            let (title, security_class) = patch_title(rng, h.platform, day);
            let security = rng.random_bool(0.6);
            out.push(Patch {
                instance_id: id.clone(),
                title: Some(title),
                classification: Some(
                    if security {
                        security_class
                    } else if h.platform.windows {
                        "Updates"
                    } else {
                        "Bugfix"
                    }
                    .to_owned(),
                ),
                severity: Some(
                    if security {
                        *pick(rng, &["Critical", "Important", "Medium", "Low"])
                    } else {
                        "None"
                    }
                    .to_owned(),
                ),
                state: Some("Installed".to_owned()),
                installed_time: Some(between(rng, day, 2, 5)),
            });
        }
        if h.gap.is_some_and(|(from, to)| day >= from && day < to) {
            for (i, (title, class)) in h.gap_patches.iter().enumerate() {
                // The first one is tried and fails (or waits for a reboot); the rest are missing.
                let state = match (i, rng.random::<f64>()) {
                    (0, x) if x < 0.2 => "Failed",
                    (0, x) if x < 0.4 => "InstalledPendingReboot",
                    _ => "Missing",
                };
                out.push(Patch {
                    instance_id: id.clone(),
                    title: Some(title.clone()),
                    classification: Some((*class).to_owned()),
                    severity: Some(if i == 0 { "Critical" } else { "Important" }.to_owned()),
                    state: Some(state.to_owned()),
                    installed_time: (state == "InstalledPendingReboot")
                        .then(|| between(rng, day, 2, 5)),
                });
            }
        }
        out
    }

    // ---------------------------------------------------------------------------- global lists

    fn marketplace(&self) -> Vec<MarketplaceUsage> {
        let Some(m) = &self.w.global.marketplace else {
            return Vec::new();
        };
        let cost: f64 = self
            .data_days()
            .map(|d| {
                m.daily
                    * self
                        .rng("marketplace", false, Some(d))
                        .random_range(0.9..1.1)
            })
            .sum();
        if cost <= 0.0 {
            return Vec::new();
        }
        vec![MarketplaceUsage {
            product_code: Some(m.code.clone()),
            product_name: Some(m.name.to_owned()),
            cost_consumed: Some(money(cost)),
            currency: Some("USD".to_owned()),
            period_start: Some(Day(self.label_from)),
            period_end: Some(Day(self.label_to)),
            status: Some("Active".to_owned()),
        }]
    }

    fn trusted_advisor(&self) -> Vec<TrustedAdvisorCheck> {
        if !self.p.trusted_advisor {
            return Vec::new();
        }
        let mut fixed = self.rng("trusted-advisor", false, None);
        let mut rng = self.rng("trusted-advisor", false, Some(self.asof));
        let mut checks: Vec<&(&str, &str, &str, &str, f64)> = TA_CHECKS.iter().collect();
        checks.shuffle(&mut fixed);
        let n = fixed.random_range(3..=7);
        checks
            .into_iter()
            .take(n)
            .map(|(name, category, severity, recommendation, savings)| {
                let affected = fixed.random_range(1..12) + rng.random_range(0..3);
                TrustedAdvisorCheck {
                    check_name: Some((*name).to_owned()),
                    category: Some((*category).to_owned()),
                    severity: Some((*severity).to_owned()),
                    recommendation: Some((*recommendation).to_owned()),
                    affected_resources_count: Some(affected),
                    potential_savings: (*savings > 0.0)
                        .then(|| money(savings * affected as f64 * rng.random_range(0.8..1.2))),
                    timestamp: Some(between(&mut rng, self.asof, 3, 23)),
                }
            })
            .collect()
    }

    fn health(&self) -> Vec<HealthEvent> {
        let regions = &self.org.opts.regions;
        let mut out = Vec::new();
        for day in self.data_days() {
            // Public events are organisation-wide: every account sees the same ARN.
            let mut public = self.org.rng("health-public", ORG, None, Some(day));
            if public.random_bool(0.06) {
                let (service, code) = pick(&mut public, &PUBLIC_EVENTS);
                let region = pick(&mut public, regions);
                let start = during(&mut public, day);
                let end =
                    Timestamp::new(start.get() + Duration::minutes(public.random_range(30..360)));
                let suffix = hex(&mut public, 8).to_ascii_uppercase();
                out.push(HealthEvent {
                    arn: Some(format!(
                        "arn:aws:health:{region}::event/{service}/{code}/{code}_{suffix}"
                    )),
                    service: Some((*service).to_owned()),
                    event_type_code: Some((*code).to_owned()),
                    event_type_category: Some("issue".to_owned()),
                    region: Some(region.to_string()),
                    availability_zone: None,
                    start_time: Some(start),
                    end_time: Some(end),
                    last_updated_time: Some(end),
                    status_code: Some("closed".to_owned()),
                    event_scope_code: Some("PUBLIC".to_owned()),
                });
            }
            let mut own = self.rng("health", false, Some(day));
            if own.random_bool(0.04) {
                let (service, code, category) = pick(&mut own, &ACCOUNT_EVENTS);
                let region = pick(&mut own, regions);
                let start = during(&mut own, day);
                out.push(HealthEvent {
                    arn: Some(format!(
                        "arn:aws:health:{region}::event/{service}/{code}/{code}_{}",
                        hex(&mut own, 12).to_ascii_uppercase()
                    )),
                    service: Some((*service).to_owned()),
                    event_type_code: Some((*code).to_owned()),
                    event_type_category: Some((*category).to_owned()),
                    region: Some(region.to_string()),
                    availability_zone: Some(format!(
                        "{region}{}",
                        pick(&mut own, &["a", "b", "c"])
                    )),
                    start_time: Some(start),
                    end_time: None,
                    last_updated_time: Some(start),
                    status_code: Some(
                        if *category == "scheduledChange" {
                            "upcoming"
                        } else {
                            "open"
                        }
                        .to_owned(),
                    ),
                    event_scope_code: Some("ACCOUNT_SPECIFIC".to_owned()),
                });
            }
        }
        out
    }

    fn support_tickets(&self) -> Vec<SupportTicket> {
        let acct = self.account_id();
        let mut out = Vec::new();
        for day in self.data_days() {
            let mut rng = self.rng("support", false, Some(day));
            if !rng.random_bool(if self.p.prod { 0.03 } else { 0.015 }) {
                continue;
            }
            let (subject, service, category) = pick(&mut rng, &SUPPORT_CASES);
            out.push(SupportTicket {
                case_id: Some(format!(
                    "case-{acct}-muen-{}-{}",
                    day.year(),
                    hex(&mut rng, 16)
                )),
                display_id: Some(
                    rng.random_range(17_000_000_000u64..17_999_999_999)
                        .to_string(),
                ),
                subject: Some((*subject).to_owned()),
                status: Some(
                    pick(
                        &mut rng,
                        &[
                            "opened",
                            "pending-customer-action",
                            "reopened",
                            "work-in-progress",
                        ],
                    )
                    .to_string(),
                ),
                severity_code: Some(
                    pick(&mut rng, &["low", "normal", "normal", "high", "urgent"]).to_string(),
                ),
                service_code: Some((*service).to_owned()),
                category_code: Some((*category).to_owned()),
                time_created: Some(between(&mut rng, day, 7, 19)),
                submitted_by: Some(format!("{}-oncall@example-corp.com", self.p.account.name)),
                language: Some("en".to_owned()),
                date_from: Some(Day(self.label_from)),
                date_to: Some(Day(self.label_to)),
            });
        }
        out
    }

    // ---------------------------------------------------------------------------- regional lists

    fn application_signals(&self) -> Vec<ApplicationSignal> {
        if !(self.p.prod && self.p.kind == Kind::Workload && self.w.region_index == 0) {
            return Vec::new();
        }
        let name = &self.p.account.name;
        ["api", "worker"]
            .iter()
            .map(|s| {
                let service = format!("{name}-{s}");
                let environment = format!("eks:{name}/default");
                ApplicationSignal {
                    key_attributes: json!({
                        "Type": "Service",
                        "Name": service,
                        "Environment": environment,
                    }),
                    service_name: Some(service),
                    namespace: Some("default".to_owned()),
                }
            })
            .collect()
    }

    fn resilience_hub(&self) -> Vec<ResilienceHubApp> {
        let mut rng = self.rng("resilience", true, Some(self.asof));
        self.w
            .resilience_apps
            .iter()
            .enumerate()
            .map(|(i, (arn, name))| {
                let score = round(rng.random_range(55.0..96.0) - 10.0 * i as f64, 1);
                ResilienceHubApp {
                    app_arn: Some(arn.clone()),
                    name: Some(name.clone()),
                    description: Some(format!("{name} production stack")),
                    creation_time: Some(at(self.p.created + days(30), 50_000)),
                    last_assessment_time: Some(between(&mut rng, self.asof, 2, 4)),
                    compliance_status: Some(
                        if score >= 70.0 {
                            "PolicyMet"
                        } else {
                            "PolicyBreached"
                        }
                        .to_owned(),
                    ),
                    resiliency_score: Some(score),
                    status: Some("Active".to_owned()),
                    rpo: Some(*pick(&mut rng, &[300, 900, 3600])),
                    rto: Some(*pick(&mut rng, &[900, 3600, 14_400])),
                    last_drill: Some(at(self.asof - days(rng.random_range(5..90)), 36_000)),
                    cost: None,
                }
            })
            .collect()
    }

    fn service_resources(&self) -> Vec<ServiceResource> {
        let w = self.w;
        let region = self.region();
        let acct = self.account_id();
        let day = self.asof;
        let mut rng = self.rng("resources", true, Some(day));
        let row = |service: &str, kind: &str, id: String, name: String| ServiceResource {
            service_name: Some(service.to_owned()),
            resource_type: Some(kind.to_owned()),
            resource_id: Some(id),
            resource_name: Some(name),
            region: Some(region.clone()),
            ..Default::default()
        };
        let mut out = Vec::new();
        for h in w.hosts_on(day) {
            out.push(ServiceResource {
                availability_zone: Some(w.azs[h.az].clone()),
                state: Some(if h.stopped { "stopped" } else { "running" }.to_owned()),
                instance_type: Some(h.instance_type.to_owned()),
                vpc_id: Some(w.vpcs[h.vpc].clone()),
                ..row("EC2", "Instance", h.id.clone(), h.name.clone())
            });
        }
        let live_hosts = w.hosts_on(day).count();
        // A root volume is created with its instance.
        for v in w.volumes.iter().filter(|v| v.created <= day) {
            out.push(ServiceResource {
                availability_zone: Some(w.azs[v.az].clone()),
                state: Some(if v.attached { "in-use" } else { "available" }.to_owned()),
                size_gb: Some(v.size as f64),
                volume_type: Some(v.kind.to_owned()),
                creation_date: Some(at(v.created, 3_600)),
                ..row("EBS", "Volume", v.id.clone(), String::new())
            });
        }
        for s in &w.subnets {
            out.push(ServiceResource {
                availability_zone: Some(w.azs[s.az].clone()),
                state: Some("available".to_owned()),
                vpc_id: Some(w.vpcs[s.vpc].clone()),
                available_ip_count: Some(
                    s.free_ips - live_hosts as i64 % 7 - rng.random_range(0..4),
                ),
                ..row("VPC", "Subnet", s.id.clone(), s.name.clone())
            });
        }
        for d in &w.databases {
            out.push(ServiceResource {
                availability_zone: Some(w.azs[d.az].clone()),
                state: Some("available".to_owned()),
                engine: Some(d.engine.to_owned()),
                instance_class: Some(d.class.to_owned()),
                multi_az: Some(self.p.prod),
                ..row("RDS", "DBInstance", d.id.clone(), d.id.clone())
            });
        }
        // S3 is listed account-wide: the same rows in every region's file.
        let home = self.org.opts.regions[0].to_string();
        for b in &w.global.buckets {
            out.push(ServiceResource {
                region: Some(home.clone()),
                state: Some("Active".to_owned()),
                creation_date: Some(b.created),
                ..row("S3", "Bucket", b.name.clone(), b.name.clone())
            });
        }
        let all_azs = w.azs.join(",");
        for l in w.load_balancers.iter().filter(|l| l.created <= day) {
            out.push(ServiceResource {
                availability_zone: Some(all_azs.clone()),
                state: Some("active".to_owned()),
                vpc_id: Some(w.vpcs[0].clone()),
                creation_date: Some(at(l.created, 30_000)),
                resource_kind: Some("application".to_owned()),
                scheme: Some(l.scheme.to_owned()),
                ..row("ELB", "LoadBalancer", l.arn.clone(), l.name.clone())
            });
        }
        for g in w.asgs.iter().filter(|g| g.created <= day) {
            out.push(ServiceResource {
                availability_zone: Some(all_azs.clone()),
                creation_date: Some(at(g.created, 30_000)),
                instance_count: Some(rng.random_range(g.min..=g.max.min(g.min + 4))),
                min_size: Some(g.min),
                max_size: Some(g.max),
                ..row(
                    "AutoScaling",
                    "AutoScalingGroup",
                    g.name.clone(),
                    g.name.clone(),
                )
            });
        }
        for f in w.functions.iter().filter(|f| self.exists(f.modified)) {
            out.push(ServiceResource {
                availability_zone: Some("Generic".to_owned()),
                state: Some("Active".to_owned()),
                instance_type: Some(f.runtime.to_owned()),
                vpc_id: Some(String::new()),
                engine: Some(f.runtime.to_owned()),
                instance_class: Some(String::new()),
                multi_az: Some(true),
                size_gb: Some(f.memory as f64 / 1024.0),
                volume_type: Some("EphemeralStorage".to_owned()),
                creation_date: Some(f.modified),
                resource_kind: Some(f.package.to_owned()),
                scheme: Some(f.arch.to_owned()),
                instance_count: Some(1),
                max_size: Some(512),
                ..row(
                    "Lambda",
                    "Function",
                    format!("arn:aws:lambda:{region}:{acct}:function:{}", f.name),
                    f.name.clone(),
                )
            });
        }
        out
    }

    fn compute_optimizer(&self) -> Vec<ComputeOptimizerRecommendation> {
        let w = self.w;
        let (region, acct) = (self.region(), self.account_id());
        let mut fixed = self.rng("compute-optimizer", true, None);
        let mut daily = self.rng("compute-optimizer", true, Some(self.asof));
        let mut out = Vec::new();
        for h in w.hosts_on(self.asof) {
            if !fixed.random_bool(0.4) {
                continue;
            }
            let types: &[(&str, f64)] = if self.p.prod {
                &PROD_TYPES
            } else {
                &NONPROD_TYPES
            };
            let (finding, recommended, hourly) = match fixed.random::<f64>() {
                x if x < 0.6 => {
                    let cheaper: Vec<&(&str, f64)> =
                        types.iter().filter(|(_, p)| *p < h.hourly).collect();
                    match cheaper.last() {
                        Some((t, p)) => ("Overprovisioned", *t, *p),
                        None => ("Optimized", h.instance_type, h.hourly),
                    }
                }
                x if x < 0.8 => ("Underprovisioned", "m5.2xlarge", 0.384),
                _ => ("Optimized", h.instance_type, h.hourly),
            };
            let savings = ((h.hourly - hourly) * 730.0).max(0.0);
            out.push(ComputeOptimizerRecommendation {
                account_id: Some(acct.clone()),
                resource_type: Some("EC2".to_owned()),
                resource_arn: Some(format!("arn:aws:ec2:{region}:{acct}:instance/{}", h.id)),
                resource_name: Some(h.name.clone()),
                finding: Some(finding.to_owned()),
                current_instance_type: Some(h.instance_type.to_owned()),
                recommended_instance_type: Some(recommended.to_owned()),
                savings_opportunity_percentage: Some(round(
                    savings / (h.hourly * 730.0) * 100.0,
                    2,
                )),
                estimated_monthly_savings_usd: Some(round(savings, 2)),
                performance_risk: Some(round(fixed.random_range(0.5..3.0), 1)),
                cpu_utilization_max: Some(round(
                    if finding == "Underprovisioned" {
                        daily.random_range(85.0..100.0)
                    } else {
                        daily.random_range(8.0..45.0)
                    },
                    2,
                )),
                memory_utilization_avg: Some(round(daily.random_range(15.0..70.0), 2)),
                ..Default::default()
            });
        }
        for v in w.volumes.iter().filter(|v| v.kind == "gp2") {
            let savings = v.size as f64 * 0.02;
            out.push(ComputeOptimizerRecommendation {
                account_id: Some(acct.clone()),
                resource_type: Some("EBS".to_owned()),
                resource_arn: Some(format!("arn:aws:ec2:{region}:{acct}:volume/{}", v.id)),
                resource_name: Some(v.id.clone()),
                finding: Some("NotOptimized".to_owned()),
                current_volume_type: Some("gp2".to_owned()),
                recommended_volume_type: Some("gp3".to_owned()),
                current_volume_size: Some(v.size as f64),
                recommended_volume_size: Some(v.size as f64),
                savings_opportunity_percentage: Some(20.0),
                estimated_monthly_savings_usd: Some(round(savings, 2)),
                performance_risk: Some(0.0),
                ..Default::default()
            });
        }
        for f in w
            .functions
            .iter()
            .filter(|f| f.memory >= 1024 && self.exists(f.modified))
        {
            out.push(ComputeOptimizerRecommendation {
                account_id: Some(acct.clone()),
                resource_type: Some("Lambda".to_owned()),
                resource_arn: Some(format!(
                    "arn:aws:lambda:{region}:{acct}:function:{}",
                    f.name
                )),
                resource_name: Some(f.name.clone()),
                finding: Some("NotOptimized".to_owned()),
                current_memory_size: Some(f.memory as f64),
                recommended_memory_size: Some((f.memory / 2) as f64),
                savings_opportunity_percentage: Some(round(fixed.random_range(20.0..45.0), 2)),
                estimated_monthly_savings_usd: Some(round(fixed.random_range(0.5..25.0), 2)),
                performance_risk: Some(round(fixed.random_range(0.0..2.0), 1)),
                ..Default::default()
            });
        }
        out
    }

    fn ri_sp_savings(&self) -> Vec<RiSpSaving> {
        let mut out = Vec::new();
        let region = self.region();
        if let Some(ri) = &self.w.reserved {
            for day in self.data_days().filter(|d| *d >= ri.start.get().date()) {
                let mut rng = self.rng("reserved", true, Some(day));
                let utilization = round(rng.random_range(82.0..100.0), 2);
                let fee = ri.hourly * 24.0 * ri.count as f64;
                let on_demand = fee / 0.62 * utilization / 100.0;
                out.push(RiSpSaving {
                    reservation_type: Some("Reserved Instance".to_owned()),
                    subscription_id: Some(ri.id.clone()),
                    date_from: Some(Day(self.label_from)),
                    date_to: Some(Day(self.label_to)),
                    date: Some(Day(day)),
                    utilization_percentage: Some(utilization),
                    on_demand_cost: Some(money(on_demand)),
                    reservation_cost: Some(money(fee)),
                    net_savings: Some(money(on_demand - fee)),
                    service: Some("Amazon EC2".to_owned()),
                    instance_type: Some(ri.instance_type.to_owned()),
                    instance_count: Some(ri.count),
                    instance_tenancy: Some("default".to_owned()),
                    offering_class: Some("standard".to_owned()),
                    offering_type: Some("No Upfront".to_owned()),
                    product_types: Some("Linux/UNIX".to_owned()),
                    // The sender writes the RI's Scope here.
                    region: Some("Region".to_owned()),
                    currency: Some("USD".to_owned()),
                    commitment: Some(money(ri.hourly * 730.0)),
                    upfront_cost: Some(0.0),
                    recurring_cost: Some(ri.hourly),
                    recurring_frequency: Some("Hourly".to_owned()),
                    usage_price: Some(0.0),
                    start_date: Some(ri.start),
                    end_date: Some(Timestamp::new(ri.start.get() + days(365))),
                    duration_seconds: Some(31_536_000),
                    state: Some("active".to_owned()),
                    description: Some(format!(
                        "{} reserved instances in {region}",
                        ri.instance_type
                    )),
                    ..Default::default()
                });
            }
        }
        if let Some(sp) = &self.w.global.savings_plan {
            let home = self.org.opts.regions[0].to_string();
            for day in self.data_days().filter(|d| *d >= sp.start.get().date()) {
                // Global: no region in the stream.
                let mut rng = self.rng("savings-plan", false, Some(day));
                let utilization = round(rng.random_range(70.0..100.0), 2);
                let used = sp.hourly * 24.0 * utilization / 100.0;
                let on_demand = used * rng.random_range(1.25..1.45);
                out.push(RiSpSaving {
                    reservation_type: Some("Savings Plan".to_owned()),
                    subscription_id: Some(sp.id.clone()),
                    date_from: Some(Day(self.label_from)),
                    date_to: Some(Day(self.label_to)),
                    date: Some(Day(day)),
                    utilization_percentage: Some(utilization),
                    on_demand_cost: Some(money(on_demand)),
                    reservation_cost: Some(money(used)),
                    net_savings: Some(money(on_demand - used)),
                    service: Some("AWS Savings Plans".to_owned()),
                    offering_id: Some(sp.offering.clone()),
                    savings_plan_arn: Some(format!(
                        "arn:aws:savingsplans::{}:savingsplan/{}",
                        self.account_id(),
                        sp.id
                    )),
                    instance_type: Some(sp.plan_type.to_owned()),
                    instance_family: (sp.plan_type == "EC2Instance").then(|| "m5".to_owned()),
                    offering_type: Some(sp.payment.to_owned()),
                    product_types: Some(
                        if sp.plan_type == "Compute" {
                            "EC2,Fargate,Lambda"
                        } else {
                            "EC2"
                        }
                        .to_owned(),
                    ),
                    region: Some(home.clone()),
                    currency: Some("USD".to_owned()),
                    commitment: Some(sp.hourly),
                    upfront_cost: Some(if sp.payment == "No Upfront" {
                        0.0
                    } else {
                        money(sp.hourly * 4380.0 * sp.years as f64)
                    }),
                    recurring_cost: Some(if sp.payment == "No Upfront" {
                        sp.hourly
                    } else {
                        money(sp.hourly / 2.0)
                    }),
                    start_date: Some(sp.start),
                    end_date: Some(Timestamp::new(sp.start.get() + days(365 * sp.years))),
                    duration_seconds: Some(31_536_000 * sp.years),
                    state: Some("active".to_owned()),
                    description: Some(format!("{}-year {} Savings Plan", sp.years, sp.plan_type)),
                    ..Default::default()
                });
            }
        }
        out
    }
}

/// Empties what a failed collector leaves empty: `[]` for object categories, an empty list
/// for list categories, one list of `security` for a sub-step.
fn apply_failure(s: &mut Snapshot, key: &str, category: Category) {
    if let Some(sec) = s.security.as_mut() {
        match key {
            "guard_duty" => return sec.guard_duty.clear(),
            "inspector" => return sec.inspector.clear(),
            "kms" => return sec.kms.clear(),
            "security_hub" => return sec.security_hub.clear(),
            "waf" => {
                sec.waf.clear();
                return sec.waf_rules.clear();
            }
            _ => {}
        }
    }
    match category {
        Category::Config => s.config = None,
        Category::Cost => s.cost = None,
        Category::Security => s.security = None,
        Category::Inventory => s.inventory = None,
        Category::Service => s.service = Some(Vec::new()),
        Category::TrustedAdvisor => s.trusted_advisor = Some(Vec::new()),
        Category::Health => s.health = Some(Vec::new()),
        Category::ComputeOptimizer => s.compute_optimizer = Some(Vec::new()),
        Category::ServiceResources => s.service_resources = Some(Vec::new()),
        Category::ResilienceHub => s.resilience_hub = Some(Vec::new()),
        Category::RiSpSavings => s.ri_sp_savings = Some(Vec::new()),
        Category::SupportTickets => s.support_tickets = Some(Vec::new()),
        Category::Marketplace => s.marketplace = Some(Vec::new()),
        Category::Application => s.application = Some(Vec::new()),
        Category::ConfigInventory => s.config_inventory = Some(Vec::new()),
        Category::Account => {}
    }
}

// =============================================================================================
// Findings
// =============================================================================================

/// Longest a finding stays open before it is resolved (if it ever is).
const MAX_OPEN_DAYS: i64 = 21;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    SecurityHub,
    Inspector,
    GuardDuty,
}

impl Product {
    fn name(self) -> &'static str {
        match self {
            Product::SecurityHub => "Security Hub",
            Product::Inspector => "Inspector",
            Product::GuardDuty => "GuardDuty",
        }
    }
}

struct Finding {
    product: Product,
    /// The finding ARN (Security Hub id, Inspector ARN, GuardDuty finding ARN).
    id: String,
    /// GuardDuty's own short id.
    native_id: String,
    title: String,
    description: String,
    severity: &'static str,
    finding_type: &'static str,
    /// GuardDuty's numeric severity.
    score: f64,
    confidence: f64,
    resource_type: &'static str,
    resource_id: String,
    generator_id: String,
    compliance: Option<&'static str>,
    created: Timestamp,
    resolved: Option<(Date, Timestamp)>,
}

impl Finding {
    fn updated(&self, resolved: bool) -> Timestamp {
        match (resolved, self.resolved) {
            (true, Some((_, t))) => t,
            _ => Timestamp::new(self.created.get() + Duration::minutes(5)),
        }
    }
}

fn summarise(product: &str, findings: Vec<SecurityHubFinding>) -> SecurityHubSummary {
    let count = |pred: &dyn Fn(&SecurityHubFinding) -> bool| {
        findings.iter().filter(|f| pred(f)).count() as i64
    };
    let severity = |s: &str| count(&|f| f.severity.as_deref() == Some(s));
    SecurityHubSummary {
        service: Some(product.to_owned()),
        total_findings: Some(findings.len() as i64),
        severity_counts: Some(SeverityCounts {
            critical: Some(severity("CRITICAL")),
            high: Some(severity("HIGH")),
            medium: Some(severity("MEDIUM")),
            low: Some(severity("LOW")),
            informational: Some(severity("INFORMATIONAL")),
        }),
        open_findings: Some(count(&|f| f.status.as_deref() == Some("NEW"))),
        resolved_findings: Some(count(&|f| f.status.as_deref() == Some("RESOLVED"))),
        findings,
    }
}

const CONTROL_TYPE: &str = "Software and Configuration Checks/Industry and Regulatory Standards";
const CONTROL_RECOMMENDATION: &str = "For information on how to correct this issue, consult the \
    AWS Security Hub controls documentation.";
const INSPECTOR_RECOMMENDATION: &str =
    "Update the affected package to the fixed version and redeploy the instance.";

/// A Security Hub control: id, title, severity, and what it checks.
type Control = (&'static str, &'static str, &'static str, Target);

/// Security Hub controls and their weights: CRITICAL ones are the rarest.
#[rustfmt::skip]
const CONTROLS: [(Control, f64); 20] = [
    (("IAM.6", "Hardware MFA should be enabled for the root user", "CRITICAL", Target::Account), 0.6),
    (("IAM.4", "IAM root user access key should not exist", "CRITICAL", Target::Account), 0.4),
    (("EC2.19", "Security groups should not allow unrestricted access to ports with high risk", "CRITICAL", Target::SecurityGroups), 0.8),
    (("RDS.2", "RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible configuration", "CRITICAL", Target::Databases), 0.5),
    (("S3.8", "S3 general purpose buckets should block public access", "HIGH", Target::Buckets), 1.5),
    (("EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", "HIGH", Target::Instances), 2.0),
    (("EC2.18", "Security groups should only allow unrestricted incoming traffic for authorized ports", "HIGH", Target::SecurityGroups), 1.5),
    (("CloudTrail.1", "CloudTrail should be enabled and configured with at least one multi-Region trail that includes read and write management events", "HIGH", Target::Account), 0.8),
    (("EC2.9", "Amazon EC2 instances should not have a public IPv4 address", "HIGH", Target::Instances), 1.5),
    (("EC2.2", "VPC default security groups should not allow inbound or outbound traffic", "HIGH", Target::SecurityGroups), 1.5),
    (("S3.5", "S3 general purpose buckets should require requests to use SSL", "MEDIUM", Target::Buckets), 2.5),
    (("KMS.4", "AWS KMS key rotation should be enabled", "MEDIUM", Target::Keys), 2.0),
    (("Lambda.2", "Lambda functions should use supported runtimes", "MEDIUM", Target::Functions), 2.0),
    (("SSM.1", "Amazon EC2 instances should be managed by AWS Systems Manager", "MEDIUM", Target::Instances), 2.0),
    (("EC2.6", "VPC flow logging should be enabled in all VPCs", "MEDIUM", Target::Vpcs), 2.0),
    (("IAM.3", "IAM users' access keys should be rotated every 90 days or less", "MEDIUM", Target::Users), 2.0),
    (("EC2.3", "Attached Amazon EBS volumes should be encrypted at-rest", "MEDIUM", Target::Volumes), 2.0),
    (("CloudTrail.5", "CloudTrail trails should be integrated with Amazon CloudWatch Logs", "LOW", Target::Account), 2.0),
    (("CloudTrail.4", "CloudTrail log file validation should be enabled", "LOW", Target::Account), 1.5),
    (("S3.13", "S3 general purpose buckets should have Lifecycle configurations", "LOW", Target::Buckets), 2.5),
];

/// (title, severity, description)
#[rustfmt::skip]
const CVES: [(&str, &str, &str); 14] = [
    ("CVE-2024-3094 - xz-utils", "CRITICAL", "Malicious code was discovered in the upstream tarballs of xz, starting with version 5.6.0."),
    ("CVE-2021-44228 - log4j-core", "CRITICAL", "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other JNDI related endpoints."),
    ("CVE-2023-38545 - curl", "CRITICAL", "This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy handshake."),
    ("CVE-2024-6387 - openssh", "HIGH", "A signal handler race condition was found in OpenSSH's server (sshd) that may allow remote code execution."),
    ("CVE-2023-44487 - nghttp2", "HIGH", "The HTTP/2 protocol allows a denial of service because request cancellation can reset many streams quickly."),
    ("CVE-2024-21626 - runc", "HIGH", "runc leaks internal file descriptors, allowing a container escape."),
    ("CVE-2023-4863 - libwebp", "HIGH", "Heap buffer overflow in libwebp allows a remote attacker to perform an out of bounds memory write."),
    ("CVE-2022-0778 - openssl", "HIGH", "The BN_mod_sqrt() function can loop forever for non-prime moduli."),
    ("CVE-2024-2511 - openssl", "MEDIUM", "Unbounded memory growth with session handling in TLSv1.3."),
    ("CVE-2023-48795 - openssh", "MEDIUM", "The SSH transport protocol allows remote attackers to bypass integrity checks (Terrapin)."),
    ("CVE-2024-28182 - nghttp2", "MEDIUM", "nghttp2 keeps reading CONTINUATION frames, allowing a denial of service."),
    ("CVE-2022-40897 - setuptools", "MEDIUM", "Regular expression denial of service in package_index.py."),
    ("CVE-2023-28322 - curl", "LOW", "An information disclosure vulnerability exists in curl when doing HTTP(S) transfers."),
    ("Port 22 is reachable from an Internet Gateway - TCP", "MEDIUM", "On the instance, port range 22 - 22 is reachable from an Internet Gateway."),
];

/// (type, severity label, base numeric severity, title with {instance})
#[rustfmt::skip]
const GUARDDUTY_TYPES: [(&str, &str, f64, &str); 9] = [
    ("Recon:EC2/PortProbeUnprotectedPort", "LOW", 2.0, "Unprotected port on EC2 instance {instance} is being probed."),
    ("UnauthorizedAccess:EC2/SSHBruteForce", "LOW", 2.0, "{instance} is being targeted by SSH brute force attacks."),
    ("Policy:IAMUser/RootCredentialUsage", "LOW", 2.0, "API GetCallerIdentity was invoked using root credentials from the network of {instance}."),
    ("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "MEDIUM", 5.0, "{instance} is communicating with a disallowed IP address."),
    ("Discovery:S3/AnomalousBehavior", "MEDIUM", 5.0, "An API commonly used to discover S3 resources was invoked anomalously from {instance}."),
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", "HIGH", 8.0, "{instance} is querying a domain name that is associated with Bitcoin-related activity."),
    ("Backdoor:EC2/C&CActivity.B!DNS", "HIGH", 8.0, "{instance} is querying a domain name associated with a known command and control server."),
    ("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "HIGH", 8.0, "Credentials created for the instance role of {instance} are being used from an external IP address."),
    ("AttackSequence:IAM/CompromisedCredentials", "CRITICAL", 9.0, "A sequence of actions consistent with compromised credentials was observed, starting from {instance}."),
];

/// (check, category, severity, recommendation, potential savings per flagged resource)
#[rustfmt::skip]
const TA_CHECKS: [(&str, &str, &str, &str, f64); 10] = [
    ("Low Utilization Amazon EC2 Instances", "cost_optimizing", "warning", "<p>Checks the Amazon EC2 instances that were running at any time during the last 14 days and alerts you if the daily CPU utilization was 10% or less.</p>", 35.0),
    ("Underutilized Amazon EBS Volumes", "cost_optimizing", "warning", "<p>Checks Amazon EBS volume configurations and warns when volumes appear to be underused.</p>", 8.0),
    ("Idle Load Balancers", "cost_optimizing", "warning", "<p>Checks your load balancer configuration for load balancers that are not actively used.</p>", 16.0),
    ("Amazon RDS Idle DB Instances", "cost_optimizing", "warning", "<p>Checks the configuration of your Amazon RDS instances for any instances that appear to be idle.</p>", 60.0),
    ("Security Groups - Specific Ports Unrestricted", "security", "warning", "<p>Checks security groups for rules that allow unrestricted access (0.0.0.0/0) to specific ports.</p>", 0.0),
    ("Amazon S3 Bucket Permissions", "security", "error", "<p>Checks buckets in Amazon S3 that have open access permissions or allow access to any authenticated AWS user.</p>", 0.0),
    ("MFA on Root Account", "security", "error", "<p>Checks the root account and warns if multi-factor authentication (MFA) is not enabled.</p>", 0.0),
    ("Amazon EBS Snapshots", "fault_tolerance", "warning", "<p>Checks the age of the snapshots for your Amazon EBS volumes.</p>", 0.0),
    ("Service Limits", "service_limits", "warning", "<p>Checks for usage that is more than 80% of the service limit.</p>", 0.0),
    ("High Utilization Amazon EC2 Instances", "performance", "warning", "<p>Checks the Amazon EC2 instances that were running at any time during the last 14 days and alerts you if the daily CPU utilization was more than 90% on 4 or more days.</p>", 0.0),
];

const PUBLIC_EVENTS: [(&str, &str); 6] = [
    ("EC2", "AWS_EC2_OPERATIONAL_ISSUE"),
    ("LAMBDA", "AWS_LAMBDA_OPERATIONAL_ISSUE"),
    ("S3", "AWS_S3_OPERATIONAL_ISSUE"),
    ("RDS", "AWS_RDS_OPERATIONAL_ISSUE"),
    ("CLOUDFRONT", "AWS_CLOUDFRONT_OPERATIONAL_ISSUE"),
    ("DYNAMODB", "AWS_DYNAMODB_OPERATIONAL_ISSUE"),
];

const ACCOUNT_EVENTS: [(&str, &str, &str); 5] = [
    (
        "EC2",
        "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
        "scheduledChange",
    ),
    ("RDS", "AWS_RDS_MAINTENANCE_SCHEDULED", "scheduledChange"),
    (
        "LAMBDA",
        "AWS_LAMBDA_RUNTIME_DEPRECATION_NOTICE",
        "accountNotification",
    ),
    ("ACM", "AWS_ACM_RENEWAL_STATE_CHANGE", "accountNotification"),
    ("EBS", "AWS_EBS_VOLUME_LOST", "issue"),
];

/// (subject, service code, category code)
const SUPPORT_CASES: [(&str, &str, &str); 5] = [
    (
        "EC2 instance unreachable after patching",
        "amazon-elastic-compute-cloud-linux",
        "instance-issue",
    ),
    (
        "Request service quota increase for Lambda concurrent executions",
        "service-limit-increase",
        "service-limit-increase-lambda",
    ),
    (
        "RDS storage full, database in storage-full state",
        "amazon-relational-database-service-postgresql",
        "general-guidance",
    ),
    (
        "Unexpected charges for NAT Gateway data processing",
        "billing",
        "charges",
    ),
    (
        "CloudFront returning 502 errors from origin",
        "amazon-cloudfront",
        "performance",
    ),
];

// =============================================================================================
// Tests
// =============================================================================================

#[cfg(test)]
mod tests {
    use super::*;
    use orgwatch_model::category::logs::CollectionStatus;
    use std::collections::{BTreeMap, HashMap};
    use time::macros::date;

    fn opts(accounts: usize, days: u32, regions: &[&str]) -> DemoOptions {
        DemoOptions {
            accounts,
            days,
            seed: 42,
            end_date: date!(2026 - 03 - 05),
            regions: regions.iter().map(|r| Region::parse(r).unwrap()).collect(),
        }
    }

    fn default_org() -> DemoOptions {
        opts(25, 90, &["us-east-1"])
    }

    #[test]
    fn same_options_give_identical_bytes() {
        let o = opts(4, 12, &["us-east-1", "eu-west-1"]);
        let a: Vec<Vec<u8>> = files(&o)
            .step_by(5)
            .map(|f| f.snapshot.to_json_pretty())
            .collect();
        let b: Vec<Vec<u8>> = files(&o)
            .step_by(5)
            .map(|f| f.snapshot.to_json_pretty())
            .collect();
        assert!(a.len() > 10);
        assert_eq!(a, b);
        let other_seed = DemoOptions {
            seed: 43,
            ..o.clone()
        };
        let c: Vec<Vec<u8>> = files(&other_seed)
            .step_by(5)
            .map(|f| f.snapshot.to_json_pretty())
            .collect();
        assert_ne!(a, c, "the seed changes the output");
    }

    #[test]
    fn a_file_does_not_depend_on_the_files_generated_before_it() {
        let o = opts(3, 40, &["us-east-1", "eu-west-1"]);
        let org = Org::new(&o);
        for file in files(&o).filter(|f| f.location.run_date.day() % 7 == 3) {
            let account = org
                .profiles
                .iter()
                .position(|p| p.account.id == file.location.account)
                .unwrap();
            let region = o
                .regions
                .iter()
                .position(|r| Some(r) == file.location.region.as_ref())
                .unwrap();
            let world = World::new(&org, account, region);
            let alone = org.file(
                account,
                &world,
                file.location.run_date,
                file.location.granularity,
            );
            assert_eq!(
                alone.snapshot.to_json_pretty(),
                file.snapshot.to_json_pretty(),
                "{}",
                file.location.relative_path()
            );
        }
    }

    #[test]
    fn there_is_one_daily_file_per_account_region_and_day_plus_one_monthly_per_month() {
        // Run dates 2026-02-24 ..= 2026-03-05: February and March.
        let o = opts(3, 10, &["us-east-1", "eu-west-1"]);
        let all: Vec<SnapshotLocation> = files(&o).map(|f| f.location).collect();
        assert_eq!(all.len(), 3 * 2 * 10 + 3 * 2 * 2);
        let unique: HashSet<String> = all.iter().map(SnapshotLocation::relative_path).collect();
        assert_eq!(unique.len(), all.len(), "no two files share a path");
        let monthly: Vec<&SnapshotLocation> = all
            .iter()
            .filter(|l| l.granularity == Granularity::Monthly)
            .collect();
        assert!(monthly
            .iter()
            .all(|l| [date!(2026 - 02 - 28), date!(2026 - 03 - 05)].contains(&l.run_date)));
        let first = all
            .iter()
            .filter(|l| l.granularity == Granularity::Daily)
            .map(|l| l.run_date)
            .min();
        assert_eq!(first, Some(date!(2026 - 02 - 24)));
        // Paths parse back to the same location.
        for l in &all {
            assert_eq!(&SnapshotLocation::parse(&l.relative_path()).unwrap(), l);
        }
    }

    #[test]
    fn short_and_long_ranges_work() {
        assert_eq!(files(&opts(3, 0, &["us-east-1"])).count(), 0);
        assert_eq!(files(&opts(0, 30, &["us-east-1"])).count(), 0);
        assert_eq!(files(&opts(3, 30, &[])).count(), 0);
        // One run on the 1st: its MONTHLY file has no data day yet.
        let first = DemoOptions {
            end_date: date!(2026 - 03 - 01),
            ..opts(2, 1, &["us-east-1"])
        };
        for f in files(&first) {
            let s = &f.snapshot;
            assert_eq!(Snapshot::from_json(&s.to_json_pretty()).unwrap(), *s);
            if f.location.granularity == Granularity::Monthly {
                assert_eq!(s.service.as_ref().map(Vec::len), Some(0));
            }
        }
        // A range longer than a year crosses a year boundary and ACM renewals.
        let long = opts(2, 400, &["eu-central-1"]);
        let n = files(&long).inspect(|f| {
            let s = &f.snapshot;
            assert_eq!(Snapshot::from_json(&s.to_json_pretty()).unwrap(), *s);
        });
        // Runs from 2025-01-30: fifteen calendar months.
        assert_eq!(n.count(), 2 * 400 + 2 * 15);
    }

    #[test]
    fn accounts_have_unique_twelve_digit_ids_and_labels() {
        let list = accounts(&opts(60, 1, &["us-east-1"]));
        assert_eq!(list.len(), 60);
        let ids: HashSet<AccountId> = list.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), 60);
        assert!(list
            .iter()
            .all(|a| a.id.as_str().len() == 12 && !a.id.as_str().starts_with('0')));
        let names: HashSet<&str> = list.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names.len(), 60, "names are unique too");
        let ous: HashSet<&str> = list.iter().map(|a| a.ou.as_str()).collect();
        for ou in [
            "Security",
            "Infrastructure",
            "Workloads/Prod",
            "Workloads/NonProd",
            "Sandbox",
        ] {
            assert!(ous.contains(ou), "{ou}");
        }
        let envs: HashSet<&str> = list.iter().map(|a| a.environment.as_str()).collect();
        assert_eq!(
            envs,
            HashSet::from(["PRODUCTION", "STAGING", "DEVELOPMENT", "TEST", "UAT"])
        );
        assert!(
            list.iter().any(|a| a.product.contains(',')),
            "some accounts have two products"
        );
        assert_eq!(list[0].name, "payments-prod");
        // The first accounts do not depend on how many there are.
        assert_eq!(accounts(&opts(5, 1, &["us-east-1"]))[..], list[..5]);
    }

    #[test]
    fn every_document_reads_back_equal_to_itself() {
        let o = opts(6, 35, &["us-east-1", "eu-west-1"]);
        for f in files(&o) {
            let bytes = f.snapshot.to_json_pretty();
            let back = Snapshot::from_json(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", f.location.relative_path()));
            assert_eq!(back, f.snapshot, "{}", f.location.relative_path());
            assert_eq!(f.snapshot.account_id(), f.location.account);
        }
    }

    #[test]
    fn global_categories_are_identical_in_every_region() {
        let o = opts(6, 20, &["us-east-1", "eu-west-1", "ap-southeast-2"]);
        let mut seen: HashMap<(AccountId, Date, Granularity), String> = HashMap::new();
        let mut compared = 0;
        for f in files(&o) {
            let s = &f.snapshot;
            let global = serde_json::to_string(&(
                &s.cost,
                &s.service,
                s.service_resources
                    .iter()
                    .flatten()
                    .filter(|r| r.is_global())
                    .collect::<Vec<_>>(),
                s.ri_sp_savings
                    .iter()
                    .flatten()
                    .filter(|r| r.is_global())
                    .collect::<Vec<_>>(),
                &s.trusted_advisor,
                &s.health,
                &s.support_tickets,
                &s.marketplace,
            ))
            .unwrap();
            let key = (
                f.location.account,
                f.location.run_date,
                f.location.granularity,
            );
            match seen.get(&key) {
                Some(first) => {
                    assert_eq!(first, &global, "{}", f.location.relative_path());
                    compared += 1;
                }
                None => {
                    seen.insert(key, global);
                }
            }
        }
        assert_eq!(compared, seen.len() * 2);
        // The regional ones do differ.
        let first = accounts(&o)[0].id;
        let regional: HashSet<String> = files(&o)
            .take_while(|f| f.location.account == first)
            .filter(|f| {
                f.location.run_date == o.end_date && f.location.granularity == Granularity::Daily
            })
            .map(|f| serde_json::to_string(&f.snapshot.inventory).unwrap())
            .collect();
        assert_eq!(regional.len(), 3);
    }

    #[test]
    fn applications_belong_to_the_files_instances() {
        let o = opts(5, 10, &["us-east-1", "eu-west-1"]);
        for f in files(&o) {
            let Some(inv) = &f.snapshot.inventory else {
                continue;
            };
            assert!(
                (5..=20).contains(&inv.instances.len()),
                "{}",
                inv.instances.len()
            );
            let ids: HashSet<&str> = inv
                .instances
                .iter()
                .filter_map(|i| i.instance_id.as_deref())
                .collect();
            for app in &inv.applications {
                assert!(
                    ids.contains(app.instance_id.as_deref().unwrap()),
                    "{}",
                    f.location.relative_path()
                );
            }
            for patch in &inv.patches {
                assert!(ids.contains(patch.instance_id.as_deref().unwrap()));
            }
            let sets: HashSet<Vec<&str>> = ids
                .iter()
                .map(|id| {
                    let mut names: Vec<&str> = inv
                        .applications
                        .iter()
                        .filter(|a| a.instance_id.as_deref() == Some(id))
                        .filter_map(|a| a.name.as_deref())
                        .collect();
                    names.sort_unstable();
                    names
                })
                .collect();
            assert!(sets.len() > 1, "instances have different applications");
        }
    }

    #[test]
    fn documents_are_internally_consistent() {
        let o = opts(5, 40, &["us-east-1"]);
        for f in files(&o) {
            let s = &f.snapshot;
            let (from, to) = f.location.period();
            let path = f.location.relative_path();
            if let (Some(cost), Some(service)) = (&s.cost, &s.service) {
                let sum: f64 = service.iter().filter_map(|r| r.cost).sum();
                assert!(
                    (sum - cost.current_period_cost.unwrap()).abs() < 0.01,
                    "{path}"
                );
                assert!(cost.top_services.windows(2).all(|w| w[0].cost >= w[1].cost));
                let period = cost.period.as_ref().unwrap();
                assert_eq!(period.start, Some(Day(from)));
                assert_eq!(
                    period.granularity.as_deref(),
                    Some(f.location.granularity.as_str())
                );
                if f.location.granularity == Granularity::Daily {
                    assert!(
                        (8..=15).contains(&service.len()),
                        "{path}: {}",
                        service.len()
                    );
                    assert_eq!(period.end, Some(Day(to)));
                    assert!(service
                        .iter()
                        .all(|r| r.date_from == Some(Day(from)) && r.date_to == Some(Day(to))));
                }
                let prev = cost.previous_period_cost.unwrap();
                if prev <= 0.0 {
                    assert_eq!(cost.cost_difference_percentage, Some(0.0));
                }
            }
            if let Some(config) = &s.config {
                let (c, n) = (
                    config.compliant_rules.unwrap(),
                    config.non_compliant_rules.unwrap(),
                );
                assert_eq!(config.total_rules, Some(c + n));
                assert_eq!(
                    config.compliance_score,
                    Some(round(c as f64 / (c + n) as f64 * 100.0, 2))
                );
                assert_eq!(config.date_from, Some(Day(from)));
            }
            if let Some(sec) = &s.security {
                for hub in &sec.security_hub {
                    let counts = hub.severity_counts.as_ref().unwrap();
                    let total: i64 = [
                        counts.critical,
                        counts.high,
                        counts.medium,
                        counts.low,
                        counts.informational,
                    ]
                    .iter()
                    .flatten()
                    .sum();
                    assert_eq!(hub.total_findings, Some(hub.findings.len() as i64));
                    assert_eq!(total, hub.findings.len() as i64);
                    assert!(!hub.findings.is_empty());
                    assert_eq!(
                        hub.open_findings.unwrap() + hub.resolved_findings.unwrap(),
                        hub.findings.len() as i64
                    );
                    for finding in &hub.findings {
                        // Whatever changed the finding in the window happened in the window.
                        let updated = finding.updated_at.unwrap().get();
                        assert!(
                            updated >= at(from, 0).get()
                                && updated < at(to, 0).get() + Duration::minutes(5),
                            "{path}"
                        );
                    }
                }
            }
            let log = &s.logs;
            assert_eq!(log.statuses.len(), 16);
            let failed = log
                .statuses
                .values()
                .filter(|s| **s == CollectionStatus::Fail)
                .count();
            assert_eq!(
                failed == 0,
                log.messages.iter().all(|m| m.key == "Forecast unavailable"),
                "{path}"
            );
        }
    }

    /// Facts about the default organisation (25 accounts x 90 days), gathered in one pass.
    #[derive(Default)]
    struct OrgFacts {
        critical_accounts: HashSet<AccountId>,
        severities: HashSet<String>,
        /// finding id -> statuses in the order seen
        lifecycle: HashMap<String, Vec<String>>,
        expiring: usize,
        expired: usize,
        monthly_service_rows_over_100: usize,
        failed_days: usize,
        error_messages: Vec<String>,
        daily_cost: BTreeMap<AccountId, Vec<(Date, f64)>>,
        missing_patches: usize,
        unrotated_keys: usize,
        noncompliant_waf_rules: usize,
        compliant_waf_rules: usize,
        trails_not_logging: usize,
        forecast_notes: usize,
        config_scores: HashMap<AccountId, HashSet<u64>>,
        public_health: HashMap<String, HashSet<AccountId>>,
        savings_plans: usize,
        support_cases: usize,
    }

    /// Gathered once and shared by the tests that read it: a pass takes seconds in debug.
    fn facts() -> &'static OrgFacts {
        static FACTS: std::sync::OnceLock<OrgFacts> = std::sync::OnceLock::new();
        FACTS.get_or_init(gather)
    }

    fn gather() -> OrgFacts {
        let o = default_org();
        let mut facts = OrgFacts::default();
        for file in files(&o) {
            let f = &file;
            let s = &f.snapshot;
            let acct = f.location.account;
            let daily = f.location.granularity == Granularity::Daily;
            if let Some(sec) = &s.security {
                for hub in &sec.security_hub {
                    if hub.severity_counts.as_ref().unwrap().critical.unwrap() > 0 {
                        facts.critical_accounts.insert(acct);
                    }
                    for finding in hub.findings.iter().filter(|_| daily) {
                        facts.severities.insert(finding.severity.clone().unwrap());
                        facts
                            .lifecycle
                            .entry(finding.finding_id.clone().unwrap())
                            .or_default()
                            .push(finding.status.clone().unwrap());
                    }
                }
                if f.location.run_date == o.end_date && daily {
                    for cert in &sec.certificate_manager {
                        let left = cert.not_after.unwrap().get() - at(o.end_date, 0).get();
                        if left > Duration::ZERO && left <= Duration::days(30) {
                            facts.expiring += 1;
                        }
                        if cert.status.as_deref() == Some("EXPIRED") {
                            facts.expired += 1;
                        }
                    }
                    facts.unrotated_keys += sec
                        .kms
                        .iter()
                        .filter(|k| k.key_rotation_enabled == Some(false))
                        .count();
                    facts.noncompliant_waf_rules += sec
                        .waf_rules
                        .iter()
                        .filter(|r| r.is_compliant == Some(false))
                        .count();
                    facts.compliant_waf_rules += sec
                        .waf_rules
                        .iter()
                        .filter(|r| r.is_compliant == Some(true))
                        .count();
                }
                if daily {
                    facts.trails_not_logging += sec
                        .cloudtrail
                        .iter()
                        .filter(|t| t.is_logging == Some(false))
                        .count();
                }
            }
            if !daily {
                facts.monthly_service_rows_over_100 += s
                    .service
                    .iter()
                    .flatten()
                    .filter(|r| r.cost.unwrap() > 100.0)
                    .count();
                continue;
            }
            if let Some(cost) = &s.cost {
                facts.daily_cost.entry(acct).or_default().push((
                    f.location.run_date - Duration::days(1),
                    cost.current_period_cost.unwrap(),
                ));
            }
            if s.logs
                .statuses
                .values()
                .any(|st| *st == CollectionStatus::Fail)
            {
                facts.failed_days += 1;
            }
            for m in &s.logs.messages {
                if m.key == "Forecast unavailable" {
                    facts.forecast_notes += 1;
                } else {
                    facts.error_messages.push(format!("{}: {}", m.key, m.text));
                }
            }
            if let Some(inv) = &s.inventory {
                facts.missing_patches += inv
                    .patches
                    .iter()
                    .filter(|p| p.state.as_deref() == Some("Missing"))
                    .count();
            }
            if let Some(c) = &s.config {
                facts
                    .config_scores
                    .entry(acct)
                    .or_default()
                    .insert(c.compliance_score.unwrap().to_bits());
            }
            for e in s
                .health
                .iter()
                .flatten()
                .filter(|e| e.event_scope_code.as_deref() == Some("PUBLIC"))
            {
                facts
                    .public_health
                    .entry(e.arn.clone().unwrap())
                    .or_default()
                    .insert(acct);
            }
            facts.savings_plans += s
                .ri_sp_savings
                .iter()
                .flatten()
                .filter(|r| r.is_global())
                .count();
            facts.support_cases += s.support_tickets.iter().flatten().count();
        }
        facts
    }

    #[test]
    fn the_default_organisation_has_something_to_show() {
        let facts = facts();
        assert!(
            facts.critical_accounts.len() >= 5,
            "CRITICAL findings in {} accounts",
            facts.critical_accounts.len()
        );
        for s in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] {
            assert!(facts.severities.contains(s), "{s}");
        }
        let reopened = facts
            .lifecycle
            .values()
            .filter(|v| v.as_slice() == ["NEW", "RESOLVED"])
            .count();
        assert!(
            reopened > 100,
            "findings that open then resolve: {reopened}"
        );
        // A finding is seen once as NEW, then at most once more as RESOLVED (or only resolved,
        // when it opened before the generated days).
        for statuses in facts.lifecycle.values() {
            let statuses: Vec<&str> = statuses.iter().map(String::as_str).collect();
            assert!(
                matches!(statuses[..], ["NEW"] | ["NEW", "RESOLVED"] | ["RESOLVED"]),
                "{statuses:?}"
            );
        }
        assert!(facts.expiring >= 1, "expiring certificates");
        assert!(facts.expired >= 1, "expired certificates");
        assert!(
            facts.monthly_service_rows_over_100 > 50,
            "{}",
            facts.monthly_service_rows_over_100
        );
        assert!(
            facts.failed_days >= 20,
            "failed account-days: {}",
            facts.failed_days
        );
        assert!(facts
            .error_messages
            .iter()
            .any(|m| m.contains("An error occurred (AccessDeniedException)")));
        assert!(facts.forecast_notes > 50);
        assert!(facts.missing_patches > 0);
        assert!(facts.unrotated_keys > 0);
        assert!(facts.noncompliant_waf_rules > 0 && facts.compliant_waf_rules > 0);
        assert!(facts.trails_not_logging > 0);
        assert!(facts.savings_plans > 0);
        assert!(facts.support_cases > 0);
        assert!(
            facts
                .public_health
                .values()
                .any(|accounts| accounts.len() > 1),
            "a public event seen by several accounts"
        );
        // Compliance drifts: most accounts see several distinct scores.
        assert!(
            facts
                .config_scores
                .values()
                .filter(|s| s.len() >= 3)
                .count()
                >= 20
        );
    }

    #[test]
    fn costs_follow_environment_weekends_growth_and_spikes() {
        let facts = facts();
        let list = accounts(&default_org());
        let mut spikes = 0;
        for a in &list {
            let mut sorted: Vec<f64> = facts.daily_cost[&a.id].iter().map(|(_, c)| *c).collect();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            if a.environment == "PRODUCTION" {
                assert!((250.0..2500.0).contains(&median), "{}: {median}", a.name);
            } else {
                assert!((10.0..250.0).contains(&median), "{}: {median}", a.name);
            }
            if sorted[sorted.len() - 1] > 2.5 * median {
                spikes += 1;
            }
        }
        assert!((1..=8).contains(&spikes), "accounts with a spike: {spikes}");
        // Weekends are cheaper for non-prod accounts.
        let dev = list
            .iter()
            .find(|a| a.environment == "DEVELOPMENT")
            .unwrap();
        let (mut weekend, mut weekday) = (Vec::new(), Vec::new());
        for (day, c) in &facts.daily_cost[&dev.id] {
            match day.weekday() {
                Weekday::Saturday | Weekday::Sunday => weekend.push(*c),
                _ => weekday.push(*c),
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let ratio = mean(&weekend) / mean(&weekday);
        assert!((0.55..0.85).contains(&ratio), "weekend/weekday {ratio}");
    }

    #[test]
    fn findings_resolve_under_the_same_arn_with_a_later_update() {
        let o = opts(3, 45, &["us-east-1"]);
        let mut new: HashMap<String, Timestamp> = HashMap::new();
        let mut checked = 0;
        for f in files(&o).filter(|f| f.location.granularity == Granularity::Daily) {
            for hub in f.snapshot.security.iter().flat_map(|s| &s.security_hub) {
                for finding in &hub.findings {
                    let id = finding.finding_id.clone().unwrap();
                    match finding.status.as_deref() {
                        Some("NEW") => {
                            new.insert(id, finding.updated_at.unwrap());
                        }
                        Some("RESOLVED") => {
                            if let Some(opened) = new.get(&id) {
                                assert!(finding.updated_at.unwrap() > *opened);
                                assert!(finding.created_at.unwrap() < finding.updated_at.unwrap());
                                checked += 1;
                            }
                        }
                        other => panic!("status {other:?}"),
                    }
                }
            }
        }
        assert!(checked > 10, "{checked}");
    }

    #[test]
    fn the_default_organisation_is_generated_and_serialised_quickly() {
        let start = std::time::Instant::now();
        let (mut n, mut bytes) = (0usize, 0usize);
        for f in files(&default_org()) {
            n += 1;
            bytes += f.snapshot.to_json_pretty().len();
        }
        let elapsed = start.elapsed();
        eprintln!("25 accounts x 90 days x 1 region: {n} files, {bytes} bytes, {elapsed:.2?}");
        assert_eq!(n, 25 * 90 + 25 * 4);
        if !cfg!(debug_assertions) {
            assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
        }
    }
}
