//! The store's error, and how its database errors are classed (bad input, transient, other).

use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

/// A failure of the store.
///
/// Each variant prints its cause once: in its own message, never again as `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no backend orgwatch has.
    #[error(
        "unsupported database URL scheme in {0:?}: use sqlite://PATH or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    /// The SQLite file's directory does not exist (SQLite creates the file, not its folder).
    #[error(
        "cannot open the SQLite database {path}: its directory {dir} does not exist \
         (create it, or choose another --database-url)"
    )]
    MissingDirectory {
        /// The database file.
        path: String,
        /// Its missing directory.
        dir: String,
    },
    /// Could not open or reach the database.
    #[error("cannot connect to the database {url}: {reason}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// What went wrong, with a hint where one helps.
        reason: String,
    },
    /// Applying the schema failed.
    #[error("cannot apply the database migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Query(sqlx::Error),
    /// A stored value cannot be what the schema says it is (e.g. a time out of range).
    #[error("invalid value in the database: {0}")]
    Invalid(String),
    /// Two files of one batch are for the same account, period and granularity.
    #[error("{0} shares its account, period and granularity with another file of the batch")]
    BatchConflict(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Query(e)
    }
}

impl From<orgwatch_model::activity::TimeOutOfRange> for StoreError {
    fn from(e: orgwatch_model::activity::TimeOutOfRange) -> StoreError {
        StoreError::Invalid(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Migrate(e)
    }
}

/// What kind of failure a database error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// The database refused the data itself (a constraint, a value out of range or too big).
    BadInput,
    /// The database gave up on a transaction that may succeed if run again.
    Transient,
    /// Anything else (unreachable, failing, a bug).
    Other,
}

/// Classes a database error by its kind and, where the kind does not say, by its SQLSTATE
/// class (PostgreSQL) or primary result code (SQLite).
pub(crate) fn classify(db: &dyn DatabaseError) -> ErrorClass {
    match db.kind() {
        ErrorKind::UniqueViolation
        | ErrorKind::ForeignKeyViolation
        | ErrorKind::NotNullViolation
        | ErrorKind::CheckViolation => return ErrorClass::BadInput,
        _ => {}
    }
    if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
        let state = pg.code();
        return match state.get(..2) {
            // Class 22: data exception; class 23: integrity constraint violation.
            Some("22" | "23") => ErrorClass::BadInput,
            // Serialization failure, deadlock.
            _ if state == "40001" || state == "40P01" => ErrorClass::Transient,
            _ => ErrorClass::Other,
        };
    }
    if let Some(sqlite) = db.try_downcast_ref::<SqliteError>() {
        // The extended result code; its low byte is the primary one.
        let code = sqlite
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .unwrap_or(0);
        return match code & 0xff {
            // TOOBIG, CONSTRAINT, MISMATCH.
            18..=20 => ErrorClass::BadInput,
            // BUSY, LOCKED.
            5 | 6 => ErrorClass::Transient,
            _ => ErrorClass::Other,
        };
    }
    ErrorClass::Other
}

impl StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Query(sqlx::Error::Database(db)) => classify(db.as_ref()),
            _ => ErrorClass::Other,
        }
    }

    /// True when the database refused the data itself (a constraint, a value out of range),
    /// so the file is at fault and should be quarantined; false when the database is
    /// unreachable or failing, where quarantining a good file would be wrong.
    pub fn is_bad_input(&self) -> bool {
        self.class() == ErrorClass::BadInput
    }

    /// True when the database gave up on a transaction that may succeed if run again
    /// (PostgreSQL deadlock or serialization failure, SQLite busy or locked).
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }
}
