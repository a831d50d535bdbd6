//! Migrations upgrade databases that already hold data: each migration is applied to a
//! database at the version before it, with rows written the way that version wrote them — on
//! SQLite and PostgreSQL.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use sqlx::migrate::Migrator;
use std::borrow::Cow;

/// `full` without its migrations from `version` on.
fn before(full: &Migrator, version: i64) -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            full.migrations
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

/// 2024-01-01T00:00:00Z, and the hour from 10:00.
const DAY: i64 = 1_704_067_200;
const HOUR_10: i64 = DAY + 10 * 3600;

/// Rollups as version 3 wrote them: every event in its minute, hour *and* day rows. Of the
/// day's 5 calls, 3 are in hours that left the hour tier and 2 in the 10:00 hour; alice's 2
/// are all in that hour; the day before has only a day row.
const VERSION_3_ROLLUPS: &str = "INSERT INTO activity_rollups \
     (tier, window_start, account, region, metric, item, count) VALUES \
     ('day', 1704067200, '111111111111', 'us-east-1', 'total', '', 5), \
     ('day', 1704067200, '111111111111', 'us-east-1', 'principal', 'alice', 2), \
     ('day', 1703980800, '111111111111', 'us-east-1', 'total', '', 7), \
     ('hour', 1704103200, '111111111111', 'us-east-1', 'total', '', 2), \
     ('hour', 1704103200, '111111111111', 'us-east-1', 'principal', 'alice', 2)";

const ROLLUPS: &str = "SELECT tier, CAST(window_start AS TEXT), metric, item, CAST(count AS TEXT) \
     FROM activity_rollups ORDER BY tier, window_start, metric, item";

/// After version 4 every count is in exactly one of the day and hour rows.
fn expected() -> Vec<(String, i64, String, String, i64)> {
    let row = |tier: &str, start: i64, metric: &str, item: &str, n: i64| {
        (tier.into(), start, metric.into(), item.into(), n)
    };
    assert_eq!(HOUR_10, 1_704_103_200);
    vec![
        row("day", DAY - 86_400, "total", "", 7),
        row("day", DAY, "total", "", 3),
        row("hour", HOUR_10, "principal", "alice", 2),
        row("hour", HOUR_10, "total", "", 2),
    ]
}

fn parse(
    rows: Vec<(String, String, String, String, String)>,
) -> Vec<(String, i64, String, String, i64)> {
    rows.into_iter()
        .map(|(t, w, m, i, n)| (t, w.parse().unwrap(), m, i, n.parse().unwrap()))
        .collect()
}

#[sqlx::test(migrations = false)]
async fn day_rows_lose_the_hours_still_kept_sqlite(pool: sqlx::SqlitePool) {
    let full = &orgwatch_store::SQLITE_MIGRATOR;
    before(full, 4).run(&pool).await.unwrap();
    sqlx::query(VERSION_3_ROLLUPS).execute(&pool).await.unwrap();
    full.run(&pool).await.unwrap();
    let rows = sqlx::query_as(ROLLUPS).fetch_all(&pool).await.unwrap();
    assert_eq!(parse(rows), expected());
}

#[sqlx::test(migrations = false)]
async fn day_rows_lose_the_hours_still_kept_postgres(pool: sqlx::PgPool) {
    let full = &orgwatch_store::POSTGRES_MIGRATOR;
    before(full, 4).run(&pool).await.unwrap();
    sqlx::query(VERSION_3_ROLLUPS).execute(&pool).await.unwrap();
    full.run(&pool).await.unwrap();
    let rows = sqlx::query_as(ROLLUPS).fetch_all(&pool).await.unwrap();
    assert_eq!(parse(rows), expected());
}

/// Console sign-ins as version 10 stored them (no `sign_in_failed` column) at 10:00 of
/// 2024-01-01: one failed by its response only (which version 10 did not keep), one failed
/// with an error code, and an ordinary call.
const VERSION_10_EVENTS: &str = "INSERT INTO activity_events \
     (account, event_id, event_time, region, service, api, principal, principal_type, \
     source_ip, user_agent_family, error_code, read_only, event_type) VALUES \
     ('111111111111', 'a', 1704103200000, 'us-east-1', 'signin.amazonaws.com', 'ConsoleLogin', \
      'eve', 'IAMUser', '203.0.113.9', 'Browser', NULL, NULL, 'AwsConsoleSignIn'), \
     ('111111111111', 'b', 1704103201000, 'us-east-1', 'signin.amazonaws.com', 'ConsoleLogin', \
      'eve', 'IAMUser', '203.0.113.9', 'Browser', 'AccessDenied', NULL, 'AwsConsoleSignIn'), \
     ('111111111111', 'c', 1704103202000, 'us-east-1', 'ec2.amazonaws.com', 'RunInstances', \
      'alice', 'IAMUser', '198.51.100.7', 'SDK', NULL, NULL, 'AwsApiCall')";

/// After version 11, rows stored before it count as failed sign-ins only with an error code.
async fn failed_sign_ins_of_old_rows(store: orgwatch_store::Store) {
    let t = |s| orgwatch_model::Timestamp::parse(s).unwrap();
    let w = store
        .minute_counts(t("2024-01-01T10:00:00Z"), t("2024-01-01T10:01:00Z"))
        .await
        .unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].total, 3);
    let eve = ("eve".to_owned(), "203.0.113.9".to_owned());
    assert_eq!(
        w[0].failed_sign_ins,
        std::collections::BTreeMap::from([(eve, 1)])
    );
}

#[sqlx::test(migrations = false)]
async fn rows_before_the_sign_in_mark_read_as_not_failed_sqlite(pool: sqlx::SqlitePool) {
    let full = &orgwatch_store::SQLITE_MIGRATOR;
    before(full, 11).run(&pool).await.unwrap();
    sqlx::query(VERSION_10_EVENTS).execute(&pool).await.unwrap();
    full.run(&pool).await.unwrap();
    failed_sign_ins_of_old_rows(orgwatch_store::Store::from_sqlite(pool)).await;
}

#[sqlx::test(migrations = false)]
async fn rows_before_the_sign_in_mark_read_as_not_failed_postgres(pool: sqlx::PgPool) {
    let full = &orgwatch_store::POSTGRES_MIGRATOR;
    before(full, 11).run(&pool).await.unwrap();
    sqlx::query(VERSION_10_EVENTS).execute(&pool).await.unwrap();
    full.run(&pool).await.unwrap();
    failed_sign_ins_of_old_rows(orgwatch_store::Store::from_postgres(pool)).await;
}
