//! `security.waf` and `security.waf_rules`: the WAFv2 web ACLs of the region (scope
//! REGIONAL) and, in us-east-1 only, the CloudFront ones (scope CLOUDFRONT, which live
//! there; the A360 sender read them from every region, so each region's file repeated them).
//! ListWebACLs (every page), then per ACL GetWebACL, ListResourcesForWebACL (load balancers,
//! regional ACLs only: CloudFront distributions are not listed by this call),
//! GetLoggingConfiguration (none configured is "not logging", not a failure) and
//! ListTagsForResource. One row per rule goes to `waf_rules`, with the sender's derived flags.

use super::Collected;
use crate::aws_call;
use crate::call::{is_not_found, CallError};
use aws_sdk_wafv2::types::{ResourceType, Rule, Scope, Statement, WebAcl as SdkWebAcl};
use orgwatch_model::category::security::{WafRule, WebAcl};
use serde_json::{json, Value};

/// The web ACLs and their rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Waf {
    /// One per web ACL.
    pub acls: Vec<WebAcl>,
    /// One per rule of every ACL.
    pub rules: Vec<WafRule>,
}

/// Reads the region's web ACLs (and CloudFront's, in us-east-1).
pub async fn collect(
    client: &aws_sdk_wafv2::Client,
    region: &str,
) -> Result<Collected<Waf>, CallError> {
    let mut scopes = vec![Scope::Regional];
    if region == "us-east-1" {
        scopes.push(Scope::Cloudfront);
    }
    let mut out = Collected::clean(Waf::default());
    for scope in scopes {
        let mut summaries = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = aws_call!(
                "wafv2:ListWebACLs",
                client
                    .list_web_acls()
                    .scope(scope.clone())
                    .limit(100)
                    .set_next_marker(marker.take())
            )?;
            summaries.extend(page.web_acls().iter().cloned());
            // WAF returns a marker even on the last page; an empty page ends the listing.
            marker = page
                .next_marker()
                .filter(|m| !m.is_empty())
                .map(str::to_owned);
            if marker.is_none() || page.web_acls().is_empty() {
                break;
            }
        }
        for s in summaries {
            let (Some(name), Some(id)) = (s.name(), s.id()) else {
                continue;
            };
            let got = match aws_call!(
                "wafv2:GetWebACL",
                client.get_web_acl().name(name).id(id).scope(scope.clone())
            ) {
                Ok(g) => g,
                // Deleted between the listing and now.
                Err(e)
                    if is_not_found(&e)
                        || e.code.as_deref() == Some("WAFNonexistentItemException") =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            let Some(acl) = got.web_acl() else { continue };
            let resources = if scope == Scope::Regional {
                match aws_call!(
                    "wafv2:ListResourcesForWebACL",
                    client
                        .list_resources_for_web_acl()
                        .web_acl_arn(acl.arn())
                        .resource_type(ResourceType::ApplicationLoadBalancer)
                ) {
                    Ok(r) => Some(r.resource_arns().to_vec()),
                    Err(e) => {
                        out.problems.push(e);
                        None
                    }
                }
            } else {
                Some(Vec::new())
            };
            let logging = match aws_call!(
                "wafv2:GetLoggingConfiguration",
                client.get_logging_configuration().resource_arn(acl.arn())
            ) {
                Ok(l) => Some(
                    l.logging_configuration()
                        .map(|c| c.log_destination_configs().to_vec())
                        .unwrap_or_default(),
                ),
                Err(e) if e.code.as_deref() == Some("WAFNonexistentItemException") => {
                    Some(Vec::new())
                }
                Err(e) => {
                    out.problems.push(e);
                    None
                }
            };
            let tags = match aws_call!(
                "wafv2:ListTagsForResource",
                client.list_tags_for_resource().resource_arn(acl.arn())
            ) {
                Ok(t) => json!(t
                    .tag_info_for_resource()
                    .map(|i| i
                        .tag_list()
                        .iter()
                        .map(|t| json!({"Key": t.key(), "Value": t.value()}))
                        .collect::<Vec<_>>())
                    .unwrap_or_default()),
                Err(e) => {
                    out.problems.push(e);
                    Value::Null
                }
            };
            let scope_name = scope.as_str();
            out.items.rules.extend(
                acl.rules()
                    .iter()
                    .map(|r| rule(acl, r, scope_name, logging.as_ref().map(|l| !l.is_empty()))),
            );
            out.items
                .acls
                .push(web_acl(acl, scope_name, resources, logging, tags));
        }
    }
    Ok(out)
}

