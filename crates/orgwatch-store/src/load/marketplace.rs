//! `marketplace`: Marketplace usage from Cost Explorer (global: once per account and period).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::{Category, Snapshot};

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    ctx.global_table(
        c,
        snap,
        Category::Marketplace,
        &snap.marketplace,
        "marketplace_usage",
        &[
            "product_code",
            "product_name",
            "cost_consumed",
            "currency",
            "period_start",
            "period_end",
            "status",
        ],
        |ctx, m| {
            let start = m.period_start.map_or(ctx.period_start, |d| d.0);
            (
                key(&[&m.product_code, &Some(start.to_string())]),
                vec![
                    Val::text(&m.product_code),
                    Val::text(&m.product_name),
                    Val::real(m.cost_consumed),
                    Val::text(&m.currency),
                    Val::Date(start),
                    Val::Date(m.period_end.map_or(ctx.period_end, |d| d.0)),
                    Val::text(&m.status),
                ],
            )
        },
    )
    .await
}
