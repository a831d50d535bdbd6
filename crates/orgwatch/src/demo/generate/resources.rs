//! The resources of a world (instances, volumes, subnets, databases, load balancers, functions,
//! keys, secrets, certificates, web ACLs, Config rules …) and how each kind is drawn.

use super::calendar::{ago, at, days, during};
use super::format::arn;
use super::org::{Kind, Profile};
use super::random::{hex, pick, pick_weighted, uuid};
use super::tables::{
    instance_types, Platform, RuleTemplate, Target, CONFIG_RULES, LINUX_APPS, PLATFORMS, WAF_RULES,
    WINDOWS_APPS,
};
use orgwatch_model::category::inventory::Application;
use orgwatch_model::Timestamp;
use rand::seq::SliceRandom;
use rand::Rng;
use time::{Date, Weekday};

pub(super) struct Host {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) platform: &'static Platform,
    pub(super) instance_type: &'static str,
    pub(super) hourly: f64,
    pub(super) ip: String,
    pub(super) az: usize,
    pub(super) vpc: usize,
    pub(super) launched: Date,
    pub(super) stopped: bool,
    pub(super) apps: Vec<Application>,
    /// Days during which Critical/Security patches are missing, `[from, to)`.
    pub(super) gap: Option<(Date, Date)>,
    pub(super) gap_patches: Vec<(String, &'static str)>,
    pub(super) patch_day: Weekday,
    pub(super) old_agent: bool,
}

pub(super) struct Volume {
    pub(super) id: String,
    pub(super) az: usize,
    pub(super) size: i64,
    pub(super) kind: &'static str,
    pub(super) attached: bool,
    pub(super) created: Date,
}

pub(super) struct Subnet {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) az: usize,
    pub(super) vpc: usize,
    pub(super) free_ips: i64,
}

pub(super) struct Database {
    pub(super) id: String,
    pub(super) engine: &'static str,
    pub(super) class: &'static str,
    pub(super) az: usize,
}

pub(super) struct LoadBalancer {
    pub(super) arn: String,
    pub(super) name: String,
    pub(super) scheme: &'static str,
    pub(super) created: Date,
}

pub(super) struct Asg {
    pub(super) name: String,
    pub(super) min: i64,
    pub(super) max: i64,
    pub(super) created: Date,
}

pub(super) struct Function {
    pub(super) name: String,
    pub(super) runtime: &'static str,
    pub(super) memory: i64,
    pub(super) arch: &'static str,
    pub(super) package: &'static str,
    pub(super) modified: Timestamp,
}

pub(super) struct Key {
    pub(super) id: String,
    pub(super) description: String,
    pub(super) state: &'static str,
    pub(super) created: Timestamp,
    /// None: never rotated; Some(d): rotation on from day d.
    pub(super) rotation_from: Option<Date>,
}

pub(super) struct SecretDef {
    pub(super) name: String,
    pub(super) arn: String,
    pub(super) description: Option<String>,
    pub(super) created: Timestamp,
    pub(super) rotation: bool,
    pub(super) used: bool,
    pub(super) kms_key: Option<String>,
    pub(super) tagged: bool,
}

pub(super) struct Cert {
    pub(super) arn: String,
    pub(super) domain: String,
    /// When it was first requested (ACM) or imported.
    pub(super) requested: Timestamp,
    /// Imported certificates expire on a fixed date; ACM ones renew themselves.
    pub(super) imported_expiry: Option<Timestamp>,
}

/// ACM certificates are valid 395 days and renewed 60 days before they expire.
pub(super) const ACM_VALIDITY: i64 = 395;
pub(super) const ACM_RENEWAL: i64 = 335;

pub(super) struct AclDef {
    pub(super) name: String,
    pub(super) id: String,
    pub(super) scope: &'static str,
    pub(super) rules: Vec<&'static RuleTemplate>,
    pub(super) logging: bool,
    pub(super) blocked: Vec<&'static str>,
    pub(super) created: Timestamp,
    pub(super) modified: Timestamp,
}

