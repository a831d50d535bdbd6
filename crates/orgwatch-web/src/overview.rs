//! The Overview page and `GET /api/overview`: the store's `org_summary` for the caller's
//! access, per account and for the organisation.

use crate::changes::{self, Count, Section};
use crate::query::PageQuery;
use crate::session::CurrentUser;
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::Json;
use orgwatch_model::Day;
use orgwatch_store::{Access, AccountSummary, OpenFindings, OrgSummary};
use orgwatch_store::{ChangeKinds, ChangesReport, PageFilter};
use serde::Serialize;
use std::collections::BTreeMap;
use time::Date;

/// The overview as JSON: the same figures as the page, unformatted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OverviewJson {
    /// The latest complete day with cost (`YYYY-MM-DD`), or null without daily cost.
    pub day: Option<String>,
    /// First and last day of the month to date.
    pub month_to_date: Option<[String; 2]>,
    /// The same days of the previous month.
    pub previous_month_to_date: Option<[String; 2]>,
    /// Organisation totals over the accounts the caller sees.
    pub totals: TotalsJson,
    /// One object per account the caller sees, by account id.
    pub accounts: Vec<AccountJson>,
    /// What changed between the range's first and last day (null: no daily file).
    pub changes: Option<ChangesJson>,
}

/// The counts of each kind of change between two days.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangesJson {
    /// First day compared (`YYYY-MM-DD`).
    pub from: String,
    /// Last day compared.
    pub to: String,
    /// Changes of each kind (`new_findings`, `resolved_findings`, `accounts_fell_out`,
    /// `accounts_came_back`, `cost_movers`, `certificates_newly_expiring`, `new_instances`,
    /// `removed_instances`, `new_accounts`).
    pub counts: BTreeMap<String, usize>,
}

impl ChangesJson {
    /// The counts of `r` (`None`: no range, no daily file).
    fn of(r: &ChangesReport) -> Option<ChangesJson> {
        let range = r.range?;
        Some(ChangesJson {
            from: day(range.from),
            to: day(range.to),
            counts: changes::counts(r)
                .into_iter()
                .map(|c| (c.id.replace('-', "_"), c.count))
                .collect(),
        })
    }
}

/// The changes the Overview counts: every account the caller sees, over the query's
/// `from` and `to` (else the default range); a bad range is a 400 that names it.
async fn read_changes(
    state: &AppState,
    user: &CurrentUser,
    raw: Option<&str>,
) -> Result<ChangesReport, WebError> {
    let q = PageQuery::parse(raw)?;
    let filter = PageFilter {
        from: q.filter.from,
        to: q.filter.to,
        ..PageFilter::default()
    };
    Ok(state
        .store()
        .changes_report(&user.user.access, &filter, ChangeKinds::ALL)
        .await?)
}

/// Organisation totals.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotalsJson {
    /// Accounts.
    pub accounts: usize,
    /// Cost of `day`.
    pub day_cost: f64,
    /// Cost month to date.
    pub month_to_date: f64,
    /// Cost over the same days of the previous month.
    pub previous_month_to_date: f64,
    /// Whether every account has every day's DAILY report month to date and the same days
    /// of last month: the change is only meaningful then.
    pub month_over_month_comparable: bool,
    /// Account-days of the month to date with a DAILY report, and how many there are.
    pub month_to_date_account_days: AccountDaysJson,
    /// The same for the same days of the previous month.
    pub previous_month_to_date_account_days: AccountDaysJson,
    /// Open Security Hub findings by severity.
    pub open_findings: FindingsJson,
}

/// Account-days loaded of a span, and how many there are.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountDaysJson {
    /// With a DAILY cost report.
    pub loaded: u32,
    /// Accounts times days.
    pub of: u32,
}

impl From<(u32, u32)> for AccountDaysJson {
    fn from((loaded, of): (u32, u32)) -> AccountDaysJson {
        AccountDaysJson { loaded, of }
    }
}

/// Open findings by severity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FindingsJson {
    /// CRITICAL.
    pub critical: i64,
    /// HIGH.
    pub high: i64,
    /// MEDIUM.
    pub medium: i64,
    /// LOW.
    pub low: i64,
    /// Any other severity.
    pub informational: i64,
}

