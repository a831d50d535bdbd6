//! A real OpenID provider per test: the npm `oidc-provider` run by `oidc-provider/provider.mjs`
//! (this crate's) with Node on a free loopback port, and a user agent that signs a user in
//! at it with plain HTTP form posts, as a browser would.
//!
//! The package comes from `ORGWATCH_OIDC_PROVIDER` (its directory, e.g.
//! `$HOME/.cache/orgwatch-npm/node_modules/oidc-provider`), which `scripts/test` installs and
//! exports; missing, a test fails saying how to install it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The client secret the tests' provider knows the client by.
pub const CLIENT_SECRET: &str = "a test client secret";

/// How to run the provider.
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    /// The one client's id.
    pub client_id: String,
    /// Its only redirect URI.
    pub redirect_uri: String,
    /// Where logout may send the browser back.
    pub post_logout_uri: Option<String>,
    /// Users and their groups.
    pub users: Vec<(String, Vec<String>)>,
    /// The groups claim in the ID token too (else only at userinfo).
    pub groups_in_id_token: bool,
    /// A misbehaving provider: `aud` (ID tokens for another client) or `key` (signed by a
    /// key not in its JWKS).
    pub tamper: Option<&'static str>,
}

impl ProviderOptions {
    /// A provider for client `client_id` sending the browser back to `redirect_uri`.
    pub fn new(client_id: &str, redirect_uri: &str) -> ProviderOptions {
        ProviderOptions {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            post_logout_uri: None,
            users: Vec::new(),
            groups_in_id_token: false,
            tamper: None,
        }
    }

    /// Adds a user in these groups.
    pub fn user(mut self, name: &str, groups: &[&str]) -> ProviderOptions {
        self.users.push((
            name.to_owned(),
            groups.iter().map(|g| (*g).to_owned()).collect(),
        ));
        self
    }
}

/// The directory of the `oidc-provider` package: `ORGWATCH_OIDC_PROVIDER`, else where
/// `scripts/test` installs it. Missing, the calling test fails saying how to install it.
pub fn package_dir() -> PathBuf {
    let dir = match std::env::var_os("ORGWATCH_OIDC_PROVIDER") {
        Some(p) => PathBuf::from(p),
        None => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/orgwatch-npm/node_modules/oidc-provider")
        }
    };
    assert!(
        dir.join("lib/index.js").exists(),
        "the npm package oidc-provider is not installed at {}: run scripts/test (it installs \
         it with npm into $HOME/.cache/orgwatch-npm), or `npm install --prefix \
         $HOME/.cache/orgwatch-npm oidc-provider@VERSION` with the version of \
         crates/orgwatch-test-support/oidc-provider/package.json, or set ORGWATCH_OIDC_PROVIDER \
         to the package's directory",
        dir.display()
    );
    dir
}

/// A running provider, stopped on drop.
pub struct Provider {
    child: Child,
    /// `http://127.0.0.1:PORT`: the issuer.
    pub issuer: String,
    port: u16,
}

/// A free port of 127.0.0.1 (free when asked: the caller binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

