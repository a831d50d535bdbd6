//! The database connection: the pool of either backend, the one place that dispatches on it
//! ([`on_pool!`]), opening a URL with errors a user can act on, and the retry of transient
//! failures.

use crate::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgPool, SqlitePool, TransactionManager};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

/// Which database a [`Store`](crate::Store) talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL (or Aurora PostgreSQL).
    Postgres,
}

impl Backend {
    /// The statement that starts a write transaction. On SQLite, `BEGIN IMMEDIATE`: a
    /// deferred transaction that reads before it writes fails at once ("database is locked",
    /// no waiting) when another connection committed in between; an immediate one takes the
    /// write lock first and waits for it.
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// The statement that starts a read of several queries that must see one snapshot.
    pub(crate) fn begin_snapshot_read(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        }
    }

    /// The two-argument minimum and maximum functions (`MIN`/`MAX` on SQLite).
    pub(crate) fn least_greatest(self) -> (&'static str, &'static str) {
        match self {
            Backend::Sqlite => ("MIN", "MAX"),
            Backend::Postgres => ("LEAST", "GREATEST"),
        }
    }
}

/// A pool of connections to one backend.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's pool (a `SqlitePool` or a `PgPool`) and
/// `$backend` to its [`Backend`]: the one backend dispatch of the crate. The body is
/// written once and compiled for each backend; it takes a connection (`$pool.acquire()`)
/// or a transaction (`$pool.begin_with($backend.begin_write())`) and calls functions
/// generic over [`Conn`](crate::conn::Conn).
macro_rules! on_pool {
    ($store:expr, |$pool:ident, $backend:ident| $body:expr) => {
        match &$store.pool {
            $crate::db::Pool::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $backend = $crate::Backend::Sqlite;
                $body
            }
            $crate::db::Pool::Postgres($pool) => {
                #[allow(unused_variables)]
                let $backend = $crate::Backend::Postgres;
                $body
            }
        }
    };
}
pub(crate) use on_pool;

/// How long opening a PostgreSQL connection may take before it is reported as failed
/// (sqlx's pool would retry a refused connection until its 30-second acquire timeout and
/// then say only "pool timed out").
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the pool named by `url`; see [`Store::connect`](crate::Store::connect).
pub(crate) async fn open(url: &str) -> Result<Pool, StoreError> {
    if url.starts_with("sqlite:") {
        open_sqlite(url).await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        open_postgres(url).await
    } else {
        Err(StoreError::UnsupportedUrl(crate::redact(url)))
    }
}

fn connect_error(url: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Connect {
        url: crate::redact(url),
        reason: reason.to_string(),
    }
}

async fn open_sqlite(url: &str) -> Result<Pool, StoreError> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| connect_error(url, e))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
        // 2 MiB of page cache per connection (SQLite's default): more stored activity a
        // little faster but a long activity run must stay under 256 MiB
        // (bench/activity --memory).
        .pragma("cache_size", "-2048")
        // Statement journals and large sorts in temporary files (the page cache holds what
        // is hot), not in process memory.
        .pragma("temp_store", "file")
        // Checkpoint the WAL every 64k pages (256 MiB) rather than 1k: a page rewritten by
        // many batches is copied into the database once (bench/activity).
        .pragma("wal_autocheckpoint", "65536");
    let memory = url.contains(":memory:");
    if !memory {
        let path = opts.get_filename();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(StoreError::MissingDirectory {
                    path: path.display().to_string(),
                    dir: dir.display().to_string(),
                });
            }
        }
    }
    // One connection per in-memory database, or each would see an empty one. A file has
    // one writer at a time (WAL), so two connections let reads go on beside it; each holds
    // its page cache, prepared statements and worker thread (bench/activity).
    let pool = SqlitePoolOptions::new()
        .max_connections(if memory { 1 } else { 2 })
        .after_release(|conn, _| {
            Box::pin(async move {
                // A request cancelled when its client went away can leave its connection in a
                // transaction: dropped unfinished, its ROLLBACK is only queued on the
                // connection's worker; cancelled inside `begin_with`, its BEGIN may still run
                // after the connection came back. The next `begin_with` on it would fail
                // ("non-zero transaction depth"). A round trip runs what is queued; a
                // transaction still open then is rolled back, so no request inherits it.
                conn.ping().await?;
                if conn.is_in_transaction() {
                    <sqlx::Sqlite as sqlx::Database>::TransactionManager::start_rollback(conn);
                    conn.ping().await?;
                }
                Ok(!conn.is_in_transaction())
            })
        })
        .connect_with(opts)
        .await
        .map_err(|e| connect_error(url, e))?;
    Ok(Pool::Sqlite(pool))
}

