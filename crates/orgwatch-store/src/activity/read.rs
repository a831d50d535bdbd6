//! `read`: the activity read models: ledger, stream state, detector, minute counts and
//! totals, anomaly scores and the counts of a time range, each as typed rows.

use super::write::read_state;
use super::{
    epoch_ms, from_epoch_ms, from_epoch_s, ActivityCounts, ActivityState, Anomaly, Metric,
    Retention, SavedDetector, Tier, WindowCounts, NONE,
};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::read::count;
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::activity::{AlarmKind, Explanation, Scope, Series, ACCESS_DENIED_CODES};
use orgwatch_model::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// The saved detector's row: scored until (epoch seconds) and its header.
type DetectorRow = (Option<i64>, Option<Vec<u8>>);

impl Store {
    /// The ledger: the size of every file read to its end (or that failed), by path.
    /// Incomplete reads are left out, so they are redone.
    pub async fn activity_files(&self) -> Result<HashMap<String, u64>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .read_all("SELECT path, size FROM activity_files WHERE size >= 0", &[])
            .await?;
        rows.into_iter()
            .map(|(path, size)| Ok((path, count(size)?)))
            .collect()
    }

    /// The ledger's size for one file read to its end (or that failed), if it has one: a
    /// reader that took the file checks it again, since another run may have read it since
    /// the directory was listed.
    pub async fn activity_file_size(&self, path: &str) -> Result<Option<u64>, StoreError> {
        let rows: Vec<(i64,)> = self
            .read_all(
                "SELECT size FROM activity_files WHERE path = ? AND size >= 0",
                &[Val::str(path)],
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|(size,)| count(size))
            .transpose()
    }

    /// The stream state, without the detector (megabytes, read only by
    /// [`Store::activity_detector`]).
    pub async fn activity_state(&self) -> Result<ActivityState, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            read_state(&mut *c).await
        })
    }

    /// The saved detector and the `scored_until` it was saved with, read together (in one
    /// snapshot: a checkpoint of another worker in between is not half seen).
    pub async fn activity_detector(&self) -> Result<SavedDetector, StoreError> {
        const STATE: &str =
            "SELECT scored_until, detector FROM activity_state WHERE name = 'default'";
        const PARTS: &str = "SELECT scope, state FROM activity_detector_scopes \
             WHERE name = 'default' ORDER BY scope";
        let (row, parts): (Option<DetectorRow>, _) = on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let row = tx.fetch_optional(STATE, &[]).await?;
            let parts = tx.fetch_all(PARTS, &[]).await?;
            tx.commit().await?;
            (row, parts)
        });
        let (scored_until, bytes) = row.unwrap_or_default();
        Ok(SavedDetector {
            scored_until: scored_until.map(from_epoch_s).transpose()?,
            bytes,
            parts,
        })
    }

    /// The saved detector's header and the `scored_until` it was saved with, without its
    /// scopes (`parts` is empty): they are read as they are needed,
    /// [`Store::activity_detector_scopes`].
    pub async fn activity_detector_header(&self) -> Result<SavedDetector, StoreError> {
        let rows: Vec<DetectorRow> = self
            .read_all(
                "SELECT scored_until, detector FROM activity_state WHERE name = 'default'",
                &[],
            )
            .await?;
        let (scored_until, bytes) = rows.into_iter().next().unwrap_or_default();
        Ok(SavedDetector {
            scored_until: scored_until.map(from_epoch_s).transpose()?,
            bytes,
            parts: Vec::new(),
        })
    }

    /// The saved parts of these scopes (those saved: a scope never saved has none), in
    /// name order.
    pub async fn activity_detector_scopes(
        &self,
        scopes: &[Scope],
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // Chunks keep the statement within every backend's parameter limit.
        const CHUNK: usize = 500;
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        for chunk in scopes.chunks(CHUNK) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let args: Vec<Val> = chunk.iter().map(|s| Val::str(s.as_str())).collect();
            out.extend(
                self.read_all::<(String, Vec<u8>)>(
                    &format!(
                        "SELECT scope, state FROM activity_detector_scopes \
                         WHERE name = 'default' AND scope IN ({marks})"
                    ),
                    &args,
                )
                .await?,
            );
        }
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The first minute window (epoch seconds) at or after `from` (epoch seconds) holding a
    /// stored recent event.
    pub async fn next_event_minute(&self, from: i64) -> Result<Option<i64>, StoreError> {
        let rows: Vec<(Option<i64>,)> = self
            .read_all(
                "SELECT MIN(event_time) FROM activity_events WHERE event_time >= ?",
                &[Val::Int(from.saturating_mul(1000))],
            )
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|(ms,)| ms)
            .map(|ms| ms.div_euclid(60_000) * 60))
    }

    /// Per scope (an account, or [`Scope::NoAccount`]), the counts of each minute window in
    /// `[from, until)` with any stored events, read from the recent events (complete within
    /// their retention), in (start, scope) order.
    pub async fn minute_counts(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<WindowCounts>, StoreError> {
        let (from, until) = (epoch_ms(from) / 1000, epoch_ms(until) / 1000);
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            minute_counts(&mut *c, from, until).await
        })
    }

    /// The stored minute totals (`activity_rollups`, tier `minute`, metric `total`) per
    /// (window start in epoch seconds, scope) in `[from, until)`: every writer's and every
    /// run's events, which scoring compares with the counts it kept in memory.
    pub async fn minute_totals(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<BTreeMap<(i64, Scope), u64>, StoreError> {
        let (from, until) = (epoch_ms(from) / 1000, epoch_ms(until) / 1000);
        let rows: Vec<(i64, String, i64)> = self
            .read_all(
                "SELECT window_start, account, CAST(SUM(count) AS BIGINT) \
                 FROM activity_rollups WHERE tier = 'minute' AND metric = 'total' \
                 AND window_start >= ? AND window_start < ? GROUP BY window_start, account",
                &[Val::Int(from), Val::Int(until)],
            )
            .await?;
        rows.into_iter()
            .map(|(start, account, n)| Ok(((start, parse(&account)?), count(n)?)))
            .collect()
    }

    /// Stored anomaly scores with window start in `[since, until)`, each with its stored
    /// alarm flag; only the alarms when `alarms_only`.
    pub async fn anomalies(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        alarms_only: bool,
    ) -> Result<Vec<Anomaly>, StoreError> {
        let since = since.map_or(i64::MIN, |t| epoch_ms(t).div_euclid(1000));
        let until = until.map_or(i64::MAX, |t| epoch_ms(t).div_euclid(1000));
        type Row = (
            i64,
            String,
            String,
            f64,
            String,
            bool,
            Option<String>,
            Option<i64>,
            Option<f64>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = self
            .read_all(
                &format!(
                    "SELECT window_start, scope, series, score, contributor, alarm, kind, \
                     observed, expected, window_minutes, principal, api, source_ip, region \
                     FROM activity_anomalies WHERE window_start >= ? AND window_start < ? {} \
                     ORDER BY window_start, scope, series",
                    if alarms_only { "AND alarm" } else { "" }
                ),
                &[Val::Int(since), Val::Int(until)],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let (start, scope, series, score, contributor, alarm, kind, observed) =
                    (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
                let (expected, minutes, principal, api, source_ip, region) =
                    (row.8, row.9, row.10, row.11, row.12, row.13);
                let explanation = match kind {
                    Some(kind) => Some(Explanation {
                        kind: parse::<AlarmKind>(&kind)?,
                        observed: observed.map_or(0, |n| u64::try_from(n).unwrap_or(0)),
                        expected: expected.unwrap_or(0.0),
                        minutes: minutes.map_or(1, |n| u32::try_from(n).unwrap_or(1)),
                        principal,
                        api,
                        source_ip,
                        region,
                    }),
                    None => None,
                };
                Ok(Anomaly {
                    time: from_epoch_s(start)?,
                    scope: parse(&scope)?,
                    series: parse::<Series>(&series)?,
                    score,
                    contributor,
                    alarm,
                    explanation,
                })
            })
            .collect()
    }

    /// Counts of the stored activity with event time in `[since, until)`, read from the finest
    /// tier whose retention still covers `since` (minute, then hour, then day); bounds are
    /// rounded out to that tier's windows. The result says which tier it used.
    pub async fn activity_counts(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        retention: &Retention,
    ) -> Result<ActivityCounts, StoreError> {
        let state = self.activity_state().await?;
        let mut counts = ActivityCounts::default();
        let Some(max) = state.max_event_time else {
            return Ok(counts);
        };
        let max_s = epoch_ms(max).div_euclid(1000);
        let covers =
            |keep: Option<std::time::Duration>, since: Option<Timestamp>| match (keep, since) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(k), Some(s)) => epoch_ms(s).div_euclid(1000) >= max_s - k.as_secs() as i64,
            };
        let tier = if covers(retention.minutes, since) {
            Tier::Minute
        } else if covers(retention.hours, since) {
            Tier::Hour
        } else {
            Tier::Day
        };
        let width = tier.seconds();
        let lo = since.map_or(i64::MIN, |t| {
            epoch_ms(t).div_euclid(1000).div_euclid(width) * width
        });
        let hi = until.map_or(i64::MAX, |t| {
            let s = (epoch_ms(t) + 999).div_euclid(1000);
            (s + width - 1).div_euclid(width) * width
        });
        counts.tier = Some(tier);
        let rows: Vec<(String, String, String, String, i64, i64, i64)> = self
            .read_all(
                "SELECT metric, item, account, region, CAST(SUM(count) AS BIGINT), \
                 MIN(window_start), MAX(window_start) \
                 FROM activity_rollups WHERE tier IN (?, ?) AND window_start >= ? \
                 AND window_start < ? GROUP BY metric, item, account, region",
                &[
                    Val::str(tier.as_str()),
                    // A day is its day rows plus the hour rows not folded into them yet.
                    Val::str(if tier == Tier::Day { Tier::Hour } else { tier }.as_str()),
                    Val::Int(lo),
                    Val::Int(hi),
                ],
            )
            .await?;
        let mut first_w: Option<i64> = None;
        let mut last_w: Option<i64> = None;
        for (metric, item, account, region, n, first, last) in rows {
            let Some(metric) = Metric::ALL.into_iter().find(|m| m.as_str() == metric) else {
                continue;
            };
            let n = count(n)?;
            *counts
                .by
                .entry(metric)
                .or_default()
                .entry(item)
                .or_insert(0) += n;
            if metric == Metric::Total {
                counts.events += n;
                *counts.by_account.entry(account).or_insert(0) += n;
                *counts.by_region.entry(region).or_insert(0) += n;
                let floor = |w: i64| w.div_euclid(width) * width;
                let (a, b) = (floor(first), floor(last));
                first_w = Some(first_w.map_or(a, |x| x.min(a)));
                last_w = Some(last_w.map_or(b, |x| x.max(b)));
            }
        }
        let lo_ms = lo.saturating_mul(1000);
        let hi_ms = hi.saturating_mul(1000);
        let range = [Val::Int(lo_ms), Val::Int(hi_ms)];
        if tier == Tier::Minute {
            // Not in the minute tier: counted from the recent events, which outlive it.
            let source_ip = format!("COALESCE(source_ip, '{NONE}')");
            for (metric, expr) in [
                (Metric::Api, "service || ':' || api"),
                (Metric::Principal, "principal"),
                (Metric::SourceIp, source_ip.as_str()),
            ] {
                let rows: Vec<(String, i64)> = self
                    .read_all(
                        &format!(
                            "SELECT {expr}, COUNT(*) FROM activity_events \
                             WHERE event_time >= ? AND event_time < ? GROUP BY {expr}"
                        ),
                        &range,
                    )
                    .await?;
                let map = counts.by.entry(metric).or_default();
                for (item, n) in rows {
                    map.insert(item, count(n)?);
                }
            }
        }
        let bounds: Vec<(Option<i64>, Option<i64>)> = self
            .read_all(
                "SELECT MIN(event_time), MAX(event_time) \
                 FROM activity_events WHERE event_time >= ? AND event_time < ?",
                &range,
            )
            .await?;
        let (first_ms, last_ms) = bounds.into_iter().next().unwrap_or_default();
        let events_cover = covers(retention.events, since);
        counts.first_event_time = match (events_cover, first_ms) {
            (true, Some(ms)) => Some(from_epoch_ms(ms)?),
            _ => first_w.map(from_epoch_s).transpose()?,
        };
        counts.last_event_time = match (events_cover, last_ms) {
            (true, Some(ms)) => Some(from_epoch_ms(ms)?),
            _ => last_w.map(|w| from_epoch_s(w + width)).transpose()?,
        };
        let files: Vec<(i64, i64, i64, i64)> = self
            .read_all(
                "SELECT CAST(COALESCE(SUM(undecodable), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(skipped), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(skipped_digest), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(skipped_insight), 0) AS BIGINT) FROM activity_files \
                 WHERE (first_event_time IS NULL AND ? ) \
                 OR (last_event_time >= ? AND first_event_time < ?)",
                &[
                    Val::Bool(since.is_none() && until.is_none()),
                    Val::Int(lo_ms),
                    Val::Int(hi_ms),
                ],
            )
            .await?;
        if let Some((undecodable, all, digest, insight)) = files.into_iter().next() {
            counts.undecodable = count(undecodable)?;
            counts.skipped.insert("digest".to_owned(), count(digest)?);
            counts.skipped.insert("insight".to_owned(), count(insight)?);
            if all > digest + insight {
                counts
                    .skipped
                    .insert("other".to_owned(), count(all - digest - insight)?);
            }
        }
        Ok(counts)
    }
}

