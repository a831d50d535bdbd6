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

/// What every category loader needs to know about the snapshot being loaded.
pub(crate) struct Ctx {
    pub(crate) snapshot_id: i64,
    pub(crate) account: i64,
    /// The snapshot's region, written to the `region` column of regional rows.
    pub(crate) region: String,
    pub(crate) period_start: Date,
    pub(crate) period_end: Date,
    pub(crate) granularity: &'static str,
    strategy: Strategy,
    pub(crate) rows: u64,
}

impl Ctx {
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
        batch: &Batch,
    ) -> Result<(), sqlx::Error> {
        let n = match self.strategy {
            Strategy::Bulk => c.bulk(batch).await?,
            Strategy::RowByRow => c.row_by_row(batch).await?,
        };
        self.rows += n;
        Ok(())
    }

    /// Inserts one row and returns its id.
    pub(crate) async fn insert_returning<C: Conn>(
        &mut self,
        c: &mut C,
        batch: &Batch,
    ) -> Result<i64, sqlx::Error> {
        debug_assert_eq!(batch.rows.len(), 1);
        let sql = format!(
            "{} RETURNING id",
            crate::conn::insert_sql(batch.table, &batch.columns, 1)
        );
        let id = c.fetch_i64(&sql, &batch.rows[0]).await?;
        self.rows += 1;
        id.ok_or(sqlx::Error::RowNotFound)
    }

    /// Removes the rows of a global category that another region's file of the same account
    /// and period stored, so the category is held once per account.
    pub(crate) async fn clear_global<C: Conn>(
        &self,
        c: &mut C,
        table: &'static str,
        extra: &str,
    ) -> Result<(), sqlx::Error> {
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

/// True when the file holds a usable copy of a category: present, and not reported as failed
/// (the sender writes `[]` for a failed collector, which must not wipe a good copy).
pub(crate) fn collected(snapshot: &Snapshot, category: Category, present: bool) -> bool {
    present && snapshot.logs.statuses.get(&category) != Some(&CollectionStatus::Fail)
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

/// Loads one snapshot through `c`, which the caller has put in a transaction.
///
/// Returns without writing anything (the caller rolls back) when the same file is already
/// loaded or a newer file for the same key is.
pub(crate) async fn load<C: Conn>(
    c: &mut C,
    input: &SnapshotInput<'_>,
    strategy: Strategy,
) -> Result<LoadOutcome, sqlx::Error> {
    let loc = input.location;
    let snap = input.snapshot;
    let region = snapshot_region(input);
    let (period_start, period_end) = loc.period();
    let granularity = loc.granularity.as_str();

    let account = account::upsert_id(c, snap).await?;

    // Is this key loaded already?
    let existing = c
        .fetch_text(
            "SELECT CAST(id AS TEXT), sha256, CAST(run_date AS TEXT), file_name FROM snapshots \
             WHERE account_id = ? AND region = ? AND period_start = ? AND granularity = ?",
            &[
                Val::Int(account),
                Val::str(&region),
                Val::Date(period_start),
                Val::str(granularity),
            ],
        )
        .await?;
    let mut replaced = None;
    if let Some(row) = existing.first() {
        let id: i64 = row[0].as_deref().unwrap_or("0").parse().unwrap_or(0);
        let sha = row[1].clone().unwrap_or_default();
        let run_date = row[2].clone().unwrap_or_default();
        let file_name = row[3].clone().unwrap_or_default();
        if sha == input.sha256 {
            return Ok(LoadOutcome::Unchanged { snapshot_id: id });
        }
        let incoming = orgwatch_model::Day(loc.run_date).to_string();
        if run_date > incoming {
            return Ok(LoadOutcome::Superseded {
                by_file: file_name,
                by_run_date: run_date,
            });
        }
        c.exec("DELETE FROM snapshots WHERE id = ?", &[Val::Int(id)])
            .await?;
        replaced = Some((file_name, sha));
    }

    let snapshot_id = c
        .fetch_i64(
            "INSERT INTO snapshots (account_id, region, period_start, period_end, granularity, \
             run_date, file_name, sha256, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                Val::Int(account),
                Val::str(&region),
                Val::Date(period_start),
                Val::Date(period_end),
                Val::str(granularity),
                Val::Date(loc.run_date),
                Val::str(input.file_name),
                Val::str(input.sha256),
                Val::Int(input.bytes as i64),
            ],
        )
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;

    let mut ctx = Ctx {
        snapshot_id,
        account,
        region,
        period_start,
        period_end,
        granularity,
        strategy,
        rows: 0,
    };

    account::load(c, &mut ctx, snap, loc.run_date).await?;
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

    c.exec(
        "UPDATE snapshots SET row_count = ? WHERE id = ?",
        &[Val::Int(ctx.rows as i64), Val::Int(snapshot_id)],
    )
    .await?;
    Ok(LoadOutcome::Loaded {
        snapshot_id,
        rows: ctx.rows,
        replaced: replaced.map(|r| r.0),
    })
}

pub(crate) use logs::record_failure;
