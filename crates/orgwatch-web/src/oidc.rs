//! Single sign-on with OpenID Connect: the authorization code flow with PKCE, `state` and
//! nonce (the `openidconnect` crate), beside the local users.
//!
//! - [`Oidc::discover`] reads the provider's discovery document and keys at startup.
//! - `GET /login/oidc` ([`start`]) records the login under way in the store (the SHA-256 of
//!   its `state`, the nonce and the PKCE verifier: shared by every `serve` process, taken
//!   once) and binds it to the browser with a cookie holding the `state`, then sends the
//!   browser to the provider.
//! - `GET /login/oidc/callback` ([`callback`]) takes that login (a replayed or foreign
//!   `state` finds none), exchanges the code, verifies the ID token (signature by the
//!   provider's keys, issuer, audience = our client id, expiry by the app's clock, nonce),
//!   reads the groups claim (from the ID token, else from userinfo), maps the groups to a role
//!   and limits ([`GroupMapping`]; no mapped group: refused, saying so), writes the user
//!   (known by issuer and subject, with no local password) and starts a session as the
//!   password login does.
//! - Logout of such a user goes on to the provider's `end_session_endpoint`, if it has one.
//!
//! The client secret is never logged (its `Debug` is redacted), nor are codes or tokens.

use crate::session;
use crate::{AppState, WebError};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndSessionUrl,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IdTokenFields,
    IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use orgwatch_model::AccountId;
use orgwatch_store::auth::{OidcLogin, PendingLogin, Role, User};
use orgwatch_store::{Access, Limits};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The path that starts a login at the provider.
pub const START_PATH: &str = "/login/oidc";
/// The path the provider sends the browser back to (the default redirect URL's path).
pub const CALLBACK_PATH: &str = "/login/oidc/callback";
/// The cookie that binds a login under way to the browser that started it: it holds the
/// `state`, which the callback must bring back.
pub const FLOW_COOKIE: &str = "orgwatch_oidc";
/// A login must come back from the provider within this.
const FLOW_AGE: Duration = Duration::from_secs(600);
/// Each request to the provider must answer within this.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest answer read from the provider (discovery, keys, tokens, userinfo are small).
const MAX_ANSWER: usize = 1024 << 10;

/// How to reach the identity provider and whom it lets in.
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer URL (discovery is at `ISSUER/.well-known/openid-configuration`).
    pub issuer: String,
    /// Our client id at the provider: the audience ID tokens must have.
    pub client_id: String,
    /// Our client secret (from the environment, never a flag or a log).
    pub client_secret: String,
    /// Where the provider sends the browser back: this app's [`CALLBACK_PATH`].
    pub redirect_url: String,
    /// The claim that lists a user's groups (`groups`).
    pub groups_claim: String,
    /// Scopes asked for besides `openid` (the provider may need one for the groups claim).
    pub scopes: Vec<String>,
    /// Which groups give which role and limits.
    pub groups: Vec<GroupMapping>,
}

impl fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"(redacted)")
            .field("redirect_url", &self.redirect_url)
            .field("groups_claim", &self.groups_claim)
            .field("scopes", &self.scopes)
            .field("groups", &self.groups)
            .finish()
    }
}

/// What one provider group gives its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupGrant {
    /// Administrators (every account).
    Admin,
    /// Viewers: of every account (`None`), or only of those the limits name.
    Viewer(Option<Limits>),
}

/// `GROUP=admin`, `GROUP=viewer` or `GROUP=viewer:account=ID,ou=OU,environment=ENV` (limits
/// repeatable, their union).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMapping {
    /// The group's name as the provider's claim has it (compared exactly).
    pub group: String,
    /// What it gives.
    pub grant: GroupGrant,
}

/// A group mapping that does not parse.
#[derive(Debug, thiserror::Error)]
#[error(
    "bad group mapping {spec:?}: {why}; write GROUP=admin, GROUP=viewer or \
     GROUP=viewer:account=ID,ou=OU,environment=ENV"
)]
pub struct BadMapping {
    spec: String,
    why: String,
}

