//! `GET /api/openapi.json`: the API's OpenAPI 3.1 document, built from the code.
//!
//! Each API handler carries its `#[utoipa::path]` (path, parameters, success response); this
//! module assembles them ([`ApiDoc`]) and adds what only the running code knows: each page's
//! tables (their ids, columns and cell types, from the page's own table builder with no
//! rows) as the schema of its JSON answer and as the values `sort=` and `table=` take, the
//! error responses every API route shares, and the two ways to authenticate. A test holds
//! the document to the route table: every API route (`Guard::Api`, `Guard::AdminApi`) is in
//! it, and nothing else.

use crate::table::Table;
use crate::{activity, compliance, cost, ingest, inventory, operations, overview, posture};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

/// The path of the document.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// A page whose API answers tables: its name in the path (`/api/NAME`, `/api/NAME.csv`),
/// the name of its schema, and its tables with no row.
struct TablePage {
    name: &'static str,
    schema: &'static str,
    shapes: fn() -> Vec<Table>,
}

/// Every page of tables. (The drill-down's events are one table too, but a page of
/// events has its own cursor: `activity::events_api`.)
const TABLE_PAGES: &[TablePage] = &[
    TablePage {
        name: "cost",
        schema: "CostDocument",
        shapes: cost::shapes,
    },
    TablePage {
        name: "security",
        schema: "SecurityDocument",
        shapes: posture::shapes,
    },
    TablePage {
        name: "compliance",
        schema: "ComplianceDocument",
        shapes: compliance::shapes,
    },
    TablePage {
        name: "inventory",
        schema: "InventoryDocument",
        shapes: inventory::shapes,
    },
    TablePage {
        name: "operations",
        schema: "OperationsDocument",
        shapes: operations::shapes,
    },
    TablePage {
        name: "activity",
        schema: "ActivityDocument",
        shapes: activity::shapes,
    },
    TablePage {
        name: "ingest",
        schema: "IngestDocument",
        shapes: ingest::shapes,
    },
];

// The parameter sets below only describe queries (the handlers parse the raw query string
// themselves, so that a bad value is a 400 naming it): they are never built.

/// The filter every page takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct Filter {
    /// Accounts (12-digit ids): repeat the parameter or separate them with commas. Only
    /// narrows the caller's access; empty: no filter.
    account: Option<Vec<String>>,
    /// Organizational units, as paths from the root (`Sales/EU`), each covering its nested
    /// OUs (repeatable or comma-separated).
    ou: Option<Vec<String>>,
    /// Environments (repeatable or comma-separated).
    environment: Option<Vec<String>>,
    /// First day (`YYYY-MM-DD`; empty: the page's default). At most 366 days before `to`.
    from: Option<String>,
    /// Last day (`YYYY-MM-DD`; empty: the latest loaded day), not before `from`.
    to: Option<String>,
}

/// The order of one table.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct Sort {
    /// `TABLE.COLUMN`: the table to sort and by which column (missing values last); the
    /// other tables keep their own order. Ties keep the table's own order.
    sort: Option<String>,
    /// `asc` (the default) or `desc`.
    dir: Option<String>,
}

/// Which tables of the JSON answer, and how many rows of each.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct Tables {
    /// Only this table (JSON), or the table of a CSV answer (`format=csv`).
    table: Option<String>,
    /// `json` (the default) or `csv` (one table: needs `table`; every row, no paging).
    format: Option<String>,
    /// Rows per table in this answer: 1 to 5000, 500 by default.
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
    /// A table's `next_cursor` from the previous answer: the answer then holds that table
    /// only, from where the cursor points. Repeat the same filter and sort (only `limit`
    /// may change): a cursor of another query is a 400, one of a table that changed since
    /// is a 409.
    cursor: Option<String>,
}

/// The table of a CSV download.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct CsvTable {
    /// The table.
    table: String,
}

/// The drill-down's event filter and paging.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct Events {
    /// Only calls to this service (`ec2.amazonaws.com`).
    service: Option<String>,
    /// Only this API (`RunInstances`).
    api: Option<String>,
    /// Only calls by this principal.
    principal: Option<String>,
    /// Only calls from this address.
    source_ip: Option<String>,
    /// Only calls that failed with this code (`-`: only calls that succeeded).
    error_code: Option<String>,
    /// From this time (epoch seconds; default: the start of `from`).
    since: Option<i64>,
    /// Before this time (epoch seconds; default: the end of `to`).
    until: Option<i64>,
    /// Events per page: 1 to 1000, 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
    /// The former name of `cursor` (still taken).
    after: Option<String>,
    /// `events`: this page of events as CSV.
    table: Option<String>,
    /// `json` (the default) or `csv`.
    format: Option<String>,
}

