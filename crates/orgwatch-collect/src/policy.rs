//! The least-privilege IAM policies for exactly the calls the collector makes
//! (`orgwatch iam-policy`). Every entry of [`CALLS`] is an [`aws_call!`](crate::aws_call)
//! of the source, or the AssumeRole the SDK's role provider makes; `tests/iam_policy.rs`
//! checks both ways.

use serde_json::{json, Value};

/// Which identity makes a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The identity orgwatch runs as (discovery, and assuming the member roles).
    Collector,
    /// The member role in each account (and the collector, for its own account).
    Member,
}

/// Every IAM action the collector needs, and who calls it.
pub const CALLS: &[(&str, Caller)] = &[
    ("sts:GetCallerIdentity", Caller::Collector),
    ("sts:AssumeRole", Caller::Collector),
    ("organizations:ListAccounts", Caller::Collector),
    ("organizations:ListTagsForResource", Caller::Collector),
    ("organizations:ListParents", Caller::Collector),
    (
        "organizations:DescribeOrganizationalUnit",
        Caller::Collector,
    ),
    ("account:ListRegions", Caller::Member),
    ("account:GetAccountInformation", Caller::Member),
    ("account:GetContactInformation", Caller::Member),
    ("account:GetAlternateContact", Caller::Member),
    ("kms:ListKeys", Caller::Member),
    ("kms:DescribeKey", Caller::Member),
    ("kms:GetKeyRotationStatus", Caller::Member),
    ("secretsmanager:ListSecrets", Caller::Member),
    ("acm:ListCertificates", Caller::Member),
    ("acm:DescribeCertificate", Caller::Member),
    ("cloudtrail:DescribeTrails", Caller::Member),
    ("cloudtrail:GetTrailStatus", Caller::Member),
    ("securityhub:GetFindings", Caller::Member),
    ("guardduty:ListDetectors", Caller::Member),
    ("guardduty:ListFindings", Caller::Member),
    ("guardduty:GetFindings", Caller::Member),
    ("wafv2:ListWebACLs", Caller::Member),
    ("wafv2:GetWebACL", Caller::Member),
    ("wafv2:ListResourcesForWebACL", Caller::Member),
    ("wafv2:GetLoggingConfiguration", Caller::Member),
    ("wafv2:ListTagsForResource", Caller::Member),
    ("inspector2:ListFindings", Caller::Member),
    ("ce:GetCostAndUsage", Caller::Member),
    ("ce:GetCostForecast", Caller::Member),
    ("config:DescribeConfigRules", Caller::Member),
    ("config:DescribeConformancePacks", Caller::Member),
    ("config:DescribeConformancePackCompliance", Caller::Member),
    ("config:DescribeComplianceByConfigRule", Caller::Member),
    ("config:GetComplianceDetailsByConfigRule", Caller::Member),
    ("config:DescribeConfigurationRecorderStatus", Caller::Member),
    ("config:SelectResourceConfig", Caller::Member),
    ("support:DescribeTrustedAdvisorChecks", Caller::Member),
    ("support:DescribeTrustedAdvisorCheckResult", Caller::Member),
    ("support:DescribeCases", Caller::Member),
    ("health:DescribeEvents", Caller::Member),
    ("resiliencehub:ListApps", Caller::Member),
    ("resiliencehub:DescribeApp", Caller::Member),
    ("resiliencehub:DescribeResiliencyPolicy", Caller::Member),
    ("ec2:DescribeInstances", Caller::Member),
    ("ec2:DescribeVolumes", Caller::Member),
    ("ec2:DescribeSubnets", Caller::Member),
    ("rds:DescribeDBInstances", Caller::Member),
    ("elasticloadbalancing:DescribeLoadBalancers", Caller::Member),
    ("autoscaling:DescribeAutoScalingGroups", Caller::Member),
    ("lambda:ListFunctions", Caller::Member),
    ("s3:ListAllMyBuckets", Caller::Member),
    ("application-signals:ListServices", Caller::Member),
    ("ec2:DescribeReservedInstances", Caller::Member),
    ("rds:DescribeReservedDBInstances", Caller::Member),
    ("savingsplans:DescribeSavingsPlans", Caller::Member),
    ("ce:GetReservationUtilization", Caller::Member),
    ("ce:GetSavingsPlansUtilization", Caller::Member),
    ("ssm:DescribeInstanceInformation", Caller::Member),
    ("ssm:ListInventoryEntries", Caller::Member),
    ("ssm:DescribeInstancePatches", Caller::Member),
    (
        "compute-optimizer:GetEC2InstanceRecommendations",
        Caller::Member,
    ),
    (
        "compute-optimizer:GetEBSVolumeRecommendations",
        Caller::Member,
    ),
    (
        "compute-optimizer:GetLambdaFunctionRecommendations",
        Caller::Member,
    ),
];

fn actions(who: Caller) -> Vec<&'static str> {
    let mut v: Vec<&str> = CALLS
        .iter()
        .filter(|(a, c)| *c == who && *a != "sts:AssumeRole")
        .map(|(a, _)| *a)
        .collect();
    v.sort_unstable();
    v
}

/// The policy of the identity that runs `orgwatch collect`: discovery, and AssumeRole of the
/// member role only. With `--account` of its own account only it also needs the member
/// policy (it reads that account with its own credentials).
pub fn collector_policy(role_name: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrgwatchDiscovery",
                "Effect": "Allow",
                "Action": actions(Caller::Collector),
                "Resource": "*"
            },
            {
                "Sid": "OrgwatchAssumeMemberRole",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Resource": format!("arn:aws:iam::*:role/{role_name}")
            }
        ]
    })
}

/// The permissions policy of the member role (`--role-name`) in every account: read-only,
/// and only what the collector calls (sts:GetCallerIdentity needs no permission).
pub fn member_policy() -> Value {
    let actions: Vec<&str> = actions(Caller::Member);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrgwatchReadOnly",
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*"
            }
        ]
    })
}

/// The member role's trust policy: the collector's account may assume it, only with the
/// external id when one is given.
pub fn trust_policy(collector_account: &str, external_id: Option<&str>) -> Value {
    let mut statement = json!({
        "Sid": "OrgwatchCollector",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{collector_account}:root")},
        "Action": "sts:AssumeRole"
    });
    if let Some(id) = external_id {
        statement["Condition"] = json!({"StringEquals": {"sts:ExternalId": id}});
    }
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_member_policy_is_read_only_and_the_collector_only_assumes_the_role() {
        let member = member_policy().to_string();
        assert!(member.contains("kms:ListKeys"));
        assert!(!member.contains("sts:AssumeRole"));
        assert!(!member.contains("organizations:"));
        for verb in [
            "Create",
            "Delete",
            "Put",
            "Update",
            "Decrypt",
            "GetSecretValue",
        ] {
            assert!(!member.contains(&format!(":{verb}")), "{verb} in {member}");
        }
        let collector = collector_policy("OrgwatchReadOnly");
        assert_eq!(
            collector["Statement"][1]["Resource"],
            "arn:aws:iam::*:role/OrgwatchReadOnly"
        );
    }

    #[test]
    fn the_trust_policy_requires_the_external_id_when_given() {
        let t = trust_policy("111122223333", Some("x-1"));
        assert_eq!(
            t["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
            "x-1"
        );
        assert!(trust_policy("111122223333", None)["Statement"][0]
            .get("Condition")
            .is_none());
    }
}
