//! The Compliance page, `GET /api/compliance` (JSON, or one table as CSV with `format=csv`)
//! and `GET /api/compliance.csv`: the store's `compliance_report` for the caller's access and
//! the page's filter, as of the range's last day.

use crate::changes::{self, Topic};
use crate::cost::why_empty;
use crate::query::PageQuery;
use crate::report::{self, Figure, PageParts};
use crate::session::CurrentUser;
use crate::table::{num, text, Cell, Row, Table};
use crate::{AppState, WebError};
use axum::extract::{RawQuery, State};
use axum::response::{Html, Response};
use orgwatch_model::{Day, Timestamp};
use orgwatch_store::{Collection, ComplianceReport, Empty, RuleCounts};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) fn instant(t: Option<Timestamp>) -> Cell {
    t.map_or(Cell::Missing, |t| {
        let s = t.to_sortable_string();
        // To the second: `2026-11-23T08:00:00Z`.
        Cell::Text(format!("{}Z", &s[..19]))
    })
}

/// Why a table of a category is empty: no daily file, or what the files' logs say.
pub(crate) fn why(
    as_of: Option<time::Date>,
    collection: &Collection,
    category: &str,
    what: &str,
) -> String {
    if as_of.is_none() {
        return "No daily file is loaded for these accounts.".to_owned();
    }
    match collection.why_empty() {
        Empty::NoData => format!("No data: these accounts have no {what}."),
        e => why_empty(category, e),
    }
}

fn rule_cells(r: &RuleCounts) -> Vec<Cell> {
    vec![
        Cell::Int(r.total),
        Cell::Int(r.compliant),
        Cell::Int(r.non_compliant),
        r.score().map_or(Cell::Missing, Cell::Ratio),
    ]
}

fn rule_columns() -> [crate::table::Column; 4] {
    [
        num("rules", "Rules"),
        num("compliant_rules", "Compliant"),
        num("non_compliant_rules", "Non-compliant"),
        num("score", "Compliance %"),
    ]
}

/// A conformance pack's accounts, (account, rule) pairs and resources out of compliance.
type PackLine<'a> = (BTreeSet<&'a str>, BTreeSet<(&'a str, &'a str)>, i64);

