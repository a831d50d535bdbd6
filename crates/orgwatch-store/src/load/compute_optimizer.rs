//! `compute_optimizer`: right-sizing recommendations (regional).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::Snapshot;

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(rows) = &snap.compute_optimizer else {
        return Ok(());
    };
    let mut b = ctx.batch(
        "compute_optimizer",
        &[
            "resource_type",
            "resource_arn",
            "resource_name",
            "finding",
            "current_instance_type",
            "recommended_instance_type",
            "current_memory_size",
            "recommended_memory_size",
            "current_volume_type",
            "recommended_volume_type",
            "current_volume_size",
            "recommended_volume_size",
            "savings_opportunity_percentage",
            "estimated_monthly_savings_usd",
            "performance_risk",
            "cpu_utilization_max",
            "memory_utilization_avg",
            "migration_effort",
        ],
    );
    for r in rows {
        b.push(
            key(&[&r.resource_arn]),
            vec![
                Val::text(&r.resource_type),
                Val::text(&r.resource_arn),
                Val::text(&r.resource_name),
                Val::text(&r.finding),
                Val::text(&r.current_instance_type),
                Val::text(&r.recommended_instance_type),
                Val::real(r.current_memory_size),
                Val::real(r.recommended_memory_size),
                Val::text(&r.current_volume_type),
                Val::text(&r.recommended_volume_type),
                Val::real(r.current_volume_size),
                Val::real(r.recommended_volume_size),
                Val::real(r.savings_opportunity_percentage),
                Val::real(r.estimated_monthly_savings_usd),
                Val::real(r.performance_risk),
                Val::real(r.cpu_utilization_max),
                Val::real(r.memory_utilization_avg),
                Val::text(&r.migration_effort),
            ],
        );
    }
    ctx.write(c, b).await
}