impl FromStr for GroupMapping {
    type Err = BadMapping;

    fn from_str(spec: &str) -> Result<GroupMapping, BadMapping> {
        let bad = |why: &str| BadMapping {
            spec: spec.to_owned(),
            why: why.to_owned(),
        };
        // The role follows the last `=` that a role follows: group names may hold `=` (LDAP
        // names such as `cn=ops,ou=groups`), limits do too.
        let (group, role) = spec
            .match_indices('=')
            .rev()
            .map(|(at, _)| (&spec[..at], &spec[at + 1..]))
            .find(|(_, role)| {
                ["admin", "viewer"].contains(role)
                    || role.starts_with("viewer:")
                    || role.starts_with("admin:")
            })
            .ok_or_else(|| bad("no role (admin or viewer) after `=`"))?;
        if group.trim().is_empty() {
            return Err(bad("the group name is empty"));
        }
        let grant = match role.split_once(':') {
            Some(("admin", _)) => {
                return Err(bad("an admin sees every account: limits are for viewers"))
            }
            None if role == "admin" => GroupGrant::Admin,
            None => GroupGrant::Viewer(None),
            Some((_, limits)) => {
                GroupGrant::Viewer(Some(parse_limits(limits).map_err(|w| bad(&w))?))
            }
        };
        Ok(GroupMapping {
            group: group.to_owned(),
            grant,
        })
    }
}

fn parse_limits(text: &str) -> Result<Limits, String> {
    let mut limits = Limits::default();
    for part in text.split(',') {
        let (kind, value) = part
            .split_once('=')
            .ok_or_else(|| format!("limit {part:?} is not KIND=VALUE"))?;
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("limit {part:?} has no value"));
        }
        match kind.trim() {
            "account" => limits
                .accounts
                .push(AccountId::parse(value).map_err(|e| e.to_string())?),
            "ou" => limits.ous.push(value.to_owned()),
            "environment" => limits.environments.push(value.to_owned()),
            other => {
                return Err(format!(
                    "unknown limit {other:?} (account, ou or environment)"
                ))
            }
        }
    }
    Ok(limits)
}

/// The role and access of a user in `groups`: an admin group wins; else the union of the
/// matching viewer groups' limits (a viewer group without limits: every account); `None`
/// when no group is mapped.
pub fn grant_of(groups: &[String], mappings: &[GroupMapping]) -> Option<(Role, Access)> {
    let matching: Vec<&GroupGrant> = mappings
        .iter()
        .filter(|m| groups.contains(&m.group))
        .map(|m| &m.grant)
        .collect();
    if matching.is_empty() {
        return None;
    }
    if matching.contains(&&GroupGrant::Admin) {
        return Some((Role::Admin, Access::All));
    }
    let mut union = Limits::default();
    for grant in matching {
        match grant {
            GroupGrant::Viewer(Some(l)) => {
                union.accounts.extend(l.accounts.iter().cloned());
                union.ous.extend(l.ous.iter().cloned());
                union.environments.extend(l.environments.iter().cloned());
            }
            GroupGrant::Viewer(None) => return Some((Role::Viewer, Access::All)),
            GroupGrant::Admin => return Some((Role::Admin, Access::All)),
        }
    }
    let dedup = |v: &mut Vec<String>| {
        let set: BTreeSet<String> = v.drain(..).collect();
        v.extend(set);
    };
    union.accounts.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    union.accounts.dedup();
    dedup(&mut union.ous);
    dedup(&mut union.environments);
    Some((Role::Viewer, Access::Limited(union)))
}

/// Claims beyond the standard ones (the groups claim among them), kept whole.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Extra(serde_json::Map<String, serde_json::Value>);

impl AdditionalClaims for Extra {}