/// The name of the statement's kind, as the API's JSON names it (`GeoMatchStatement`).
fn statement_type(s: &Statement) -> &'static str {
    let kinds: [(bool, &'static str); 17] = [
        (s.byte_match_statement().is_some(), "ByteMatchStatement"),
        (s.sqli_match_statement().is_some(), "SqliMatchStatement"),
        (s.xss_match_statement().is_some(), "XssMatchStatement"),
        (
            s.size_constraint_statement().is_some(),
            "SizeConstraintStatement",
        ),
        (s.geo_match_statement().is_some(), "GeoMatchStatement"),
        (
            s.rule_group_reference_statement().is_some(),
            "RuleGroupReferenceStatement",
        ),
        (
            s.ip_set_reference_statement().is_some(),
            "IPSetReferenceStatement",
        ),
        (
            s.regex_pattern_set_reference_statement().is_some(),
            "RegexPatternSetReferenceStatement",
        ),
        (s.rate_based_statement().is_some(), "RateBasedStatement"),
        (s.and_statement().is_some(), "AndStatement"),
        (s.or_statement().is_some(), "OrStatement"),
        (s.not_statement().is_some(), "NotStatement"),
        (
            s.managed_rule_group_statement().is_some(),
            "ManagedRuleGroupStatement",
        ),
        (s.label_match_statement().is_some(), "LabelMatchStatement"),
        (s.regex_match_statement().is_some(), "RegexMatchStatement"),
        (s.asn_match_statement().is_some(), "AsnMatchStatement"),
        (true, "Unknown"),
    ];
    kinds
        .iter()
        .find(|(here, _)| *here)
        .map_or("Unknown", |(_, k)| k)
}

fn kind(r: &Rule) -> &'static str {
    r.statement().map_or("Unknown", statement_type)
}

/// The rule's action (`{"Block": {}}`), or its override action for a rule group.
fn action(r: &Rule) -> Value {
    if let Some(a) = r.action() {
        let name = if a.block().is_some() {
            "Block"
        } else if a.allow().is_some() {
            "Allow"
        } else if a.count().is_some() {
            "Count"
        } else if a.captcha().is_some() {
            "Captcha"
        } else if a.challenge().is_some() {
            "Challenge"
        } else {
            return json!({});
        };
        return json!({ name: {} });
    }
    match r.override_action() {
        Some(o) if o.count().is_some() => json!({"Count": {}}),
        Some(o) if o.none().is_some() => json!({"None": {}}),
        _ => json!({}),
    }
}

/// The sender's compliance rule: rate limits, AWS-managed groups, SQLi/XSS/geo/IP-set
/// matches and rule-group references count as protective; anything else does not.
fn compliant(r: &Rule) -> bool {
    match r.statement() {
        Some(s) => match s.managed_rule_group_statement() {
            Some(m) => matches!(m.vendor_name(), "AWS" | "Amazon"),
            None => matches!(
                statement_type(s),
                "RateBasedStatement"
                    | "SqliMatchStatement"
                    | "XssMatchStatement"
                    | "GeoMatchStatement"
                    | "IPSetReferenceStatement"
                    | "RuleGroupReferenceStatement"
            ),
        },
        None => false,
    }
}

