//! Every route of the app, declared once with who may call it: the router is built from this
//! table, and the tests walk it, so a new route is covered by them without being listed
//! twice.

use crate::{
    activity, admin, assets, baseline, compliance, cost, health, ingest, inventory, login, metrics,
    oidc, openapi, operations, overview, posture, responses, security, session, tokens, AppState,
    WebError,
};
use axum::extract::{RawQuery, State};
use axum::handler::Handler;
use axum::http::{Method, Request};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use orgwatch_store::{ActivityVersion, PostureVersion};
use session::CurrentUser;
use std::collections::HashMap;
use std::future::Future;
use std::sync::OnceLock;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone (listed in [`PUBLIC_PATHS`]).
    Public,
    /// A logged-in user; without a session, a redirect to `/login`.
    Page,
    /// A logged-in user (by session or API token); without one, 401.
    Api,
    /// A logged-in admin (a page): without a session, a redirect to `/login`; a viewer gets
    /// 403.
    Admin,
    /// A logged-in admin (JSON, by session or API token): without one, 401; a viewer gets
    /// 403.
    AdminApi,
}

impl Guard {
    /// Whether the route is JSON API: 401 without a user, and an API token is accepted.
    pub fn is_api(self) -> bool {
        matches!(self, Guard::Api | Guard::AdminApi)
    }

    /// Whether only admins may call the route.
    pub fn admin_only(self) -> bool {
        matches!(self, Guard::Admin | Guard::AdminApi)
    }
}

/// One route: method, path and guard.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// The HTTP method.
    pub method: Method,
    /// The path.
    pub path: &'static str,
    /// Who may call it.
    pub guard: Guard,
}

/// The paths anyone may call without a session: the login form, single sign-on's start and
/// callback, the health checks and the static assets. (Documented in DESIGN.md, "Web"; the route tests hold the table to it.)
pub const PUBLIC_PATHS: &[&str] = &[
    "/login",
    oidc::START_PATH,
    oidc::CALLBACK_PATH,
    "/healthz",
    "/readyz",
    "/static/app.css",
    "/static/app.js",
    ECHARTS_PATH,
];

/// The vendored ECharts (its version in the path: cached for a year).
pub const ECHARTS_PATH: &str = "/static/vendor/echarts-5.6.0/echarts.min.js";

type Entry = (RouteInfo, MethodRouter<AppState>);

fn entry<H, T>(method: Method, path: &'static str, guard: Guard, handler: H) -> Entry
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = if method == Method::POST {
        MethodFilter::POST
    } else {
        MethodFilter::GET
    };
    (
        RouteInfo {
            method,
            path,
            guard,
        },
        on(filter, handler),
    )
}

