//! `security`: Security Hub, GuardDuty, KMS, WAF, CloudTrail, Secrets Manager, ACM, Inspector.

use crate::lenient::record;
use crate::time::Timestamp;

record! {
    /// The `security` object (the sender writes `[]` when collection failed).
    pub struct Security {
        security_hub: Vec<SecurityHubSummary>,
        guard_duty: Vec<GuardDutyFinding>,
        kms: Vec<KmsKey>,
        waf: Vec<WebAcl>,
        waf_rules: Vec<WafRule>,
        cloudtrail: Vec<Trail>,
        secrets_manager: Vec<Secret>,
        certificate_manager: Vec<Certificate>,
        inspector: Vec<InspectorFinding>,
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
