//! The like-for-like views of migration `0006_like_for_like_views.sql` (`view_cost_month_to_date`,
//! `view_open_findings`), on both backends: hand-built daily files whose figures are known,
//! the exact values of the views, and the same figures as `Store::org_summary()`.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_store::{OpenFindings, OrgSummary, Store};
use serde_json::{json, Value};
use time::macros::date;
use time::{Date, Duration};

orgwatch_test_support::on_both_backends!(store: the_like_for_like_views_give_the_figures_of_the_org_summary);

const ALPHA: &str = "111111111111";
const BETA: &str = "222222222222";

/// A Security Hub finding in a file: id, severity, workflow state, record state.
type Finding = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// A file of `account` whose window is `start` .. `end`: its cost report (none: the file
/// carries no cost) and Security Hub findings.
fn document(
    account: &str,
    start: Date,
    end: Date,
    cost: Option<f64>,
    findings: &[Finding],
) -> Value {
    let findings: Vec<Value> = findings
        .iter()
        .map(|(id, severity, workflow, record)| {
            json!({
                "finding_id": format!("arn:aws:securityhub:us-east-1:{account}:finding/{id}"),
                "service": "AwsS3Bucket",
                "title": *id,
                "severity": severity,
                "workflow_state": workflow,
                "record_state": record,
                "region": "us-east-1",
            })
        })
        .collect();
    let mut doc = json!({
        "account": {
            "account_id": account,
            "account_name": format!("account-{account}"),
            "account_status": "ACTIVE",
            "region": "us-east-1",
        },
        "security": {
            "security_hub": [{
                "service": "Security Hub",
                "total_findings": findings.len(),
                "findings": findings,
            }],
        },
        "logs": { "cost_status": "Pass", "security_status": "Pass" },
    });
    if let Some(cost) = cost {
        doc["cost"] = json!({
            "account_id": account,
            "current_period_cost": cost,
            // The whole previous period: what A360's cost trend compares the cost with.
            "previous_period_cost": 300.0,
            "cost_difference": cost - 300.0,
            "cost_difference_percentage": (cost - 300.0) / 300.0 * 100.0,
            "period": { "start": start.to_string(), "end": end.to_string() },
        });
    }
    doc
}

async fn load(store: &Store, path: &str, doc: &Value) {
    orgwatch_test_support::store::load_new(store, path, &serde_json::to_vec(doc).unwrap()).await;
}

/// The daily file of `account` covering `day` (its run is the day after).
async fn load_day(
    store: &Store,
    account: &str,
    day: Date,
    cost: Option<f64>,
    findings: &[Finding],
) {
    let run = day + Duration::days(1);
    let path = format!("{account}/us-east-1/{run}_DAILY.json");
    load(store, &path, &document(account, day, run, cost, findings)).await;
}

/// One line of `view_cost_month_to_date` (dates as text, `YYYY-MM-DD`).
#[derive(Debug, PartialEq)]
struct CostLine {
    account: String,
    cost_day: Option<String>,
    day_cost: Option<f64>,
    month_to_date: (Option<String>, Option<String>, f64),
    previous_month_to_date: (Option<String>, Option<String>, f64),
}

async fn cells(store: &Store, sql: &str) -> Vec<Vec<Option<String>>> {
    match store.raw_query_text(sql, &[]).await {
        Ok(rows) => rows,
        Err(e) => panic!("{sql}: {e}"),
    }
}

fn number(cell: &Option<String>) -> Option<f64> {
    cell.as_deref().map(|s| s.parse().unwrap())
}

async fn cost_view(store: &Store) -> Vec<CostLine> {
    let sql = "SELECT account, CAST(cost_day AS TEXT), CAST(day_cost AS TEXT), \
        CAST(month_to_date_first_day AS TEXT), CAST(month_to_date_last_day AS TEXT), \
        CAST(month_to_date AS TEXT), \
        CAST(previous_month_to_date_first_day AS TEXT), \
        CAST(previous_month_to_date_last_day AS TEXT), CAST(previous_month_to_date AS TEXT) \
        FROM view_cost_month_to_date ORDER BY account";
    cells(store, sql)
        .await
        .into_iter()
        .map(|r| CostLine {
            account: r[0].clone().unwrap(),
            cost_day: r[1].clone(),
            day_cost: number(&r[2]),
            month_to_date: (r[3].clone(), r[4].clone(), number(&r[5]).unwrap()),
            previous_month_to_date: (r[6].clone(), r[7].clone(), number(&r[8]).unwrap()),
        })
        .collect()
}

