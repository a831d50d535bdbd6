//! API tokens: making them, and the bearer layer that lets `Authorization: Bearer ow_…` call
//! the JSON API as the token's user.
//!
//! - A token is `ow_` and 64 hex digits: 256 random bits. Its holder sees it once; the store
//!   keeps its SHA-256 ([`hash`]) and its first 8 digits as a public [`Issued::prefix`] for
//!   lists (the remaining 224 bits are still out of reach of any guess).
//! - A bearer is read on the routes whose guard is an API one ([`Guard::is_api`]), and there
//!   it decides: a live token is its user (role and scope as stored at that moment), anything
//!   else is 401 with `WWW-Authenticate: Bearer`, whatever cookie came along. On pages it is
//!   ignored, so a bearer alone opens no page (a redirect to `/login`, as without a session).
//! - A bearer request needs no CSRF token: a browser never attaches an `Authorization` header
//!   to a cross-site request by itself (the app allows no CORS), so a request that carries
//!   one was made by the token's holder. A cookie request still needs it, on every route.
//! - The last use is written at most once a minute per token (as sessions' last request), so
//!   a busy client does not write on every call.
//! - Tokens are never logged (the request span has the path only).

use crate::routes::{guard_of, Guard};
use crate::session::{self, Via};
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// What every token starts with (so a leaked one is recognisable, e.g. by secret scanners).
pub const TOKEN_PREFIX: &str = "ow_";

/// Hex digits of the token kept as its public prefix.
const PREFIX_DIGITS: usize = 8;

/// How often a token's last use is written.
const TOUCH_EVERY: i64 = 60;

/// A freshly made token: the secret to show once, and what the store keeps.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The token itself (`ow_` + 64 hex digits): shown to its holder once, never stored.
    pub secret: String,
    /// Its public first characters (`ow_` + 8 hex digits), for lists.
    pub prefix: String,
    /// Its hex SHA-256, as the store keeps it.
    pub hash: String,
}

/// Makes a new token from 256 random bits.
pub fn issue() -> Issued {
    let digits = hex::encode(rand::random::<[u8; 32]>());
    let secret = format!("{TOKEN_PREFIX}{digits}");
    Issued {
        prefix: format!("{TOKEN_PREFIX}{}", &digits[..PREFIX_DIGITS]),
        hash: hash(&secret),
        secret,
    }
}

/// The hex SHA-256 of a token, as the store keeps and looks it up.
///
/// A fast hash is enough here, unlike for passwords: argon2id's cost is there to slow down
/// guessing a secret a person chose, and a token is 256 random bits, which no amount of
/// guessing finds, so a copy of the table opens nothing either way. SHA-256 keeps every API
/// call cheap (argon2id costs 19 MiB and tens of milliseconds). The token is found by
/// looking its hash up (an index), never by comparing secrets: what a lookup's timing could
/// reveal is about hashes, from which no token can be worked back.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An epoch second as RFC 3339 UTC (`2026-12-04T05:38:24Z`), as lists show token times.
pub fn epoch_text(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs).map_or_else(
        |_| secs.to_string(),
        |t| orgwatch_model::Timestamp::new(t).to_string(),
    )
}

/// The token of an `Authorization: Bearer …` header (`None` without one; the scheme is
/// case-insensitive).
fn bearer_of(req: &Request) -> Option<&str> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The answer to a bearer that opens nothing.
fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        axum::Json(serde_json::json!({
            "error": "invalid, expired or revoked API token"
        })),
    )
        .into_response()
}

/// Authenticates a bearer on API routes (see the module doc); runs after the session layer
/// and before the CSRF check.
pub(crate) async fn bearer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let api = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| guard_of(req.method(), p.as_str()))
        .is_some_and(Guard::is_api);
    if !api {
        return next.run(req).await;
    }
    let Some(token) = bearer_of(&req) else {
        return next.run(req).await;
    };
    // Two credentials must both hold, as a bad token beside a good cookie is refused: a
    // valid token does not vouch for a session cookie that names no session.
    if !token.starts_with(TOKEN_PREFIX) || session::stale_cookie(&req) {
        return refused();
    }
    let now = state.now();
    let found = match state.store().token_user(&hash(token), now).await {
        Ok(found) => found,
        Err(e) => return crate::WebError::from(e).into_response(),
    };
    let Some(found) = found else {
        tracing::info!("refused an API token");
        return refused();
    };
    if found.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
        if let Err(e) = state.store().touch_token(found.token, now).await {
            return crate::WebError::from(e).into_response();
        }
    }
    session::authenticate(&mut req, found.user, Via::Bearer);
    next.run(req).await
}
