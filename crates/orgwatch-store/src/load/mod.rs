//! Loading one snapshot: one module per category, all writing through one transaction.
//!
//! Every category row carries the id of the snapshot (file) it came from. Replacing a snapshot
//! is therefore one `DELETE FROM snapshots` that cascades, and a reload can never duplicate.
//! Global categories (Cost Explorer, S3, Savings Plans, Trusted Advisor, Health, Marketplace,
//! support cases) arrive identically in every region's file: each loader of such a category
//! first removes the rows any other region's file of the same account and period left, so they
//! are stored once per account.

mod account;
mod application;
mod compute_optimizer;
mod config;
mod config_inventory;
mod cost;
mod health;
mod inventory;
mod logs;
mod marketplace;
mod resilience_hub;
mod ri_sp_savings;
mod security;
mod service;
mod service_resources;
mod support_tickets;
mod trusted_advisor;

use crate::conn::Conn;
use crate::value::{Batch, Val};
use crate::{LoadOutcome, SnapshotInput, Strategy};
use orgwatch_model::category::logs::CollectionStatus;
use orgwatch_model::{Category, Region, Snapshot};
use time::Date;

/// Category rows of several snapshots, held back to be written with one bulk write per table
/// when a batch of files commits together (see [`crate::Store::load_batch`]).
#[derive(Default)]
pub(crate) struct Deferred {
    tables: Vec<Batch>,
    /// (snapshot id, rows written) of every snapshot of the batch.
    row_counts: Vec<(i64, i64)>,
    /// The latest run date seen per account whose profile did not change.
    pub(crate) run_dates: std::collections::HashMap<i64, Date>,
    /// Ids reserved from each table's sequence, handed out as parent rows are deferred.
    ids: std::collections::HashMap<&'static str, Vec<i64>>,
    /// Set once the backend turns out to have no sequences (ids then come from RETURNING).
    no_sequences: bool,
}

impl Deferred {
    fn add(&mut self, batch: Batch) {
        match self.tables.iter_mut().find(|t| t.table == batch.table) {
            Some(t) => {
                debug_assert_eq!(t.columns, batch.columns, "columns of {}", batch.table);
                t.rows.extend(batch.rows);
            }
            None => self
                .tables
                .push(Batch::from_rows(batch.table, batch.columns, batch.rows)),
        }
    }

    /// Writes everything held back, one bulk write per table, in first-seen order (parents
    /// before children).
    pub(crate) async fn flush<C: Conn>(self, c: &mut C) -> Result<(), sqlx::Error> {
        // Snapshots first: every other row references one.
        let (snapshots, others): (Vec<&Batch>, Vec<&Batch>) =
            self.tables.iter().partition(|t| t.table == "snapshots");
        for t in snapshots.into_iter().chain(others) {
            c.bulk(t).await?;
        }
        if !self.row_counts.is_empty() {
            let mut sql = String::from("UPDATE snapshots SET row_count = CASE id");
            let mut args = Vec::with_capacity(self.row_counts.len() * 3);
            for (id, rows) in &self.row_counts {
                sql.push_str(" WHEN ? THEN ?");
                args.extend([Val::Int(*id), Val::Int(*rows)]);
            }
            sql.push_str(" END WHERE id IN (");
            sql.push_str(&vec!["?"; self.row_counts.len()].join(", "));
            sql.push(')');
            args.extend(self.row_counts.iter().map(|(id, _)| Val::Int(*id)));
            c.exec(&sql, &args).await?;
        }
        for (account, run_date) in &self.run_dates {
            account::advance_run_date(c, *account, *run_date).await?;
        }
        Ok(())
    }
}

/// What every category loader needs to know about the snapshot being loaded.
pub(crate) struct Ctx<'d> {
    pub(crate) snapshot_id: i64,
    pub(crate) account: i64,
    /// The snapshot's region, written to the `region` column of regional rows.
    pub(crate) region: String,
    pub(crate) period_start: Date,
    pub(crate) period_end: Date,
    pub(crate) granularity: &'static str,
    strategy: Strategy,
    pub(crate) rows: u64,
    /// Whether another region's snapshot exists for this account and window.
    other_regions: bool,
    /// Where category rows go when several files load in one transaction.
    deferred: Option<&'d mut Deferred>,
}