fn cost_summary(summary: &OrgSummary) -> Vec<CostLine> {
    let text = |d: Option<Date>| d.map(|d| d.to_string());
    let (mtd, previous) = (summary.month_to_date, summary.previous_month_to_date);
    summary
        .accounts
        .iter()
        .map(|a| CostLine {
            account: a.account_id.clone(),
            cost_day: text(summary.day),
            day_cost: a.day_cost,
            month_to_date: (
                text(mtd.map(|m| m.0)),
                text(mtd.map(|m| m.1)),
                a.month_to_date,
            ),
            previous_month_to_date: (
                text(previous.map(|p| p.0)),
                text(previous.map(|p| p.1)),
                a.previous_month_to_date,
            ),
        })
        .collect()
}

async fn findings_view(store: &Store) -> Vec<(String, OpenFindings, i64)> {
    let sql = "SELECT account, CAST(critical_findings AS TEXT), CAST(high_findings AS TEXT), \
        CAST(medium_findings AS TEXT), CAST(low_findings AS TEXT), \
        CAST(informational_findings AS TEXT), CAST(open_findings AS TEXT) \
        FROM view_open_findings ORDER BY account";
    let int = |c: &Option<String>| c.as_deref().unwrap().parse::<i64>().unwrap();
    cells(store, sql)
        .await
        .into_iter()
        .map(|r| {
            let open = OpenFindings {
                critical: int(&r[1]),
                high: int(&r[2]),
                medium: int(&r[3]),
                low: int(&r[4]),
                informational: int(&r[5]),
            };
            (r[0].clone().unwrap(), open, int(&r[6]))
        })
        .collect()
}

fn findings_summary(summary: &OrgSummary) -> Vec<(String, OpenFindings, i64)> {
    summary
        .accounts
        .iter()
        .map(|a| {
            (
                a.account_id.clone(),
                a.open_findings,
                a.open_findings.total(),
            )
        })
        .collect()
}

fn open(critical: i64, high: i64, medium: i64, low: i64, informational: i64) -> OpenFindings {
    OpenFindings {
        critical,
        high,
        medium,
        low,
        informational,
    }
}

fn day(s: &str) -> Option<String> {
    Some(s.to_owned())
}

/// Both views equal the expected lines and the org summary's figures.
async fn check(store: &Store, cost: &[CostLine], findings: &[(String, OpenFindings, i64)]) {
    let summary = store
        .org_summary(&orgwatch_store::Access::All)
        .await
        .unwrap();
    assert_eq!(cost_view(store).await, cost);
    assert_eq!(cost_summary(&summary), cost, "org_summary");
    assert_eq!(findings_view(store).await, findings);
    assert_eq!(findings_summary(&summary), findings, "org_summary");
}

