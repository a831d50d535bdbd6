//! Loading snapshot files into a store and reading its catalogue, as the store's tests do.

use orgwatch_model::{ActivityEvent, SnapshotLocation};
use orgwatch_store::activity::ActivityFile;
use orgwatch_store::{Backend, LoadOutcome, SnapshotInput, Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Loads the document `bytes` as the file `data/{path}` (with its real SHA-256).
pub async fn load(store: &Store, path: &str, bytes: &[u8]) -> Result<LoadOutcome, StoreError> {
    let location = SnapshotLocation::parse(path).unwrap();
    let snapshot = orgwatch_model::read_located(bytes, &location).unwrap();
    let sha = hex::encode(Sha256::digest(bytes));
    let name = format!("data/{path}");
    store
        .load_snapshot(&SnapshotInput {
            location: &location,
            snapshot: &snapshot,
            file_name: &name,
            sha256: &sha,
            bytes: bytes.len() as u64,
        })
        .await
}

/// [`load`], which must load the file (not find it unchanged or superseded).
pub async fn load_new(store: &Store, path: &str, bytes: &[u8]) {
    let outcome = load(store, path, bytes).await.expect("load");
    assert!(
        matches!(outcome, LoadOutcome::Loaded { .. }),
        "{path}: {outcome:?}"
    );
}

/// The tables (`kind` "table") or views ("view") of the schema, sorted, from the backend's
/// catalogue (sqlx's own table left out).
pub async fn relations(store: &Store, kind: &str) -> Vec<String> {
    let sql = match (store.backend(), kind) {
        (Backend::Sqlite, "table") => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
        }
        (Backend::Sqlite, _) => "SELECT name FROM sqlite_master WHERE type = 'view'",
        (Backend::Postgres, "table") => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name NOT LIKE '\\_sqlx%'"
        }
        (Backend::Postgres, _) => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.views \
             WHERE table_schema = current_schema()"
        }
    };
    let mut names: Vec<String> = store
        .raw_query_text(sql, &[])
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    names.sort();
    names
}

/// A table's or view's column names, in order.
pub async fn columns(store: &Store, relation: &str) -> Vec<String> {
    let sql = match store.backend() {
        Backend::Sqlite => "SELECT name FROM pragma_table_info(?) ORDER BY cid",
        Backend::Postgres => {
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND CAST(table_name AS TEXT) = ? \
             ORDER BY ordinal_position"
        }
    };
    store
        .raw_query_text(sql, &[relation])
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

static NO_SKIPS: BTreeMap<String, u64> = BTreeMap::new();

/// A whole file of decoded events to store (its size the event count, nothing skipped).
pub fn activity_file<'a>(path: &'a str, events: &'a [ActivityEvent]) -> ActivityFile<'a> {
    ActivityFile {
        path,
        size: events.len() as u64,
        events,
        undecodable: 0,
        skipped: &NO_SKIPS,
        complete: true,
        offset: Some(0),
    }
}

/// Events over two minutes and two accounts: several principals, APIs and source IPs, one
/// event without a source IP and one without an account.
pub fn mixed_events() -> Vec<ActivityEvent> {
    // Also: an event without a region, refused calls, failed and successful console sign-ins,
    // so that every count of a window (`WindowCounts::by_call`, `denied`, `failed_sign_ins`)
    // has something to compare.
    let mut out = Vec::new();
    for i in 0..40 {
        let mut rec = serde_json::json!({
            "eventID": format!("e{i}"),
            "eventTime": format!("2024-03-01T10:0{}:{:02}Z", i % 2, i),
            "recipientAccountId": if i % 3 == 0 { "111111111111" } else { "222222222222" },
            "awsRegion": if i % 4 == 0 { "eu-west-1" } else { "us-east-1" },
            "eventSource": if i % 5 == 0 { "s3.amazonaws.com" } else { "ec2.amazonaws.com" },
            "eventName": format!("Api{}", i % 3),
            "sourceIPAddress": format!("198.51.100.{}", i % 4),
            "eventType": "AwsApiCall",
            "userIdentity": {"type": "IAMUser", "userName": format!("user{}", i % 5)},
        });
        let obj = rec.as_object_mut().unwrap();
        if i == 7 {
            obj.remove("sourceIPAddress");
        }
        if i == 8 {
            obj.remove("recipientAccountId");
        }
        if i == 9 {
            obj.remove("awsRegion");
        }
        // Refused calls (two of the AccessDenied family, and an error that is not one).
        let code = match i % 11 {
            1 => Some("AccessDenied"),
            4 => Some("Client.UnauthorizedOperation"),
            6 => Some("ThrottlingException"),
            _ => None,
        };
        if let Some(code) = code {
            obj.insert("errorCode".into(), code.into());
        }
        // Console sign-ins: failed (by the response, by an error message, by an error code)
        // and succeeded.
        if i % 10 == 3 || i == 12 || i == 20 || i == 27 {
            obj.insert("eventSource".into(), "signin.amazonaws.com".into());
            obj.insert("eventName".into(), "ConsoleLogin".into());
            obj.insert("eventType".into(), "AwsConsoleSignIn".into());
            let outcome = if i == 33 { "Success" } else { "Failure" };
            obj.insert(
                "responseElements".into(),
                serde_json::json!({ "ConsoleLogin": outcome }),
            );
            if i == 12 {
                obj.remove("responseElements");
                obj.insert("errorMessage".into(), "Failed authentication".into());
            }
            if i == 20 {
                obj.remove("responseElements");
                obj.insert("errorCode".into(), "AccessDenied".into());
            }
        }
        out.push(ActivityEvent::from_cloudtrail(obj).unwrap());
    }
    out
}

/// Stores `events` as two writers would: the first `at` as one file (`mine`), the rest as
/// another (`theirs`); returns the two parts.
pub async fn store_as_two_writers<'e>(
    store: &Store,
    events: &'e [ActivityEvent],
    at: usize,
) -> (&'e [ActivityEvent], &'e [ActivityEvent]) {
    let (mine, theirs) = events.split_at(at);
    store
        .store_activity(&[activity_file("mine", mine)])
        .await
        .unwrap();
    store
        .store_activity(&[activity_file("theirs", theirs)])
        .await
        .unwrap();
    (mine, theirs)
}