fn tables(r: &ComplianceReport) -> Vec<Table> {
    let names: BTreeMap<&str, &str> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.name.as_str()))
        .collect();
    let name = |id: &str| Cell::Text(names.get(id).copied().unwrap_or_default().to_owned());
    let config_why = |what: &str| why(r.as_of, &r.config_collection, "Config", what);
    let rules: BTreeMap<&str, _> = r.rules.iter().map(|a| (a.account_id.as_str(), a)).collect();
    let mut resources: BTreeMap<&str, i64> = BTreeMap::new();
    for n in &r.non_compliant {
        *resources.entry(n.account_id.as_str()).or_default() += 1;
    }
    let accounts = Table {
        id: "accounts",
        caption: "Per account: Config rules (summed over its regions), non-compliant \
            resources and SSM patch compliance"
            .to_owned(),
        columns: [
            text("account_id", "Account"),
            text("name", "Name"),
            text("environment", "Environment"),
            num("regions", "Regions reporting"),
        ]
        .into_iter()
        .chain(rule_columns())
        .chain([
            num("non_compliant_resources", "Non-compliant resources"),
            num("instances", "Managed instances"),
            num("non_compliant_instances", "Instances missing patches"),
            num("missing_patches", "Missing patches"),
            num("failed_patches", "Failed patches"),
        ])
        .collect(),
        rows: r
            .accounts
            .iter()
            .map(|a| {
                let id = a.account_id.as_str();
                let mut cells = vec![
                    Cell::Text(id.to_owned()),
                    Cell::Text(a.name.clone()),
                    Cell::Text(a.environment.clone()),
                ];
                match rules.get(id) {
                    Some(rules) => {
                        cells.push(Cell::Int(rules.regions));
                        cells.extend(rule_cells(&rules.rules));
                    }
                    None => cells.extend([
                        Cell::Int(0),
                        Cell::Missing,
                        Cell::Missing,
                        Cell::Missing,
                        Cell::Missing,
                    ]),
                }
                cells.push(Cell::Int(resources.get(id).copied().unwrap_or(0)));
                let p = r.patches.get(&a.account_id).cloned().unwrap_or_default();
                cells.extend([
                    Cell::Int(p.instances),
                    Cell::Int(p.non_compliant_instances),
                    Cell::Int(p.missing),
                    Cell::Int(p.failed),
                ]);
                let mut row = Row::new(cells);
                if rules.get(id).is_some_and(|x| x.rules.non_compliant > 0) {
                    row.mark = Some("warn");
                }
                row
            })
            .collect(),
        empty: "No account matches the filter within your access.".to_owned(),
        page_rows: None,
    };
    // Per rule: its non-compliant resources, per account.
    let mut per_rule: BTreeMap<(&str, &str, &str), i64> = BTreeMap::new();
    for n in &r.non_compliant {
        *per_rule
            .entry((
                n.account_id.as_str(),
                n.rule.as_str(),
                n.conformance_pack.as_str(),
            ))
            .or_default() += 1;
    }
    let rule_table = Table {
        id: "rules",
        caption: "Non-compliant Config rules, per account, with their resources".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("rule", "Rule"),
            text("conformance_pack", "Conformance pack"),
            num("resources", "Non-compliant resources"),
        ],
        rows: per_rule
            .iter()
            .map(|((id, rule, pack), n)| {
                Row::new(vec![
                    Cell::Text((*id).to_owned()),
                    name(id),
                    Cell::Text((*rule).to_owned()),
                    Cell::Text((*pack).to_owned()),
                    Cell::Int(*n),
                ])
            })
            .collect(),
        empty: config_why("non-compliant Config rule"),
        page_rows: None,
    };
    // Per conformance pack: accounts, rules and resources out of compliance.
    let mut packs: BTreeMap<&str, PackLine> = BTreeMap::new();
    for n in &r.non_compliant {
        let p = packs.entry(n.conformance_pack.as_str()).or_default();
        p.0.insert(n.account_id.as_str());
        p.1.insert((n.account_id.as_str(), n.rule.as_str()));
        p.2 += 1;
    }
    let pack_table = Table {
        id: "conformance_packs",
        caption: "Conformance packs out of compliance (rules without a pack: empty name)"
            .to_owned(),
        columns: vec![
            text("conformance_pack", "Conformance pack"),
            num("accounts", "Accounts"),
            num("non_compliant_rules", "Non-compliant rules (per account)"),
            num("resources", "Non-compliant resources"),
        ],
        rows: packs
            .iter()
            .map(|(pack, (accounts, rules, n))| {
                Row::new(vec![
                    Cell::Text((*pack).to_owned()),
                    Cell::Int(accounts.len() as i64),
                    Cell::Int(rules.len() as i64),
                    Cell::Int(*n),
                ])
            })
            .collect(),
        empty: config_why("non-compliant resource in a conformance pack"),
        page_rows: None,
    };
    let resource_table = Table {
        id: "resources",
        caption: "Non-compliant resources".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("rule", "Rule"),
            text("conformance_pack", "Conformance pack"),
            text("resource_type", "Resource type"),
            text("resource_id", "Resource"),
            text("annotation", "Annotation"),
            text("evaluated_at", "Evaluated"),
        ],
        rows: r
            .non_compliant
            .iter()
            .map(|n| {
                Row::new(vec![
                    Cell::Text(n.account_id.to_string()),
                    name(n.account_id.as_str()),
                    Cell::Text(n.region.clone()),
                    Cell::Text(n.rule.clone()),
                    Cell::Text(n.conformance_pack.clone()),
                    Cell::Text(n.resource_type.clone()),
                    Cell::Text(n.resource_id.clone()),
                    Cell::Text(n.annotation.clone()),
                    instant(n.invoked_at),
                ])
            })
            .collect(),
        empty: config_why("non-compliant resource"),
        page_rows: Some(100),
    };
    let mut per_day: BTreeMap<time::Date, RuleCounts> = BTreeMap::new();
    for d in &r.trend {
        let e = per_day.entry(d.day).or_insert(RuleCounts {
            total: 0,
            compliant: 0,
            non_compliant: 0,
        });
        e.total += d.rules.total;
        e.compliant += d.rules.compliant;
        e.non_compliant += d.rules.non_compliant;
    }
    let trend_totals = Table {
        id: "trend_totals",
        caption: "Config compliance over time (each day: that day's reports)".to_owned(),
        columns: [text("day", "Day")]
            .into_iter()
            .chain(rule_columns())
            .collect(),
        rows: per_day
            .iter()
            .map(|(day, rules)| {
                let mut cells = vec![Cell::Text(Day(*day).to_string())];
                cells.extend(rule_cells(rules));
                Row::new(cells)
            })
            .collect(),
        empty: config_why("Config report in these days"),
        page_rows: None,
    };
    let trend = Table {
        id: "trend",
        caption: "Config compliance over time, per account".to_owned(),
        columns: [
            text("day", "Day"),
            text("account_id", "Account"),
            text("name", "Name"),
        ]
        .into_iter()
        .chain(rule_columns())
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
                cells.extend(rule_cells(&d.rules));
                Row::new(cells)
            })
            .collect(),
        empty: config_why("Config report in these days"),
        page_rows: Some(100),
    };
    let patches = Table {
        id: "patches",
        caption: "SSM patches not installed (missing, failed or waiting for a reboot)".to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("instance_id", "Instance"),
            text("title", "Patch"),
            text("classification", "Classification"),
            text("severity", "Severity"),
            text("state", "State"),
        ],
        rows: r
            .pending_patches
            .iter()
            .map(|p| {
                let mut row = Row::new(vec![
                    Cell::Text(p.account_id.to_string()),
                    name(p.account_id.as_str()),
                    Cell::Text(p.region.clone()),
                    Cell::Text(p.instance_id.clone()),
                    Cell::Text(p.title.clone()),
                    Cell::Text(p.classification.clone()),
                    Cell::Text(p.severity.clone()),
                    Cell::Text(p.state.clone()),
                ]);
                if p.state.eq_ignore_ascii_case("failed") {
                    row.mark = Some("bad");
                }
                row
            })
            .collect(),
        empty: why(
            r.as_of,
            &r.inventory_collection,
            "the SSM inventory",
            "patch missing",
        ),
        page_rows: Some(100),
    };
    vec![
        accounts,
        rule_table,
        pack_table,
        resource_table,
        trend_totals,
        trend,
        patches,
    ]
}

