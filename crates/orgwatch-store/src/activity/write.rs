//! `write`: storing decoded files of events in one transaction (events, rollups, ledger,
//! stream state), and the ledger entry of a file that could not be read.

use super::rows::{prepare_activity, rollup_rows, EventRows, PreparedActivity, ROLLUPS_CONFLICT};
use super::{
    epoch_ms, from_epoch_ms, from_epoch_s, window, ActivityFile, ActivityState, ActivityStored,
    NONE,
};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::read::count;
use crate::value::Val;
use crate::{Backend, Store, StoreError};
use std::collections::HashSet;

/// The PostgreSQL channel a transaction that stored new events notifies (its payload: how
/// many), so that a web server on the same database updates its live pages at once.
pub const ACTIVITY_CHANNEL: &str = "orgwatch_activity";

const EVENTS_CONFLICT: &str = "ON CONFLICT (event_time, account, event_id) DO NOTHING";

/// How a write learns which of its events are new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Insert {
    /// Insert them and compare the count, no row sent back: the usual case, every event new.
    Counted,
    /// Insert them with `RETURNING`: each new event comes back.
    Returning,
}

/// Writes a batch in the transaction `c`. With [`Insert::Counted`], returns `None` (the
/// caller rolls back and writes again with [`Insert::Returning`]) when some events were stored
/// already.
async fn store<C: Conn>(
    c: &mut C,
    files: &[ActivityFile<'_>],
    prepared: &PreparedActivity,
    backend: Backend,
    insert: Insert,
) -> Result<Option<ActivityStored>, StoreError> {
    let state = read_state(c).await?;
    let scored_until = state.scored_until.map(|t| epoch_ms(t) / 1000);
    let order = &prepared.order;

    let events = EventRows { files, order };
    let all_new = insert == Insert::Counted;
    let mut returned = HashSet::new();
    if all_new {
        let inserted = c.insert_count(&events, EVENTS_CONFLICT).await?;
        if inserted != order.len() as u64 {
            return Ok(None);
        }
    } else {
        returned = c
            .insert_with::<(String, String, i64)>(
                &events,
                &format!("{EVENTS_CONFLICT} RETURNING account, event_id, event_time"),
            )
            .await?
            .into_iter()
            .collect();
    }
    let mut fresh: Vec<Vec<bool>> = files.iter().map(|f| vec![false; f.events.len()]).collect();
    // Per file, the positions an earlier read of it stored: only asked when some events were
    // stored already (rereads are told from duplicates by position).
    let mut read_before = vec![0u64; files.len()];
    if !all_new {
        for (f, file) in files.iter().enumerate() {
            if file.offset.is_some() {
                let events: Option<i64> = c
                    .fetch_optional(
                        "SELECT events FROM activity_files WHERE path = ?",
                        &[Val::str(file.path)],
                    )
                    .await?
                    .map(|(n,): (i64,)| n);
                read_before[f] = events.map(count).transpose()?.unwrap_or(0);
            }
        }
    }
    let mut out = ActivityStored::default();
    let mut max_ms: Option<i64> = None;
    for &(f, i) in order {
        let e = &files[f].events[i];
        let ms = epoch_ms(e.event_time);
        // The first occurrence of a key in this write takes the insert; the rest are duplicates.
        let new = all_new
            || returned.remove(&(
                e.account.as_ref().map_or(NONE, |a| a.as_str()).to_owned(),
                e.dedup_id().to_owned(),
                ms,
            ));
        if new {
            fresh[f][i] = true;
            out.new_events += 1;
            max_ms = Some(max_ms.map_or(ms, |m| m.max(ms)));
            if scored_until.is_some_and(|s| window(ms, 60) < s) {
                out.late_events += 1;
            }
        } else if files[f]
            .offset
            .is_some_and(|o| o + (i as u64) < read_before[f])
        {
            out.rereads += 1;
        } else {
            out.duplicates += 1;
        }
    }
    if all_new {
        c.insert_count(&prepared.rollups, ROLLUPS_CONFLICT).await?;
    } else {
        let new_events = files.iter().zip(&fresh).flat_map(|(file, mask)| {
            file.events
                .iter()
                .zip(mask)
                .filter(|(_, &new)| new)
                .map(|(e, _)| e)
        });
        c.insert_count(&rollup_rows(new_events), ROLLUPS_CONFLICT)
            .await?;
    }

    for (file, mask) in files.iter().zip(&fresh) {
        let times = file.events.iter().map(|e| epoch_ms(e.event_time));
        let first = times.clone().min();
        let last = times.max();
        let new = mask.iter().filter(|&&n| n).count() as i64;
        let opt = |v: Option<i64>| v.map_or(Val::Null, Val::Int);
        let (least, greatest) = backend.least_greatest();
        // A file's events by position (through this chunk); a stream's reads add up.
        let (events, events_sql) = match file.offset {
            Some(offset) => (
                offset + file.events.len() as u64,
                format!("{greatest}(activity_files.events, excluded.events)"),
            ),
            None => (
                file.events.len() as u64,
                "activity_files.events + excluded.events".to_owned(),
            ),
        };
        c.exec(
            &format!(
                "INSERT INTO activity_files (path, size, events, new_events, undecodable, \
                 skipped, skipped_digest, skipped_insight, first_event_time, last_event_time) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (path) DO UPDATE SET size = excluded.size, error = NULL, \
                 events = {events_sql}, \
                 new_events = activity_files.new_events + excluded.new_events, \
                 undecodable = activity_files.undecodable + excluded.undecodable, \
                 skipped = activity_files.skipped + excluded.skipped, \
                 skipped_digest = activity_files.skipped_digest + excluded.skipped_digest, \
                 skipped_insight = activity_files.skipped_insight + excluded.skipped_insight, \
                 first_event_time = COALESCE({least}(activity_files.first_event_time, \
                 excluded.first_event_time), activity_files.first_event_time, \
                 excluded.first_event_time), \
                 last_event_time = COALESCE({greatest}(activity_files.last_event_time, \
                 excluded.last_event_time), activity_files.last_event_time, \
                 excluded.last_event_time)"
            ),
            &[
                Val::str(file.path),
                Val::Int(if file.complete { file.size as i64 } else { -1 }),
                Val::Int(events as i64),
                Val::Int(new),
                Val::Int(file.undecodable as i64),
                Val::Int(file.skipped.values().sum::<u64>() as i64),
                Val::Int(file.skipped.get("digest").copied().unwrap_or(0) as i64),
                Val::Int(file.skipped.get("insight").copied().unwrap_or(0) as i64),
                opt(first),
                opt(last),
            ],
        )
        .await?;
    }
    let (_, greatest) = backend.least_greatest();
    c.exec(
        &format!(
            "INSERT INTO activity_state (name, max_event_time, duplicate_events, late_events, \
             stored_batches) VALUES ('default', ?, ?, ?, 1) ON CONFLICT (name) DO UPDATE SET \
             stored_batches = activity_state.stored_batches + 1, \
             max_event_time = COALESCE({greatest}(activity_state.max_event_time, \
             excluded.max_event_time), activity_state.max_event_time, excluded.max_event_time), \
             duplicate_events = activity_state.duplicate_events + excluded.duplicate_events, \
             late_events = activity_state.late_events + excluded.late_events"
        ),
        &[
            max_ms.map_or(Val::Null, Val::Int),
            Val::Int(out.duplicates as i64),
            Val::Int(out.late_events as i64),
        ],
    )
    .await?;
    if backend == Backend::Postgres && out.new_events > 0 {
        // Delivered to listening servers when (and only if) this transaction commits, so a
        // notification means the events are there to read.
        c.exec(
            "SELECT pg_notify(?, ?)",
            &[
                Val::str(ACTIVITY_CHANNEL),
                Val::Text(out.new_events.to_string()),
            ],
        )
        .await?;
    }
    out.fresh = fresh;
    Ok(Some(out))
}

/// The stream state row (`activity_state`): newest event time (ms), scored until (s),
/// duplicate and late events.
type StateRow = (Option<i64>, Option<i64>, i64, i64);

pub(super) async fn read_state<C: Conn>(c: &mut C) -> Result<ActivityState, StoreError> {
    let row: Option<StateRow> = c
        .fetch_optional(
            "SELECT max_event_time, scored_until, duplicate_events, late_events \
             FROM activity_state WHERE name = 'default'",
            &[],
        )
        .await?;
    let Some((max_ms, scored_s, duplicates, late)) = row else {
        return Ok(ActivityState::default());
    };
    Ok(ActivityState {
        max_event_time: max_ms.map(from_epoch_ms).transpose()?,
        scored_until: scored_s.map(from_epoch_s).transpose()?,
        duplicate_events: count(duplicates)?,
        late_events: count(late)?,
    })
}

impl Store {
    /// Stores decoded files in one transaction: new events are kept and counted, events
    /// already stored (same account, id and time) are only reported as duplicates. Safe to
    /// call again with the same files, and from several workers at once.
    pub async fn store_activity(
        &self,
        files: &[ActivityFile<'_>],
    ) -> Result<ActivityStored, StoreError> {
        self.store_prepared_activity(files, &prepare_activity(files))
            .await
    }

    /// [`Store::store_activity`] with rows made beforehand by [`prepare_activity`] from the
    /// same files.
    pub async fn store_prepared_activity(
        &self,
        files: &[ActivityFile<'_>],
        prepared: &PreparedActivity,
    ) -> Result<ActivityStored, StoreError> {
        let events: usize = files.iter().map(|f| f.events.len()).sum();
        assert_eq!(
            events, prepared.events_in,
            "prepared from other files than the ones stored"
        );
        if files.is_empty() {
            return Ok(ActivityStored::default());
        }
        // Usually every event is new: they are inserted and counted, no row sent back. When
        // some were stored already, the transaction is undone and written again with
        // RETURNING, to learn which: cheaper than a savepoint around every batch's events
        // (SQLite journals each page they touch for it).
        Store::retry_transient(|| async {
            on_pool!(self, |p, backend| {
                let mut insert = Insert::Counted;
                loop {
                    let mut tx = p.begin_with(backend.begin_write()).await?;
                    match store(&mut *tx, files, prepared, backend, insert).await? {
                        Some(out) => {
                            tx.commit().await?;
                            break Ok(out);
                        }
                        None => {
                            tx.rollback().await?;
                            insert = Insert::Returning;
                        }
                    }
                }
            })
        })
        .await
    }

    /// Records in the ledger that a file could not be read at all, and why (it is not read
    /// again until its size changes).
    pub async fn activity_file_failed(
        &self,
        path: &str,
        size: u64,
        reason: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO activity_files (path, size, events, new_events, \
            undecodable, skipped, error) VALUES (?, ?, 0, 0, 0, 0, ?) \
            ON CONFLICT (path) DO UPDATE SET size = excluded.size, error = excluded.error";
        let args = [Val::str(path), Val::Int(size as i64), Val::str(reason)];
        Store::retry_transient(|| async {
            on_pool!(self, |p, _b| {
                let mut c = p.acquire().await?;
                c.exec(SQL, &args).await?;
                Ok(())
            })
        })
        .await
    }
}
