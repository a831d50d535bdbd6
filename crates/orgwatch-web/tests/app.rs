//! The app through its router (no socket): every route's guard, CSRF, session fixation and
//! expiry, logout and login rate limits, on both backends.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use common::{body, cookie, location, set_cookie_header};
use orgwatch_store::auth::{NewUser, Role};
use orgwatch_store::{Access, Store};
use orgwatch_test_support::on_both_backends;
use orgwatch_web::limit::LoginLimits;
use orgwatch_web::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use orgwatch_web::{routes, AppState, Guard, SessionConfig, WebConfig, PUBLIC_PATHS};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough password";
const T0: i64 = 1_800_000_000;

/// The app on a store, with a clock the test moves.
struct App {
    router: Router,
    clock: Arc<AtomicI64>,
}

impl App {
    async fn new(store: Store) -> App {
        App::with(store, WebConfig::default()).await
    }

    async fn with(store: Store, config: WebConfig) -> App {
        for (name, role) in [("admin", Role::Admin), ("viewer", Role::Viewer)] {
            store
                .add_user(&NewUser {
                    name,
                    password_hash: &orgwatch_web::password::hash(PASSWORD).unwrap(),
                    role,
                    access: &Access::All,
                    now: T0,
                })
                .await
                .unwrap()
                .unwrap();
        }
        let clock = Arc::new(AtomicI64::new(T0));
        let now = clock.clone();
        let state = AppState::new(store, config, Arc::new(move || now.load(Ordering::SeqCst)));
        App {
            router: orgwatch_web::router(state),
            clock,
        }
    }

    fn advance(&self, d: Duration) {
        self.clock.fetch_add(d.as_secs() as i64, Ordering::SeqCst);
    }

    async fn send(&self, req: Request<Body>) -> Response {
        self.router.clone().oneshot(req).await.unwrap()
    }

