//! The Users & tokens page (`/admin/users`, admins only) and `GET /api/admin/users`.
//!
//! Every change is a form post (with the session's CSRF token, checked by the CSRF layer)
//! answered with the page itself and what happened: a password or token made here is shown
//! on that response only, never again (responses are `Cache-Control: no-store`). The last
//! admin can be neither removed nor demoted (checked in the store's transaction, so two
//! admins demoting each other at once cannot both succeed).

use crate::routes::guard_of;
use crate::session::{self, CurrentUser};
use crate::tokens::{self, epoch_text};
use crate::{password, AppState, WebError};
use askama::Template;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use orgwatch_model::AccountId;
use orgwatch_store::auth::{
    user_name_problem, AdminChange, NewToken, NewUser, Revoked, Role, TokenId, TokenInfo,
    UserSummary,
};
use orgwatch_store::{Access, Limits};
use serde::Deserialize;
use serde_json::{json, Value};

/// Longest token name.
const MAX_TOKEN_NAME: usize = 64;
/// Longest token lifetime the page and the CLI accept, in days (10 years).
pub const MAX_EXPIRY_DAYS: u32 = 3650;

/// Refuses a user who is not an admin (after [`session::require`]): 403, as a page that
/// says so or as JSON on the API.
pub(crate) async fn require(req: Request, next: Next) -> Response {
    let Some(user) = session::current_of(&req) else {
        return session::unauthenticated(req.uri().path());
    };
    if user.user.role == Role::Admin {
        return next.run(req).await;
    }
    let api = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| guard_of(req.method(), p.as_str()))
        .is_some_and(crate::Guard::is_api);
    if api {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "admins only: your role is viewer"})),
        )
            .into_response();
    }
    match (Forbidden {
        user_name: &user.user.name,
        role: user.user.role.as_str(),
        csrf_token: &user.csrf_token,
        current: "users",
    })
    .render()
    {
        Ok(page) => (StatusCode::FORBIDDEN, Html(page)).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct Forbidden<'a> {
    user_name: &'a str,
    role: &'a str,
    csrf_token: &'a str,
    current: &'static str,
}

/// A secret shown once on a response page.
struct Secret {
    label: String,
    value: String,
}

/// A token as the page lists it.
struct TokenView {
    id: i64,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
    expires: String,
    revoked: String,
    live: bool,
}

/// A user as the page lists them.
struct UserView {
    name: String,
    role: &'static str,
    sees: String,
    accounts: String,
    ous: String,
    environments: String,
    created: String,
    last_login: String,
    tokens: Vec<TokenView>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct AdminPage<'a> {
    user_name: &'a str,
    role: &'a str,
    csrf_token: &'a str,
    current: &'static str,
    notice: Option<String>,
    error: Option<String>,
    secret: Option<Secret>,
    users: Vec<UserView>,
}

/// What a post did, shown above the lists.
#[derive(Default)]
struct Outcome {
    status: Option<StatusCode>,
    notice: Option<String>,
    error: Option<String>,
    secret: Option<Secret>,
}

impl Outcome {
    fn done(notice: String) -> Outcome {
        Outcome {
            notice: Some(notice),
            ..Outcome::default()
        }
    }

    fn refused(status: StatusCode, error: String) -> Outcome {
        Outcome {
            status: Some(status),
            error: Some(error),
            ..Outcome::default()
        }
    }
}

/// What an access lets a user see, in words (as `orgwatch users list` says it).
pub fn describe(access: &Access) -> String {
    match access {
        Access::All => "every account".to_owned(),
        Access::Limited(l) => {
            let mut parts: Vec<String> =
                l.accounts.iter().map(|a| format!("account {a}")).collect();
            parts.extend(l.ous.iter().map(|o| format!("OU {o}")));
            parts.extend(l.environments.iter().map(|e| format!("environment {e}")));
            if parts.is_empty() {
                "no account".to_owned()
            } else {
                parts.join(", ")
            }
        }
    }
}

fn time_or(t: Option<i64>, none: &str) -> String {
    t.map_or_else(|| none.to_owned(), epoch_text)
}

fn views(users: Vec<UserSummary>, tokens: &[TokenInfo], now: i64) -> Vec<UserView> {
    users
        .into_iter()
        .map(|s| {
            let (accounts, ous, environments) = match &s.user.access {
                Access::All => Default::default(),
                Access::Limited(l) => (
                    l.accounts
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    l.ous.join(", "),
                    l.environments.join(", "),
                ),
            };
            UserView {
                sees: describe(&s.user.access),
                role: s.user.role.as_str(),
                accounts,
                ous,
                environments,
                created: epoch_text(s.created_at),
                last_login: time_or(s.last_login_at, "never"),
                tokens: tokens
                    .iter()
                    .filter(|t| t.user == s.user.id)
                    .map(|t| TokenView {
                        id: t.id.0,
                        name: t.name.clone(),
                        prefix: t.prefix.clone(),
                        created: epoch_text(t.created_at),
                        last_used: time_or(t.last_used_at, "never"),
                        expires: time_or(t.expires_at, "never"),
                        revoked: t.revoked_at.map(epoch_text).unwrap_or_default(),
                        live: t.is_live(now),
                    })
                    .collect(),
                name: s.user.name,
            }
        })
        .collect()
}

