//! Users, scopes and sessions in the store, and the access every read model for the web
//! applies in its SQL, on both backends.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_model::category::organization::Organization;
use orgwatch_model::AccountId;
use orgwatch_store::auth::{AdminChange, NewSession, NewToken, NewUser, Revoked, Role, TokenId};
use orgwatch_store::{Access, Limits, PageFilter, Store};
use orgwatch_test_support::{a360, on_both_backends, store::load_new};

fn viewer<'a>(name: &'a str, access: &'a Access) -> NewUser<'a> {
    NewUser {
        name,
        password_hash: "$argon2id$stand-in",
        role: Role::Viewer,
        access,
        now: 100,
    }
}

fn session(id_hash: &str, user: orgwatch_store::auth::UserId, now: i64) -> NewSession<'_> {
    NewSession {
        id_hash,
        user,
        csrf_token: "token",
        now,
    }
}

async fn users_keep_their_role_and_scope(store: Store) {
    let account = AccountId::parse("123456789012").unwrap();
    let limited = Access::Limited(Limits {
        accounts: vec![account],
        ous: vec!["Security".to_owned()],
        environments: vec!["production".to_owned()],
    });
    let id = store
        .add_user(&viewer("v", &limited))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.add_user(&viewer("v", &Access::All)).await.unwrap(),
        None,
        "taken"
    );
    let v = store.credentials("v").await.unwrap().unwrap();
    assert_eq!((v.user.id, v.user.role), (id, Role::Viewer));
    let Access::Limited(l) = &v.user.access else {
        panic!("{:?}", v.user.access)
    };
    assert_eq!(l.accounts, vec![account]);
    assert_eq!(l.ous, vec!["Security".to_owned()]);
    assert_eq!(
        l.environments,
        vec!["PRODUCTION".to_owned()],
        "stored in capitals"
    );

    // Granting replaces the scope; an admin has none.
    assert!(store
        .grant("v", Role::Viewer, &Access::All, 200)
        .await
        .unwrap());
    assert_eq!(
        store.credentials("v").await.unwrap().unwrap().user.access,
        Access::All
    );
    assert!(store.grant("v", Role::Admin, &limited, 200).await.unwrap());
    let v = store.credentials("v").await.unwrap().unwrap().user;
    assert_eq!((v.role, v.access), (Role::Admin, Access::All));
    assert!(!store
        .grant("nobody", Role::Admin, &Access::All, 200)
        .await
        .unwrap());
    assert_eq!(store.users().await.unwrap().len(), 1);
}

async fn sessions_end_by_age_idleness_password_change_and_removal(store: Store) {
    let id = store
        .add_user(&viewer("v", &Access::All))
        .await
        .unwrap()
        .unwrap();
    store
        .create_session(&session("a", id, 1_000))
        .await
        .unwrap();
    // Alive within both bounds; its user comes with it.
    let s = store.session("a", 999, 999).await.unwrap().unwrap();
    assert_eq!(
        (s.user.name.as_str(), s.csrf_token.as_str()),
        ("v", "token")
    );
    store.touch_session("a", 1_500).await.unwrap();
    assert_eq!(
        store
            .session("a", 0, 0)
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        1_500
    );
    // Past the idle bound it is gone, and deleted: a later, looser look finds nothing.
    assert!(store.session("a", 0, 1_500).await.unwrap().is_none());
    assert!(store.session("a", 0, 0).await.unwrap().is_none());
    // Past the absolute bound likewise.
    store
        .create_session(&session("b", id, 2_000))
        .await
        .unwrap();
    assert!(store.session("b", 2_000, 0).await.unwrap().is_none());
    // Pruning deletes only the expired.
    store
        .create_session(&session("c", id, 3_000))
        .await
        .unwrap();
    store
        .create_session(&session("d", id, 4_000))
        .await
        .unwrap();
    assert_eq!(store.prune_sessions(3_500, 0).await.unwrap(), 1);
    assert!(store.session("d", 0, 0).await.unwrap().is_some());
    // A new password ends every session of the user; so does removal.
    assert!(store
        .set_password("v", "$argon2id$other", 5_000)
        .await
        .unwrap());
    assert!(store.session("d", 0, 0).await.unwrap().is_none());
    store
        .create_session(&session("e", id, 6_000))
        .await
        .unwrap();
    assert!(store.delete_session("e").await.unwrap());
    assert!(!store.delete_session("e").await.unwrap());
    store
        .create_session(&session("f", id, 6_000))
        .await
        .unwrap();
    assert!(store.remove_user("v").await.unwrap());
    assert!(store.session("f", 0, 0).await.unwrap().is_none());
    assert_eq!(store.user_count().await.unwrap(), 0);
}