fn rule(acl: &SdkWebAcl, r: &Rule, scope: &str, logging: Option<bool>) -> WafRule {
    let kind = kind(r);
    let managed = kind == "ManagedRuleGroupStatement";
    let rate = kind == "RateBasedStatement";
    let visibility = r.visibility_config();
    WafRule {
        web_acl_name: Some(acl.name().to_owned()),
        rule_name: Some(r.name().to_owned()),
        priority: Some(i64::from(r.priority())),
        action: action(r),
        statement_type: Some(kind.to_owned()),
        is_managed_rule: Some(managed),
        is_custom_rule: Some(!managed && !rate),
        rate_limit: Some(rate),
        logging_enabled: logging,
        geo_blocking: Some(kind == "GeoMatchStatement"),
        // The sender's substring checks, on the rule's name or kind.
        sql_injection: Some(
            r.name().to_ascii_lowercase().contains("sqli") || kind.contains("Sqli"),
        ),
        sample_request_enabled: visibility.map(|v| v.sampled_requests_enabled()),
        cloudwatch_enabled: visibility.map(|v| v.cloud_watch_metrics_enabled()),
        has_xss_protection: Some(
            r.name().to_ascii_lowercase().contains("xss") || kind.contains("Xss"),
        ),
        waf_version: Some("v2".to_owned()),
        is_compliant: Some(compliant(r)),
        scope: Some(scope.to_owned()),
    }
}

fn web_acl(
    acl: &SdkWebAcl,
    scope: &str,
    resources: Option<Vec<String>>,
    logging: Option<Vec<String>>,
    tags: Value,
) -> WebAcl {
    let kinds: Vec<&str> = acl.rules().iter().map(kind).collect();
    let count = |k: &str| kinds.iter().filter(|x| **x == k).count() as i64;
    let managed = count("ManagedRuleGroupStatement");
    let rate = count("RateBasedStatement");
    let geo: Vec<String> = acl
        .rules()
        .iter()
        .filter_map(|r| r.statement().and_then(|s| s.geo_match_statement()))
        .flat_map(|g| g.country_codes().iter().map(|c| c.as_str().to_owned()))
        .collect();
    let ip_sets: Vec<&str> = acl
        .rules()
        .iter()
        .filter_map(|r| r.statement().and_then(|s| s.ip_set_reference_statement()))
        .map(|i| i.arn())
        .collect();
    let default_action = match acl.default_action() {
        Some(d) if d.block().is_some() => json!({"Block": {}}),
        Some(d) if d.allow().is_some() => json!({"Allow": {}}),
        _ => json!({}),
    };
    let visibility = acl.visibility_config();
    WebAcl {
        name: Some(acl.name().to_owned()),
        id: Some(acl.id().to_owned()),
        arn: Some(acl.arn().to_owned()),
        scope: Some(scope.to_owned()),
        description: acl.description().map(str::to_owned),
        default_action,
        rules_count: Some(kinds.len() as i64),
        capacity: Some(acl.capacity()),
        managed_rules_count: Some(managed),
        custom_rules_count: Some(kinds.len() as i64 - managed - rate),
        rate_limit_rules_count: Some(rate),
        associated_resources_count: resources.as_ref().map(|r| r.len() as i64),
        associated_resources: resources.unwrap_or_default(),
        logging_enabled: logging.as_ref().map(|l| !l.is_empty()),
        log_destinations: logging.unwrap_or_default(),
        geo_blocking_enabled: Some(!geo.is_empty()),
        blocked_countries: geo,
        ip_sets: json!(ip_sets),
        // WAFv2 does not say when an ACL was created or changed.
        created_date: None,
        last_modified: None,
        tags,
        sampled_requests_enabled: visibility.map(|v| v.sampled_requests_enabled()),
        cloudwatch_metrics_enabled: visibility.map(|v| v.cloud_watch_metrics_enabled()),
    }
}