impl Ctx<'_> {
    /// A batch whose rows start with this snapshot's `snapshot_id` and `account_id`.
    pub(crate) fn batch(&self, table: &'static str, columns: &[&'static str]) -> Batch {
        Batch::new(
            table,
            &[
                ("snapshot_id", Val::Int(self.snapshot_id)),
                ("account_id", Val::Int(self.account)),
            ],
            columns,
        )
    }

    /// Writes a batch with the configured strategy and counts its rows.
    pub(crate) async fn write<C: Conn>(
        &mut self,
        c: &mut C,
        batch: Batch,
    ) -> Result<(), sqlx::Error> {
        let n = match (&mut self.deferred, self.strategy) {
            (Some(d), _) => {
                let n = batch.rows.len() as u64;
                d.add(batch);
                n
            }
            (None, Strategy::Bulk) => c.bulk(&batch).await?,
            (None, Strategy::RowByRow) => c.row_by_row(&batch).await?,
        };
        self.rows += n;
        Ok(())
    }

    /// An id for a new row of `table`, reserved ahead, when rows are deferred on a backend
    /// with sequences: the row can then join the batch's bulk write instead of costing a
    /// round trip of its own.
    async fn preassigned_id<C: Conn>(
        &mut self,
        c: &mut C,
        table: &'static str,
    ) -> Result<Option<i64>, sqlx::Error> {
        let Some(d) = self.deferred.as_deref_mut() else {
            return Ok(None);
        };
        if d.no_sequences {
            return Ok(None);
        }
        let pool = d.ids.entry(table).or_default();
        if pool.is_empty() {
            match c.reserve_ids(table, 64).await? {
                Some(mut ids) => {
                    ids.reverse();
                    *pool = ids;
                }
                None => {
                    d.no_sequences = true;
                    return Ok(None);
                }
            }
        }
        Ok(pool.pop())
    }

    /// Rows of `batch` with an `id` column in front holding the given ids.
    fn with_ids(batch: &Batch, ids: &[i64]) -> Batch {
        let mut columns = vec!["id"];
        columns.extend_from_slice(&batch.columns);
        let rows = batch
            .rows
            .iter()
            .zip(ids)
            .map(|(row, id)| {
                std::iter::once(Val::Int(*id))
                    .chain(row.iter().cloned())
                    .collect()
            })
            .collect();
        Batch::from_rows(batch.table, columns, rows)
    }

    /// Inserts one row and returns its id.
    pub(crate) async fn insert_returning<C: Conn>(
        &mut self,
        c: &mut C,
        batch: &Batch,
    ) -> Result<i64, sqlx::Error> {
        debug_assert_eq!(batch.rows.len(), 1);
        if let Some(id) = self.preassigned_id(c, batch.table).await? {
            self.write(c, Self::with_ids(batch, &[id])).await?;
            return Ok(id);
        }
        let sql = format!(
            "{} RETURNING id",
            crate::conn::insert_sql(batch.table, &batch.columns, 1)
        );
        let id = c.fetch_i64(&sql, &batch.rows[0]).await?;
        self.rows += 1;
        id.ok_or(sqlx::Error::RowNotFound)
    }

    /// Inserts every row of `batch` (in as few statements as the backend's parameter limit
    /// allows); returns each row's id by the text of its column `key_column` (rows whose key is
    /// NULL are not returned).
    pub(crate) async fn insert_returning_many<C: Conn>(
        &mut self,
        c: &mut C,
        batch: &Batch,
        key_column: &'static str,
    ) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
        let mut ids = std::collections::HashMap::with_capacity(batch.rows.len());
        let key_index = batch.columns.iter().position(|c| *c == key_column);
        let mut reserved = Vec::with_capacity(batch.rows.len());
        for _ in &batch.rows {
            match self.preassigned_id(c, batch.table).await? {
                Some(id) => reserved.push(id),
                None => break,
            }
        }
        if !batch.rows.is_empty() && reserved.len() == batch.rows.len() {
            for (row, id) in batch.rows.iter().zip(&reserved) {
                if let Some(Val::Text(k)) = key_index.and_then(|i| row.get(i)) {
                    ids.insert(k.clone(), *id);
                }
            }
            self.write(c, Self::with_ids(batch, &reserved)).await?;
            return Ok(ids);
        }
        let per_statement = (crate::conn::MAX_PARAMS / batch.columns.len().max(1)).max(1);
        for chunk in batch.rows.chunks(per_statement) {
            let sql = format!(
                "{} RETURNING id, {key_column}",
                crate::conn::insert_sql(batch.table, &batch.columns, chunk.len())
            );
            let args: Vec<Val> = chunk.iter().flatten().cloned().collect();
            let rows: Vec<(i64, Option<String>)> = c.fetch_all(&sql, &args).await?;
            self.rows += rows.len() as u64;
            ids.extend(rows.into_iter().filter_map(|(id, key)| Some((key?, id))));
        }
        Ok(ids)
    }

    /// Loads a global category into its one table: what another region's file of the same
    /// account and window stored is removed, then each item is a row (`row` gives its natural
    /// key and values). Nothing happens when the file has no usable copy of the category.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn global_table<T, C: Conn>(
        &mut self,
        c: &mut C,
        snap: &Snapshot,
        category: Category,
        rows: &Option<Vec<T>>,
        table: &'static str,
        columns: &[&'static str],
        row: impl Fn(&Self, &T) -> (Option<String>, Vec<Val>),
    ) -> Result<(), sqlx::Error> {
        let Some(rows) = self.take_global(c, snap, category, rows, table).await? else {
            return Ok(());
        };
        let mut b = self.batch(table, columns);
        for item in rows {
            let (key, values) = row(self, item);
            b.push(key, values);
        }
        self.write(c, b).await
    }

    /// The rows of a global category this file carries, once what another region's file of
    /// the same account and window stored for it is removed; `None` (and nothing removed) when
    /// the file has no usable copy of the category.
    pub(crate) async fn take_global<'s, T, C: Conn>(
        &self,
        c: &mut C,
        snap: &Snapshot,
        category: Category,
        rows: &'s Option<Vec<T>>,
        table: &'static str,
    ) -> Result<Option<&'s [T]>, sqlx::Error> {
        match rows {
            Some(rows) if collected(snap, category) => {
                self.clear_global(c, table, "").await?;
                Ok(Some(rows))
            }
            _ => Ok(None),
        }
    }

    /// Removes the rows of a global category that another region's file of the same account
    /// and period stored, so the category is held once per account.
    pub(crate) async fn clear_global<C: Conn>(
        &self,
        c: &mut C,
        table: &'static str,
        extra: &str,
    ) -> Result<(), sqlx::Error> {
        if !self.other_regions {
            // The replaced snapshot of this key took its rows with it; nothing else to clear.
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM {table} WHERE snapshot_id IN (SELECT id FROM snapshots \
             WHERE account_id = ? AND period_start = ? AND granularity = ?){extra}"
        );
        c.exec(
            &sql,
            &[
                Val::Int(self.account),
                Val::Date(self.period_start),
                Val::str(self.granularity),
            ],
        )
        .await?;
        Ok(())
    }
}

