//! `Store::changes_report`, specified on both backends: two days of snapshots with known
//! differences, each kind of change checked exactly, and what is not a change left out.
// Integration tests link every dependency of the package and use a few; their helpers
// unwrap as the tests do.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_model::AccountId;
use orgwatch_store::{
    Access, ChangeKinds, ChangesReport, ComplianceChange, FindingChange, InstanceChange, Limits,
    PageFilter, Store,
};
use orgwatch_test_support::history::{two_days, A, B, FROM, TO};
use orgwatch_test_support::on_both_backends;
use time::Duration;

on_both_backends!(store:
    each_kind_of_change_between_two_days_is_listed_exactly,
    a_limited_viewer_sees_no_change_of_another_account,
    without_a_range_the_last_day_is_compared_with_30_days_before,
);

fn range() -> PageFilter {
    PageFilter {
        from: Some(FROM),
        to: Some(TO),
        ..PageFilter::default()
    }
}

fn ids(r: &ChangesReport) -> Vec<String> {
    let mut all: Vec<String> = r
        .findings
        .iter()
        .map(|f| f.account_id.to_string())
        .collect();
    all.extend(r.cost_movers.iter().map(|c| c.account_id.to_string()));
    all.extend(r.certificates.iter().map(|c| c.account_id.to_string()));
    all.extend(r.instances.iter().map(|c| c.account_id.to_string()));
    all.extend(
        r.account_compliance
            .iter()
            .map(|c| c.account_id.to_string()),
    );
    all.extend(r.rule_compliance.iter().map(|c| c.account_id.to_string()));
    all.extend(r.accounts.iter().map(|a| a.account.account_id.to_string()));
    all
}

