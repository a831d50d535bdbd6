//! Loading snapshots, specified on both backends: every test body runs once on SQLite and once
//! on a real PostgreSQL server (`DATABASE_URL`, as `scripts/test` provides).
//!
//! Tests named `weakness_N_…` are regressions for the A360 receiver's bugs listed in section 7
//! of its spec; none may come back.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_model::{Snapshot, SnapshotLocation};
use orgwatch_store::{LoadOutcome, SnapshotInput, Store};
use orgwatch_test_support::a360::{EVERY, MONTHLY, MONTHLY_PATH};
use orgwatch_test_support::on_both_backends;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const EVERY_PATH: &str = "123456789012/us-east-1/2026-11-25_DAILY.json";

on_both_backends!(store:
    every_category_round_trips,
    reloading_the_same_file_changes_nothing,
    a_newer_file_replaces_and_an_older_one_is_refused,
    weakness_1_applications_and_patches_belong_to_their_own_instance,
    weakness_2_global_categories_are_stored_once_per_account,
    weakness_3_shared_arns_belong_to_every_account_that_reports_them,
    weakness_7_every_status_and_message_is_kept,
    weakness_9_labels_contacts_and_products_are_not_mangled,
    weakness_11_a_load_that_fails_midway_leaves_nothing,
    weakness_16_long_values_are_stored_whole,
    failures_are_recorded_without_inventing_accounts,
    an_old_backfill_does_not_roll_the_account_back,
    a_batch_of_files_gives_what_loading_them_one_by_one_gives,
    a_security_part_not_collected_writes_no_rows_and_keeps_the_others,
    the_posture_version_moves_with_every_change_of_the_data_and_only_then,
);

async fn load(store: &Store, path: &str, bytes: &[u8]) -> LoadOutcome {
    try_load(store, path, bytes).await.expect("load")
}

async fn try_load(
    store: &Store,
    path: &str,
    bytes: &[u8],
) -> Result<LoadOutcome, orgwatch_store::StoreError> {
    orgwatch_test_support::store::load(store, path, bytes).await
}

/// The document as JSON, edited, as bytes.
fn edit(bytes: &[u8], f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    f(&mut v);
    serde_json::to_vec_pretty(&v).unwrap()
}

/// The fixture re-labelled as another account.
fn for_account(bytes: &[u8], account: &str) -> Vec<u8> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .replace("123456789012", account)
        .into_bytes()
}

async fn counts(store: &Store) -> BTreeMap<&'static str, i64> {
    store
        .table_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.table, t.rows))
        .collect()
}

async fn cells(store: &Store, sql: &str) -> Vec<Vec<Option<String>>> {
    store.raw_query_text(sql, &[]).await.unwrap()
}

async fn one(store: &Store, sql: &str) -> String {
    let rows = cells(store, sql).await;
    assert_eq!(rows.len(), 1, "{sql}");
    rows[0][0].clone().unwrap_or_default()
}

fn num(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|_| panic!("{s:?} is not a number"))
}

/// A boolean as either backend spells it in text.
fn truthy(s: &str) -> bool {
    matches!(s, "true" | "1" | "t")
}

/// An instant as either backend spells it in text, normalised.
fn instant(s: &str) -> String {
    orgwatch_model::Timestamp::parse(s)
        .unwrap()
        .to_sortable_string()
}

