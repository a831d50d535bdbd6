//! The Operations page, `GET /api/operations` (JSON, or one table as CSV with `format=csv`)
//! and `GET /api/operations.csv`: the store's `operations_report` for the caller's access and
//! the page's filter, as of the range's last day.

use crate::compliance::{instant, why};
use crate::query::PageQuery;
use crate::report::{self, Figure, PageParts};
use crate::session::CurrentUser;
use crate::table::{num, text, Cell, Row, Table};
use crate::{AppState, WebError};
use axum::extract::{RawQuery, State};
use axum::response::{Html, Response};
use orgwatch_model::Day;
use orgwatch_store::{AdvisorCheck, HealthEvent, OperationsReport};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn status_is(e: &HealthEvent, status: &str) -> bool {
    e.status.eq_ignore_ascii_case(status)
}

fn severity_is(c: &AdvisorCheck, severity: &str) -> bool {
    c.severity.eq_ignore_ascii_case(severity)
}

/// Totals of every account shown.
#[derive(Default)]
struct Totals {
    open_events: i64,
    upcoming_events: i64,
    advisor_warnings: i64,
    advisor_errors: i64,
    advisor_savings: f64,
    apps: i64,
    apps_breached: i64,
    services: i64,
    open_cases: i64,
}

fn totals_of<'a>(r: &'a OperationsReport, account: Option<&str>) -> Totals {
    let mine = |id: &'a str| account.is_none_or(|a| a == id);
    let mut t = Totals::default();
    for e in r.health.iter().filter(|e| mine(e.account_id.as_str())) {
        t.open_events += i64::from(status_is(e, "open"));
        t.upcoming_events += i64::from(status_is(e, "upcoming"));
    }
    for c in r.advisor.iter().filter(|c| mine(c.account_id.as_str())) {
        t.advisor_warnings += i64::from(severity_is(c, "warning"));
        t.advisor_errors += i64::from(severity_is(c, "error"));
        t.advisor_savings += c.potential_savings.unwrap_or(0.0);
    }
    for a in r.resilience.iter().filter(|a| mine(a.account_id.as_str())) {
        t.apps += 1;
        t.apps_breached += i64::from(a.compliance_status.eq_ignore_ascii_case("PolicyBreached"));
    }
    t.services = r
        .signals
        .iter()
        .filter(|s| mine(s.account_id.as_str()))
        .count() as i64;
    t.open_cases = r
        .cases
        .iter()
        .filter(|c| mine(c.account_id.as_str()) && c.is_open())
        .count() as i64;
    t
}