async fn each_kind_of_change_between_two_days_is_listed_exactly(store: Store) {
    two_days(&store).await;
    let r = store
        .changes_report(&Access::All, &range(), ChangeKinds::ALL)
        .await
        .unwrap();
    let compared = r.range.unwrap();
    assert_eq!((compared.from, compared.to), (FROM, TO));

    // The accounts and their sides: B is new since `FROM`.
    let sides: Vec<_> = r
        .accounts
        .iter()
        .map(|a| {
            (
                a.account.account_id.as_str(),
                a.from_day,
                a.to_day,
                a.is_new(),
            )
        })
        .collect();
    assert_eq!(
        sides,
        [
            (A, Some(FROM), Some(TO), false),
            (B, None, Some(TO - Duration::days(1)), true)
        ]
    );

    // Findings: one resolved, two new (one reopened); unchanged, quiet and born-closed
    // ones are not listed, nor B's.
    let findings: Vec<_> = r
        .findings
        .iter()
        .map(|f| {
            (
                f.account_id.as_str(),
                f.change,
                f.finding_id.as_str(),
                f.severity.as_str(),
                f.source.as_str(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            (A, FindingChange::New, "f-new", "CRITICAL", "Inspector"),
            (
                A,
                FindingChange::New,
                "f-suppressed",
                "HIGH",
                "Security Hub"
            ),
            (
                A,
                FindingChange::Resolved,
                "f-resolved",
                "MEDIUM",
                "Security Hub"
            ),
        ]
    );
    assert_eq!(r.findings[0].title, "title of f-new");
    assert_eq!(r.findings[0].region, "us-east-1");

    // Config: A fell out (the account, and its rule in us-east-1).
    assert_eq!(r.account_compliance.len(), 1);
    let a = &r.account_compliance[0];
    assert_eq!(
        (
            a.account_id.as_str(),
            a.change,
            a.from_non_compliant,
            a.to_non_compliant,
            a.to_rules
        ),
        (A, ComplianceChange::FellOut, 0, 1, 9)
    );
    let rules: Vec<_> = r
        .rule_compliance
        .iter()
        .map(|c| {
            (
                c.account_id.as_str(),
                c.region.as_str(),
                c.rule.as_str(),
                c.change,
                c.from_resources,
                c.to_resources,
            )
        })
        .collect();
    assert_eq!(
        rules,
        [(
            A,
            "us-east-1",
            "encrypted-volumes",
            ComplianceChange::FellOut,
            0,
            1
        )]
    );

    // Cost of the day: EC2 +5.5, Lambda +1.25 (new), KMS −0.5 (gone), S3 unchanged.
    let movers: Vec<_> = r
        .cost_movers
        .iter()
        .map(|m| (m.service.as_str(), m.from_cost, m.to_cost, m.change()))
        .collect();
    assert_eq!(
        movers,
        [
            ("EC2", 10.0, 15.5, 5.5),
            ("Lambda", 0.0, 1.25, 1.25),
            ("KMS", 0.5, 0.0, -0.5),
        ]
    );
    assert!(r.cost_movers.iter().all(|m| m.account_id.as_str() == A));

    // Certificates newly expiring, soonest first.
    let certs: Vec<_> = r.certificates.iter().map(|c| c.arn.as_str()).collect();
    assert_eq!(certs, ["c-new", "c-soon"]);

    // Instances: two new, two removed (also in the region whose security failed); the
    // region whose inventory failed removes nothing.
    let instances: Vec<_> = r
        .instances
        .iter()
        .map(|i| {
            (
                i.change,
                i.region.as_str(),
                i.instance_id.as_str(),
                i.computer_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        instances,
        [
            (
                InstanceChange::New,
                "ap-south-1",
                "i-south-new",
                "host-i-south-new"
            ),
            (InstanceChange::New, "us-east-1", "i-new", "host-i-new"),
            (
                InstanceChange::Removed,
                "ap-south-1",
                "i-south-old",
                "host-i-south-old"
            ),
            (
                InstanceChange::Removed,
                "us-east-1",
                "i-gone",
                "host-i-gone"
            ),
        ]
    );
    assert_eq!(r.instances[0].platform, "Amazon Linux 2023");
    // What the files report, per side: the failed region shows at `TO`.
    assert_eq!(
        (r.inventory.to.files, r.inventory.to.failed),
        (4, 1),
        "{:?}",
        r.inventory
    );
    assert_eq!((r.inventory.from.files, r.inventory.from.failed), (3, 0));
    assert_eq!((r.security.to.files, r.security.to.failed), (4, 1));

    // Only the kinds asked are read: the same cost movers, no other list.
    let only_cost = store
        .changes_report(
            &Access::All,
            &range(),
            ChangeKinds {
                cost: true,
                ..ChangeKinds::NONE
            },
        )
        .await
        .unwrap();
    assert_eq!(only_cost.cost_movers, r.cost_movers);
    assert!(only_cost.findings.is_empty() && only_cost.certificates.is_empty());
    assert!(only_cost.instances.is_empty() && only_cost.account_compliance.is_empty());
    assert!(only_cost.rule_compliance.is_empty());
    assert_eq!(only_cost.accounts, r.accounts);

    // A day compared with itself: nothing changed.
    let back = store
        .changes_report(
            &Access::All,
            &PageFilter {
                from: Some(FROM),
                to: Some(FROM),
                ..PageFilter::default()
            },
            ChangeKinds::ALL,
        )
        .await
        .unwrap();
    assert!(back.findings.is_empty() && back.cost_movers.is_empty());
    assert!(back.instances.is_empty() && back.certificates.is_empty());
    assert!(back.accounts.iter().all(|a| !a.is_new()));
}

async fn a_limited_viewer_sees_no_change_of_another_account(store: Store) {
    two_days(&store).await;
    let only = |id: &str| {
        Access::Limited(Limits {
            accounts: vec![AccountId::parse(id).unwrap()],
            ..Limits::default()
        })
    };
    let a = store
        .changes_report(&only(A), &range(), ChangeKinds::ALL)
        .await
        .unwrap();
    assert!(!a.findings.is_empty() && !a.cost_movers.is_empty());
    assert!(ids(&a).iter().all(|id| id == A), "{:?}", ids(&a));
    let b = store
        .changes_report(&only(B), &range(), ChangeKinds::ALL)
        .await
        .unwrap();
    assert_eq!(ids(&b), [B], "B alone, and new");
    assert!(b.accounts[0].is_new());
    // A filter naming A adds nothing to a viewer of B.
    let filtered = PageFilter {
        accounts: vec![AccountId::parse(A).unwrap()],
        ..range()
    };
    let none = store
        .changes_report(&only(B), &filtered, ChangeKinds::ALL)
        .await
        .unwrap();
    assert!(ids(&none).is_empty());
}

async fn without_a_range_the_last_day_is_compared_with_30_days_before(store: Store) {
    two_days(&store).await;
    let r = store
        .changes_report(&Access::All, &PageFilter::default(), ChangeKinds::ALL)
        .await
        .unwrap();
    let range = r.range.unwrap();
    assert_eq!(range.to, TO);
    assert_eq!(range.from, TO - Duration::days(29));
    // Before every file: both accounts are new, so nothing is a change.
    assert!(r.accounts.iter().all(|a| a.is_new()));
    assert!(r.findings.is_empty() && r.cost_movers.is_empty() && r.instances.is_empty());
    // An empty store has no range, and says so.
    let empty = store
        .changes_report(
            &Access::Limited(Limits::default()),
            &PageFilter::default(),
            ChangeKinds::ALL,
        )
        .await
        .unwrap();
    assert_eq!(empty.range, None);
    assert!(empty.accounts.is_empty());
}
