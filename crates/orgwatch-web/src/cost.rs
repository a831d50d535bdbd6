//! The Cost page, `GET /api/cost` (JSON, or one table as CSV with `format=csv`) and
//! `GET /api/cost.csv`: the store's `cost_report` for the caller's access and the page's
//! filter.

use crate::changes::{self, Topic};
use crate::query::{FilterForm, PageQuery};
use crate::report;
use crate::session::CurrentUser;
use crate::table::{num, text, Cell, Row, Table, TableView};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{Html, Response};
use orgwatch_model::Day;
use orgwatch_store::{CostReport, Empty, ForecastSource};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Rows of the long tables the page shows (the CSV holds them all).
const PAGE_ROWS: usize = 100;
/// Rows of the top services and movers the page shows.
const TOP: usize = 10;

fn day(d: time::Date) -> String {
    Day(d).to_string()
}

/// The change from `before` to `now` in percent; none when there was nothing before.
fn change(now: f64, before: f64) -> Cell {
    if before.abs() < f64::EPSILON {
        Cell::Missing
    } else {
        Cell::Ratio((now - before) / before * 100.0)
    }
}

/// Why the organisation's month-over-month change is not shown, or nothing.
fn change_note(r: &CostReport) -> String {
    if r.range.is_none() || r.comparable() {
        return String::new();
    }
    report::not_compared(
        r.month_to_date_account_days(),
        r.previous_month_to_date_account_days(),
        "see the accounts' days loaded below.",
    )
}

fn forecast_source(s: ForecastSource) -> &'static str {
    match s {
        ForecastSource::CostExplorer => "Cost Explorer",
        ForecastSource::MonthComplete => "month complete",
        ForecastSource::RunRate => "run rate (no forecast in the data)",
    }
}

/// Why a category's table is empty, in words.
pub(crate) fn why_empty(what: &str, e: Empty) -> String {
    match e {
        Empty::NotCollected => {
            format!("Not collected: no loaded file of these accounts and days reports {what}.")
        }
        Empty::Failed => format!(
            "Failed: every loaded file of these accounts and days reports the {what} \
             collection as failed (see the load logs)."
        ),
        Empty::NoData => {
            format!("No data: {what} was collected and these accounts have none in these days.")
        }
    }
}

