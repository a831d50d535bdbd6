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