async fn the_like_for_like_views_give_the_figures_of_the_org_summary(store: Store) {
    // Nothing loaded: no line.
    assert!(cost_view(&store).await.is_empty());
    assert!(findings_view(&store).await.is_empty());

    // Alpha: daily cost from the last day of August to the 31st of October. Its findings:
    // f1 NEW then RESOLVED, f2 ACTIVE then ARCHIVED, f3 and f6 still open, f4 RESOLVED then
    // reopened (NOTIFIED), f5 NEW then SUPPRESSED.
    load_day(
        &store,
        ALPHA,
        date!(2026 - 08 - 31),
        Some(1000.0),
        &[("f4", Some("LOW"), Some("RESOLVED"), Some("ACTIVE"))],
    )
    .await;
    load_day(&store, ALPHA, date!(2026 - 09 - 01), Some(1.25), &[]).await;
    load_day(
        &store,
        ALPHA,
        date!(2026 - 09 - 30),
        Some(2.5),
        &[
            ("f1", Some("HIGH"), Some("NEW"), Some("ACTIVE")),
            ("f2", Some("CRITICAL"), Some("NEW"), Some("ACTIVE")),
        ],
    )
    .await;
    load_day(
        &store,
        ALPHA,
        date!(2026 - 10 - 01),
        Some(10.25),
        &[
            ("f2", Some("CRITICAL"), Some("NEW"), Some("ARCHIVED")),
            ("f3", Some("MEDIUM"), Some("NEW"), Some("ACTIVE")),
            ("f5", Some("HIGH"), Some("NEW"), Some("ACTIVE")),
        ],
    )
    .await;
    load_day(
        &store,
        ALPHA,
        date!(2026 - 10 - 31),
        Some(20.5),
        &[
            ("f1", Some("HIGH"), Some("RESOLVED"), Some("ACTIVE")),
            ("f4", Some("LOW"), Some("NOTIFIED"), Some("ACTIVE")),
            ("f5", Some("HIGH"), Some("SUPPRESSED"), Some("ACTIVE")),
            // No severity, workflow or record state: open, informational.
            ("f6", None, None, None),
        ],
    )
    .await;
    // Beta: no cost on the 31st (its file carries none). g1 open (labels in any case), g2 NEW
    // then RESOLVED, g3 archived.
    load_day(
        &store,
        BETA,
        date!(2026 - 09 - 15),
        Some(4.5),
        &[
            ("g1", Some("Critical"), Some("new"), Some("active")),
            ("g2", Some("HIGH"), Some("NEW"), Some("ACTIVE")),
        ],
    )
    .await;
    load_day(
        &store,
        BETA,
        date!(2026 - 10 - 15),
        Some(40.25),
        &[("g2", Some("HIGH"), Some("RESOLVED"), Some("ACTIVE"))],
    )
    .await;
    load_day(
        &store,
        BETA,
        date!(2026 - 10 - 31),
        None,
        &[("g3", Some("MEDIUM"), Some("NEW"), Some("ARCHIVED"))],
    )
    .await;

    // The 31st against the whole of September (30 days), not a 1st of October that does not
    // exist; August 31st is in neither period.
    let (mtd, previous) = (
        (day("2026-10-01"), day("2026-10-31")),
        (day("2026-09-01"), day("2026-09-30")),
    );
    check(
        &store,
        &[
            CostLine {
                account: ALPHA.to_owned(),
                cost_day: day("2026-10-31"),
                day_cost: Some(20.5),
                month_to_date: (mtd.0.clone(), mtd.1.clone(), 10.25 + 20.5),
                previous_month_to_date: (previous.0.clone(), previous.1.clone(), 1.25 + 2.5),
            },
            CostLine {
                account: BETA.to_owned(),
                cost_day: day("2026-10-31"),
                day_cost: None,
                month_to_date: (mtd.0, mtd.1, 40.25),
                previous_month_to_date: (previous.0, previous.1, 4.5),
            },
        ],
        &[
            (ALPHA.to_owned(), open(0, 0, 1, 1, 1), 3),
            (BETA.to_owned(), open(1, 0, 0, 0, 0), 1),
        ],
    )
    .await;

    // The 1st of November: one day against the 1st of October. Alpha resolves f3. A MONTHLY
    // file neither counts as a day's cost nor changes a finding's state (f6 stays open).
    load_day(
        &store,
        ALPHA,
        date!(2026 - 11 - 01),
        Some(100.75),
        &[("f3", Some("MEDIUM"), Some("RESOLVED"), Some("ACTIVE"))],
    )
    .await;
    let monthly = document(
        ALPHA,
        date!(2026 - 11 - 01),
        date!(2026 - 12 - 01),
        Some(3.0),
        &[("f6", None, Some("RESOLVED"), None)],
    );
    load(
        &store,
        &format!("{ALPHA}/us-east-1/2026-11-02_MONTHLY.json"),
        &monthly,
    )
    .await;

    let (mtd, previous) = (
        (day("2026-11-01"), day("2026-11-01")),
        (day("2026-10-01"), day("2026-10-01")),
    );
    check(
        &store,
        &[
            CostLine {
                account: ALPHA.to_owned(),
                cost_day: day("2026-11-01"),
                day_cost: Some(100.75),
                month_to_date: (mtd.0.clone(), mtd.1.clone(), 100.75),
                previous_month_to_date: (previous.0.clone(), previous.1.clone(), 10.25),
            },
            CostLine {
                account: BETA.to_owned(),
                cost_day: day("2026-11-01"),
                day_cost: None,
                month_to_date: (mtd.0, mtd.1, 0.0),
                previous_month_to_date: (previous.0, previous.1, 0.0),
            },
        ],
        &[
            (ALPHA.to_owned(), open(0, 0, 0, 1, 1), 2),
            (BETA.to_owned(), open(1, 0, 0, 0, 0), 1),
        ],
    )
    .await;

    // What the seed view shows for the same account: the MONTHLY report's month to date
    // against the whole previous month, a 99 % fall.
    let seed = cells(
        &store,
        &format!(
            "SELECT cost_granularity, CAST(latest_cost AS TEXT), \
             CAST(cost_trend_percentage AS TEXT) FROM view_acct_summary \
             WHERE account_id = '{ALPHA}'"
        ),
    )
    .await;
    assert_eq!(seed.len(), 1, "{seed:?}");
    assert_eq!(seed[0][0].as_deref(), Some("MONTHLY"));
    assert_eq!(number(&seed[0][1]), Some(3.0));
    assert_eq!(number(&seed[0][2]), Some(-99.0));
}