impl Provider {
    /// Starts the provider on a free port and waits until its discovery document answers.
    pub fn start(options: &ProviderOptions) -> Provider {
        let package = package_dir();
        let port = free_port();
        let script = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/oidc-provider/provider.mjs"
        ));
        let mut cmd = Command::new("node");
        cmd.arg(&script)
            .arg("--package-dir")
            .arg(&package)
            .args(["--port", &port.to_string()])
            .args(["--client-id", &options.client_id])
            .args(["--client-secret", CLIENT_SECRET])
            .args(["--redirect-uri", &options.redirect_uri]);
        if let Some(uri) = &options.post_logout_uri {
            cmd.args(["--post-logout-uri", uri]);
        }
        for (name, groups) in &options.users {
            cmd.arg("--user")
                .arg(format!("{name}={}", groups.join(",")));
        }
        if options.groups_in_id_token {
            cmd.args(["--groups-in", "id_token"]);
        }
        if let Some(t) = options.tamper {
            cmd.args(["--tamper", t]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node (is Node.js installed?): {e}"));
        let stdout = child.stdout.take().unwrap();
        // Its output is drained by a thread, so that the provider never blocks on a full pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut provider = Provider {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = provider.child.try_wait().unwrap() {
                panic!(
                    "the OpenID provider (node {}) exited at start: {status}",
                    script.display()
                );
            }
            while rx.try_recv().is_ok() {}
            let agent = Agent::default();
            if let Some(res) = agent.request(
                &format!("{}/.well-known/openid-configuration", provider.issuer),
                "GET",
                None,
            ) {
                if res.status == 200 {
                    return provider;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the OpenID provider did not answer in 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Signs `user` in at the provider, following `authorize_url` (the app's redirect) with
    /// `agent`'s cookies; the URL the provider sends the browser back to (the app's callback
    /// with `code` and `state`, or `error`).
    pub fn sign_in(&self, agent: &mut Agent, authorize_url: &str, user: &str) -> String {
        let mut url = authorize_url.to_owned();
        for _ in 0..10 {
            if !url.starts_with(&self.issuer) {
                return url;
            }
            let res = agent.go(&url, "GET", None);
            let Some(next) = res.location.clone() else {
                panic!(
                    "the provider answered {} to {url} with no redirect: {}",
                    res.status,
                    res.body.chars().take(400).collect::<String>()
                );
            };
            let next = self.absolute(&next);
            if let Some(path) = next.strip_prefix(&self.issuer) {
                if path.starts_with("/interaction/") {
                    let page = agent.go(&next, "GET", None);
                    let prompt = if page.body.contains("name=\"prompt\" value=\"consent\"") {
                        "prompt=consent".to_owned()
                    } else {
                        format!("prompt=login&login={user}&password=any")
                    };
                    let posted = agent.go(&next, "POST", Some(&prompt));
                    url = self.absolute(posted.location.as_deref().unwrap_or_else(|| {
                        panic!(
                            "the interaction answered {}: {}",
                            posted.status, posted.body
                        )
                    }));
                    continue;
                }
            }
            url = next;
        }
        panic!("the sign-in at the provider did not come back in 10 redirects");
    }

    /// Follows `authorize_url` to the provider's login form and cancels there (its
    /// devInteractions' abort); the URL the provider sends the browser back to (the app's
    /// callback with `error=access_denied`).
    pub fn cancel(&self, agent: &mut Agent, authorize_url: &str) -> String {
        let res = agent.go(authorize_url, "GET", None);
        let form = self.absolute(
            res.location
                .as_deref()
                .expect("a redirect to the login form"),
        );
        let mut url = self.absolute(
            agent
                .go(&format!("{form}/abort"), "GET", None)
                .location
                .as_deref()
                .expect("a redirect after the abort"),
        );
        for _ in 0..10 {
            if !url.starts_with(&self.issuer) {
                return url;
            }
            let res = agent.go(&url, "GET", None);
            url = self.absolute(res.location.as_deref().expect("a redirect"));
        }
        panic!("the cancelled sign-in did not come back in 10 redirects");
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            format!("{}{location}", self.issuer)
        } else {
            location.to_owned()
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal user agent for plain HTTP on loopback: one request per connection, no redirect
/// followed, cookies kept by name (whatever their path: the provider's have distinct names).
#[derive(Debug, Default, Clone)]
pub struct Agent {
    cookies: BTreeMap<String, String>,
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// `Location`, if any.
    pub location: Option<String>,
    /// The body (as sent: not de-chunked).
    pub body: String,
}

impl Agent {
    /// One request with this agent's cookies, keeping those the answer sets.
    pub fn go(&mut self, url: &str, method: &str, form: Option<&str>) -> Answer {
        let (answer, set) = self
            .send(url, method, form)
            .unwrap_or_else(|| panic!("{method} {url}: no answer"));
        for (name, value) in set {
            if value.is_empty() {
                self.cookies.remove(&name);
            } else {
                self.cookies.insert(name, value);
            }
        }
        answer
    }

    /// One request, cookies neither sent nor kept.
    pub fn request(&self, url: &str, method: &str, form: Option<&str>) -> Option<Answer> {
        Agent::default().send(url, method, form).map(|(a, _)| a)
    }

    fn send(
        &self,
        url: &str,
        method: &str,
        form: Option<&str>,
    ) -> Option<(Answer, Vec<(String, String)>)> {
        let rest = url.strip_prefix("http://")?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let mut s = TcpStream::connect(host).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        let body = form.unwrap_or("");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if form.is_some() {
            req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).ok()?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).ok()?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let mut location = None;
        let mut set = Vec::new();
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("location") {
                location = Some(value.to_owned());
            } else if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or("");
                if let Some((k, v)) = pair.split_once('=') {
                    set.push((k.trim().to_owned(), v.trim().to_owned()));
                }
            }
        }
        Some((
            Answer {
                status,
                location,
                body: body.to_owned(),
            },
            set,
        ))
    }
}
