//! `config`: the AWS Config compliance report and its rule evaluations (regional).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Batch, Val};
use orgwatch_model::Snapshot;

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(cfg) = &snap.config else {
        return Ok(());
    };
    let mut report = ctx.batch(
        "config_reports",
        &[
            "date_from",
            "date_to",
            "compliance_score",
            "total_rules",
            "compliant_rules",
            "non_compliant_rules",
            "curr_non_compliant",
            "curr_compliant",
            "region",
        ],
    );
    report.push(
        None,
        vec![
            Val::Date(cfg.date_from.map_or(ctx.period_start, |d| d.0)),
            Val::Date(cfg.date_to.map_or(ctx.period_end, |d| d.0)),
            Val::real(cfg.compliance_score),
            Val::int(cfg.total_rules),
            Val::int(cfg.compliant_rules),
            Val::int(cfg.non_compliant_rules),
            Val::int(cfg.curr_non_compliant),
            Val::int(cfg.curr_compliant),
            Val::str(&ctx.region),
        ],
    );
    let report_id = ctx.insert_returning(c, &report).await?;
    let mut b = Batch::new(
        "non_compliant_resources",
        &[
            ("config_report_id", Val::Int(report_id)),
            ("snapshot_id", Val::Int(ctx.snapshot_id)),
            ("account_id", Val::Int(ctx.account)),
        ],
        &[
            "resource_type",
            "resource_id",
            "compliance_type",
            "rule_name",
            "annotation",
            "evaluation_mode",
            "conformance_pack",
            "status",
            "config_rule_invoked_time",
        ],
    );
    for r in &cfg.non_compliant_resources {
        let status = if r.compliance_type.as_deref() == Some("COMPLIANT") {
            "RESOLVED"
        } else {
            "OPEN"
        };
        b.push(
            key(&[&r.rule_name, &r.resource_type, &r.resource_id]),
            vec![
                Val::text(&r.resource_type),
                Val::text(&r.resource_id),
                Val::text(&r.compliance_type),
                Val::text(&r.rule_name),
                Val::text(&r.annotation),
                Val::text(&r.evaluation_mode),
                Val::str(r.conformance_pack.as_deref().unwrap_or("Standalone")),
                Val::str(status),
                Val::ts(r.config_rule_invoked_time),
            ],
        );
    }
    ctx.write(c, b).await
}