/// True unless the file reports the category's collector as failed (the sender then writes
/// `[]`, which must not wipe a good copy another region's file stored).
pub(crate) fn collected(snapshot: &Snapshot, category: Category) -> bool {
    snapshot.logs.statuses.get(&category) != Some(&CollectionStatus::Fail)
}

/// The region a snapshot's rows are labelled with: the path's, else the document's.
fn snapshot_region(input: &SnapshotInput<'_>) -> String {
    if let Some(r) = &input.location.region {
        return r.as_str().to_owned();
    }
    input
        .snapshot
        .account
        .region
        .as_deref()
        .and_then(|r| Region::parse(r).ok())
        .map_or_else(|| "unknown".to_owned(), |r| r.as_str().to_owned())
}

/// Adds one to the posture data's version (`posture_version`): the last statement of every
/// transaction that changes posture data, so that the row is locked only until its commit.
pub(crate) async fn bump_posture_version<C: Conn>(c: &mut C) -> Result<(), sqlx::Error> {
    c.exec(
        "UPDATE posture_version SET version = version + 1 WHERE id = 1",
        &[],
    )
    .await?;
    Ok(())
}

/// Loads one snapshot through `c`, which the caller has put in a transaction.
///
/// Returns without writing anything (the caller rolls back) when the same file is already
/// loaded or a newer file for the same key is.
///
/// With `deferred`, category rows are collected there instead of written, for the caller to
/// flush once for a whole batch of files; rows that other statements of this load must see
/// (parents, instances) are still written at once.
pub(crate) async fn load<C: Conn>(
    c: &mut C,
    input: &SnapshotInput<'_>,
    strategy: Strategy,
    deferred: Option<&mut Deferred>,
) -> Result<LoadOutcome, sqlx::Error> {
    let loc = input.location;
    let snap = input.snapshot;
    let region = snapshot_region(input);
    let (period_start, period_end) = loc.period();
    let granularity = loc.granularity.as_str();

    // The account, and every region's snapshot of it for this window: ours (is this key
    // loaded already?) and the others (they may hold the global categories).
    let (account_row, same_window) = account::find(c, snap, period_start, granularity).await?;
    let account = account_row.id;
    let other_regions = same_window.iter().any(|s| s.region != region.as_str());
    let mut replaced = None;
    if let Some(existing) = same_window
        .into_iter()
        .find(|s| s.region == region.as_str())
    {
        let id = existing.id;
        if existing.sha256 == input.sha256 {
            return Ok(LoadOutcome::Unchanged { snapshot_id: id });
        }
        if existing.run_date > loc.run_date {
            return Ok(LoadOutcome::Superseded {
                by_file: existing.file_name,
                by_run_date: orgwatch_model::Day(existing.run_date).to_string(),
            });
        }
        c.exec("DELETE FROM snapshots WHERE id = ?", &[Val::Int(id)])
            .await?;
        replaced = Some((existing.file_name, existing.sha256));
    }

    let snapshot_region = region.clone();
    let snapshot_row = |row_count: i64| {
        vec![
            Val::Int(account),
            Val::str(&snapshot_region),
            Val::Date(period_start),
            Val::Date(period_end),
            Val::str(granularity),
            Val::Date(loc.run_date),
            Val::str(input.file_name),
            Val::str(input.sha256),
            Val::Int(input.bytes as i64),
            Val::Int(row_count),
        ]
    };
    const SNAPSHOT_COLUMNS: [&str; 10] = [
        "account_id",
        "region",
        "period_start",
        "period_end",
        "granularity",
        "run_date",
        "file_name",
        "sha256",
        "bytes",
        "row_count",
    ];
    let mut ctx = Ctx {
        snapshot_id: 0,
        account,
        region,
        period_start,
        period_end,
        granularity,
        strategy,
        rows: 0,
        other_regions,
        deferred,
    };
    // With a reserved id the snapshot row joins the batch's bulk write at the end (with its
    // row count); otherwise it is inserted now for its id and counted later.
    let reserved = ctx.preassigned_id(c, "snapshots").await?;
    ctx.snapshot_id = match reserved {
        Some(id) => id,
        None => c
            .fetch_i64(
                &format!(
                    "{} RETURNING id",
                    crate::conn::insert_sql("snapshots", &SNAPSHOT_COLUMNS, 1)
                ),
                &snapshot_row(0),
            )
            .await?
            .ok_or(sqlx::Error::RowNotFound)?,
    };
    let snapshot_id = ctx.snapshot_id;

    account::load(c, &mut ctx, snap, &account_row, loc.run_date).await?;
    service::load(c, &mut ctx, snap).await?;
    cost::load(c, &mut ctx, snap).await?;
    security::load(c, &mut ctx, snap).await?;
    config::load(c, &mut ctx, snap).await?;
    inventory::load(c, &mut ctx, snap).await?;
    marketplace::load(c, &mut ctx, snap).await?;
    trusted_advisor::load(c, &mut ctx, snap).await?;
    health::load(c, &mut ctx, snap).await?;
    application::load(c, &mut ctx, snap).await?;
    resilience_hub::load(c, &mut ctx, snap).await?;
    service_resources::load(c, &mut ctx, snap).await?;
    compute_optimizer::load(c, &mut ctx, snap).await?;
    config_inventory::load(c, &mut ctx, snap).await?;
    support_tickets::load(c, &mut ctx, snap).await?;
    ri_sp_savings::load(c, &mut ctx, snap).await?;
    logs::load_success(c, &mut ctx, snap, input.file_name, replaced.as_ref()).await?;

    match (&mut ctx.deferred, reserved) {
        (Some(d), Some(id)) => {
            let mut columns = vec!["id"];
            columns.extend_from_slice(&SNAPSHOT_COLUMNS);
            let mut row = vec![Val::Int(id)];
            row.extend(snapshot_row(ctx.rows as i64));
            d.add(Batch::from_rows("snapshots", columns, vec![row]));
        }
        (Some(d), None) => d.row_counts.push((snapshot_id, ctx.rows as i64)),
        (None, _) => {
            c.exec(
                "UPDATE snapshots SET row_count = ? WHERE id = ?",
                &[Val::Int(ctx.rows as i64), Val::Int(snapshot_id)],
            )
            .await?;
        }
    }
    Ok(LoadOutcome::Loaded {
        snapshot_id,
        rows: ctx.rows,
        replaced: replaced.map(|r| r.0),
    })
}

pub(crate) use account::ensure_product;
pub(crate) use logs::record_failure;