/// The API's document: the handlers' paths, completed by [`Completion`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "orgwatch API",
        description = "The data of every orgwatch page as JSON (and its tables as CSV), for the \
            caller's access. Authenticate with the session cookie of a login or a bearer API \
            token. Tables come a page of rows at a time: follow each table's `next_cursor`. \
            Errors: 400 (a parameter that does not parse, named in the text body), 401 (no \
            credential), 403 (refused), 409 (a cursor of a table that changed). See \
            docs/api.md."
    ),
    paths(
        overview::api,
        cost::api,
        cost::csv,
        posture::api,
        posture::csv,
        compliance::api,
        compliance::csv,
        inventory::api,
        inventory::csv,
        operations::api,
        operations::csv,
        activity::api,
        activity::csv,
        activity::events_api,
        activity::stream,
        ingest::api,
        ingest::csv,
        crate::admin::api,
        serve,
    ),
    modifiers(&Completion),
    security(("sessionCookie" = []), ("bearerAuth" = [])),
    tags(
        (name = "pages", description = "Each page's data as JSON"),
        (name = "csv", description = "One table of a page as CSV"),
        (name = "admin", description = "Users and tokens (admins only; 403 for a viewer)"),
        (name = "meta", description = "This document"),
    )
)]
pub(crate) struct ApiDoc;

/// Adds what the attributes cannot say: the security schemes.
struct Completion;

impl Modify for Completion {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "sessionCookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::session::SESSION_COOKIE,
                "The session of a login (POST /login): what the browser sends.",
            ))),
        );
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`Authorization: Bearer TOKEN`), scoped as its user.",
                    ))
                    .build(),
            ),
        );
    }
}

/// A string of a `YYYY-MM-DD` day, or empty (no bound).
fn day_schema() -> Value {
    json!({"type": "string", "pattern": "^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
}

/// The schema of one table of a JSON answer: its rows (an object per row, a typed cell per
/// column), why it is empty, and the cursor of its next page.
fn table_schema(t: &Table) -> Value {
    let mut cells = Map::new();
    for c in &t.columns {
        cells.insert(
            c.key.to_owned(),
            json!({
                "type": [c.kind.json_type(), "null"],
                "description": c.label,
            }),
        );
    }
    let keys: Vec<&str> = t.columns.iter().map(|c| c.key).collect();
    json!({
        "type": "object",
        "description": t.caption,
        "required": ["rows", "empty", "next_cursor"],
        "additionalProperties": false,
        "properties": {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": keys,
                    "additionalProperties": false,
                    "properties": cells,
                },
            },
            "empty": {
                "type": ["string", "null"],
                "description": "Why the table has no row (null when it has some).",
            },
            "next_cursor": {
                "type": ["string", "null"],
                "description": "The `cursor` of the next page of this table; null on the last.",
            },
        },
    })
}

/// The schema of a page's JSON answer: its tables exactly, its figures as an open object.
fn page_schema(page: &TablePage, tables: &[Table]) -> Value {
    let props: Map<String, Value> = tables
        .iter()
        .map(|t| (t.id.to_owned(), table_schema(t)))
        .collect();
    json!({
        "type": "object",
        "description": format!(
            "The /api/{} document: the page's headline figures (`totals` and the days they \
             cover) and its tables under `tables`, each a page of rows (all of them, or the \
             one `table=` or `cursor=` names).",
            page.name
        ),
        "required": ["tables"],
        "properties": {
            "tables": {
                "type": "object",
                "additionalProperties": false,
                "properties": props,
            },
        },
    })
}

/// A reusable error response: a text body saying why.
fn text_error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"text/plain": {"schema": {"type": "string"}}},
    })
}