/// The page with `outcome` on top.
async fn render(
    state: &AppState,
    user: &CurrentUser,
    outcome: Outcome,
) -> Result<Response, WebError> {
    let users = state.store().user_summaries().await?;
    let tokens = state.store().tokens(None).await?;
    let page = AdminPage {
        user_name: &user.user.name,
        role: user.user.role.as_str(),
        csrf_token: &user.csrf_token,
        current: "users",
        notice: outcome.notice,
        error: outcome.error,
        secret: outcome.secret,
        users: views(users, &tokens, state.now()),
    }
    .render()?;
    Ok((outcome.status.unwrap_or(StatusCode::OK), Html(page)).into_response())
}

/// `GET /admin/users`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    render(&state, &user, Outcome::default()).await
}

/// The limits of a form: lists separated by commas or spaces.
#[derive(Deserialize, Default)]
pub(crate) struct LimitsForm {
    #[serde(default)]
    accounts: String,
    #[serde(default)]
    ous: String,
    #[serde(default)]
    environments: String,
}

fn items(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn role_of(s: &str) -> Result<Role, String> {
    Role::parse(s).map_err(|_| format!("role {s:?}: choose admin or viewer"))
}

/// The access a form's limits give a user of `role` (as `orgwatch users grant` reads its
/// options).
fn access_of(role: Role, f: &LimitsForm) -> Result<Access, String> {
    let accounts = items(&f.accounts);
    let ous = items(&f.ous);
    let environments = items(&f.environments);
    if accounts.is_empty() && ous.is_empty() && environments.is_empty() {
        return Ok(Access::All);
    }
    if role == Role::Admin {
        return Err("an admin sees every account: leave the limits empty".to_owned());
    }
    let accounts = accounts
        .iter()
        .map(|a| AccountId::parse(a).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Access::Limited(Limits {
        accounts,
        ous,
        environments,
    }))
}

/// A password from a form: blank makes one (shown once); otherwise at least
/// [`password::MIN_LENGTH`] characters. The second value: whether to show it.
fn password_of(given: &str) -> Result<(String, bool), String> {
    if given.is_empty() {
        return Ok((password::generate(), true));
    }
    if given.chars().count() < password::MIN_LENGTH {
        return Err(format!(
            "a password has at least {} characters",
            password::MIN_LENGTH
        ));
    }
    Ok((given.to_owned(), false))
}

async fn hash(password: String) -> Result<Result<String, String>, WebError> {
    Ok(
        tokio::task::spawn_blocking(move || password::hash(&password))
            .await?
            .map_err(|e| e.to_string()),
    )
}

/// The add-user form.
#[derive(Deserialize)]
pub(crate) struct AddUserForm {
    name: String,
    role: String,
    #[serde(default)]
    password: String,
    #[serde(flatten)]
    limits: LimitsForm,
}

/// `POST /admin/users`: adds a user.
pub(crate) async fn add_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<AddUserForm>,
) -> Result<Response, WebError> {
    let outcome = add(&state, &f).await?;
    render(&state, &user, outcome).await
}

async fn add(state: &AppState, f: &AddUserForm) -> Result<Outcome, WebError> {
    let bad = |e: String| Ok(Outcome::refused(StatusCode::BAD_REQUEST, e));
    let name = f.name.trim();
    if let Some(problem) = user_name_problem(name) {
        return bad(problem);
    }
    let role = match role_of(&f.role) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let access = match access_of(role, &f.limits) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let (password, show) = match password_of(&f.password) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let password_hash = match hash(password.clone()).await? {
        Ok(h) => h,
        Err(e) => return bad(e),
    };
    let added = state
        .store()
        .add_user(&NewUser {
            name,
            password_hash: &password_hash,
            role,
            access: &access,
            now: state.now(),
        })
        .await?;
    if added.is_none() {
        return Ok(Outcome::refused(
            StatusCode::CONFLICT,
            format!("user {name} exists already: change them below"),
        ));
    }
    tracing::info!(user = %name, %role, "user added");
    let mut outcome = Outcome::done(format!(
        "Added {name} ({role}, sees {}).",
        describe(&access)
    ));
    if show {
        outcome.secret = Some(Secret {
            label: format!("Password of {name}"),
            value: password,
        });
    }
    Ok(outcome)
}

