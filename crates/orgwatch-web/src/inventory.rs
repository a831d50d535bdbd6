//! The Inventory page, `GET /api/inventory` (JSON, or one table as CSV with `format=csv`)
//! and `GET /api/inventory.csv`: the store's `inventory_report` for the caller's access and
//! the page's filter, as of the range's last day.

use crate::changes::{self, Topic};
use crate::compliance::{instant, why};
use crate::query::PageQuery;
use crate::report::{self, Figure, PageParts};
use crate::session::CurrentUser;
use crate::table::{flag, num, text, Cell, Row, Table};
use crate::{AppState, WebError};
use axum::extract::{RawQuery, State};
use axum::response::{Html, Response};
use orgwatch_model::Day;
use orgwatch_store::{InventoryReport, KeyedCount};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Per account: the counts the page's other tables list.
#[derive(Default)]
struct AccountLine {
    instances: i64,
    offline: i64,
    applications: i64,
    patches: i64,
    resources: i64,
    recommendations: i64,
    savings: f64,
}

fn online(status: &str) -> bool {
    status.eq_ignore_ascii_case("online")
}

fn tables(r: &InventoryReport) -> Vec<Table> {
    let names: BTreeMap<&str, &str> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.name.as_str()))
        .collect();
    let name = |id: &str| Cell::Text(names.get(id).copied().unwrap_or_default().to_owned());
    let mut lines: BTreeMap<&str, AccountLine> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), AccountLine::default()))
        .collect();
    for i in &r.instances {
        if let Some(l) = lines.get_mut(i.account_id.as_str()) {
            l.instances += 1;
            l.offline += i64::from(!online(&i.ping_status));
        }
    }
    let add = |lines: &mut BTreeMap<&str, AccountLine>,
               rows: &[KeyedCount],
               f: fn(&mut AccountLine, i64)| {
        for k in rows {
            if let Some(l) = lines.get_mut(k.account_id.as_str()) {
                f(l, k.count);
            }
        }
    };
    add(&mut lines, &r.applications, |l, n| l.applications += n);
    add(&mut lines, &r.patches, |l, n| l.patches += n);
    add(&mut lines, &r.service_resources, |l, n| l.resources += n);
    for c in &r.recommendations {
        if let Some(l) = lines.get_mut(c.account_id.as_str()) {
            l.recommendations += 1;
            l.savings += c.monthly_savings.unwrap_or(0.0);
        }
    }
    let accounts = Table {
        id: "accounts",
        caption: "Per account: managed instances, applications, patches, service resources \
            and Compute Optimizer savings"
            .to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("environment", "Environment"),
            num("instances", "Managed instances"),
            num("instances_not_online", "Not online"),
            num("applications", "Application installs"),
            num("patches", "Patches"),
            num("service_resources", "Service resources"),
            num("recommendations", "Recommendations"),
            num("monthly_savings", "Est. monthly savings (USD)"),
        ],
        rows: r
            .accounts
            .iter()
            .map(|a| {
                let l = &lines[a.account_id.as_str()];
                let mut row = Row::new(vec![
                    Cell::Text(a.account_id.to_string()),
                    Cell::Text(a.name.clone()),
                    Cell::Text(a.environment.clone()),
                    Cell::Int(l.instances),
                    Cell::Int(l.offline),
                    Cell::Int(l.applications),
                    Cell::Int(l.patches),
                    Cell::Int(l.resources),
                    Cell::Int(l.recommendations),
                    Cell::Money(l.savings),
                ]);
                if l.offline > 0 {
                    row.mark = Some("warn");
                }
                row
            })
            .collect(),
        empty: "No account matches the filter within your access.".to_owned(),
        page_rows: None,
    };
    let inventory_why =
        |what: &str| why(r.as_of, &r.inventory_collection, "the SSM inventory", what);
    let instances = Table {
        id: "instances",
        caption: "SSM-managed instances".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("instance_id", "Instance"),
            text("computer_name", "Computer name"),
            text("platform", "Platform"),
            text("agent_version", "Agent"),
            flag("latest_agent", "Latest agent"),
            text("ping_status", "Ping"),
            text("last_ping", "Last ping"),
            text("association_status", "Association"),
        ],
        rows: r
            .instances
            .iter()
            .map(|i| {
                let mut row = Row::new(vec![
                    Cell::Text(i.account_id.to_string()),
                    name(i.account_id.as_str()),
                    Cell::Text(i.region.clone()),
                    Cell::Text(i.instance_id.clone()),
                    Cell::Text(i.computer_name.clone()),
                    Cell::Text(i.platform.clone()),
                    Cell::Text(i.agent_version.clone()),
                    Cell::opt_bool(i.latest_agent),
                    Cell::Text(i.ping_status.clone()),
                    instant(i.last_ping),
                    Cell::Text(i.association_status.clone()),
                ]);
                if !online(&i.ping_status) {
                    row.mark = Some("warn");
                }
                row
            })
            .collect(),
        empty: inventory_why("managed instance"),
        page_rows: Some(100),
    };
    let keyed = |id: &'static str,
                 caption: &str,
                 key: (&'static str, &'static str),
                 detail: (&'static str, &'static str),
                 count: (&'static str, &'static str),
                 rows: &[KeyedCount],
                 empty: String| Table {
        id,
        caption: caption.to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text(key.0, key.1),
            text(detail.0, detail.1),
            num(count.0, count.1),
        ],
        rows: rows
            .iter()
            .map(|k| {
                Row::new(vec![
                    Cell::Text(k.account_id.to_string()),
                    name(k.account_id.as_str()),
                    Cell::Text(k.key.clone()),
                    Cell::Text(k.detail.clone()),
                    Cell::Int(k.count),
                ])
            })
            .collect(),
        empty,
        page_rows: Some(100),
    };
    let applications = keyed(
        "applications",
        "Installed applications per account (installs: one per instance and version)",
        ("application", "Application"),
        ("publisher", "Publisher"),
        ("installs", "Installs"),
        &r.applications,
        inventory_why("installed application"),
    );
    let patches = keyed(
        "patches",
        "SSM patches per account, classification and state",
        ("classification", "Classification"),
        ("state", "State"),
        ("patches", "Patches"),
        &r.patches,
        inventory_why("patch"),
    );
    let resources = keyed(
        "service_resources",
        "Service resources per account, service and type (S3 buckets once)",
        ("service", "Service"),
        ("resource_type", "Resource type"),
        ("resources", "Resources"),
        &r.service_resources,
        why(
            r.as_of,
            &r.service_resources_collection,
            "service resources",
            "service resource",
        ),
    );
    let config_inventory = keyed(
        "config_inventory",
        "Resources AWS Config records, per account and type",
        ("resource_type", "Resource type"),
        ("resource_subtype", "Subtype"),
        ("resources", "Resources"),
        &r.config_inventory,
        why(
            r.as_of,
            &r.config_inventory_collection,
            "the Config inventory",
            "resource recorded by AWS Config",
        ),
    );
    let recommendations = Table {
        id: "compute_optimizer",
        caption: "Compute Optimizer recommendations, largest savings first".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("resource_type", "Resource type"),
            text("resource", "Resource"),
            text("finding", "Finding"),
            text("current", "Current"),
            text("recommended", "Recommended"),
            num("monthly_savings", "Est. monthly savings (USD)"),
            num("savings_percentage", "Savings %"),
            num("performance_risk", "Performance risk"),
        ],
        rows: r
            .recommendations
            .iter()
            .map(|c| {
                Row::new(vec![
                    Cell::Text(c.account_id.to_string()),
                    name(c.account_id.as_str()),
                    Cell::Text(c.region.clone()),
                    Cell::Text(c.resource_type.clone()),
                    Cell::Text(c.resource.clone()),
                    Cell::Text(c.finding.clone()),
                    Cell::Text(c.current.clone()),
                    Cell::Text(c.recommended.clone()),
                    Cell::opt_money(c.monthly_savings),
                    Cell::opt_ratio(c.savings_percentage),
                    Cell::opt_ratio(c.performance_risk),
                ])
            })
            .collect(),
        empty: why(
            r.as_of,
            &r.compute_optimizer_collection,
            "Compute Optimizer",
            "Compute Optimizer recommendation",
        ),
        page_rows: Some(100),
    };
    vec![
        accounts,
        instances,
        applications,
        patches,
        resources,
        recommendations,
        config_inventory,
    ]
}

