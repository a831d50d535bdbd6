//! The `security` object: findings by product, KMS keys, WAF, CloudTrail, Secrets Manager and ACM.

mod findings;

use super::Ctx;
use crate::demo::generate::calendar::{at, between, days};
use crate::demo::generate::random::uuid;
use crate::demo::generate::resources::{ACM_RENEWAL, ACM_VALIDITY};
use findings::{summarise, Product};
use orgwatch_model::category::security::{
    Certificate, GuardDutyFinding, InspectorFinding, KmsKey, Secret, Security, SecurityHubFinding,
    Trail, WafRule, WebAcl,
};
use orgwatch_model::Timestamp;
use serde_json::json;

impl Ctx<'_> {
    pub(super) fn security(&self) -> Security {
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
        // The demo plays the A360 sender, which writes every part.
        Security {
            security_hub: Some(security_hub),
            guard_duty: Some(guard_duty),
            kms: Some(self.kms()),
            waf: Some(waf),
            waf_rules: Some(waf_rules),
            cloudtrail: Some(self.cloudtrail()),
            secrets_manager: Some(self.secrets()),
            certificate_manager: Some(self.certificates()),
            inspector: Some(inspector),
        }
    }
}

impl Ctx<'_> {
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
}
