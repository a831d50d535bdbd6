//! Two days of snapshots with known differences, for the "what changed" read model and
//! pages: account [`A`] on [`FROM`], three days later and on [`TO`] (two regions), account
//! [`B`] first loaded the day before [`TO`]. What changes between them is listed on
//! [`two_days`].

use crate::a360::EVERY;
use crate::store::load_new;
use orgwatch_store::Store;
use serde_json::{json, Value};
use time::macros::date;
use time::{Date, Duration};

/// The account loaded on both days.
pub const A: &str = "111111111111";
/// The account first loaded after [`FROM`].
pub const B: &str = "222222222222";
/// The earlier day.
pub const FROM: Date = date!(2026 - 11 - 10);
/// The later day.
pub const TO: Date = date!(2026 - 11 - 20);

/// `YYYY-MM-DD`.
pub fn day(d: Date) -> String {
    orgwatch_model::Day(d).to_string()
}

fn finding(id: &str, severity: &str, workflow: &str, product: &str) -> Value {
    json!({
        "finding_id": id, "title": format!("title of {id}"), "severity": severity,
        "workflow_state": workflow, "record_state": "ACTIVE", "product_name": product,
        "resource_type": "AwsS3Bucket", "resource_id": "bucket",
    })
}

fn cert(arn: &str, not_after: Date) -> Value {
    json!({
        "arn": arn, "domain_name": format!("{arn}.example.com"), "status": "ISSUED",
        "type": "AMAZON_ISSUED", "not_after": format!("{}T12:00:00+00:00", day(not_after)),
        "renewal_eligibility": "ELIGIBLE",
    })
}

fn instance(id: &str) -> Value {
    json!({
        "instance_id": id, "computer_name": format!("host-{id}"), "platform": "Amazon Linux",
        "platform_version": "2023", "ping_status": "Online",
    })
}

/// What one file holds.
struct Spec<'a> {
    findings: Vec<Value>,
    non_compliant: &'a [&'a str],
    services: &'a [(&'a str, f64)],
    certificates: Vec<Value>,
    instances: &'a [&'a str],
    inventory_status: &'a str,
    security_status: &'a str,
}

/// The every-category sample, as `account`'s file of `data_day` in `region`, holding `spec`.
fn document(account: &str, data_day: Date, spec: &Spec) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(EVERY).unwrap();
    doc["account"]["account_id"] = json!(account);
    doc["account"]["account_name"] = json!(format!("name-{account}"));
    doc["cost"]["account_id"] = json!(account);
    let (d, next) = (day(data_day), day(data_day + Duration::days(1)));
    doc["security"]["security_hub"] = json!([{
        "service": "Security Hub", "total_findings": spec.findings.len(),
        "findings": spec.findings,
    }]);
    doc["security"]["certificate_manager"] = json!(spec.certificates);
    doc["config"]["total_rules"] = json!(3);
    doc["config"]["non_compliant_rules"] = json!(spec.non_compliant.len());
    doc["config"]["compliant_rules"] = json!(3 - spec.non_compliant.len());
    let mut evaluations: Vec<Value> = spec
        .non_compliant
        .iter()
        .map(|rule| {
            json!({"rule_name": rule, "resource_id": format!("res-{rule}"),
                   "resource_type": "AWS::EC2::Volume", "compliance_type": "NON_COMPLIANT"})
        })
        .collect();
    // A compliant evaluation is never a change.
    evaluations.push(json!({"rule_name": "restricted-ssh", "resource_id": "sg-1",
        "resource_type": "AWS::EC2::SecurityGroup", "compliance_type": "COMPLIANT"}));
    doc["config"]["non_compliant_resources"] = json!(evaluations);
    doc["service"] = spec
        .services
        .iter()
        .map(|(service, cost)| {
            json!({"service": service, "usage_types": "Aggregated", "date_from": d,
                   "date_to": next, "cost": cost, "currency": "USD"})
        })
        .collect();
    doc["inventory"]["instances"] = spec.instances.iter().map(|i| instance(i)).collect();
    doc["inventory"]["applications"] = json!([]);
    doc["inventory"]["patches"] = json!([]);
    doc["logs"]["inventory_status"] = json!(spec.inventory_status);
    doc["logs"]["security_status"] = json!(spec.security_status);
    serde_json::to_vec(&doc).unwrap()
}

async fn put(store: &Store, account: &str, region: &str, data_day: Date, spec: &Spec<'_>) {
    let run = day(data_day + Duration::days(1));
    load_new(
        store,
        &format!("{account}/{region}/{run}_DAILY.json"),
        &document(account, data_day, spec),
    )
    .await;
}

