//! orgwatch's web app: server-rendered pages and a JSON API over the store's read models,
//! behind local users and server-side sessions.
//!
//! - [`router`] builds the app from an [`AppState`]; every route is declared once in
//!   [`routes`] with who may call it ([`Guard`]), so tests can walk them all.
//! - [`bind`] opens the listener (a taken port is a clear error) and [`serve`] runs the app
//!   until a shutdown token is cancelled, finishing the requests in flight.
//! - [`metrics_router`] is `/metrics` (Prometheus text) for a second, private listener
//!   ([`serve_metrics`]): request counts and latencies by route template, and figures read
//!   from the store at scrape time; never on the app's router.
//! - [`password`] hashes and checks passwords (argon2id); [`session`] is the session layer,
//!   CSRF check and the [`CurrentUser`] extractor; [`tokens`] makes API tokens and lets
//!   `Authorization: Bearer` call the JSON API as the token's user; [`limit`] the login rate
//!   limits;
//!   [`oidc`] single sign-on with OpenID Connect (`/login/oidc`, its callback).
//!
//! Pages: Overview (`/`), Cost (`/cost`), Security (`/security`), Compliance
//! (`/compliance`), Inventory (`/inventory`), Operations (`/operations`) and the live
//! Activity (`/activity`, its drill-down `/activity/events` and server-sent events
//! `/api/activity/stream`, woken by an [`ActivitySignal`] and by [`live`]'s watch of the
//! database), each with its JSON API (`/api/overview`, `/api/cost`, …) and, but for the
//! Overview, every table as CSV (`/api/cost.csv?table=ID`); the filter and sort are query
//! parameters (`query.rs`). Admins also have Users & tokens (`/admin/users`,
//! `/api/admin/users`). Charts are drawn by the vendored Apache ECharts
//! (`vendor/echarts/`) from `static/app.js`: no inline script.
//!
//! Every page and `/api/*` route requires a session except the public ones (`/login`,
//! `/healthz`, `/readyz`, the static assets); what a user sees is filtered by their
//! [`orgwatch_store::Access`] in the store's SQL, not in templates.
#![deny(missing_docs)]
// Unit tests link the dev-dependencies of the integration tests too.
#![cfg_attr(test, allow(unused_crate_dependencies))]

mod activity;
mod admin;
mod assets;
mod baseline;
mod changes;
mod compliance;
mod cost;
mod error;
mod health;
mod ingest;
mod inventory;
pub mod limit;
pub mod live;
mod login;
mod metrics;
pub mod oidc;
mod openapi;
mod operations;
mod overview;
pub mod password;
mod posture;
mod query;
mod report;
mod responses;
mod routes;
mod security;
pub mod session;
mod shared;
mod table;
pub mod tokens;

pub use admin::{describe as describe_access, token_name_problem, MAX_EXPIRY_DAYS};
pub use assets::ECHARTS_VERSION;
pub use error::WebError;
pub use live::ActivitySignal;
pub use metrics::{METRICS_PATH, UNMATCHED};
pub use openapi::OPENAPI_PATH;
pub use report::{DEFAULT_LIMIT, MAX_LIMIT};
pub use routes::{routes, Guard, RouteInfo, ECHARTS_PATH, PUBLIC_PATHS};
pub use session::{CurrentUser, SecureCookies, SessionConfig};

use axum::Router;
use orgwatch_store::{ActivityVersion, PostureVersion, Store};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Now, in epoch seconds: the one clock of the app (sessions expire by it), replaceable in
/// tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(|| time::OffsetDateTime::now_utc().unix_timestamp())
}

/// How the app runs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Session lifetimes and cookie policy.
    pub session: SessionConfig,
    /// Login rate limits.
    pub limits: limit::LoginLimits,
    /// Bytes of the load bench's baseline, `GET /bench/static/{bytes}` (0: no such route).
    /// Only `bench/web` sets it, through a hidden `serve` option.
    pub bench_static_bytes: usize,
    /// Single sign-on, if configured ([`oidc::Oidc::discover`]).
    pub oidc: Option<Arc<oidc::Oidc>>,
}

/// What every handler shares: the store, the configuration, the rate limiters, the clock.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: WebConfig,
    limiter: limit::LoginLimiter,
    clock: Clock,
    signal: ActivitySignal,
    /// Cancelled when the server shuts down: live streams end then (a graceful shutdown
    /// waits for the requests in flight, and a stream would otherwise never finish).
    stopping: CancellationToken,
    /// Request counts and latencies, read by the metrics listener.
    http: metrics::HttpMetrics,
    /// The load bench's baseline body (empty unless configured).
    bench: axum::body::Bytes,
    /// Activity reports shared by the requests that want the same one at once.
    activity: shared::ActivityReports,
    /// The posture pages' answers, shared likewise until the data changes.
    answers: responses::Answers<PostureVersion>,
    /// The Activity page's and API's answers, shared until the report they show changes.
    activity_answers: responses::Answers<ActivityVersion>,
}

