//! The Security page, `GET /api/security` (JSON, or one table as CSV with `format=csv`) and
//! `GET /api/security.csv`: the store's `security_report` for the caller's access and the
//! page's filter, as of the range's last day.

use crate::changes::{self, Topic};
use crate::cost::why_empty;
use crate::query::{FilterForm, PageQuery};
use crate::report;
use crate::session::CurrentUser;
use crate::table::{flag, num, text, Cell, Row, Table, TableView};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{Html, Response};
use orgwatch_model::{Day, Timestamp};
use orgwatch_store::{Empty, OpenFindings, SecurityReport, EXPIRY_WARNING_DAYS};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn instant(t: Option<Timestamp>) -> Cell {
    t.map_or(Cell::Missing, |t| {
        let s = t.to_sortable_string();
        // To the second: `2026-11-23T08:00:00Z`.
        Cell::Text(format!("{}Z", &s[..19]))
    })
}

/// Per account: the counts the page's other tables list.
#[derive(Default)]
struct AccountLine {
    open: OpenFindings,
    keys: i64,
    keys_unrotated: i64,
    secrets: i64,
    secrets_unrotated: i64,
    acls: i64,
    acls_unlogged: i64,
    trails: i64,
    trails_not_logging: i64,
    certificates_expiring: i64,
    certificates_expired: i64,
}

