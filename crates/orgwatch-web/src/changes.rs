//! "What changed between FROM and TO": the history section of the Overview, Cost, Security,
//! Compliance and Inventory pages, from the store's `changes_report` for the caller's access
//! and the page's filter (its range: `from` and `to`, else the page's default range, the
//! last day with a daily file and 29 days before). Each page shows the changes of its topic
//! as tables (ids `changes_*`: sortable, in the page's JSON under `tables`, as CSV with
//! `table=ID`); the Overview counts each kind and links to them.
//!
//! Operations, Ingest and Activity have no such section: Operations' Health events and
//! support cases are already the events of the range (each one a change), and its other
//! tables (Trusted Advisor, Resilience Hub, Application Signals) are not among the issue's
//! kinds of change; Ingest is a log of loads by load time; Activity is live.

use crate::query::PageQuery;
use crate::session::CurrentUser;
use crate::table::{flag, num, text, Cell, Row, Table};
use crate::{AppState, WebError};
use orgwatch_model::Day;
use orgwatch_store::{ChangeKinds, ChangesReport, Collection, Empty, Sides, EXPIRY_WARNING_DAYS};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The page whose topic a section shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Topic {
    /// Cost movers.
    Cost,
    /// New and resolved findings, certificates newly expiring.
    Security,
    /// Accounts and rules that fell out of or came back to Config compliance.
    Compliance,
    /// New and removed instances.
    Inventory,
}

/// The section's heading and what it compares, as the page shows them.
pub(crate) struct Section {
    pub(crate) heading: String,
    pub(crate) note: String,
}

impl Topic {
    /// The kinds of change its section lists.
    fn kinds(self) -> ChangeKinds {
        let none = ChangeKinds::NONE;
        match self {
            Topic::Cost => ChangeKinds { cost: true, ..none },
            Topic::Security => ChangeKinds {
                findings: true,
                certificates: true,
                ..none
            },
            Topic::Compliance => ChangeKinds {
                compliance: true,
                ..none
            },
            Topic::Inventory => ChangeKinds {
                instances: true,
                ..none
            },
        }
    }
}

/// The store's changes of `topic` for the caller's access and the page's filter.
pub(crate) async fn read(
    state: &AppState,
    user: &CurrentUser,
    q: &PageQuery,
    topic: Topic,
) -> Result<ChangesReport, WebError> {
    Ok(state
        .store()
        .changes_report(&user.user.access, &q.filter, topic.kinds())
        .await?)
}

fn day(d: time::Date) -> String {
    Day(d).to_string()
}

/// The section's heading (`None`: no daily file, so no range to compare).
pub(crate) fn section(r: &ChangesReport) -> Option<Section> {
    let range = r.range?;
    Some(Section {
        heading: format!(
            "What changed between {} and {}",
            day(range.from),
            day(range.to)
        ),
        note: format!(
            "Each side is each account and region's newest daily file on or before that day. \
             Accounts without a daily file on or before {} are new since then: their rows are \
             not listed as changes.",
            day(range.from)
        ),
    })
}

/// The range compared, for a page's JSON (`"changes": {"from", "to"}`, null without one).
pub(crate) fn range_json(r: &ChangesReport) -> Value {
    r.range.map_or(
        Value::Null,
        |g| json!({ "from": day(g.from), "to": day(g.to) }),
    )
}

/// Adds [`range_json`] to a page's JSON document under `"changes"`.
pub(crate) fn annotate(mut doc: Value, r: &ChangesReport) -> Value {
    if let Value::Object(m) = &mut doc {
        m.insert("changes".to_owned(), range_json(r));
    }
    doc
}

