//! The few database operations the loaders need, implemented once per backend.
//!
//! SQL is written once with `?` placeholders; the PostgreSQL side numbers them (`$1`, `$2`, …).
//! Values are always bound (or COPY-encoded), never spliced into SQL text; table and column
//! names come only from `'static` strings in this crate.

use crate::value::{Batch, Rows, Val};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{FromRow, PgConnection, Postgres, SqliteConnection};
use std::borrow::Cow;
use std::ops::Range;

/// Most bound parameters per statement: SQLite allows 32766 (PostgreSQL 65535); stay below.
pub(crate) const MAX_PARAMS: usize = 30_000;

/// Most values per multi-row INSERT on SQLite. A prepared statement takes memory in
/// proportion (about 100 bytes a value) and every connection keeps its own, so statements of
/// 30,000 values held tens of megabytes across the pool; 3,000 store as fast
/// (bench/activity).
const SQLITE_ROWS_PARAMS: usize = 3_000;

/// A row type both backends decode: a tuple, or a struct deriving `sqlx::FromRow`. Reads are
/// typed: a value of the wrong type is an error, never a default.
pub(crate) trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A connection (or transaction) the loaders and read models go through.
pub(crate) trait Conn: Send {
    /// Runs a statement; returns the number of rows it affected.
    async fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, sqlx::Error>;
    /// The first column of the first row as an integer, if there is a row.
    async fn fetch_i64(&mut self, sql: &str, args: &[Val]) -> Result<Option<i64>, sqlx::Error> {
        Ok(self
            .fetch_optional::<(i64,)>(sql, args)
            .await?
            .map(|(v,)| v))
    }
    /// All rows, each decoded as a `T`.
    async fn fetch_all<T: Record>(
        &mut self,
        sql: &str,
        args: &[Val],
    ) -> Result<Vec<T>, sqlx::Error>;
    /// The first row, if any, decoded as a `T` (for queries of one row at most).
    async fn fetch_optional<T: Record>(
        &mut self,
        sql: &str,
        args: &[Val],
    ) -> Result<Option<T>, sqlx::Error> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }
    /// Takes `n` fresh ids of `table` from its sequence before inserting, where the backend has
    /// sequences (PostgreSQL); `None` elsewhere (SQLite), where ids come from `RETURNING`.
    async fn reserve_ids(
        &mut self,
        table: &'static str,
        n: usize,
    ) -> Result<Option<Vec<i64>>, sqlx::Error>;
    /// Writes a whole batch with as few round trips as the backend allows.
    async fn bulk(&mut self, batch: &Batch) -> Result<u64, sqlx::Error>;
    /// Inserts rows with `INSERT INTO t (…) … {tail}`, `tail` being an `ON CONFLICT` clause
    /// and `RETURNING`: the rows returned, each decoded as a `T`. On
    /// PostgreSQL the rows are COPYed into a session temporary table first, then inserted
    /// with one `INSERT … SELECT`; rows should be sorted by key so that concurrent writers
    /// lock rows in the same order.
    async fn insert_with<T: Record>(
        &mut self,
        rows: &impl Rows,
        tail: &str,
    ) -> Result<Vec<T>, sqlx::Error>;
    /// As [`Conn::insert_with`] without `RETURNING`: the number of rows inserted (or updated).
    /// Cheaper when only the count matters: no row comes back.
    async fn insert_count(&mut self, rows: &impl Rows, tail: &str) -> Result<u64, sqlx::Error>;
    /// Writes a batch with one INSERT statement per row: the A360 receiver's approach, kept only
    /// as the benchmark baseline.
    async fn row_by_row(&mut self, batch: &Batch) -> Result<u64, sqlx::Error> {
        let sql = insert_sql(batch.table, &batch.columns, 1);
        for row in &batch.rows {
            self.exec(&sql, row).await?;
        }
        Ok(batch.rows.len() as u64)
    }
}

/// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?) …` for `rows` rows.
pub(crate) fn insert_sql(table: &str, columns: &[&str], rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        vec![one.as_str(); rows].join(", ")
    )
}

