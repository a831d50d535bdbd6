//! `summary`: the organisation at a glance, one line per account (the demo summary, the
//! web app's overview).
//!
//! The figures, each defined once:
//! - **day cost**: Cost Explorer's cost of the latest complete day loaded for the
//!   organisation (the newest DAILY cost report's day), per account;
//! - **month to date**: the daily costs from the first of that day's month to that day, and
//!   **previous month to date** the same days of the month before (clamped to its length),
//!   so that the two compare like for like; their **change** only when every day of both
//!   has the account's DAILY report ([`OrgSummary::comparable`]: a history that starts
//!   within last month, or a day not delivered, is not growth);
//! - **open findings**: the latest state of each Security Hub finding (the row of its newest
//!   DAILY snapshot), counted by severity when it is still active and neither resolved nor
//!   suppressed;
//! - **compliance**: the latest daily Config compliance score; **health**: the mean health
//!   score of the account's loads; **last load**: the run date of the newest file loaded.
//!
//! Every figure covers only the accounts the caller's [`Access`] sees, in the SQL: for a
//! limited viewer the latest complete day is the latest of their accounts.

use super::cost::{account_days, span_days};
use super::Access;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use std::collections::BTreeMap;
use time::{Date, Duration, Month};

/// Open Security Hub findings (latest state of each) by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenFindings {
    /// CRITICAL.
    pub critical: i64,
    /// HIGH.
    pub high: i64,
    /// MEDIUM.
    pub medium: i64,
    /// LOW.
    pub low: i64,
    /// INFORMATIONAL (and any other label).
    pub informational: i64,
}

impl OpenFindings {
    /// Adds `n` findings of `severity` (any label but the four named is informational).
    pub(crate) fn add(&mut self, severity: &str, n: i64) {
        match severity.to_ascii_uppercase().as_str() {
            "CRITICAL" => self.critical += n,
            "HIGH" => self.high += n,
            "MEDIUM" => self.medium += n,
            "LOW" => self.low += n,
            _ => self.informational += n,
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &OpenFindings) {
        self.critical += other.critical;
        self.high += other.high;
        self.medium += other.medium;
        self.low += other.low;
        self.informational += other.informational;
    }

    /// All open findings.
    pub fn total(&self) -> i64 {
        self.critical + self.high + self.medium + self.low + self.informational
    }
}

/// One line of the organisation summary.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSummary {
    /// 12-digit account id.
    pub account_id: String,
    /// Account name.
    pub name: String,
    /// Environment label.
    pub environment: String,
    /// Snapshots loaded.
    pub snapshots: i64,
    /// Cost of [`OrgSummary::day`]; `None` when the account has no cost report for it.
    pub day_cost: Option<f64>,
    /// Cost from the first of the day's month to the day.
    pub month_to_date: f64,
    /// Cost over the same days of the previous month.
    pub previous_month_to_date: f64,
    /// Days of the month to date with a DAILY cost report of the account.
    pub month_to_date_days: u32,
    /// Days of the same days of the previous month with one.
    pub previous_month_to_date_days: u32,
    /// Open Security Hub findings by severity.
    pub open_findings: OpenFindings,
    /// Config compliance score of the latest daily report.
    pub latest_compliance: Option<f64>,
    /// Mean health score of its loads.
    pub mean_health: Option<f64>,
    /// Run date of the newest file loaded for it (every snapshot is a successful load).
    pub last_loaded_run: Option<Date>,
}

/// The organisation summary: which days its cost figures cover, and a line per account.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSummary {
    /// The latest complete day with cost loaded (`None`: no daily cost at all).
    pub day: Option<Date>,
    /// The days month to date covers: first of the day's month ..= day.
    pub month_to_date: Option<(Date, Date)>,
    /// The same days of the previous month.
    pub previous_month_to_date: Option<(Date, Date)>,
    /// One line per account, by account id.
    pub accounts: Vec<AccountSummary>,
}

impl OrgSummary {
    /// The organisation's cost on [`OrgSummary::day`].
    pub fn day_cost(&self) -> f64 {
        self.accounts.iter().filter_map(|a| a.day_cost).sum()
    }

    /// The organisation's cost month to date.
    pub fn month_to_date_cost(&self) -> f64 {
        self.accounts.iter().map(|a| a.month_to_date).sum()
    }

    /// The organisation's cost over the same days of the previous month.
    pub fn previous_month_to_date_cost(&self) -> f64 {
        self.accounts.iter().map(|a| a.previous_month_to_date).sum()
    }