fn tables(r: &SecurityReport) -> Vec<Table> {
    let names: BTreeMap<&str, &str> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.name.as_str()))
        .collect();
    let name = |id: &str| Cell::Text(names.get(id).copied().unwrap_or_default().to_owned());
    let at = r.as_of_instant();
    let none = r.as_of.is_none();
    let why = |what: &str| {
        if none {
            "No daily file is loaded for these accounts.".to_owned()
        } else {
            match r.collection.why_empty() {
                Empty::NoData => format!("No data: these accounts have no {what}."),
                e => why_empty("security data", e),
            }
        }
    };
    let mut lines: BTreeMap<&str, AccountLine> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), AccountLine::default()))
        .collect();
    for f in &r.findings {
        if let Some(l) = lines.get_mut(f.account_id.as_str()) {
            l.open.merge(&f.open);
        }
    }
    for k in &r.kms_keys {
        if let Some(l) = lines.get_mut(k.account_id.as_str()) {
            l.keys += 1;
            l.keys_unrotated += i64::from(k.rotation_enabled != Some(true));
        }
    }
    for s in &r.secrets {
        if let Some(l) = lines.get_mut(s.account_id.as_str()) {
            l.secrets += 1;
            l.secrets_unrotated += i64::from(s.rotation_enabled != Some(true));
        }
    }
    for w in &r.web_acls {
        if let Some(l) = lines.get_mut(w.account_id.as_str()) {
            l.acls += 1;
            l.acls_unlogged += i64::from(w.logging_enabled != Some(true));
        }
    }
    for t in &r.trails {
        if let Some(l) = lines.get_mut(t.account_id.as_str()) {
            l.trails += 1;
            l.trails_not_logging += i64::from(t.is_logging != Some(true));
        }
    }
    for c in &r.certificates {
        if let (Some(l), Some(at)) = (lines.get_mut(c.account_id.as_str()), at) {
            l.certificates_expiring += i64::from(c.expires_within(at, EXPIRY_WARNING_DAYS));
            l.certificates_expired += i64::from(c.expired(at));
        }
    }
    let accounts = Table {
        id: "accounts",
        caption: "Per account: open findings by severity, KMS, secrets, WAF, CloudTrail, \
            certificates"
            .to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("environment", "Environment"),
            num("critical", "Critical"),
            num("high", "High"),
            num("medium", "Medium"),
            num("low", "Low"),
            num("informational", "Info"),
            num("kms_keys", "KMS keys"),
            num("kms_keys_without_rotation", "Keys without rotation"),
            num("secrets", "Secrets"),
            num("secrets_without_rotation", "Secrets without rotation"),
            num("web_acls", "Web ACLs"),
            num("web_acls_without_logging", "ACLs without logging"),
            num("trails", "Trails"),
            num("trails_not_logging", "Trails not logging"),
            num("certificates_expiring", "Certs expiring ≤30 d"),
            num("certificates_expired", "Certs expired"),
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
                    Cell::Int(l.open.critical),
                    Cell::Int(l.open.high),
                    Cell::Int(l.open.medium),
                    Cell::Int(l.open.low),
                    Cell::Int(l.open.informational),
                    Cell::Int(l.keys),
                    Cell::Int(l.keys_unrotated),
                    Cell::Int(l.secrets),
                    Cell::Int(l.secrets_unrotated),
                    Cell::Int(l.acls),
                    Cell::Int(l.acls_unlogged),
                    Cell::Int(l.trails),
                    Cell::Int(l.trails_not_logging),
                    Cell::Int(l.certificates_expiring),
                    Cell::Int(l.certificates_expired),
                ]);
                if l.open.critical > 0 {
                    row.mark = Some("bad");
                }
                row
            })
            .collect(),
        empty: "No account matches the filter within your access.".to_owned(),
        page_rows: None,
    };
    let findings = Table {
        id: "findings",
        caption: "Open findings by account, source and severity (the latest state of each \
            Security Hub finding)"
            .to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("source", "Source"),
            num("critical", "Critical"),
            num("high", "High"),
            num("medium", "Medium"),
            num("low", "Low"),
            num("informational", "Info"),
            num("total", "Total"),
        ],
        rows: r
            .findings
            .iter()
            .map(|f| {
                Row::new(vec![
                    Cell::Text(f.account_id.to_string()),
                    name(f.account_id.as_str()),
                    Cell::Text(f.source.clone()),
                    Cell::Int(f.open.critical),
                    Cell::Int(f.open.high),
                    Cell::Int(f.open.medium),
                    Cell::Int(f.open.low),
                    Cell::Int(f.open.informational),
                    Cell::Int(f.open.total()),
                ])
            })
            .collect(),
        empty: why("open finding"),
        page_rows: None,
    };
    let severities = |o: &OpenFindings| {
        vec![
            Cell::Int(o.critical),
            Cell::Int(o.high),
            Cell::Int(o.medium),
            Cell::Int(o.low),
            Cell::Int(o.informational),
            Cell::Int(o.total()),
        ]
    };
    let severity_columns = [
        num("critical", "Critical"),
        num("high", "High"),
        num("medium", "Medium"),
        num("low", "Low"),
        num("informational", "Info"),
        num("total", "Total"),
    ];
    let mut per_day: BTreeMap<time::Date, OpenFindings> = BTreeMap::new();
    for d in &r.trend {
        per_day.entry(d.day).or_default().merge(&d.open);
    }
    let trend_totals = Table {
        id: "trend_totals",
        caption: "Open findings over time, by severity (each day: the latest state of each \
            finding up to it)"
            .to_owned(),
        columns: [text("day", "Day")]
            .into_iter()
            .chain(severity_columns)
            .collect(),
        rows: per_day
            .iter()
            .map(|(day, o)| {
                let mut cells = vec![Cell::Text(Day(*day).to_string())];
                cells.extend(severities(o));
                Row::new(cells)
            })
            .collect(),
        empty: why("open finding in these days"),
        page_rows: None,
    };
    let trend = Table {
        id: "trend",
        caption: "Open findings over time, per account".to_owned(),
        columns: [
            text("day", "Day"),
            text("account_id", "Account"),
            text("name", "Name"),
        ]
        .into_iter()
        .chain(severity_columns)
        .collect(),
        rows: r
            .trend
            .iter()
            .map(|d| {
                let mut cells = vec![
                    Cell::Text(Day(d.day).to_string()),
                    Cell::Text(d.account_id.to_string()),
                    name(d.account_id.as_str()),
                ];
                cells.extend(severities(&d.open));
                Row::new(cells)
            })
            .collect(),
        empty: why("open finding in these days"),
        page_rows: Some(100),
    };
    let critical = Table {
        id: "critical",
        caption: format!(
            "Newest open critical findings, with their remediation (at most {})",
            orgwatch_store::NEWEST_CRITICAL
        ),
        columns: vec![
            text("created_at", "Created"),
            text("account_id", "Account"),
            text("region", "Region"),
            text("source", "Source"),
            text("title", "Title"),
            text("resource", "Resource"),
            text("remediation", "Remediation"),
            text("finding_id", "Finding id"),
        ],
        rows: r
            .critical
            .iter()
            .map(|f| {
                Row::new(vec![
                    instant(f.created_at),
                    Cell::Text(f.account_id.to_string()),
                    Cell::Text(f.region.clone()),
                    Cell::Text(f.source.clone()),
                    Cell::Text(f.title.clone()),
                    Cell::Text(f.resource.clone()),
                    Cell::Text(f.remediation.clone()),
                    Cell::Text(f.finding_id.clone()),
                ])
            })
            .collect(),
        empty: why("open critical finding"),
        page_rows: Some(20),
    };
    let kms = Table {
        id: "kms",
        caption: "KMS keys without automatic rotation".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("key_id", "Key"),
            text("description", "Description"),
            text("state", "State"),
        ],
        rows: r
            .kms_keys
            .iter()
            .filter(|k| k.rotation_enabled != Some(true))
            .map(|k| {
                Row::new(vec![
                    Cell::Text(k.account_id.to_string()),
                    name(k.account_id.as_str()),
                    Cell::Text(k.region.clone()),
                    Cell::Text(k.key_id.clone()),
                    Cell::Text(k.description.clone()),
                    Cell::Text(k.state.clone()),
                ])
            })
            .collect(),
        empty: why("KMS key without rotation"),
        page_rows: None,
    };
    let secrets = Table {
        id: "secrets",
        caption: "Secrets without automatic rotation".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Account name"),
            text("region", "Region"),
            text("secret", "Secret"),
            text("last_changed", "Last changed"),
            text("last_accessed", "Last accessed"),
        ],
        rows: r
            .secrets
            .iter()
            .filter(|s| s.rotation_enabled != Some(true))
            .map(|s| {
                Row::new(vec![
                    Cell::Text(s.account_id.to_string()),
                    name(s.account_id.as_str()),
                    Cell::Text(s.region.clone()),
                    Cell::Text(s.name.clone()),
                    instant(s.last_changed),
                    instant(s.last_accessed),
                ])
            })
            .collect(),
        empty: why("secret without rotation"),
        page_rows: None,
    };
    let waf = Table {
        id: "waf",
        caption: "WAF web ACLs".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Account name"),
            text("region", "Region"),
            text("web_acl", "Web ACL"),
            text("scope", "Scope"),
            num("rules", "Rules"),
            num("non_compliant_rules", "Non-compliant rules"),
            num("associated_resources", "Resources"),
            flag("logging", "Logging"),
        ],
        rows: r
            .web_acls
            .iter()
            .map(|w| {
                let mut row = Row::new(vec![
                    Cell::Text(w.account_id.to_string()),
                    name(w.account_id.as_str()),
                    Cell::Text(w.region.clone()),
                    Cell::Text(w.name.clone()),
                    Cell::Text(w.scope.clone()),
                    w.rules.map_or(Cell::Missing, Cell::Int),
                    Cell::Int(w.non_compliant_rules),
                    w.associated_resources.map_or(Cell::Missing, Cell::Int),
                    Cell::opt_bool(w.logging_enabled),
                ]);
                if w.logging_enabled != Some(true) {
                    row.mark = Some("warn");
                }
                row
            })
            .collect(),
        empty: why("WAF web ACL"),
        page_rows: None,
    };
    let cloudtrail = Table {
        id: "cloudtrail",
        caption: "CloudTrail trails and whether they are logging".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Account name"),
            text("trail", "Trail"),
            flag("logging", "Logging"),
            flag("multi_region", "Multi-region"),
            flag("log_file_validation", "Log file validation"),
            flag("encrypted", "KMS encrypted"),
            text("latest_delivery", "Latest delivery"),
            text("stopped_at", "Stopped at"),
        ],
        rows: r
            .trails
            .iter()
            .map(|t| {
                let mut row = Row::new(vec![
                    Cell::Text(t.account_id.to_string()),
                    name(t.account_id.as_str()),
                    Cell::Text(t.name.clone()),
                    Cell::opt_bool(t.is_logging),
                    Cell::opt_bool(t.is_multi_region),
                    Cell::opt_bool(t.log_file_validation),
                    Cell::Bool(t.encrypted),
                    instant(t.latest_delivery),
                    instant(t.stopped_at),
                ]);
                if t.is_logging != Some(true) {
                    row.mark = Some("bad");
                }
                row
            })
            .collect(),
        empty: why("CloudTrail trail"),
        page_rows: None,
    };
    let certificates = Table {
        id: "certificates",
        caption: format!(
            "ACM certificates by expiry (expiring within {EXPIRY_WARNING_DAYS} days highlighted)"
        ),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Account name"),
            text("region", "Region"),
            text("domain", "Domain"),
            text("status", "Status"),
            text("type", "Type"),
            text("not_after", "Expires"),
            num("days_left", "Days left"),
            flag("renewal_eligible", "ACM renews"),
            flag("expiring_30_days", "Expiring ≤30 d"),
        ],
        rows: r
            .certificates
            .iter()
            .map(|c| {
                let expiring = at.is_some_and(|at| c.expires_within(at, EXPIRY_WARNING_DAYS));
                let expired = at.is_some_and(|at| c.expired(at));
                let mut row = Row::new(vec![
                    Cell::Text(c.account_id.to_string()),
                    name(c.account_id.as_str()),
                    Cell::Text(c.region.clone()),
                    Cell::Text(c.domain.clone()),
                    Cell::Text(c.status.clone()),
                    Cell::Text(c.kind.clone()),
                    instant(c.not_after),
                    at.and_then(|at| c.days_left(at))
                        .map_or(Cell::Missing, Cell::Int),
                    Cell::Bool(c.renewal_eligible),
                    Cell::Bool(expiring),
                ]);
                row.mark = if expired {
                    Some("bad")
                } else if expiring {
                    Some("warn")
                } else {
                    None
                };
                row
            })
            .collect(),
        empty: why("ACM certificate"),
        page_rows: None,
    };
    vec![
        accounts,
        findings,
        trend_totals,
        trend,
        critical,
        kms,
        secrets,
        waf,
        cloudtrail,
        certificates,
    ]
}

