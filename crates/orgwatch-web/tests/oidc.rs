//! Single sign-on end to end: the app's router against a real OpenID provider (the npm
//! `oidc-provider`, run on loopback by `orgwatch-test-support`), a user agent signing users in
//! at it with form posts, on both backends. Login with groups mapped to a scoped viewer and to
//! an admin, refusal of a user in no mapped group, logout, and refusal of an ID token for
//! another audience, signed by a foreign key or expired, of a replayed or foreign `state`, and
//! of a local password for a single sign-on user.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use common::{body, cookie, location, set_cookie_header};
use orgwatch_model::AccountId;
use orgwatch_store::auth::{NewUser, Role};
use orgwatch_store::{Access, Limits, Store};
use orgwatch_test_support::oidc::{Agent, Provider, ProviderOptions, CLIENT_SECRET};
use orgwatch_test_support::{a360, on_both_backends, store as fixtures};
use orgwatch_web::oidc::{GroupMapping, Oidc, OidcSettings, FLOW_COOKIE};
use orgwatch_web::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use orgwatch_web::{AppState, WebConfig};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

/// The account of the daily sample, and the account of the every-category sample.
const A: &str = "210987654321";
const B: &str = "123456789012";
const CLIENT: &str = "orgwatch";
/// The app's address as the provider knows it (the router is called without a socket).
const APP: &str = "http://orgwatch.test";
const CALLBACK: &str = "http://orgwatch.test/login/oidc/callback";

/// A provider with these users, mapping `ow-admins` to admin, `ow-viewers-a` and
/// `ow-viewers-b` to viewers of A and of B, and `ow-viewers` to viewers of everything.
fn provider(users: &[(&str, &[&str])], configure: impl FnOnce(&mut ProviderOptions)) -> Provider {
    let mut options = ProviderOptions::new(CLIENT, CALLBACK);
    options.post_logout_uri = Some(format!("{APP}/login"));
    for (name, groups) in users {
        options = options.user(name, groups);
    }
    configure(&mut options);
    Provider::start(&options)
}

fn mappings() -> Vec<GroupMapping> {
    [
        "ow-admins=admin".to_owned(),
        format!("ow-viewers-a=viewer:account={A}"),
        format!("ow-viewers-b=viewer:account={B}"),
        "ow-viewers=viewer".to_owned(),
    ]
    .iter()
    .map(|m| m.parse().unwrap())
    .collect()
}

/// The app on `store` with single sign-on at `provider`, both samples loaded, and a clock
/// the test can move (it starts at the wall clock's now: the provider's tokens are dated by it).
struct App {
    router: Router,
    clock: Arc<AtomicI64>,
    store: Store,
}

impl App {
    async fn new(store: Store, provider: &Provider) -> App {
        fixtures::load_new(&store, a360::DAILY_PATH, a360::DAILY).await;
        fixtures::load_new(
            &store,
            "123456789012/us-east-1/2026-11-25_DAILY.json",
            a360::EVERY,
        )
        .await;
        let oidc = Oidc::discover(OidcSettings {
            issuer: provider.issuer.clone(),
            client_id: CLIENT.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            redirect_url: CALLBACK.to_owned(),
            groups_claim: "groups".to_owned(),
            scopes: vec!["profile".into(), "email".into(), "groups".into()],
            groups: mappings(),
        })
        .await
        .unwrap();
        let clock = Arc::new(AtomicI64::new(
            time::OffsetDateTime::now_utc().unix_timestamp(),
        ));
        let now = clock.clone();
        let config = WebConfig {
            oidc: Some(Arc::new(oidc)),
            ..WebConfig::default()
        };
        let state = AppState::new(
            store.clone(),
            config,
            Arc::new(move || now.load(Ordering::SeqCst)),
        );
        App {
            router: orgwatch_web::router(state),
            clock,
            store,
        }
    }

