//! `/login` (the form and its submission) and `/logout`.

use crate::limit::Limited;
use crate::password;
use crate::session::{self, ClientIp, CurrentUser, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use orgwatch_store::auth::{NewSession, User};
use std::time::Duration;

/// The login form's token lives this long.
const LOGIN_CSRF_AGE: Duration = Duration::from_secs(3600);

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf_token: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    /// Single sign-on is configured: the page offers it beside the form.
    sso: bool,
}

/// The form a login posts.
#[derive(serde::Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
}

/// The login page with a fresh form token (and its cookie); `status` and `error` say why
/// it is shown again.
fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Result<Response, WebError> {
    let token = session::token();
    let page = LoginPage {
        csrf_token: &token,
        username,
        error,
        sso: state.config().oidc.is_some(),
    }
    .render()?;
    let cookie = session::set_cookie(
        state,
        headers,
        LOGIN_CSRF_COOKIE,
        &token,
        "/login",
        Some(LOGIN_CSRF_AGE),
    );
    Ok((status, [(header::SET_COOKIE, cookie)], Html(page)).into_response())
}

/// `GET /login`: the form, or the overview for a user already logged in.
pub(crate) async fn form(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    login_page(&state, &headers, StatusCode::OK, "", None)
}

/// `POST /login`: checks the rate limits, then the password (the same work whether or not
/// the user exists), and on success starts a new session under a new id.
pub(crate) async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    if let Err(limit) = state.limiter().check(ip, &form.username) {
        tracing::warn!(%ip, ?limit, "login rate limit reached");
        let why = match limit {
            Limited::Ip => "Too many login attempts from your address: wait a minute.",
            Limited::User => "Too many login attempts for this user: wait a minute.",
        };
        return login_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &form.username,
            Some(why),
        );
    }
    let credentials = state.store().credentials(&form.username).await?;
    let (user, ok) = tokio::task::spawn_blocking(move || match credentials {
        Some(c) => {
            let ok = password::verify(&form.password, &c.password_hash);
            (Some(c.user), ok)
        }
        None => (None, password::verify_dummy(&form.password)),
    })
    .await?;
    let user = match (user, ok) {
        (Some(user), true) => user,
        _ => {
            tracing::info!(%ip, "login failed");
            let name = echoed_name(&form.username);
            return login_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                &name,
                Some("Wrong user name or password."),
            );
        }
    };
    let set = new_session(&state, &headers, &user).await?;
    tracing::info!(user = %user.name, "logged in");
    let clear = session::set_cookie(
        &state,
        &headers,
        LOGIN_CSRF_COOKIE,
        "",
        "/login",
        Some(Duration::ZERO),
    );
    // Appended: an array of header pairs would keep only the last `Set-Cookie`.
    Ok((
        AppendHeaders([(header::SET_COOKIE, set), (header::SET_COOKIE, clear)]),
        Redirect::to("/"),
    )
        .into_response())
}

/// Starts a session for `user` (a password or single sign-on login) under a new id, and
/// deletes the one the browser brought: a session id is never promoted. The `Set-Cookie` of
/// the new one.
pub(crate) async fn new_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
) -> Result<HeaderValue, WebError> {
    if let Some(old) = session::cookie_value(headers, SESSION_COOKIE) {
        state.store().delete_session(&session::digest(&old)).await?;
    }
    let id = session::token();
    let csrf_token = session::token();
    state
        .store()
        .create_session(&NewSession {
            id_hash: &session::digest(&id),
            user: user.id,
            csrf_token: &csrf_token,
            now: state.now(),
        })
        .await?;
    Ok(session::set_cookie(
        state,
        headers,
        SESSION_COOKIE,
        &id,
        "/",
        None,
    ))
}

/// The user name to fill the form with again (bounded: it is echoed into the page).
fn echoed_name(name: &str) -> String {
    name.chars().take(64).collect()
}

/// `POST /logout`: deletes the session on the server and the cookie in the browser; a
/// single sign-on user goes on to the provider's logout, if it has one.
pub(crate) async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if let Some(id) = session::cookie_value(&headers, SESSION_COOKIE) {
        state.store().delete_session(&session::digest(&id)).await?;
    }
    tracing::info!(user = %user.user.name, "logged out");
    let clear = session::set_cookie(
        &state,
        &headers,
        SESSION_COOKIE,
        "",
        "/",
        Some(Duration::ZERO),
    );
    let next = crate::oidc::after_logout(&state, &user.user).await?;
    Ok(([(header::SET_COOKIE, clear)], Redirect::to(&next)).into_response())
}