/// The page's tables, built once from the report.
fn tables(r: &CostReport) -> Vec<Table> {
    let names: BTreeMap<&str, &str> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.name.as_str()))
        .collect();
    let name = |id: &str| Cell::Text(names.get(id).copied().unwrap_or_default().to_owned());
    let no_cost = "No daily cost report is loaded for these accounts and days: cost \
        figures appear once DAILY snapshots with Cost Explorer data are loaded."
        .to_owned();
    let accounts = Table {
        id: "accounts",
        caption: "Per account: cost of the day, over the range, month to date against the \
            same days of last month, month-end forecast"
            .to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("environment", "Environment"),
            num("day_cost", "Day $"),
            num("range_cost", "Range $"),
            num("month_to_date", "Month to date $"),
            num("previous_month_to_date", "Same days last month $"),
            num("change_percent", "Change %"),
            num("month_to_date_days", "Days loaded this month"),
            num("previous_month_to_date_days", "Days loaded last month"),
            num("forecast", "Forecast $"),
            text("forecast_source", "Forecast from"),
        ],
        rows: r
            .accounts
            .iter()
            .map(|a| {
                Row::new(vec![
                    Cell::Text(a.account_id.to_string()),
                    Cell::Text(a.name.clone()),
                    Cell::Text(a.environment.clone()),
                    Cell::opt_money(a.day_cost),
                    Cell::Money(a.range_cost),
                    Cell::Money(a.month_to_date),
                    Cell::Money(a.previous_month_to_date),
                    // Missing days would show as growth or decline: no change then.
                    if r.range.is_some_and(|g| a.comparable(&g)) {
                        change(a.month_to_date, a.previous_month_to_date)
                    } else {
                        Cell::Missing
                    },
                    Cell::Int(i64::from(a.month_to_date_days)),
                    Cell::Int(i64::from(a.previous_month_to_date_days)),
                    Cell::opt_money(a.forecast.map(|f| f.month)),
                    Cell::opt_text(a.forecast.map(|f| forecast_source(f.source).to_owned())),
                ])
            })
            .collect(),
        empty: "No account matches the filter within your access.".to_owned(),
        page_rows: None,
    };
    let mut services_by_cost: Vec<_> = r.services.iter().collect();
    services_by_cost.sort_by(|a, b| b.range_cost.total_cmp(&a.range_cost));
    let services = Table {
        id: "services",
        caption: "Top services over the range (every service in the CSV)".to_owned(),
        columns: vec![
            text("service", "Service"),
            num("range_cost", "Range $"),
            num("month_to_date", "Month to date $"),
            num("previous_month_to_date", "Same days last month $"),
            num("change_percent", "Change %"),
        ],
        rows: services_by_cost
            .iter()
            .map(|s| {
                Row::new(vec![
                    Cell::Text(s.service.clone()),
                    Cell::Money(s.range_cost),
                    Cell::Money(s.month_to_date),
                    Cell::Money(s.previous_month_to_date),
                    if r.comparable() {
                        change(s.month_to_date, s.previous_month_to_date)
                    } else {
                        Cell::Missing
                    },
                ])
            })
            .collect(),
        empty: no_cost.clone(),
        page_rows: Some(TOP),
    };
    // Movers: services and accounts by how much their month to date moved against the same
    // days of last month, largest move (up or down) first; only what compares like for like
    // (a service over every account shown, an account on its own).
    let mut movers: Vec<(&str, String, String, f64, f64)> = r
        .services
        .iter()
        .filter(|_| r.comparable())
        .map(|s| {
            (
                "service",
                s.service.clone(),
                String::new(),
                s.month_to_date,
                s.previous_month_to_date,
            )
        })
        .chain(
            r.accounts
                .iter()
                .filter(|a| r.range.is_some_and(|g| a.comparable(&g)))
                .map(|a| {
                    (
                        "account",
                        a.account_id.to_string(),
                        a.name.clone(),
                        a.month_to_date,
                        a.previous_month_to_date,
                    )
                }),
        )
        .collect();
    movers.sort_by(|a, b| (b.3 - b.4).abs().total_cmp(&(a.3 - a.4).abs()));
    let movers = Table {
        id: "movers",
        caption: "Biggest movers: month to date against the same days of last month".to_owned(),
        columns: vec![
            text("kind", "Kind"),
            text("id", "Service or account"),
            text("name", "Account name"),
            num("month_to_date", "Month to date $"),
            num("previous_month_to_date", "Same days last month $"),
            num("change", "Change $"),
            num("change_percent", "Change %"),
        ],
        rows: if r.range.is_some() {
            movers
                .into_iter()
                .map(|(kind, id, name, now, before)| {
                    Row::new(vec![
                        Cell::Text(kind.to_owned()),
                        Cell::Text(id),
                        Cell::Text(name),
                        Cell::Money(now),
                        Cell::Money(before),
                        Cell::Money(now - before),
                        change(now, before),
                    ])
                })
                .collect()
        } else {
            Vec::new()
        },
        empty: if r.range.is_some() {
            "No like-for-like comparison: no account has a daily report for every day of \
             the month to date and of the same days of last month."
                .to_owned()
        } else {
            no_cost.clone()
        },
        page_rows: Some(TOP),
    };
    let mut totals: BTreeMap<time::Date, f64> = BTreeMap::new();
    for d in &r.daily {
        *totals.entry(d.day).or_default() += d.cost;
    }
    let daily_totals = Table {
        id: "daily_totals",
        caption: "Daily spend of the accounts shown".to_owned(),
        columns: vec![text("day", "Day"), num("cost", "Cost $")],
        rows: totals
            .iter()
            .map(|(d, c)| Row::new(vec![Cell::Text(day(*d)), Cell::Money(*c)]))
            .collect(),
        empty: no_cost.clone(),
        page_rows: None,
    };
    let daily = Table {
        id: "daily",
        caption: "Daily spend per account".to_owned(),
        columns: vec![
            text("day", "Day"),
            text("account_id", "Account"),
            text("name", "Name"),
            num("cost", "Cost $"),
        ],
        rows: r
            .daily
            .iter()
            .map(|d| {
                Row::new(vec![
                    Cell::Text(day(d.day)),
                    Cell::Text(d.account_id.to_string()),
                    name(d.account_id.as_str()),
                    Cell::Money(d.cost),
                ])
            })
            .collect(),
        empty: no_cost.clone(),
        page_rows: Some(PAGE_ROWS),
    };
    let daily_services = Table {
        id: "daily_services",
        caption: "Daily spend per service".to_owned(),
        columns: vec![
            text("day", "Day"),
            text("service", "Service"),
            num("cost", "Cost $"),
        ],
        rows: r
            .daily_services
            .iter()
            .map(|d| {
                Row::new(vec![
                    Cell::Text(day(d.day)),
                    Cell::Text(d.service.clone()),
                    Cell::Money(d.cost),
                ])
            })
            .collect(),
        empty: no_cost.clone(),
        page_rows: Some(PAGE_ROWS),
    };
    let marketplace = Table {
        id: "marketplace",
        caption: "AWS Marketplace spend over the range".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("product_code", "Product code"),
            text("product_name", "Product"),
            num("cost", "Cost $"),
        ],
        rows: r
            .marketplace
            .iter()
            .map(|m| {
                Row::new(vec![
                    Cell::Text(m.account_id.to_string()),
                    name(m.account_id.as_str()),
                    Cell::Text(m.product_code.clone()),
                    Cell::Text(m.product_name.clone()),
                    Cell::Money(m.cost),
                ])
            })
            .collect(),
        empty: if r.range.is_none() {
            no_cost.clone()
        } else {
            why_empty("Marketplace", r.marketplace_collection.why_empty())
        },
        page_rows: None,
    };
    let savings = Table {
        id: "savings",
        caption: "Reserved Instance and Savings Plan savings over the range".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("reservation_type", "Type"),
            text("subscription_id", "Id"),
            num("days", "Days"),
            num("utilization_percent", "Utilisation %"),
            num("on_demand_cost", "On demand $"),
            num("reservation_cost", "Reservation $"),
            num("net_savings", "Net savings $"),
        ],
        rows: r
            .savings
            .iter()
            .map(|s| {
                Row::new(vec![
                    Cell::Text(s.account_id.to_string()),
                    name(s.account_id.as_str()),
                    Cell::Text(s.reservation_type.clone()),
                    Cell::Text(s.subscription_id.clone()),
                    Cell::Int(i64::try_from(s.days).unwrap_or(i64::MAX)),
                    Cell::opt_ratio(s.utilization),
                    Cell::Money(s.on_demand_cost),
                    Cell::Money(s.reservation_cost),
                    Cell::Money(s.net_savings),
                ])
            })
            .collect(),
        empty: if r.range.is_none() {
            no_cost
        } else {
            why_empty("RI/SP savings", r.savings_collection.why_empty())
        },
        page_rows: None,
    };
    vec![
        accounts,
        services,
        movers,
        daily_totals,
        daily,
        daily_services,
        marketplace,
        savings,
    ]
}

