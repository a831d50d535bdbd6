//! What the Cost and Security pages share: sorting their tables by the query, and answering
//! their API as JSON or as one table's CSV.

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

/// The API's answer: one table as CSV when asked (`csv`, or `format=csv`), else the JSON
/// document `json` with every table under `"tables"`.
pub(crate) fn respond(
    page: &'static str,
    q: &PageQuery,
    tables: &[Table],
    mut json: Value,
    csv: bool,
) -> Result<Response, WebError> {
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