    /// Whether `a`'s month to date and the same days of the previous month both have every
    /// day's report, so that their change is a change of cost, not of data (as the Cost
    /// page's [`AccountCost::comparable`](crate::AccountCost::comparable)).
    pub fn comparable(&self, a: &AccountSummary) -> bool {
        match (self.month_to_date, self.previous_month_to_date) {
            (Some(m), Some(p)) => {
                a.month_to_date_days == span_days(m)
                    && a.previous_month_to_date_days == span_days(p)
            }
            _ => false,
        }
    }

    /// Whether every account compares like for like ([`OrgSummary::comparable`]).
    pub fn all_comparable(&self) -> bool {
        self.accounts.iter().all(|a| self.comparable(a))
    }

    /// Account-days of the month to date with a DAILY report, and how many there are.
    pub fn month_to_date_account_days(&self) -> (u32, u32) {
        let of_each = self.month_to_date.map_or(0, span_days);
        account_days(&self.accounts, of_each, |a| a.month_to_date_days)
    }

    /// Account-days of the same days of the previous month with one, and how many there are.
    pub fn previous_month_to_date_account_days(&self) -> (u32, u32) {
        let of_each = self.previous_month_to_date.map_or(0, span_days);
        account_days(&self.accounts, of_each, |a| a.previous_month_to_date_days)
    }

    /// Open findings of every account.
    pub fn open_findings(&self) -> OpenFindings {
        let mut all = OpenFindings::default();
        for a in &self.accounts {
            all.merge(&a.open_findings);
        }
        all
    }
}

/// The same days of the previous month as `first ..= day` (its first day to the same day of
/// the month, or its last day when it is shorter).
pub fn previous_month_days(day: Date) -> (Date, Date) {
    let (year, month) = match day.month() {
        Month::January => (day.year() - 1, Month::December),
        m => (day.year(), m.previous()),
    };
    let len = month.length(year);
    // Both dates exist: day 1 always, and the day is clamped to the month's length.
    let first = Date::from_calendar_date(year, month, 1).unwrap_or(day);
    let last = first + Duration::days(i64::from(day.day().min(len)) - 1);
    (first, last)
}

type AccountRow = (
    i64,
    String,
    String,
    String,
    i64,
    Option<f64>,
    f64,
    f64,
    i64,
    i64,
    Option<f64>,
    Option<f64>,
    Option<Date>,
);

const ACCOUNTS: &str = "SELECT a.id, a.account_id, COALESCE(a.account_name, a.account_id), \
    COALESCE(a.account_type, ''), \
    (SELECT COUNT(*) FROM snapshots s WHERE s.account_id = a.id), \
    (SELECT CAST(SUM(cr.current_period_cost) AS DOUBLE PRECISION) FROM cost_reports cr \
     WHERE cr.account_id = a.id AND cr.period_granularity = 'DAILY' AND cr.period_start = ?), \
    (SELECT CAST(COALESCE(SUM(cr.current_period_cost), 0) AS DOUBLE PRECISION) \
     FROM cost_reports cr WHERE cr.account_id = a.id AND cr.period_granularity = 'DAILY' \
     AND cr.period_start >= ? AND cr.period_start <= ?), \
    (SELECT CAST(COALESCE(SUM(cr.current_period_cost), 0) AS DOUBLE PRECISION) \
     FROM cost_reports cr WHERE cr.account_id = a.id AND cr.period_granularity = 'DAILY' \
     AND cr.period_start >= ? AND cr.period_start <= ?), \
    (SELECT COUNT(DISTINCT cr.period_start) FROM cost_reports cr WHERE cr.account_id = a.id \
     AND cr.period_granularity = 'DAILY' AND cr.period_start >= ? AND cr.period_start <= ?), \
    (SELECT COUNT(DISTINCT cr.period_start) FROM cost_reports cr WHERE cr.account_id = a.id \
     AND cr.period_granularity = 'DAILY' AND cr.period_start >= ? AND cr.period_start <= ?), \
    (SELECT CAST(cr.compliance_score AS DOUBLE PRECISION) FROM config_reports cr \
     JOIN snapshots sn ON sn.id = cr.snapshot_id \
     WHERE cr.account_id = a.id AND sn.granularity = 'DAILY' \
     ORDER BY cr.date_from DESC, cr.id DESC LIMIT 1), \
    (SELECT CAST(AVG(l.health_score) AS DOUBLE PRECISION) FROM logs l \
     WHERE l.account_id = a.id AND l.outcome = 'LOADED'), \
    (SELECT MAX(s.run_date) FROM snapshots s WHERE s.account_id = a.id) \
    FROM accounts a WHERE ";

const LATEST_DAY: &str = "SELECT MAX(cr.period_start) FROM cost_reports cr \
    JOIN accounts a ON a.id = cr.account_id WHERE cr.period_granularity = 'DAILY' AND ";

