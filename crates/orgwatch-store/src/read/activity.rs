//! `activity`: the Activity page's read model. Every figure is counted from the recent events
//! (`activity_events`, exact and per event within `--keep-events`), and from the stored
//! anomaly scores, restricted in the SQL to the accounts the caller's [`Access`] sees and the
//! page's [`PageFilter`] names.
//!
//! - The range is `[since, until)`: the page's `from` .. `to` days (UTC, `to` inclusive), or
//!   by default the last [`DEFAULT_MINUTES`] minutes up to the newest event the caller sees.
//! - Calls are bucketed per minute, per hour when the range is longer than
//!   [`MINUTE_BUCKETS_UP_TO`]; each bucket has its calls, failed calls (with an error code)
//!   and the anomaly score of the `total` series: the organisation's (`org`) for a caller who
//!   sees every account unfiltered, else the highest of the accounts shown (an `org` score
//!   would count accounts the caller does not see). A bucket alarms when any alarm of a scope
//!   shown falls in it.
//! - Tops are the 10 largest items, ties by name; EC2 outcomes (`success` or the error
//!   code) and console sign-ins (`success`, `failure`) are complete.

use super::filter::account_condition;
use super::{count, Access, PageFilter};
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::activity::{from_epoch_ms, from_epoch_s, AlarmKind, NONE};
use orgwatch_model::Timestamp;
use std::str::FromStr;

/// Minutes the page shows by default, up to the newest event.
pub const DEFAULT_MINUTES: i64 = 60;

/// Longest range bucketed per minute (two days); longer ranges are bucketed per hour.
pub const MINUTE_BUCKETS_UP_TO: i64 = 2 * 86_400;

/// Items in a top list.
pub const TOP: usize = 10;

/// The range a report covers, in epoch seconds, and its bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityRange {
    /// First second (inclusive).
    pub since: i64,
    /// End (exclusive).
    pub until: i64,
    /// Seconds per bucket: 60, or 3600 for a range longer than [`MINUTE_BUCKETS_UP_TO`].
    pub bucket: i64,
}

impl ActivityRange {
    fn new(since: i64, until: i64) -> ActivityRange {
        let bucket = if until - since > MINUTE_BUCKETS_UP_TO {
            3600
        } else {
            60
        };
        ActivityRange {
            since,
            until,
            bucket,
        }
    }
}

/// One bucket of calls.
#[derive(Debug, Clone, PartialEq)]
pub struct CallsPoint {
    /// Bucket start.
    pub time: Timestamp,
    /// Calls.
    pub calls: u64,
    /// Calls that failed (with an error code).
    pub errors: u64,
    /// The anomaly score of the `total` series (the highest minute's in an hour bucket).
    pub score: Option<f64>,
    /// Whether an alarm of a scope shown falls in the bucket.
    pub alarm: bool,
}

/// A stored alarm of a scope the caller sees, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityAlarm {
    /// Minute window start.
    pub time: Timestamp,
    /// An account id, or `org`.
    pub scope: String,
    /// `total`, `principal:NAME`, `KIND:PRINCIPAL`…
    pub series: String,
    /// Its score.
    pub score: f64,
    /// What kind of alarm (stored with migration 9; older rows have none).
    pub kind: Option<AlarmKind>,
    /// The principal that grew most.
    pub principal: Option<String>,
    /// Its API (`service:api`) that grew most.
    pub api: Option<String>,
    /// The region with most of those calls.
    pub region: Option<String>,
    /// The source IP that grew most.
    pub source_ip: Option<String>,
    /// Calls counted over the window that alarmed.
    pub observed: Option<u64>,
    /// Calls expected over it.
    pub expected: Option<f64>,
    /// The window's length in minutes.
    pub minutes: Option<u32>,
}

/// An item of a top list and its calls; an API's item is its `eventSource` and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopItem {
    /// The item (a service, principal, source IP, error code, or `service:api`).
    pub item: String,
    /// For an API, its `eventSource` (the item is `service:api`).
    pub service: Option<String>,
    /// For an API, its `eventName`.
    pub api: Option<String>,
    /// Calls.
    pub calls: u64,
}