async fn every_category_round_trips(store: Store) {
    let outcome = load(&store, EVERY_PATH, EVERY).await;
    assert!(
        matches!(outcome, LoadOutcome::Loaded { replaced: None, .. }),
        "{outcome:?}"
    );
    let expected: BTreeMap<&str, i64> = [
        ("accounts", 1),
        // An A360 file has no `organization` key: no OU recorded.
        ("account_ous", 0),
        ("contact_info", 1),
        ("alternate_contacts", 2),
        ("products", 2),
        ("product_accounts", 2),
        ("snapshots", 1),
        ("services", 10),
        ("cost_reports", 1),
        ("service_costs", 5),
        ("cost_forecasts", 1),
        ("security", 2),
        ("findings", 4),
        ("guard_duty_findings", 1),
        ("kms_keys", 2),
        ("waf_rules", 1),
        ("waf_rules_detailed", 2),
        ("cloudtrail_logs", 1),
        ("secrets_manager_secrets", 2),
        ("certificates", 1),
        ("inspector_findings", 1),
        ("config_reports", 1),
        ("non_compliant_resources", 2),
        ("service_resources", 15),
        ("compute_optimizer", 1),
        ("config_inventory", 1),
        ("inventory_instances", 2),
        ("inventory_applications", 3),
        ("inventory_patches", 2),
        ("marketplace_usage", 1),
        ("trusted_advisor_checks", 1),
        ("health_events", 1),
        ("application_signals", 1),
        ("resilience_hub_apps", 1),
        ("support_tickets", 1),
        ("ri_sp_daily_savings", 2),
        ("logs", 1),
        ("log_messages", 2),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts(&store).await, expected);

    let LoadOutcome::Loaded { rows, .. } = outcome else {
        unreachable!()
    };
    let total: i64 = expected
        .iter()
        .filter(|(t, _)| **t != "snapshots" && **t != "accounts" && **t != "products")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        rows as i64, total,
        "the reported row count is every row written"
    );

    // Values survive with their types: numbers given as strings, offsets normalised to UTC,
    // booleans given as strings.
    let r = &cells(&store, "SELECT CAST(current_period_cost AS TEXT), CAST(period_start AS TEXT), CAST(period_end AS TEXT), period_granularity FROM cost_reports").await[0];
    assert!((num(r[0].as_deref().unwrap()) - 8.411839).abs() < 1e-9);
    assert_eq!(r[1].as_deref(), Some("2026-11-24"));
    assert_eq!(r[2].as_deref(), Some("2026-11-25"));
    assert_eq!(r[3].as_deref(), Some("DAILY"));
    assert!(
        (num(&one(
            &store,
            "SELECT CAST(compliance_score AS TEXT) FROM config_reports"
        )
        .await)
            - 66.67)
            .abs()
            < 1e-9
    );
    assert_eq!(
        instant(&one(&store, "SELECT CAST(config_rule_invoked_time AS TEXT) FROM non_compliant_resources WHERE rule_name = 'encrypted-volumes'").await),
        "2026-11-24T01:00:00.000000Z"
    );
    assert_eq!(
        one(
            &store,
            "SELECT status FROM non_compliant_resources WHERE rule_name = 'restricted-ssh'"
        )
        .await,
        "RESOLVED"
    );
    assert!(!truthy(&one(&store, "SELECT CAST(is_latest_version AS TEXT) FROM inventory_instances WHERE computer_name = 'win-1'").await));
    assert!(
        (num(&one(
            &store,
            "SELECT CAST(severity AS TEXT) FROM guard_duty_findings"
        )
        .await)
            - 5.0)
            .abs()
            < 1e-9
    );
    assert!(
        (num(&one(
            &store,
            "SELECT CAST(cost_consumed AS TEXT) FROM marketplace_usage"
        )
        .await)
            - 120.5)
            .abs()
            < 1e-9
    );
    assert!(
        (num(&one(&store, "SELECT CAST(amount AS TEXT) FROM cost_forecasts").await) - 250.75).abs()
            < 1e-9
    );
    assert_eq!(
        one(
            &store,
            "SELECT action FROM waf_rules_detailed WHERE rule_name = 'block-bad-agents'"
        )
        .await,
        r#"{"Block":{}}"#
    );
    assert!(one(
        &store,
        "SELECT CAST(key_attributes AS TEXT) FROM application_signals"
    )
    .await
    .contains("eks:prod"));
    assert_eq!(
        one(&store, "SELECT CAST(rto AS TEXT) FROM resilience_hub_apps").await,
        "7200"
    );
    assert_eq!(
        one(
            &store,
            "SELECT CAST(COUNT(*) AS TEXT) FROM findings WHERE severity = 'MEDIUM'"
        )
        .await,
        "2"
    );
    let security = cells(&store, "SELECT service, CAST(total_findings AS TEXT), CAST(high_count AS TEXT) FROM security ORDER BY service").await;
    assert_eq!(security[0][0].as_deref(), Some("GuardDuty"));
    assert_eq!(security[0][2].as_deref(), Some("1"));
    assert_eq!(security[1][1].as_deref(), Some("3"));
    assert_eq!(
        one(&store, "SELECT CAST(health_score AS TEXT) FROM logs")
            .await
            .parse::<f64>()
            .unwrap(),
        100.0
    );
}

