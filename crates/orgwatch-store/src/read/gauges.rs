//! `gauges`: the figures a metrics scrape reads from the database (`/metrics` of the web
//! app): loaded snapshot files, the activity ledger (files and the events they stored), the
//! stream's progress and the stored alarms by kind. None counts the events table: the ledger
//! has a row per file, the events table one per event.

use super::count;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::{Store, StoreError};
use orgwatch_model::activity::{from_epoch_ms, from_epoch_s};
use orgwatch_model::Timestamp;

/// What the database holds, read at once for a metrics scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreGauges {
    /// Snapshot files loaded (one row each in `snapshots`; a file a newer one replaced is
    /// counted once). Files that failed are moved to `failed/` and never reach the database.
    pub snapshot_files: u64,
    /// CloudTrail files read to their end (the activity ledger, without failures).
    pub activity_files_read: u64,
    /// CloudTrail files that could not be read (the ledger rows with an error).
    pub activity_files_failed: u64,
    /// CloudTrail events stored, all time (new ones: a duplicate is not counted), summed over
    /// the ledger.
    pub events_stored: u64,
    /// Newest event time stored, if any.
    pub newest_event: Option<Timestamp>,
    /// Minute windows starting before this are closed and scored.
    pub scored_until: Option<Timestamp>,
    /// Stored alarms by kind (`forest`, `count`, `new_api`, …; `unknown` for alarms stored
    /// before alarms had a kind), in kind order.
    pub alarms: Vec<(String, u64)>,
}

impl Store {
    /// The figures of a metrics scrape, in one read snapshot (so the figures agree).
    pub async fn gauges(&self) -> Result<StoreGauges, StoreError> {
        const SNAPSHOTS: &str = "SELECT COUNT(*) FROM snapshots";
        // One pass over the ledger; an incomplete read (size -1) is neither read nor failed,
        // but the events it stored are stored. CAST: PostgreSQL's SUM of a BIGINT is NUMERIC.
        const LEDGER: &str = "SELECT \
             CAST(COALESCE(SUM(CASE WHEN size >= 0 AND error IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN size >= 0 AND error IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(new_events), 0) AS BIGINT) FROM activity_files";
        const STATE: &str =
            "SELECT max_event_time, scored_until FROM activity_state WHERE name = 'default'";
        const ALARMS: &str = "SELECT COALESCE(kind, 'unknown'), COUNT(*) FROM activity_anomalies \
             WHERE alarm GROUP BY COALESCE(kind, 'unknown') ORDER BY 1";
        type Row = (Option<i64>, Option<i64>);
        let (snapshots, ledger, state, alarms) = on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let snapshots = tx.fetch_i64(SNAPSHOTS, &[]).await?.unwrap_or(0);
            let ledger: Option<(i64, i64, i64)> = tx.fetch_optional(LEDGER, &[]).await?;
            let state: Option<Row> = tx.fetch_optional(STATE, &[]).await?;
            let alarms: Vec<(String, i64)> = tx.fetch_all(ALARMS, &[]).await?;
            tx.commit().await?;
            (snapshots, ledger, state, alarms)
        });
        let (files, failed, events) = ledger.unwrap_or_default();
        let (newest_ms, scored_s) = state.unwrap_or_default();
        Ok(StoreGauges {
            snapshot_files: count(snapshots)?,
            activity_files_read: count(files)?,
            activity_files_failed: count(failed)?,
            events_stored: count(events)?,
            newest_event: newest_ms.map(from_epoch_ms).transpose()?,
            scored_until: scored_s.map(from_epoch_s).transpose()?,
            alarms: alarms
                .into_iter()
                .map(|(kind, n)| Ok((kind, count(n)?)))
                .collect::<Result<_, StoreError>>()?,
        })
    }
}
