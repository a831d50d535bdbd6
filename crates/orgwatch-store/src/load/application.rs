//! `application`: Application Signals services (regional).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::Snapshot;

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(rows) = &snap.application else {
        return Ok(());
    };
    let mut b = ctx.batch(
        "application_signals",
        &["service_name", "namespace", "key_attributes"],
    );
    for a in rows {
        b.push(
            key(&[&a.service_name]),
            vec![
                Val::text(&a.service_name),
                Val::text(&a.namespace),
                Val::json(&a.key_attributes),
            ],
        );
    }
    ctx.write(c, b).await
}
