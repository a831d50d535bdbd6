//! What the pages of figures and tables share: sorting their tables by the query, answering
//! their API as JSON or as one table's CSV, and (Compliance and the pages after it) one
//! template.

use crate::query::PageQuery;
use crate::table::Table;
use crate::WebError;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

/// Why a month over month change is not shown: the account-days loaded (`(loaded, of)`) of
/// the month to date and of the same days of last month, and where the reader finds which
/// are missing (`see`).
pub(crate) fn not_compared(now: (u32, u32), before: (u32, u32), see: &str) -> String {
    format!(
        "Not compared: days are missing (month to date {} of {} account-days loaded, the same \
         days of last month {} of {}); {see}",
        now.0, now.1, before.0, before.1
    )
}

/// Sorts the table the query's `sort=` names; an unknown table or column is a 400.
pub(crate) fn sort(tables: &mut [Table], q: &PageQuery) -> Result<(), WebError> {
    let Some((table, column, desc)) = &q.sort else {
        return Ok(());
    };
    let ids = tables_ids_of(tables);
    let t = tables
        .iter_mut()
        .find(|t| t.id == table)
        .ok_or_else(|| unknown_table(table, ids))?;
    if !t.sort(column, *desc) {
        let keys: Vec<&str> = t.columns.iter().map(|c| c.key).collect();
        return Err(WebError::BadRequest(format!(
            "sort={table}.{column}: table {table} has the columns {}",
            keys.join(", ")
        )));
    }
    Ok(())
}

fn tables_ids_of(tables: &[Table]) -> String {
    tables.iter().map(|t| t.id).collect::<Vec<_>>().join(", ")
}

fn unknown_table(table: &str, ids: String) -> WebError {
    WebError::BadRequest(format!("table={table:?}: the tables are {ids}"))
}

/// Rows per table in one JSON answer when the query gives no `limit`.
pub const DEFAULT_LIMIT: usize = 500;
/// The largest `limit` a JSON answer takes.
pub const MAX_LIMIT: usize = 5000;

/// Where a page of one table's rows starts: what `next_cursor` encodes. Opaque to clients
/// (base64url of `v1`, the API, the table, the position, a digest of the query's filter
/// and sort, and a digest of the table's rows), so a cursor of another API, table, filter
/// or sort is a 400 and one of a table that changed since is a 409.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TableCursor {
    page: String,
    table: String,
    offset: usize,
    query: String,
    rows: String,
}

impl TableCursor {
    fn encode(&self) -> String {
        use base64::Engine;
        let raw = format!(
            "v1\n{}\n{}\n{}\n{}\n{}",
            self.page, self.table, self.offset, self.query, self.rows
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    fn decode(s: &str) -> Option<TableCursor> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('\n');
        if parts.next()? != "v1" {
            return None;
        }
        let cursor = TableCursor {
            page: parts.next()?.to_owned(),
            table: parts.next()?.to_owned(),
            offset: parts.next()?.parse().ok()?,
            query: parts.next()?.to_owned(),
            rows: parts.next()?.to_owned(),
        };
        parts.next().is_none().then_some(cursor)
    }
}

/// The digest of what orders and selects a table's rows: the API, the table, the filter and
/// the sort (not `limit`: a client may change its page size between pages).
fn query_digest(page: &str, table: &str, q: &PageQuery) -> String {
    use sha2::{Digest, Sha256};
    let sort = q
        .sort
        .as_ref()
        .map_or_else(String::new, |(t, c, d)| format!("{t}.{c}.{d}"));
    let h = Sha256::digest(format!("{page}\n{table}\n{}\n{sort}", q.filter_query()));
    hex::encode(&h[..8])
}

/// The `limit` of a query: [`DEFAULT_LIMIT`] when absent, else 1 to [`MAX_LIMIT`].
fn limit_of(q: &PageQuery) -> Result<usize, WebError> {
    match q.limit.as_deref() {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| v.parse::<usize>().ok())
            .flatten()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| WebError::BadRequest(format!("limit={v:?}: use 1 to {MAX_LIMIT}"))),
    }
}

/// The tables of a JSON answer, each a page of at most `limit` rows with its
/// `next_cursor` (null on the last page): every table from its first row, or (`table=ID`)
/// that one, or (`cursor=`) the one table the cursor names from where it points.
pub(crate) fn tables_json(
    page: &'static str,
    q: &PageQuery,
    tables: &[Table],
) -> Result<serde_json::Map<String, Value>, WebError> {
    let limit = limit_of(q)?;
    let ids = tables_ids_of(tables);
    let find = |name: &str| {
        tables
            .iter()
            .find(|t| t.id == name)
            .ok_or_else(|| unknown_table(name, ids.clone()))
    };
    let (selected, start): (Vec<&Table>, usize) = match q.cursor.as_deref() {
        Some(raw) => {
            let c = TableCursor::decode(raw).ok_or_else(|| {
                WebError::BadRequest(
                    "cursor: not a cursor of this API (pass next_cursor as it came)".to_owned(),
                )
            })?;
            if c.page != page {
                return Err(WebError::BadRequest(format!(
                    "cursor: a cursor of /api/{}, not of /api/{page}",
                    c.page
                )));
            }
            if let Some(t) = q.table.as_deref().filter(|t| *t != c.table) {
                return Err(WebError::BadRequest(format!(
                    "cursor: a cursor of table {}, not of table={t}",
                    c.table
                )));
            }
            let t = find(&c.table)?;
            if c.query != query_digest(page, t.id, q) {
                return Err(WebError::BadRequest(
                    "cursor: issued for another filter or sort: repeat the query that \
                     returned it, changing only cursor (and limit)"
                        .to_owned(),
                ));
            }
            if c.rows != t.fingerprint() || c.offset > t.rows.len() {
                return Err(WebError::Conflict(format!(
                    "cursor: table {} changed since this cursor was issued: start again \
                     without cursor",
                    t.id
                )));
            }
            (vec![t], c.offset)
        }
        None => match q.table.as_deref() {
            Some(name) => (vec![find(name)?], 0),
            None => (tables.iter().collect(), 0),
        },
    };
    let mut out = serde_json::Map::new();
    for t in selected {
        let end = start.saturating_add(limit);
        let mut json = t.slice_json(start, end);
        let next = (end < t.rows.len()).then(|| {
            TableCursor {
                page: page.to_owned(),
                table: t.id.to_owned(),
                offset: end,
                query: query_digest(page, t.id, q),
                rows: t.fingerprint(),
            }
            .encode()
        });
        if let Value::Object(m) = &mut json {
            m.insert(
                "next_cursor".to_owned(),
                next.map_or(Value::Null, Value::from),
            );
        }
        out.insert(t.id.to_owned(), json);
    }
    Ok(out)
}