async fn the_summary_holds_only_what_the_access_sees(store: Store) {
    load_new(&store, a360::DAILY_PATH, a360::DAILY).await;
    let all = store.org_summary(&Access::All).await.unwrap();
    assert_eq!(all.accounts.len(), 1);
    let mine = &all.accounts[0];
    let limits = |l: Limits| Access::Limited(l);
    let account = |s: &str| AccountId::parse(s).unwrap();
    let sees = |summary: orgwatch_store::OrgSummary| {
        summary
            .accounts
            .into_iter()
            .map(|a| a.account_id)
            .collect::<Vec<_>>()
    };
    for (access, want) in [
        (
            limits(Limits {
                accounts: vec![account(&mine.account_id)],
                ..Limits::default()
            }),
            1,
        ),
        (
            limits(Limits {
                accounts: vec![account("999999999999")],
                ..Limits::default()
            }),
            0,
        ),
        (
            limits(Limits {
                environments: vec![mine.environment.to_lowercase()],
                ..Limits::default()
            }),
            1,
        ),
        (
            limits(Limits {
                environments: vec!["NOT-AN-ENV".to_owned()],
                ..Limits::default()
            }),
            0,
        ),
        (
            limits(Limits {
                ous: vec!["Security".to_owned()],
                ..Limits::default()
            }),
            0,
        ),
        (limits(Limits::default()), 0),
    ] {
        let summary = store.org_summary(&access).await.unwrap();
        let seen = sees(summary.clone());
        assert_eq!(seen.len(), want, "{access:?}");
        if want == 0 {
            assert_eq!(
                summary.day, None,
                "{access:?}: not even the other accounts' day"
            );
            assert_eq!(summary.open_findings().total(), 0);
        } else {
            assert_eq!(summary, all, "{access:?}");
        }
    }
}

/// The genuine daily file as account `id`, with the `organization` key `collect
/// --organization` writes (`None`: no key, as the A360 sender writes it).
fn placed(id: &str, ou_path: Option<&str>) -> (String, Vec<u8>) {
    let mut snap = orgwatch_model::Snapshot::from_json(a360::DAILY).unwrap();
    snap.account.account_id = AccountId::parse(id).unwrap();
    snap.organization = ou_path.map(|p| Organization {
        ou_id: (!p.is_empty()).then(|| format!("ou-test-{id}")),
        ou_path: Some(p.to_owned()),
    });
    let path = a360::DAILY_PATH.replace("210987654321", id);
    (path, snap.to_json_pretty())
}

