//! `resilience_hub`: Resilience Hub applications (regional).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::Snapshot;

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(rows) = &snap.resilience_hub else {
        return Ok(());
    };
    let mut b = ctx.batch(
        "resilience_hub_apps",
        &[
            "app_arn",
            "name",
            "description",
            "creation_time",
            "last_assessment_time",
            "compliance_status",
            "resiliency_score",
            "status",
            "rpo",
            "rto",
            "last_drill",
            "cost",
        ],
    );
    for a in rows {
        b.push(
            key(&[&a.app_arn]),
            vec![
                Val::text(&a.app_arn),
                Val::text(&a.name),
                Val::text(&a.description),
                Val::ts(a.creation_time),
                Val::ts(a.last_assessment_time),
                Val::text(&a.compliance_status),
                Val::real(a.resiliency_score),
                Val::text(&a.status),
                Val::int(a.rpo),
                Val::int(a.rto),
                Val::ts(a.last_drill),
                Val::real(a.cost),
            ],
        );
    }
    ctx.write(c, b).await
}