/// Why a change table of a category has no row: no daily file; every account new since
/// `from`; a side whose files did not collect the category, or all failed; else nothing
/// changed.
fn why(r: &ChangesReport, sides: &Sides, category: &str) -> String {
    let Some(range) = r.range else {
        return "No daily file is loaded for these accounts, so there is nothing to compare."
            .to_owned();
    };
    let side = |c: &Collection, d: time::Date| match c.why_empty() {
        Empty::NotCollected => Some(format!(
            "Not collected: no daily file of these accounts on or before {} reports {category}, \
             so nothing can be compared.",
            day(d)
        )),
        Empty::Failed => Some(format!(
            "Failed: every daily file of these accounts on or before {} reports the {category} \
             collection as failed (see the load logs), so nothing can be compared.",
            day(d)
        )),
        Empty::NoData => None,
    };
    if !r.accounts.is_empty() && r.accounts.iter().all(|a| a.from_day.is_none()) {
        return format!(
            "No change listed: every account shown was first loaded after {} (see the \
             accounts new since then).",
            day(range.from)
        );
    }
    if let Some(why) = side(&sides.to, range.to).or_else(|| side(&sides.from, range.from)) {
        return why;
    }
    format!(
        "No change: {category} is the same on {} and {}.",
        day(range.from),
        day(range.to)
    )
}

/// `topic`'s tables with no row: their ids, columns and cell types (the API's document).
pub(crate) fn shapes(topic: Topic) -> Vec<Table> {
    tables(topic, &ChangesReport::default())
}