/// The API's answer, its tables sorted as the query asks ([`sort`]): one table as CSV when
/// asked (`csv`, or `format=csv`; always whole), else the JSON document `json` with the
/// tables under `"tables"`, a page of each ([`tables_json`]).
pub(crate) fn respond(
    page: &'static str,
    q: &PageQuery,
    mut tables: Vec<Table>,
    mut json: Value,
    csv: bool,
) -> Result<Response, WebError> {
    sort(&mut tables, q)?;
    let tables = tables.as_slice();
    if csv || q.csv {
        let ids = tables_ids_of(tables);
        let name = q.table.as_deref().ok_or_else(|| {
            WebError::BadRequest(format!("a CSV is one table: add table=ID, one of {ids}"))
        })?;
        let t = tables
            .iter()
            .find(|t| t.id == name)
            .ok_or_else(|| unknown_table(name, ids))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{page}-{}.csv\"", t.id),
                ),
            ],
            t.to_csv(),
        )
            .into_response());
    }
    let all = tables_json(page, q, tables)?;
    if let Value::Object(m) = &mut json {
        m.insert("tables".to_owned(), Value::Object(all));
    }
    Ok(Json(json).into_response())
}

/// One headline figure of a page: its label, the id of its element (`total-ID`) and value.
pub(crate) struct Figure {
    pub(crate) label: &'static str,
    pub(crate) id: &'static str,
    pub(crate) value: String,
}

/// A page of headline figures and tables, as of one day (Compliance, Inventory,
/// Operations).
#[derive(askama::Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    heading: &'static str,
    user_name: &'a str,
    role: &'a str,
    csrf_token: &'a str,
    current: &'static str,
    form: crate::query::FilterForm,
    path: &'static str,
    csv_path: &'static str,
    empty: Option<String>,
    as_of: String,
    as_of_note: &'static str,
    figures: Vec<Figure>,
    tables: Vec<crate::table::TableView>,
    changes: Option<crate::changes::Section>,
}

/// What a [`render`]ed page shows besides its tables.
pub(crate) struct PageParts {
    /// The page's name (`compliance`), its path is `/NAME` and its CSV `/api/NAME.csv`.
    pub(crate) current: &'static str,
    pub(crate) path: &'static str,
    pub(crate) csv_path: &'static str,
    pub(crate) heading: &'static str,
    pub(crate) as_of: Option<time::Date>,
    pub(crate) as_of_note: &'static str,
    pub(crate) no_account: bool,
    pub(crate) figures: Vec<Figure>,
}

/// Renders a page of figures and tables for `user`, sorted as `q` asks.
pub(crate) fn render(
    user: &crate::session::CurrentUser,
    q: &PageQuery,
    parts: PageParts,
    tables: Vec<Table>,
) -> Result<axum::response::Html<String>, WebError> {
    render_with_changes(user, q, parts, tables, None)
}

/// [`render`], with a "What changed" section heading the tables whose id starts with
/// `changes_` (see [`crate::changes`]).
pub(crate) fn render_with_changes(
    user: &crate::session::CurrentUser,
    q: &PageQuery,
    parts: PageParts,
    mut tables: Vec<Table>,
    changes: Option<crate::changes::Section>,
) -> Result<axum::response::Html<String>, WebError> {
    use askama::Template;
    sort(&mut tables, q)?;
    let query = q.filter_query();
    let empty = if parts.no_account {
        Some(crate::overview::empty_reason(
            &user.user.access,
            !q.filter.is_empty(),
        ))
    } else if parts.as_of.is_none() {
        Some("No daily file is loaded for these accounts yet.".to_owned())
    } else {
        None
    };
    let page = ReportPage {
        heading: parts.heading,
        user_name: &user.user.name,
        role: user.user.role.as_str(),
        csrf_token: &user.csrf_token,
        current: parts.current,
        form: q.form(),
        path: parts.path,
        csv_path: parts.csv_path,
        empty,
        as_of: parts
            .as_of
            .map(|d| orgwatch_model::Day(d).to_string())
            .unwrap_or_default(),
        as_of_note: parts.as_of_note,
        figures: parts.figures,
        tables: tables
            .iter()
            .map(|t| t.view(&query, q.sort_of(t.id)))
            .collect(),
        changes,
    }
    .render()?;
    Ok(axum::response::Html(page))
}