/// The parameters of an operation, by name.
fn params_mut(op: &mut Value) -> impl Iterator<Item = &mut Map<String, Value>> {
    op.get_mut("parameters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// Sets the schema of parameter `name` (when the operation has it).
fn set_param(op: &mut Value, name: &str, schema: Value) {
    for p in params_mut(op) {
        if p.get("name").and_then(Value::as_str) == Some(name) {
            p.insert("schema".to_owned(), schema.clone());
        }
    }
}

/// The document as served: [`ApiDoc`] with each page's table schemas and parameter values,
/// and the shared error responses.
fn build() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let mut schemas = Map::new();
    let csv = json!({"schema": {"type": "string"}});
    // Strict enough that a value outside the schema is one the handlers refuse (400).
    let account_items = json!({
        "type": "string",
        "pattern": "^[ \\t\\n\\f\\r]*([0-9]{12})?[ \\t\\n\\f\\r]*(,[ \\t\\n\\f\\r]*([0-9]{12})?[ \\t\\n\\f\\r]*)*$",
    });
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(op) = item.get_mut("get") else {
            continue;
        };
        let text = json!({"type": "string"});
        let texts = json!({"type": "array", "items": text});
        set_param(
            op,
            "account",
            json!({"type": "array", "items": account_items}),
        );
        set_param(op, "ou", texts.clone());
        set_param(op, "environment", texts);
        for name in ["service", "api", "principal", "source_ip", "error_code"] {
            set_param(op, name, text.clone());
        }
        for name in ["since", "until"] {
            set_param(op, name, json!({"type": "integer", "format": "int64"}));
        }
        let most = if path == "/api/activity/events" {
            u64::from(orgwatch_store::MAX_PAGE)
        } else {
            crate::report::MAX_LIMIT as u64
        };
        set_param(
            op,
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": most}),
        );
        set_param(op, "from", day_schema());
        set_param(op, "to", day_schema());
        set_param(
            op,
            "dir",
            json!({"type": "string", "enum": ["asc", "desc"]}),
        );
        set_param(
            op,
            "format",
            json!({"type": "string", "enum": ["json", "csv"]}),
        );
        set_param(op, "cursor", json!({"type": "string", "minLength": 1}));
        set_param(op, "after", json!({"type": "string", "minLength": 1}));
        let page = TABLE_PAGES.iter().find(|p| {
            *path == format!("/api/{}", p.name) || *path == format!("/api/{}.csv", p.name)
        });
        let (sorts, ids): (Vec<String>, Vec<&str>) = match page {
            Some(p) => {
                let tables = (p.shapes)();
                schemas.insert(p.schema.to_owned(), page_schema(p, &tables));
                let sorts = tables
                    .iter()
                    .flat_map(|t| t.columns.iter().map(move |c| format!("{}.{}", t.id, c.key)))
                    .collect();
                (sorts, tables.iter().map(|t| t.id).collect())
            }
            None if path == "/api/activity/events" => (
                activity::events_shape()
                    .columns
                    .iter()
                    .map(|c| format!("events.{}", c.key))
                    .collect(),
                vec!["events"],
            ),
            None if path == "/api/activity/stream" => (
                activity::shapes()
                    .iter()
                    .flat_map(|t| t.columns.iter().map(move |c| format!("{}.{}", t.id, c.key)))
                    .collect(),
                Vec::new(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        set_param(op, "sort", json!({"type": "string", "enum": sorts}));
        set_param(op, "table", json!({"type": "string", "enum": ids}));
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        if let (Some(p), Some(ok)) = (page, responses.get_mut("200")) {
            let content = if path.ends_with(".csv") {
                json!({"text/csv": csv})
            } else {
                json!({
                    "application/json": {
                        "schema": {"$ref": format!("#/components/schemas/{}", p.schema)},
                    },
                    "text/csv": csv,
                })
            };
            ok["content"] = content;
        }
        if path == "/api/activity/events" {
            if let Some(ok) = responses.get_mut("200") {
                ok["content"]["text/csv"] = csv.clone();
            }
        }
        responses.insert(
            "400".to_owned(),
            json!({"$ref": "#/components/responses/BadRequest"}),
        );
        responses.insert(
            "401".to_owned(),
            json!({"$ref": "#/components/responses/Unauthorized"}),
        );
        responses.insert(
            "403".to_owned(),
            json!({"$ref": "#/components/responses/Forbidden"}),
        );
        if page.is_some() && !path.ends_with(".csv") {
            responses.insert(
                "409".to_owned(),
                json!({"$ref": "#/components/responses/Conflict"}),
            );
        }
    }
    let components = &mut doc["components"];
    if let Some(m) = components["schemas"].as_object_mut() {
        m.extend(schemas);
    } else {
        components["schemas"] = Value::Object(schemas);
    }
    components["responses"] = json!({
        "BadRequest": text_error(
            "A parameter the API cannot use (a value that does not parse, an unknown table or \
             column, a cursor of another query): the text names it."
        ),
        "Unauthorized": {
            "description": "No session and no valid token.",
            "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            }}},
        },
        "Forbidden": text_error(
            "Refused: the credential may not do this (a state-changing request without the \
             CSRF token of its session, or a role or token scope that does not cover it)."
        ),
        "Conflict": text_error(
            "The table changed since the cursor was issued: start again without `cursor`."
        ),
    });
    doc
}

/// The document (built once).
pub(crate) fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

/// `GET /api/openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/openapi.json", operation_id = "openapi", tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)",
        content_type = "application/json", body = serde_json::Value)))]
