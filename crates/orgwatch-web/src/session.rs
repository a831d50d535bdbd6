//! Sessions, written here rather than with `tower-sessions`: that crate keeps one expiry per
//! session (idle *or* absolute, not both), has no CSRF token, and would store its own record
//! format beside ours. Here a session is a row of the store's `sessions` table (shared by
//! every `serve` process on the database) keyed by the SHA-256 of a random 256-bit id that
//! only the browser's cookie holds.
//!
//! - The cookie is `HttpOnly`, `SameSite=Strict`, `Path=/`, and `Secure` per
//!   [`SecureCookies`].
//! - A session ends [`SessionConfig::idle`] after its last request or
//!   [`SessionConfig::absolute`] after login, whichever is first; the last request is
//!   recorded at most once a minute (a write per request would serialise readers on SQLite).
//! - Login always issues a new id (a session id planted before login is never promoted);
//!   logout deletes the row.
//! - Every state-changing request (any method but GET, HEAD, OPTIONS) must carry the
//!   session's CSRF token, as the `X-CSRF-Token` header or a `csrf_token` form field; the
//!   login form, which has no session yet, carries a token that must equal its own cookie
//!   (double submit). Checked in one layer, [`csrf`], for every route.
//! - Session ids, tokens and passwords are never logged.

use crate::{AppState, WebError};
use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use orgwatch_store::auth::User;
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "orgwatch_session";
/// The login form's CSRF cookie (double submit: there is no session yet).
pub const LOGIN_CSRF_COOKIE: &str = "orgwatch_login_csrf";
/// The header that carries the CSRF token of API calls.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that carries the CSRF token of forms.
pub const CSRF_FIELD: &str = "csrf_token";

/// When cookies get the `Secure` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecureCookies {
    /// When the request came over HTTPS as a proxy in front says (`X-Forwarded-Proto:
    /// https`). A forged header can only make a cookie stricter, so it needs no trust.
    #[default]
    Auto,
    /// Always: the app is only ever reached over HTTPS.
    Always,
}

/// Session lifetimes and cookie policy.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// A session ends this long after its last request.
    pub idle: Duration,
    /// A session ends this long after login, however active.
    pub absolute: Duration,
    /// When cookies are `Secure`.
    pub secure: SecureCookies,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            secure: SecureCookies::Auto,
        }
    }
}

impl SessionConfig {
    /// The (created after, last seen after) bounds a session must pass at `now`.
    pub fn limits(&self, now: i64) -> (i64, i64) {
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        (
            now.saturating_sub(secs(self.absolute)),
            now.saturating_sub(secs(self.idle)),
        )
    }
}

/// How often the last request of a session is written.
const TOUCH_EVERY: i64 = 60;

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// A session cookie.
    Cookie,
    /// An API token (`crate::tokens`): no cookie, so no CSRF token is needed.
    Bearer,
}

/// A logged-in session, as the layer found it.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Who.
    pub(crate) user: User,
    /// Its CSRF token (empty for a bearer).
    pub(crate) csrf_token: String,
    /// Cookie or bearer.
    pub(crate) via: Via,
}

/// The session of a request, if any (an extension the session layer sets).
#[derive(Debug, Clone)]
struct Loaded(Option<Session>);

/// Makes `user` the request's user (the bearer layer, after checking a token).
pub(crate) fn authenticate(req: &mut Request, user: User, via: Via) {
    req.extensions_mut().insert(Loaded(Some(Session {
        user,
        csrf_token: String::new(),
        via,
    })));
}

/// Whether the request brought a session cookie that names no live session (expired,
/// logged out, forged).
pub(crate) fn stale_cookie(req: &Request) -> bool {
    cookie_value(req.headers(), SESSION_COOKIE).is_some()
        && matches!(req.extensions().get::<Loaded>(), Some(Loaded(None)))
}

/// The request's user, if it has one.
pub(crate) fn current_of(req: &Request) -> Option<CurrentUser> {
    match req.extensions().get::<Loaded>() {
        Some(Loaded(Some(s))) => Some(CurrentUser {
            user: s.user.clone(),
            csrf_token: s.csrf_token.clone(),
        }),
        _ => None,
    }
}

/// The logged-in user of a request: a handler that takes it requires a session. Without
/// one, pages redirect to `/login` and `/api/*` answers 401.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user (role and scope as stored now).
    pub user: User,
    /// The session's CSRF token, for forms the page renders.
    pub csrf_token: String,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<CurrentUser, Response> {
        match parts.extensions.get::<Loaded>() {
            Some(Loaded(Some(s))) => Ok(CurrentUser {
                user: s.user.clone(),
                csrf_token: s.csrf_token.clone(),
            }),
            _ => Err(unauthenticated(parts.uri.path())),
        }
    }
}

