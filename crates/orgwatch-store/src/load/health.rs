//! `health`: AWS Health events (global: once per account and period; the same public event
//! belongs to every account that reports it, never flipping between them).

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
        Category::Health,
        &snap.health,
        "health_events",
        &[
            "arn",
            "service",
            "event_type_code",
            "event_type_category",
            "region",
            "availability_zone",
            "start_time",
            "end_time",
            "last_updated_time",
            "status_code",
            "event_scope_code",
        ],
        |_, e| {
            (
                key(&[&e.arn]),
                vec![
                    Val::text(&e.arn),
                    Val::text(&e.service),
                    Val::text(&e.event_type_code),
                    Val::text(&e.event_type_category),
                    Val::text(&e.region),
                    Val::text(&e.availability_zone),
                    Val::ts(e.start_time),
                    Val::ts(e.end_time),
                    Val::ts(e.last_updated_time),
                    Val::text(&e.status_code),
                    Val::text(&e.event_scope_code),
                ],
            )
        },
    )
    .await
}
