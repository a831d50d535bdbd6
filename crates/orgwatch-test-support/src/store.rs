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
    }
}
