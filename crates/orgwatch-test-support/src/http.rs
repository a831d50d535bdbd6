//! Plain HTTP/1.1 to a running `orgwatch serve` (one request per connection), and the login
//! form driven as a browser would: what the end-to-end tests and `bench/web` need without
//! an HTTP client crate.

use std::io::{Read, Write};
use std::net::TcpStream;

/// One HTTP/1.1 request on a fresh connection to `addr` (`host:port`): the status and the
/// whole response (headers and body) as text.
pub fn http(addr: &str, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (status, response)
}

/// `GET path` with a `Cookie:` header (may be empty).
pub fn http_get(addr: &str, path: &str, cookie: &str) -> (u16, String) {
    http(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// The value a response sets for cookie `name` (deletions, i.e. empty values, skipped).
pub fn cookie_in(response: &str, name: &str) -> Option<String> {
    response
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// Logs in through the form: the `Cookie:` value of the new session (`orgwatch_session=…`),
/// or `None` when refused.
pub fn http_login(addr: &str, user: &str, password: &str) -> Option<String> {
    let (_, form) = http_get(addr, "/login", "");
    let token = cookie_in(&form, "orgwatch_login_csrf").unwrap();
    let body = format!("csrf_token={token}&username={user}&password={password}");
    let (status, response) = http(
        addr,
        &format!(
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nCookie: orgwatch_login_csrf={token}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    (status == 303).then(|| {
        format!(
            "orgwatch_session={}",
            cookie_in(&response, "orgwatch_session").unwrap()
        )
    })
}

/// The body of a response [`http`] returned (after the blank line). A chunked body keeps
/// its chunk sizes: compare lengths only of bodies sent with `Content-Length`.
pub fn body_of(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}
