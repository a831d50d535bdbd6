//! `ingest`: the Ingest status page's figures: what the loads of A360 files and the reads of
//! CloudTrail files left in the store.
//!
//! - **Loads per account, region and category**: each account and region's newest DAILY file
//!   up to the as-of day (the filter's last day, else the newest file's), one row per
//!   category with the status its `logs` row records (`Pass`, anything else a failure, no
//!   status: not collected) and the sender's messages of that category from `log_messages`.
//!   A message is the category's when its key is the category's key; a key naming no
//!   category (a sub-step such as `guard_duty`) is shown with every failed category that
//!   has no message of its own (the sender does not say which category a sub-step is of).
//! - **Loaded and failed files** by load time (`logs.date_created`) in the range: `from`
//!   (default 29 days before `to`) to `to` (default the day of the newest load shown).
//!   A failed (quarantined) file is a `logs` row with outcome `FAILED` and the reason as its
//!   ERROR message; a failed file whose account could not be read (or was unknown) has no
//!   account, and is shown only to a caller who sees every account without a filter.
//! - **The CloudTrail ledger** (`activity_files`, newest read first): it has no account
//!   column, so a row is an account's when its path holds `AWSLogs/ACCOUNT/` or (an
//!   organisation trail) `AWSLogs/o-…/ACCOUNT/`; a row of no account (a stream such as the
//!   demo's replay) is shown only without limits and filter, as for failed files.
//! - **Events stored** (the total rollups of the hour and day tiers: each stored event is
//!   counted in exactly one of them) and the **newest stored event time**, of the recipient
//!   accounts shown.

use super::compliance::{accounts_and_day, latest_files};
use super::filter::{account_condition, account_id, visible, PageFilter};
use super::posture::AccountRef;
use super::Access;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::{AccountId, Category, Timestamp};
use std::collections::BTreeMap;
use time::{Date, Duration, OffsetDateTime, Time};

/// The CloudTrail ledger rows the page and its JSON show (newest first); the CSV has all.
pub const LEDGER_ROWS: u32 = 500;

/// One category of one account and region's newest file.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryLoad {
    /// The account.
    pub account_id: AccountId,
    /// The file's region.
    pub region: String,
    /// The day the file's data covers.
    pub day: Date,
    /// The file, as loaded (`logs.file_name`).
    pub file: String,
    /// When it was loaded.
    pub loaded: Option<Timestamp>,
    /// The category.
    pub category: Category,
    /// The sender's status (`None`: the file does not report the category).
    pub status: Option<String>,
    /// The sender's messages of the category, in file order.
    pub messages: Vec<String>,
}

/// How a category's collection went, from its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadStatus {
    /// `Pass`.
    Pass,
    /// Any other status.
    Fail,
    /// No status: the sender did not collect it.
    NotCollected,
}

impl LoadStatus {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadStatus::Pass => "pass",
            LoadStatus::Fail => "fail",
            LoadStatus::NotCollected => "not collected",
        }
    }
}

impl CategoryLoad {
    /// Pass, fail or not collected.
    pub fn outcome(&self) -> LoadStatus {
        match &self.status {
            None => LoadStatus::NotCollected,
            Some(s) if s.trim().eq_ignore_ascii_case("pass") => LoadStatus::Pass,
            Some(_) => LoadStatus::Fail,
        }
    }
}

/// A file that could not be loaded (quarantined to `failed/`).
#[derive(Debug, Clone, PartialEq)]
pub struct FailedFile {
    /// Its account, when the file named a known one.
    pub account_id: Option<AccountId>,
    /// The file (`logs.file_name`).
    pub file: String,
    /// When it failed.
    pub at: Option<Timestamp>,
    /// Why, as recorded (the ERROR messages of its log).
    pub reasons: Vec<String>,
}

/// One CloudTrail file (or stream) of the activity ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerFile {
    /// The path (a stream's name for a stream).
    pub path: String,
    /// Its size when read completely (`None`: a read is incomplete).
    pub size: Option<u64>,
    /// Events read, over every read.
    pub events: u64,
    /// Events stored (new, not duplicates).
    pub new_events: u64,
    /// Records that did not decode.
    pub undecodable: u64,
    /// Records skipped (digests, Insights, others).
    pub skipped: u64,
    /// The newest event's time.
    pub last_event: Option<Timestamp>,
    /// Why the last read failed, if it did.
    pub error: Option<String>,
    /// When it was first read (the ledger keeps the first read's time).
    pub read_at: Option<Timestamp>,
}

impl LedgerFile {
    /// `read`, `incomplete: …` or `failed: REASON`.
    pub fn state(&self) -> String {
        match (&self.error, self.size) {
            (Some(e), _) => format!("failed: {e}"),
            (None, None) => "incomplete: the read is redone".to_owned(),
            (None, Some(_)) => "read".to_owned(),
        }
    }
}

