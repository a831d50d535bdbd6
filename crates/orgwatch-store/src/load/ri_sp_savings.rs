//! `ri_sp_savings`: daily utilisation of Reserved Instances (regional) and Savings Plans
//! (global: once per account and period).

use super::{collected, Ctx};
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::{Category, Snapshot};

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(rows) = &snap.ri_sp_savings else {
        return Ok(());
    };
    let globals_here = collected(snap, Category::RiSpSavings);
    if globals_here {
        ctx.clear_global(
            c,
            "ri_sp_daily_savings",
            " AND reservation_type = 'Savings Plan'",
        )
        .await?;
    }
    let mut b = ctx.batch(
        "ri_sp_daily_savings",
        &[
            "date_from",
            "date_to",
            "date",
            "reservation_type",
            "subscription_id",
            "utilization_percentage",
            "on_demand_cost",
            "reservation_cost",
            "net_savings",
            "service",
            "offering_id",
            "savings_plan_arn",
            "instance_type",
            "instance_family",
            "instance_count",
            "instance_tenancy",
            "offering_class",
            "offering_type",
            "product_types",
            "region",
            "currency",
            "commitment",
            "upfront_cost",
            "recurring_cost",
            "recurring_frequency",
            "usage_price",
            "start_date",
            "end_date",
            "returnable_until",
            "duration_seconds",
            "state",
            "description",
        ],
    );
    for r in rows {
        if r.is_global() && !globals_here {
            continue;
        }
        let (Some(kind), Some(sub)) = (&r.reservation_type, &r.subscription_id) else {
            continue;
        };
        let day = r.date.map(|d| d.to_string());
        b.push(
            key(&[&r.reservation_type, &r.subscription_id, &day]),
            vec![
                Val::day(r.date_from),
                Val::day(r.date_to),
                Val::day(r.date),
                Val::str(kind),
                Val::str(sub),
                Val::real(r.utilization_percentage),
                Val::real(r.on_demand_cost),
                Val::real(r.reservation_cost),
                Val::real(r.net_savings),
                Val::text(&r.service),
                Val::text(&r.offering_id),
                Val::text(&r.savings_plan_arn),
                Val::text(&r.instance_type),
                Val::text(&r.instance_family),
                Val::int(r.instance_count),
                Val::text(&r.instance_tenancy),
                Val::text(&r.offering_class),
                Val::text(&r.offering_type),
                Val::text(&r.product_types),
                Val::text(&r.region),
                Val::text(&r.currency),
                Val::real(r.commitment),
                Val::real(r.upfront_cost),
                Val::real(r.recurring_cost),
                Val::text(&r.recurring_frequency),
                Val::real(r.usage_price),
                Val::ts(r.start_date),
                Val::ts(r.end_date),
                Val::ts(r.returnable_until),
                Val::int(r.duration_seconds),
                Val::text(&r.state),
                Val::text(&r.description),
            ],
        );
    }
    ctx.write(c, b).await
}
