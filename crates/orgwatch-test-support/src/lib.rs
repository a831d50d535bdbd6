//! Test plumbing shared by orgwatch's test suites, so that each suite holds only its tests:
//!
//! - [`on_both_backends!`] runs each test body on SQLite and on PostgreSQL;
//! - [`TestDb`] is a throwaway database on either [`Backend`];
//! - [`orgwatch!`] runs the binary of the calling test crate ([`cli`]);
//! - [`a360`] and [`cloudtrail`] read the samples in `testdata/`;
//! - [`fs`] builds and lists directory fixtures;
//! - [`http`] speaks plain HTTP/1.1 to a running `serve` and logs in through its form;
//! - [`moto`] runs an AWS API emulator (moto_server) for a test;
//! - [`oidc`] runs an OpenID provider (the npm `oidc-provider`) for a test, and signs users in
//!   at it;
//! - [`store`] loads snapshot files and reads the schema's catalogue.
//!
//! PostgreSQL comes from `DATABASE_URL` (or `ORGWATCH_TEST_POSTGRES_URL`), as `scripts/test`
//! provides.
#![deny(missing_docs)]
// A helper that cannot do its job fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod a360;
pub mod cli;
pub mod cloudtrail;
mod db;
pub mod fs;
pub mod history;
pub mod http;
pub mod moto;
pub mod oidc;
pub mod store;

pub use db::{postgres_admin_url, TestDb};
pub use orgwatch_store::Backend;

use std::path::PathBuf;

/// The repository's `testdata` directory.
pub fn testdata() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata"))
}

/// Runs each named async test body twice, once per backend, as `NAME::sqlite` and
/// `NAME::postgres`.
///
/// - `on_both_backends!(store: a, b)`: bodies are `async fn a(store: Store)`, given a fresh
///   database migrated by `sqlx::test` (the calling crate depends on `sqlx` and
///   `orgwatch-store`).
/// - `on_both_backends!(a, b)`: bodies are `async fn a(backend: Backend)` and make their own
///   [`TestDb`] (the calling crate depends on `tokio`).
#[macro_export]
macro_rules! on_both_backends {
    (store: $($name:ident),* $(,)?) => {$(
        mod $name {
            #[sqlx::test(migrator = "orgwatch_store::SQLITE_MIGRATOR")]
            async fn sqlite(pool: sqlx::SqlitePool) {
                super::$name(orgwatch_store::Store::from_sqlite(pool)).await
            }
            #[sqlx::test(migrator = "orgwatch_store::POSTGRES_MIGRATOR")]
            async fn postgres(pool: sqlx::PgPool) {
                super::$name(orgwatch_store::Store::from_postgres(pool)).await
            }
        }
    )*};
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )*};
}