/// Open findings per account and severity: the newest DAILY row of each finding.
const OPEN_FINDINGS: &str = "SELECT account_id, UPPER(COALESCE(severity, '')), COUNT(*) FROM (\
    SELECT f.account_id, f.severity, f.workflow_state, f.record_state, \
    ROW_NUMBER() OVER (PARTITION BY f.account_id, f.finding_id \
                       ORDER BY sn.period_start DESC, sn.id DESC) AS newest \
    FROM findings f JOIN snapshots sn ON sn.id = f.snapshot_id AND sn.granularity = 'DAILY' \
    WHERE f.finding_id IS NOT NULL AND f.account_id IN (SELECT a.id FROM accounts a WHERE {access})) latest \
    WHERE newest = 1 AND UPPER(COALESCE(record_state, 'ACTIVE')) = 'ACTIVE' \
    AND UPPER(COALESCE(workflow_state, 'NEW')) NOT IN ('RESOLVED', 'SUPPRESSED') \
    GROUP BY account_id, UPPER(COALESCE(severity, ''))";

impl Store {
    /// The organisation summary of the accounts `access` sees (see the module docs for what
    /// each figure means).
    pub async fn org_summary(&self, access: &Access) -> Result<OrgSummary, StoreError> {
        on_pool!(self, |p, b| {
            // One snapshot of the data for every figure.
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let out = org_summary(&mut *tx, access).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

async fn org_summary<C: Conn>(c: &mut C, access: &Access) -> Result<OrgSummary, sqlx::Error> {
    let (visible, access_args) = access.condition("a");
    let (day,): (Option<Date>,) = c
        .fetch_optional(&format!("{LATEST_DAY}{visible}"), &access_args)
        .await?
        .unwrap_or((None,));
    let mtd = day.and_then(|d| d.replace_day(1).ok().map(|first| (first, d)));
    let previous = day.map(previous_month_days);
    // Without a day every range is NULL: no cost report matches it.
    let date = |d: Option<Date>| d.map_or(Val::Null, Val::Date);
    let mut args = vec![
        date(day),
        date(mtd.map(|m| m.0)),
        date(mtd.map(|m| m.1)),
        date(previous.map(|m| m.0)),
        date(previous.map(|m| m.1)),
        date(mtd.map(|m| m.0)),
        date(mtd.map(|m| m.1)),
        date(previous.map(|m| m.0)),
        date(previous.map(|m| m.1)),
    ];
    args.extend(access_args.iter().cloned());
    let rows: Vec<AccountRow> = c
        .fetch_all(&format!("{ACCOUNTS}{visible} ORDER BY a.account_id"), &args)
        .await?;
    let mut open: BTreeMap<i64, OpenFindings> = BTreeMap::new();
    for (account, severity, n) in c
        .fetch_all::<(i64, String, i64)>(&OPEN_FINDINGS.replace("{access}", &visible), &access_args)
        .await?
    {
        open.entry(account).or_default().add(&severity, n);
    }
    let accounts = rows
        .into_iter()
        .map(
            |(
                id,
                account_id,
                name,
                environment,
                snapshots,
                day_cost,
                mtd,
                prev,
                mtd_days,
                prev_days,
                comp,
                health,
                last,
            )| {
                AccountSummary {
                    account_id,
                    name,
                    environment,
                    snapshots,
                    day_cost,
                    month_to_date: mtd,
                    previous_month_to_date: prev,
                    month_to_date_days: u32::try_from(mtd_days).unwrap_or(0),
                    previous_month_to_date_days: u32::try_from(prev_days).unwrap_or(0),
                    open_findings: open.get(&id).copied().unwrap_or_default(),
                    latest_compliance: comp,
                    mean_health: health,
                    last_loaded_run: last,
                }
            },
        )
        .collect();
    Ok(OrgSummary {
        day,
        month_to_date: mtd,
        previous_month_to_date: previous,
        accounts,
    })
}

#[cfg(test)]
mod tests {
    use super::previous_month_days;
    use time::macros::date;

    #[test]
    fn the_previous_month_to_date_covers_the_same_days() {
        assert_eq!(
            previous_month_days(date!(2026 - 12 - 02)),
            (date!(2026 - 11 - 01), date!(2026 - 11 - 02))
        );
        assert_eq!(
            previous_month_days(date!(2026 - 03 - 31)),
            (date!(2026 - 02 - 01), date!(2026 - 02 - 28)),
            "clamped to a shorter month"
        );
        assert_eq!(
            previous_month_days(date!(2026 - 01 - 15)),
            (date!(2025 - 12 - 01), date!(2025 - 12 - 15)),
            "across a year"
        );
    }
}
