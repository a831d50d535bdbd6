//! The world of one account-region: every resource its files describe, drawn once from the
//! region's stream, plus the account's global resources, drawn from a stream without the region.

use super::calendar::{ago, days, during};
use super::format::round;
use super::org::{Kind, Org};
use super::random::{hex, pick, uuid};
use super::resources::{
    acl, config_rules, AclDef, Asg, Bucket, Builder, Cert, ConfigRule, Database, Function, Host,
    Key, LoadBalancer, MarketplaceProduct, ReservedInstance, SavingsPlan, SecretDef, Subnet,
    Volume,
};
use super::tables::{Target, IAM_USERS, PROD_TYPES};
use orgwatch_model::Region;
use rand::Rng;
use time::Date;

/// The resources of one account in one region, stable over the generated days (plus the
/// account's global resources, which do not depend on the region).
pub(super) struct World {
    pub(super) region: Region,
    pub(super) region_index: usize,
    pub(super) azs: Vec<String>,
    pub(super) vpcs: Vec<String>,
    pub(super) subnets: Vec<Subnet>,
    pub(super) security_groups: Vec<String>,
    pub(super) hosts: Vec<Host>,
    pub(super) volumes: Vec<Volume>,
    pub(super) databases: Vec<Database>,
    pub(super) load_balancers: Vec<LoadBalancer>,
    pub(super) asgs: Vec<Asg>,
    pub(super) functions: Vec<Function>,
    pub(super) iam_users: Vec<String>,
    pub(super) keys: Vec<Key>,
    pub(super) secrets: Vec<SecretDef>,
    pub(super) certs: Vec<Cert>,
    pub(super) acls: Vec<AclDef>,
    pub(super) detector: String,
    pub(super) rules: Vec<ConfigRule>,
    pub(super) resilience_apps: Vec<(String, String)>,
    pub(super) reserved: Option<ReservedInstance>,
    pub(super) global: Global,
}

impl World {
    pub(super) fn new(org: &Org, account: usize, region_index: usize) -> Self {
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
    pub(super) fn hosts_on(&self, day: Date) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(move |h| h.launched <= day)
    }
}

/// An account's global resources: listed account-wide, so the same in every region's file.
pub(super) struct Global {
    pub(super) buckets: Vec<Bucket>,
    pub(super) savings_plan: Option<SavingsPlan>,
    pub(super) marketplace: Option<MarketplaceProduct>,
}

impl Global {
    pub(super) fn new(org: &Org, account: usize) -> Self {
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

fn owned<'a>(items: impl Iterator<Item = &'a String>) -> Vec<String> {
    items.cloned().collect()
}
