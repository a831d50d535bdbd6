//! `config_inventory`: resources recorded by AWS Config (regional).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::Snapshot;

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(rows) = &snap.config_inventory else {
        return Ok(());
    };
    let mut b = ctx.batch(
        "config_inventory",
        &[
            "resource_type",
            "resource_subtype",
            "resource_id",
            "resource_name",
            "region",
            "availability_zone",
            "state",
            "arn",
            "creation_date",
            "configuration",
        ],
    );
    for r in rows {
        let (Some(kind), Some(id)) = (&r.resource_type, &r.resource_id) else {
            continue;
        };
        b.push(
            key(&[&r.resource_type, &r.resource_id]),
            vec![
                Val::str(kind),
                Val::text(&r.resource_subtype),
                Val::str(id),
                Val::text(&r.resource_name),
                Val::text(&r.region.clone().or_else(|| Some(ctx.region.clone()))),
                Val::text(&r.availability_zone),
                Val::text(&r.state),
                Val::text(&r.arn),
                Val::ts(r.creation_date),
                Val::json(&r.configuration),
            ],
        );
    }
    ctx.write(c, b).await
}