/// A form naming a user.
#[derive(Deserialize)]
pub(crate) struct NameForm {
    name: String,
}

/// The grant form.
#[derive(Deserialize)]
pub(crate) struct GrantForm {
    name: String,
    role: String,
    #[serde(flatten)]
    limits: LimitsForm,
}

fn no_such_user(name: &str) -> Outcome {
    Outcome::refused(StatusCode::NOT_FOUND, format!("there is no user {name}"))
}

fn last_admin(name: &str, what: &str) -> Outcome {
    Outcome::refused(
        StatusCode::CONFLICT,
        format!("{name} is the last admin and cannot be {what}: make another admin first"),
    )
}

/// `POST /admin/users/grant`: sets a user's role and limits.
pub(crate) async fn grant(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<GrantForm>,
) -> Result<Response, WebError> {
    let role = match role_of(&f.role) {
        Ok(r) => r,
        Err(e) => return render(&state, &user, Outcome::refused(StatusCode::BAD_REQUEST, e)).await,
    };
    let access = match access_of(role, &f.limits) {
        Ok(a) => a,
        Err(e) => return render(&state, &user, Outcome::refused(StatusCode::BAD_REQUEST, e)).await,
    };
    let outcome = match state
        .store()
        .grant_keeping_an_admin(&f.name, role, &access, state.now())
        .await?
    {
        AdminChange::NoSuchUser => no_such_user(&f.name),
        AdminChange::LastAdmin => last_admin(&f.name, "demoted"),
        AdminChange::Done => {
            tracing::info!(user = %f.name, %role, "user granted");
            // An admin who made themselves a viewer may no longer see this page.
            if f.name == user.user.name && role != Role::Admin {
                return Ok(Redirect::to("/").into_response());
            }
            Outcome::done(format!(
                "{} is now {role}, sees {}.",
                f.name,
                describe(&access)
            ))
        }
    };
    render(&state, &user, outcome).await
}

/// The password form.
#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    name: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/users/password`: sets a new password (given, or made and shown once) and
/// ends the user's sessions.
pub(crate) async fn password(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let (password, show) = match password_of(&f.password) {
        Ok(p) => p,
        Err(e) => return render(&state, &user, Outcome::refused(StatusCode::BAD_REQUEST, e)).await,
    };
    let password_hash = match hash(password.clone()).await? {
        Ok(h) => h,
        Err(e) => return render(&state, &user, Outcome::refused(StatusCode::BAD_REQUEST, e)).await,
    };
    if !state
        .store()
        .set_password(&f.name, &password_hash, state.now())
        .await?
    {
        return render(&state, &user, no_such_user(&f.name)).await;
    }
    tracing::info!(user = %f.name, "password reset");
    if f.name == user.user.name {
        // Their own sessions ended with it, this one too.
        return Ok(Redirect::to("/login").into_response());
    }
    let mut outcome = Outcome::done(format!(
        "Changed the password of {} (their sessions are ended).",
        f.name
    ));
    if show {
        outcome.secret = Some(Secret {
            label: format!("New password of {}", f.name),
            value: password,
        });
    }
    render(&state, &user, outcome).await
}

/// `POST /admin/users/remove`: removes a user with their sessions and tokens.
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<NameForm>,
) -> Result<Response, WebError> {
    let outcome = match state.store().remove_user_keeping_an_admin(&f.name).await? {
        AdminChange::NoSuchUser => no_such_user(&f.name),
        AdminChange::LastAdmin => last_admin(&f.name, "removed"),
        AdminChange::Done => {
            tracing::info!(user = %f.name, "user removed");
            if f.name == user.user.name {
                return Ok(Redirect::to("/login").into_response());
            }
            Outcome::done(format!(
                "Removed {} (their sessions and API tokens with them).",
                f.name
            ))
        }
    };
    render(&state, &user, outcome).await
}

/// Why a token name cannot be used, if it cannot.
pub fn token_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME {
        return Some(format!(
            "a token name has 1 to {MAX_TOKEN_NAME} characters; {name:?} has not"
        ));
    }
    if name.chars().any(char::is_control) {
        return Some(format!("a token name has no control characters: {name:?}"));
    }
    None
}

/// The create-token form.
#[derive(Deserialize)]
pub(crate) struct TokenForm {
    user: String,
    name: String,
    #[serde(default)]
    expires_in_days: String,
}

/// `POST /admin/tokens`: makes a token for a user; the response page shows it once.
pub(crate) async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<TokenForm>,
) -> Result<Response, WebError> {
    let outcome = new_token(&state, &f).await?;
    render(&state, &user, outcome).await
}