/// Rewrites `?` placeholders to `$1`, `$2`, …, casting JSON arguments to JSONB.
///
/// A NULL argument becomes the literal `NULL` (and is not bound): a bound NULL carries a
/// parameter type, and PostgreSQL will not assign a text-typed NULL to a timestamptz column.
pub(crate) fn pg_sql(sql: &str, args: &[Val]) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut arg = 0;
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            let value = args.get(arg);
            arg += 1;
            if matches!(value, Some(Val::Null)) {
                out.push_str("NULL");
                continue;
            }
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
            if matches!(value, Some(Val::Json(_))) {
                out.push_str("::jsonb");
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// The query of `sql` (numbered by [`pg_sql`]) with `args` bound.
fn pg_query<'q>(sql: &'q str, args: &'q [Val]) -> Query<'q, Postgres, PgArguments> {
    pg_args(args).fold(sqlx::query(sql), bind_pg)
}

/// The arguments PostgreSQL binds: all but the NULLs written as literals by [`pg_sql`].
fn pg_args(args: &[Val]) -> impl Iterator<Item = &Val> {
    args.iter().filter(|a| !matches!(a, Val::Null))
}

fn bind_pg<'q>(
    q: Query<'q, Postgres, PgArguments>,
    v: &'q Val,
) -> Query<'q, Postgres, PgArguments> {
    match v {
        Val::Null => unreachable!("pg_sql writes NULL as a literal"),
        Val::Text(s) | Val::Json(s) => q.bind(s.as_str()),
        Val::Int(i) => q.bind(*i),
        Val::Real(f) => q.bind(*f),
        Val::Bool(b) => q.bind(*b),
        Val::Date(d) => q.bind(*d),
        Val::Ts(t) => q.bind(t.get()),
        Val::Bytes(b) => q.bind(b.as_slice()),
    }
}

/// Appends one value in PostgreSQL's COPY text format.
fn copy_encode(out: &mut String, v: &Val) {
    use std::fmt::Write;
    match v {
        Val::Null => out.push_str("\\N"),
        Val::Text(s) | Val::Json(s)
            if !s
                .bytes()
                .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r' | 0)) =>
        {
            out.push_str(s);
        }
        Val::Text(s) | Val::Json(s) => {
            for ch in s.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    // PostgreSQL text cannot hold NUL; the A360 documents never need it.
                    '\0' => {}
                    c => out.push(c),
                }
            }
        }
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Real(f) => {
            let _ = write!(out, "{f:?}");
        }
        Val::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Val::Date(d) => {
            let _ = write!(out, "{}", orgwatch_model::Day(*d));
        }
        Val::Ts(t) => out.push_str(&t.to_sortable_string()),
        Val::Bytes(b) => {
            // bytea hex format; the backslash itself is escaped for COPY text.
            out.push_str("\\\\x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

impl Conn for PgConnection {
    async fn reserve_ids(
        &mut self,
        table: &'static str,
        n: usize,
    ) -> Result<Option<Vec<i64>>, sqlx::Error> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
        )
        .bind(table)
        .bind(n as i32)
        .fetch_all(&mut *self)
        .await?;
        Ok(Some(ids))
    }

    async fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, sqlx::Error> {
        let sql = pg_sql(sql, args);
        Ok(pg_query(&sql, args)
            .execute(&mut *self)
            .await?
            .rows_affected())
    }

    async fn fetch_all<T: Record>(
        &mut self,
        sql: &str,
        args: &[Val],
    ) -> Result<Vec<T>, sqlx::Error> {
        let sql = pg_sql(sql, args);
        pg_query(&sql, args)
            .fetch_all(&mut *self)
            .await?
            .iter()
            .map(T::from_row)
            .collect()
    }

    async fn bulk(&mut self, batch: &Batch) -> Result<u64, sqlx::Error> {
        if batch.is_empty() {
            return Ok(0);
        }
        copy_rows(self, batch.table, batch).await
    }

    async fn insert_with<T: Record>(
        &mut self,
        rows: &impl Rows,
        tail: &str,
    ) -> Result<Vec<T>, sqlx::Error> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let sql = stage_rows(self, rows).await?;
        self.fetch_all(&format!("{sql} {tail}"), &[]).await
    }

    async fn insert_count(&mut self, rows: &impl Rows, tail: &str) -> Result<u64, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        let sql = stage_rows(self, rows).await?;
        self.exec(&format!("{sql} {tail}"), &[]).await
    }
}

