//! What the app's tests read from its responses: cookies, the body, the redirect.
// Each test binary uses some of these.
#![allow(dead_code)]

use axum::http::header;
use axum::response::Response;

/// The value a response sets for cookie `name` (empty values, i.e. deletions, skipped).
pub fn cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// The whole `Set-Cookie` header of cookie `name`, with its attributes.
pub fn set_cookie_header(res: &Response, name: &str) -> String {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no Set-Cookie {name}"))
        .to_owned()
}

/// The response's body as text.
pub async fn body(res: Response) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Where the response redirects to (empty when it does not).
pub fn location(res: &Response) -> &str {
    res.headers()
        .get(header::LOCATION)
        .map_or("", |v| v.to_str().unwrap())
}