impl AppState {
    /// The state of an app on `store`.
    pub fn new(store: Store, config: WebConfig, clock: Clock) -> AppState {
        AppState::with_signal(store, config, clock, ActivitySignal::new())
    }

    /// The state of an app on `store` whose live pages also wake on `signal` (which the
    /// process that stores events raises).
    pub fn with_signal(
        store: Store,
        config: WebConfig,
        clock: Clock,
        signal: ActivitySignal,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                limiter: limit::LoginLimiter::new(&config.limits),
                bench: baseline::buffer(config.bench_static_bytes),
                store,
                config,
                clock,
                signal,
                stopping: CancellationToken::new(),
                http: metrics::HttpMetrics::new(),
                activity: shared::ActivityReports::default(),
                answers: responses::Answers::default(),
                activity_answers: responses::Answers::default(),
            }),
        }
    }

    /// The signal of stored activity: raise it ([`ActivitySignal::stored`]) after storing
    /// events in this process, and every live Activity stream sends a fresh summary.
    pub fn activity_signal(&self) -> ActivitySignal {
        self.inner.signal.clone()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    pub(crate) fn bench_buffer(&self) -> &axum::body::Bytes {
        &self.inner.bench
    }

    pub(crate) fn limiter(&self) -> &limit::LoginLimiter {
        &self.inner.limiter
    }

    pub(crate) fn stopping(&self) -> &CancellationToken {
        &self.inner.stopping
    }

    pub(crate) fn http_metrics(&self) -> &metrics::HttpMetrics {
        &self.inner.http
    }

    pub(crate) fn activity_reports(&self) -> &shared::ActivityReports {
        &self.inner.activity
    }

    pub(crate) fn answers(&self) -> &responses::Answers<PostureVersion> {
        &self.inner.answers
    }

    /// The Activity page's and API's shared answers.
    pub(crate) fn activity_answers(&self) -> &responses::Answers<ActivityVersion> {
        &self.inner.activity_answers
    }

    pub(crate) fn now(&self) -> i64 {
        (self.inner.clock)()
    }
}

/// The app: every route of [`routes`], the session and CSRF layers, security headers,
/// request ids and request logs.
pub fn router(state: AppState) -> Router {
    routes::build(state)
}

/// The metrics listener's app: `GET /metrics` (Prometheus text, version 0.0.4) and nothing
/// else, with no session: serve it only on a private address (`--metrics-listen`). It reports
/// the requests of the app built from the same `state`.
pub fn metrics_router(state: AppState) -> Router {
    metrics::router(state)
}

/// Why the app cannot listen.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another process holds the address.
    #[error(
        "cannot listen on {0}: the address is already in use (is another orgwatch serving?); \
         choose another with --listen, e.g. --listen 127.0.0.1:0 for any free port"
    )]
    InUse(SocketAddr),
    /// Any other failure (no such address, no permission for a low port…).
    #[error("cannot listen on {addr}: {source}")]
    Other {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Opens the listener of `addr` (port 0: any free port; the listener knows the real one).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => BindError::InUse(addr),
        _ => BindError::Other { addr, source: e },
    })
}

/// Serves the app on `listener` until `shutdown` is cancelled, then lets the requests in
/// flight finish. Expired sessions are deleted every 10 minutes meanwhile, and the database
/// is watched for activity other processes store ([`live`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let pruner = tokio::spawn(prune_sessions(state.clone(), shutdown.clone()));
    let watcher = tokio::spawn(live::watch_store(state.clone(), shutdown.clone()));
    let streams = state.stopping().clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let stop = shutdown.clone();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop.cancelled().await;
            streams.cancel();
        })
        .await;
    shutdown.cancel();
    let _ = pruner.await;
    let _ = watcher.await;
    served
}

/// Serves [`metrics_router`] on `listener` until `shutdown` is cancelled (the app's token:
/// both listeners stop together).
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

async fn prune_sessions(state: AppState, shutdown: CancellationToken) {
    let every = Duration::from_secs(600);
    loop {
        let (created_after, seen_after) = state.config().session.limits(state.now());
        if let Err(e) = state
            .store()
            .prune_sessions(created_after, seen_after)
            .await
        {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}
