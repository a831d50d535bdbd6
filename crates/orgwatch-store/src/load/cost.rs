//! `cost`: the account's cost report, top services and forecast (global: once per account and
//! period).

use super::{collected, Ctx};
use crate::conn::Conn;
use crate::value::{Batch, Val};
use orgwatch_model::{Category, Snapshot};

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(cost) = &snap.cost else {
        return Ok(());
    };
    if !collected(snap, Category::Cost) {
        return Ok(());
    }
    // Children first: they belong to the cleared reports through their snapshot only.
    for table in ["service_costs", "cost_forecasts", "cost_reports"] {
        ctx.clear_global(c, table, "").await?;
    }
    let current = cost.current_period_cost.unwrap_or(0.0);
    let previous = cost.previous_period_cost.unwrap_or(0.0);
    let difference = cost.cost_difference.unwrap_or(current - previous);
    let percentage = cost
        .cost_difference_percentage
        .unwrap_or(if previous > 0.0 {
            difference / previous * 100.0
        } else {
            0.0
        });
    let period_end = cost
        .period
        .as_ref()
        .and_then(|p| p.end)
        .map_or(ctx.period_end, |d| d.0);
    let mut report = ctx.batch(
        "cost_reports",
        &[
            "current_period_cost",
            "previous_period_cost",
            "cost_difference",
            "cost_difference_percentage",
            "period_start",
            "period_end",
            "period_granularity",
            "region",
        ],
    );
    report.push(
        None,
        vec![
            Val::Real(current),
            Val::Real(previous),
            Val::Real(difference),
            Val::Real(percentage),
            Val::Date(ctx.period_start),
            Val::Date(period_end),
            Val::str(ctx.granularity),
            Val::str("Global"),
        ],
    );
    let report_id = ctx.insert_returning(c, &report).await?;

    let leading = [
        ("cost_report_id", Val::Int(report_id)),
        ("snapshot_id", Val::Int(ctx.snapshot_id)),
    ];
    let mut top = Batch::new(
        "service_costs",
        &leading,
        &["service_name", "cost", "region"],
    );
    for s in &cost.top_services {
        let Some(name) = &s.service else { continue };
        top.push(
            Some(name.clone()),
            vec![
                Val::str(name),
                Val::Real(s.cost.unwrap_or(0.0)),
                Val::str("Global"),
            ],
        );
    }
    ctx.write(c, top).await?;

    let mut forecast = Batch::new(
        "cost_forecasts",
        &leading,
        &["period_start", "period_end", "amount", "region"],
    );
    for f in &cost.forecast {
        let (start, end) = f.period.as_ref().map_or((None, None), |p| (p.start, p.end));
        forecast.push(
            start.map(|d| d.to_string()),
            vec![
                Val::day(start),
                Val::day(end),
                Val::real(f.amount),
                Val::str("Global"),
            ],
        );
    }
    ctx.write(c, forecast).await
}