async fn an_ou_limit_sees_exactly_the_accounts_in_it_and_in_its_nested_ous(store: Store) {
    // An OU covers the accounts directly in it and those of every OU below it; paths compare
    // exactly (`SalesOps` is not under `Sales`, `_` and `%` are no wildcards); an account
    // directly under the root, or with no recorded OU, is in none.
    let accounts = [
        ("100000000001", Some("Sales")),
        ("100000000002", Some("Sales/EU")),
        ("100000000003", Some("Sales/EU/Paris")),
        ("100000000004", Some("SalesOps")),
        ("100000000005", Some("")),
        ("100000000006", None),
        ("100000000007", Some("Sec_rity")),
        ("100000000008", Some("sales")),
    ];
    for (id, ou) in accounts {
        let (path, bytes) = placed(id, ou);
        load_new(&store, &path, &bytes).await;
    }
    let ids = |v: &[&str]| -> Vec<String> { v.iter().map(|s| format!("1000000000{s}")).collect() };
    let cases: [(&[&str], Vec<String>); 9] = [
        (&["Sales"], ids(&["01", "02", "03"])),
        (&["Sales/EU"], ids(&["02", "03"])),
        (&["/Sales/EU/"], ids(&["02", "03"])),
        (&["Sales/EU/Paris"], ids(&["03"])),
        (&["Sales/E"], ids(&[])),
        (&["Sec%", "Sec_"], ids(&[])),
        (&["Sec_rity", "SalesOps"], ids(&["04", "07"])),
        (&["sales"], ids(&["08"])),
        (&["", "/"], ids(&[])),
    ];
    for (ous, want) in cases {
        let ous: Vec<String> = ous.iter().map(|o| (*o).to_owned()).collect();
        let access = Access::Limited(Limits {
            ous: ous.clone(),
            ..Limits::default()
        });
        let mut seen: Vec<String> = store
            .org_summary(&access)
            .await
            .unwrap()
            .accounts
            .into_iter()
            .map(|a| a.account_id)
            .collect();
        seen.sort();
        assert_eq!(seen, want, "viewer limited to {ous:?}");
        // The pages' `ou=` filter narrows the same way, within what the caller sees.
        let filter = PageFilter {
            ous: ous.clone(),
            ..PageFilter::default()
        };
        let mut shown: Vec<String> = store
            .inventory_report(&Access::All, &filter)
            .await
            .unwrap()
            .accounts
            .into_iter()
            .map(|a| a.account_id.as_str().to_owned())
            .collect();
        shown.sort();
        assert_eq!(shown, want, "ou={ous:?}");
    }
    // A limit and a filter together: the union of the limits, narrowed by the filter.
    let access = Access::Limited(Limits {
        ous: vec!["Sales".to_owned()],
        accounts: vec![AccountId::parse("100000000004").unwrap()],
        ..Limits::default()
    });
    let filter = PageFilter {
        ous: vec!["Sales/EU".to_owned(), "SalesOps".to_owned()],
        ..PageFilter::default()
    };
    let mut shown: Vec<String> = store
        .inventory_report(&access, &filter)
        .await
        .unwrap()
        .accounts
        .into_iter()
        .map(|a| a.account_id.as_str().to_owned())
        .collect();
    shown.sort();
    assert_eq!(shown, ids(&["02", "03", "04"]));

    // A later file without an OU (the A360 sender's) keeps the recorded path; one of
    // `collect --organization` after a move replaces it.
    let mut later = orgwatch_model::Snapshot::from_json(&placed("100000000002", None).1).unwrap();
    later.account.account_name = Some("renamed".to_owned());
    let path = "100000000002/us-east-1/2026-11-25_DAILY.json";
    load_new(&store, path, &later.to_json_pretty()).await;
    let in_eu = Access::Limited(Limits {
        ous: vec!["Sales/EU".to_owned()],
        ..Limits::default()
    });
    let seen = |s: orgwatch_store::OrgSummary| -> Vec<String> {
        let mut v: Vec<String> = s.accounts.into_iter().map(|a| a.account_id).collect();
        v.sort();
        v
    };
    assert_eq!(
        seen(store.org_summary(&in_eu).await.unwrap()),
        ids(&["02", "03"])
    );
    let (_, moved) = placed("100000000002", Some("Marketing"));
    let mut moved = orgwatch_model::Snapshot::from_json(&moved).unwrap();
    moved.account.account_name = Some("moved".to_owned());
    let path = "100000000002/us-east-1/2026-11-26_DAILY.json";
    load_new(&store, path, &moved.to_json_pretty()).await;
    assert_eq!(seen(store.org_summary(&in_eu).await.unwrap()), ids(&["03"]));
}