fn tables(r: &OperationsReport) -> Vec<Table> {
    let names: BTreeMap<&str, &str> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.name.as_str()))
        .collect();
    let name = |id: &str| Cell::Text(names.get(id).copied().unwrap_or_default().to_owned());
    let [health_c, advisor_c, resilience_c, signals_c, cases_c] = &r.collections;
    let accounts = Table {
        id: "accounts",
        caption: "Per account: Health events, Trusted Advisor, Resilience Hub, Application \
            Signals and support cases"
            .to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("environment", "Environment"),
            num("open_health_events", "Open Health events"),
            num("upcoming_health_events", "Upcoming"),
            num("advisor_warnings", "Advisor warnings"),
            num("advisor_errors", "Advisor errors"),
            num("advisor_savings", "Advisor savings (USD/month)"),
            num("resilience_apps", "Resilience Hub apps"),
            num("resilience_breached", "Policy breached"),
            num("signal_services", "Signals services"),
            num("open_support_cases", "Open support cases"),
        ],
        rows: r
            .accounts
            .iter()
            .map(|a| {
                let t = totals_of(r, Some(a.account_id.as_str()));
                let mut row = Row::new(vec![
                    Cell::Text(a.account_id.to_string()),
                    Cell::Text(a.name.clone()),
                    Cell::Text(a.environment.clone()),
                    Cell::Int(t.open_events),
                    Cell::Int(t.upcoming_events),
                    Cell::Int(t.advisor_warnings),
                    Cell::Int(t.advisor_errors),
                    Cell::Money(t.advisor_savings),
                    Cell::Int(t.apps),
                    Cell::Int(t.apps_breached),
                    Cell::Int(t.services),
                    Cell::Int(t.open_cases),
                ]);
                if t.open_events > 0 || t.advisor_errors > 0 || t.apps_breached > 0 {
                    row.mark = Some("warn");
                }
                row
            })
            .collect(),
        empty: "No account matches the filter within your access.".to_owned(),
        page_rows: None,
    };
    let health = Table {
        id: "health",
        caption: "AWS Health events (open and upcoming highlighted), newest first".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("service", "Service"),
            text("event_type", "Event type"),
            text("category", "Category"),
            text("status", "Status"),
            text("start", "Start"),
            text("end", "End"),
        ],
        rows: r
            .health
            .iter()
            .map(|e| {
                let mut row = Row::new(vec![
                    Cell::Text(e.account_id.to_string()),
                    name(e.account_id.as_str()),
                    Cell::Text(e.region.clone()),
                    Cell::Text(e.service.clone()),
                    Cell::Text(e.event_type.clone()),
                    Cell::Text(e.category.clone()),
                    Cell::Text(e.status.clone()),
                    instant(e.start),
                    instant(e.end),
                ]);
                if status_is(e, "open") {
                    row.mark = Some("bad");
                } else if status_is(e, "upcoming") {
                    row.mark = Some("warn");
                }
                row
            })
            .collect(),
        empty: why(r.as_of, health_c, "AWS Health", "Health event"),
        page_rows: Some(100),
    };
    let advisor = Table {
        id: "trusted_advisor",
        caption: "Flagged Trusted Advisor checks".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("check", "Check"),
            text("category", "Category"),
            text("severity", "Severity"),
            num("affected_resources", "Affected resources"),
            num("potential_savings", "Potential savings (USD/month)"),
        ],
        rows: r
            .advisor
            .iter()
            .map(|c| {
                let mut row = Row::new(vec![
                    Cell::Text(c.account_id.to_string()),
                    name(c.account_id.as_str()),
                    Cell::Text(c.name.clone()),
                    Cell::Text(c.category.clone()),
                    Cell::Text(c.severity.clone()),
                    c.affected_resources.map_or(Cell::Missing, Cell::Int),
                    Cell::opt_money(c.potential_savings),
                ]);
                if severity_is(c, "error") {
                    row.mark = Some("bad");
                }
                row
            })
            .collect(),
        empty: why(
            r.as_of,
            advisor_c,
            "Trusted Advisor",
            "flagged Trusted Advisor check",
        ),
        page_rows: Some(100),
    };
    let resilience = Table {
        id: "resilience_hub",
        caption: "Resilience Hub applications".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("application", "Application"),
            text("compliance_status", "Policy"),
            num("score", "Resiliency score"),
            num("rpo_seconds", "RPO (s)"),
            num("rto_seconds", "RTO (s)"),
            text("last_assessment", "Last assessment"),
        ],
        rows: r
            .resilience
            .iter()
            .map(|a| {
                let mut row = Row::new(vec![
                    Cell::Text(a.account_id.to_string()),
                    name(a.account_id.as_str()),
                    Cell::Text(a.region.clone()),
                    Cell::Text(a.name.clone()),
                    Cell::Text(a.compliance_status.clone()),
                    Cell::opt_ratio(a.score),
                    a.rpo.map_or(Cell::Missing, Cell::Int),
                    a.rto.map_or(Cell::Missing, Cell::Int),
                    instant(a.last_assessment),
                ]);
                if a.compliance_status.eq_ignore_ascii_case("PolicyBreached") {
                    row.mark = Some("bad");
                }
                row
            })
            .collect(),
        empty: why(
            r.as_of,
            resilience_c,
            "Resilience Hub",
            "Resilience Hub application",
        ),
        page_rows: None,
    };
    let signals = Table {
        id: "application_signals",
        caption: "Services Application Signals monitors".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("service", "Service"),
            text("namespace", "Namespace"),
        ],
        rows: r
            .signals
            .iter()
            .map(|s| {
                Row::new(vec![
                    Cell::Text(s.account_id.to_string()),
                    name(s.account_id.as_str()),
                    Cell::Text(s.region.clone()),
                    Cell::Text(s.service.clone()),
                    Cell::Text(s.namespace.clone()),
                ])
            })
            .collect(),
        empty: why(
            r.as_of,
            signals_c,
            "Application Signals",
            "service monitored by Application Signals",
        ),
        page_rows: None,
    };
    let cases = Table {
        id: "support_cases",
        caption: "Support cases, newest first".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("case", "Case"),
            text("subject", "Subject"),
            text("status", "Status"),
            text("severity", "Severity"),
            text("service", "Service"),
            text("created", "Opened"),
        ],
        rows: r
            .cases
            .iter()
            .map(|c| {
                Row::new(vec![
                    Cell::Text(c.account_id.to_string()),
                    name(c.account_id.as_str()),
                    Cell::Text(c.display_id.clone()),
                    Cell::Text(c.subject.clone()),
                    Cell::Text(c.status.clone()),
                    Cell::Text(c.severity.clone()),
                    Cell::Text(c.service.clone()),
                    instant(c.created),
                ])
            })
            .collect(),
        empty: why(r.as_of, cases_c, "support cases", "support case"),
        page_rows: Some(100),
    };
    vec![accounts, health, advisor, resilience, signals, cases]
}