type TokenAnswer = StandardTokenResponse<
    IdTokenFields<
        Extra,
        openidconnect::EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type OidcClient = Client<
    Extra,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why single sign-on cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// A URL of the settings is not one.
    #[error("{what} {url:?} is not a URL: {why}")]
    BadUrl {
        /// Which setting.
        what: &'static str,
        /// Its value.
        url: String,
        /// Why.
        why: String,
    },
    /// Plain HTTP to a provider that is not on this machine.
    #[error(
        "the OpenID issuer {0} is plain http: use https (http is accepted only on a loopback \
         address, for tests)"
    )]
    Insecure(String),
    /// No root certificates to check the provider's TLS certificate with.
    #[error("cannot check the OpenID provider's TLS certificate: no root certificates ({0}); install the ca-certificates package")]
    NoRoots(String),
    /// Discovery failed: unreachable, not a provider, or another issuer.
    #[error(
        "cannot read the OpenID provider's discovery document at {issuer}/.well-known/openid-configuration \
         (is the issuer URL right and the provider reachable?): {why}"
    )]
    Discovery {
        /// The issuer.
        issuer: String,
        /// Why.
        why: String,
    },
    /// No group mapping: nobody could log in.
    #[error("no group is mapped to a role: give at least one GROUP=admin or GROUP=viewer mapping")]
    NoMapping,
}

/// A request to the provider under way.
type Sending =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, HttpError>> + Send>>;

/// A failed request to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// The HTTP client of the provider's endpoints: hyper-util's, over rustls (on ring, with the
/// operating system's roots) for https; plain only for a loopback issuer. It follows no
/// redirect (an endpoint that redirects fails, as the openidconnect crate advises).
#[derive(Clone)]
enum Http {
    Tls(HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>),
    Plain(HyperClient<HttpConnector, Full<Bytes>>),
}

impl Http {
    fn for_issuer(issuer: &IssuerUrl) -> Result<Http, OidcError> {
        let url = issuer.url();
        match url.scheme() {
            "https" => {
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(|e| OidcError::NoRoots(e.to_string()))?
                    .https_only()
                    .enable_http1()
                    .build();
                Ok(Http::Tls(
                    HyperClient::builder(TokioExecutor::new()).build(connector),
                ))
            }
            "http" if is_loopback(url) => Ok(Http::Plain(
                HyperClient::builder(TokioExecutor::new()).build_http(),
            )),
            "http" => Err(OidcError::Insecure(issuer.to_string())),
            other => Err(OidcError::BadUrl {
                what: "the issuer",
                url: issuer.to_string(),
                why: format!("scheme {other:?} is neither https nor http"),
            }),
        }
    }

