//! Security Hub, Inspector and GuardDuty findings: when they open and resolve, and how they read.

use crate::demo::generate::calendar::{day_range, days, during};
use crate::demo::generate::category::Ctx;
use crate::demo::generate::format::{arn, round};
use crate::demo::generate::random::{count_around, hex, pick, pick_weighted, uuid};
use crate::demo::generate::resources::Host;
use crate::demo::generate::tables::{Target, CONTROLS, CVES, GUARDDUTY_TYPES};
use orgwatch_model::category::security::{SecurityHubFinding, SecurityHubSummary, SeverityCounts};
use orgwatch_model::Timestamp;
use rand::Rng;
use time::{Date, Duration};

/// Longest a finding stays open before it is resolved (if it ever is).
const MAX_OPEN_DAYS: i64 = 21;

/// The product that reports a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Product {
    SecurityHub,
    Inspector,
    GuardDuty,
}

impl Product {
    pub(super) fn name(self) -> &'static str {
        match self {
            Product::SecurityHub => "Security Hub",
            Product::Inspector => "Inspector",
            Product::GuardDuty => "GuardDuty",
        }
    }
}

/// One finding, from the day it opens to the day (if ever) it resolves.
pub(super) struct Finding {
    pub(super) product: Product,
    /// The finding ARN (Security Hub id, Inspector ARN, GuardDuty finding ARN).
    pub(super) id: String,
    /// GuardDuty's own short id.
    pub(super) native_id: String,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) severity: &'static str,
    pub(super) finding_type: &'static str,
    /// GuardDuty's numeric severity.
    pub(super) score: f64,
    pub(super) confidence: f64,
    pub(super) resource_type: &'static str,
    pub(super) resource_id: String,
    generator_id: String,
    compliance: Option<&'static str>,
    pub(super) created: Timestamp,
    resolved: Option<(Date, Timestamp)>,
}

impl Finding {
    pub(super) fn updated(&self, resolved: bool) -> Timestamp {
        match (resolved, self.resolved) {
            (true, Some((_, t))) => t,
            _ => Timestamp::new(self.created.get() + Duration::minutes(5)),
        }
    }
}

/// One product's findings and their counts, as the sender summarises them.
pub(super) fn summarise(product: &str, findings: Vec<SecurityHubFinding>) -> SecurityHubSummary {
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

impl Ctx<'_> {
    /// Findings created in the window (as NEW) or resolved in it (as RESOLVED, with the same
    /// id): the sender's two GetFindings queries, deduplicated by id.
    pub(super) fn findings_in_window(&self) -> Vec<(Finding, bool)> {
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

    pub(super) fn hub_finding(&self, f: &Finding, resolved: bool) -> SecurityHubFinding {
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
}