    async fn get(&self, path: &str, cookies: &str) -> Response {
        let mut req = Request::get(path);
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies);
        }
        self.router
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, cookies: &str, form: &str) -> Response {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookies)
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.router.clone().oneshot(req).await.unwrap()
    }

    /// Starts a login (`GET /login/oidc`): the provider's authorization URL and the flow
    /// cookie's value (the `state`).
    async fn start(&self) -> (String, String) {
        let res = self.get("/login/oidc", "").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let flow = cookie(&res, FLOW_COOKIE).expect("a flow cookie");
        let set = set_cookie_header(&res, FLOW_COOKIE);
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        assert!(set.contains("Path=/login/oidc"), "{set}");
        (location(&res).to_owned(), flow)
    }

    /// The callback the provider sent the browser to, delivered with `cookies`.
    async fn callback(&self, url: &str, cookies: &str) -> Response {
        let path = url
            .strip_prefix(APP)
            .unwrap_or_else(|| panic!("not our callback: {url}"));
        self.get(path, cookies).await
    }

    /// Signs `user` in through the provider: the callback's response.
    async fn sign_in(&self, provider: &Provider, user: &str) -> Response {
        let (authorize, flow) = self.start().await;
        let back = provider.sign_in(&mut Agent::default(), &authorize, user);
        self.callback(&back, &format!("{FLOW_COOKIE}={flow}")).await
    }

    /// Signs `user` in; the session id.
    async fn session(&self, provider: &Provider, user: &str) -> String {
        let res = self.sign_in(provider, user).await;
        assert_eq!(res.status(), StatusCode::OK);
        let id = cookie(&res, SESSION_COOKIE).expect("a session cookie");
        let page = body(res).await;
        // The session cookie is SameSite=Strict: the page moves on by itself (same-site).
        assert!(
            page.contains(r#"<meta http-equiv="refresh" content="0;url=/">"#),
            "{page}"
        );
        id
    }

    fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }
}

