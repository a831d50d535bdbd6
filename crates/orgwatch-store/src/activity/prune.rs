//! `prune`: retention of the rollups, recent events and scores (hours folded into days).

use super::rows::ROLLUPS_CONFLICT;
use super::{epoch_ms, Pruned, Retention, Tier, DAY_OF_WINDOW};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Backend, Store, StoreError};

/// Adds the hour rows before `cut` (epoch seconds) to the rows of their days and deletes
/// them; returns how many hour rows went. On PostgreSQL the rows are taken by the `DELETE`
/// itself, so that of two workers pruning at once each hour row is folded by exactly one
/// (SQLite has one writer at a time).
async fn fold_hours_into_days<C: Conn>(
    c: &mut C,
    cut: i64,
    backend: Backend,
) -> Result<u64, sqlx::Error> {
    let columns = "tier, window_start, account, region, metric, item, count";
    let upsert = ROLLUPS_CONFLICT;
    if backend == Backend::Postgres {
        let sql = format!(
            "WITH gone AS (DELETE FROM activity_rollups WHERE tier = 'hour' AND window_start < ? \
             RETURNING window_start, account, region, metric, item, count), \
             folded AS (INSERT INTO activity_rollups ({columns}) \
             SELECT 'day', {DAY_OF_WINDOW}, account, region, metric, item, SUM(count) FROM gone \
             GROUP BY {DAY_OF_WINDOW}, account, region, metric, item {upsert}) \
             SELECT COUNT(*) FROM gone"
        );
        let gone = c.fetch_i64(&sql, &[Val::Int(cut)]).await?;
        return Ok(gone.unwrap_or(0) as u64);
    }
    let sql = format!(
        "INSERT INTO activity_rollups ({columns}) \
         SELECT 'day', {DAY_OF_WINDOW}, account, region, metric, item, SUM(count) \
         FROM activity_rollups WHERE tier = 'hour' AND window_start < ? \
         GROUP BY {DAY_OF_WINDOW}, account, region, metric, item {upsert}"
    );
    c.exec(&sql, &[Val::Int(cut)]).await?;
    c.exec(
        "DELETE FROM activity_rollups WHERE tier = 'hour' AND window_start < ?",
        &[Val::Int(cut)],
    )
    .await
}

impl Store {
    /// Deletes rollups, recent events and scores older than their retention, counted back from
    /// the newest stored event time.
    pub async fn prune_activity(&self, retention: &Retention) -> Result<Pruned, StoreError> {
        let state = self.activity_state().await?;
        let Some(max) = state.max_event_time else {
            return Ok(Pruned::default());
        };
        let max_s = epoch_ms(max).div_euclid(1000);
        let before = |keep: std::time::Duration| max_s - keep.as_secs() as i64;
        let mut pruned = Pruned::default();
        on_pool!(self, |p, backend| {
            let mut tx = p.begin_with(backend.begin_write()).await?;
            for (tier, keep) in [
                (Tier::Minute, retention.minutes),
                (Tier::Hour, retention.hours),
                (Tier::Day, retention.days),
            ] {
                if let Some(keep) = keep {
                    // A window is kept while any of it is inside the retention.
                    let cut = before(keep) - tier.seconds();
                    pruned.rollups += if tier == Tier::Hour {
                        fold_hours_into_days(&mut *tx, cut, backend).await?
                    } else {
                        Conn::exec(
                            &mut *tx,
                            "DELETE FROM activity_rollups WHERE tier = ? AND window_start < ?",
                            &[Val::str(tier.as_str()), Val::Int(cut)],
                        )
                        .await?
                    };
                }
            }
            if let Some(keep) = retention.events {
                pruned.events += Conn::exec(
                    &mut *tx,
                    "DELETE FROM activity_events WHERE event_time < ?",
                    &[Val::Int(before(keep) * 1000)],
                )
                .await?;
            }
            if let Some(keep) = retention.hours {
                pruned.anomalies += Conn::exec(
                    &mut *tx,
                    "DELETE FROM activity_anomalies WHERE window_start < ?",
                    &[Val::Int(before(keep))],
                )
                .await?;
            }
            if pruned.events + pruned.anomalies + pruned.rollups > 0 {
                // What a report reads changed: its version must too (`activity_version`).
                Conn::exec(
                    &mut *tx,
                    "UPDATE activity_state SET stored_batches = stored_batches + 1 \
                     WHERE name = 'default'",
                    &[],
                )
                .await?;
            }
            tx.commit().await?;
        });
        Ok(pruned)
    }
}