async fn open_postgres(url: &str) -> Result<Pool, StoreError> {
    let opts = PgConnectOptions::from_str(url).map_err(|e| connect_error(url, e))?;
    // One connection first, so that a refused or failing connection is reported as itself
    // at once rather than as a pool timeout after 30 seconds.
    match tokio::time::timeout(CONNECT_TIMEOUT, opts.connect()).await {
        Ok(Ok(conn)) => drop(conn),
        Ok(Err(e)) => return Err(connect_error(url, postgres_reason(&e))),
        Err(_) => {
            return Err(connect_error(
                url,
                format!(
                    "no answer within {} s (is the host reachable?)",
                    CONNECT_TIMEOUT.as_secs()
                ),
            ))
        }
    }
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(opts)
        .await
        .map_err(|e| connect_error(url, e))?;
    Ok(Pool::Postgres(pool))
}

/// The reason a PostgreSQL connection failed, with a hint for the usual ones.
fn postgres_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is PostgreSQL running and listening on that host and port?)"
                .to_owned()
        }
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// Runs `op` again while it fails with an error `retryable` accepts, at most `attempts`
/// times in all, waiting `base` times the attempt number in between: the one retry loop of
/// the store (and of its callers, who reach it through
/// [`Store::retry_transient`](crate::Store::retry_transient)).
pub(crate) async fn retry<T, E, F, Fut>(
    attempts: u32,
    base: Duration,
    retryable: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if attempt < attempts && retryable(&e) => {
                tokio::time::sleep(base * attempt).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Retries an operation whose `n`th call returns `results(n)`; gives its outcome and
    /// how many calls it took.
    async fn calls(
        attempts: u32,
        results: impl Fn(u32) -> Result<u32, u32>,
    ) -> (Result<u32, u32>, u32) {
        let mut n = 0;
        let out = retry(
            attempts,
            Duration::ZERO,
            |e: &u32| *e < 10,
            || {
                n += 1;
                std::future::ready(results(n))
            },
        )
        .await;
        (out, n)
    }

    #[tokio::test]
    async fn retry_stops_at_success_or_a_final_error() {
        let until_third = |n| if n < 3 { Err(n) } else { Ok(n) };
        assert_eq!(calls(5, until_third).await, (Ok(3), 3));
        assert_eq!(
            calls(5, |_| Err(10)).await,
            (Err(10), 1),
            "a final error is not retried"
        );
        assert_eq!(
            calls(3, |_| Err(1)).await,
            (Err(1), 3),
            "at most `attempts` calls"
        );
    }

    #[tokio::test]
    async fn a_sqlite_file_in_a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nope/db.sqlite", dir.path().display());
        let Err(e) = open(&url).await else {
            panic!("opened a database in a missing directory")
        };
        let msg = e.to_string();
        assert!(matches!(e, StoreError::MissingDirectory { .. }), "{msg}");
        assert!(
            msg.contains("nope") && msg.contains("does not exist"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn a_closed_postgres_port_is_refused_at_once() {
        // Bind and drop a listener: its port is closed now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://u:secret@127.0.0.1:{port}/db");
        let started = std::time::Instant::now();
        let Err(e) = open(&url).await else {
            panic!("connected to a closed port")
        };
        let msg = e.to_string();
        assert!(msg.contains("connection refused"), "{msg}");
        assert!(!msg.contains("secret"), "the password leaked: {msg}");
        assert_eq!(msg.matches("refused").count(), 1, "said twice: {msg}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }
}