fn figures(r: &ComplianceReport) -> Vec<Figure> {
    let rules = r.rule_totals();
    let p = r.patch_totals();
    vec![
        Figure {
            label: "Config rules",
            id: "rules",
            value: rules.total.to_string(),
        },
        Figure {
            label: "Non-compliant rules",
            id: "non-compliant-rules",
            value: rules.non_compliant.to_string(),
        },
        Figure {
            label: "Config compliance %",
            id: "score",
            value: rules.score().map_or("–".to_owned(), |s| format!("{s:.1}")),
        },
        Figure {
            label: "Non-compliant resources",
            id: "non-compliant-resources",
            value: r.non_compliant.len().to_string(),
        },
        Figure {
            label: "Managed instances",
            id: "instances",
            value: p.instances.to_string(),
        },
        Figure {
            label: "Instances missing patches",
            id: "non-compliant-instances",
            value: p.non_compliant_instances.to_string(),
        },
        Figure {
            label: "Missing patches",
            id: "missing-patches",
            value: p.missing.to_string(),
        },
    ]
}

fn document(r: &ComplianceReport) -> Value {
    let rules = r.rule_totals();
    let p = r.patch_totals();
    json!({
        "as_of": r.as_of.map(|d| Day(d).to_string()),
        "totals": {
            "accounts": r.accounts.len(),
            "rules": rules.total,
            "compliant_rules": rules.compliant,
            "non_compliant_rules": rules.non_compliant,
            "score": rules.score(),
            "non_compliant_resources": r.non_compliant.len(),
            "instances": p.instances,
            "non_compliant_instances": p.non_compliant_instances,
            "missing_patches": p.missing,
            "failed_patches": p.failed,
            "pending_reboot_patches": p.pending_reboot,
        },
    })
}

async fn read(
    state: &AppState,
    user: &CurrentUser,
    q: &PageQuery,
) -> Result<ComplianceReport, WebError> {
    Ok(state
        .store()
        .compliance_report(&user.user.access, &q.filter)
        .await?)
}

/// The page's tables with no row: their ids and columns, for the OpenAPI document.
pub(crate) fn shapes() -> Vec<Table> {
    let mut t = tables(&ComplianceReport::default());
    t.extend(changes::shapes(Topic::Compliance));
    t
}

/// `GET /api/compliance`: the figures and every table as JSON, or one table as CSV
/// (`format=csv&table=ID`).
#[utoipa::path(get, path = "/api/compliance", operation_id = "compliance", tag = "pages",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::Tables),
    responses((status = 200, description = "The Compliance page's figures and a page of rows of \
        each table (JSON), or one table as CSV (`format=csv&table=ID`)")))]
pub(crate) async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Compliance).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Compliance, &ch));
    report::respond(
        "compliance",
        &q,
        t,
        changes::annotate(document(&r), &ch),
        false,
    )
}

/// `GET /api/compliance.csv?table=ID`: one table as CSV.
#[utoipa::path(get, path = "/api/compliance.csv", operation_id = "compliance_csv", tag = "csv",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::CsvTable),
    responses((status = 200, description = "One table of the Compliance page as CSV, every row")))]
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Compliance).await?;
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Compliance, &ch));
    report::respond("compliance", &q, t, Value::Null, true)
}

/// `GET /compliance`: the Compliance page.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q).await?;
    let ch = changes::read(&state, &user, &q, Topic::Compliance).await?;
    let parts = PageParts {
        current: "compliance",
        path: "/compliance",
        csv_path: "/api/compliance.csv",
        heading: "Compliance",
        as_of: r.as_of,
        as_of_note: "the range's last day; each account and region's latest daily file up to it",
        no_account: r.accounts.is_empty(),
        figures: figures(&r),
    };
    let mut t = tables(&r);
    t.extend(changes::tables(Topic::Compliance, &ch));
    report::render_with_changes(&user, &q, parts, t, changes::section(&ch))
}