on_both_backends!(store:
    users_keep_their_role_and_scope,
    sessions_end_by_age_idleness_password_change_and_removal,
    the_summary_holds_only_what_the_access_sees,
    an_ou_limit_sees_exactly_the_accounts_in_it_and_in_its_nested_ous,
);

fn token<'a>(user: orgwatch_store::auth::UserId, name: &'a str, hash: &'a str) -> NewToken<'a> {
    NewToken {
        user,
        name,
        prefix: "ow_0123abcd",
        token_hash: hash,
        now: 1_000,
        expires_at: None,
    }
}

async fn tokens_act_as_their_user_until_revoked_expired_or_removed(store: Store) {
    let a = AccountId::parse("111111111111").unwrap();
    let b = AccountId::parse("222222222222").unwrap();
    let only = |acc| {
        Access::Limited(Limits {
            accounts: vec![acc],
            ..Limits::default()
        })
    };
    let v = store
        .add_user(&viewer("v", &only(a)))
        .await
        .unwrap()
        .unwrap();
    let w = store
        .add_user(&viewer("w", &Access::All))
        .await
        .unwrap()
        .unwrap();
    let t1 = store.create_token(&token(v, "ci", "h1")).await.unwrap();
    let t2 = store
        .create_token(&NewToken {
            expires_at: Some(2_000),
            ..token(v, "short", "h2")
        })
        .await
        .unwrap();
    let t3 = store
        .create_token(&token(w, "grafana", "h3"))
        .await
        .unwrap();
    assert!(t1 < t2 && t2 < t3, "ids in order of creation");

    // A token is its user, with the scope stored now: narrowing the grant narrows it.
    let found = store.token_user("h1", 1_500).await.unwrap().unwrap();
    assert_eq!((found.token, found.user.id), (t1, v));
    assert_eq!(found.user.access, only(a));
    assert_eq!(found.last_used_at, None);
    assert!(store
        .grant("v", Role::Viewer, &only(b), 1_600)
        .await
        .unwrap());
    let found = store.token_user("h1", 1_700).await.unwrap().unwrap();
    assert_eq!(found.user.access, only(b));
    assert!(store
        .token_user("no such hash", 1_700)
        .await
        .unwrap()
        .is_none());

    // Expiry: live up to the second before it.
    assert!(store.token_user("h2", 1_999).await.unwrap().is_some());
    assert!(store.token_user("h2", 2_000).await.unwrap().is_none());

    // Uses are recorded forward only.
    store.touch_token(t1, 1_800).await.unwrap();
    store.touch_token(t1, 1_790).await.unwrap();
    let listed = store.tokens(Some("v")).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![t1, t2]
    );
    assert_eq!(listed[0].last_used_at, Some(1_800));
    assert_eq!(
        (
            listed[0].name.as_str(),
            listed[0].prefix.as_str(),
            listed[0].user_name.as_str()
        ),
        ("ci", "ow_0123abcd", "v")
    );
    assert!(listed[0].is_live(1_800));
    assert!(!listed[1].is_live(2_000), "expired");
    let all = store.tokens(None).await.unwrap();
    assert_eq!(
        all.iter().map(|t| t.user_name.as_str()).collect::<Vec<_>>(),
        vec!["v", "v", "w"]
    );
    assert!(store.tokens(Some("nobody")).await.unwrap().is_empty());

    // Revoked: kept and listed with its time, opening nothing.
    assert_eq!(store.revoke_token(t1, 1_900).await.unwrap(), Revoked::Now);
    assert_eq!(
        store.revoke_token(t1, 1_950).await.unwrap(),
        Revoked::Already(1_900)
    );
    assert_eq!(
        store.revoke_token(TokenId(999_999), 1_950).await.unwrap(),
        Revoked::NoSuchToken
    );
    assert!(store.token_user("h1", 1_901).await.unwrap().is_none());
    let revoked = store.token(t1).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(1_900));
    assert!(!revoked.is_live(1_901));

    // Removing a user removes their tokens.
    assert!(store.token_user("h3", 1_000).await.unwrap().is_some());
    assert!(store.remove_user("w").await.unwrap());
    assert!(store.token_user("h3", 1_000).await.unwrap().is_none());
    assert!(store.token(t3).await.unwrap().is_none());
    assert_eq!(store.tokens(None).await.unwrap().len(), 2);
}