    /// The client as openidconnect takes it: a function from request to future. The future
    /// owns its (cheap) copy of the client, so it borrows nothing and is `Send`, as axum
    /// handlers' futures must be.
    fn client(&self) -> impl Fn(HttpRequest) -> Sending + Send + Sync + '_ {
        move |request| {
            let http = self.clone();
            Box::pin(async move { http.send(request).await })
        }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let request = axum::http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let answer = match self {
            Http::Tls(c) => tokio::time::timeout(HTTP_TIMEOUT, c.request(request)).await,
            Http::Plain(c) => tokio::time::timeout(HTTP_TIMEOUT, c.request(request)).await,
        }
        .map_err(|_| HttpError(format!("no answer in {} s", HTTP_TIMEOUT.as_secs())))?
        .map_err(|e| HttpError(e.to_string()))?;
        let (parts, body) = answer.into_parts();
        let body = Limited::new(body, MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| HttpError(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok(HttpResponse::from_parts(parts, body.to_vec()))
    }
}

fn is_loopback(url: &openidconnect::url::Url) -> bool {
    match url.host() {
        Some(openidconnect::url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(openidconnect::url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(openidconnect::url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// A discovered provider and our client at it.
pub struct Oidc {
    client: OidcClient,
    http: Http,
    issuer: String,
    end_session: Option<EndSessionUrl>,
    post_logout: PostLogoutRedirectUrl,
    settings: OidcSettings,
}

impl fmt::Debug for Oidc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oidc")
            .field("settings", &self.settings)
            .field("end_session", &self.end_session)
            .finish_non_exhaustive()
    }
}

fn url_of<T>(
    what: &'static str,
    url: &str,
    make: impl FnOnce(String) -> Result<T, openidconnect::url::ParseError>,
) -> Result<T, OidcError> {
    make(url.to_owned()).map_err(|e| OidcError::BadUrl {
        what,
        url: url.to_owned(),
        why: e.to_string(),
    })
}

impl Oidc {
    /// Reads the provider's discovery document and signing keys: fails with a reason a user
    /// can act on when the issuer is unreachable, not a provider, or names another issuer.
    pub async fn discover(settings: OidcSettings) -> Result<Oidc, OidcError> {
        if settings.groups.is_empty() {
            return Err(OidcError::NoMapping);
        }
        // The issuer as given, without a trailing slash (discovery appends its path).
        let issuer_text = settings.issuer.trim_end_matches('/').to_owned();
        let issuer = url_of("the issuer", &issuer_text, IssuerUrl::new)?;
        let redirect = url_of("the redirect URL", &settings.redirect_url, RedirectUrl::new)?;
        let post_logout = url_of(
            "the redirect URL",
            &settings.redirect_url,
            |u| -> Result<PostLogoutRedirectUrl, openidconnect::url::ParseError> {
                let login = openidconnect::url::Url::parse(&u)?.join("/login")?;
                PostLogoutRedirectUrl::new(login.to_string())
            },
        )?;
        let http = Http::for_issuer(&issuer)?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer.clone(), &http.client())
            .await
            .map_err(|e| OidcError::Discovery {
                issuer: issuer_text.clone(),
                why: error_chain(&e),
            })?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        Ok(Oidc {
            client,
            http,
            issuer: issuer.to_string(),
            end_session,
            post_logout,
            settings,
        })
    }

    /// The issuer, as ID tokens must name it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether the provider advertises an `end_session_endpoint` (logout goes on there).
    pub fn has_end_session(&self) -> bool {
        self.end_session.is_some()
    }
}

/// An error and its sources, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[derive(Template)]
#[template(path = "sso.html")]
struct SsoPage<'a> {
    heading: &'a str,
    message: &'a str,
    /// Where the browser goes on by itself (a page of ours, so that the session cookie,
    /// `SameSite=Strict`, is sent: a redirect straight from the provider's would not be
    /// same-site).
    continue_to: Option<&'a str>,
}

/// A page saying why a sign-in was refused, with a way back.
fn refused(status: StatusCode, message: &str) -> Result<Response, WebError> {
    let page = SsoPage {
        heading: "Single sign-on refused",
        message,
        continue_to: None,
    }
    .render()?;
    Ok((status, Html(page)).into_response())
}

/// `GET /login/oidc`: records a new login (state, nonce, PKCE verifier) and sends the
/// browser to the provider; 404 when single sign-on is not configured.
pub(crate) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let Some(oidc) = state.config().oidc.clone() else {
        return Ok((StatusCode::NOT_FOUND, "single sign-on is not configured\n").into_response());
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = oidc
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            || CsrfToken::new(session::token()),
            || Nonce::new(session::token()),
        )
        .add_scopes(oidc.settings.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge)
        .url();
    state
        .store()
        .create_oidc_login(
            &session::digest(csrf.secret()),
            &PendingLogin {
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
            state.now(),
        )
        .await?;
    // Lax, not Strict: the provider's redirect back is a cross-site navigation, on which a
    // Strict cookie is not sent.
    let cookie = session::cookie(
        &state,
        &headers,
        FLOW_COOKIE,
        csrf.secret(),
        START_PATH,
        Some(FLOW_AGE),
        SameSite::Lax,
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(url.as_str())).into_response())
}

/// The parameters the provider sends back.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /login/oidc/callback`: see the module's documentation.
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Result<Response, WebError> {
    let Some(oidc) = state.config().oidc.clone() else {
        return Ok((StatusCode::NOT_FOUND, "single sign-on is not configured\n").into_response());
    };
    let clear = session::cookie(
        &state,
        &headers,
        FLOW_COOKIE,
        "",
        START_PATH,
        Some(Duration::ZERO),
        SameSite::Lax,
    );
    let outcome = finish(&state, &oidc, &headers, params).await;
    let mut response = match outcome {
        Ok(user) => {
            tracing::info!(user = %user.name, role = %user.role, "logged in by single sign-on");
            let set = crate::login::new_session(&state, &headers, &user).await?;
            let page = SsoPage {
                heading: "Signed in",
                message: "You are signed in.",
                continue_to: Some("/"),
            }
            .render()?;
            (AppendHeaders([(header::SET_COOKIE, set)]), Html(page)).into_response()
        }
        Err(Refusal {
            status,
            message,
            log,
        }) => {
            // The reason may quote what the callback's query carried: one bounded line.
            tracing::warn!(reason = %one_line(&log, 400), "single sign-on refused");
            refused(status, &message)?
        }
    };
    response.headers_mut().append(header::SET_COOKIE, clear);
    Ok(response)
}

/// Why a callback does not log anyone in: what the page says and what the log says.
struct Refusal {
    status: StatusCode,
    message: String,
    log: String,
}

impl Refusal {
    fn new(status: StatusCode, message: &str, log: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.to_owned(),
            log: log.into(),
        }
    }

