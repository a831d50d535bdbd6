//! `orgwatch collect` end to end: the binary reads a moto_server through AWS_ENDPOINT_URL
//! with the standard credential chain (environment variables), writes A360 files, and
//! `orgwatch ingest --from DIR` loads them (SQLite and PostgreSQL); `orgwatch iam-policy`.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_test_support::cli::text;
use orgwatch_test_support::moto::{Moto, MANAGEMENT};
use orgwatch_test_support::{on_both_backends, orgwatch, Backend, TestDb};
use std::path::Path;
use std::process::Output;

on_both_backends!(collected_files_load_with_ingest_and_say_what_could_not_be_read);

/// `orgwatch collect` pointed at `moto` by the environment alone.
fn collect(moto: &Moto, args: &[&str]) -> Output {
    let empty = tempfile::tempdir().unwrap();
    let none = empty.path().join("none");
    orgwatch!()
        .arg("collect")
        .args(args)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        // Nothing from the machine's own AWS set-up.
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap()
}

fn seed(moto: &Moto, region: &str, keys: usize, secrets: usize) {
    for k in 0..keys {
        let body = format!(r#"{{"Description": "{region} key {k}"}}"#);
        let status = moto.json_call(MANAGEMENT, region, "kms", "TrentService.CreateKey", &body);
        assert_eq!(status, Some(200));
    }
    for s in 0..secrets {
        let body = format!(r#"{{"Name": "{region}/secret-{s}", "SecretString": "x"}}"#);
        let status = moto.json_call(
            MANAGEMENT,
            region,
            "secretsmanager",
            "secretsmanager.CreateSecret",
            &body,
        );
        assert_eq!(status, Some(200));
    }
}

/// Queues Cost Explorer's answers for the caller's account, in the collector's order: the
/// month's total, its services, the previous period's total.
fn seed_cost(moto: &Moto, month: &str) {
    let bucket = |total: serde_json::Value, groups: serde_json::Value| {
        serde_json::json!({"ResultsByTime": [{
            "TimePeriod": {"Start": format!("{month}-01"), "End": format!("{month}-02")},
            "Total": total, "Groups": groups, "Estimated": false
        }]})
    };
    let usd =
        |amount: &str| serde_json::json!({"UnblendedCost": {"Amount": amount, "Unit": "USD"}});
    let results = serde_json::json!({
        "account_id": MANAGEMENT,
        "results": [
            bucket(usd("12.5"), serde_json::json!([])),
            bucket(serde_json::json!({}), serde_json::json!([
                {"Keys": ["Amazon Elastic Compute Cloud - Compute"], "Metrics": usd("10")},
                {"Keys": ["AWS Key Management Service"], "Metrics": usd("2.5")}
            ])),
            bucket(usd("10"), serde_json::json!([])),
        ]
    });
    let status = moto.raw(
        "POST",
        "/moto-api/static/ce/cost-and-usage-results",
        &[("Content-Type", "application/json")],
        &results.to_string(),
    );
    assert!(matches!(status, Some(200 | 201)), "{status:?}");
}

async fn collected_files_load_with_ingest_and_say_what_could_not_be_read(backend: Backend) {
    let moto = Moto::start();
    seed(&moto, "us-east-1", 2, 1);
    seed(&moto, "eu-west-1", 1, 3);
    let run_day = time::OffsetDateTime::now_utc().date();
    let month = format!("{:04}-{:02}", run_day.year(), u8::from(run_day.month()));
    seed_cost(&moto, &month);
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let out = collect(
        &moto,
        &[
            "--regions",
            "us-east-1,eu-west-1",
            "--out",
            out_dir,
            "--period",
            "monthly",
        ],
    );
    let stdout = text(&out.stdout);
    // The emulator lacks account:GetContactInformation: the run says so and exits 2.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("1 account(s), 2 file(s) written"),
        "{stdout}"
    );
    assert!(stdout.contains("partial"), "{stdout}");
    assert!(stdout.contains("account:GetContactInformation"), "{stdout}");
    assert!(!stdout.contains("0 errors"), "{stdout}");
    let today = orgwatch_model::Day(run_day).to_string();
    for region in ["us-east-1", "eu-west-1"] {
        let file = format!("{out_dir}/data/{MANAGEMENT}/{region}/{today}_MONTHLY.json");
        assert!(Path::new(&file).is_file(), "{file}\n{stdout}");
    }

    let db = TestDb::new(backend).await;
    let loaded = orgwatch!(&db, &["ingest", "--from", out_dir]);
    assert!(
        loaded.status.success(),
        "{}\n{}",
        text(&loaded.stdout),
        text(&loaded.stderr)
    );
    let store = db.store().await;
    let keys = store
        .raw_query_text("SELECT description FROM kms_keys ORDER BY description", &[])
        .await
        .unwrap();
    let keys: Vec<_> = keys.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(
        keys,
        ["eu-west-1 key 0", "us-east-1 key 0", "us-east-1 key 1"]
    );
    let secrets = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM secrets_manager_secrets",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(secrets[0][0].as_deref(), Some("4"));
    // Every category has a status, and each failure its reason among the messages.
    let logs = store
        .raw_query_text(
            "SELECT security_status, account_status, cost_status FROM logs \
             WHERE outcome = 'LOADED'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(logs.len(), 2);
    // `security` is "Fail": GuardDuty has no detector here, so that part was not read.
    // `cost` is "Pass" without its forecast (the emulator has none), as the sender has it.
    for row in &logs {
        assert_eq!(row[0].as_deref(), Some("Fail"));
        assert_eq!(row[1].as_deref(), Some("Fail"));
        assert_eq!(row[2].as_deref(), Some("Pass"));
    }
    let reasons = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM log_messages \
             WHERE message_key = 'compute_optimizer' \
             AND message LIKE 'compute-optimizer:GetEC2InstanceRecommendations error%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(reasons[0][0].as_deref(), Some("2"));
    // Service resources (the default VPC's subnets the emulator makes in each region; their
    // exact rows are checked in orgwatch-collect's tests) reach their table, per region.
    let subnets = store
        .raw_query_text(
            "SELECT region, CAST(COUNT(*) AS TEXT) FROM service_resources \
             WHERE service_name = 'VPC' GROUP BY region ORDER BY region",
            &[],
        )
        .await
        .unwrap();
    let regions: Vec<_> = subnets.iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(regions, ["eu-west-1", "us-east-1"], "{subnets:?}");
    // Health is read, and the emulator has no Health API: its reason, in each region's file.
    let health = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM log_messages \
             WHERE message_key = 'health' AND message LIKE 'health:DescribeEvents%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(health[0][0].as_deref(), Some("2"));
    let forecast = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM log_messages \
             WHERE message_key = 'Forecast unavailable' AND message LIKE 'ce:GetCostForecast%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(forecast[0][0].as_deref(), Some("2"));
    // Cost Explorer's answers, global: one report and one row per service, whichever
    // region's file was loaded last; the sender's MONTHLY period ends on the month's last day.
    let reports = store
        .raw_query_text(
            "SELECT CAST(current_period_cost AS TEXT), CAST(previous_period_cost AS TEXT), \
             CAST(period_start AS TEXT), CAST(period_end AS TEXT), \
             CAST(period_granularity AS TEXT) FROM cost_reports",
            &[],
        )
        .await
        .unwrap();
    // Numbers as numbers: the backends print a REAL differently.
    let number = |v: &Option<String>| v.as_deref().unwrap().parse::<f64>().unwrap();
    let last_day = run_day.month().length(run_day.year());
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert_eq!((number(&r[0]), number(&r[1])), (12.5, 10.0));
    assert_eq!(
        r[2..],
        [
            Some(format!("{month}-01")),
            Some(format!("{month}-{last_day:02}")),
            Some("MONTHLY".to_owned())
        ]
    );
    let services = store
        .raw_query_text("SELECT service, CAST(cost AS TEXT) FROM services", &[])
        .await
        .unwrap();
    let mut services: Vec<_> = services
        .iter()
        .map(|r| (r[0].clone().unwrap(), number(&r[1])))
        .collect();
    services.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert_eq!(
        services,
        [
            ("Amazon Elastic Compute Cloud - Compute".to_owned(), 10.0),
            ("AWS Key Management Service".to_owned(), 2.5)
        ]
    );
    // Config: each region's report, with no rule here: every count 0 and "Pass".
    let config = store
        .raw_query_text(
            "SELECT CAST(date_from AS TEXT), CAST(total_rules AS TEXT), region \
             FROM config_reports ORDER BY region",
            &[],
        )
        .await
        .unwrap();
    let from = Some(format!("{month}-01"));
    assert_eq!(
        config,
        [
            [
                from.clone(),
                Some("0".to_owned()),
                Some("eu-west-1".to_owned())
            ],
            [from, Some("0".to_owned()), Some("us-east-1".to_owned())]
        ]
    );
    let statuses = store
        .raw_query_text(
            "SELECT config_status FROM logs WHERE outcome = 'LOADED'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        statuses,
        [[Some("Pass".to_owned())], [Some("Pass".to_owned())]]
    );
    let guard_duty = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM log_messages WHERE message_key = 'guard_duty' \
             AND message LIKE 'guardduty:ListDetectors not enabled%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(guard_duty[0][0].as_deref(), Some("2"));
    store.close().await;
}

#[test]
fn iam_policy_prints_the_three_policies() {
    let out = orgwatch!()
        .args([
            "iam-policy",
            "--collector-account",
            "444455556666",
            "--external-id",
            "ext-42",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let member: Vec<&str> = doc["member_role_policy"]["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(member.contains(&"kms:ListKeys") && member.contains(&"acm:DescribeCertificate"));
    assert!(member.iter().all(|a| !a.starts_with("organizations:")));
    // Every category's calls still fit one customer managed policy: IAM counts its
    // characters without whitespace and allows 6,144 (the sender had to split its in three).
    for key in ["member_role_policy", "collector_policy"] {
        let size = serde_json::to_string(&doc[key]).unwrap().len();
        assert!(size <= 6_144, "{key}: {size} characters");
    }
    let trust = &doc["member_role_trust_policy"]["Statement"][0];
    assert_eq!(trust["Principal"]["AWS"], "arn:aws:iam::444455556666:root");
    assert_eq!(
        trust["Condition"]["StringEquals"]["sts:ExternalId"],
        "ext-42"
    );
    assert_eq!(
        doc["collector_policy"]["Statement"][1]["Resource"],
        "arn:aws:iam::*:role/OrgwatchReadOnly"
    );
}

#[test]
fn bad_collect_options_are_refused_before_any_aws_call() {
    for (args, says) in [
        (vec!["--account", "12345"], "12345"),
        (vec!["--regions", "us-east-1,Mars"], "Mars"),
        (vec!["--role-name", "bad/role"], "--role-name"),
    ] {
        let mut all = vec!["collect", "--out", "/tmp/orgwatch-never-written"];
        all.extend(args);
        let out = orgwatch!().args(&all).output().unwrap();
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains(says),
            "{all:?}: {}",
            text(&out.stderr)
        );
        assert!(!Path::new("/tmp/orgwatch-never-written").exists());
    }
}
