//! `trusted_advisor`: flagged checks (global: once per account and period).

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
        Category::TrustedAdvisor,
        &snap.trusted_advisor,
        "trusted_advisor_checks",
        &[
            "check_name",
            "category",
            "severity",
            "recommendation",
            "affected_resources_count",
            "potential_savings",
            "timestamp",
        ],
        |_, t| {
            (
                key(&[&t.check_name]),
                vec![
                    Val::text(&t.check_name),
                    Val::text(&t.category),
                    Val::text(&t.severity),
                    Val::text(&t.recommendation),
                    Val::int(t.affected_resources_count),
                    Val::real(t.potential_savings),
                    Val::ts(t.timestamp),
                ],
            )
        },
    )
    .await
}
