//! `security`: Security Hub summaries and findings, GuardDuty, KMS, WAF, CloudTrail, Secrets
//! Manager, ACM and Inspector (all regional).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Batch, Val};
use orgwatch_model::category::security::{Security, SecurityHubSummary, SeverityCounts};
use orgwatch_model::Snapshot;

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(sec) = &snap.security else {
        return Ok(());
    };
    // An absent part was not collected: it writes no rows (none is read as zero).
    security_hub(c, ctx, sec.security_hub.as_deref().unwrap_or_default()).await?;
    let batches = [
        guard_duty(ctx, sec),
        kms(ctx, sec),
        waf(ctx, sec),
        waf_rules(ctx, sec),
        cloudtrail(ctx, sec),
        secrets(ctx, sec),
        certificates(ctx, sec),
        inspector(ctx, sec),
    ];
    for b in batches {
        ctx.write(c, b).await?;
    }
    Ok(())
}

const FINDING_COLUMNS: &[&str] = &[
    "finding_id",
    "service",
    "title",
    "description",
    "severity",
    "status",
    "resource_type",
    "resource_id",
    "created_at",
    "updated_at",
    "recommendation",
    "compliance_status",
    "region",
    "workflow_state",
    "record_state",
    "product_name",
    "company_name",
    "product_arn",
    "generator_id",
    "generator",
];

async fn security_hub<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    summaries: &[SecurityHubSummary],
) -> Result<(), sqlx::Error> {
    // Two summaries of one product in one file are merged (the unique key is per product).
    let mut services: Vec<&str> = Vec::new();
    for s in summaries {
        let service = s.service.as_deref().unwrap_or("Security Hub");
        if !services.contains(&service) {
            services.push(service);
        }
    }
    if services.is_empty() {
        return Ok(());
    }
    let of = |service: &str| -> Vec<&SecurityHubSummary> {
        summaries
            .iter()
            .filter(|o| o.service.as_deref().unwrap_or("Security Hub") == service)
            .collect()
    };
    let mut rows = ctx.batch(
        "security",
        &[
            "service",
            "total_findings",
            "critical_count",
            "high_count",
            "medium_count",
            "low_count",
            "informational_count",
            "open_findings",
            "resolved_findings",
            "region",
        ],
    );
    for service in &services {
        let same = of(service);
        let sum = |f: &dyn Fn(&SecurityHubSummary) -> Option<i64>| {
            same.iter().map(|s| f(s).unwrap_or(0)).sum::<i64>()
        };
        let count = |f: &dyn Fn(&SeverityCounts) -> Option<i64>| {
            same.iter()
                .map(|s| s.severity_counts.as_ref().and_then(f).unwrap_or(0))
                .sum::<i64>()
        };
        let (critical, high, medium, low, info) = (
            count(&|c| c.critical),
            count(&|c| c.high),
            count(&|c| c.medium),
            count(&|c| c.low),
            count(&|c| c.informational),
        );
        let findings = same.iter().map(|s| s.findings.len() as i64).sum::<i64>();
        // Never fewer than the severities or findings listed: the documented "resolution rate"
        // query divides by total_findings wherever critical_count > 0.
        let total = sum(&|s| s.total_findings)
            .max(critical + high + medium + low + info)
            .max(findings);
        rows.push(
            None,
            vec![
                Val::str(service),
                Val::Int(total),
                Val::Int(critical),
                Val::Int(high),
                Val::Int(medium),
                Val::Int(low),
                Val::Int(info),
                Val::Int(sum(&|s| s.open_findings)),
                Val::Int(sum(&|s| s.resolved_findings)),
                Val::str(&ctx.region),
            ],
        );
    }
    // One statement for all products; the findings need each product's row id.
    let ids = ctx.insert_returning_many(c, &rows, "service").await?;

    for service in &services {
        let Some(security_id) = ids.get(*service) else {
            continue;
        };
        let mut b = Batch::new(
            "findings",
            &[
                ("security_id", Val::Int(*security_id)),
                ("snapshot_id", Val::Int(ctx.snapshot_id)),
                ("account_id", Val::Int(ctx.account)),
            ],
            FINDING_COLUMNS,
        );
        for f in of(service).iter().flat_map(|s| &s.findings) {
            b.push(
                key(&[&f.finding_id]),
                vec![
                    Val::text(&f.finding_id),
                    Val::text(&f.service),
                    Val::text(&f.title),
                    Val::text(&f.description),
                    Val::text(&f.severity),
                    Val::text(&f.status),
                    Val::text(&f.resource_type),
                    Val::text(&f.resource_id),
                    Val::ts(f.created_at),
                    Val::ts(f.updated_at),
                    Val::text(&f.recommendation),
                    Val::text(&f.compliance_status),
                    Val::text(&f.region),
                    Val::text(&f.workflow_state),
                    Val::text(&f.record_state),
                    Val::text(&f.product_name),
                    Val::text(&f.company_name),
                    Val::text(&f.product_arn),
                    Val::text(&f.generator_id),
                    Val::text(&f.generator),
                ],
            );
        }
        ctx.write(c, b).await?;
    }
    Ok(())
}

