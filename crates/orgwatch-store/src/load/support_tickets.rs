//! `support_tickets`: AWS Support cases (global: once per account and period).

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
        Category::SupportTickets,
        &snap.support_tickets,
        "support_tickets",
        &[
            "case_id",
            "display_id",
            "subject",
            "status",
            "severity_code",
            "service_code",
            "category_code",
            "time_created",
            "submitted_by",
            "language",
            "date_from",
            "date_to",
        ],
        |ctx, t| {
            (
                key(&[&t.case_id]),
                vec![
                    Val::text(&t.case_id),
                    Val::text(&t.display_id),
                    Val::text(&t.subject),
                    Val::text(&t.status),
                    Val::text(&t.severity_code),
                    Val::text(&t.service_code),
                    Val::text(&t.category_code),
                    Val::ts(t.time_created),
                    Val::text(&t.submitted_by),
                    Val::text(&t.language),
                    Val::Date(t.date_from.map_or(ctx.period_start, |d| d.0)),
                    Val::Date(t.date_to.map_or(ctx.period_end, |d| d.0)),
                ],
            )
        },
    )
    .await
}
