//! The views of migration `0002_views.sql`, specified on both backends: every test body runs
//! once on SQLite and once on a real PostgreSQL server (`DATABASE_URL`).
//!
//! Tests named `weakness_N_…` are regressions for the A360 view bugs listed in section 7 of its
//! spec; none may come back.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_model::AccountId;
use orgwatch_store::{Backend, Store};
use orgwatch_test_support::a360::{DAILY, DAILY_PATH, EVERY, MONTHLY, MONTHLY_PATH};
use orgwatch_test_support::on_both_backends;
use orgwatch_test_support::store::{columns, load_new as load};

const EVERY_PATH: &str = "123456789012/us-east-1/2026-11-25_DAILY.json";
const ACCOUNT: &str = "210987654321";

/// Every view of the schema: the 42 A360 names plus orgwatch's own, sorted.
const VIEWS: &[&str] = &[
    "latest_snapshots",
    "view_accounts",
    "view_acct_cost_rep",
    "view_acct_cost_rep_forecast",
    "view_acct_log_messages",
    "view_acct_logs",
    "view_acct_products",
    "view_acct_security",
    "view_acct_security_findings_details",
    "view_acct_security_findings_summary",
    "view_acct_serv",
    "view_acct_serv_cost",
    "view_acct_summary",
    "view_acct_support_tickets",
    "view_alternate_contacts",
    "view_application_signals",
    "view_certificates",
    "view_cloudtrail_logs",
    "view_compute_optimizer",
    "view_compute_optimizer_summary",
    "view_config_inventory",
    "view_config_reports",
    "view_contact_info",
    "view_cost_month_to_date",
    "view_guard_duty_findings",
    "view_health_events",
    "view_inspector_findings",
    "view_inventory_applications",
    "view_inventory_instances",
    "view_inventory_patches",
    "view_kms_keys",
    "view_load_status",
    "view_marketplace_usage",
    "view_non_compliant_resources",
    "view_open_findings",
    "view_product_acct",
    "view_product_summary",
    "view_products",
    "view_resilience_hub_apps",
    "view_ri_sp_daily_savings",
    "view_secrets_manager_secrets",
    "view_service_resources",
    "view_service_resources_summary",
    "view_snapshot_coverage",
    "view_summary",
    "view_trusted_advisor_checks",
    "view_waf_rules",
    "view_waf_rules_detailed",
];

/// The account dimension columns every enrichment view carries, in order.
const DIMENSIONS: &[&str] = &[
    "account",
    "account_region",
    "account_name",
    "account_type",
    "account_category",
    "account_status",
    "account_partner",
    "account_customer",
    "account_full",
    "project_product_name",
];

/// The views that add the account dimensions to a table's own columns.
const ENRICHMENT: &[&str] = &[
    "view_contact_info",
    "view_alternate_contacts",
    "view_config_reports",
    "view_non_compliant_resources",
    "view_service_resources",
    "view_compute_optimizer",
    "view_guard_duty_findings",
    "view_kms_keys",
    "view_waf_rules",
    "view_waf_rules_detailed",
    "view_cloudtrail_logs",
    "view_secrets_manager_secrets",
    "view_certificates",
    "view_inspector_findings",
    "view_inventory_instances",
    "view_inventory_applications",
    "view_inventory_patches",
    "view_marketplace_usage",
    "view_trusted_advisor_checks",
    "view_health_events",
    "view_application_signals",
    "view_resilience_hub_apps",
    "view_ri_sp_daily_savings",
    "view_config_inventory",
    "view_acct_serv",
    "view_acct_cost_rep",
    "view_acct_serv_cost",
    "view_acct_cost_rep_forecast",
    "view_acct_security",
    "view_acct_security_findings_details",
    "view_product_acct",
    "view_acct_products",
    "view_acct_logs",
    "view_acct_log_messages",
    "view_acct_support_tickets",
    "view_products",
];

