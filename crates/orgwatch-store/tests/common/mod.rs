//! Shared by the store's integration tests.

/// Runs each named async test body (`async fn name(store: Store)`) twice: on a fresh SQLite
/// database and on a fresh PostgreSQL database (`DATABASE_URL`), each migrated by sqlx::test.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
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
}