/// The tables of `topic`'s section: its changes, then the accounts new since `from`.
pub(crate) fn tables(topic: Topic, r: &ChangesReport) -> Vec<Table> {
    let names: BTreeMap<&str, &str> = r
        .accounts
        .iter()
        .map(|a| (a.account.account_id.as_str(), a.account.name.as_str()))
        .collect();
    let name = |id: &str| Cell::Text(names.get(id).copied().unwrap_or_default().to_owned());
    let (from, to) = r
        .range
        .map_or((String::new(), String::new()), |g| (day(g.from), day(g.to)));
    let mut out = match topic {
        Topic::Cost => vec![Table {
            id: "changes_cost",
            caption: format!(
                "Cost movers: each account and service's cost of the day {from} against the \
                 day {to}, biggest change first"
            ),
            columns: vec![
                text("account_id", "Account"),
                text("name", "Name"),
                text("service", "Service"),
                num("from_cost", "Cost of FROM $"),
                num("to_cost", "Cost of TO $"),
                num("change", "Change $"),
            ],
            rows: r
                .cost_movers
                .iter()
                .map(|m| {
                    Row::new(vec![
                        Cell::Text(m.account_id.to_string()),
                        name(m.account_id.as_str()),
                        Cell::Text(m.service.clone()),
                        Cell::Money(m.from_cost),
                        Cell::Money(m.to_cost),
                        Cell::Money(m.change()),
                    ])
                })
                .collect(),
            empty: why(r, &r.cost, "Cost Explorer's services"),
            page_rows: Some(25),
        }],
        Topic::Security => {
            let at = r.to_instant();
            vec![
                Table {
                    id: "changes_findings",
                    caption: format!(
                        "Findings new (open at {to}, absent or closed at {from}) and resolved \
                         (open at {from}, closed at {to}); each finding's latest state up to \
                         each day"
                    ),
                    columns: vec![
                        text("account_id", "Account"),
                        text("name", "Name"),
                        text("change", "Change"),
                        text("severity", "Severity"),
                        text("source", "Source"),
                        text("title", "Title"),
                        text("finding_id", "Finding"),
                        text("region", "Region"),
                    ],
                    rows: r
                        .findings
                        .iter()
                        .map(|f| {
                            let mut row = Row::new(vec![
                                Cell::Text(f.account_id.to_string()),
                                name(f.account_id.as_str()),
                                Cell::Text(f.change.as_str().to_owned()),
                                Cell::Text(f.severity.clone()),
                                Cell::Text(f.source.clone()),
                                Cell::Text(f.title.clone()),
                                Cell::Text(f.finding_id.clone()),
                                Cell::Text(f.region.clone()),
                            ]);
                            if f.change == orgwatch_store::FindingChange::New
                                && matches!(f.severity.as_str(), "CRITICAL" | "HIGH")
                            {
                                row.mark = Some("bad");
                            }
                            row
                        })
                        .collect(),
                    empty: why(r, &r.security, "security"),
                    page_rows: Some(100),
                },
                Table {
                    id: "changes_certificates",
                    caption: format!(
                        "Certificates newly expiring: within {EXPIRY_WARNING_DAYS} days of the \
                         end of {to}, not within {EXPIRY_WARNING_DAYS} days of the end of {from}"
                    ),
                    columns: vec![
                        text("account_id", "Account"),
                        text("name", "Name"),
                        text("region", "Region"),
                        text("domain", "Domain"),
                        text("arn", "ARN"),
                        text("expires", "Expires"),
                        num("days_left", "Days left at TO"),
                        flag("renewal", "ACM renews"),
                    ],
                    rows: r
                        .certificates
                        .iter()
                        .map(|c| {
                            let mut row = Row::new(vec![
                                Cell::Text(c.account_id.to_string()),
                                name(c.account_id.as_str()),
                                Cell::Text(c.region.clone()),
                                Cell::Text(c.domain.clone()),
                                Cell::Text(c.arn.clone()),
                                crate::compliance::instant(c.not_after),
                                at.and_then(|at| c.days_left(at))
                                    .map_or(Cell::Missing, Cell::Int),
                                Cell::Bool(c.renewal_eligible),
                            ]);
                            row.mark = Some("warn");
                            row
                        })
                        .collect(),
                    empty: why(r, &r.security, "security"),
                    page_rows: Some(100),
                },
            ]
        }
        Topic::Compliance => vec![
            Table {
                id: "changes_compliance_accounts",
                caption: format!(
                    "Accounts that fell out of Config compliance (no non-compliant rule at \
                     {from}, some at {to}) or came back"
                ),
                columns: vec![
                    text("account_id", "Account"),
                    text("name", "Name"),
                    text("change", "Change"),
                    num("non_compliant_rules_from", "Non-compliant rules at FROM"),
                    num("non_compliant_rules_to", "Non-compliant rules at TO"),
                    num("rules_to", "Rules at TO"),
                ],
                rows: r
                    .account_compliance
                    .iter()
                    .map(|c| {
                        let mut row = Row::new(vec![
                            Cell::Text(c.account_id.to_string()),
                            name(c.account_id.as_str()),
                            Cell::Text(c.change.as_str().to_owned()),
                            Cell::Int(c.from_non_compliant),
                            Cell::Int(c.to_non_compliant),
                            Cell::Int(c.to_rules),
                        ]);
                        if c.change == orgwatch_store::ComplianceChange::FellOut {
                            row.mark = Some("warn");
                        }
                        row
                    })
                    .collect(),
                empty: why(r, &r.config, "Config"),
                page_rows: None,
            },
            Table {
                id: "changes_compliance_rules",
                caption: format!(
                    "Config rules that fell out of compliance (a non-compliant resource at {to}, \
                     none at {from}) or came back, per account and region"
                ),
                columns: vec![
                    text("account_id", "Account"),
                    text("name", "Name"),
                    text("region", "Region"),
                    text("rule", "Rule"),
                    text("change", "Change"),
                    num("resources_from", "Non-compliant resources at FROM"),
                    num("resources_to", "Non-compliant resources at TO"),
                ],
                rows: r
                    .rule_compliance
                    .iter()
                    .map(|c| {
                        Row::new(vec![
                            Cell::Text(c.account_id.to_string()),
                            name(c.account_id.as_str()),
                            Cell::Text(c.region.clone()),
                            Cell::Text(c.rule.clone()),
                            Cell::Text(c.change.as_str().to_owned()),
                            Cell::Int(c.from_resources),
                            Cell::Int(c.to_resources),
                        ])
                    })
                    .collect(),
                empty: why(r, &r.config, "Config"),
                page_rows: Some(100),
            },
        ],
        Topic::Inventory => vec![Table {
            id: "changes_instances",
            caption: format!(
                "SSM managed instances new (in the files of {to}, not of {from}) and removed"
            ),
            columns: vec![
                text("account_id", "Account"),
                text("name", "Name"),
                text("change", "Change"),
                text("region", "Region"),
                text("instance_id", "Instance"),
                text("computer_name", "Computer name"),
                text("platform", "Platform"),
            ],
            rows: r
                .instances
                .iter()
                .map(|i| {
                    Row::new(vec![
                        Cell::Text(i.account_id.to_string()),
                        name(i.account_id.as_str()),
                        Cell::Text(i.change.as_str().to_owned()),
                        Cell::Text(i.region.clone()),
                        Cell::Text(i.instance_id.clone()),
                        Cell::Text(i.computer_name.clone()),
                        Cell::Text(i.platform.clone()),
                    ])
                })
                .collect(),
            empty: why(r, &r.inventory, "the SSM inventory"),
            page_rows: Some(100),
        }],
    };
    out.push(Table {
        id: "changes_new_accounts",
        caption: format!(
            "Accounts new since {from}: no daily file on or before it (their rows are not \
             changes)"
        ),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("environment", "Environment"),
            text("newest_file", "Newest daily file up to TO"),
        ],
        rows: r
            .new_accounts()
            .map(|a| {
                Row::new(vec![
                    Cell::Text(a.account.account_id.to_string()),
                    Cell::Text(a.account.name.clone()),
                    Cell::Text(a.account.environment.clone()),
                    a.to_day.map_or(Cell::Missing, |d| Cell::Text(day(d))),
                ])
            })
            .collect(),
        empty: match r.range {
            Some(g) => format!("No account shown was first loaded after {}.", day(g.from)),
            None => "No daily file is loaded for these accounts.".to_owned(),
        },
        page_rows: None,
    });
    out
}

