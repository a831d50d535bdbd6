//! `service_resources`: resources by service (regional, except S3 buckets, which are listed
//! account-wide and so stored once per account and period).

use super::{collected, Ctx};
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::{Category, Snapshot};

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(rows) = &snap.service_resources else {
        return Ok(());
    };
    let globals_here = collected(snap, Category::ServiceResources);
    if globals_here {
        ctx.clear_global(c, "service_resources", " AND service_name = 'S3'")
            .await?;
    }
    let mut b = ctx.batch(
        "service_resources",
        &[
            "service_name",
            "resource_type",
            "resource_id",
            "resource_name",
            "region",
            "availability_zone",
            "state",
            "instance_type",
            "vpc_id",
            "engine",
            "instance_class",
            "multi_az",
            "size_gb",
            "volume_type",
            "creation_date",
            "type",
            "scheme",
            "instance_count",
            "min_size",
            "max_size",
            "available_ip_count",
        ],
    );
    for r in rows {
        if r.is_global() && !globals_here {
            continue;
        }
        b.push(
            key(&[&r.service_name, &r.resource_type, &r.resource_id]),
            vec![
                Val::text(&r.service_name),
                Val::text(&r.resource_type),
                Val::text(&r.resource_id),
                Val::text(&r.resource_name),
                Val::text(&r.region.clone().or_else(|| Some(ctx.region.clone()))),
                Val::text(&r.availability_zone),
                Val::text(&r.state),
                Val::text(&r.instance_type),
                Val::text(&r.vpc_id),
                Val::text(&r.engine),
                Val::text(&r.instance_class),
                Val::bool(r.multi_az),
                Val::real(r.size_gb),
                Val::text(&r.volume_type),
                Val::ts(r.creation_date),
                Val::text(&r.resource_kind),
                Val::text(&r.scheme),
                Val::int(r.instance_count),
                Val::int(r.min_size),
                Val::int(r.max_size),
                Val::int(r.available_ip_count),
            ],
        );
    }
    ctx.write(c, b).await
}