/// Everything the Activity page shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActivityReport {
    /// Whether any event is stored at all (whoever may see it): the empty state tells "none
    /// stored yet" from "none of yours in this range".
    pub any_stored: bool,
    /// The newest event the caller sees (in any range).
    pub newest: Option<Timestamp>,
    /// The range covered; `None` when the caller sees no event and gave no range.
    pub range: Option<ActivityRange>,
    /// Calls in the range.
    pub events: u64,
    /// Failed calls in the range.
    pub errors: u64,
    /// Accounts with calls in the range.
    pub accounts: u64,
    /// Calls per bucket (buckets without calls left out).
    pub calls: Vec<CallsPoint>,
    /// Alarms of the range, newest first.
    pub alarms: Vec<ActivityAlarm>,
    /// Top services (`eventSource`).
    pub services: Vec<TopItem>,
    /// Top APIs.
    pub apis: Vec<TopItem>,
    /// Top principals.
    pub principals: Vec<TopItem>,
    /// Top source IPs (`(none)` for calls without one).
    pub source_ips: Vec<TopItem>,
    /// Top error codes.
    pub error_codes: Vec<TopItem>,
    /// EC2 calls by outcome.
    pub ec2_outcomes: Vec<TopItem>,
    /// Console sign-ins by outcome.
    pub console_sign_ins: Vec<TopItem>,
}

/// A caller's view, for polling: changes whenever events are stored, scores saved or
/// activity pruned (see [`Store::activity_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActivityVersion {
    /// Store transactions of events (or of a prune that deleted rows) committed so far.
    pub stored_batches: i64,
    /// Newest stored event time (ms).
    pub max_event_time: Option<i64>,
    /// Minute windows scored up to (s).
    pub scored_until: Option<i64>,
}

/// The day bounds of a page filter, in epoch seconds: `from` 00:00 to the day after `to`.
fn day_bounds(filter: &PageFilter) -> (Option<i64>, Option<i64>) {
    let start = |d: time::Date| d.midnight().assume_utc().unix_timestamp();
    (filter.from.map(start), filter.to.map(|d| start(d) + 86_400))
}