fn figures(t: &Totals) -> Vec<Figure> {
    let f = |label, id, value: i64| Figure {
        label,
        id,
        value: value.to_string(),
    };
    vec![
        f("Open Health events", "open-health-events", t.open_events),
        f(
            "Upcoming Health events",
            "upcoming-health-events",
            t.upcoming_events,
        ),
        f(
            "Trusted Advisor warnings",
            "advisor-warnings",
            t.advisor_warnings,
        ),
        f("Trusted Advisor errors", "advisor-errors", t.advisor_errors),
        Figure {
            label: "Trusted Advisor savings (USD/month)",
            id: "advisor-savings",
            value: format!("{:.2}", t.advisor_savings),
        },
        f(
            "Resilience Hub apps breaching policy",
            "resilience-breached",
            t.apps_breached,
        ),
        f(
            "Application Signals services",
            "signal-services",
            t.services,
        ),
        f("Open support cases", "open-support-cases", t.open_cases),
    ]
}

fn document(r: &OperationsReport, t: &Totals) -> Value {
    json!({
        "as_of": r.as_of.map(|d| Day(d).to_string()),
        "from": r.from.map(|d| Day(d).to_string()),
        "totals": {
            "accounts": r.accounts.len(),
            "open_health_events": t.open_events,
            "upcoming_health_events": t.upcoming_events,
            "health_events": r.health.len(),
            "advisor_warnings": t.advisor_warnings,
            "advisor_errors": t.advisor_errors,
            "advisor_savings": t.advisor_savings,
            "resilience_apps": t.apps,
            "resilience_breached": t.apps_breached,
            "signal_services": t.services,
            "open_support_cases": t.open_cases,
        },
    })
}

async fn read(
    state: &AppState,
    user: &CurrentUser,
    q: &PageQuery,
) -> Result<OperationsReport, WebError> {
    Ok(state
        .store()
        .operations_report(&user.user.access, &q.filter)
        .await?)
}

/// The page's tables with no row: their ids and columns, for the OpenAPI document.
pub(crate) fn shapes() -> Vec<Table> {
    tables(&OperationsReport::default())
}

/// `GET /api/operations`: the figures and every table as JSON, or one table as CSV
/// (`format=csv&table=ID`).
#[utoipa::path(get, path = "/api/operations", operation_id = "operations", tag = "pages",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::Tables),
    responses((status = 200, description = "The Operations page's figures and a page of rows of \
        each table (JSON), or one table as CSV (`format=csv&table=ID`)")))]
pub(crate) async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    report::respond(
        "operations",
        &q,
        tables(&r),
        document(&r, &totals_of(&r, None)),
        false,
    )
}

/// `GET /api/operations.csv?table=ID`: one table as CSV.
#[utoipa::path(get, path = "/api/operations.csv", operation_id = "operations_csv", tag = "csv",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::CsvTable),
    responses((status = 200, description = "One table of the Operations page as CSV, every row")))]
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    report::respond("operations", &q, tables(&r), Value::Null, true)
}

/// `GET /operations`: the Operations page.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let parts = PageParts {
        current: "operations",
        path: "/operations",
        csv_path: "/api/operations.csv",
        heading: "Operations",
        as_of: r.as_of,
        as_of_note: "the range's last day; each account and region's latest daily file up to \
            it; Health events and support cases: those of the range's daily files, each in its \
            latest status",
        no_account: r.accounts.is_empty(),
        figures: figures(&totals_of(&r, None)),
    };
    report::render(&user, &q, parts, tables(&r))
}
