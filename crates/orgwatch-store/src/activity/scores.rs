//! `scores`: saving anomaly scores and the detector, advancing `scored_until` optimistically.

use super::{epoch_ms, Anomaly, DetectorToSave};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::{Batch, Val};
use crate::{Store, StoreError};
use orgwatch_model::Timestamp;

async fn save_scores<C: Conn>(
    c: &mut C,
    expected: Option<Timestamp>,
    scored_until: Timestamp,
    detector: DetectorToSave<impl Iterator<Item = (String, Vec<u8>)> + Send>,
    anomalies: &[Anomaly],
) -> Result<bool, sqlx::Error> {
    c.exec(
        "INSERT INTO activity_state (name) VALUES ('default') ON CONFLICT (name) DO NOTHING",
        &[],
    )
    .await?;
    let same = match expected {
        Some(_) => "scored_until = ?",
        None => "scored_until IS NULL",
    };
    // Optimistic: only the worker that read `expected` advances the state.
    let mut args = vec![
        Val::Int(epoch_ms(scored_until) / 1000),
        Val::Bytes(detector.header),
    ];
    if let Some(t) = expected {
        args.push(Val::Int(epoch_ms(t) / 1000));
    }
    let n = c
        .exec(
            &format!(
                "UPDATE activity_state SET scored_until = ?, detector = ? \
                 WHERE name = 'default' AND {same}"
            ),
            &args,
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    // One part at a time: the caller makes them as they are asked for. A scope not among
    // them keeps its saved part (it did not change).
    for (scope, state) in detector.parts {
        c.exec(
            "INSERT INTO activity_detector_scopes (name, scope, state) VALUES ('default', ?, ?) \
             ON CONFLICT (name, scope) DO UPDATE SET state = excluded.state",
            &[Val::Text(scope), Val::Bytes(state)],
        )
        .await?;
    }
    let rows = anomalies
        .iter()
        .map(|a| {
            let e = a.explanation.as_ref();
            vec![
                Val::Int(epoch_ms(a.time) / 1000),
                Val::str(a.scope.as_str()),
                Val::Text(a.series.to_string()),
                Val::Real(if a.score.is_finite() { a.score } else { 0.0 }),
                Val::str(&a.contributor),
                Val::Bool(a.alarm),
                e.map_or(Val::Null, |e| Val::str(e.kind.as_str())),
                Val::int(e.map(|e| i64::try_from(e.observed).unwrap_or(i64::MAX))),
                Val::real(e.map(|e| e.expected)),
                Val::int(e.map(|e| i64::from(e.minutes))),
                Val::text(&e.and_then(|e| e.principal.clone())),
                Val::text(&e.and_then(|e| e.api.clone())),
                Val::text(&e.and_then(|e| e.source_ip.clone())),
                Val::text(&e.and_then(|e| e.region.clone())),
            ]
        })
        .collect();
    let batch = Batch::from_rows(
        "activity_anomalies",
        vec![
            "window_start",
            "scope",
            "series",
            "score",
            "contributor",
            "alarm",
            "kind",
            "observed",
            "expected",
            "window_minutes",
            "principal",
            "api",
            "source_ip",
            "region",
        ],
        rows,
    );
    c.insert_count(
        &batch,
        "ON CONFLICT (window_start, scope, series) DO UPDATE SET score = excluded.score, \
         contributor = excluded.contributor, alarm = excluded.alarm, kind = excluded.kind, \
         observed = excluded.observed, expected = excluded.expected, \
         window_minutes = excluded.window_minutes, principal = excluded.principal, \
         api = excluded.api, source_ip = excluded.source_ip, region = excluded.region",
    )
    .await?;
    Ok(true)
}

impl Store {
    /// Saves scores and the detector, and advances `scored_until` from `expected` — all or
    /// nothing. Returns false (and writes nothing) when another worker advanced it first.
    pub async fn save_scores(
        &self,
        expected: Option<Timestamp>,
        scored_until: Timestamp,
        detector: DetectorToSave<impl Iterator<Item = (String, Vec<u8>)> + Send>,
        anomalies: &[Anomaly],
    ) -> Result<bool, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            let saved = save_scores(&mut *tx, expected, scored_until, detector, anomalies).await?;
            if saved {
                if b == crate::Backend::Postgres && !anomalies.is_empty() {
                    // New scores (and alarms) for live pages, delivered on commit.
                    Conn::exec(
                        &mut *tx,
                        "SELECT pg_notify(?, 'scores')",
                        &[Val::str(super::ACTIVITY_CHANNEL)],
                    )
                    .await?;
                }
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            Ok(saved)
        })
    }
}