pub(crate) async fn serve() -> Response {
    axum::Json(document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{routes, Guard};
    use std::collections::BTreeSet;

    #[test]
    fn the_document_lists_exactly_the_api_routes_of_the_route_table() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| !matches!(k.as_str(), "parameters" | "summary" | "description"))
                    .map(move |m| (m.to_uppercase(), path.clone()))
            })
            .collect();
        let api: BTreeSet<(String, String)> = routes()
            .into_iter()
            .filter(|r| matches!(r.guard, Guard::Api | Guard::AdminApi))
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        let missing: Vec<_> = api.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&api).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "undocumented API routes: {missing:?}; documented routes that are not API routes: {extra:?}"
        );
    }

    #[test]
    fn every_operation_is_guarded_and_names_its_errors() {
        let doc = document();
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
        assert_eq!(schemes["sessionCookie"]["in"], "cookie");
        assert_eq!(
            schemes["sessionCookie"]["name"],
            crate::session::SESSION_COOKIE
        );
        assert_eq!(
            doc["security"],
            json!([{"sessionCookie": []}, {"bearerAuth": []}])
        );
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let op = &item["get"];
            assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()));
            for status in ["200", "400", "401", "403"] {
                assert!(op["responses"].get(status).is_some(), "{path}: no {status}");
            }
        }
    }

    #[test]
    fn a_table_page_documents_its_tables_columns_and_parameters() {
        let doc = document();
        let cost = &doc["paths"]["/api/cost"]["get"];
        let param = |name: &str| {
            cost["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("no parameter {name}"))
                .clone()
        };
        for name in [
            "account",
            "ou",
            "environment",
            "from",
            "to",
            "sort",
            "dir",
            "table",
            "format",
            "limit",
            "cursor",
        ] {
            assert_eq!(param(name)["in"], "query", "{name}");
        }
        let sorts = param("sort")["schema"]["enum"].clone();
        assert!(sorts
            .as_array()
            .unwrap()
            .contains(&json!("accounts.month_to_date")));
        assert_eq!(param("limit")["schema"]["maximum"], 5000);
        // The table schema is the table builder's: every column with its JSON type.
        let accounts = &doc["components"]["schemas"]["CostDocument"]["properties"]["tables"]
            ["properties"]["accounts"];
        let cells = &accounts["properties"]["rows"]["items"]["properties"];
        assert_eq!(cells["account_id"]["type"], json!(["string", "null"]));
        assert_eq!(cells["forecast"]["type"], json!(["number", "null"]));
        let certificates = &doc["components"]["schemas"]["SecurityDocument"]["properties"]
            ["tables"]["properties"]["certificates"]["properties"]["rows"]["items"]["properties"];
        assert_eq!(
            certificates["expiring_30_days"]["type"],
            json!(["boolean", "null"])
        );
        // JSON or CSV; the CSV route only CSV, and its table is required.
        let ok = &cost["responses"]["200"]["content"];
        assert!(ok.get("application/json").is_some() && ok.get("text/csv").is_some());
        let csv = &doc["paths"]["/api/cost.csv"]["get"];
        assert!(csv["responses"]["200"]["content"]
            .get("application/json")
            .is_none());
        let table = csv["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "table")
            .unwrap();
        assert_eq!(table["required"], true);
        assert!(table["schema"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("daily")));
    }
}