fn sum(rows: &[KeyedCount]) -> i64 {
    rows.iter().map(|k| k.count).sum()
}

fn figures(r: &InventoryReport) -> Vec<Figure> {
    let offline = r
        .instances
        .iter()
        .filter(|i| !online(&i.ping_status))
        .count();
    vec![
        Figure {
            label: "Managed instances",
            id: "instances",
            value: r.instances.len().to_string(),
        },
        Figure {
            label: "Instances not online",
            id: "instances-not-online",
            value: offline.to_string(),
        },
        Figure {
            label: "Application installs",
            id: "applications",
            value: sum(&r.applications).to_string(),
        },
        Figure {
            label: "Service resources",
            id: "service-resources",
            value: sum(&r.service_resources).to_string(),
        },
        Figure {
            label: "Compute Optimizer recommendations",
            id: "recommendations",
            value: r.recommendations.len().to_string(),
        },
        Figure {
            label: "Est. monthly savings (USD)",
            id: "monthly-savings",
            value: format!("{:.2}", r.monthly_savings()),
        },
    ]
}

fn document(r: &InventoryReport) -> Value {
    json!({
        "as_of": r.as_of.map(|d| Day(d).to_string()),
        "totals": {
            "accounts": r.accounts.len(),
            "instances": r.instances.len(),
            "instances_not_online": r.instances.iter().filter(|i| !online(&i.ping_status)).count(),
            "application_installs": sum(&r.applications),
            "patches": sum(&r.patches),
            "service_resources": sum(&r.service_resources),
            "config_resources": sum(&r.config_inventory),
            "recommendations": r.recommendations.len(),
            "monthly_savings": r.monthly_savings(),
        },
    })
}