/// One account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountJson {
    /// 12-digit id.
    pub account_id: String,
    /// Name.
    pub name: String,
    /// Environment.
    pub environment: String,
    /// Snapshots loaded.
    pub snapshots: i64,
    /// Cost of `day` (null: no report for it).
    pub day_cost: Option<f64>,
    /// Cost month to date.
    pub month_to_date: f64,
    /// Cost over the same days of the previous month.
    pub previous_month_to_date: f64,
    /// Days of the month to date with a DAILY cost report.
    pub month_to_date_days: u32,
    /// Days of the same days of the previous month with one.
    pub previous_month_to_date_days: u32,
    /// Whether both spans have every day's report (the change compares like for like).
    pub comparable: bool,
    /// Open findings by severity.
    pub open_findings: FindingsJson,
    /// Latest daily Config compliance score.
    pub compliance: Option<f64>,
    /// Mean health score of its loads.
    pub mean_health: Option<f64>,
    /// Run date of the newest file loaded.
    pub last_loaded_run: Option<String>,
}

fn day(d: Date) -> String {
    Day(d).to_string()
}

fn findings(f: OpenFindings) -> FindingsJson {
    FindingsJson {
        critical: f.critical,
        high: f.high,
        medium: f.medium,
        low: f.low,
        informational: f.informational,
    }
}

impl From<&OrgSummary> for OverviewJson {
    /// The figures, without changes.
    fn from(org: &OrgSummary) -> OverviewJson {
        OverviewJson {
            day: org.day.map(day),
            month_to_date: org.month_to_date.map(|(a, b)| [day(a), day(b)]),
            previous_month_to_date: org.previous_month_to_date.map(|(a, b)| [day(a), day(b)]),
            totals: TotalsJson {
                accounts: org.accounts.len(),
                day_cost: org.day_cost(),
                month_to_date: org.month_to_date_cost(),
                previous_month_to_date: org.previous_month_to_date_cost(),
                month_over_month_comparable: org.day.is_some() && org.all_comparable(),
                month_to_date_account_days: org.month_to_date_account_days().into(),
                previous_month_to_date_account_days: org
                    .previous_month_to_date_account_days()
                    .into(),
                open_findings: findings(org.open_findings()),
            },
            accounts: org
                .accounts
                .iter()
                .map(|a| AccountJson {
                    account_id: a.account_id.clone(),
                    name: a.name.clone(),
                    environment: a.environment.clone(),
                    snapshots: a.snapshots,
                    day_cost: a.day_cost,
                    month_to_date: a.month_to_date,
                    previous_month_to_date: a.previous_month_to_date,
                    month_to_date_days: a.month_to_date_days,
                    previous_month_to_date_days: a.previous_month_to_date_days,
                    comparable: org.comparable(a),
                    open_findings: findings(a.open_findings),
                    compliance: a.latest_compliance,
                    mean_health: a.mean_health,
                    last_loaded_run: a.last_loaded_run.map(day),
                })
                .collect(),
            changes: None,
        }
    }
}

/// `GET /api/overview` (`from`, `to`: the days whose changes it counts).
#[utoipa::path(get, path = "/api/overview", operation_id = "overview", tag = "pages",
    params(
        ("from" = Option<String>, Query, description = "First day whose changes are counted \
            (`YYYY-MM-DD`; empty: 29 days before `to`)"),
        ("to" = Option<String>, Query, description = "Last day (`YYYY-MM-DD`; empty: the \
            latest day with a daily file), not before `from`"),
    ),
    responses((status = 200, description = "The Overview: every account of the caller's access \
        with its cost, open findings, compliance and health", body = OverviewJson)))]
pub(crate) async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<OverviewJson>, WebError> {
    let ch = read_changes(&state, &user, raw.as_deref()).await?;
    let org = state.store().org_summary(&user.user.access).await?;
    let mut json = OverviewJson::from(&org);
    json.changes = ChangesJson::of(&ch);
    Ok(Json(json))
}

/// Why the organisation's change is not shown (empty when it is): as the Cost page's.
fn change_note(org: &OrgSummary) -> String {
    if org.day.is_none() || org.all_comparable() {
        return String::new();
    }
    crate::report::not_compared(
        org.month_to_date_account_days(),
        org.previous_month_to_date_account_days(),
        "each account's days loaded are in the table.",
    )
}

/// One account's line, formatted for the page.
struct Row {
    account_id: String,
    name: String,
    environment: String,
    day_cost: String,
    month_to_date: String,
    previous_month_to_date: String,
    change: String,
    /// Days loaded month to date / the same days of last month.
    days: String,
    findings: OpenFindings,
    compliance: String,
    health: String,
    last_loaded_run: String,
}

fn money(x: f64) -> String {
    format!("{x:.2}")
}

fn optional(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or_else(|| "–".to_owned(), f)
}