/// Totals of every account shown.
struct Totals {
    open: OpenFindings,
    expiring: usize,
    expired: usize,
    keys_unrotated: usize,
    secrets_unrotated: usize,
    acls_unlogged: usize,
    trails_not_logging: usize,
}

fn totals(r: &SecurityReport) -> Totals {
    let at = r.as_of_instant();
    Totals {
        open: r.open_findings(),
        expiring: r.expiring_certificates(),
        expired: at.map_or(0, |at| {
            r.certificates.iter().filter(|c| c.expired(at)).count()
        }),
        keys_unrotated: r
            .kms_keys
            .iter()
            .filter(|k| k.rotation_enabled != Some(true))
            .count(),
        secrets_unrotated: r
            .secrets
            .iter()
            .filter(|s| s.rotation_enabled != Some(true))
            .count(),
        acls_unlogged: r
            .web_acls
            .iter()
            .filter(|w| w.logging_enabled != Some(true))
            .count(),
        trails_not_logging: r
            .trails
            .iter()
            .filter(|t| t.is_logging != Some(true))
            .count(),
    }
}

fn figures(r: &SecurityReport) -> Value {
    let t = totals(r);
    let o = t.open;
    json!({
        "as_of": r.as_of.map(|d| Day(d).to_string()),
        "totals": {
            "accounts": r.accounts.len(),
            "open_findings": {
                "critical": o.critical,
                "high": o.high,
                "medium": o.medium,
                "low": o.low,
                "informational": o.informational,
            },
            "certificates_expiring_30_days": t.expiring,
            "certificates_expired": t.expired,
            "kms_keys_without_rotation": t.keys_unrotated,
            "secrets_without_rotation": t.secrets_unrotated,
            "web_acls_without_logging": t.acls_unlogged,
            "trails_not_logging": t.trails_not_logging,
        },
    })
}

