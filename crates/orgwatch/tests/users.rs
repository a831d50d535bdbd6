//! `orgwatch users`: adding, listing, granting, changing passwords and removing the web
//! app's users, on both backends; the stored hashes check the passwords given.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_store::auth::Role;
use orgwatch_store::{Access, Limits};
use orgwatch_test_support::cli::text;
use orgwatch_test_support::{on_both_backends, orgwatch, Backend, TestDb};
use std::io::Write;
use std::process::{Output, Stdio};

/// Runs `orgwatch users ARGS` on `db` with `stdin` as its input.
fn users(db: &TestDb, args: &[&str], stdin: &str) -> Output {
    let mut child = orgwatch!()
        .args(["--database-url", &db.url, "users"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    text(&out.stderr)
}

async fn users_are_added_granted_listed_and_removed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let secret = "a long enough password";
    let out = ok(&users(
        &db,
        &["add", "alice", "--password-stdin"],
        &format!("{secret}\n"),
    ));
    assert_eq!(out, "added alice (viewer, sees every account)\n");
    assert!(!out.contains(secret));
    let err = refused(&users(&db, &["add", "alice"], ""));
    assert!(err.contains("user alice already exists"), "{err}");
    let err = refused(&users(
        &db,
        &["add", "bob", "--role", "admin", "--account", "123456789012"],
        "",
    ));
    assert!(err.contains("an admin sees every account"), "{err}");
    let err = refused(&users(&db, &["add", "bob", "--account", "12345"], ""));
    assert!(err.contains("is not an AWS account id"), "{err}");

    // Without --password-stdin a password is made and shown once.
    let out = ok(&users(&db, &["add", "carol", "--role", "admin"], ""));
    let generated = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .to_owned();
    assert_eq!(generated.len(), 20, "{out}");

    let out = ok(&users(
        &db,
        &[
            "grant",
            "alice",
            "--role",
            "viewer",
            "--account",
            "123456789012",
            "--environment",
            "production",
        ],
        "",
    ));
    assert!(out.contains("alice is now viewer"), "{out}");
    let list = ok(&users(&db, &["list"], ""));
    let lines: Vec<&str> = list.lines().map(str::trim_end).collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("NAME"), "{list}");
    assert!(
        lines[1].starts_with("alice")
            && lines[1].contains("viewer")
            && lines[1].ends_with("account 123456789012, environment PRODUCTION"),
        "{list}"
    );
    assert!(
        lines[2].starts_with("carol") && lines[2].ends_with("admin   every account"),
        "{list}"
    );

    // What the store holds: the hashes check the passwords; the limits are typed.
    let store = db.store().await;
    let alice = store.credentials("alice").await.unwrap().unwrap();
    assert!(orgwatch_web::password::verify(secret, &alice.password_hash));
    assert_eq!(alice.user.role, Role::Viewer);
    assert_eq!(
        alice.user.access,
        Access::Limited(Limits {
            accounts: vec![orgwatch_model::AccountId::parse("123456789012").unwrap()],
            ous: vec![],
            environments: vec!["PRODUCTION".to_owned()],
        })
    );
    let carol = store.credentials("carol").await.unwrap().unwrap();
    assert!(orgwatch_web::password::verify(
        &generated,
        &carol.password_hash
    ));
    assert_eq!(carol.user.access, Access::All);

    let err = refused(&users(
        &db,
        &["passwd", "alice", "--password-stdin"],
        "short\n",
    ));
    assert!(err.contains("shorter than 12 characters"), "{err}");
    ok(&users(
        &db,
        &["passwd", "alice", "--password-stdin"],
        "another long password\n",
    ));
    let alice = store.credentials("alice").await.unwrap().unwrap();
    assert!(orgwatch_web::password::verify(
        "another long password",
        &alice.password_hash
    ));
    assert!(!orgwatch_web::password::verify(
        secret,
        &alice.password_hash
    ));

    assert_eq!(ok(&users(&db, &["remove", "carol"], "")), "removed carol\n");
    let err = refused(&users(&db, &["remove", "carol"], ""));
    assert!(err.contains("there is no user carol"), "{err}");
    assert!(store.credentials("carol").await.unwrap().is_none());
    assert_eq!(store.user_count().await.unwrap(), 1);
    store.close().await;
}