async fn reloading_the_same_file_changes_nothing(store: Store) {
    let first = load(&store, EVERY_PATH, EVERY).await;
    let before = counts(&store).await;
    let again = load(&store, EVERY_PATH, EVERY).await;
    let LoadOutcome::Loaded { snapshot_id, .. } = first else {
        panic!("{first:?}")
    };
    assert_eq!(again, LoadOutcome::Unchanged { snapshot_id });
    assert_eq!(counts(&store).await, before);
}

async fn a_newer_file_replaces_and_an_older_one_is_refused(store: Store) {
    load(&store, MONTHLY_PATH, MONTHLY).await;
    // The month-end run of the same month: one service fewer, higher costs.
    let newer = edit(MONTHLY, |v| {
        let services = v["service"].as_array_mut().unwrap();
        services.pop();
        for s in services.iter_mut() {
            s["cost"] = serde_json::json!(100.0);
        }
    });
    let newer_path = "210987654321/us-east-1/2026-11-30_MONTHLY.json";
    let outcome = load(&store, newer_path, &newer).await;
    assert!(
        matches!(&outcome, LoadOutcome::Loaded { replaced: Some(f), .. } if f == "data/210987654321/us-east-1/2026-11-24_MONTHLY.json"),
        "{outcome:?}"
    );
    assert_eq!(
        one(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM snapshots").await,
        "1"
    );
    assert_eq!(
        one(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM services").await,
        "9"
    );
    assert_eq!(
        num(&one(&store, "SELECT CAST(SUM(cost) AS TEXT) FROM services").await),
        900.0
    );
    assert_eq!(
        one(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM logs").await,
        "1",
        "the replaced load's log goes with it"
    );
    assert!(one(
        &store,
        "SELECT message FROM log_messages WHERE message_type = 'INFO'"
    )
    .await
    .contains(
        "replaces the snapshot loaded from data/210987654321/us-east-1/2026-11-24_MONTHLY.json"
    ));

    let after = counts(&store).await;
    let older = load(&store, MONTHLY_PATH, MONTHLY).await;
    assert_eq!(
        older,
        LoadOutcome::Superseded {
            by_file: format!("data/{newer_path}"),
            by_run_date: "2026-11-30".into()
        }
    );
    assert_eq!(counts(&store).await, after);
}

async fn weakness_1_applications_and_patches_belong_to_their_own_instance(store: Store) {
    load(&store, EVERY_PATH, EVERY).await;
    let apps = cells(
        &store,
        "SELECT a.name, i.computer_name FROM inventory_applications a \
         JOIN inventory_instances i ON i.id = a.instance_id ORDER BY a.name",
    )
    .await;
    let pairs: Vec<(String, String)> = apps
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("IIS".into(), "win-1".into()),
            ("dotnet".into(), "win-1".into()),
            ("nginx".into(), "web-1".into())
        ]
    );
    let patch_host = one(&store, "SELECT i.computer_name FROM inventory_patches p JOIN inventory_instances i ON i.id = p.instance_id WHERE p.title = 'KB5030000'").await;
    assert_eq!(patch_host, "win-1");
}

async fn weakness_2_global_categories_are_stored_once_per_account(store: Store) {
    load(&store, EVERY_PATH, EVERY).await;
    load(
        &store,
        "123456789012/eu-west-1/2026-11-25_DAILY.json",
        EVERY,
    )
    .await;
    let c = counts(&store).await;
    assert_eq!(c["snapshots"], 2);
    // Global: once.
    assert_eq!(c["cost_reports"], 1);
    assert_eq!(
        c["service_costs"], 5,
        "the replaced report's top services go with it"
    );
    assert_eq!(c["cost_forecasts"], 1);
    assert_eq!(c["services"], 10);
    assert_eq!(c["trusted_advisor_checks"], 1);
    assert_eq!(c["health_events"], 1);
    assert_eq!(c["support_tickets"], 1);
    assert_eq!(c["marketplace_usage"], 1);
    assert_eq!(
        one(
            &store,
            "SELECT CAST(COUNT(*) AS TEXT) FROM service_resources WHERE service_name = 'S3'"
        )
        .await,
        "2"
    );
    assert_eq!(one(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM ri_sp_daily_savings WHERE reservation_type = 'Savings Plan'").await, "1");
    // Regional: once per region.
    assert_eq!(c["kms_keys"], 4);
    assert_eq!(one(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM ri_sp_daily_savings WHERE reservation_type = 'Reserved Instance'").await, "2");
    assert_eq!(
        one(
            &store,
            "SELECT CAST(COUNT(*) AS TEXT) FROM service_resources WHERE service_name <> 'S3'"
        )
        .await,
        "26"
    );

    // A third region whose cost collector failed keeps the good copy.
    let failed_cost = edit(EVERY, |v| {
        v["cost"] = serde_json::json!([]);
        v["service"] = serde_json::json!([]);
        v["logs"]["cost_status"] = "Fail".into();
        v["logs"]["service_status"] = "Fail".into();
    });
    load(
        &store,
        "123456789012/ap-south-1/2026-11-25_DAILY.json",
        &failed_cost,
    )
    .await;
    let c = counts(&store).await;
    assert_eq!(c["cost_reports"], 1);
    assert_eq!(c["services"], 10);
    assert!(
        (num(&one(
            &store,
            "SELECT CAST(SUM(current_period_cost) AS TEXT) FROM cost_reports"
        )
        .await)
            - 8.411839)
            .abs()
            < 1e-9
    );
}

async fn weakness_3_shared_arns_belong_to_every_account_that_reports_them(store: Store) {
    // The same organisation trail and the same public Health event, seen from two accounts.
    let shared_trail = |bytes: &[u8]| {
        edit(bytes, |v| {
            v["security"]["cloudtrail"][0]["arn"] =
                "arn:aws:cloudtrail:us-east-1:999999999999:trail/org-trail".into();
        })
    };
    load(&store, EVERY_PATH, &shared_trail(EVERY)).await;
    load(
        &store,
        "222222222222/us-east-1/2026-11-25_DAILY.json",
        &shared_trail(&for_account(EVERY, "222222222222")),
    )
    .await;
    for table in ["cloudtrail_logs", "health_events"] {
        let owners = cells(&store, &format!("SELECT a.account_id FROM {table} t JOIN accounts a ON a.id = t.account_id ORDER BY 1")).await;
        assert_eq!(owners.len(), 2, "{table}");
        assert_eq!(owners[0][0].as_deref(), Some("123456789012"));
        assert_eq!(owners[1][0].as_deref(), Some("222222222222"));
    }
}

async fn weakness_7_every_status_and_message_is_kept(store: Store) {
    load(&store, MONTHLY_PATH, MONTHLY).await;
    let row = &cells(
        &store,
        "SELECT account_status, config_status, service_status, cost_status, security_status, inventory_status, \
         marketplace_status, trusted_advisor_status, health_status, application_status, resilience_hub_status, \
         compute_optimizer_status, ri_sp_savings_status, service_resources_status, config_inventory_status, \
         support_tickets_status, CAST(health_score AS TEXT) FROM logs",
    )
    .await[0];
    let statuses: Vec<&str> = row[..16].iter().map(|c| c.as_deref().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "Fail").count(),
        4,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == "Pass").count(), 12);
    assert_eq!(num(row[16].as_deref().unwrap()), 75.0);
    let snapshot = Snapshot::from_json(MONTHLY).unwrap();
    assert_eq!(
        one(
            &store,
            "SELECT CAST(COUNT(*) AS TEXT) FROM log_messages WHERE message_type = 'ERROR'"
        )
        .await,
        snapshot.logs.messages.len().to_string(),
        "repeated keys are separate messages, each of type ERROR"
    );
    // The seed README's "View Error Messages" query finds them.
    let seed = cells(
        &store,
        "SELECT a.account_name, lm.message, lm.message_type, CAST(lm.created_at AS TEXT) FROM log_messages lm \
         JOIN logs l ON lm.log_id = l.id JOIN accounts a ON l.account_id = a.id \
         WHERE lm.message_type = 'ERROR' ORDER BY lm.created_at DESC",
    )
    .await;
    assert_eq!(seed.len(), snapshot.logs.messages.len());
}

async fn weakness_9_labels_contacts_and_products_are_not_mangled(store: Store) {
    let doc = edit(EVERY, |v| {
        v["account"]["partner_name"] = "None".into();
        v["account"]["product"] = "Payments, None, ".into();
    });
    load(&store, EVERY_PATH, &doc).await;
    let r = &cells(&store, "SELECT partner_name, customer_name FROM accounts").await[0];
    assert_eq!(r[0], None, "the \"None\" label is no partner");
    assert_eq!(r[1].as_deref(), Some("Example Corp"));
    assert_eq!(
        one(
            &store,
            "SELECT phone_number FROM alternate_contacts WHERE contact_type = 'BILLING'"
        )
        .await,
        "+1-206-555-0101"
    );
    assert_eq!(one(&store, "SELECT name FROM products").await, "Payments");
    // An owner set by a person survives the next file.
    store
        .raw_query_text(
            "UPDATE products SET owner = 'Team Payments' WHERE name = 'Payments'",
            &[],
        )
        .await
        .unwrap();
    load(&store, "123456789012/us-east-1/2026-11-26_DAILY.json", &doc).await;
    assert_eq!(
        one(&store, "SELECT owner FROM products").await,
        "Team Payments"
    );
    assert_eq!(
        one(
            &store,
            "SELECT CAST(COUNT(*) AS TEXT) FROM product_accounts"
        )
        .await,
        "1"
    );
}

async fn weakness_11_a_load_that_fails_midway_leaves_nothing(store: Store) {
    // Valid JSON the database refuses late in the load: a service window that ends before it
    // starts violates a CHECK after the account, snapshot and cost rows were written.
    let bad = edit(EVERY, |v| {
        v["support_tickets"][0]["date_from"] = "2026-12-01".into();
    });
    let err = try_load(&store, EVERY_PATH, &bad).await.unwrap_err();
    assert!(err.is_bad_input(), "{err}");
    let c = counts(&store).await;
    assert!(
        c.values().all(|n| *n == 0),
        "partial rows left behind: {c:?}"
    );
    // The same store then loads a good file normally.
    load(&store, EVERY_PATH, EVERY).await;
    assert_eq!(counts(&store).await["snapshots"], 1);
}

async fn weakness_16_long_values_are_stored_whole(store: Store) {
    let long_arn = format!(
        "arn:aws:kms:us-east-1:123456789012:key/{}",
        "k".repeat(3000)
    );
    let doc = edit(EVERY, |v| {
        v["security"]["kms"][0]["arn"] = long_arn.clone().into();
        v["account"]["alternate_contacts"]["billing"]["phone"] =
            "+1-206-555-0101 ext. 123456789 (ask for billing)".into();
    });
    load(&store, EVERY_PATH, &doc).await;
    assert_eq!(
        one(
            &store,
            "SELECT CAST(MAX(LENGTH(arn)) AS TEXT) FROM kms_keys"
        )
        .await,
        long_arn.len().to_string()
    );
}

async fn failures_are_recorded_without_inventing_accounts(store: Store) {
    store
        .record_failure("data/x/y.json", None, "the file is empty")
        .await
        .unwrap();
    let unknown = orgwatch_model::AccountId::parse("555555555555").unwrap();
    store
        .record_failure(
            "data/555555555555/2026-01-01_DAILY.json",
            Some(unknown),
            "truncated",
        )
        .await
        .unwrap();
    assert_eq!(counts(&store).await["accounts"], 0);
    load(&store, EVERY_PATH, EVERY).await;
    let known = orgwatch_model::AccountId::parse("123456789012").unwrap();
    store
        .record_failure(
            "data/123456789012/2026-11-26_DAILY.json",
            Some(known),
            "bad",
        )
        .await
        .unwrap();
    let rows = cells(&store, "SELECT l.file_name, a.account_id, lm.message, lm.message_type FROM logs l LEFT JOIN accounts a ON a.id = l.account_id JOIN log_messages lm ON lm.log_id = l.id WHERE l.outcome = 'FAILED' ORDER BY l.id").await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][1], None);
    assert_eq!(rows[1][1], None);
    assert_eq!(rows[2][1].as_deref(), Some("123456789012"));
    assert_eq!(rows[0][2].as_deref(), Some("the file is empty"));
    assert!(rows.iter().all(|r| r[3].as_deref() == Some("ERROR")));
}

async fn an_old_backfill_does_not_roll_the_account_back(store: Store) {
    let renamed = edit(EVERY, |v| {
        v["account"]["account_name"] = "payments-prod-renamed".into()
    });
    load(
        &store,
        "123456789012/us-east-1/2026-11-26_DAILY.json",
        &renamed,
    )
    .await;
    load(&store, EVERY_PATH, EVERY).await;
    assert_eq!(
        one(&store, "SELECT account_name FROM accounts").await,
        "payments-prod-renamed"
    );
    assert_eq!(
        one(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM snapshots").await,
        "2"
    );
}

/// Inputs for several fixture files, kept alive for the batch.
struct Owned {
    location: SnapshotLocation,
    snapshot: Snapshot,
    name: String,
    sha: String,
    bytes: u64,
}

fn owned(path: &str, bytes: &[u8]) -> Owned {
    let location = SnapshotLocation::parse(path).unwrap();
    Owned {
        snapshot: orgwatch_model::read_located(bytes, &location).unwrap(),
        location,
        name: format!("data/{path}"),
        sha: hex::encode(Sha256::digest(bytes)),
        bytes: bytes.len() as u64,
    }
}

fn input(o: &Owned) -> SnapshotInput<'_> {
    SnapshotInput {
        location: &o.location,
        snapshot: &o.snapshot,
        file_name: &o.name,
        sha256: &o.sha,
        bytes: o.bytes,
    }
}

/// What a table holds, independent of surrogate ids.
async fn contents(store: &Store) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for sql in [
        "SELECT a.account_id, s.region, CAST(s.period_start AS TEXT), s.granularity, CAST(s.row_count AS TEXT) FROM snapshots s JOIN accounts a ON a.id = s.account_id ORDER BY 1, 2, 3, 4",
        "SELECT i.computer_name, p.title FROM inventory_patches p JOIN inventory_instances i ON i.id = p.instance_id ORDER BY 1, 2",
        "SELECT s.service, f.finding_id FROM findings f JOIN security s ON s.id = f.security_id ORDER BY 1, 2",
        "SELECT c.service_name FROM service_costs c JOIN cost_reports r ON r.id = c.cost_report_id ORDER BY 1",
        "SELECT l.file_name, m.message_key FROM log_messages m JOIN logs l ON l.id = m.log_id ORDER BY 1, 2",
    ] {
        out.extend(cells(store, sql).await);
    }
    out
}