/// COPYs rows into a session temporary copy of their table; returns the `INSERT … SELECT`
/// (without its tail) that moves them on.
async fn stage_rows(conn: &mut PgConnection, rows: &impl Rows) -> Result<String, sqlx::Error> {
    let table = rows.table();
    let stage = format!("{table}_incoming");
    let columns = rows.columns().join(", ");
    // Session-local, emptied at commit: concurrent writers never see each other's rows.
    conn.exec(
        &format!(
            "CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) \
             ON COMMIT DELETE ROWS"
        ),
        &[],
    )
    .await?;
    conn.exec(&format!("TRUNCATE {stage}"), &[]).await?;
    copy_rows(conn, &stage, rows).await?;
    Ok(format!(
        "INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage}"
    ))
}

/// COPY data sent to the server at a time: the text of a whole batch is not held at once.
const COPY_CHUNK: usize = 1 << 20;

/// COPYs rows into `table` (their own table or a staging copy of it).
async fn copy_rows(
    conn: &mut PgConnection,
    table: &str,
    rows: &impl Rows,
) -> Result<u64, sqlx::Error> {
    let stmt = format!("COPY {table} ({}) FROM STDIN", rows.columns().join(", "));
    let mut copy = conn.copy_in_raw(&stmt).await?;
    let mut buf = String::with_capacity((rows.len() * 128).min(COPY_CHUNK) + 4096);
    for r in 0..rows.len() {
        for (i, v) in rows.row(r).iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            copy_encode(&mut buf, v);
        }
        buf.push('\n');
        if buf.len() >= COPY_CHUNK || r + 1 == rows.len() {
            if let Err(e) = copy.send(buf.as_bytes()).await {
                let _ = copy.abort(e.to_string()).await;
                return Err(e);
            }
            buf.clear();
        }
    }
    copy.finish().await
}

impl Conn for SqliteConnection {
    async fn reserve_ids(
        &mut self,
        _table: &'static str,
        _n: usize,
    ) -> Result<Option<Vec<i64>>, sqlx::Error> {
        Ok(None)
    }

    async fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query_with(sql, sqlite_args(args)?)
            .execute(&mut *self)
            .await?
            .rows_affected())
    }

    async fn fetch_all<T: Record>(
        &mut self,
        sql: &str,
        args: &[Val],
    ) -> Result<Vec<T>, sqlx::Error> {
        sqlx::query_with(sql, sqlite_args(args)?)
            .fetch_all(&mut *self)
            .await?
            .iter()
            .map(T::from_row)
            .collect()
    }

    async fn bulk(&mut self, batch: &Batch) -> Result<u64, sqlx::Error> {
        self.insert_count(batch, "").await
    }

    async fn insert_with<T: Record>(
        &mut self,
        rows: &impl Rows,
        tail: &str,
    ) -> Result<Vec<T>, sqlx::Error> {
        let mut out = Vec::new();
        for (sql, range, keep) in sqlite_statements(rows, tail) {
            for row in sqlx::query_with(&sql, statement_args(rows, range)?)
                .persistent(keep)
                .fetch_all(&mut *self)
                .await?
            {
                out.push(T::from_row(&row)?);
            }
        }
        Ok(out)
    }

    async fn insert_count(&mut self, rows: &impl Rows, tail: &str) -> Result<u64, sqlx::Error> {
        // Each statement's values are made into its arguments while SQLite runs the previous
        // statement on the connection's worker thread: binding a large batch is a fifth of
        // its insert time, and this way only the first statement waits for it.
        let mut statements = sqlite_statements(rows, tail);
        let bind = |next: Option<(String, Range<usize>, bool)>| match next {
            Some((sql, range, keep)) => {
                statement_args(rows, range).map(|args| Some((sql, args, keep)))
            }
            None => Ok(None),
        };
        let mut next = bind(statements.next())?;
        let mut n = 0;
        while let Some((sql, args, keep)) = next.take() {
            let run = sqlx::query_with(&sql, args)
                .persistent(keep)
                .execute(&mut *self);
            // `join` polls `run` first, which hands the statement to the worker.
            let (done, following) =
                futures_util::future::join(run, async { bind(statements.next()) }).await;
            n += done?.rows_affected();
            next = following?;
        }
        Ok(n)
    }
}

