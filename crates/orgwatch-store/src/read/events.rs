//! `events`: activity read models for dashboards: the recent events matching a filter, a
//! page at a time behind a cursor (drill-down), and calls per minute with their anomaly
//! score (time series).

use crate::read::filter::account_condition;
use crate::read::{count, Access, PageFilter};
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::activity::{epoch_ms, from_epoch_ms, from_epoch_s, NONE};
use orgwatch_model::Timestamp;
use std::fmt;
use std::str::FromStr;

/// Which recent events a drill-down shows: every field set must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Account id (or `(none)`).
    pub account: Option<String>,
    /// Principal, as stored.
    pub principal: Option<String>,
    /// `eventSource`.
    pub service: Option<String>,
    /// `eventName`.
    pub api: Option<String>,
    /// Source IP.
    pub source_ip: Option<String>,
    /// Error code.
    pub error_code: Option<String>,
    /// Events at or after this time.
    pub since: Option<Timestamp>,
    /// Events before this time.
    pub until: Option<Timestamp>,
}

/// Where the next page of a drill-down starts: after the last event of the previous one
/// (newest first). Written as text for a URL (`Display`) and read back (`FromStr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    event_time_ms: i64,
    account: String,
    event_id: String,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}~{}~{}",
            self.event_time_ms, self.account, self.event_id
        )
    }
}

/// Text that is not a [`Cursor`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a page cursor (expected TIME~ACCOUNT~EVENT_ID)")]
pub struct InvalidCursor(pub String);

impl FromStr for Cursor {
    type Err = InvalidCursor;

    fn from_str(s: &str) -> Result<Cursor, InvalidCursor> {
        let bad = || InvalidCursor(s.to_owned());
        // Event ids may hold `~`: the id is everything after the second one.
        let mut parts = s.splitn(3, '~');
        let time = parts.next().and_then(|t| t.parse().ok()).ok_or_else(bad)?;
        let account = parts.next().filter(|a| !a.is_empty()).ok_or_else(bad)?;
        let event_id = parts.next().filter(|e| !e.is_empty()).ok_or_else(bad)?;
        Ok(Cursor {
            event_time_ms: time,
            account: account.to_owned(),
            event_id: event_id.to_owned(),
        })
    }
}

/// One page of a listing, and the cursor of the next (`None`: this is the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in listing order.
    pub items: Vec<T>,
    /// Where the next page starts.
    pub next: Option<Cursor>,
}

/// A stored recent event, as a drill-down lists it: the columns of `activity_events`
/// (see [`ActivityEvent`](orgwatch_model::ActivityEvent) for what each holds), its time
/// decoded and an absent account or region as `(none)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RecentEvent {
    pub time: Timestamp,
    pub account: String,
    pub event_id: String,
    pub region: String,
    pub service: String,
    pub api: String,
    pub principal: String,
    pub principal_type: String,
    pub source_ip: Option<String>,
    pub user_agent_family: String,
    pub error_code: Option<String>,
    pub read_only: Option<bool>,
    pub event_type: Option<String>,
}

type EventRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<bool>,
    Option<String>,
);

/// Calls in one minute of one scope, with the anomaly score of its total series.
#[derive(Debug, Clone, PartialEq)]
pub struct MinutePoint {
    /// Window start.
    pub time: Timestamp,
    /// Calls.
    pub calls: u64,
    /// Anomaly score, once the minute is scored.
    pub score: Option<f64>,
    /// Whether the score raised an alarm.
    pub alarm: bool,
    /// The dimension that grew most, when scored.
    pub contributor: Option<String>,
}

/// Most events one drill-down page holds.
pub const MAX_PAGE: u32 = 1000;

