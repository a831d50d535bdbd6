//! `gauges`: the figures a metrics scrape reads from the database (`/metrics` of the web
//! app), each one cheap query: loaded snapshot files, the activity ledger, recent events, the
//! stream's progress and the stored alarms by kind.

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
    /// Recent events held (drill-down and de-duplication; the recent-events retention).
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
        const FILES: &str = "SELECT COUNT(*) FROM activity_files WHERE size >= 0 AND error IS NULL";
        const FAILED: &str =
            "SELECT COUNT(*) FROM activity_files WHERE size >= 0 AND error IS NOT NULL";
        const EVENTS: &str = "SELECT COUNT(*) FROM activity_events";
        const STATE: &str =
            "SELECT max_event_time, scored_until FROM activity_state WHERE name = 'default'";
        const ALARMS: &str = "SELECT COALESCE(kind, 'unknown'), COUNT(*) FROM activity_anomalies \
             WHERE alarm GROUP BY COALESCE(kind, 'unknown') ORDER BY 1";
        type Row = (Option<i64>, Option<i64>);
        let (snapshots, files, failed, events, state, alarms) = on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let snapshots = tx.fetch_i64(SNAPSHOTS, &[]).await?.unwrap_or(0);
            let files = tx.fetch_i64(FILES, &[]).await?.unwrap_or(0);
            let failed = tx.fetch_i64(FAILED, &[]).await?.unwrap_or(0);
            let events = tx.fetch_i64(EVENTS, &[]).await?.unwrap_or(0);
            let state: Option<Row> = tx.fetch_optional(STATE, &[]).await?;
            let alarms: Vec<(String, i64)> = tx.fetch_all(ALARMS, &[]).await?;
            tx.commit().await?;
            (snapshots, files, failed, events, state, alarms)
        });
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