pub(super) struct ConfigRule {
    pub(super) name: &'static str,
    pub(super) resource_type: &'static str,
    pub(super) annotation: Option<&'static str>,
    pub(super) pack: &'static str,
    /// Resources it evaluates; the first n are non-compliant on a day with n failures.
    pub(super) candidates: Vec<String>,
    pub(super) level: f64,
    pub(super) trend: f64,
}

pub(super) struct Bucket {
    pub(super) name: String,
    pub(super) created: Timestamp,
}

pub(super) struct SavingsPlan {
    pub(super) id: String,
    pub(super) offering: String,
    pub(super) hourly: f64,
    pub(super) plan_type: &'static str,
    pub(super) payment: &'static str,
    pub(super) start: Timestamp,
    pub(super) years: i64,
}

pub(super) struct ReservedInstance {
    pub(super) id: String,
    pub(super) instance_type: &'static str,
    pub(super) count: i64,
    pub(super) hourly: f64,
    pub(super) start: Timestamp,
}

pub(super) struct MarketplaceProduct {
    pub(super) code: String,
    pub(super) name: &'static str,
    pub(super) daily: f64,
}

/// What every part of a world is named after.
pub(super) struct Builder<'a> {
    pub(super) p: &'a Profile,
    pub(super) end: Date,
    /// The number of generated days (at least 1).
    pub(super) days: i64,
    pub(super) region: &'a str,
    pub(super) acct: &'a str,
    pub(super) name: &'a str,
}

impl Builder<'_> {
    fn arn(&self, service: &str, resource: &str) -> String {
        arn(service, self.region, self.acct, resource)
    }

    pub(super) fn subnets(&self, rng: &mut impl Rng, azs: usize, vpcs: usize) -> Vec<Subnet> {
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

    pub(super) fn hosts(&self, rng: &mut impl Rng, azs: usize, vpcs: usize) -> Vec<Host> {
        let p = self.p;
        let n = match (p.prod, p.kind) {
            (true, Kind::Workload) => rng.random_range(8..=20),
            (true, _) => rng.random_range(5..=10),
            (false, _) => rng.random_range(5..=12),
        };
        // Up to two are launched during the generated days, never leaving fewer than 5.
        let late = rng.random_range(0..=2).min(n - 5);
        let types = instance_types(p.prod);
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
    pub(super) fn volumes(&self, rng: &mut impl Rng, hosts: &[Host], azs: usize) -> Vec<Volume> {
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

    /// How many databases or load balancers: one or two in a production workload, at most one
    /// in a non-production one, none elsewhere. An `i32`: the integer type decides how many
    /// random bits the draw takes, so changing it would change every later draw.
    fn per_workload(&self, rng: &mut impl Rng) -> i32 {
        match (self.p.kind, self.p.prod) {
            (Kind::Workload, true) => rng.random_range(1..=2),
            (Kind::Workload, false) => rng.random_range(0..=1),
            _ => 0,
        }
    }

    pub(super) fn databases(&self, rng: &mut impl Rng, azs: usize) -> Vec<Database> {
        let p = self.p;
        let n = self.per_workload(rng);
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

    pub(super) fn load_balancers(&self, rng: &mut impl Rng) -> Vec<LoadBalancer> {
        let p = self.p;
        let n = self.per_workload(rng);
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

    pub(super) fn asgs(&self, rng: &mut impl Rng) -> Vec<Asg> {
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

    pub(super) fn functions(&self, rng: &mut impl Rng) -> Vec<Function> {
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
    pub(super) fn keys(&self, rng: &mut impl Rng) -> Vec<Key> {
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

    pub(super) fn secrets(&self, rng: &mut impl Rng, kms_key: &str) -> Vec<SecretDef> {
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
    pub(super) fn certs(&self, rng: &mut impl Rng, first_region: bool) -> Vec<Cert> {
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

    pub(super) fn resilience_apps(&self, rng: &mut impl Rng) -> Vec<(String, String)> {
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

pub(super) fn patch_title(
    rng: &mut impl Rng,
    platform: &Platform,
    day: Date,
) -> (String, &'static str) {
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

pub(super) fn acl(rng: &mut impl Rng, name: String, scope: &'static str, end: Date) -> AclDef {
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

pub(super) fn config_rules(
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