async fn read(
    state: &AppState,
    user: &CurrentUser,
    q: &PageQuery,
) -> Result<SecurityReport, WebError> {
    Ok(state
        .store()
        .security_report(&user.user.access, &q.filter)
        .await?)
}

/// The page's tables with no row: their ids and columns, for the OpenAPI document.
pub(crate) fn shapes() -> Vec<Table> {
    let mut t = tables(&SecurityReport::default());
    t.extend(changes::shapes(Topic::Security));
    t
}

/// `GET /api/security`: the figures and every table as JSON, or one table as CSV
/// (`format=csv&table=ID`).
#[utoipa::path(get, path = "/api/security", operation_id = "security", tag = "pages",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::Tables),
    responses((status = 200, description = "The Security page's figures and a page of rows of \
        each table (JSON), or one table as CSV (`format=csv&table=ID`)")))]
pub(crate) async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Security).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Security, &ch));
    report::respond(
        "security",
        &q,
        t,
        changes::annotate(figures(&r), &ch),
        false,
    )
}

/// `GET /api/security.csv?table=ID`: one table as CSV.
#[utoipa::path(get, path = "/api/security.csv", operation_id = "security_csv", tag = "csv",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::CsvTable),
    responses((status = 200, description = "One table of the Security page as CSV, every row")))]
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Security).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Security, &ch));
    report::respond("security", &q, t, Value::Null, true)
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage<'a> {
    user_name: &'a str,
    role: &'a str,
    csrf_token: &'a str,
    current: &'static str,
    form: FilterForm,
    path: &'static str,
    csv_path: &'static str,
    empty: Option<String>,
    as_of: String,
    open: OpenFindings,
    expiring: usize,
    expired: usize,
    keys_unrotated: usize,
    secrets_unrotated: usize,
    acls_unlogged: usize,
    trails_not_logging: usize,
    tables: Vec<TableView>,
    changes: Option<changes::Section>,
}

