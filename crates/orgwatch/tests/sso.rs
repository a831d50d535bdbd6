//! Single sign-on through a real `orgwatch serve` process and a real OpenID provider (the npm
//! `oidc-provider` on loopback): the flags, the default redirect URL, login, logout; and the
//! startup errors of settings that cannot work. (The flow's refusals are tested through the
//! router, on both backends: orgwatch-web's `tests/oidc.rs`.)
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_test_support::cli::{text, Served};
use orgwatch_test_support::oidc::{free_port, Agent, Provider, ProviderOptions, CLIENT_SECRET};
use orgwatch_test_support::orgwatch;

const SECRET_ENV: &str = "ORGWATCH_OIDC_CLIENT_SECRET";

#[test]
fn serve_signs_a_user_in_through_the_provider_and_out_again() {
    let port = free_port();
    let app = format!("http://127.0.0.1:{port}");
    // The default redirect URL: the listen address's callback.
    let mut options = ProviderOptions::new("orgwatch", &format!("{app}/login/oidc/callback"))
        .user("alice", &["ow-viewers"])
        .user("carol", &["marketing"]);
    options.post_logout_uri = Some(format!("{app}/login"));
    let provider = Provider::start(&options);
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    let mut cmd = orgwatch!();
    cmd.env(SECRET_ENV, CLIENT_SECRET).args([
        "--database-url",
        &db,
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--oidc-issuer",
        &provider.issuer,
        "--oidc-client-id",
        "orgwatch",
        "--oidc-group",
        "ow-viewers=viewer:account=111111111111",
        "--oidc-scope",
        "groups",
    ]);
    let served = Served::start(cmd);
    assert_eq!(served.url, format!("{app}/"));

    let mut browser = Agent::default();
    let login = browser.go(&format!("{app}/login"), "GET", None);
    assert!(
        login.body.contains("Sign in with single sign-on"),
        "{}",
        login.body
    );
    let start = browser.go(&format!("{app}/login/oidc"), "GET", None);
    assert_eq!(start.status, 303);
    let authorize = start.location.unwrap();
    assert!(
        authorize.starts_with(&format!("{}/auth?", provider.issuer)),
        "{authorize}"
    );
    for part in [
        "code_challenge_method=S256",
        "nonce=",
        "state=",
        "scope=openid+groups",
    ] {
        assert!(authorize.contains(part), "{authorize} has {part}");
    }
    let back = provider.sign_in(&mut browser, &authorize, "alice");
    assert!(
        back.starts_with(&format!("{app}/login/oidc/callback?")),
        "{back}"
    );
    let signed_in = browser.go(&back, "GET", None);
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let overview = browser.go(&format!("{app}/api/overview"), "GET", None);
    assert_eq!(overview.status, 200, "{}", overview.body);

    // Logout: the session ends here and the browser goes on to the provider's logout.
    let page = browser.go(&format!("{app}/"), "GET", None).body;
    let at = page.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    let csrf = page[at..at + 64].to_owned();
    let out = browser.go(
        &format!("{app}/logout"),
        "POST",
        Some(&format!("csrf_token={csrf}")),
    );
    assert_eq!(out.status, 303);
    let next = out.location.unwrap();
    assert!(
        next.starts_with(&format!("{}/session/end?", provider.issuer)),
        "{next}"
    );
    let after = browser.go(&format!("{app}/api/overview"), "GET", None);
    assert_eq!(after.status, 401);

    // A user in no mapped group is refused, saying why.
    let mut other = Agent::default();
    let start = other.go(&format!("{app}/login/oidc"), "GET", None);
    let back = provider.sign_in(&mut other, &start.location.unwrap(), "carol");
    let refused = other.go(&back, "GET", None);
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("none of your groups (marketing)"),
        "{}",
        refused.body
    );

    // The single sign-on user is listed, and no password logs them in.
    let list = orgwatch!()
        .args(["--database-url", &db, "users", "list"])
        .output()
        .unwrap();
    let listed = text(&list.stdout);
    assert!(listed.contains("alice"), "{listed}");
    assert!(!listed.contains("carol"), "{listed}");
    assert!(served.stop().success());
}

#[test]
fn settings_that_cannot_work_stop_serve_and_demo_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    let closed = free_port();
    let issuer = format!("http://127.0.0.1:{closed}");
    let demo = [
        "demo",
        "--accounts",
        "1",
        "--days",
        "2",
        "--dir",
        dir.path().to_str().unwrap(),
    ];
    for command in [&["serve"][..], &demo] {
        let run = |secret: Option<&str>, extra: &[&str]| {
            let mut cmd = orgwatch!();
            cmd.env_remove(SECRET_ENV);
            if let Some(s) = secret {
                cmd.env(SECRET_ENV, s);
            }
            let out = cmd
                .args(["--database-url", &db])
                .args(command)
                .args(["--listen", "127.0.0.1:0", "--oidc-issuer", &issuer])
                .args(["--oidc-client-id", "orgwatch"])
                .args(extra)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{command:?} {extra:?}");
            text(&out.stderr)
        };
        // Unreachable: named, before any loading.
        let err = run(Some("s"), &["--oidc-group", "ops=admin"]);
        assert!(err.contains("--oidc-issuer"), "{err}");
        assert!(
            err.contains(&format!("{issuer}/.well-known/openid-configuration")),
            "{err}"
        );
        let err = run(Some("s"), &["--oidc-group", "ops=owner"]);
        assert!(
            err.contains("--oidc-group") && err.contains("ops=owner"),
            "{err}"
        );
        let err = run(None, &["--oidc-group", "ops=admin"]);
        assert!(err.contains(SECRET_ENV), "{err}");
    }
    assert!(
        !dir.path().join("data").exists(),
        "the demo generated nothing before failing"
    );
}
