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

/// The API's answer, its tables sorted as the query asks ([`sort`]): one table as CSV when
/// asked (`csv`, or `format=csv`), else the JSON document `json` with every table under
/// `"tables"`.
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
    let all: serde_json::Map<String, Value> = tables
        .iter()
        .map(|t| (t.id.to_owned(), t.to_json()))
        .collect();
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