    async fn get(&self, path: &str, session: Option<&str>) -> Response {
        let mut req = Request::get(path);
        if let Some(id) = session {
            req = req.header(header::COOKIE, format!("{SESSION_COOKIE}={id}"));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A form post with these cookies.
    async fn post(&self, path: &str, cookies: &str, form: &str) -> Response {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookies)
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// Logs in through the form; the response of the post.
    async fn try_login(&self, user: &str, password: &str, session: Option<&str>) -> Response {
        let form = self.get("/login", None).await;
        assert_eq!(form.status(), StatusCode::OK);
        let token = cookie(&form, LOGIN_CSRF_COOKIE).expect("a login form token cookie");
        assert!(body(form).await.contains(&format!("value=\"{token}\"")));
        let mut cookies = format!("{LOGIN_CSRF_COOKIE}={token}");
        if let Some(id) = session {
            cookies.push_str(&format!("; {SESSION_COOKIE}={id}"));
        }
        self.post(
            "/login",
            &cookies,
            &format!(
                "csrf_token={token}&username={user}&password={}",
                password.replace(' ', "+")
            ),
        )
        .await
    }

    /// Logs in; the new session id.
    async fn login(&self, user: &str) -> String {
        let res = self.try_login(user, PASSWORD, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        cookie(&res, SESSION_COOKIE).expect("a session cookie")
    }

    /// The CSRF token of a session, as its pages carry it.
    async fn csrf_token(&self, session: &str) -> String {
        let page = body(self.get("/", Some(session)).await).await;
        let at = page.find("name=\"csrf_token\" value=\"").expect("a token") + 25;
        page[at..at + 64].to_owned()
    }
}

fn request(method: &Method, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("csrf_token=x"))
        .unwrap()
}

async fn every_route_needs_a_session_except_the_public_ones(store: Store) {
    let app = App::new(store).await;
    let all = routes();
    assert!(all.len() >= 14, "{all:?}");
    // The pages and their API are in the table, so the walk below covers them.
    for path in [
        "/",
        "/api/overview",
        "/cost",
        "/api/cost",
        "/api/cost.csv",
        "/security",
        "/api/security",
        "/api/security.csv",
        "/compliance",
        "/api/compliance",
        "/api/compliance.csv",
        "/inventory",
        "/api/inventory",
        "/api/inventory.csv",
        "/operations",
        "/api/operations",
        "/api/operations.csv",
        "/activity",
        "/activity/events",
        "/api/activity",
        "/api/activity.csv",
        "/api/activity/events",
        "/api/activity/stream",
        "/admin/users",
        "/api/admin/users",
        "/admin/tokens",
    ] {
        assert!(all.iter().any(|r| r.path == path), "{path} is routed");
    }
    for route in &all {
        let public = PUBLIC_PATHS.contains(&route.path);
        assert_eq!(
            public,
            route.guard == Guard::Public,
            "{} {}: public routes are the documented ones",
            route.method,
            route.path
        );
        if !public {
            assert_eq!(
                route.guard.is_api(),
                route.path.starts_with("/api/"),
                "{} {}: JSON routes are the /api/ ones",
                route.method,
                route.path
            );
        }
        let res = app.send(request(&route.method, route.path)).await;
        let what = format!("{} {} -> {}", route.method, route.path, res.status());
        if public {
            assert_ne!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
            assert_ne!(location(&res), "/login", "{what}");
        } else if route.path.starts_with("/api/") {
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
        } else {
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{what}");
            assert_eq!(location(&res), "/login", "{what}");
        }
    }
    // Every response carries the security headers and a request id.
    let res = app.get("/login", None).await;
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(res.headers().contains_key("x-request-id"));
    // Public ones answer.
    assert_eq!(body(app.get("/healthz", None).await).await, "ok\n");
    assert_eq!(body(app.get("/readyz", None).await).await, "ready\n");
    let css = app.get("/static/app.css", None).await;
    assert_eq!(
        css.headers()[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
    // The app's script and the vendored chart library: scripts, served from the binary; the
    // library's versioned URL is cached for a year.
    let js = app.get("/static/app.js", None).await;
    assert_eq!(
        js.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(body(js).await.contains("EventSource"));
    let echarts = app.get(orgwatch_web::ECHARTS_PATH, None).await;
    assert_eq!(echarts.status(), StatusCode::OK);
    assert!(orgwatch_web::ECHARTS_PATH.contains(orgwatch_web::ECHARTS_VERSION));
    assert_eq!(
        echarts.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let csp = echarts.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let library = axum::body::to_bytes(echarts.into_body(), 1 << 21)
        .await
        .unwrap();
    assert!(library.len() > 900_000, "the whole minified library");
    assert!(std::str::from_utf8(&library[..400])
        .unwrap()
        .contains("Apache Software Foundation"));
}

async fn a_viewer_gets_403_on_every_admin_route(store: Store) {
    let app = App::new(store).await;
    let viewer = app.login("viewer").await;
    let token = app.csrf_token(&viewer).await;
    let cookies = format!("{SESSION_COOKIE}={viewer}");
    let admin_only: Vec<_> = routes()
        .into_iter()
        .filter(|r| r.guard.admin_only())
        .collect();
    assert!(admin_only.len() >= 8, "{admin_only:?}");
    for route in &admin_only {
        // With the right CSRF token, so that only the role refuses it.
        let req = Request::builder()
            .method(&route.method)
            .uri(route.path)
            .header(header::COOKIE, &cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf_token={token}&name=admin&user=admin&role=viewer&id=1"
            )))
            .unwrap();
        let res = app.send(req).await;
        let what = format!("{} {}", route.method, route.path);
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        let text = body(res).await;
        if route.guard.is_api() {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(
                json["error"].as_str().unwrap().contains("admins only"),
                "{what}"
            );
        } else {
            assert!(text.contains("This page is for admins"), "{what}: {text}");
            // In the app's layout, with its nav (which has no admin entry for a viewer).
            assert!(text.contains("href=\"/activity\""), "{what}");
            assert!(!text.contains("href=\"/admin/users\""), "{what}");
        }
    }
    // Nothing changed: the admin is still one, and no token was made.
    let admin = app.login("admin").await;
    let page = body(app.get("/admin/users", Some(&admin)).await).await;
    assert!(
        page.contains("href=\"/admin/users\" aria-current=\"page\""),
        "{page}"
    );
    assert!(page.contains("admin has no API token."), "{page}");
    assert!(page.contains("<td>admin</td><td>admin</td>"), "{page}");
}

async fn every_state_changing_route_needs_the_sessions_csrf_token(store: Store) {
    let app = App::new(store).await;
    let session = app.login("admin").await;
    let token = app.csrf_token(&session).await;
    let cookies = format!("{SESSION_COOKIE}={session}");
    let changing: Vec<_> = routes()
        .into_iter()
        .filter(|r| r.method != Method::GET)
        .collect();
    assert!(changing.iter().any(|r| r.path == "/logout"));
    for route in changing.iter().filter(|r| r.path != "/login") {
        for form in ["", "csrf_token=", "csrf_token=0123456789abcdef"] {
            let res = app.post(route.path, &cookies, form).await;
            assert_eq!(
                res.status(),
                StatusCode::FORBIDDEN,
                "{} {form:?}",
                route.path
            );
        }
        // A JSON call with a wrong header is refused as well.
        let req = Request::post(route.path)
            .header(header::COOKIE, &cookies)
            .header("x-csrf-token", "wrong")
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN);
    }
    // The session survived every refused attempt; with the header token, logout works.
    assert_eq!(app.get("/", Some(&session)).await.status(), StatusCode::OK);
    let req = Request::post("/logout")
        .header(header::COOKIE, &cookies)
        .header("x-csrf-token", &token)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status(), StatusCode::SEE_OTHER);

    // The login form: its token must equal its cookie.
    let form = format!("username=admin&password={}", PASSWORD.replace(' ', "+"));
    let res = app
        .post("/login", "", &format!("csrf_token=abc&{form}"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no cookie");
    let res = app
        .post(
            "/login",
            &format!("{LOGIN_CSRF_COOKIE}=abc"),
            &format!("csrf_token=abd&{form}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a different token");
    let res = app
        .post("/login", &format!("{LOGIN_CSRF_COOKIE}=abc"), &form)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no token");
}

async fn login_issues_a_new_session_id_and_ends_the_one_it_was_given(store: Store) {
    let app = App::new(store).await;
    // An id an attacker planted is not promoted.
    let planted = "a".repeat(64);
    let res = app.try_login("admin", PASSWORD, Some(&planted)).await;
    let session = cookie(&res, SESSION_COOKIE).unwrap();
    assert_ne!(session, planted);
    assert_eq!(
        app.get("/", Some(&planted)).await.status(),
        StatusCode::SEE_OTHER
    );
    // Logging in again from a live session gives a new id and ends the old one.
    let res = app.try_login("viewer", PASSWORD, Some(&session)).await;
    let second = cookie(&res, SESSION_COOKIE).unwrap();
    assert_ne!(second, session);
    assert_eq!(
        app.get("/", Some(&session)).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = body(app.get("/", Some(&second)).await).await;
    assert!(page.contains("viewer (viewer)"), "{page}");
    // The cookie: HttpOnly, SameSite=Strict, not Secure over plain HTTP.
    let header = set_cookie_header(&res, SESSION_COOKIE);
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Strict"), "{header}");
    assert!(!header.contains("Secure"), "{header}");
    // A wrong password and an unknown user get the same answer.
    for (user, password) in [("admin", "wrong password!"), ("nobody", PASSWORD)] {
        let res = app.try_login(user, password, None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{user}");
        assert!(cookie(&res, SESSION_COOKIE).is_none());
        assert!(body(res).await.contains("Wrong user name or password."));
    }
}

async fn cookies_are_secure_behind_https(store: Store) {
    let app = App::new(store).await;
    let form = app.get("/login", None).await;
    let token = cookie(&form, LOGIN_CSRF_COOKIE).unwrap();
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{LOGIN_CSRF_COOKIE}={token}"))
        .header("x-forwarded-proto", "https")
        .body(Body::from(format!(
            "csrf_token={token}&username=admin&password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let res = app.send(req).await;
    assert!(set_cookie_header(&res, SESSION_COOKIE).contains("Secure"));
}

async fn sessions_expire_when_idle_and_absolutely(store: Store) {
    let config = WebConfig {
        session: SessionConfig {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(2 * 3600),
            ..SessionConfig::default()
        },
        ..WebConfig::default()
    };
    let app = App::with(store, config).await;
    let minutes = |m: u64| Duration::from_secs(m * 60);

    // Idle: each request keeps it alive for 30 minutes more.
    let session = app.login("admin").await;
    app.advance(minutes(29));
    assert_eq!(app.get("/", Some(&session)).await.status(), StatusCode::OK);
    app.advance(minutes(29));
    assert_eq!(app.get("/", Some(&session)).await.status(), StatusCode::OK);
    app.advance(minutes(31));
    let res = app.get("/", Some(&session)).await;
    assert_eq!(
        (res.status(), location(&res)),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert_eq!(
        app.get("/api/overview", Some(&session)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Absolute: however active, two hours after login.
    let session = app.login("admin").await;
    for _ in 0..5 {
        app.advance(minutes(20));
        assert_eq!(app.get("/", Some(&session)).await.status(), StatusCode::OK);
    }
    app.advance(minutes(21));
    assert_eq!(
        app.get("/", Some(&session)).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn logout_destroys_the_session_on_the_server(store: Store) {
    let app = App::new(store).await;
    let session = app.login("admin").await;
    let token = app.csrf_token(&session).await;
    let res = app
        .post(
            "/logout",
            &format!("{SESSION_COOKIE}={session}"),
            &format!("csrf_token={token}"),
        )
        .await;
    assert_eq!(
        (res.status(), location(&res)),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert!(set_cookie_header(&res, SESSION_COOKIE).contains("Max-Age=0"));
    // The browser's cookie replayed finds no session.
    assert_eq!(
        app.get("/", Some(&session)).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/api/overview", Some(&session)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn logins_are_rate_limited_per_user_name_and_per_address(store: Store) {
    let config = WebConfig {
        limits: LoginLimits {
            per_ip: NonZeroU32::new(7).unwrap(),
            per_user: NonZeroU32::new(3).unwrap(),
        },
        ..WebConfig::default()
    };
    let app = App::with(store, config).await;
    for _ in 0..3 {
        let res = app.try_login("admin", "not the password", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The fourth attempt for the name is refused before the password is even checked.
    let res = app.try_login("admin", PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(cookie(&res, SESSION_COOKIE).is_none());
    assert!(body(res)
        .await
        .contains("Too many login attempts for this user"));
    // Other names from the same address: allowed until the address's limit of 7 (every
    // attempt counts there, the refused fourth one too).
    app.login("viewer").await;
    for _ in 0..2 {
        let res = app.try_login("someone", "x", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.try_login("viewer", PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(body(res).await.contains("from your address"));
}

async fn the_overview_of_an_empty_store_says_why(store: Store) {
    let app = App::new(store).await;
    let session = app.login("admin").await;
    let page = body(app.get("/", Some(&session)).await).await;
    assert!(page.contains("No account is loaded yet"), "{page}");
    let res = app.get("/api/overview", Some(&session)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(json["accounts"], serde_json::json!([]));
    assert_eq!(json["day"], serde_json::Value::Null);
}

async fn every_page_of_an_empty_store_says_why(store: Store) {
    let app = App::new(store).await;
    let session = app.login("admin").await;
    for page in [
        "/",
        "/cost",
        "/security",
        "/compliance",
        "/inventory",
        "/operations",
    ] {
        let html = body(app.get(page, Some(&session)).await).await;
        assert!(html.contains("No account is loaded yet"), "{page}: {html}");
        // Each page links the others.
        for link in [
            "href=\"/\"",
            "href=\"/cost\"",
            "href=\"/security\"",
            "href=\"/compliance\"",
            "href=\"/inventory\"",
            "href=\"/operations\"",
            "href=\"/activity\"",
        ] {
            assert!(html.contains(link), "{page} links {link}");
        }
    }
    for (api, range) in [
        ("/api/cost", "range"),
        ("/api/security", "as_of"),
        ("/api/compliance", "as_of"),
        ("/api/inventory", "as_of"),
        ("/api/operations", "as_of"),
    ] {
        let res = app.get(api, Some(&session)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
        assert_eq!(json[range], serde_json::Value::Null, "{api}");
        let tables = json["tables"].as_object().unwrap();
        assert!(tables.len() >= 6, "{api}: {tables:?}");
        for (id, t) in tables {
            assert_eq!(t["rows"], serde_json::json!([]), "{api} {id}");
            let why = t["empty"].as_str().unwrap_or_default();
            assert!(!why.is_empty(), "{api} {id} says why it is empty");
        }
        // A table's CSV is its header alone.
        let id = tables.keys().next().unwrap();
        let res = app
            .get(&format!("{api}.csv?table={id}"), Some(&session))
            .await;
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/csv; charset=utf-8"
        );
        let csv = body(res).await;
        assert_eq!(csv.lines().count(), 1, "{csv}");
    }
}

async fn the_benchs_baseline_route_exists_only_when_configured_and_needs_a_session(store: Store) {
    let config = WebConfig {
        bench_static_bytes: 1000,
        ..WebConfig::default()
    };
    let app = App::with(store.clone(), config).await;
    let res = app.get("/bench/static/100", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");
    let session = app.login("viewer").await;
    let res = app.get("/bench/static/100", Some(&session)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await.len(), 100);
    let res = app.get("/bench/static/1001", Some(&session)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The same store and session, an app without the option: no such route.
    let plain = App {
        router: orgwatch_web::router(AppState::new(store, WebConfig::default(), Arc::new(|| T0))),
        clock: Arc::new(AtomicI64::new(T0)),
    };
    let res = plain.get("/bench/static/100", Some(&session)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// The JSON of `path` for `session`, which must answer 200.
async fn api_json(app: &App, path: &str, session: &str) -> serde_json::Value {
    let res = app.get(path, Some(session)).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    serde_json::from_str(&body(res).await).unwrap()
}

/// The values of `column` in table `table` of a page's JSON.
fn column(doc: &serde_json::Value, table: &str, column: &str) -> Vec<String> {
    doc["tables"][table]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no table {table}"))
        .iter()
        .map(|r| match &r[column] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

async fn what_changed_between_two_days_is_on_every_page(store: Store) {
    use orgwatch_test_support::history::{day, two_days, A, B, FROM, TO};
    two_days(&store).await;
    let limited = |id: &str| {
        Access::Limited(orgwatch_store::Limits {
            accounts: vec![orgwatch_model::AccountId::parse(id).unwrap()],
            ..Default::default()
        })
    };
    for (name, id) in [("only-a", A), ("only-b", B)] {
        store
            .add_user(&NewUser {
                name,
                password_hash: &orgwatch_web::password::hash(PASSWORD).unwrap(),
                role: Role::Viewer,
                access: &limited(id),
                now: T0,
            })
            .await
            .unwrap()
            .unwrap();
    }
    let app = App::new(store).await;
    let admin = app.login("admin").await;
    let range = format!("from={}&to={}", day(FROM), day(TO));

    // Security: findings new and resolved, certificates newly expiring, B new.
    let security = api_json(&app, &format!("/api/security?{range}"), &admin).await;
    assert_eq!(
        security["changes"],
        serde_json::json!({"from": day(FROM), "to": day(TO)})
    );
    assert_eq!(
        column(&security, "changes_findings", "finding_id"),
        ["f-new", "f-suppressed", "f-resolved"]
    );
    assert_eq!(
        column(&security, "changes_findings", "change"),
        ["new", "new", "resolved"]
    );
    assert_eq!(
        column(&security, "changes_certificates", "arn"),
        ["c-new", "c-soon"]
    );
    assert_eq!(
        column(&security, "changes_certificates", "days_left"),
        ["1", "24"]
    );
    assert_eq!(column(&security, "changes_new_accounts", "account_id"), [B]);
    // Compliance: A fell out, with its rule.
    let compliance = api_json(&app, &format!("/api/compliance?{range}"), &admin).await;
    assert_eq!(
        column(&compliance, "changes_compliance_accounts", "change"),
        ["fell out"]
    );
    assert_eq!(
        column(&compliance, "changes_compliance_rules", "rule"),
        ["encrypted-volumes"]
    );
    // Cost: movers, biggest first; sortable like any table.
    let cost = api_json(&app, &format!("/api/cost?{range}"), &admin).await;
    assert_eq!(
        column(&cost, "changes_cost", "service"),
        ["EC2", "Lambda", "KMS"]
    );
    assert_eq!(
        column(&cost, "changes_cost", "change"),
        ["5.5", "1.25", "-0.5"]
    );
    let sorted = api_json(
        &app,
        &format!("/api/cost?{range}&sort=changes_cost.change&dir=asc"),
        &admin,
    )
    .await;
    assert_eq!(
        column(&sorted, "changes_cost", "service"),
        ["KMS", "Lambda", "EC2"]
    );
    // Inventory: one new instance, one removed.
    let inventory = api_json(&app, &format!("/api/inventory?{range}"), &admin).await;
    assert_eq!(
        column(&inventory, "changes_instances", "instance_id"),
        ["i-south-new", "i-new", "i-south-old", "i-gone"]
    );
    // The Overview counts each kind and links to its table.
    let overview = api_json(&app, &format!("/api/overview?{range}"), &admin).await;
    assert_eq!(
        overview["changes"],
        serde_json::json!({"from": day(FROM), "to": day(TO), "counts": {
            "new_findings": 2, "resolved_findings": 1, "accounts_fell_out": 1,
            "accounts_came_back": 0, "cost_movers": 3, "certificates_newly_expiring": 2,
            "new_instances": 2, "removed_instances": 2, "new_accounts": 1,
        }})
    );
    let page = body(app.get(&format!("/?{range}"), Some(&admin)).await).await;
    let heading = format!("What changed between {} and {}", day(FROM), day(TO));
    assert!(page.contains(&heading), "{page}");
    assert!(page.contains("id=\"changes-new-findings\">2<"), "{page}");
    assert!(
        page.contains(&format!(
            "href=\"/security?from={}&#38;to={}#changes_findings\"",
            day(FROM),
            day(TO)
        )),
        "{page}"
    );
    // Each page shows its section under that heading, with its tables and CSV.
    for (path, tables) in [
        ("cost", &["changes_cost"][..]),
        (
            "security",
            &["changes_findings", "changes_certificates"][..],
        ),
        (
            "compliance",
            &["changes_compliance_accounts", "changes_compliance_rules"][..],
        ),
        ("inventory", &["changes_instances"][..]),
    ] {
        let html = body(app.get(&format!("/{path}?{range}"), Some(&admin)).await).await;
        let section = &html[html.find("id=\"changes-heading\"").expect(path)..];
        assert!(section.contains(&heading), "{path}");
        for t in tables.iter().chain(&["changes_new_accounts"]) {
            assert!(
                section.contains(&format!("<table class=\"figures\" id=\"{t}\">")),
                "{path} {t}"
            );
            let csv = body(
                app.get(&format!("/api/{path}.csv?{range}&table={t}"), Some(&admin))
                    .await,
            )
            .await;
            let doc = api_json(&app, &format!("/api/{path}?{range}"), &admin).await;
            let n = doc["tables"][t]["rows"].as_array().unwrap().len();
            assert!(n > 0, "{path} {t}");
            assert_eq!(csv.lines().count(), n + 1, "{path} {t}: {csv}");
        }
    }
    // Without a range: the last day against 29 days before, where every account is new.
    let default = api_json(&app, "/api/security", &admin).await;
    assert_eq!(default["changes"]["to"], day(TO));
    assert_eq!(
        default["changes"]["from"],
        day(TO - time::Duration::days(29))
    );
    assert_eq!(column(&default, "changes_findings", "finding_id").len(), 0);
    assert!(default["tables"]["changes_findings"]["empty"]
        .as_str()
        .unwrap()
        .contains("first loaded after"));
    assert_eq!(
        column(&default, "changes_new_accounts", "account_id"),
        [A, B]
    );
    // On the page, an empty change table is its caption and why, without an empty table.
    let html = body(app.get("/security", Some(&admin)).await).await;
    assert!(html.contains("id=\"changes_findings-empty\">No change listed: every account"));
    assert!(!html.contains("<table class=\"figures\" id=\"changes_findings\">"));
    assert!(html.contains("<table class=\"figures\" id=\"changes_new_accounts\">"));

    // A viewer limited to one account gets no row of the other from any page, API or CSV.
    for (user, mine, other) in [("only-a", A, B), ("only-b", B, A)] {
        let session = app.login(user).await;
        for path in ["/", "/cost", "/security", "/compliance", "/inventory"] {
            let html = body(app.get(&format!("{path}?{range}"), Some(&session)).await).await;
            assert!(!html.contains(other), "{user}: {other} leaked into {path}");
        }
        for path in ["cost", "security", "compliance", "inventory"] {
            let doc = api_json(&app, &format!("/api/{path}?{range}"), &session).await;
            for (id, _) in doc["tables"].as_object().unwrap() {
                if !id.starts_with("changes_") {
                    continue;
                }
                let ids = column(&doc, id, "account_id");
                assert!(ids.iter().all(|a| a == mine), "{user} {path} {id}: {ids:?}");
                let csv = body(
                    app.get(
                        &format!("/api/{path}.csv?{range}&table={id}"),
                        Some(&session),
                    )
                    .await,
                )
                .await;
                assert!(
                    !csv.contains(other),
                    "{user}: {other} leaked into {path} {id}"
                );
            }
        }
    }
    let only_b = app.login("only-b").await;
    let overview = api_json(&app, &format!("/api/overview?{range}"), &only_b).await;
    let counts = overview["changes"]["counts"].as_object().unwrap();
    for (kind, n) in counts {
        let want = u64::from(kind == "new_accounts");
        assert_eq!(n.as_u64(), Some(want), "only-b: {kind}");
    }

    // A range whose start is after its end is a 400 that names it, on pages and APIs.
    let backwards = format!("from={}&to={}", day(TO), day(FROM));
    for path in [
        "/",
        "/api/overview",
        "/security",
        "/api/cost",
        "/api/inventory.csv",
    ] {
        let res = app
            .get(
                &format!("{path}?{backwards}&table=changes_instances"),
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        let why = body(res).await;
        assert!(
            why.contains(&format!("from={} is after to={}", day(TO), day(FROM))),
            "{path}: {why}"
        );
    }
}

on_both_backends!(store:
    the_benchs_baseline_route_exists_only_when_configured_and_needs_a_session,
    every_route_needs_a_session_except_the_public_ones,
    a_viewer_gets_403_on_every_admin_route,
    every_state_changing_route_needs_the_sessions_csrf_token,
    login_issues_a_new_session_id_and_ends_the_one_it_was_given,
    cookies_are_secure_behind_https,
    sessions_expire_when_idle_and_absolutely,
    logout_destroys_the_session_on_the_server,
    logins_are_rate_limited_per_user_name_and_per_address,
    the_overview_of_an_empty_store_says_why,
    every_page_of_an_empty_store_says_why,
    what_changed_between_two_days_is_on_every_page,
);