/// The arguments SQLite binds for `values`, owned: sqlx copies borrowed text when it hands a
/// statement to the connection's worker, so owning it from the start saves that copy (and
/// lets [`Conn::insert_count`] build them ahead of time).
fn sqlite_args<'a>(
    values: impl IntoIterator<Item = &'a Val>,
) -> Result<SqliteArguments<'static>, sqlx::Error> {
    let mut args = SqliteArguments::default();
    for v in values {
        add_sqlite_arg(&mut args, v.clone())?;
    }
    Ok(args)
}

/// The arguments of one multi-row statement: rows `range` of `rows`, the values of rows made
/// on demand moved in rather than copied.
fn statement_args(
    rows: &impl Rows,
    range: Range<usize>,
) -> Result<SqliteArguments<'static>, sqlx::Error> {
    let mut args = SqliteArguments::default();
    for i in range {
        match rows.row(i) {
            Cow::Borrowed(values) => {
                for v in values {
                    add_sqlite_arg(&mut args, v.clone())?;
                }
            }
            Cow::Owned(values) => {
                for v in values {
                    add_sqlite_arg(&mut args, v)?;
                }
            }
        }
    }
    Ok(args)
}

/// Binds one value; dates and times are stored as sortable text.
fn add_sqlite_arg(args: &mut SqliteArguments<'static>, v: Val) -> Result<(), sqlx::Error> {
    use sqlx::Arguments;
    match v {
        Val::Null => args.add(None::<String>),
        Val::Text(s) | Val::Json(s) => args.add(s),
        Val::Int(i) => args.add(i),
        Val::Real(f) => args.add(f),
        Val::Bool(b) => args.add(b),
        Val::Date(d) => args.add(orgwatch_model::Day(d).to_string()),
        Val::Ts(t) => args.add(t.to_sortable_string()),
        Val::Bytes(b) => args.add(b),
    }
    .map_err(sqlx::Error::Encode)
}

/// Rows as multi-row `INSERT … {tail}` statements of [`SQLITE_ROWS_PARAMS`] values at most,
/// each with its rows and whether to keep it prepared: only full-size statements are (their
/// text repeats). A shorter last statement has a new text almost every batch, and sqlx keeps
/// up to 100 prepared statements per connection.
fn sqlite_statements<'r>(
    rows: &'r impl Rows,
    tail: &'r str,
) -> impl Iterator<Item = (String, Range<usize>, bool)> + 'r {
    let columns = rows.columns();
    let per_stmt = (SQLITE_ROWS_PARAMS / columns.len()).max(1);
    (0..rows.len()).step_by(per_stmt).map(move |start| {
        let end = (start + per_stmt).min(rows.len());
        let sql = insert_sql(rows.table(), columns, end - start);
        let sql = format!("{sql} {tail}").trim_end().to_owned();
        (sql, start..end, end - start == per_stmt)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered_and_json_is_cast() {
        let args = [Val::Int(1), Val::Null, Val::Json("{}".into())];
        assert_eq!(
            pg_sql("INSERT INTO t (a, b, c) VALUES (?, ?, ?)", &args),
            "INSERT INTO t (a, b, c) VALUES ($1, NULL, $2::jsonb)"
        );
        assert_eq!(pg_args(&args).count(), 2);
    }

    #[test]
    fn copy_text_escapes_control_characters() {
        let mut out = String::new();
        copy_encode(&mut out, &Val::Text("a\tb\\c\nd\re\0".into()));
        assert_eq!(out, "a\\tb\\\\c\\nd\\re");
        out.clear();
        copy_encode(&mut out, &Val::Real(1e-5));
        assert_eq!(out, "1e-5");
    }
}
