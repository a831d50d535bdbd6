//! API tokens and the Users & tokens page through the router, on both backends: a token
//! reads the API with its user's scope as it is at each request, every token that should
//! open nothing is a 401, the database holds hashes only, a bearer opens no page and drives
//! no form, and the admin page's forms work end to end.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use common::{body, cookie, location};
use futures_util::StreamExt;
use orgwatch_model::{AccountId, ActivityEvent};
use orgwatch_store::activity::ActivityFile;
use orgwatch_store::auth::{NewToken, NewUser, Role};
use orgwatch_store::{Access, Limits, Store};
use orgwatch_test_support::on_both_backends;
use orgwatch_web::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use orgwatch_web::{AppState, WebConfig};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough password";
const T0: i64 = 1_800_000_000;
const A: &str = "111111111111";
const B: &str = "222222222222";

fn only(account: &str) -> Access {
    Access::Limited(Limits {
        accounts: vec![AccountId::parse(account).unwrap()],
        ..Limits::default()
    })
}

/// `n` calls in each of A and B, each account with its own principal (`alice`, `bob`), so
/// that a leak shows by name.
async fn store_calls(store: &Store, n: usize) {
    let events: Vec<ActivityEvent> = (0..2 * n)
        .map(|i| {
            let (account, who) = if i % 2 == 0 { (A, "alice") } else { (B, "bob") };
            let rec = json!({
                "eventVersion": "1.08",
                "eventID": format!("ev-{i:05}"),
                "eventTime": format!("2024-03-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
                "recipientAccountId": account,
                "awsRegion": "eu-west-1",
                "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject",
                "sourceIPAddress": "198.51.100.7",
                "userIdentity": {"type": "IAMUser", "userName": who, "accountId": account},
                "eventType": "AwsApiCall",
            });
            ActivityEvent::from_cloudtrail(rec.as_object().unwrap()).unwrap()
        })
        .collect();
    let none = BTreeMap::new();
    let file = ActivityFile {
        path: "AWSLogs/calls.json",
        size: 1,
        events: &events,
        undecodable: 0,
        skipped: &none,
        complete: true,
        offset: Some(0),
    };
    store.store_activity(&[file]).await.unwrap();
}

/// The app with an admin and a viewer limited to account A, and a clock the test moves.
struct App {
    router: Router,
    store: Store,
    clock: Arc<AtomicI64>,
}

impl App {
    async fn new(store: Store) -> App {
        for (name, role, access) in [
            ("admin", Role::Admin, Access::All),
            ("viewer-a", Role::Viewer, only(A)),
        ] {
            store
                .add_user(&NewUser {
                    name,
                    password_hash: &orgwatch_web::password::hash(PASSWORD).unwrap(),
                    role,
                    access: &access,
                    now: T0,
                })
                .await
                .unwrap()
                .unwrap();
        }
        let clock = Arc::new(AtomicI64::new(T0));
        let now = clock.clone();
        let state = AppState::new(
            store.clone(),
            WebConfig::default(),
            Arc::new(move || now.load(Ordering::SeqCst)),
        );
        App {
            router: orgwatch_web::router(state),
            store,
            clock,
        }
    }

    fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    /// A token for `user` made as the CLI and the page make them: the secret.
    async fn token(&self, user: &str, expires_at: Option<i64>) -> String {
        let owner = self.store.credentials(user).await.unwrap().unwrap();
        let issued = orgwatch_web::tokens::issue();
        self.store
            .create_token(&NewToken {
                user: owner.user.id,
                name: "test",
                prefix: &issued.prefix,
                token_hash: &issued.hash,
                now: self.clock.load(Ordering::SeqCst),
                expires_at,
            })
            .await
            .unwrap();
        issued.secret
    }

    async fn send(&self, req: Request<Body>) -> Response {
        self.router.clone().oneshot(req).await.unwrap()
    }

    async fn bearer(&self, path: &str, token: &str) -> Response {
        self.send(
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// The body of a bearer request that must succeed.
    async fn bearer_text(&self, path: &str, token: &str) -> String {
        let res = self.bearer(path, token).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        body(res).await
    }

    async fn bearer_json(&self, path: &str, token: &str) -> Value {
        serde_json::from_str(&self.bearer_text(path, token).await).unwrap()
    }

    async fn get(&self, path: &str, session: &str) -> Response {
        self.send(
            Request::get(path)
                .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A form post of `session` (its CSRF token added).
    async fn post(&self, path: &str, session: &str, form: &[(&str, &str)]) -> Response {
        let token = self.csrf_token(session).await;
        let mut fields = vec![("csrf_token", token.as_str())];
        fields.extend_from_slice(form);
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"))
                .body(Body::from(serde_urlencoded::to_string(&fields).unwrap()))
                .unwrap(),
        )
        .await
    }

    async fn csrf_token(&self, session: &str) -> String {
        let page = body(self.get("/", session).await).await;
        let at = page.find("name=\"csrf_token\" value=\"").expect("a token") + 25;
        page[at..at + 64].to_owned()
    }

    /// Logs in through the form: the session id, or `None` when refused.
    async fn try_login(&self, user: &str, password: &str) -> Option<String> {
        let form = self
            .send(Request::get("/login").body(Body::empty()).unwrap())
            .await;
        let token = cookie(&form, LOGIN_CSRF_COOKIE).unwrap();
        let fields = [
            ("csrf_token", token.as_str()),
            ("username", user),
            ("password", password),
        ];
        let res = self
            .send(
                Request::post("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, format!("{LOGIN_CSRF_COOKIE}={token}"))
                    .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
                    .unwrap(),
            )
            .await;
        cookie(&res, SESSION_COOKIE)
    }

    async fn login(&self, user: &str) -> String {
        self.try_login(user, PASSWORD).await.expect("logged in")
    }
}

/// The secret a response page shows once.
fn secret(page: &str) -> String {
    let at = page
        .find("<code id=\"secret\">")
        .expect("a secret on the page")
        + 18;
    let end = page[at..].find("</code>").unwrap();
    page[at..at + end].to_owned()
}

/// The first summary of an activity stream opened with a bearer.
async fn first_summary(app: &App, token: &str) -> Value {
    let res = app.bearer("/api/activity/stream", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut stream = res.into_body().into_data_stream();
    let mut buf = String::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(end) = buf.find("\n\n") {
                let message: String = buf.drain(..end + 2).collect();
                if message.lines().any(|l| l == "event: summary") {
                    let data: String = message
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: "))
                        .collect();
                    return serde_json::from_str(&data).unwrap();
                }
                continue;
            }
            let chunk = stream.next().await.expect("the stream ended").unwrap();
            buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await
    .expect("a summary in time")
}

async fn a_token_reads_the_api_with_its_users_scope_at_each_request(store: Store) {
    store_calls(&store, 30).await;
    let app = App::new(store).await;
    let viewer = app.token("viewer-a", None).await;
    let admin = app.token("admin", None).await;
    let leaks = |what: &str, text: &str| {
        for other in [B, "bob"] {
            assert!(!text.contains(other), "{what} shows {other}");
        }
    };
    // The admin's token sees both accounts: the checks below can fail.
    let all = app.bearer_json("/api/activity", &admin).await;
    assert_eq!(all["totals"]["events"], 60);
    assert!(all.to_string().contains("bob"));

    let doc = app.bearer_json("/api/activity", &viewer).await;
    assert_eq!(doc["totals"]["events"], 30, "A's events, all of them");
    leaks("/api/activity", &doc.to_string());
    let events = app
        .bearer_json("/api/activity/events?limit=1000", &viewer)
        .await;
    assert_eq!(events["events"].as_array().unwrap().len(), 30);
    leaks("/api/activity/events", &events.to_string());
    let filtered = app
        .bearer_json(&format!("/api/activity/events?account={B}"), &viewer)
        .await;
    assert_eq!(filtered["events"], json!([]));
    for t in doc["tables"].as_object().unwrap().keys() {
        let path = format!("/api/activity.csv?table={t}");
        leaks(&path, &app.bearer_text(&path, &viewer).await);
    }
    let overview = app.bearer_json("/api/overview", &viewer).await;
    leaks("/api/overview", &overview.to_string());
    let summary = first_summary(&app, &viewer).await;
    assert_eq!(summary["totals"]["events"], 30);
    leaks("the stream", &summary.to_string());

    // A narrower grant applies to the token at once: now B only.
    assert!(app
        .store
        .grant("viewer-a", Role::Viewer, &only(B), T0)
        .await
        .unwrap());
    let doc = app.bearer_json("/api/activity", &viewer).await;
    assert_eq!(doc["totals"]["events"], 30);
    assert!(!doc.to_string().contains("alice"), "A is out of scope now");
    // A viewer's token is no admin.
    let res = app.bearer("/api/admin/users", &viewer).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let users = app.bearer_json("/api/admin/users", &admin).await;
    assert_eq!(users["users"].as_array().unwrap().len(), 2);
}

async fn assert_refused(app: &App, token: &str, what: &str) {
    for path in ["/api/overview", "/api/activity/stream", "/api/cost.csv"] {
        let res = app.bearer(path, token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what} on {path}");
        assert_eq!(res.headers()[header::WWW_AUTHENTICATE], "Bearer", "{what}");
        let json: Value = serde_json::from_str(&body(res).await).unwrap();
        assert_eq!(
            json["error"], "invalid, expired or revoked API token",
            "{what}"
        );
    }
}

async fn tokens_that_should_open_nothing_are_401(store: Store) {
    let app = App::new(store).await;
    let good = app.token("viewer-a", None).await;
    assert_eq!(
        app.bearer("/api/overview", &good).await.status(),
        StatusCode::OK
    );
    // Unknown, malformed, one digit changed, empty.
    let other = orgwatch_web::tokens::issue().secret;
    let mut changed = good.clone();
    let last = changed.pop().unwrap();
    changed.push(if last == '0' { '1' } else { '0' });
    for (token, what) in [
        (other.as_str(), "unknown"),
        ("not-a-token", "malformed"),
        (changed.as_str(), "one digit changed"),
        ("", "empty"),
    ] {
        assert_refused(&app, token, what).await;
    }
    // A bearer decides even beside a valid session cookie.
    let session = app.login("admin").await;
    let req = Request::get("/api/overview")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"))
        .header(header::AUTHORIZATION, format!("Bearer {other}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status(), StatusCode::UNAUTHORIZED);
    // And both must hold: a good token does not vouch for a cookie naming no session.
    let beside = app.token("admin", None).await;
    for (cookie, status) in [
        (session.clone(), StatusCode::OK),
        ("f".repeat(64), StatusCode::UNAUTHORIZED),
    ] {
        let req = Request::get("/api/overview")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={cookie}"))
            .header(header::AUTHORIZATION, format!("Bearer {beside}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.status(), status, "cookie {cookie}");
    }

    // Expired: works up to its expiry, then never again.
    let expiring = app.token("viewer-a", Some(T0 + 3_600)).await;
    app.advance(3_599);
    assert_eq!(
        app.bearer("/api/overview", &expiring).await.status(),
        StatusCode::OK
    );
    app.advance(1);
    assert_refused(&app, &expiring, "expired").await;

    // Revoked.
    let id = app.store.tokens(Some("viewer-a")).await.unwrap()[0].id;
    app.store.revoke_token(id, T0 + 3_600).await.unwrap();
    assert_refused(&app, &good, "revoked").await;

    // Its user removed.
    let admins = app.token("admin", None).await;
    let second = app.token("viewer-a", None).await;
    assert_eq!(
        app.bearer("/api/overview", &second).await.status(),
        StatusCode::OK
    );
    assert!(app.store.remove_user("viewer-a").await.unwrap());
    assert_refused(&app, &second, "of a removed user").await;
    assert_eq!(
        app.bearer("/api/overview", &admins).await.status(),
        StatusCode::OK,
        "other users' tokens still work"
    );
}

async fn a_bearer_opens_no_page_and_drives_no_form(store: Store) {
    let app = App::new(store).await;
    let admin = app.token("admin", None).await;
    for path in ["/", "/activity", "/admin/users", "/ingest"] {
        let res = app.bearer(path, &admin).await;
        assert_eq!(
            (res.status(), location(&res)),
            (StatusCode::SEE_OTHER, "/login"),
            "{path}"
        );
    }
    // A form post with a bearer and no cookie is a request without a session.
    let req = Request::post("/admin/tokens")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("user=admin&name=sneaky"))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(
        (res.status(), location(&res)),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert_eq!(app.store.tokens(None).await.unwrap().len(), 1);
    // And a cookie request still needs its CSRF token.
    let session = app.login("admin").await;
    let req = Request::post("/admin/tokens")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"))
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("user=admin&name=sneaky"))
        .unwrap();
    assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.tokens(None).await.unwrap().len(), 1);
}

async fn the_last_use_is_written_at_most_once_a_minute(store: Store) {
    let app = App::new(store).await;
    let token = app.token("viewer-a", None).await;
    let last_used = || async { app.store.tokens(Some("viewer-a")).await.unwrap()[0].last_used_at };
    assert_eq!(last_used().await, None);
    let ok = |res: Response| assert_eq!(res.status(), StatusCode::OK);
    ok(app.bearer("/api/overview", &token).await);
    assert_eq!(last_used().await, Some(T0));
    for _ in 0..3 {
        app.advance(19);
        ok(app.bearer("/api/overview", &token).await);
    }
    assert_eq!(last_used().await, Some(T0), "57 s later: not written again");
    app.advance(3);
    ok(app.bearer("/api/overview", &token).await);
    assert_eq!(last_used().await, Some(T0 + 60));
}

async fn the_admin_page_adds_grants_tokens_and_removes(store: Store) {
    store_calls(&store, 5).await;
    let app = App::new(store).await;
    let admin = app.login("admin").await;
    let page = body(app.get("/admin/users", &admin).await).await;
    for form in [
        "action=\"/admin/users\"",
        "action=\"/admin/users/grant\"",
        "action=\"/admin/users/password\"",
        "action=\"/admin/users/remove\"",
        "action=\"/admin/tokens\"",
    ] {
        assert!(page.contains(form), "{form}");
    }
    assert!(page.contains("viewer-a"), "{page}");
    assert!(page.contains(&format!("account {A}")), "{page}");

    // Add carol, a viewer of A, with a password made and shown once.
    let res = app
        .post(
            "/admin/users",
            &admin,
            &[("name", "carol"), ("role", "viewer"), ("accounts", A)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body(res).await;
    assert!(
        page.contains("Added carol (viewer, sees account 111111111111)."),
        "{page}"
    );
    let password = secret(&page);
    assert_eq!(password.len(), 20);
    assert!(!body(app.get("/admin/users", &admin).await)
        .await
        .contains(&password));
    let carol = app
        .try_login("carol", &password)
        .await
        .expect("carol logs in");
    assert_eq!(app.get("/", &carol).await.status(), StatusCode::OK);
    // Her last login shows.
    let users = body(app.get("/api/admin/users", &admin).await).await;
    let users: Value = serde_json::from_str(&users).unwrap();
    let row = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "carol")
        .unwrap()
        .clone();
    assert_eq!(row["last_login_at"], "2027-01-15T08:00:00Z");
    assert_eq!(
        row["sees"],
        json!({"accounts": [A], "ous": [], "environments": []})
    );

    // Bad input is said, not stored.
    for (form, status, says) in [
        (
            vec![("name", "carol"), ("role", "viewer")],
            StatusCode::CONFLICT,
            "user carol exists already",
        ),
        (
            vec![("name", "has space"), ("role", "viewer")],
            StatusCode::BAD_REQUEST,
            "no spaces",
        ),
        (
            vec![("name", "dave"), ("role", "viewer"), ("accounts", "12345")],
            StatusCode::BAD_REQUEST,
            "12345",
        ),
        (
            vec![("name", "dave"), ("role", "admin"), ("ous", "Security")],
            StatusCode::BAD_REQUEST,
            "an admin sees every account",
        ),
        (
            vec![("name", "dave"), ("role", "viewer"), ("password", "short")],
            StatusCode::BAD_REQUEST,
            "at least 12 characters",
        ),
    ] {
        let res = app.post("/admin/users", &admin, &form).await;
        assert_eq!(res.status(), status, "{form:?}");
        assert!(body(res).await.contains(says), "{form:?}: {says}");
    }
    assert!(app.store.credentials("dave").await.unwrap().is_none());

    // A token for carol, shown once, reading with her scope.
    let res = app
        .post(
            "/admin/tokens",
            &admin,
            &[("user", "carol"), ("name", "ci"), ("expires_in_days", "30")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body(res).await;
    let token = secret(&page);
    assert!(token.starts_with("ow_") && token.len() == 67, "{token}");
    let listed = body(app.get("/admin/users", &admin).await).await;
    assert!(!listed.contains(&token), "never shown again");
    assert!(
        listed.contains(&format!("<code>{}…</code>", &token[..11])),
        "{listed}"
    );
    let doc = app.bearer_json("/api/activity", &token).await;
    assert_eq!(doc["totals"]["events"], 5);
    assert!(!doc.to_string().contains("bob"));
    let info = &app.store.tokens(Some("carol")).await.unwrap()[0];
    assert_eq!(info.expires_at, Some(T0 + 30 * 86_400));
    for (days, says) in [
        ("0", "from 1 to 3650"),
        ("x", "whole number"),
        ("3651", "3650"),
    ] {
        let res = app
            .post(
                "/admin/tokens",
                &admin,
                &[("user", "carol"), ("name", "ci"), ("expires_in_days", days)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{days}");
        assert!(body(res).await.contains(says), "{days}");
    }
    let res = app
        .post(
            "/admin/tokens",
            &admin,
            &[("user", "nobody"), ("name", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Grant carol B instead: her token follows.
    let res = app
        .post(
            "/admin/users/grant",
            &admin,
            &[("name", "carol"), ("role", "viewer"), ("accounts", B)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res)
        .await
        .contains("carol is now viewer, sees account 222222222222."));
    let doc = app.bearer_json("/api/activity", &token).await;
    assert!(doc.to_string().contains("bob") && !doc.to_string().contains("alice"));

    // Reset her password: the old one and her session end; the new one is shown once.
    let res = app
        .post("/admin/users/password", &admin, &[("name", "carol")])
        .await;
    let page = body(res).await;
    let new_password = secret(&page);
    assert_ne!(new_password, password);
    assert_eq!(app.get("/", &carol).await.status(), StatusCode::SEE_OTHER);
    assert!(app.try_login("carol", &password).await.is_none());
    assert!(app.try_login("carol", &new_password).await.is_some());

    // Revoke the token.
    let id = info.id.to_string();
    let res = app
        .post("/admin/tokens/revoke", &admin, &[("id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body(res).await;
    assert!(page.contains(&format!("Revoked token {id}")), "{page}");
    assert!(!page.contains("name=\"id\" value"), "no revoke button left");
    assert_refused(&app, &token, "revoked on the page").await;
    let res = app
        .post("/admin/tokens/revoke", &admin, &[("id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // The last admin stays.
    for (path, form) in [
        ("/admin/users/remove", vec![("name", "admin")]),
        (
            "/admin/users/grant",
            vec![("name", "admin"), ("role", "viewer")],
        ),
    ] {
        let res = app.post(path, &admin, &form).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{path}");
        assert!(
            body(res).await.contains("admin is the last admin"),
            "{path}"
        );
    }
    assert_eq!(
        app.get("/admin/users", &admin).await.status(),
        StatusCode::OK
    );

    // Remove carol: her sessions and tokens go with her.
    let second = app.token("carol", None).await;
    let res = app
        .post("/admin/users/remove", &admin, &[("name", "carol")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("Removed carol"));
    assert_refused(&app, &second, "of carol, removed").await;
    assert!(app.store.tokens(Some("carol")).await.unwrap().is_empty());
    let res = app
        .post("/admin/users/remove", &admin, &[("name", "carol")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn the_database_holds_no_token_in_clear_text(store: Store) {
    let app = App::new(store).await;
    let admin = app.login("admin").await;
    let mut secrets = vec![app.token("viewer-a", None).await];
    let page = body(
        app.post(
            "/admin/tokens",
            &admin,
            &[("user", "admin"), ("name", "page")],
        )
        .await,
    )
    .await;
    secrets.push(secret(&page));
    let rows = app
        .store
        .raw_query_text(
            "SELECT name, prefix, token_hash FROM api_tokens ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for (row, token) in rows.iter().zip(&secrets) {
        let stored: Vec<&str> = row.iter().map(|v| v.as_deref().unwrap()).collect();
        for value in &stored {
            assert!(!value.contains(&token[3..]), "{value} holds the token");
        }
        assert_eq!(stored[1], &token[..11], "the prefix: ow_ and 8 digits");
        assert_eq!(stored[2], orgwatch_web::tokens::hash(token));
        assert_eq!(stored[2].len(), 64);
    }
    // Nor does the admin API show more than the prefix.
    let doc = body(app.get("/api/admin/users", &admin).await).await;
    for token in &secrets {
        assert!(!doc.contains(&token[11..]), "{doc}");
        assert!(!doc.contains(&orgwatch_web::tokens::hash(token)), "{doc}");
    }
}

on_both_backends!(store:
    a_token_reads_the_api_with_its_users_scope_at_each_request,
    tokens_that_should_open_nothing_are_401,
    a_bearer_opens_no_page_and_drives_no_form,
    the_last_use_is_written_at_most_once_a_minute,
    the_admin_page_adds_grants_tokens_and_removes,
    the_database_holds_no_token_in_clear_text,
);
