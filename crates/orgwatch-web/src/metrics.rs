//! `/metrics` in the Prometheus text format (0.0.4), served on its own listener
//! (`--metrics-listen`), never by the app's router: the app's "every route but the public
//! ones needs a session" stays true, and the scraper needs no session.
//!
//! Two kinds of figure: request counts and latencies, recorded by a layer of the app's router
//! ([`record`]) with the matched route template as label (never the raw path: the label set
//! stays bounded), and gauges read from the store at scrape time ([`Store::gauges`]). No label
//! ever holds a query, a header, a cookie or a session id.
//!
//! [`Store::gauges`]: orgwatch_store::Store::gauges

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

/// The path of the scrape, on the metrics listener.
pub const METRICS_PATH: &str = "/metrics";

/// The `route` label of a request no route matched (a 404 or a 405): one value for all, so a
/// scan of random paths adds no series.
pub const UNMATCHED: &str = "unmatched";

/// Upper bounds of the latency histogram, in seconds (Prometheus' usual buckets).
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

fn latency() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The request figures of one app (shared by its router and its metrics listener).
pub(crate) struct HttpMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl HttpMetrics {
    pub(crate) fn new() -> HttpMetrics {
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency as fn() -> Histogram,
        );
        let mut registry = Registry::default();
        registry.register(
            "orgwatch_http_requests",
            "HTTP requests answered, by method, matched route template and status",
            requests.clone(),
        );
        registry.register(
            "orgwatch_http_request_duration_seconds",
            "Time to answer an HTTP request (to the response head; a stream's body is not \
             counted), by method and matched route template",
            durations.clone(),
        );
        HttpMetrics {
            registry,
            requests,
            durations,
        }
    }
}

/// The methods the app answers keep their name; any other is `other` (a client may send any
/// token as a method: it must not add series).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The layer of the app's router that counts and times every request, by its matched route
/// template (the router sets [`MatchedPath`] before its layers run).
pub(crate) async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let res = next.run(req).await;
    let metrics = state.http_metrics();
    metrics
        .durations
        .get_or_create(&RouteLabels {
            method,
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: res.status().as_u16(),
        })
        .inc();
    res
}

/// The metrics listener's app: `GET /metrics` and nothing else (no session: it is for a
/// scraper on a private address).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(METRICS_PATH, get(scrape))
        .with_state(state)
}

/// The scrape: the request figures, then the store's, read now. A store that fails gives a
/// 500 saying why (the scraper records the target as down), never a partial page.
async fn scrape(State(state): State<AppState>) -> Response {
    let gauges = match state.store().gauges().await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the store");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the store: {e}\n"),
            )
                .into_response();
        }
    };
    let store = store_registry(&gauges, state.now());
    let shared = shared_registry(&state);
    let mut body = String::new();
    let encoded = prometheus_text::encode(&mut body, &state.http_metrics().registry)
        .and_then(|()| prometheus_text::encode(&mut body, &shared))
        .and_then(|()| prometheus_text::encode(&mut body, &store));
    if let Err(e) = encoded {
        tracing::error!(error = %e, "metrics: cannot encode");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics\n",
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        body,
    )
        .into_response()
}

/// How the shared computations (`shared`) fare: requests and computations started, for the
/// Activity reports (`activity`), the Activity page's and API's answers (`activity_answer`)
/// and the posture pages' answers (`posture`). Few
/// computations per request: the requests share them.
fn shared_registry(state: &AppState) -> Registry {
    let requests = Family::<KindLabels, Counter>::default();
    let computations = Family::<KindLabels, Counter>::default();
    for (kind, (asked, computed)) in [
        ("activity", state.activity_reports().counts()),
        ("activity_answer", state.activity_answers().counts()),
        ("posture", state.answers().counts()),
    ] {
        let kind = KindLabels {
            kind: kind.to_owned(),
        };
        requests.get_or_create(&kind).inc_by(asked);
        computations.get_or_create(&kind).inc_by(computed);
    }
    let mut r = Registry::default();
    r.register(
        "orgwatch_web_shared_requests",
        "Requests for a shared result: an Activity report (kind activity), an Activity page's \
         or API's answer (kind activity_answer) or a posture page's answer (kind posture)",
        requests,
    );
    r.register(
        "orgwatch_web_shared_computations",
        "Computations of a shared result started, by kind: the requests of a view share one \
         until the data changes",
        computations,
    );
    r
}

fn int_gauge(n: u64) -> Gauge {
    let g = Gauge::default();
    g.set(i64::try_from(n).unwrap_or(i64::MAX));
    g
}

fn float_gauge(x: f64) -> Gauge<f64, AtomicU64> {
    let g = Gauge::<f64, AtomicU64>::default();
    g.set(x);
    g
}

/// Epoch seconds, with the milliseconds.
fn epoch_seconds(t: orgwatch_model::Timestamp) -> f64 {
    let t = t.get();
    t.unix_timestamp() as f64 + f64::from(t.millisecond()) / 1000.0
}

/// The store's figures as gauges, `now` in epoch seconds (for the lag). A time the store does
/// not have yet (no event, nothing scored) has no sample rather than a made-up zero.
fn store_registry(g: &orgwatch_store::StoreGauges, now: i64) -> Registry {
    let mut r = Registry::default();
    r.register(
        "orgwatch_snapshot_files_loaded",
        "Snapshot files loaded into the database (files that failed are moved to failed/ and \
         not counted)",
        int_gauge(g.snapshot_files),
    );
    let files = Family::<OutcomeLabels, Gauge>::default();
    files
        .get_or_create(&OutcomeLabels { outcome: "read" })
        .set(i64::try_from(g.activity_files_read).unwrap_or(i64::MAX));
    files
        .get_or_create(&OutcomeLabels { outcome: "failed" })
        .set(i64::try_from(g.activity_files_failed).unwrap_or(i64::MAX));
    r.register(
        "orgwatch_activity_files",
        "CloudTrail files in the activity ledger, read to their end or failed",
        files,
    );
    let events = Counter::<u64>::default();
    events.inc_by(g.events_stored);
    r.register(
        "orgwatch_activity_events_stored",
        "CloudTrail events stored, all time (a duplicate is not counted again)",
        events,
    );
    if let Some(newest) = g.newest_event {
        let newest = epoch_seconds(newest);
        r.register(
            "orgwatch_activity_newest_event_timestamp_seconds",
            "Time of the newest stored CloudTrail event (epoch seconds)",
            float_gauge(newest),
        );
        r.register(
            "orgwatch_activity_lag_seconds",
            "Seconds from the newest stored CloudTrail event to the scrape",
            float_gauge(now as f64 - newest),
        );
    }
    if let Some(scored) = g.scored_until {
        r.register(
            "orgwatch_activity_scored_until_timestamp_seconds",
            "The anomaly detector's progress: minute windows starting before this are scored \
             (epoch seconds)",
            float_gauge(epoch_seconds(scored)),
        );
    }
    let alarms = Family::<KindLabels, Gauge>::default();
    for (kind, n) in &g.alarms {
        alarms
            .get_or_create(&KindLabels { kind: kind.clone() })
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    r.register(
        "orgwatch_activity_alarms_stored",
        "Anomaly alarms stored, by kind (forest, count, new_api, root, …)",
        alarms,
    );
    r
}