async fn a_batch_of_files_gives_what_loading_them_one_by_one_gives(store: Store) {
    let files = [
        owned(EVERY_PATH, EVERY),
        owned(
            "222222222222/us-east-1/2026-11-25_DAILY.json",
            &for_account(EVERY, "222222222222"),
        ),
        owned(MONTHLY_PATH, MONTHLY),
        owned(
            "123456789012/us-east-1/2026-11-26_DAILY.json",
            &edit(EVERY, |v| v["account"]["account_name"] = "renamed".into()),
        ),
    ];
    let inputs: Vec<SnapshotInput<'_>> = files.iter().map(input).collect();
    let outcomes = store.load_batch(&inputs).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, LoadOutcome::Loaded { .. })),
        "{outcomes:?}"
    );
    let batched = (counts(&store).await, contents(&store).await);
    assert_eq!(
        one(
            &store,
            "SELECT account_name FROM accounts WHERE account_id = '123456789012'"
        )
        .await,
        "renamed"
    );

    // The same files, one transaction each, in a second database of the same backend is what
    // the other tests check; here: loading them again one by one changes nothing.
    for i in &inputs {
        assert!(matches!(
            store.load_snapshot(i).await.unwrap(),
            LoadOutcome::Unchanged { .. }
        ));
    }
    assert_eq!((counts(&store).await, contents(&store).await), batched);
    let c = &batched.0;
    assert_eq!(c["snapshots"], 4);
    assert_eq!(c["cost_reports"], 4);
    let findings: usize = files
        .iter()
        .flat_map(|f| {
            f.snapshot
                .security
                .as_ref()
                .unwrap()
                .security_hub
                .iter()
                .flatten()
        })
        .map(|s| s.findings.len())
        .sum();
    assert_eq!(c["findings"] as usize, findings);

    // Two regions of one account-day cannot share a batch (both carry its global categories).
    let clash = [
        owned("123456789012/eu-west-1/2026-11-27_DAILY.json", EVERY),
        owned("123456789012/us-west-2/2026-11-27_DAILY.json", EVERY),
    ];
    let inputs: Vec<SnapshotInput<'_>> = clash.iter().map(input).collect();
    let err = store.load_batch(&inputs).await.unwrap_err();
    assert!(
        matches!(err, orgwatch_store::StoreError::BatchConflict(_)),
        "{err}"
    );
    assert_eq!(counts(&store).await, batched.0, "nothing written");
}