/// The figures of the page's header, unformatted.
fn figures(r: &CostReport) -> Value {
    let range = r.range.map(|g| {
        json!({
            "from": day(g.from),
            "to": day(g.to),
            "month_to_date": [day(g.month_to_date.0), day(g.month_to_date.1)],
            "previous_month_to_date": [
                day(g.previous_month_to_date.0),
                day(g.previous_month_to_date.1)
            ],
        })
    });
    json!({
        "range": range,
        "totals": {
            "accounts": r.accounts.len(),
            "day_cost": r.day_cost(),
            "range_cost": r.range_cost(),
            "month_to_date": r.month_to_date(),
            "previous_month_to_date": r.previous_month_to_date(),
            // Like for like only when every account has every day of both spans.
            "month_over_month_comparable": r.comparable(),
            "month_to_date_account_days": {
                "loaded": r.month_to_date_account_days().0,
                "of": r.month_to_date_account_days().1,
            },
            "previous_month_to_date_account_days": {
                "loaded": r.previous_month_to_date_account_days().0,
                "of": r.previous_month_to_date_account_days().1,
            },
            "forecast": r.range.map(|_| r.forecast()),
            "forecast_run_rate_accounts": r.run_rate_forecasts(),
        },
    })
}

async fn read(state: &AppState, user: &CurrentUser, q: &PageQuery) -> Result<CostReport, WebError> {
    Ok(state
        .store()
        .cost_report(&user.user.access, &q.filter)
        .await?)
}