async fn the_last_admin_is_neither_removed_nor_demoted(store: Store) {
    let admin = |name| NewUser {
        role: Role::Admin,
        ..viewer(name, &Access::All)
    };
    store.add_user(&admin("a")).await.unwrap().unwrap();
    store.add_user(&admin("b")).await.unwrap().unwrap();
    store
        .add_user(&viewer("v", &Access::All))
        .await
        .unwrap()
        .unwrap();
    let limited = Access::Limited(Limits {
        accounts: vec![AccountId::parse("111111111111").unwrap()],
        ..Limits::default()
    });
    // With two admins, one may go.
    assert_eq!(
        store
            .grant_keeping_an_admin("a", Role::Viewer, &limited, 300)
            .await
            .unwrap(),
        AdminChange::Done
    );
    let a = store.credentials("a").await.unwrap().unwrap().user;
    assert_eq!((a.role, a.access), (Role::Viewer, limited.clone()));
    // Then b is the last: neither demoted nor removed, and unchanged.
    for change in [
        store
            .grant_keeping_an_admin("b", Role::Viewer, &Access::All, 300)
            .await
            .unwrap(),
        store.remove_user_keeping_an_admin("b").await.unwrap(),
    ] {
        assert_eq!(change, AdminChange::LastAdmin);
    }
    assert_eq!(
        store.credentials("b").await.unwrap().unwrap().user.role,
        Role::Admin
    );
    // Regranting the last admin as admin, and changing viewers, is fine.
    assert_eq!(
        store
            .grant_keeping_an_admin("b", Role::Admin, &Access::All, 300)
            .await
            .unwrap(),
        AdminChange::Done
    );
    assert_eq!(
        store.remove_user_keeping_an_admin("v").await.unwrap(),
        AdminChange::Done
    );
    assert_eq!(
        store.remove_user_keeping_an_admin("v").await.unwrap(),
        AdminChange::NoSuchUser
    );
    assert_eq!(
        store
            .grant_keeping_an_admin("nobody", Role::Admin, &Access::All, 300)
            .await
            .unwrap(),
        AdminChange::NoSuchUser
    );
    // A promoted viewer makes the old admin removable.
    assert_eq!(
        store
            .grant_keeping_an_admin("a", Role::Admin, &Access::All, 400)
            .await
            .unwrap(),
        AdminChange::Done
    );
    assert_eq!(
        store.remove_user_keeping_an_admin("b").await.unwrap(),
        AdminChange::Done
    );
    let names: Vec<String> = store
        .user_summaries()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.user.name)
        .collect();
    assert_eq!(names, vec!["a".to_owned()]);
}

async fn a_login_is_recorded_as_the_users_last(store: Store) {
    let id = store
        .add_user(&viewer("v", &Access::All))
        .await
        .unwrap()
        .unwrap();
    let before = store.user_summaries().await.unwrap();
    assert_eq!((before[0].created_at, before[0].last_login_at), (100, None));
    store
        .create_session(&session("s1", id, 5_000))
        .await
        .unwrap();
    store
        .create_session(&session("s2", id, 6_000))
        .await
        .unwrap();
    let after = store.user_summaries().await.unwrap();
    assert_eq!(after[0].last_login_at, Some(6_000));
}

on_both_backends!(store:
    tokens_act_as_their_user_until_revoked_expired_or_removed,
    the_last_admin_is_neither_removed_nor_demoted,
    a_login_is_recorded_as_the_users_last,
);