impl Store {
    /// The recent events matching `filter`, newest first, `limit` (at most [`MAX_PAGE`]) at a
    /// time, starting after `after`.
    ///
    /// Only the accounts `access` sees and `page` names are listed (in the SQL); `page`'s
    /// dates are not read (the caller turns them into `since`/`until`). A `source_ip` of
    /// `(none)` matches the events without one.
    pub async fn recent_events(
        &self,
        access: &Access,
        page: &PageFilter,
        filter: &EventFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<RecentEvent>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (seen, mut args) = account_condition(access, page, "account");
        let mut sql = format!(
            "SELECT event_time, account, event_id, region, service, api, principal, \
             principal_type, source_ip, user_agent_family, error_code, read_only, event_type \
             FROM activity_events WHERE {seen}"
        );
        let source_ip = format!("COALESCE(source_ip, '{NONE}')");
        for (column, value) in [
            ("account", &filter.account),
            ("principal", &filter.principal),
            ("service", &filter.service),
            ("api", &filter.api),
            (source_ip.as_str(), &filter.source_ip),
            ("error_code", &filter.error_code),
        ] {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                args.push(Val::str(v));
            }
        }
        if let Some(t) = filter.since {
            sql.push_str(" AND event_time >= ?");
            args.push(Val::Int(epoch_ms(t)));
        }
        if let Some(t) = filter.until {
            sql.push_str(" AND event_time < ?");
            args.push(Val::Int(epoch_ms(t)));
        }
        if let Some(c) = after {
            sql.push_str(" AND (event_time, account, event_id) < (?, ?, ?)");
            args.extend([
                Val::Int(c.event_time_ms),
                Val::str(&c.account),
                Val::str(&c.event_id),
            ]);
        }
        // One more than asked: whether there is a next page.
        sql.push_str(" ORDER BY event_time DESC, account DESC, event_id DESC LIMIT ?");
        args.push(Val::Int(i64::from(limit) + 1));
        let mut rows: Vec<EventRow> = self.read_all(&sql, &args).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = match (more, rows.last()) {
            (true, Some(last)) => Some(Cursor {
                event_time_ms: last.0,
                account: last.1.clone(),
                event_id: last.2.clone(),
            }),
            _ => None,
        };
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(RecentEvent {
                    time: from_epoch_ms(r.0)?,
                    account: r.1,
                    event_id: r.2,
                    region: r.3,
                    service: r.4,
                    api: r.5,
                    principal: r.6,
                    principal_type: r.7,
                    source_ip: r.8,
                    user_agent_family: r.9,
                    error_code: r.10,
                    read_only: r.11,
                    event_type: r.12,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, next })
    }

    /// Calls per minute of one scope (an account id, or `org` for the organisation) in
    /// `[since, until)`, each with the anomaly score of its total series once scored; minutes
    /// without calls are left out.
    pub async fn calls_per_minute(
        &self,
        scope: &str,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<MinutePoint>, StoreError> {
        const SQL: &str = "SELECT window_start, CAST(calls AS BIGINT), score, alarm, contributor \
            FROM view_activity_minutes WHERE account = ? AND window_start >= ? \
            AND window_start < ? ORDER BY window_start";
        let args = [
            Val::str(scope),
            Val::Int(epoch_ms(since).div_euclid(1000)),
            Val::Int(epoch_ms(until).div_euclid(1000)),
        ];
        type Row = (i64, i64, Option<f64>, Option<bool>, Option<String>);
        let rows: Vec<Row> = self.read_all(SQL, &args).await?;
        rows.into_iter()
            .map(|(start, calls, score, alarm, contributor)| {
                Ok(MinutePoint {
                    time: from_epoch_s(start)?,
                    calls: count(calls)?,
                    score,
                    alarm: alarm.unwrap_or(false),
                    contributor,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_reads_back_as_written_even_with_separators_in_the_id() {
        let c = Cursor {
            event_time_ms: 1_709_287_200_123,
            account: "111111111111".to_owned(),
            event_id: "a~b~c".to_owned(),
        };
        assert_eq!(c.to_string().parse::<Cursor>(), Ok(c));
        for bad in ["", "x~1~2", "12~~id", "12~acct", "12~acct~"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad:?}");
        }
    }
}