/// A GET route of posture data whose answers the requests of a view share while the data does
/// not change ([`responses::shared`]).
fn shared<H, Fut, R>(path: &'static str, guard: Guard, handler: H) -> Entry
where
    H: Fn(State<AppState>, CurrentUser, RawQuery) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, WebError>> + Send + 'static,
    R: IntoResponse,
{
    let handler = responses::shared::<PostureVersion, _, _, _>(path, handler);
    entry(Method::GET, path, guard, handler)
}

/// A GET route of the Activity report whose answers the requests of a view share while the
/// report does not change ([`responses::shared`]).
fn live<H, Fut, R>(path: &'static str, guard: Guard, handler: H) -> Entry
where
    H: Fn(State<AppState>, CurrentUser, RawQuery) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, WebError>> + Send + 'static,
    R: IntoResponse,
{
    let handler = responses::shared::<ActivityVersion, _, _, _>(path, handler);
    entry(Method::GET, path, guard, handler)
}

/// The table: each route once.
fn table() -> Vec<Entry> {
    use Guard::{Admin, AdminApi, Api, Page, Public};
    use Method as M;
    vec![
        shared("/", Page, overview::page),
        shared("/api/overview", Api, overview::api),
        shared("/cost", Page, cost::page),
        shared("/api/cost", Api, cost::api),
        entry(M::GET, "/api/cost.csv", Api, cost::csv),
        shared("/security", Page, posture::page),
        shared("/api/security", Api, posture::api),
        entry(M::GET, "/api/security.csv", Api, posture::csv),
        shared("/compliance", Page, compliance::page),
        shared("/api/compliance", Api, compliance::api),
        entry(M::GET, "/api/compliance.csv", Api, compliance::csv),
        shared("/inventory", Page, inventory::page),
        shared("/api/inventory", Api, inventory::api),
        entry(M::GET, "/api/inventory.csv", Api, inventory::csv),
        shared("/operations", Page, operations::page),
        shared("/api/operations", Api, operations::api),
        entry(M::GET, "/api/operations.csv", Api, operations::csv),
        live("/activity", Page, activity::page),
        entry(M::GET, "/activity/events", Page, activity::events_page),
        live("/api/activity", Api, activity::api),
        entry(M::GET, "/api/activity.csv", Api, activity::csv),
        entry(M::GET, "/api/activity/events", Api, activity::events_api),
        entry(M::GET, "/api/activity/stream", Api, activity::stream),
        entry(M::GET, "/ingest", Page, ingest::page),
        entry(M::GET, "/api/ingest", Api, ingest::api),
        entry(M::GET, "/api/ingest.csv", Api, ingest::csv),
        entry(M::GET, "/admin/users", Admin, admin::page),
        entry(M::POST, "/admin/users", Admin, admin::add_user),
        entry(M::POST, "/admin/users/grant", Admin, admin::grant),
        entry(M::POST, "/admin/users/password", Admin, admin::password),
        entry(M::POST, "/admin/users/remove", Admin, admin::remove),
        entry(M::POST, "/admin/tokens", Admin, admin::create_token),
        entry(M::POST, "/admin/tokens/revoke", Admin, admin::revoke_token),
        entry(M::GET, "/api/admin/users", AdminApi, admin::api),
        entry(M::GET, openapi::OPENAPI_PATH, Api, openapi::serve),
        entry(M::GET, "/login", Public, login::form),
        entry(M::POST, "/login", Public, login::submit),
        entry(M::GET, oidc::START_PATH, Public, oidc::start),
        entry(M::GET, oidc::CALLBACK_PATH, Public, oidc::callback),
        entry(M::POST, "/logout", Page, login::logout),
        entry(M::GET, "/healthz", Public, health::healthz),
        entry(M::GET, "/readyz", Public, health::readyz),
        entry(M::GET, "/static/app.css", Public, assets::css),
        entry(M::GET, "/static/app.js", Public, assets::js),
        entry(M::GET, ECHARTS_PATH, Public, assets::echarts),
    ]
}

/// Every route of the app.
pub fn routes() -> Vec<RouteInfo> {
    table().into_iter().map(|(info, _)| info).collect()
}

/// The guard of the route `method path` (`path` as routed: the template), if it is one.
pub(crate) fn guard_of(method: &Method, path: &str) -> Option<Guard> {
    static GUARDS: OnceLock<HashMap<(Method, &'static str), Guard>> = OnceLock::new();
    GUARDS
        .get_or_init(|| {
            routes()
                .into_iter()
                .map(|r| ((r.method, r.path), r.guard))
                .collect()
        })
        .get(&(method.clone(), path))
        .copied()
}

pub(crate) fn build(state: AppState) -> Router {
    let mut router = Router::new();
    for (info, method_router) in table() {
        // The guard is a layer of the route itself, so a handler that forgot to take
        // `CurrentUser` is still protected.
        // Route layers run last added first: the session, then the role.
        let method_router = match info.guard {
            Guard::Public => method_router,
            Guard::Page | Guard::Api => method_router.route_layer(from_fn(session::require)),
            Guard::Admin | Guard::AdminApi => method_router
                .route_layer(from_fn(admin::require))
                .route_layer(from_fn(session::require)),
        };
        router = router.route(info.path, method_router);
    }
    if state.config().bench_static_bytes > 0 {
        router = router.route(
            baseline::PATH,
            axum::routing::get(baseline::serve).route_layer(from_fn(session::require)),
        );
    }
    // Layers run outside in: the last added first.
    let mut router = router
        .layer(from_fn(session::csrf))
        .layer(from_fn_with_state(state.clone(), tokens::bearer))
        .layer(from_fn_with_state(state.clone(), session::load))
        .with_state(state.clone());
    for layer in security::headers() {
        router = router.layer(layer);
    }
    // Outside the session and CSRF layers, so refusals are counted too; inside the router, so
    // the matched route template is known.
    router = router.layer(from_fn_with_state(state, metrics::record));
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The span of a request: method, path (never the query or a header: no token or cookie is
/// logged) and the request id, which the response echoes as `x-request-id`.
fn span<B>(req: &Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
    )
}