    fn token(log: impl Into<String>) -> Refusal {
        Refusal::new(
            StatusCode::FORBIDDEN,
            "The identity provider's answer could not be verified, so you are not signed in. \
             Try again; if it persists, tell an administrator.",
            log,
        )
    }
}

impl From<WebError> for Refusal {
    fn from(e: WebError) -> Refusal {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Single sign-on failed inside orgwatch (see the server log).",
            e.to_string(),
        )
    }
}

async fn finish(
    state: &AppState,
    oidc: &Oidc,
    headers: &HeaderMap,
    params: CallbackParams,
) -> Result<User, Refusal> {
    let again = "Start again from the login page.";
    let Some(returned) = params.state else {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, again, "no state"));
    };
    // The state must be the one this browser was given: a state from another browser (a
    // login forced on this one) or none is refused before anything is taken.
    let ours = session::cookie_value(headers, FLOW_COOKIE).unwrap_or_default();
    if ours.is_empty() || !bool::from(ours.as_bytes().ct_eq(returned.as_bytes())) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            &format!("This sign-in was not started in this browser. {again}"),
            "state does not match this browser's cookie",
        ));
    }
    let started_after = state.now() - i64::try_from(FLOW_AGE.as_secs()).unwrap_or(600);
    let pending = state
        .store()
        .take_oidc_login(&session::digest(&returned), started_after)
        .await
        .map_err(|e| Refusal::from(WebError::from(e)))?;
    let Some(pending) = pending else {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            &format!("This sign-in was already used or is too old. {again}"),
            "unknown, used or expired state",
        ));
    };
    if let Some(error) = params.error {
        let error = one_line(&error, 64);
        let description = params.error_description.unwrap_or_default();
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            &format!("The identity provider did not sign you in ({error}). {again}"),
            format!("provider error {error}: {description}"),
        ));
    }
    // RFC 9207: an authorization response names its issuer; another one is a mix-up.
    if let Some(iss) = params.iss {
        if iss.trim_end_matches('/') != oidc.issuer.trim_end_matches('/') {
            return Err(Refusal::token(format!(
                "authorization response from issuer {iss:?}"
            )));
        }
    }
    let Some(code) = params.code else {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, again, "no code"));
    };
    let send = oidc.http.client();
    let answer = oidc
        .client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| Refusal::token(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
        .request_async(&send)
        .await
        .map_err(|e| Refusal::token(format!("code exchange: {}", error_chain(&e))))?;
    let id_token = answer
        .id_token()
        .ok_or_else(|| Refusal::token("the token answer has no ID token"))?;
    let now = state.now();
    let verifier = oidc
        .client
        .id_token_verifier()
        .set_time_fn(move || chrono::DateTime::from_timestamp(now, 0).unwrap_or_default());
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce))
        .map_err(|e| Refusal::token(format!("ID token: {}", error_chain(&e))))?;
    let subject = claims.subject().to_string();
    let claim = &oidc.settings.groups_claim;
    let groups = match claims.additional_claims().0.get(claim) {
        Some(value) => groups_in(value),
        // Not in the ID token: at userinfo, if the provider has one (else the user has no
        // group, and is refused as such).
        None => match oidc.client.user_info(
            answer.access_token().clone(),
            Some(claims.subject().clone()),
        ) {
            Err(_) => Vec::new(),
            Ok(request) => request
                .request_async::<Extra, _, CoreGenderClaim>(&send)
                .await
                .map_err(|e| Refusal::token(format!("userinfo: {}", error_chain(&e))))?
                .additional_claims()
                .0
                .get(claim)
                .map(groups_in)
                .unwrap_or_default(),
        },
    };
    let name = claims
        .preferred_username()
        .map(|n| n.to_string())
        .or_else(|| claims.email().map(|e| e.to_string()))
        .unwrap_or_else(|| subject.clone());
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .take(64)
        .collect();
    let Some((role, access)) = grant_of(&groups, &oidc.settings.groups) else {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            &format!(
                "You are signed in at the identity provider as {name}, but none of your groups \
                 ({}) gives access to orgwatch. Ask an administrator to add you to a group \
                 orgwatch maps to a role.",
                if groups.is_empty() {
                    "none".to_owned()
                } else {
                    groups.join(", ")
                }
            ),
            format!("{name}: no mapped group in {claim} {groups:?}"),
        ));
    };
    let user = state
        .store()
        .upsert_oidc_user(&OidcLogin {
            issuer: &oidc.issuer,
            subject: &subject,
            name: if name.is_empty() { &subject } else { &name },
            role,
            access: &access,
            now,
        })
        .await
        .map_err(|e| Refusal::from(WebError::from(e)))?;
    Ok(user)
}

