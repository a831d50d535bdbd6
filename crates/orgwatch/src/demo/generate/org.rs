//! The organisation: its accounts (names, OUs, environments, products), the traits that shape
//! each account's data, and the runs every account-region writes.

use super::calendar::days;
use super::category::Ctx;
use super::random::{Keys, ORG};
use super::tables::{PROD, SERVICES, TEMPLATES};
use super::world::World;
use super::{DemoAccount, DemoFile, DemoOptions};
use orgwatch_model::category::account::{AlternateContact, AlternateContacts, ContactInfo};
use orgwatch_model::{AccountId, Granularity, Region, SnapshotLocation};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use time::Date;

/// What an account is for: it decides the account's services, resources and posture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Security,
    Infrastructure,
    Workload,
    Sandbox,
}

/// A few days of one account where one service runs away.
#[derive(Debug, Clone)]
pub(super) struct Spike {
    pub(super) start: Date,
    pub(super) len: i64,
    pub(super) factor: f64,
    pub(super) service: usize,
}

/// One account and the traits that shape its data.
#[derive(Debug, Clone)]
pub(super) struct Profile {
    pub(super) index: usize,
    pub(super) account: DemoAccount,
    pub(super) kind: Kind,
    pub(super) prod: bool,
    pub(super) category: &'static str,
    pub(super) partner: Option<&'static str>,
    pub(super) customer: Option<&'static str>,
    pub(super) created: Date,
    pub(super) contact_info: ContactInfo,
    pub(super) contacts: AlternateContacts,
    /// Daily spend at `end_date`, before seasonality.
    pub(super) base_cost: f64,
    pub(super) weekend_factor: f64,
    /// Services and their share of the spend (shares sum to 1).
    pub(super) services: Vec<(&'static str, f64)>,
    pub(super) spike: Option<Spike>,
    /// 0 = tidy account, 1 = neglected: drives findings, config drift and patch gaps.
    pub(super) posture: f64,
    pub(super) expiring_cert: bool,
    pub(super) expired_cert: bool,
    /// When the org trail stopped logging, and when (if ever) it was turned back on.
    pub(super) trail_outage: Option<(Date, Option<Date>)>,
    pub(super) trusted_advisor: bool,
}

pub(super) fn profiles(opts: &DemoOptions) -> Vec<Profile> {
    let keys = Keys { seed: opts.seed };
    let mut ids = keys.rng("account-ids", ORG, None, None);
    let mut seen = HashSet::new();
    (0..opts.accounts)
        .map(|index| {
            let id = loop {
                let n: u64 = ids.random_range(100_000_000_000..=999_999_999_999);
                if seen.insert(n) {
                    // Every number of that range has 12 digits: a valid account id.
                    #[allow(clippy::expect_used)]
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

/// The organisation every file is drawn from: the options, the stream keys and the accounts.
pub(super) struct Org {
    pub(super) opts: DemoOptions,
    pub(super) keys: Keys,
    pub(super) profiles: Vec<Profile>,
}

impl Org {
    pub(super) fn new(opts: &DemoOptions) -> Self {
        Org {
            opts: opts.clone(),
            keys: Keys { seed: opts.seed },
            profiles: profiles(opts),
        }
    }

    pub(super) fn rng(
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
    pub(super) fn runs(&self) -> Vec<(Date, Granularity)> {
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

    pub(super) fn file(
        &self,
        account: usize,
        w: &World,
        run_date: Date,
        granularity: Granularity,
    ) -> DemoFile {
        let p = &self.profiles[account];
        DemoFile {
            location: SnapshotLocation {
                account: p.account.id,
                region: Some(w.region.clone()),
                run_date,
                granularity,
            },
            snapshot: Ctx::new(self, p, w, run_date, granularity).snapshot(),
        }
    }
}
