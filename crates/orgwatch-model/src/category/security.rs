//! `security`: Security Hub, GuardDuty, KMS, WAF, CloudTrail, Secrets Manager, ACM, Inspector.

use crate::lenient::record;
use crate::time::Timestamp;

record! {
    /// The `security` object (the sender writes `[]` for the whole object when collection
    /// failed).
    ///
    /// Each part is `None` when its key is absent: the part was not collected (`null` reads
    /// as empty, as for every list).
    /// The A360 sender always writes all nine keys (`[]` for a part whose calls failed, with
    /// the error in `logs.message`); `orgwatch collect` leaves out a part it did not read, so
    /// a reader can tell "not collected" from "collected, none". An absent part serialises as
    /// an absent key.
    pub struct Security {
        #[serde(skip_serializing_if = "Option::is_none")]
        security_hub: Option<Vec<SecurityHubSummary>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        guard_duty: Option<Vec<GuardDutyFinding>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        kms: Option<Vec<KmsKey>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        waf: Option<Vec<WebAcl>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        waf_rules: Option<Vec<WafRule>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cloudtrail: Option<Vec<Trail>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        secrets_manager: Option<Vec<Secret>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        certificate_manager: Option<Vec<Certificate>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        inspector: Option<Vec<InspectorFinding>>,
    }
}

/// The nine parts of `security`, by their keys in the document.
pub const PARTS: [&str; 9] = [
    "security_hub",
    "guard_duty",
    "kms",
    "waf",
    "waf_rules",
    "cloudtrail",
    "secrets_manager",
    "certificate_manager",
    "inspector",
];

impl Security {
    /// Every part present and empty (what a reader sees of a collector that found nothing).
    pub fn empty() -> Self {
        Security {
            security_hub: Some(Vec::new()),
            guard_duty: Some(Vec::new()),
            kms: Some(Vec::new()),
            waf: Some(Vec::new()),
            waf_rules: Some(Vec::new()),
            cloudtrail: Some(Vec::new()),
            secrets_manager: Some(Vec::new()),
            certificate_manager: Some(Vec::new()),
            inspector: Some(Vec::new()),
        }
    }

    /// The keys (of [`PARTS`]) of the parts this object holds, i.e. that were collected.
    pub fn present_parts(&self) -> Vec<&'static str> {
        let present = [
            self.security_hub.is_some(),
            self.guard_duty.is_some(),
            self.kms.is_some(),
            self.waf.is_some(),
            self.waf_rules.is_some(),
            self.cloudtrail.is_some(),
            self.secrets_manager.is_some(),
            self.certificate_manager.is_some(),
            self.inspector.is_some(),
        ];
        PARTS
            .iter()
            .zip(present)
            .filter_map(|(p, here)| here.then_some(*p))
            .collect()
    }
}

record! {
    /// Security Hub findings of one product that were created or changed in the window.
    pub struct SecurityHubSummary {
        service: Option<String>,
        total_findings: Option<i64>,
        severity_counts: Option<SeverityCounts>,
        open_findings: Option<i64>,
        resolved_findings: Option<i64>,
        findings: Vec<SecurityHubFinding>,
    }
}

record! {
    /// Finding counts by severity label.
    pub struct SeverityCounts {
        #[serde(rename = "CRITICAL")]
        critical: Option<i64>,
        #[serde(rename = "HIGH")]
        high: Option<i64>,
        #[serde(rename = "MEDIUM")]
        medium: Option<i64>,
        #[serde(rename = "LOW")]
        low: Option<i64>,
        #[serde(rename = "INFORMATIONAL")]
        informational: Option<i64>,
    }
}

record! {
    /// One Security Hub finding.
    pub struct SecurityHubFinding {
        finding_id: Option<String>,
        service: Option<String>,
        title: Option<String>,
        description: Option<String>,
        severity: Option<String>,
        status: Option<String>,
        resource_type: Option<String>,
        resource_id: Option<String>,
        created_at: Option<Timestamp>,
        updated_at: Option<Timestamp>,
        recommendation: Option<String>,
        compliance_status: Option<String>,
        region: Option<String>,
        workflow_state: Option<String>,
        record_state: Option<String>,
        product_name: Option<String>,
        company_name: Option<String>,
        product_arn: Option<String>,
        generator_id: Option<String>,
        generator: Option<String>,
    }
}