/// One kind of change counted on the Overview, with the page section that lists it.
pub(crate) struct Count {
    pub(crate) label: &'static str,
    pub(crate) id: &'static str,
    pub(crate) count: usize,
    pub(crate) href: String,
}

/// The Overview's counts of each kind of change, each linking to its table (keeping the
/// range compared).
pub(crate) fn counts(r: &ChangesReport) -> Vec<Count> {
    use orgwatch_store::{ComplianceChange as C, FindingChange as F, InstanceChange as I};
    let query = r.range.map_or_else(String::new, |g| {
        format!("?from={}&to={}", day(g.from), day(g.to))
    });
    let link = |page: &str, table: &str| format!("/{page}{query}#{table}");
    let findings = |c| r.findings.iter().filter(|f| f.change == c).count();
    let accounts = |c| {
        r.account_compliance
            .iter()
            .filter(|a| a.change == c)
            .count()
    };
    let instances = |c| r.instances.iter().filter(|i| i.change == c).count();
    vec![
        Count {
            label: "New findings",
            id: "new-findings",
            count: findings(F::New),
            href: link("security", "changes_findings"),
        },
        Count {
            label: "Resolved findings",
            id: "resolved-findings",
            count: findings(F::Resolved),
            href: link("security", "changes_findings"),
        },
        Count {
            label: "Accounts out of compliance",
            id: "accounts-fell-out",
            count: accounts(C::FellOut),
            href: link("compliance", "changes_compliance_accounts"),
        },
        Count {
            label: "Accounts back in compliance",
            id: "accounts-came-back",
            count: accounts(C::CameBack),
            href: link("compliance", "changes_compliance_accounts"),
        },
        Count {
            label: "Cost movers",
            id: "cost-movers",
            count: r.cost_movers.len(),
            href: link("cost", "changes_cost"),
        },
        Count {
            label: "Certificates newly expiring",
            id: "certificates-newly-expiring",
            count: r.certificates.len(),
            href: link("security", "changes_certificates"),
        },
        Count {
            label: "New instances",
            id: "new-instances",
            count: instances(I::New),
            href: link("inventory", "changes_instances"),
        },
        Count {
            label: "Removed instances",
            id: "removed-instances",
            count: instances(I::Removed),
            href: link("inventory", "changes_instances"),
        },
        Count {
            label: "Accounts new since the start",
            id: "new-accounts",
            count: r.new_accounts().count(),
            href: link("security", "changes_new_accounts"),
        },
    ]
}