/// Account A on `FROM` and `TO` (and a day between), account B only on `TO`. Between
/// `FROM` and `TO`, for A: findings `f-new` (CRITICAL, Inspector) and `f-suppressed` (HIGH,
/// reopened) are new, `f-resolved` (MEDIUM) is resolved, `f-unchanged`, `f-quiet` (not in
/// the `TO` file) and `f-born-closed` are no change; A fell out of Config compliance with
/// rule `encrypted-volumes` in us-east-1 (0 → 1 of 9 rules); its day cost moved EC2 10 →
/// 15.5, Lambda 0 → 1.25, KMS 0.5 → 0 (S3 stays 2); certificates `c-new` and `c-soon` are
/// newly expiring (`c-already` was already, `c-far` is not, ap-south-1's `c-unseen` is not
/// compared: its security collection failed); instances `i-new` and `i-south-new` are new,
/// `i-gone` and `i-south-old` removed (eu-west-1's inventory fails at `TO`: its `i-west` is
/// not removed).
/// B holds one of each kind, none of them a change: it is new since `FROM`.
pub async fn two_days(store: &Store) {
    let from = Spec {
        findings: vec![
            finding("f-resolved", "MEDIUM", "NEW", "Security Hub"),
            finding("f-unchanged", "HIGH", "NOTIFIED", "GuardDuty"),
            finding("f-quiet", "LOW", "NEW", "Inspector"),
            finding("f-suppressed", "HIGH", "SUPPRESSED", "Security Hub"),
        ],
        non_compliant: &[],
        services: &[("EC2", 10.0), ("S3", 2.0), ("KMS", 0.5)],
        certificates: vec![
            // Expiring within 30 days of the end of `TO`, not of `FROM`: newly expiring.
            cert("c-soon", TO + Duration::days(25)),
            // Within 30 days of both: already expiring at `FROM`.
            cert("c-already", FROM + Duration::days(25)),
            cert("c-far", TO + Duration::days(200)),
        ],
        instances: &["i-gone", "i-kept"],
        inventory_status: "Pass",
        security_status: "Pass",
    };
    // A region whose inventory fails at `TO`: its empty list removes nothing. Loaded
    // before the other region's file of the day, whose cost (a global category) then holds.
    let west = |status| Spec {
        findings: vec![],
        non_compliant: &[],
        services: &[("EC2", 10.0), ("S3", 2.0), ("KMS", 0.5)],
        certificates: vec![],
        instances: if status == "Pass" { &["i-west"] } else { &[] },
        inventory_status: status,
        security_status: "Pass",
    };
    // A region whose security collection fails on both days: its certificates are not
    // compared, its instances are.
    let south = |instances, certificates| Spec {
        instances,
        certificates,
        security_status: "Fail",
        ..west("Pass")
    };
    put(
        store,
        A,
        "ap-south-1",
        FROM,
        &south(&["i-south-old"], vec![]),
    )
    .await;
    put(store, A, "eu-west-1", FROM, &west("Pass")).await;
    put(store, A, "us-east-1", FROM, &from).await;
    // A day between: the finding the `TO` file no longer mentions was last seen open here.
    let between = Spec {
        findings: vec![finding("f-quiet", "LOW", "NEW", "Inspector")],
        ..west("Pass")
    };
    put(store, A, "us-east-1", FROM + Duration::days(3), &between).await;
    let to = Spec {
        findings: vec![
            finding("f-resolved", "MEDIUM", "RESOLVED", "Security Hub"),
            finding("f-unchanged", "HIGH", "NOTIFIED", "GuardDuty"),
            finding("f-new", "CRITICAL", "NEW", "Inspector"),
            // Open before `FROM`? No: first seen and already suppressed: no change.
            finding("f-born-closed", "HIGH", "SUPPRESSED", "Security Hub"),
            // Suppressed at `FROM`, open again at `TO`: new.
            finding("f-suppressed", "HIGH", "NEW", "Security Hub"),
        ],
        non_compliant: &["encrypted-volumes"],
        services: &[("EC2", 15.5), ("S3", 2.0), ("Lambda", 1.25)],
        certificates: vec![
            cert("c-soon", TO + Duration::days(25)),
            cert("c-already", FROM + Duration::days(25)),
            cert("c-far", TO + Duration::days(200)),
            cert("c-new", TO + Duration::days(2)),
        ],
        instances: &["i-kept", "i-new"],
        inventory_status: "Pass",
        security_status: "Pass",
    };
    let unseen = vec![cert("c-unseen", TO + Duration::days(3))];
    put(store, A, "ap-south-1", TO, &south(&["i-south-new"], unseen)).await;
    put(store, A, "eu-west-1", TO, &west("Fail")).await;
    put(store, A, "us-east-1", TO, &to).await;
    // B is first loaded after `FROM`: everything of it would look new.
    let b = Spec {
        findings: vec![finding("f-b", "CRITICAL", "NEW", "Security Hub")],
        non_compliant: &["b-rule"],
        services: &[("EC2", 99.0)],
        certificates: vec![cert("c-b", TO + Duration::days(3))],
        instances: &["i-b"],
        inventory_status: "Pass",
        security_status: "Pass",
    };
    put(store, B, "us-east-1", TO - Duration::days(1), &b).await;
}