impl Store {
    /// The Activity page's figures for `access` and `filter` (see the module doc).
    pub async fn activity_report(
        &self,
        access: &Access,
        filter: &PageFilter,
    ) -> Result<ActivityReport, StoreError> {
        let (cond, cond_args) = account_condition(access, filter, "account");
        let any: Vec<(i64,)> = self
            .read_all(
                "SELECT COUNT(*) FROM (SELECT 1 FROM activity_events LIMIT 1) x",
                &[],
            )
            .await?;
        let mut report = ActivityReport {
            any_stored: any.first().is_some_and(|(n,)| *n > 0),
            ..ActivityReport::default()
        };
        let newest: Vec<(Option<i64>,)> = self
            .read_all(
                &format!("SELECT MAX(event_time) FROM activity_events WHERE {cond}"),
                &cond_args,
            )
            .await?;
        let newest_ms = newest.into_iter().next().and_then(|(ms,)| ms);
        report.newest = newest_ms.map(from_epoch_ms).transpose()?;
        let range = match (day_bounds(filter), newest_ms) {
            ((Some(since), Some(until)), _) => ActivityRange::new(since, until),
            ((Some(since), None), newest) => {
                // To the end of the newest event's day, at least the one day.
                let end = newest.map_or(since + 86_400, |ms| {
                    ms.div_euclid(86_400_000) * 86_400 + 86_400
                });
                ActivityRange::new(since, end.max(since + 86_400))
            }
            ((None, Some(until)), _) => ActivityRange::new(until - 86_400, until),
            ((None, None), Some(ms)) => {
                let end = ms.div_euclid(60_000) * 60 + 60;
                ActivityRange::new(end - DEFAULT_MINUTES * 60, end)
            }
            ((None, None), None) => return Ok(report),
        };
        report.range = Some(range);
        let width_ms = range.bucket * 1000;
        let mut args = vec![Val::Int(range.since * 1000), Val::Int(range.until * 1000)];
        args.extend(cond_args.iter().cloned());
        let scope = format!("event_time >= ? AND event_time < ? AND {cond}");

        // Calls and errors per bucket. (The width is ours, 60 or 3600 s, not input.)
        let rows: Vec<(i64, i64, i64)> = self
            .read_all(
                &format!(
                    "SELECT event_time - (event_time % {width_ms}), COUNT(*), \
                     CAST(SUM(CASE WHEN error_code IS NULL THEN 0 ELSE 1 END) AS BIGINT) \
                     FROM activity_events WHERE {scope} GROUP BY 1 ORDER BY 1"
                ),
                &args,
            )
            .await?;
        let mut calls = Vec::with_capacity(rows.len());
        for (start, n, errors) in rows {
            let (n, errors) = (count(n)?, count(errors)?);
            report.events += n;
            report.errors += errors;
            calls.push(CallsPoint {
                time: from_epoch_ms(start)?,
                calls: n,
                errors,
                score: None,
                alarm: false,
            });
        }

        // Scores: the organisation's for whoever sees it all, else the accounts' highest.
        let whole = *access == Access::All && filter.is_empty();
        let (score_cond, score_args) = if whole {
            ("scope = 'org'".to_owned(), Vec::new())
        } else {
            account_condition(access, filter, "scope")
        };
        let (alarm_cond, alarm_args) = if whole {
            ("1 = 1".to_owned(), Vec::new())
        } else {
            account_condition(access, filter, "scope")
        };
        let width = range.bucket;
        // The arguments in the order of their placeholders.
        let mut sargs = score_args.clone();
        sargs.extend(alarm_args.iter().cloned());
        sargs.extend([Val::Int(range.since), Val::Int(range.until)]);
        sargs.extend(score_args);
        sargs.extend(alarm_args.iter().cloned());
        let rows: Vec<(i64, Option<f64>, i64)> = self
            .read_all(
                &format!(
                    "SELECT window_start - (window_start % {width}), \
                     MAX(CASE WHEN series = 'total' AND {score_cond} THEN score END), \
                     CAST(MAX(CASE WHEN alarm AND {alarm_cond} THEN 1 ELSE 0 END) AS BIGINT) \
                     FROM activity_anomalies WHERE window_start >= ? AND window_start < ? \
                     AND ({score_cond} OR {alarm_cond}) GROUP BY 1"
                ),
                &sargs,
            )
            .await?;
        for (start, score, alarm) in rows {
            let at = from_epoch_s(start)?;
            let point = match calls.binary_search_by(|p| p.time.cmp(&at)) {
                Ok(i) => &mut calls[i],
                Err(i) => {
                    // A scored bucket without a call of the accounts shown (an `org`
                    // score of a minute whose calls were all elsewhere cannot happen for
                    // `whole`; for accounts, a score follows calls): kept, at zero calls.
                    calls.insert(
                        i,
                        CallsPoint {
                            time: at,
                            calls: 0,
                            errors: 0,
                            score: None,
                            alarm: false,
                        },
                    );
                    &mut calls[i]
                }
            };
            point.score = score;
            point.alarm = alarm > 0;
        }
        report.calls = calls;

        let mut aargs = vec![Val::Int(range.since), Val::Int(range.until)];
        aargs.extend(alarm_args);
        type AlarmRow = (
            i64,
            String,
            String,
            f64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<f64>,
            Option<i64>,
        );
        let rows: Vec<AlarmRow> = self
            .read_all(
                &format!(
                    "SELECT window_start, scope, series, score, kind, principal, api, region, \
                     source_ip, observed, expected, window_minutes FROM activity_anomalies \
                     WHERE window_start >= ? AND window_start < ? AND alarm AND {alarm_cond} \
                     ORDER BY window_start DESC, scope, series"
                ),
                &aargs,
            )
            .await?;
        for r in rows {
            report.alarms.push(ActivityAlarm {
                time: from_epoch_s(r.0)?,
                scope: r.1,
                series: r.2,
                score: r.3,
                kind: r
                    .4
                    .map(|k| AlarmKind::from_str(&k))
                    .transpose()
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
                principal: r.5,
                api: r.6,
                region: r.7,
                source_ip: r.8,
                observed: r.9.map(count).transpose()?,
                expected: r.10,
                minutes: r.11.and_then(|m| u32::try_from(m).ok()),
            });
        }

        let accounts: Vec<(i64,)> = self
            .read_all(
                &format!("SELECT COUNT(DISTINCT account) FROM activity_events WHERE {scope}"),
                &args,
            )
            .await?;
        report.accounts = accounts
            .first()
            .map(|(n,)| count(*n))
            .transpose()?
            .unwrap_or(0);

        let source_ip = format!("COALESCE(source_ip, '{NONE}')");
        let top = |expr: &str, extra: &str| {
            format!(
                "SELECT {expr}, COUNT(*) FROM activity_events WHERE {scope}{extra} \
                 GROUP BY {expr} ORDER BY COUNT(*) DESC, {expr} LIMIT {TOP}"
            )
        };
        report.services = self.top(&top("service", ""), &args).await?;
        report.principals = self.top(&top("principal", ""), &args).await?;
        report.source_ips = self.top(&top(&source_ip, ""), &args).await?;
        report.error_codes = self
            .top(&top("error_code", " AND error_code IS NOT NULL"), &args)
            .await?;
        let rows: Vec<(String, String, i64)> = self
            .read_all(
                &format!(
                    "SELECT service, api, COUNT(*) FROM activity_events WHERE {scope} \
                     GROUP BY service, api ORDER BY COUNT(*) DESC, service, api LIMIT {TOP}"
                ),
                &args,
            )
            .await?;
        report.apis = rows
            .into_iter()
            .map(|(service, api, n)| {
                Ok(TopItem {
                    item: format!("{service}:{api}"),
                    service: Some(service),
                    api: Some(api),
                    calls: count(n)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let outcome = "COALESCE(error_code, 'success')";
        report.ec2_outcomes = self
            .all_of(
                &format!(
                    "SELECT {outcome}, COUNT(*) FROM activity_events WHERE {scope} \
                     AND service = 'ec2.amazonaws.com' GROUP BY {outcome} \
                     ORDER BY COUNT(*) DESC, {outcome}"
                ),
                &args,
            )
            .await?;
        // As `ActivityEvent::sign_in_succeeded`: failed when marked, or with an error code.
        let sign_in = "CASE WHEN COALESCE(sign_in_failed, FALSE) OR error_code IS NOT NULL \
                       THEN 'failure' ELSE 'success' END";
        report.console_sign_ins = self
            .all_of(
                &format!(
                    "SELECT {sign_in}, COUNT(*) FROM activity_events WHERE {scope} \
                     AND (event_type = 'AwsConsoleSignIn' OR api = 'ConsoleLogin') \
                     GROUP BY {sign_in} ORDER BY COUNT(*) DESC, {sign_in}"
                ),
                &args,
            )
            .await?;
        Ok(report)
    }

    async fn top(&self, sql: &str, args: &[Val]) -> Result<Vec<TopItem>, StoreError> {
        self.all_of(sql, args).await
    }

    async fn all_of(&self, sql: &str, args: &[Val]) -> Result<Vec<TopItem>, StoreError> {
        let rows: Vec<(String, i64)> = self.read_all(sql, args).await?;
        rows.into_iter()
            .map(|(item, n)| {
                Ok(TopItem {
                    item,
                    service: None,
                    api: None,
                    calls: count(n)?,
                })
            })
            .collect()
    }

    /// What changes whenever events are stored (by any process on this database), anomaly
    /// scores saved or activity pruned: a server polls it to tell its live pages, and keys
    /// the reports it shares by it.
    pub async fn activity_version(&self) -> Result<ActivityVersion, StoreError> {
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = self
            .read_all(
                "SELECT stored_batches, max_event_time, scored_until FROM activity_state \
                 WHERE name = 'default'",
                &[],
            )
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .map(
                |(stored_batches, max_event_time, scored_until)| ActivityVersion {
                    stored_batches,
                    max_event_time,
                    scored_until,
                },
            )
            .unwrap_or_default())
    }
}

/// A PostgreSQL connection listening on [`ACTIVITY_CHANNEL`](crate::activity::ACTIVITY_CHANNEL):
/// each transaction that stores new events (or saves scores), in any process on the database,
/// wakes it once committed.
pub struct ActivityListener(sqlx::postgres::PgListener);

impl std::fmt::Debug for ActivityListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActivityListener")
    }
}

impl ActivityListener {
    /// Waits for the next notification. After a lost connection it reconnects on the next
    /// call; notifications sent meanwhile are lost, so callers also poll now and then.
    pub async fn recv(&mut self) -> Result<(), StoreError> {
        self.0.recv().await?;
        Ok(())
    }
}

impl Store {
    /// On PostgreSQL, a listener of stored activity; `None` on SQLite, which has no
    /// notifications (poll [`Store::activity_version`] there).
    pub async fn listen_activity(&self) -> Result<Option<ActivityListener>, StoreError> {
        match &self.pool {
            crate::db::Pool::Sqlite(_) => Ok(None),
            crate::db::Pool::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(crate::activity::ACTIVITY_CHANNEL).await?;
                Ok(Some(ActivityListener(listener)))
            }
        }
    }
}