fn guard_duty(ctx: &Ctx<'_>, sec: &Security) -> Batch {
    let mut b = ctx.batch(
        "guard_duty_findings",
        &[
            "detector_id",
            "finding_id",
            "finding_type",
            "severity",
            "title",
            "description",
            "confidence",
            "region",
            "finding_created_at",
            "finding_updated_at",
        ],
    );
    for f in sec.guard_duty.iter().flatten() {
        b.push(
            key(&[&f.id]),
            vec![
                // A360's SQL reads the finding id from detector_id.
                Val::text(&f.id),
                Val::text(&f.id),
                Val::text(&f.finding_type),
                Val::real(f.severity),
                Val::text(&f.title),
                Val::text(&f.description),
                Val::real(f.confidence),
                Val::text(&f.region.clone().or_else(|| Some(ctx.region.clone()))),
                Val::ts(f.created_at),
                Val::ts(f.updated_at),
            ],
        );
    }
    b
}

fn kms(ctx: &Ctx<'_>, sec: &Security) -> Batch {
    let mut b = ctx.batch(
        "kms_keys",
        &[
            "key_id",
            "arn",
            "description",
            "key_usage",
            "key_state",
            "creation_date",
            "enabled",
            "key_rotation_enabled",
            "region",
        ],
    );
    for k in sec.kms.iter().flatten() {
        b.push(
            key(&[&k.key_id]),
            vec![
                Val::text(&k.key_id),
                Val::text(&k.arn),
                Val::text(&k.description),
                Val::text(&k.key_usage),
                Val::text(&k.key_state),
                Val::ts(k.creation_date),
                Val::bool(k.enabled),
                Val::bool(k.key_rotation_enabled),
                Val::str(&ctx.region),
            ],
        );
    }
    b
}

fn waf(ctx: &Ctx<'_>, sec: &Security) -> Batch {
    let mut b = ctx.batch(
        "waf_rules",
        &[
            "name",
            "waf_id",
            "arn",
            "scope",
            "description",
            "default_action",
            "rules_count",
            "capacity",
            "managed_rules_count",
            "custom_rules_count",
            "rate_limit_rules_count",
            "associated_resources",
            "associated_resources_count",
            "logging_enabled",
            "log_destinations",
            "geo_blocking_enabled",
            "blocked_countries",
            "created_date",
            "last_modified",
            "sampled_requests_enabled",
            "cloudwatch_metrics_enabled",
        ],
    );
    for w in sec.waf.iter().flatten() {
        b.push(
            key(&[&w.id, &w.scope]),
            vec![
                Val::text(&w.name),
                Val::text(&w.id),
                Val::text(&w.arn),
                Val::text(&w.scope),
                Val::text(&w.description),
                Val::json(&w.default_action),
                Val::int(w.rules_count),
                Val::int(w.capacity),
                Val::int(w.managed_rules_count),
                Val::int(w.custom_rules_count),
                Val::int(w.rate_limit_rules_count),
                Val::json_strings(&w.associated_resources),
                Val::int(
                    w.associated_resources_count
                        .or(Some(w.associated_resources.len() as i64)),
                ),
                Val::bool(w.logging_enabled),
                Val::json_strings(&w.log_destinations),
                Val::bool(w.geo_blocking_enabled),
                Val::Text(w.blocked_countries.join(",")),
                Val::ts(w.created_date),
                Val::ts(w.last_modified),
                Val::bool(w.sampled_requests_enabled),
                Val::bool(w.cloudwatch_metrics_enabled),
            ],
        );
    }
    b
}

fn waf_rules(ctx: &Ctx<'_>, sec: &Security) -> Batch {
    let mut b = ctx.batch(
        "waf_rules_detailed",
        &[
            "web_acl_name",
            "rule_name",
            "priority",
            "action",
            "statement_type",
            "is_managed_rule",
            "is_custom_rule",
            "rate_limit",
            "logging_enabled",
            "geo_blocking",
            "sql_injection",
            "sample_request_enabled",
            "cloudwatch_enabled",
            "has_xss_protection",
            "is_compliant",
            "waf_version",
            "scope",
        ],
    );
    for r in sec.waf_rules.iter().flatten() {
        let (Some(acl), Some(rule)) = (&r.web_acl_name, &r.rule_name) else {
            continue;
        };
        let action = match &r.action {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::String(s) => Val::Text(s.clone()),
            other => Val::Text(other.to_string()),
        };
        b.push(
            key(&[&r.web_acl_name, &r.rule_name, &r.scope]),
            vec![
                Val::str(acl),
                Val::str(rule),
                Val::Int(r.priority.unwrap_or(0)),
                action,
                Val::text(&r.statement_type),
                Val::bool(r.is_managed_rule),
                Val::bool(r.is_custom_rule),
                Val::bool(r.rate_limit),
                Val::bool(r.logging_enabled),
                Val::bool(r.geo_blocking),
                Val::bool(r.sql_injection),
                Val::bool(r.sample_request_enabled),
                Val::bool(r.cloudwatch_enabled),
                Val::bool(r.has_xss_protection),
                Val::bool(r.is_compliant),
                Val::text(&r.waf_version),
                Val::text(&r.scope),
            ],
        );
    }
    b
}