/// `GET /security`: the Security page.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Security).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Security, &ch));
    report::sort(&mut t, &q)?;
    let query = q.filter_query();
    let empty = if r.accounts.is_empty() {
        Some(crate::overview::empty_reason(
            &user.user.access,
            !q.filter.is_empty(),
        ))
    } else if r.as_of.is_none() {
        Some("No daily file is loaded for these accounts yet.".to_owned())
    } else {
        None
    };
    let totals = totals(&r);
    let page = SecurityPage {
        user_name: &user.user.name,
        role: user.user.role.as_str(),
        csrf_token: &user.csrf_token,
        current: "security",
        form: q.form(),
        path: "/security",
        csv_path: "/api/security.csv",
        empty,
        as_of: r.as_of.map(|d| Day(d).to_string()).unwrap_or_default(),
        open: totals.open,
        expiring: totals.expiring,
        expired: totals.expired,
        keys_unrotated: totals.keys_unrotated,
        secrets_unrotated: totals.secrets_unrotated,
        acls_unlogged: totals.acls_unlogged,
        trails_not_logging: totals.trails_not_logging,
        tables: t.iter().map(|t| t.view(&query, q.sort_of(t.id))).collect(),
        changes: changes::section(&ch),
    }
    .render()?;
    Ok(Html(page))
}