async fn read(
    state: &AppState,
    user: &CurrentUser,
    q: &PageQuery,
) -> Result<InventoryReport, WebError> {
    Ok(state
        .store()
        .inventory_report(&user.user.access, &q.filter)
        .await?)
}

/// The page's tables with no row: their ids and columns, for the OpenAPI document.
pub(crate) fn shapes() -> Vec<Table> {
    let mut t = tables(&InventoryReport::default());
    t.extend(changes::shapes(Topic::Inventory));
    t
}

/// `GET /api/inventory`: the figures and every table as JSON, or one table as CSV
/// (`format=csv&table=ID`).
#[utoipa::path(get, path = "/api/inventory", operation_id = "inventory", tag = "pages",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::Tables),
    responses((status = 200, description = "The Inventory page's figures and a page of rows of \
        each table (JSON), or one table as CSV (`format=csv&table=ID`)")))]
pub(crate) async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Inventory).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Inventory, &ch));
    report::respond(
        "inventory",
        &q,
        t,
        changes::annotate(document(&r), &ch),
        false,
    )
}

/// `GET /api/inventory.csv?table=ID`: one table as CSV.
#[utoipa::path(get, path = "/api/inventory.csv", operation_id = "inventory_csv", tag = "csv",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::CsvTable),
    responses((status = 200, description = "One table of the Inventory page as CSV, every row")))]
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Inventory).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Inventory, &ch));
    report::respond("inventory", &q, t, Value::Null, true)
}

/// `GET /inventory`: the Inventory page.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let parts = PageParts {
        current: "inventory",
        path: "/inventory",
        csv_path: "/api/inventory.csv",
        heading: "Inventory",
        as_of: r.as_of,
        as_of_note: "the range's last day; each account and region's latest daily file up to it",
        no_account: r.accounts.is_empty(),
        figures: figures(&r),
    };
    let ch = changes::read(&state, &user, &q, Topic::Inventory).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Inventory, &ch));
    report::render_with_changes(&user, &q, parts, t, changes::section(&ch))
}