fn cloudtrail(ctx: &Ctx<'_>, sec: &Security) -> Batch {
    let mut b = ctx.batch(
        "cloudtrail_logs",
        &[
            "name",
            "arn",
            "is_logging",
            "is_multi_region",
            "include_global_events",
            "s3_bucket",
            "kms_key_id",
            "log_file_validation",
            "recent_events_count",
            "latest_delivery_time",
            "start_logging_time",
            "stop_logging_time",
        ],
    );
    for t in sec.cloudtrail.iter().flatten() {
        b.push(
            key(&[&t.arn]),
            vec![
                Val::text(&t.name),
                Val::text(&t.arn),
                Val::bool(t.is_logging),
                Val::bool(t.is_multi_region),
                Val::bool(t.include_global_events),
                Val::text(&t.s3_bucket),
                Val::text(&t.kms_key_id),
                Val::bool(t.log_file_validation),
                Val::int(t.recent_events_count),
                Val::ts(t.latest_delivery_time),
                Val::ts(t.start_logging_time),
                Val::ts(t.stop_logging_time),
            ],
        );
    }
    b
}

fn secrets(ctx: &Ctx<'_>, sec: &Security) -> Batch {
    let mut b = ctx.batch(
        "secrets_manager_secrets",
        &[
            "name",
            "arn",
            "description",
            "created_date",
            "last_changed_date",
            "last_accessed_date",
            "rotation_enabled",
            "rotation_lambda_arn",
            "kms_key_id",
            "tags",
        ],
    );
    for s in sec.secrets_manager.iter().flatten() {
        b.push(
            key(&[&s.arn]),
            vec![
                Val::text(&s.name),
                Val::text(&s.arn),
                Val::text(&s.description),
                Val::ts(s.created_date),
                Val::ts(s.last_changed_date),
                Val::ts(s.last_accessed_date),
                Val::bool(s.rotation_enabled),
                Val::text(&s.rotation_lambda_arn),
                Val::text(&s.kms_key_id),
                Val::json(&s.tags),
            ],
        );
    }
    b
}

fn certificates(ctx: &Ctx<'_>, sec: &Security) -> Batch {
    let mut b = ctx.batch(
        "certificates",
        &[
            "arn",
            "domain_name",
            "subject_alternative_names",
            "status",
            "type",
            "key_algorithm",
            "signature_algorithm",
            "issued_at",
            "not_before",
            "not_after",
            "renewal_eligibility",
            "certificate_created_at",
        ],
    );
    for cert in sec.certificate_manager.iter().flatten() {
        b.push(
            key(&[&cert.arn]),
            vec![
                Val::text(&cert.arn),
                Val::text(&cert.domain_name),
                Val::json_strings(&cert.subject_alternative_names),
                Val::text(&cert.status),
                Val::text(&cert.cert_type),
                Val::text(&cert.key_algorithm),
                Val::text(&cert.signature_algorithm),
                Val::ts(cert.issued_at),
                Val::ts(cert.not_before),
                Val::ts(cert.not_after),
                Val::text(&cert.renewal_eligibility),
                Val::ts(cert.created_at),
            ],
        );
    }
    b
}

fn inspector(ctx: &Ctx<'_>, sec: &Security) -> Batch {
    let mut b = ctx.batch(
        "inspector_findings",
        &[
            "finding_arn",
            "severity",
            "status",
            "type",
            "title",
            "description",
            "first_observed_at",
            "last_observed_at",
            "updated_at",
        ],
    );
    for f in sec.inspector.iter().flatten() {
        b.push(
            key(&[&f.finding_arn]),
            vec![
                Val::text(&f.finding_arn),
                Val::text(&f.severity),
                Val::text(&f.status),
                Val::text(&f.finding_type),
                Val::text(&f.title),
                Val::text(&f.description),
                Val::ts(f.first_observed_at),
                Val::ts(f.last_observed_at),
                Val::ts(f.updated_at),
            ],
        );
    }
    b
}
