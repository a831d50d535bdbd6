//! A `moto_server` (the AWS API emulator) per test, on a free loopback port, and plain
//! HTTP requests to it for seeding what a test needs without an AWS SDK.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's default account: any credentials it did not issue are this account's.
pub const MANAGEMENT: &str = "123456789012";

/// A running moto_server, stopped on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    port: u16,
}

/// The moto_server to run: `ORGWATCH_MOTO_SERVER`, else the workspace's `.venv`. CI installs
/// it (scripts/test), so a missing one fails the test rather than skipping it.
pub fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("ORGWATCH_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.venv/bin/moto_server"
    ));
    assert!(
        venv.exists(),
        "moto_server not found: set ORGWATCH_MOTO_SERVER or run scripts/test, which installs \
         moto[server] into .venv ({} does not exist)",
        venv.display()
    );
    venv
}

impl Moto {
    /// Starts moto_server on a free port of 127.0.0.1 and waits until it answers.
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let bin = moto_server();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto_server exited at start: {status}");
            }
            if moto.raw("GET", "/moto-api/", &[], "").is_some() {
                return moto;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer in 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One plain HTTP/1.1 request (moto checks no signature until auth is switched on); the
    /// status code.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<u16> {
        self.request(method, path, headers, body)
            .map(|(status, _)| status)
    }

    /// One plain HTTP/1.1 request; the status code and the body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        let status = answer.split_whitespace().nth(1)?.parse().ok()?;
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Some((status, body))
    }

    /// A query-protocol call (IAM, STS) in `account`: `params` are form fields besides
    /// `Action` and `Version`. The status code and the XML answer.
    pub fn query_call(
        &self,
        account: &str,
        service: &str,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> (u16, String) {
        let mut body = format!("Action={action}&Version={version}");
        for (k, v) in params {
            body.push_str(&format!("&{}={}", encode(k), encode(v)));
        }
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        self.request(
            "POST",
            "/",
            &[
                ("x-moto-account-id", account),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &auth),
            ],
            &body,
        )
        .unwrap_or_else(|| panic!("{service} {action}: no answer"))
    }

    /// From now on moto checks every request's signature and IAM policies (its
    /// `INITIAL_NO_AUTH_ACTION_COUNT` set to 0).
    pub fn enforce_iam(&self) {
        let status = self.raw("POST", "/moto-api/reset-auth", &[], "0");
        assert_eq!(status, Some(200), "switching moto's IAM checks on");
    }

    /// Creates an S3 bucket in `account` (moto's `x-moto-account-id`), for a trail to log to.
    pub fn create_bucket(&self, account: &str, bucket: &str) {
        let status = self.raw(
            "PUT",
            &format!("/{bucket}"),
            &[("x-moto-account-id", account)],
            "",
        );
        assert_eq!(status, Some(200), "creating bucket {bucket} in {account}");
    }

    /// A JSON-protocol call (KMS, Secrets Manager, ...) in `account` and `region`, as
    /// `target` (`TrentService.CreateKey`); moto routes it by the credential scope's
    /// service and takes the account from `x-moto-account-id`. The status code.
    pub fn json_call(
        &self,
        account: &str,
        region: &str,
        service: &str,
        target: &str,
        body: &str,
    ) -> Option<u16> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        self.raw(
            "POST",
            "/",
            &[
                ("x-moto-account-id", account),
                ("X-Amz-Target", target),
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Authorization", &auth),
            ],
            body,
        )
    }
}

/// Percent-encodes a form value (everything but unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text of the first `<tag>...</tag>` of an XML answer.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