/// The Ingest page's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IngestReport {
    /// The day of the newest files the loads table shows (`None`: no DAILY file).
    pub as_of: Option<Date>,
    /// First day of the load-time range (`None`: nothing was ever loaded or failed).
    pub from: Option<Date>,
    /// Last day of the load-time range.
    pub to: Option<Date>,
    /// The accounts shown, by id.
    pub accounts: Vec<AccountRef>,
    /// The newest successful load of the accounts shown.
    pub last_loaded: Option<Timestamp>,
    /// Files loaded in the range.
    pub files_loaded: u64,
    /// Per account, region and category of the newest files.
    pub loads: Vec<CategoryLoad>,
    /// Files that failed in the range, newest first.
    pub failed: Vec<FailedFile>,
    /// CloudTrail ledger rows shown: newest read first, at most the limit asked for.
    pub ledger: Vec<LedgerFile>,
    /// CloudTrail ledger rows in all.
    pub ledger_files: u64,
    /// The newest stored CloudTrail event's time.
    pub newest_event: Option<Timestamp>,
    /// CloudTrail events stored.
    pub events_stored: u64,
}

impl Store {
    /// The Ingest page's figures for the accounts `access` sees and `filter` names (see the
    /// module docs); `ledger_limit` caps the ledger rows read (`None`: all, for a CSV).
    pub async fn ingest_report(
        &self,
        access: &Access,
        filter: &PageFilter,
        ledger_limit: Option<u32>,
    ) -> Result<IngestReport, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let out = ingest_report(&mut *tx, access, filter, ledger_limit).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

fn ts(t: Option<OffsetDateTime>) -> Option<Timestamp> {
    t.map(Timestamp::new)
}

fn n(v: i64) -> Result<u64, sqlx::Error> {
    u64::try_from(v).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn from_ms(ms: i64) -> Result<Timestamp, sqlx::Error> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(Timestamp::new)
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Whether rows of no account (failed files of an unknown account, streams in the ledger)
/// are shown: only to a caller who sees every account and names none.
fn sees_unowned(access: &Access, filter: &PageFilter) -> bool {
    *access == Access::All && filter.is_empty()
}

/// A ledger path of the account `acc` (SQL giving an account id): `AWSLogs/ACC/…` or an
/// organisation trail's `AWSLogs/o-…/ACC/…`. Account ids are digits, never LIKE wildcards.
fn path_of(acc: &str) -> String {
    format!(
        "(f.path LIKE ('%AWSLogs/' || {acc} || '/%') \
         OR f.path LIKE ('%AWSLogs/o-%/' || {acc} || '/%'))"
    )
}

/// The ledger rows (`activity_files` aliased `f`) of the accounts `access` sees and `filter`
/// names, by the account in their path (see the module docs), with its arguments.
fn ledger_condition(access: &Access, filter: &PageFilter) -> (String, Vec<Val>) {
    let mut args = Vec::new();
    let by_ids = |ids: &[AccountId], args: &mut Vec<Val>| {
        let parts: Vec<String> = ids
            .iter()
            .map(|id| {
                args.push(Val::str(id.as_str()));
                args.push(Val::str(id.as_str()));
                path_of("?")
            })
            .collect();
        parts.join(" OR ")
    };
    let by_environments = |envs: &[String], args: &mut Vec<Val>| {
        args.extend(envs.iter().map(|e| Val::Text(e.to_uppercase())));
        format!(
            "EXISTS (SELECT 1 FROM accounts e WHERE UPPER(COALESCE(e.account_type, '')) IN ({}) \
             AND {})",
            vec!["?"; envs.len()].join(", "),
            path_of("e.account_id")
        )
    };
    let by_ous = |ous: &[String], args: &mut Vec<Val>| {
        let (sql, more) = super::filter::ou_condition("aou.ou_path", ous);
        args.extend(more);
        format!(
            "EXISTS (SELECT 1 FROM accounts e JOIN account_ous aou ON aou.account_id = e.id \
             WHERE {sql} AND {})",
            path_of("e.account_id")
        )
    };
    let mut all = Vec::new();
    if let Access::Limited(limits) = access {
        let mut seen = Vec::new();
        if !limits.accounts.is_empty() {
            seen.push(by_ids(&limits.accounts, &mut args));
        }
        if !limits.environments.is_empty() {
            seen.push(by_environments(&limits.environments, &mut args));
        }
        if !limits.ous.is_empty() {
            seen.push(by_ous(&limits.ous, &mut args));
        }
        if seen.is_empty() {
            seen.push("1 = 0".to_owned());
        }
        all.push(format!("({})", seen.join(" OR ")));
    }
    if !filter.accounts.is_empty() {
        all.push(format!("({})", by_ids(&filter.accounts, &mut args)));
    }
    if !filter.environments.is_empty() {
        all.push(by_environments(&filter.environments, &mut args));
    }
    if !filter.ous.is_empty() {
        all.push(by_ous(&filter.ous, &mut args));
    }
    if all.is_empty() {
        return ("1 = 1".to_owned(), args);
    }
    (format!("({})", all.join(" AND ")), args)
}

type LoadRow = (i64, String, String, Date, String, Option<OffsetDateTime>);
type FailedRow = (
    i64,
    Option<String>,
    String,
    Option<OffsetDateTime>,
    Option<String>,
);
type LedgerRow = (
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<OffsetDateTime>,
);

/// The `logs` status column of each category (the names of the schema).
fn status_column(c: Category) -> String {
    format!("{}_status", c.key())
}

async fn ingest_report<C: Conn>(
    c: &mut C,
    access: &Access,
    filter: &PageFilter,
    ledger_limit: Option<u32>,
) -> Result<IngestReport, sqlx::Error> {
    let (vis, vis_args) = visible(access, filter, "a");
    let (accounts, as_of) = accounts_and_day(c, &vis, &vis_args, filter).await?;

    // Loads of the newest files: one row per file, then its statuses unpivoted.
    let mut loads = Vec::new();
    if let Some(as_of) = as_of {
        let mut args = vec![Val::Date(as_of)];
        args.extend(vis_args.iter().cloned());
        let current = latest_files(&vis);
        let files: Vec<LoadRow> = c
            .fetch_all(
                &format!(
                    "SELECT l.id, acc.account_id, sn.region, sn.period_start, l.file_name, \
                     l.date_created FROM logs l JOIN snapshots sn ON sn.id = l.snapshot_id \
                     JOIN accounts acc ON acc.id = sn.account_id \
                     WHERE l.outcome = 'LOADED' AND l.snapshot_id IN ({current}) \
                     ORDER BY acc.account_id, sn.region"
                ),
                &args,
            )
            .await?;
        let unpivot = Category::ALL
            .iter()
            .map(|cat| {
                format!(
                    "SELECT l.id, '{}', l.{} FROM logs l \
                     WHERE l.outcome = 'LOADED' AND l.snapshot_id IN (SELECT id FROM cur)",
                    cat.key(),
                    status_column(*cat)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let statuses: Vec<(i64, String, Option<String>)> = c
            .fetch_all(&format!("WITH cur AS ({current}) {unpivot}"), &args)
            .await?;
        let mut status: BTreeMap<(i64, String), Option<String>> = BTreeMap::new();
        for (id, key, s) in statuses {
            status.insert((id, key), s);
        }
        let messages: Vec<(i64, String, String)> = c
            .fetch_all(
                &format!(
                    "SELECT m.log_id, COALESCE(m.message_key, ''), m.message \
                     FROM log_messages m WHERE m.message_type = 'ERROR' AND m.log_id IN (\
                     SELECT l.id FROM logs l WHERE l.snapshot_id IN ({current})) \
                     ORDER BY m.log_id, m.id"
                ),
                &args,
            )
            .await?;
        let mut by_log: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
        for (id, key, text) in messages {
            by_log.entry(id).or_default().push((key, text));
        }
        for (id, account, region, day, file, loaded) in files {
            let account = account_id(&account)?;
            let msgs = by_log.get(&id).map(Vec::as_slice).unwrap_or_default();
            let unowned: Vec<String> = msgs
                .iter()
                .filter(|(k, _)| k.parse::<Category>().is_err())
                .map(|(k, t)| format!("{k}: {t}"))
                .collect();
            for cat in Category::ALL {
                let st = status.get(&(id, cat.key().to_owned())).cloned().flatten();
                let mut load = CategoryLoad {
                    account_id: account,
                    region: region.clone(),
                    day,
                    file: file.clone(),
                    loaded: ts(loaded),
                    category: cat,
                    status: st,
                    messages: msgs
                        .iter()
                        .filter(|(k, _)| k == cat.key())
                        .map(|(_, t)| t.clone())
                        .collect(),
                };
                if load.outcome() == LoadStatus::Fail && load.messages.is_empty() {
                    load.messages.clone_from(&unowned);
                }
                loads.push(load);
            }
        }
    }

    // Loaded and failed files by load time. Rows of no account only for `sees_unowned`.
    let owned = format!("((a.id IS NOT NULL AND {vis}) OR (l.account_id IS NULL AND ?))");
    let mut owned_args = vis_args.clone();
    owned_args.push(Val::Bool(sees_unowned(access, filter)));
    let newest: Option<(Option<OffsetDateTime>, Option<OffsetDateTime>)> = c
        .fetch_optional(
            &format!(
                "SELECT MAX(l.date_created), \
                 MAX(CASE WHEN l.outcome = 'LOADED' THEN l.date_created END) \
                 FROM logs l LEFT JOIN accounts a ON a.id = l.account_id WHERE {owned}"
            ),
            &owned_args,
        )
        .await?;
    let (newest_any, last_loaded) = newest.unwrap_or_default();
    let to = filter.to.or(newest_any.map(|t| t.date()));
    let from = to.map(|to| {
        filter
            .from
            .unwrap_or(to - Duration::days(super::TREND_DAYS - 1))
            .min(to)
    });
    let (mut files_loaded, mut failed) = (0, Vec::new());
    if let (Some(from), Some(to)) = (from, to) {
        let start = Timestamp::new(from.with_time(Time::MIDNIGHT).assume_utc());
        let end = Timestamp::new(
            (to + Duration::days(1))
                .with_time(Time::MIDNIGHT)
                .assume_utc(),
        );
        let mut args = vec![Val::Ts(start), Val::Ts(end)];
        args.extend(owned_args.iter().cloned());
        let range = "l.date_created >= ? AND l.date_created < ?";
        let loaded: Option<(i64,)> = c
            .fetch_optional(
                &format!(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM logs l \
                     LEFT JOIN accounts a ON a.id = l.account_id \
                     WHERE l.outcome = 'LOADED' AND {range} AND {owned}"
                ),
                &args,
            )
            .await?;
        files_loaded = n(loaded.map_or(0, |(v,)| v))?;
        let rows: Vec<FailedRow> = c
            .fetch_all(
                &format!(
                    "SELECT l.id, a.account_id, l.file_name, l.date_created, m.message \
                     FROM logs l LEFT JOIN accounts a ON a.id = l.account_id \
                     LEFT JOIN log_messages m ON m.log_id = l.id AND m.message_type = 'ERROR' \
                     WHERE l.outcome = 'FAILED' AND {range} AND {owned} \
                     ORDER BY l.date_created DESC, l.id DESC, m.id"
                ),
                &args,
            )
            .await?;
        let mut last_id = None;
        for (id, account, file, at, message) in rows {
            if last_id != Some(id) {
                last_id = Some(id);
                failed.push(FailedFile {
                    account_id: account.as_deref().map(account_id).transpose()?,
                    file,
                    at: ts(at),
                    reasons: Vec::new(),
                });
            }
            if let (Some(f), Some(m)) = (failed.last_mut(), message) {
                f.reasons.push(m);
            }
        }
    }

    // The CloudTrail ledger, by the account in the path.
    let (cond, ledger_args) = ledger_condition(access, filter);
    let total: Option<(i64,)> = c
        .fetch_optional(
            &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM activity_files f WHERE {cond}"),
            &ledger_args,
        )
        .await?;
    let ledger_files = n(total.map_or(0, |(v,)| v))?;
    let mut args = ledger_args.clone();
    let limit = match ledger_limit {
        Some(l) => {
            args.push(Val::Int(i64::from(l)));
            " LIMIT ?"
        }
        None => "",
    };
    let ledger = c
        .fetch_all::<LedgerRow>(
            &format!(
                "SELECT f.path, f.size, f.events, f.new_events, f.undecodable, f.skipped, \
                 f.last_event_time, f.error, f.loaded_at FROM activity_files f WHERE {cond} \
                 ORDER BY f.loaded_at DESC, f.path{limit}"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(
            |(path, size, events, new_events, undecodable, skipped, last, error, read_at)| {
                Ok(LedgerFile {
                    path,
                    size: u64::try_from(size).ok(),
                    events: n(events)?,
                    new_events: n(new_events)?,
                    undecodable: n(undecodable)?,
                    skipped: n(skipped)?,
                    last_event: last.map(from_ms).transpose()?,
                    error,
                    read_at: ts(read_at),
                })
            },
        )
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    // Stored events, by recipient account.
    let (events_cond, events_args) = account_condition(access, filter, "x.account");
    let newest: Option<(Option<i64>,)> = c
        .fetch_optional(
            &format!("SELECT MAX(x.event_time) FROM activity_events x WHERE {events_cond}"),
            &events_args,
        )
        .await?;
    let newest_event = newest.and_then(|(v,)| v).map(from_ms).transpose()?;
    let stored: Option<(i64,)> = c
        .fetch_optional(
            &format!(
                "SELECT CAST(COALESCE(SUM(x.count), 0) AS BIGINT) FROM activity_rollups x \
                 WHERE x.metric = 'total' AND x.tier IN ('hour', 'day') AND {events_cond}"
            ),
            &events_args,
        )
        .await?;
    let events_stored = n(stored.map_or(0, |(v,)| v))?;

    Ok(IngestReport {
        as_of,
        from,
        to,
        accounts,
        last_loaded: ts(last_loaded),
        files_loaded,
        loads,
        failed,
        ledger,
        ledger_files,
        newest_event,
        events_stored,
    })
}