/// A stored scope or series; text that is not one is an invalid value, naming it.
fn parse<T: FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e: T::Err| StoreError::Invalid(e.to_string()))
}

/// Per scope, the counts of each minute window in `[from, until)` (epoch seconds).
async fn minute_counts<C: Conn>(
    c: &mut C,
    from: i64,
    until: i64,
) -> Result<Vec<WindowCounts>, StoreError> {
    // The window's every count in one pass, grouped as fine as `WindowCounts::by_call`:
    // refused calls and failed console sign-ins (as `ActivityEvent::sign_in_succeeded`
    // says: a sign-in marked failed, or with an error code; rows stored before migration
    // 0011 have no mark, and count as failed only with an error code) summed alongside.
    let denied = vec!["?"; ACCESS_DENIED_CODES.len()].join(", ");
    let sql = format!(
        "SELECT event_time - (event_time % 60000), account, principal, service, api, region, \
         COALESCE(source_ip, '{NONE}'), COUNT(*), \
         CAST(SUM(CASE WHEN error_code IN ({denied}) THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN (event_type = 'AwsConsoleSignIn' OR api = 'ConsoleLogin') \
         AND (COALESCE(sign_in_failed, FALSE) OR error_code IS NOT NULL) THEN 1 ELSE 0 END) \
         AS BIGINT) \
         FROM activity_events WHERE event_time >= ? AND event_time < ? \
         GROUP BY event_time - (event_time % 60000), account, principal, service, api, region, \
         COALESCE(source_ip, '{NONE}')"
    );
    let params: Vec<Val> = ACCESS_DENIED_CODES
        .iter()
        .map(|code| Val::str(code))
        .chain([Val::Int(from * 1000), Val::Int(until * 1000)])
        .collect();
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        i64,
    );
    // Keyed by the stored account text, which sorts as its scope: parsed once per window.
    let mut out: BTreeMap<(i64, String), WindowCounts> = BTreeMap::new();
    let rows: Vec<Row> = c.fetch_all(&sql, &params).await?;
    for (start_ms, account, principal, service, api, region, ip, n, denied, failed) in rows {
        let start = start_ms / 1000;
        let n = count(n)?;
        let w = match out.entry((start, account)) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let w = WindowCounts::empty(from_epoch_s(start)?, parse(&e.key().1)?);
                e.insert(w)
            }
        };
        w.total += n;
        match w.by_principal.get_mut(&principal) {
            Some(sum) => *sum += n,
            None => {
                w.by_principal.insert(principal.clone(), n);
            }
        }
        let api = format!("{service}:{api}");
        *w.by_principal_api
            .entry((principal.clone(), api.clone()))
            .or_insert(0) += n;
        match w.by_source_ip.get_mut(&ip) {
            Some(sum) => *sum += n,
            None => {
                w.by_source_ip.insert(ip.clone(), n);
            }
        }
        if denied > 0 {
            *w.denied
                .entry((principal.clone(), api.clone()))
                .or_insert(0) += count(denied)?;
        }
        if failed > 0 {
            *w.failed_sign_ins
                .entry((principal.clone(), ip.clone()))
                .or_insert(0) += count(failed)?;
        }
        *w.by_call.entry((principal, api, region, ip)).or_insert(0) += n;
    }
    Ok(out.into_values().collect())
}
