//! Driving the app's router in a test: users with the tests' password, and logging in
//! through the login form as a browser does.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use orgwatch_store::auth::{NewUser, Role};
use orgwatch_store::{Access, Store};
use tower::ServiceExt;

/// Every test user's password.
pub const PASSWORD: &str = "a long enough password";

/// Adds a user with [`PASSWORD`].
pub async fn add_user(store: &Store, name: &str, role: Role, access: &Access) {
    let hash = orgwatch_web::password::hash(PASSWORD).unwrap();
    let new = NewUser {
        name,
        password_hash: &hash,
        role,
        access,
        now: orgwatch::serve::now(),
    };
    store.add_user(&new).await.unwrap().unwrap();
}

/// The value of the `name=` cookie a response sets.
pub fn set_cookie(res: &axum::response::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// Logs `user` in through the login form; the session cookie.
pub async fn login(app: &Router, user: &str) -> String {
    let form = app
        .clone()
        .oneshot(Request::get("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let token = set_cookie(&form, "orgwatch_login_csrf").unwrap();
    let res = app
        .clone()
        .oneshot(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("orgwatch_login_csrf={token}"))
                .body(Body::from(format!(
                    "csrf_token={token}&username={user}&password={}",
                    PASSWORD.replace(' ', "+")
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    format!(
        "orgwatch_session={}",
        set_cookie(&res, "orgwatch_session").unwrap()
    )
}