/// The accounts `/api/overview` lists for a session.
async fn accounts_seen(app: &App, session: &str) -> Vec<String> {
    let res = app
        .get("/api/overview", &format!("{SESSION_COOKIE}={session}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    let mut ids: Vec<String> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn limited(accounts: &[&str]) -> Access {
    Access::Limited(Limits {
        accounts: accounts
            .iter()
            .map(|a| AccountId::parse(a).unwrap())
            .collect(),
        ..Limits::default()
    })
}

async fn user(store: &Store, name: &str) -> Option<orgwatch_store::auth::User> {
    store
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name == name)
}

async fn a_viewer_group_limited_to_account_a_sees_only_account_a(store: Store) {
    // Groups at userinfo only (the specification's default for the code flow).
    let provider = provider(&[("alice", &["ow-viewers-a", "marketing"])], |_| {});
    let app = App::new(store, &provider).await;
    let page = body(app.get("/login", "").await).await;
    assert!(page.contains(r#"href="/login/oidc""#), "{page}");
    assert!(page.contains("Sign in with single sign-on"));

    let session = app.session(&provider, "alice").await;
    assert_eq!(accounts_seen(&app, &session).await, [A]);
    let overview = body(app.get("/", &format!("{SESSION_COOKIE}={session}")).await).await;
    assert!(overview.contains(A), "the page shows account A");
    assert!(
        !overview.contains(B),
        "the page shows no trace of account B"
    );

    let alice = user(&app.store, "alice").await.expect("the user row");
    assert_eq!(alice.role, Role::Viewer);
    assert_eq!(alice.access, limited(&[A]));
}

async fn groups_in_the_id_token_map_too_the_admin_group_wins_and_viewer_groups_add_up(
    store: Store,
) {
    let provider = provider(
        &[
            ("root", &["ow-viewers-a", "ow-admins"]),
            ("dana", &["ow-viewers-a", "ow-viewers-b"]),
            ("erin", &["ow-viewers-b", "ow-viewers"]),
        ],
        |o| o.groups_in_id_token = true,
    );
    let app = App::new(store, &provider).await;
    let root = app.session(&provider, "root").await;
    assert_eq!(accounts_seen(&app, &root).await, [B, A]);
    let row = user(&app.store, "root").await.unwrap();
    assert_eq!((row.role, row.access), (Role::Admin, Access::All));

    let dana = app.session(&provider, "dana").await;
    assert_eq!(accounts_seen(&app, &dana).await, [B, A]);
    let row = user(&app.store, "dana").await.unwrap();
    assert_eq!(row.role, Role::Viewer);
    assert_eq!(
        row.access,
        limited(&[B, A]),
        "the union of both groups' limits"
    );

    // A viewer group without limits sees everything, whatever the other groups limit.
    let erin = app.session(&provider, "erin").await;
    assert_eq!(accounts_seen(&app, &erin).await, [B, A]);
    let row = user(&app.store, "erin").await.unwrap();
    assert_eq!((row.role, row.access), (Role::Viewer, Access::All));
}

async fn a_user_in_no_mapped_group_is_refused_with_a_page_that_says_so(store: Store) {
    let provider = provider(
        &[("carol", &["marketing", "sales"]), ("nobody", &[])],
        |_| {},
    );
    let app = App::new(store, &provider).await;
    for (name, groups) in [("carol", "marketing, sales"), ("nobody", "none")] {
        let res = app.sign_in(&provider, name).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(cookie(&res, SESSION_COOKIE), None, "no session");
        let page = body(res).await;
        assert!(
            page.contains(&format!(
                "none of your groups ({groups}) gives access to orgwatch"
            )),
            "{page}"
        );
        assert!(
            user(&app.store, name).await.is_none(),
            "no user row for {name}"
        );
    }
}

async fn role_and_limits_are_derived_again_at_each_login(store: Store) {
    let provider = provider(&[("alice", &["ow-viewers-a"])], |_| {});
    let app = App::new(store, &provider).await;
    app.session(&provider, "alice").await;
    // Granted more here (as `orgwatch users grant` would): the next login puts back what the
    // provider's groups say.
    assert!(app
        .store
        .grant("alice", Role::Admin, &Access::All, 0)
        .await
        .unwrap());
    let session = app.session(&provider, "alice").await;
    let row = user(&app.store, "alice").await.unwrap();
    assert_eq!((row.role, row.access), (Role::Viewer, limited(&[A])));
    assert_eq!(accounts_seen(&app, &session).await, [A]);
    assert_eq!(
        app.store.users().await.unwrap().len(),
        1,
        "one row per subject"
    );
}

async fn login_issues_a_new_session_and_ends_the_one_the_browser_brought(store: Store) {
    let provider = provider(
        &[("alice", &["ow-viewers-a"]), ("root", &["ow-admins"])],
        |_| {},
    );
    let app = App::new(store, &provider).await;
    let planted = app.session(&provider, "root").await;
    let (authorize, flow) = app.start().await;
    let back = provider.sign_in(&mut Agent::default(), &authorize, "alice");
    let res = app
        .callback(
            &back,
            &format!("{FLOW_COOKIE}={flow}; {SESSION_COOKIE}={planted}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = cookie(&res, SESSION_COOKIE).unwrap();
    assert_ne!(fresh, planted);
    let old = app
        .get("/api/overview", &format!("{SESSION_COOKIE}={planted}"))
        .await;
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the brought session is gone"
    );
    assert_eq!(accounts_seen(&app, &fresh).await, [A]);
}

async fn logout_ends_the_session_and_goes_on_to_the_providers_logout(store: Store) {
    let provider = provider(&[("alice", &["ow-viewers-a"])], |_| {});
    let app = App::new(store, &provider).await;
    let session = app.session(&provider, "alice").await;
    let page = body(app.get("/", &format!("{SESSION_COOKIE}={session}")).await).await;
    let at = page.find("name=\"csrf_token\" value=\"").expect("a token") + 25;
    let csrf = &page[at..at + 64];
    let res = app
        .post(
            "/logout",
            &format!("{SESSION_COOKIE}={session}"),
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let next = location(&res).to_owned();
    assert!(
        next.starts_with(&format!("{}/session/end?", provider.issuer)),
        "{next}"
    );
    assert!(next.contains("client_id=orgwatch"), "{next}");
    assert!(
        next.contains("post_logout_redirect_uri=http%3A%2F%2Forgwatch.test%2Flogin"),
        "{next}"
    );
    let after = app
        .get("/api/overview", &format!("{SESSION_COOKIE}={session}"))
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    // The provider takes the logout request (its confirmation page).
    let ended = Agent::default().go(&next, "GET", None);
    assert_eq!(ended.status, 200, "{}", ended.body);
}

/// A sign-in whose ID token the app must refuse: 403, a page saying so, no session.
async fn assert_refused(res: Response) {
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(cookie(&res, SESSION_COOKIE), None);
    let page = body(res).await;
    assert!(page.contains("could not be verified"), "{page}");
}

async fn an_id_token_for_another_audience_is_refused(store: Store) {
    let provider = provider(&[("root", &["ow-admins"])], |o| o.tamper = Some("aud"));
    let app = App::new(store, &provider).await;
    assert_refused(app.sign_in(&provider, "root").await).await;
    assert!(user(&app.store, "root").await.is_none());
}

async fn an_id_token_signed_by_a_key_not_in_the_providers_jwks_is_refused(store: Store) {
    let provider = provider(&[("root", &["ow-admins"])], |o| o.tamper = Some("key"));
    let app = App::new(store, &provider).await;
    assert_refused(app.sign_in(&provider, "root").await).await;
    assert!(user(&app.store, "root").await.is_none());
}

async fn an_expired_id_token_is_refused(store: Store) {
    // The provider's ID tokens live an hour (its default): by the app's clock, one read
    // 59 minutes later is good, one read 61 minutes later has expired.
    let provider = provider(&[("root", &["ow-admins"])], |_| {});
    let app = App::new(store, &provider).await;
    app.advance(59 * 60);
    let res = app.sign_in(&provider, "root").await;
    assert_eq!(res.status(), StatusCode::OK);
    app.advance(2 * 60);
    assert_refused(app.sign_in(&provider, "root").await).await;
}

async fn a_replayed_foreign_or_missing_state_is_refused(store: Store) {
    let provider = provider(&[("alice", &["ow-viewers-a"])], |_| {});
    let app = App::new(store, &provider).await;

    // Replayed: the same callback twice.
    let (authorize, flow) = app.start().await;
    let back = provider.sign_in(&mut Agent::default(), &authorize, "alice");
    let first = app.callback(&back, &format!("{FLOW_COOKIE}={flow}")).await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = app.callback(&back, &format!("{FLOW_COOKIE}={flow}")).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(cookie(&again, SESSION_COOKIE), None);
    assert!(body(again).await.contains("already used or is too old"));

    // Foreign: a callback of a login started in another browser (an attacker's own login,
    // forced on this browser), and one with no flow cookie at all.
    let (authorize, theirs) = app.start().await;
    let back = provider.sign_in(&mut Agent::default(), &authorize, "alice");
    let (_, mine) = app.start().await;
    for cookies in [format!("{FLOW_COOKIE}={mine}"), String::new()] {
        let res = app.callback(&back, &cookies).await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "with cookies {cookies:?}"
        );
        assert_eq!(cookie(&res, SESSION_COOKIE), None);
        assert!(body(res).await.contains("not started in this browser"));
    }
    // Refusing them did not use up the login of the browser that started it.
    let res = app
        .callback(&back, &format!("{FLOW_COOKIE}={theirs}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Too old: a login not back within 10 minutes.
    let (authorize, flow) = app.start().await;
    let back = provider.sign_in(&mut Agent::default(), &authorize, "alice");
    app.advance(601);
    let res = app.callback(&back, &format!("{FLOW_COOKIE}={flow}")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(body(res).await.contains("already used or is too old"));
}

async fn a_sign_in_cancelled_at_the_provider_is_refused_saying_so(store: Store) {
    let provider = provider(&[("alice", &["ow-viewers-a"])], |_| {});
    let app = App::new(store, &provider).await;
    let (authorize, flow) = app.start().await;
    let back = provider.cancel(&mut Agent::default(), &authorize);
    assert!(back.contains("error=access_denied"), "{back}");
    let res = app.callback(&back, &format!("{FLOW_COOKIE}={flow}")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(cookie(&res, SESSION_COOKIE), None);
    let page = body(res).await;
    assert!(
        page.contains("did not sign you in (access_denied)"),
        "{page}"
    );
    // The login was used up: it cannot be completed afterwards.
    let again = app.callback(&back, &format!("{FLOW_COOKIE}={flow}")).await;
    assert!(body(again).await.contains("already used or is too old"));
}

/// A post of the password form.
async fn password_login(app: &App, name: &str, password: &str) -> Response {
    let form = app.get("/login", "").await;
    let token = cookie(&form, LOGIN_CSRF_COOKIE).unwrap();
    let fields = format!(
        "csrf_token={token}&username={name}&password={}",
        password.replace(' ', "+")
    );
    app.post("/login", &format!("{LOGIN_CSRF_COOKIE}={token}"), &fields)
        .await
}

async fn a_local_password_never_logs_a_single_sign_on_user_in(store: Store) {
    let provider = provider(
        &[("alice", &["ow-viewers-a"]), ("bob", &["ow-admins"])],
        |_| {},
    );
    let password = "a long enough password";
    let hash = orgwatch_web::password::hash(password).unwrap();
    // A local user named like a provider's user keeps their name and password; the single
    // sign-on user gets another name.
    store
        .add_user(&NewUser {
            name: "bob",
            password_hash: &hash,
            role: Role::Viewer,
            access: &limited(&[B]),
            now: 0,
        })
        .await
        .unwrap()
        .unwrap();
    let app = App::new(store, &provider).await;
    app.session(&provider, "alice").await;
    app.session(&provider, "bob").await;
    assert_eq!(
        user(&app.store, "bob~bob").await.map(|u| u.role),
        Some(Role::Admin)
    );
    // Even with a password set on the row (as `orgwatch users passwd` would), the password
    // form does not log a single sign-on user in.
    assert!(app.store.set_password("alice", &hash, 0).await.unwrap());
    let res = password_login(&app, "alice", password).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(cookie(&res, SESSION_COOKIE), None);
    let res = password_login(&app, "bob~bob", password).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The local bob still logs in with his password, and sees only his account.
    let res = password_login(&app, "bob", password).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = cookie(&res, SESSION_COOKIE).unwrap();
    assert_eq!(accounts_seen(&app, &session).await, [B]);
}

on_both_backends!(store:
    a_viewer_group_limited_to_account_a_sees_only_account_a,
    groups_in_the_id_token_map_too_the_admin_group_wins_and_viewer_groups_add_up,
    a_user_in_no_mapped_group_is_refused_with_a_page_that_says_so,
    role_and_limits_are_derived_again_at_each_login,
    login_issues_a_new_session_and_ends_the_one_the_browser_brought,
    logout_ends_the_session_and_goes_on_to_the_providers_logout,
    an_id_token_for_another_audience_is_refused,
    an_id_token_signed_by_a_key_not_in_the_providers_jwks_is_refused,
    an_expired_id_token_is_refused,
    a_replayed_foreign_or_missing_state_is_refused,
    a_local_password_never_logs_a_single_sign_on_user_in,
    a_sign_in_cancelled_at_the_provider_is_refused_saying_so,
);