async fn a_security_part_not_collected_writes_no_rows_and_keeps_the_others(store: Store) {
    // `orgwatch collect` leaves out a part it could not read (GuardDuty, WAF here): nothing
    // of it is stored, what was read is, and the file still loads.
    let mut snap = orgwatch_model::Snapshot::from_json(EVERY).unwrap();
    let sec = snap.security.as_mut().unwrap();
    sec.guard_duty = None;
    sec.waf = None;
    sec.waf_rules = None;
    let bytes = snap.to_json_pretty();
    let written: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(written["security"].get("guard_duty").is_none());
    assert!(written["security"].get("kms").is_some());
    load(&store, EVERY_PATH, &bytes).await;
    let c = counts(&store).await;
    assert_eq!(c["guard_duty_findings"], 0);
    assert_eq!(c["waf_rules"], 0);
    assert_eq!(c["waf_rules_detailed"], 0);
    assert_eq!(c["kms_keys"], 2);
    assert_eq!(c["findings"], 4);
    assert_eq!(c["inspector_findings"], 1);
}

async fn the_posture_version_moves_with_every_change_of_the_data_and_only_then(store: Store) {
    let version = || async { store.posture_version().await.unwrap().0 };
    let v0 = version().await;
    load(&store, MONTHLY_PATH, MONTHLY).await;
    assert_eq!(version().await, v0 + 1, "a file loaded");
    load(&store, MONTHLY_PATH, MONTHLY).await;
    assert_eq!(version().await, v0 + 1, "the same file again: unchanged");

    let newer = edit(MONTHLY, |v| v["service"].as_array_mut().unwrap().clear());
    let newer_path = "210987654321/us-east-1/2026-11-30_MONTHLY.json";
    load(&store, newer_path, &newer).await;
    assert_eq!(version().await, v0 + 2, "a newer file replaced it");
    load(&store, MONTHLY_PATH, MONTHLY).await;
    assert_eq!(
        version().await,
        v0 + 2,
        "an older file is refused: unchanged"
    );

    store
        .record_failure("data/bad.json", None, "not JSON")
        .await
        .unwrap();
    assert_eq!(version().await, v0 + 3, "a failed file recorded");

    let files = [
        owned(EVERY_PATH, EVERY),
        owned(
            "222222222222/us-east-1/2026-11-25_DAILY.json",
            &for_account(EVERY, "222222222222"),
        ),
    ];
    let inputs: Vec<SnapshotInput<'_>> = files.iter().map(input).collect();
    store.load_batch(&inputs).await.unwrap();
    assert_eq!(version().await, v0 + 4, "a batch: one transaction");
    store.load_batch(&inputs).await.unwrap();
    assert_eq!(version().await, v0 + 4, "the batch again: unchanged");

    // A load that the database refuses late rolls back with everything else.
    let bad = edit(EVERY, |v| {
        v["support_tickets"][0]["date_from"] = "2026-12-01".into();
    });
    let bad = for_account(&bad, "333333333333");
    try_load(&store, "333333333333/us-east-1/2026-11-25_DAILY.json", &bad)
        .await
        .unwrap_err();
    assert_eq!(version().await, v0 + 4, "a failed load: unchanged");
}