on_both_backends!(store:
    every_view_runs_on_the_genuine_sample,
    current_state_is_the_latest_daily_snapshot_and_history_is_kept,
    weakness_8_summaries_cover_every_account_and_only_the_latest_period,
    weakness_8_account_age_counts_whole_days,
    weakness_8_inventory_applications_keep_their_details,
    failed_loads_and_missing_days_show,
    every_category_reaches_its_view,
);

async fn load_sample(store: &Store) {
    load(store, DAILY_PATH, DAILY).await;
    load(store, MONTHLY_PATH, MONTHLY).await;
}

/// The document as JSON, edited, as bytes.
fn edit(bytes: &[u8], f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    f(&mut v);
    serde_json::to_vec_pretty(&v).unwrap()
}

async fn cells(store: &Store, sql: &str) -> Vec<Vec<Option<String>>> {
    match store.raw_query_text(sql, &[]).await {
        Ok(rows) => rows,
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// The names of every view, sorted, from the backend's catalog.
/// The activity views (tests/activity.rs covers their content).
const ACTIVITY_VIEWS: &[&str] = &["view_activity_minutes", "view_activity_top10"];

/// The snapshot views of the database, sorted (activity views left out).
async fn view_names(store: &Store) -> Vec<String> {
    let sql = match store.backend() {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'view'",
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.views \
             WHERE table_schema = current_schema()"
        }
    };
    let mut names: Vec<String> = cells(store, sql)
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .filter(|n| !ACTIVITY_VIEWS.contains(&n.as_str()))
        .collect();
    names.sort();
    names
}

/// Number of rows of `SELECT * FROM view` (optionally filtered).
async fn count(store: &Store, view: &str, filter: &str) -> i64 {
    let sql = format!("SELECT CAST(COUNT(*) AS TEXT) FROM (SELECT * FROM {view}) x {filter}");
    cells(store, &sql).await[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

/// The named columns of a view's rows, as text, in the given order.
async fn select(store: &Store, view: &str, cols: &[&str], rest: &str) -> Vec<Vec<Option<String>>> {
    let list: Vec<String> = cols.iter().map(|c| format!("CAST({c} AS TEXT)")).collect();
    cells(
        store,
        &format!("SELECT {} FROM {view} {rest}", list.join(", ")),
    )
    .await
}

/// The only row of `select`.
async fn one(store: &Store, view: &str, cols: &[&str], rest: &str) -> Vec<Option<String>> {
    let mut rows = select(store, view, cols, rest).await;
    assert_eq!(rows.len(), 1, "{view} {rest}: {rows:?}");
    rows.remove(0)
}

fn num(v: &Option<String>) -> f64 {
    v.as_deref()
        .unwrap_or_else(|| panic!("NULL where a number was expected"))
        .parse()
        .unwrap()
}

fn text(v: &Option<String>) -> &str {
    v.as_deref()
        .unwrap_or_else(|| panic!("NULL where text was expected"))
}

fn close(actual: &Option<String>, expected: f64) {
    let a = num(actual);
    assert!((a - expected).abs() < 1e-6, "{a} != {expected}");
}

async fn every_view_runs_on_the_genuine_sample(store: Store) {
    load_sample(&store).await;
    assert_eq!(view_names(&store).await, VIEWS);

    // SELECT * of every view, every column read (cast to text), first rows only.
    for view in VIEWS {
        let cols = columns(&store, view).await;
        assert!(!cols.is_empty(), "{view} has no columns");
        let list: Vec<String> = cols
            .iter()
            .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
            .collect();
        let rows = cells(
            &store,
            &format!("SELECT {} FROM {view} LIMIT 5", list.join(", ")),
        )
        .await;
        assert!(rows.iter().all(|r| r.len() == cols.len()), "{view}");
        count(&store, view, "").await;
    }

    // The account and its dimensions.
    let acct = one(
        &store,
        "view_accounts",
        &[
            "account",
            "account_full",
            "project_product_name",
            "account_partner",
            "account_customer",
            "account_category",
            "account_type",
        ],
        "",
    )
    .await;
    assert_eq!(
        acct,
        [
            ACCOUNT,
            "210987654321-210987654321",
            "Orders Platform",
            "Example Partner",
            "Example Corp",
            "Workload",
            "Development"
        ]
        .map(|s| Some(s.to_owned()))
    );

    // Current state: the daily file's two KMS keys, not the monthly file's copies.
    assert_eq!(count(&store, "view_kms_keys", "").await, 2);
    assert_eq!(
        count(
            &store,
            "view_kms_keys",
            "WHERE snapshot_granularity = 'DAILY' AND snapshot_period_start = '2026-11-23'"
        )
        .await,
        2
    );
    assert_eq!(count(&store, "view_secrets_manager_secrets", "").await, 2);
    assert_eq!(count(&store, "view_certificates", "").await, 1);
    assert_eq!(count(&store, "view_cloudtrail_logs", "").await, 1);
    assert_eq!(count(&store, "view_service_resources", "").await, 15);

    // Time series: both files.
    assert_eq!(count(&store, "view_acct_serv", "").await, 20);
    assert_eq!(
        count(
            &store,
            "view_acct_serv",
            "WHERE snapshot_granularity = 'DAILY'"
        )
        .await,
        10
    );
    assert_eq!(
        count(
            &store,
            "view_acct_serv",
            "WHERE snapshot_granularity = 'MONTHLY'"
        )
        .await,
        10
    );
    assert_eq!(count(&store, "view_acct_cost_rep", "").await, 2);
    assert_eq!(
        count(
            &store,
            "view_acct_cost_rep",
            "WHERE date_from = period_start AND date_to = period_end"
        )
        .await,
        2
    );
    assert_eq!(count(&store, "view_acct_serv_cost", "").await, 10);
    assert_eq!(count(&store, "view_acct_security", "").await, 4);
    assert_eq!(
        count(&store, "view_acct_security_findings_details", "").await,
        8
    );
    assert_eq!(count(&store, "view_inspector_findings", "").await, 2);
    assert_eq!(count(&store, "view_resilience_hub_apps", "").await, 1);
    assert_eq!(count(&store, "view_acct_logs", "").await, 2);
    assert_eq!(count(&store, "view_acct_log_messages", "").await, 20);

    // Products.
    assert_eq!(
        count(
            &store,
            "view_products",
            "WHERE account IS NULL AND project_product_name = 'Orders Platform'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &store,
            "view_product_acct",
            "WHERE project_product_name = 'Orders Platform'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &store,
            "view_acct_products",
            "WHERE name = 'Orders Platform'"
        )
        .await,
        1
    );

    // Resources of the latest daily file: 14 active, 1 stopped EC2 instance.
    let totals = one(
        &store,
        "view_service_resources_summary",
        &[
            "SUM(resource_count)",
            "SUM(active_resources)",
            "SUM(inactive_resources)",
        ],
        "",
    )
    .await;
    assert_eq!(
        totals.iter().map(num).collect::<Vec<_>>(),
        [15.0, 14.0, 1.0]
    );
    let ec2 = one(
        &store,
        "view_service_resources_summary",
        &[
            "account",
            "resource_count",
            "active_resources",
            "inactive_resources",
        ],
        "WHERE service_name = 'EC2'",
    )
    .await;
    assert_eq!(text(&ec2[0]), ACCOUNT);
    assert_eq!(
        ec2[1..].iter().map(num).collect::<Vec<_>>(),
        [2.0, 1.0, 1.0]
    );

    // The account summary: Security Hub of the latest daily file has 1 HIGH, 2 MEDIUM, 1 LOW.
    let summary = one(
        &store,
        "view_acct_summary",
        &[
            "account",
            "security_health_score",
            "security_findings",
            "critical_findings",
            "high_findings",
            "medium_findings",
            "low_findings",
            "cost_granularity",
            "latest_cost",
            "instance_count",
            "running_instances",
            "project_product_name",
        ],
        "",
    )
    .await;
    assert_eq!(text(&summary[0]), ACCOUNT);
    assert_eq!(
        summary[1..7].iter().map(num).collect::<Vec<_>>(),
        [2.0, 4.0, 0.0, 1.0, 2.0, 1.0]
    );
    assert_eq!(text(&summary[7]), "MONTHLY");
    close(&summary[8], 187.668128);
    assert_eq!(
        summary[9..11].iter().map(num).collect::<Vec<_>>(),
        [0.0, 0.0]
    );
    assert_eq!(text(&summary[11]), "Orders Platform");

    // Per Security Hub row: worst severity, risk level, resolution rate.
    let rows = select(
        &store,
        "view_acct_security_findings_summary",
        &[
            "service",
            "severity",
            "risk_level",
            "resolution_rate_percent",
            "suppressed_count",
            "in_progress_count",
        ],
        "WHERE snapshot_granularity = 'DAILY' ORDER BY service",
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (text(&rows[0][0]), text(&rows[0][1]), text(&rows[0][2])),
        ("GuardDuty", "HIGH", "HIGH")
    );
    assert_eq!(
        (text(&rows[1][0]), text(&rows[1][1]), text(&rows[1][2])),
        ("Security Hub", "MEDIUM", "MEDIUM")
    );
    close(&rows[0][3], 0.0);
    close(&rows[1][3], 33.33);
    assert_eq!(
        rows.iter()
            .map(|r| (num(&r[4]), num(&r[5])))
            .collect::<Vec<_>>(),
        [(0.0, 0.0), (0.0, 0.0)]
    );

    // Loads: the 12 of 16 categories that passed in the latest load.
    let status = one(
        &store,
        "view_load_status",
        &[
            "account",
            "health_score",
            "loaded_count",
            "failed_count",
            "config_status",
        ],
        "",
    )
    .await;
    assert_eq!(text(&status[0]), ACCOUNT);
    close(&status[1], 75.0);
    assert_eq!((num(&status[2]), num(&status[3])), (2.0, 0.0));
    assert_eq!(text(&status[4]), "Fail");

    let coverage = select(
        &store,
        "view_snapshot_coverage",
        &[
            "granularity",
            "snapshot_count",
            "first_period_start",
            "last_period_start",
            "missing_days",
        ],
        "ORDER BY granularity",
    )
    .await;
    assert_eq!(
        coverage,
        [
            [
                Some("DAILY"),
                Some("1"),
                Some("2026-11-23"),
                Some("2026-11-23"),
                Some("0")
            ],
            [
                Some("MONTHLY"),
                Some("1"),
                Some("2026-11-01"),
                Some("2026-11-01"),
                None
            ],
        ]
        .map(|r| r.map(|c| c.map(str::to_owned)).to_vec())
    );
}

async fn current_state_is_the_latest_daily_snapshot_and_history_is_kept(store: Store) {
    load_sample(&store).await;
    // The same document backfilled as the run of 2026-11-21 (window 2026-11-20), loaded last.
    load(
        &store,
        "210987654321/us-east-1/2026-11-21_DAILY.json",
        DAILY,
    )
    .await;

    let kms_rows = cells(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM kms_keys").await;
    assert_eq!(text(&kms_rows[0][0]), "6");
    assert_eq!(count(&store, "view_kms_keys", "").await, 2);
    assert_eq!(
        count(
            &store,
            "view_kms_keys",
            "WHERE snapshot_period_start = '2026-11-23'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &store,
            "view_service_resources",
            "WHERE snapshot_period_start = '2026-11-23'"
        )
        .await,
        15
    );
    assert_eq!(count(&store, "view_service_resources", "").await, 15);

    let latest = select(
        &store,
        "latest_snapshots",
        &["region", "granularity", "period_start"],
        "ORDER BY granularity",
    )
    .await;
    assert_eq!(
        latest,
        [
            ["us-east-1", "DAILY", "2026-11-23"],
            ["us-east-1", "MONTHLY", "2026-11-01"]
        ]
        .map(|r| r.map(|c| Some(c.to_owned())).to_vec())
    );

    // History keeps every file.
    assert_eq!(count(&store, "view_acct_serv", "").await, 30);
    assert_eq!(
        count(
            &store,
            "view_acct_serv",
            "WHERE snapshot_period_start = '2026-11-20'"
        )
        .await,
        10
    );
    assert_eq!(count(&store, "view_acct_security", "").await, 6);

    // Summaries read the latest period only, whatever the load order.
    let daily = one(
        &store,
        "view_summary",
        &[
            "date_from",
            "services_period_start",
            "service_count",
            "total_findings",
        ],
        "WHERE period_granularity = 'DAILY'",
    )
    .await;
    assert_eq!(
        (text(&daily[0]), text(&daily[1])),
        ("2026-11-23", "2026-11-23")
    );
    assert_eq!((num(&daily[2]), num(&daily[3])), (10.0, 4.0));
    let acct = one(
        &store,
        "view_acct_summary",
        &["security_findings", "security_health_score"],
        "",
    )
    .await;
    assert_eq!((num(&acct[0]), num(&acct[1])), (4.0, 2.0));
}

async fn weakness_8_summaries_cover_every_account_and_only_the_latest_period(store: Store) {
    load_sample(&store).await;
    // A second account with a daily file only (A360's view_acct_summary returned one account
    // and needed MONTHLY reports).
    let other = String::from_utf8(DAILY.to_vec())
        .unwrap()
        .replace(ACCOUNT, "111122223333");
    load(
        &store,
        "111122223333/us-east-1/2026-11-24_DAILY.json",
        other.as_bytes(),
    )
    .await;
    // An older daily period of the first account, with more services (A360 summed all periods).
    load(
        &store,
        "210987654321/us-east-1/2026-11-23_DAILY.json",
        DAILY,
    )
    .await;

    let accounts = select(
        &store,
        "view_acct_summary",
        &[
            "account",
            "cost_granularity",
            "latest_cost",
            "security_health_score",
        ],
        "ORDER BY account",
    )
    .await;
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        (text(&accounts[0][0]), text(&accounts[0][1])),
        ("111122223333", "DAILY")
    );
    close(&accounts[0][2], 8.411839);
    assert_eq!(
        (text(&accounts[1][0]), text(&accounts[1][1])),
        (ACCOUNT, "MONTHLY")
    );
    close(&accounts[1][2], 187.668128);
    assert_eq!((num(&accounts[0][3]), num(&accounts[1][3])), (2.0, 2.0));

    let summary = select(
        &store,
        "view_summary",
        &[
            "period_granularity",
            "date_from",
            "current_period_cost",
            "service_count",
            "unique_services",
            "total_service_cost",
            "total_findings",
            "resolved_findings",
            "resolution_rate",
            "number_of_products",
            "services_used",
        ],
        &format!("WHERE account = '{ACCOUNT}' ORDER BY period_granularity"),
    )
    .await;
    assert_eq!(summary.len(), 2);
    let (d, m) = (&summary[0], &summary[1]);
    assert_eq!((text(&d[0]), text(&d[1])), ("DAILY", "2026-11-23"));
    close(&d[2], 8.41);
    assert_eq!(d[3..5].iter().map(num).collect::<Vec<_>>(), [10.0, 10.0]);
    close(&d[5], 8.41);
    assert_eq!((num(&d[6]), num(&d[7])), (4.0, 1.0));
    close(&d[8], 25.0);
    assert_eq!(num(&d[9]), 1.0);
    assert_eq!(text(&d[10]), expected_services_used(DAILY));
    assert_eq!((text(&m[0]), text(&m[1])), ("MONTHLY", "2026-11-01"));
    close(&m[2], 187.67);
    close(&m[5], 187.67);

    let products = select(
        &store,
        "view_product_summary",
        &["account", "period_granularity", "project_product_name"],
        "ORDER BY account, period_granularity",
    )
    .await;
    assert_eq!(products.len(), 3);
    assert!(
        products.iter().all(|r| text(&r[2]) == "Orders Platform"),
        "{products:?}"
    );
}

/// The distinct service names of a document, in byte order, joined with ", ".
fn expected_services_used(bytes: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let mut names: Vec<&str> = v["service"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

async fn weakness_8_account_age_counts_whole_days(store: Store) {
    // Joined 2020-01-15: A360's EXTRACT(DAY FROM AGE()) gave a number below 31.
    let joined = edit(DAILY, |v| {
        v["account"]["joined_timestamp"] = "2020-01-15T00:00:00+00:00".into()
    });
    load(&store, DAILY_PATH, &joined).await;
    let today = time::OffsetDateTime::now_utc().date();
    let expected = (today - time::macros::date!(2020 - 01 - 15)).whole_days();
    for view in ["view_accounts", "view_acct_summary", "view_summary"] {
        for row in select(&store, view, &["account_age_days"], "").await {
            assert_eq!(num(&row[0]) as i64, expected, "{view}");
        }
    }
}

async fn weakness_8_inventory_applications_keep_their_details(store: Store) {
    load(&store, EVERY_PATH, EVERY).await;
    let cols = columns(&store, "view_inventory_applications").await;
    for c in [
        "name",
        "version",
        "publisher",
        "architecture",
        "application_type",
        "install_time",
        "ii_instance_id",
        "ii_computer_name",
        "ii_platform",
        "ii_ip_address",
        "ii_ping_status",
    ] {
        assert!(
            cols.iter().any(|x| x == c),
            "view_inventory_applications lacks {c}: {cols:?}"
        );
    }
    let nginx = one(
        &store,
        "view_inventory_applications",
        &[
            "version",
            "publisher",
            "architecture",
            "application_type",
            "managed_instance_id",
            "ii_instance_id",
        ],
        "WHERE name = 'nginx'",
    )
    .await;
    assert_eq!(
        nginx,
        [
            "1.24",
            "nginx",
            "x86_64",
            "Web",
            "i-0000000000000000a",
            "i-0000000000000000a"
        ]
        .map(|s| Some(s.to_owned()))
    );
    // Each application sits on the instance it names.
    assert_eq!(
        count(
            &store,
            "view_inventory_applications",
            "WHERE ii_instance_id <> managed_instance_id"
        )
        .await,
        0
    );
}

async fn failed_loads_and_missing_days_show(store: Store) {
    load(&store, DAILY_PATH, DAILY).await;
    // Two days later, after a gap of two days (2026-11-24 and -25 are missing).
    load(
        &store,
        "210987654321/us-east-1/2026-11-27_DAILY.json",
        DAILY,
    )
    .await;
    let account = AccountId::parse(ACCOUNT).unwrap();
    store
        .record_failure(
            "data/210987654321/us-east-1/2026-11-28_DAILY.json",
            Some(account),
            "truncated JSON",
        )
        .await
        .unwrap();
    store
        .record_failure("data/junk.json", None, "not an A360 document")
        .await
        .unwrap();

    // Both failures show, the one without an account too.
    assert_eq!(count(&store, "view_acct_logs", "").await, 4);
    assert_eq!(
        count(&store, "view_acct_logs", "WHERE outcome = 'FAILED'").await,
        2
    );
    assert_eq!(
        count(&store, "view_acct_logs", "WHERE account IS NULL").await,
        1
    );
    assert_eq!(
        count(
            &store,
            "view_acct_log_messages",
            "WHERE log_outcome = 'FAILED'"
        )
        .await,
        2
    );

    let status = select(
        &store,
        "view_load_status",
        &[
            "account",
            "file_name",
            "snapshot_period_start",
            "loaded_count",
            "failed_count",
            "health_score",
        ],
        "ORDER BY account",
    )
    .await;
    assert_eq!(status.len(), 2, "{status:?}");
    let (known, unknown) = if status[0][0].is_some() {
        (&status[0], &status[1])
    } else {
        (&status[1], &status[0])
    };
    assert_eq!(text(&known[0]), ACCOUNT);
    assert_eq!(
        text(&known[1]),
        "data/210987654321/us-east-1/2026-11-27_DAILY.json"
    );
    assert_eq!(text(&known[2]), "2026-11-26");
    assert_eq!((num(&known[3]), num(&known[4])), (2.0, 1.0));
    close(&known[5], 75.0);
    assert_eq!(unknown[0], None);
    assert_eq!((num(&unknown[3]), num(&unknown[4])), (0.0, 1.0));

    let coverage = one(
        &store,
        "view_snapshot_coverage",
        &[
            "region",
            "snapshot_count",
            "first_period_start",
            "last_period_start",
            "missing_days",
        ],
        "WHERE granularity = 'DAILY'",
    )
    .await;
    assert_eq!(
        coverage,
        ["us-east-1", "2", "2026-11-23", "2026-11-26", "2"].map(|s| Some(s.to_owned()))
    );
}

async fn every_category_reaches_its_view(store: Store) {
    load(&store, EVERY_PATH, EVERY).await;
    for view in VIEWS {
        assert!(count(&store, view, "").await > 0, "{view} is empty");
    }
    let co = one(
        &store,
        "view_compute_optimizer_summary",
        &[
            "finding",
            "resource_count",
            "not_optimized_count",
            "savings_opportunities",
            "total_monthly_savings",
        ],
        "",
    )
    .await;
    assert_eq!(text(&co[0]), "Overprovisioned");
    assert_eq!(
        co[1..4].iter().map(num).collect::<Vec<_>>(),
        [1.0, 1.0, 1.0]
    );
    close(&co[4], 70.08);
    // Patches carry their instance's name and type.
    let patch = one(
        &store,
        "view_inventory_patches",
        &["instance_name", "instance_type"],
        "WHERE title = 'KB5030000'",
    )
    .await;
    assert!(patch.iter().all(Option::is_some), "{patch:?}");
}

/// Same views, same columns in the same order, on both backends; no view repeats a column name.
#[sqlx::test(migrator = "orgwatch_store::POSTGRES_MIGRATOR")]
async fn both_backends_have_the_same_views_and_columns(pool: sqlx::PgPool) {
    let postgres = Store::from_postgres(pool);
    let sqlite = Store::connect("sqlite::memory:").await.unwrap();
    assert_eq!(view_names(&postgres).await, VIEWS);
    assert_eq!(view_names(&sqlite).await, VIEWS);
    for view in VIEWS.iter().chain(ACTIVITY_VIEWS) {
        let cols = columns(&sqlite, view).await;
        assert_eq!(columns(&postgres, view).await, cols, "{view}");
        let mut unique = cols.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            cols.len(),
            "{view} repeats a column: {cols:?}"
        );
        // Enrichment views: the base table's columns, then the dimensions in order.
        if ENRICHMENT.contains(view) {
            let at = cols
                .iter()
                .position(|c| c == "account")
                .unwrap_or_else(|| panic!("{view}: {cols:?}"));
            let dims: Vec<&str> = cols[at..(at + DIMENSIONS.len()).min(cols.len())]
                .iter()
                .map(String::as_str)
                .collect();
            let expected: Vec<&str> = DIMENSIONS
                .iter()
                .map(|d| {
                    if *d == "account_status" && *view == "view_acct_logs" {
                        "acct_status"
                    } else {
                        d
                    }
                })
                .collect();
            assert_eq!(dims, expected, "{view}");
            let account_level = [
                "view_contact_info",
                "view_alternate_contacts",
                "view_product_acct",
                "view_acct_products",
                "view_products",
            ];
            if !account_level.contains(view) {
                let lineage = &cols[at + DIMENSIONS.len()..at + DIMENSIONS.len() + 3];
                assert_eq!(
                    lineage,
                    [
                        "snapshot_region",
                        "snapshot_granularity",
                        "snapshot_period_start"
                    ],
                    "{view}"
                );
            }
        }
    }
    sqlite.close().await;
}