/// The relative change from `before` to `now`, or a dash when there was nothing before.
fn change(now: f64, before: f64) -> String {
    if before.abs() < f64::EPSILON {
        "–".to_owned()
    } else {
        format!("{:+.1} %", (now - before) / before * 100.0)
    }
}

impl Row {
    /// `a`'s line; its change only when it compares like for like.
    fn of(org: &OrgSummary, a: &AccountSummary) -> Row {
        Row {
            account_id: a.account_id.clone(),
            name: a.name.clone(),
            environment: a.environment.clone(),
            day_cost: optional(a.day_cost, money),
            month_to_date: money(a.month_to_date),
            previous_month_to_date: money(a.previous_month_to_date),
            change: if org.comparable(a) {
                change(a.month_to_date, a.previous_month_to_date)
            } else {
                "–".to_owned()
            },
            days: format!(
                "{} / {}",
                a.month_to_date_days, a.previous_month_to_date_days
            ),
            findings: a.open_findings,
            compliance: optional(a.latest_compliance, |x| format!("{x:.1}")),
            health: optional(a.mean_health, |x| format!("{x:.1}")),
            last_loaded_run: a.last_loaded_run.map_or_else(|| "–".to_owned(), day),
        }
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage<'a> {
    user_name: &'a str,
    role: &'a str,
    csrf_token: &'a str,
    /// The page, for the navigation.
    current: &'static str,
    /// Why there is nothing to show, when there is nothing.
    empty: Option<String>,
    /// Why there is no cost, when accounts have none.
    no_cost: Option<&'static str>,
    day: String,
    month_to_date: String,
    previous_month_to_date: String,
    total_day_cost: String,
    total_month_to_date: String,
    total_previous_month_to_date: String,
    total_change: String,
    /// Why the change is not shown, when it is not.
    change_note: String,
    total_findings: OpenFindings,
    rows: Vec<Row>,
    changes: Option<Section>,
    change_counts: Vec<Count>,
}

/// Why a page has no account: none loaded, none in the caller's access, or (when
/// `filtered`) none that the page's filter names.
pub(crate) fn empty_reason(access: &Access, filtered: bool) -> String {
    if filtered {
        return "No account you may see matches the filter: widen it or reset it.".to_owned();
    }
    match access {
        Access::All => "No account is loaded yet. Load A360 snapshots with \
            `orgwatch ingest --from DIR`, or try `orgwatch demo`."
            .to_owned(),
        Access::Limited(l) => {
            let mut named: Vec<String> = l.accounts.iter().map(|a| a.to_string()).collect();
            named.extend(l.ous.iter().map(|o| format!("OU {o}")));
            named.extend(l.environments.iter().map(|e| format!("environment {e}")));
            if named.is_empty() {
                "Your access is limited to no account: ask an administrator to grant you some."
                    .to_owned()
            } else {
                format!(
                    "Your access is limited to {}, and no loaded account matches.",
                    named.join(", ")
                )
            }
        }
    }
}

/// `GET /`: the Overview page (`from`, `to`: the days whose changes it counts).
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, WebError> {
    let ch = read_changes(&state, &user, raw.as_deref()).await?;
    let org = state.store().org_summary(&user.user.access).await?;
    let span = |r: Option<(Date, Date)>| {
        r.map_or_else(String::new, |(a, b)| format!("{} – {}", day(a), day(b)))
    };
    let page = OverviewPage {
        user_name: &user.user.name,
        role: user.user.role.as_str(),
        csrf_token: &user.csrf_token,
        current: "overview",
        empty: org
            .accounts
            .is_empty()
            .then(|| empty_reason(&user.user.access, false)),
        no_cost: (org.day.is_none() && !org.accounts.is_empty()).then_some(
            "No daily cost report is loaded yet: cost figures appear once a DAILY snapshot \
             with Cost Explorer data is loaded.",
        ),
        day: org.day.map_or_else(String::new, day),
        month_to_date: span(org.month_to_date),
        previous_month_to_date: span(org.previous_month_to_date),
        total_day_cost: money(org.day_cost()),
        total_month_to_date: money(org.month_to_date_cost()),
        total_previous_month_to_date: money(org.previous_month_to_date_cost()),
        total_change: if org.all_comparable() {
            change(org.month_to_date_cost(), org.previous_month_to_date_cost())
        } else {
            "–".to_owned()
        },
        change_note: change_note(&org),
        total_findings: org.open_findings(),
        rows: org.accounts.iter().map(|a| Row::of(&org, a)).collect(),
        changes: changes::section(&ch),
        change_counts: changes::counts(&ch),
    }
    .render()?;
    Ok(Html(page))
}