on_both_backends!(users_are_added_granted_listed_and_removed);

/// Runs `orgwatch tokens ARGS` on `db`.
fn tokens(db: &TestDb, args: &[&str]) -> Output {
    orgwatch!()
        .args(["--database-url", &db.url, "tokens"])
        .args(args)
        .output()
        .unwrap()
}

/// `GET path` of the web app on `store` with `Authorization: Bearer token`: the status.
async fn bearer_status(store: &orgwatch_store::Store, path: &str, token: &str) -> u16 {
    use tower::ServiceExt;
    let app = orgwatch_web::router(orgwatch_web::AppState::new(
        store.clone(),
        orgwatch_web::WebConfig::default(),
        orgwatch_web::system_clock(),
    ));
    let req = axum::http::Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.oneshot(req).await.unwrap().status().as_u16()
}

async fn tokens_are_created_listed_and_revoked(backend: Backend) {
    let db = TestDb::new(backend).await;
    ok(&users(
        &db,
        &["add", "alice", "--account", "123456789012"],
        "",
    ));
    let err = refused(&tokens(&db, &["create", "nobody", "--name", "ci"]));
    assert!(err.contains("there is no user nobody"), "{err}");
    let err = refused(&tokens(&db, &["create", "alice", "--name", " "]));
    assert!(err.contains("a token name has 1 to 64 characters"), "{err}");
    let out = tokens(
        &db,
        &["create", "alice", "--name", "ci", "--expires-in", "0"],
    );
    assert_eq!(out.status.code(), Some(2), "clap refuses 0 days");

    let out = ok(&tokens(
        &db,
        &["create", "alice", "--name", "ci", "--expires-in", "30"],
    ));
    assert!(
        out.starts_with("created token 1 \"ci\" for alice (expires 20"),
        "{out}"
    );
    assert!(
        out.contains("it acts as alice (viewer, sees account 123456789012)"),
        "{out}"
    );
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap()
        .to_owned();
    assert!(token.starts_with("ow_") && token.len() == 67, "{token}");
    let out = ok(&tokens(&db, &["create", "alice", "--name", "grafana"]));
    assert!(out.contains("(never expires)"), "{out}");

    // The store keeps its hash; the token opens the API, as alice.
    let store = db.store().await;
    let listed = store.tokens(Some("alice")).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].prefix, token[..11]);
    let found = store
        .token_user(&orgwatch_web::tokens::hash(&token), orgwatch::serve::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user.name, "alice");
    assert_eq!(bearer_status(&store, "/api/overview", &token).await, 200);

    // Listed, never shown again.
    let list = ok(&tokens(&db, &["list"]));
    assert!(!list.contains(&token[11..]), "{list}");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].trim_start().starts_with("ID USER"), "{list}");
    let cols: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        &cols[..5],
        ["1", "alice", "ci", &token[..11], "live"],
        "{list}"
    );
    assert!(cols[6].starts_with("20"), "used by the call above: {list}");
    let unused: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(
        (unused[2], unused[6]),
        ("grafana", "-"),
        "never used: {list}"
    );
    assert_eq!(ok(&tokens(&db, &["list", "alice"])), list);
    let err = refused(&tokens(&db, &["list", "nobody"]));
    assert!(err.contains("there is no user nobody"), "{err}");

    // Revoked: refused by the API, listed as revoked; twice, or unknown, is an error.
    assert_eq!(
        ok(&tokens(&db, &["revoke", "1"])),
        "revoked token 1: it opens nothing from now on\n"
    );
    assert_eq!(bearer_status(&store, "/api/overview", &token).await, 401);
    let err = refused(&tokens(&db, &["revoke", "1"]));
    assert!(err.contains("token 1 was revoked already, at 20"), "{err}");
    let err = refused(&tokens(&db, &["revoke", "99"]));
    assert!(err.contains("there is no token 99"), "{err}");
    let list = ok(&tokens(&db, &["list"]));
    let cols: Vec<&str> = list.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(cols[4], "revoked", "{list}");
    assert!(cols[8].starts_with("20"), "a revocation time: {list}");
    store.close().await;
}

on_both_backends!(tokens_are_created_listed_and_revoked);