/// The answer to a request that needs a session and has none.
pub(crate) fn unauthenticated(path: &str) -> Response {
    if path == "/api" || path.starts_with("/api/") {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Session")],
            axum::Json(serde_json::json!({"error": "not logged in"})),
        )
            .into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}

/// Hex SHA-256, as ids are stored.
pub(crate) fn digest(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// A fresh random 256-bit token, hex.
pub(crate) fn token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The value of cookie `name` in a request's headers.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, `Secure` as the policy says; `max_age`
/// `None` for a browser-session cookie, zero to delete.
pub(crate) fn set_cookie(
    state: &AppState,
    request: &HeaderMap,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<Duration>,
) -> HeaderValue {
    cookie(state, request, name, value, path, max_age, SameSite::Strict)
}

/// [`set_cookie`] with another `SameSite` (single sign-on's flow cookie must come back on
/// the provider's cross-site redirect: `Lax`).
pub(crate) fn cookie(
    state: &AppState,
    request: &HeaderMap,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<Duration>,
    same_site: SameSite,
) -> HeaderValue {
    let secure = match state.config().session.secure {
        SecureCookies::Always => true,
        SecureCookies::Auto => request
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https")),
    };
    let mut c = Cookie::build((name, value))
        .http_only(true)
        .same_site(same_site)
        .path(path)
        .secure(secure);
    if let Some(age) = max_age {
        let secs = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        c = c.max_age(cookie::time::Duration::seconds(secs));
    }
    // Cookie names and values are ours (hex tokens): always a valid header value.
    HeaderValue::from_str(&c.build().to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// Loads the request's session (if its cookie names a live one) for [`CurrentUser`] and
/// [`csrf`], and records the request on it.
pub(crate) async fn load(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let session = match cookie_value(req.headers(), SESSION_COOKIE) {
        None => None,
        Some(id) => match lookup(&state, &id).await {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        },
    };
    req.extensions_mut().insert(Loaded(session));
    next.run(req).await
}

async fn lookup(state: &AppState, id: &str) -> Result<Option<Session>, WebError> {
    let id_hash = digest(id);
    let now = state.now();
    let (created_after, seen_after) = state.config().session.limits(now);
    let Some(record) = state
        .store()
        .session(&id_hash, created_after, seen_after)
        .await?
    else {
        return Ok(None);
    };
    if now - record.last_seen_at >= TOUCH_EVERY {
        state.store().touch_session(&id_hash, now).await?;
    }
    Ok(Some(Session {
        user: record.user,
        csrf_token: record.csrf_token,
        via: Via::Cookie,
    }))
}

/// The body a form may have for its token to be read (forms here are small).
const MAX_FORM: usize = 64 * 1024;

/// Refuses a state-changing request without the right CSRF token (403), or without a
/// session where one is needed (401 or a redirect to `/login`, as [`CurrentUser`] would).
pub(crate) async fn csrf(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let login = req.uri().path() == "/login";
    let expected = match req.extensions().get::<Loaded>() {
        // A bearer cannot be forged by another site (see `crate::tokens`).
        Some(Loaded(Some(s))) if s.via == Via::Bearer => return next.run(req).await,
        _ if login => cookie_value(req.headers(), LOGIN_CSRF_COOKIE),
        Some(Loaded(Some(s))) => Some(s.csrf_token.clone()),
        _ => return unauthenticated(req.uri().path()),
    };
    let header_token = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (req, given) = match header_token {
        Some(t) => (req, Some(t)),
        None => match form_token(req).await {
            Ok(pair) => pair,
            Err(response) => return response,
        },
    };
    match (expected, given) {
        (Some(e), Some(g)) if !e.is_empty() && bool::from(e.as_bytes().ct_eq(g.as_bytes())) => {
            next.run(req).await
        }
        _ => (
            StatusCode::FORBIDDEN,
            "missing or wrong CSRF token: reload the page and try again",
        )
            .into_response(),
    }
}

/// Reads the `csrf_token` field of a form body and gives the request back whole.
async fn form_token(req: Request) -> Result<(Request, Option<String>), Response> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response())?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| fields.into_iter().find(|(k, _)| k == CSRF_FIELD))
        .map(|(_, v)| v);
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// Refuses a request without a session (the guard of every non-public route).
pub(crate) async fn require(req: Request, next: Next) -> Response {
    match req.extensions().get::<Loaded>() {
        Some(Loaded(Some(_))) => next.run(req).await,
        _ => unauthenticated(req.uri().path()),
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<CurrentUser>, Self::Rejection> {
        Ok(
            <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

/// The client's address (the peer of the connection; unspecified when unknown, as in tests
/// without a socket). Behind a proxy every client is the proxy: its own limits then apply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) std::net::IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &AppState,
    ) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip()),
        ))
    }
}
