//! `service`: cost per AWS service (global: stored once per account and period).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::{Category, Snapshot};

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(rows) = ctx
        .take_global(c, snap, Category::Service, &snap.service, "services")
        .await?
    else {
        return Ok(());
    };
    let mut b = ctx.batch(
        "services",
        &[
            "service",
            "date_from",
            "date_to",
            "cost",
            "currency",
            "utilization",
            "utilization_unit",
            "usage_types",
            "region",
        ],
    );
    for s in rows {
        let Some(name) = &s.service else { continue };
        let usage = s
            .usage_types
            .clone()
            .unwrap_or_else(|| "Aggregated".to_owned());
        let from = s.date_from.map_or(ctx.period_start, |d| d.0);
        let to = s.date_to.map_or(ctx.period_end, |d| d.0);
        b.push(
            key(&[&s.service, &Some(usage.clone()), &Some(from.to_string())]),
            vec![
                Val::str(name),
                Val::Date(from),
                Val::Date(to),
                Val::Real(s.cost.unwrap_or(0.0)),
                Val::str(s.currency.as_deref().unwrap_or("USD")),
                Val::real(s.utilization),
                Val::text(&s.utilization_unit),
                Val::Text(usage),
                Val::str("Global"),
            ],
        );
    }
    ctx.write(c, b).await
}