async fn new_token(state: &AppState, f: &TokenForm) -> Result<Outcome, WebError> {
    let name = f.name.trim();
    if let Some(problem) = token_name_problem(name) {
        return Ok(Outcome::refused(StatusCode::BAD_REQUEST, problem));
    }
    let days = f.expires_in_days.trim();
    let expires_in = if days.is_empty() {
        None
    } else {
        match days.parse::<u32>() {
            Ok(d) if (1..=MAX_EXPIRY_DAYS).contains(&d) => Some(d),
            _ => {
                return Ok(Outcome::refused(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "expires in {days:?} days: give a whole number of days from 1 to \
                         {MAX_EXPIRY_DAYS}, or nothing for a token that never expires"
                    ),
                ))
            }
        }
    };
    let Some(owner) = state.store().credentials(&f.user).await? else {
        return Ok(no_such_user(&f.user));
    };
    let now = state.now();
    let issued = tokens::issue();
    let id = state
        .store()
        .create_token(&NewToken {
            user: owner.user.id,
            name,
            prefix: &issued.prefix,
            token_hash: &issued.hash,
            now,
            expires_at: expires_in.map(|d| now + i64::from(d) * 86_400),
        })
        .await?;
    tracing::info!(user = %f.user, token = %id, "API token created");
    let mut outcome = Outcome::done(format!(
        "Created token {id} \"{name}\" for {} ({}).",
        f.user,
        expires_in.map_or_else(
            || "never expires".to_owned(),
            |d| format!("expires in {d} days")
        )
    ));
    outcome.secret = Some(Secret {
        label: format!("API token \"{name}\" of {}", f.user),
        value: issued.secret,
    });
    Ok(outcome)
}

/// The revoke form.
#[derive(Deserialize)]
pub(crate) struct RevokeForm {
    id: String,
}

/// `POST /admin/tokens/revoke`: revokes a token.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<RevokeForm>,
) -> Result<Response, WebError> {
    let Ok(id) = f.id.trim().parse::<i64>().map(TokenId) else {
        let why = format!("token id {:?} is not a number", f.id);
        return render(
            &state,
            &user,
            Outcome::refused(StatusCode::BAD_REQUEST, why),
        )
        .await;
    };
    let outcome = match state.store().revoke_token(id, state.now()).await? {
        Revoked::Now => {
            tracing::info!(token = %id, "API token revoked");
            Outcome::done(format!("Revoked token {id}: it opens nothing from now on."))
        }
        Revoked::Already(at) => Outcome::refused(
            StatusCode::CONFLICT,
            format!("token {id} was revoked already, at {}", epoch_text(at)),
        ),
        Revoked::NoSuchToken => {
            Outcome::refused(StatusCode::NOT_FOUND, format!("there is no token {id}"))
        }
    };
    render(&state, &user, outcome).await
}

fn opt_time(t: Option<i64>) -> Value {
    t.map_or(Value::Null, |t| Value::String(epoch_text(t)))
}

/// `GET /api/admin/users`: every user, what they see and their tokens (never a hash or a
/// token).
#[utoipa::path(get, path = "/api/admin/users", operation_id = "admin_users", tag = "admin",
    responses((status = 200, description = "Admins only: every user (name, role, what they \
        see, created, last login) with their tokens (name, public prefix, created, last used, \
        expiry, revocation; never a hash or a token)", content_type = "application/json")))]
pub(crate) async fn api(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> Result<Json<Value>, WebError> {
    let users = state.store().user_summaries().await?;
    let tokens = state.store().tokens(None).await?;
    let now = state.now();
    let users: Vec<Value> = users
        .into_iter()
        .map(|s| {
            let sees = match &s.user.access {
                Access::All => json!("all"),
                Access::Limited(l) => json!({
                    "accounts": l.accounts.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                    "ous": l.ous,
                    "environments": l.environments,
                }),
            };
            let mine: Vec<Value> = tokens
                .iter()
                .filter(|t| t.user == s.user.id)
                .map(|t| {
                    json!({
                        "id": t.id.0,
                        "name": t.name,
                        "prefix": t.prefix,
                        "created_at": epoch_text(t.created_at),
                        "last_used_at": opt_time(t.last_used_at),
                        "expires_at": opt_time(t.expires_at),
                        "revoked_at": opt_time(t.revoked_at),
                        "live": t.is_live(now),
                    })
                })
                .collect();
            json!({
                "name": s.user.name,
                "role": s.user.role.as_str(),
                "sees": sees,
                "created_at": epoch_text(s.created_at),
                "last_login_at": opt_time(s.last_login_at),
                "tokens": mine,
            })
        })
        .collect();
    Ok(Json(json!({ "users": users })))
}