/// `text` on one line (control characters as spaces), at most `max` characters: for what
/// a request carried into a log line or a page.
fn one_line(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The groups of a claim's value: an array of strings, or one string.
fn groups_in(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Where the browser goes after logging `user` out: the provider's end-session endpoint for
/// a single sign-on user (which then sends them back to our login page), else our login page.
pub(crate) async fn after_logout(state: &AppState, user: &User) -> Result<String, WebError> {
    let Some(oidc) = state.config().oidc.as_deref() else {
        return Ok("/login".to_owned());
    };
    let Some(end) = oidc.end_session.clone() else {
        return Ok("/login".to_owned());
    };
    if !state.store().is_oidc_user(user.id).await? {
        return Ok("/login".to_owned());
    }
    Ok(LogoutRequest::from(end)
        .set_client_id(ClientId::new(oidc.settings.client_id.clone()))
        .set_post_logout_redirect_uri(oidc.post_logout.clone())
        .http_get_url()
        .to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mapping(s: &str) -> GroupMapping {
        s.parse().unwrap()
    }

    fn accounts(ids: &[&str]) -> Vec<AccountId> {
        ids.iter().map(|a| AccountId::parse(a).unwrap()).collect()
    }

    #[test]
    fn group_mappings_parse_roles_and_limits() {
        assert_eq!(
            mapping("ops=admin"),
            GroupMapping {
                group: "ops".into(),
                grant: GroupGrant::Admin
            }
        );
        assert_eq!(mapping("all-eyes=viewer").grant, GroupGrant::Viewer(None));
        let m = mapping(
            "sales=viewer:account=111111111111,environment=prod,ou=Sales,account=222222222222",
        );
        assert_eq!(m.group, "sales");
        assert_eq!(
            m.grant,
            GroupGrant::Viewer(Some(Limits {
                accounts: accounts(&["111111111111", "222222222222"]),
                ous: vec!["Sales".into()],
                environments: vec!["prod".into()],
            }))
        );
        // Group names may hold `=` and `:` (LDAP distinguished names, URNs).
        let m = mapping("cn=ops,ou=groups,dc=example=viewer:account=111111111111");
        assert_eq!(m.group, "cn=ops,ou=groups,dc=example");
        let m = mapping("urn:team:sre=admin");
        assert_eq!(
            (m.group.as_str(), m.grant),
            ("urn:team:sre", GroupGrant::Admin)
        );
    }

    #[test]
    fn bad_group_mappings_say_what_is_wrong() {
        for (spec, why) in [
            ("ops", "no role"),
            ("ops=root", "no role"),
            ("=admin", "group name is empty"),
            ("ops=admin:account=111111111111", "limits are for viewers"),
            ("ops=viewer:", "is not KIND=VALUE"),
            ("ops=viewer:account=12", "12"),
            ("ops=viewer:region=eu-west-1", "unknown limit \"region\""),
            ("ops=viewer:ou=", "has no value"),
        ] {
            let e = spec.parse::<GroupMapping>().unwrap_err().to_string();
            assert!(e.contains(why), "{spec}: {e}");
            assert!(e.contains("GROUP=viewer:account=ID"), "{spec}: {e}");
        }
    }

    #[test]
    fn an_admin_group_wins_viewer_groups_add_up_and_no_group_is_refused() {
        let maps: Vec<GroupMapping> = [
            "admins=admin",
            "a=viewer:account=111111111111,environment=prod",
            "b=viewer:account=222222222222,account=111111111111,environment=PROD",
            "everything=viewer",
        ]
        .iter()
        .map(|m| mapping(m))
        .collect();
        let groups = |g: &[&str]| g.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(grant_of(&groups(&[]), &maps), None);
        assert_eq!(
            grant_of(&groups(&["Admins", "other"]), &maps),
            None,
            "exact names"
        );
        assert_eq!(
            grant_of(&groups(&["a", "admins"]), &maps),
            Some((Role::Admin, Access::All))
        );
        assert_eq!(
            grant_of(&groups(&["b", "a"]), &maps),
            Some((
                Role::Viewer,
                Access::Limited(Limits {
                    accounts: accounts(&["111111111111", "222222222222"]),
                    ous: vec![],
                    environments: vec!["PROD".into(), "prod".into()],
                })
            ))
        );
        assert_eq!(
            grant_of(&groups(&["a", "everything"]), &maps),
            Some((Role::Viewer, Access::All))
        );
    }

    #[test]
    fn the_settings_never_show_the_client_secret() {
        let s = OidcSettings {
            issuer: "https://id.example".into(),
            client_id: "orgwatch".into(),
            client_secret: "hunter2-secret".into(),
            redirect_url: "https://ow.example/login/oidc/callback".into(),
            groups_claim: "groups".into(),
            scopes: vec![],
            groups: vec![mapping("ops=admin")],
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("orgwatch"));
    }

    #[tokio::test]
    async fn discovery_failures_name_the_issuer_and_the_cause() {
        let settings = |issuer: &str| OidcSettings {
            issuer: issuer.into(),
            client_id: "orgwatch".into(),
            client_secret: "s".into(),
            redirect_url: "http://127.0.0.1:8080/login/oidc/callback".into(),
            groups_claim: "groups".into(),
            scopes: vec![],
            groups: vec![mapping("ops=admin")],
        };
        // A closed port on loopback: nothing listens.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = Oidc::discover(settings(&format!("http://127.0.0.1:{port}")))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!(
                "http://127.0.0.1:{port}/.well-known/openid-configuration"
            )),
            "{e}"
        );
        assert!(e.contains("reachable"), "{e}");
        let e = Oidc::discover(settings("http://id.example.com"))
            .await
            .unwrap_err();
        assert!(matches!(e, OidcError::Insecure(_)), "{e}");
        let e = Oidc::discover(settings("not a url")).await.unwrap_err();
        assert!(e.to_string().contains("is not a URL"), "{e}");
        let mut none = settings("https://id.example.com");
        none.groups.clear();
        assert!(matches!(
            Oidc::discover(none).await.unwrap_err(),
            OidcError::NoMapping
        ));
    }
}