record! {
    /// One GuardDuty finding.
    pub struct GuardDutyFinding {
        id: Option<String>,
        #[serde(rename = "type")]
        finding_type: Option<String>,
        severity: Option<f64>,
        title: Option<String>,
        description: Option<String>,
        created_at: Option<Timestamp>,
        updated_at: Option<Timestamp>,
        confidence: Option<f64>,
        region: Option<String>,
    }
}

record! {
    /// One KMS key.
    pub struct KmsKey {
        key_id: Option<String>,
        arn: Option<String>,
        description: Option<String>,
        key_usage: Option<String>,
        key_state: Option<String>,
        creation_date: Option<Timestamp>,
        enabled: Option<bool>,
        key_rotation_enabled: Option<bool>,
    }
}

record! {
    /// One WAF web ACL.
    pub struct WebAcl {
        name: Option<String>,
        id: Option<String>,
        arn: Option<String>,
        scope: Option<String>,
        description: Option<String>,
        default_action: serde_json::Value,
        rules_count: Option<i64>,
        capacity: Option<i64>,
        managed_rules_count: Option<i64>,
        custom_rules_count: Option<i64>,
        rate_limit_rules_count: Option<i64>,
        associated_resources: Vec<String>,
        associated_resources_count: Option<i64>,
        logging_enabled: Option<bool>,
        log_destinations: Vec<String>,
        geo_blocking_enabled: Option<bool>,
        blocked_countries: Vec<String>,
        ip_sets: serde_json::Value,
        created_date: Option<Timestamp>,
        last_modified: Option<Timestamp>,
        tags: serde_json::Value,
        sampled_requests_enabled: Option<bool>,
        cloudwatch_metrics_enabled: Option<bool>,
    }
}

record! {
    /// One rule of a web ACL.
    pub struct WafRule {
        web_acl_name: Option<String>,
        rule_name: Option<String>,
        priority: Option<i64>,
        action: serde_json::Value,
        statement_type: Option<String>,
        is_managed_rule: Option<bool>,
        is_custom_rule: Option<bool>,
        rate_limit: Option<bool>,
        logging_enabled: Option<bool>,
        geo_blocking: Option<bool>,
        sql_injection: Option<bool>,
        sample_request_enabled: Option<bool>,
        cloudwatch_enabled: Option<bool>,
        has_xss_protection: Option<bool>,
        waf_version: Option<String>,
        is_compliant: Option<bool>,
        scope: Option<String>,
    }
}

record! {
    /// One CloudTrail trail and its status.
    pub struct Trail {
        name: Option<String>,
        arn: Option<String>,
        is_logging: Option<bool>,
        is_multi_region: Option<bool>,
        include_global_events: Option<bool>,
        s3_bucket: Option<String>,
        kms_key_id: Option<String>,
        log_file_validation: Option<bool>,
        recent_events_count: Option<i64>,
        latest_delivery_time: Option<Timestamp>,
        start_logging_time: Option<Timestamp>,
        stop_logging_time: Option<Timestamp>,
    }
}

record! {
    /// One Secrets Manager secret (metadata only; the sender never reads values).
    pub struct Secret {
        name: Option<String>,
        arn: Option<String>,
        description: Option<String>,
        created_date: Option<Timestamp>,
        last_changed_date: Option<Timestamp>,
        last_accessed_date: Option<Timestamp>,
        rotation_enabled: Option<bool>,
        rotation_lambda_arn: Option<String>,
        kms_key_id: Option<String>,
        tags: serde_json::Value,
    }
}

record! {
    /// One ACM certificate.
    pub struct Certificate {
        arn: Option<String>,
        domain_name: Option<String>,
        subject_alternative_names: Vec<String>,
        status: Option<String>,
        #[serde(rename = "type")]
        cert_type: Option<String>,
        key_algorithm: Option<String>,
        signature_algorithm: Option<String>,
        created_at: Option<Timestamp>,
        issued_at: Option<Timestamp>,
        not_before: Option<Timestamp>,
        not_after: Option<Timestamp>,
        renewal_eligibility: Option<String>,
        key_usages: serde_json::Value,
        extended_key_usages: serde_json::Value,
    }
}

record! {
    /// One Inspector finding.
    pub struct InspectorFinding {
        finding_arn: Option<String>,
        severity: Option<String>,
        status: Option<String>,
        #[serde(rename = "type")]
        finding_type: Option<String>,
        title: Option<String>,
        description: Option<String>,
        first_observed_at: Option<Timestamp>,
        last_observed_at: Option<Timestamp>,
        updated_at: Option<Timestamp>,
    }
}