/// The page's tables with no row: their ids and columns, for the OpenAPI document.
pub(crate) fn shapes() -> Vec<Table> {
    let mut t = tables(&CostReport::default());
    t.extend(changes::shapes(Topic::Cost));
    t
}

/// `GET /api/cost`: the figures and every table as JSON, or one table as CSV
/// (`format=csv&table=ID`).
#[utoipa::path(get, path = "/api/cost", operation_id = "cost", tag = "pages",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::Tables),
    responses((status = 200, description = "The Cost page's figures and a page of rows of \
        each table (JSON), or one table as CSV (`format=csv&table=ID`)")))]
pub(crate) async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Cost).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Cost, &ch));
    report::respond("cost", &q, t, changes::annotate(figures(&r), &ch), false)
}

/// `GET /api/cost.csv?table=ID`: one table as CSV.
#[utoipa::path(get, path = "/api/cost.csv", operation_id = "cost_csv", tag = "csv",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::CsvTable),
    responses((status = 200, description = "One table of the Cost page as CSV, every row")))]
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Cost).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Cost, &ch));
    report::respond("cost", &q, t, Value::Null, true)
}

#[derive(Template)]
#[template(path = "cost.html")]
struct CostPage<'a> {
    user_name: &'a str,
    role: &'a str,
    csrf_token: &'a str,
    current: &'static str,
    form: FilterForm,
    /// The page's path, for the filter form and its reset link.
    path: &'static str,
    /// The CSV download path.
    csv_path: &'static str,
    empty: Option<String>,
    range: String,
    month_to_date: String,
    previous_month_to_date: String,
    day: String,
    day_cost: String,
    range_cost: String,
    total_month_to_date: String,
    total_previous_month_to_date: String,
    total_change: String,
    /// Why the change is not shown, when it is not.
    change_note: String,
    forecast: String,
    forecast_note: String,
    tables: Vec<TableView>,
    changes: Option<changes::Section>,
}

/// `GET /cost`: the Cost page.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Cost).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Cost, &ch));
    report::sort(&mut t, &q)?;
    let query = q.filter_query();
    let span = |(a, b): (time::Date, time::Date)| format!("{} – {}", day(a), day(b));
    let money = |x: f64| format!("{x:.2}");
    let empty = if r.accounts.is_empty() {
        Some(crate::overview::empty_reason(
            &user.user.access,
            !q.filter.is_empty(),
        ))
    } else if r.range.is_none() {
        Some(
            "No daily cost report is loaded for these accounts: cost figures appear once \
             DAILY snapshots with Cost Explorer data are loaded."
                .to_owned(),
        )
    } else {
        None
    };
    let run_rate = r.run_rate_forecasts();
    let page = CostPage {
        user_name: &user.user.name,
        role: user.user.role.as_str(),
        csrf_token: &user.csrf_token,
        current: "cost",
        form: q.form(),
        path: "/cost",
        csv_path: "/api/cost.csv",
        empty,
        range: r.range.map(|g| span((g.from, g.to))).unwrap_or_default(),
        month_to_date: r.range.map(|g| span(g.month_to_date)).unwrap_or_default(),
        previous_month_to_date: r
            .range
            .map(|g| span(g.previous_month_to_date))
            .unwrap_or_default(),
        day: r.range.map(|g| day(g.to)).unwrap_or_default(),
        day_cost: money(r.day_cost()),
        range_cost: money(r.range_cost()),
        total_month_to_date: money(r.month_to_date()),
        total_previous_month_to_date: money(r.previous_month_to_date()),
        total_change: match change(r.month_to_date(), r.previous_month_to_date()) {
            Cell::Ratio(x) if r.comparable() => format!("{x:+.1} %"),
            _ => "–".to_owned(),
        },
        change_note: change_note(&r),
        forecast: money(r.forecast()),
        forecast_note: if run_rate == 0 {
            "Month to date plus Cost Explorer's forecast of the rest of the month.".to_owned()
        } else {
            format!(
                "Month to date plus Cost Explorer's forecast of the rest of the month; for \
                 {run_rate} account(s) the data holds no forecast (GetCostForecast failed), so \
                 their month to date is run on at its daily rate."
            )
        },
        tables: t.iter().map(|t| t.view(&query, q.sort_of(t.id))).collect(),
        changes: changes::section(&ch),
    }
    .render()?;
    Ok(Html(page))
}
