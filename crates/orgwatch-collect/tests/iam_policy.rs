//! `orgwatch iam-policy` grants exactly the calls the collector makes: every request in the
//! source goes through `aws_call!("service:Action", client.operation(...))`, the action
//! names its operation, and the set of actions equals the policy's. The same scan checks
//! that every client of a member account is built by `aws_client!` (its own retry partition).
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_collect::policy::CALLS;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, text));
        }
    }
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Each `aws_call!` of a text: its action and the operation its request builder starts with.
fn calls(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("aws_call!(") {
        let rest = &text[i + "aws_call!(".len()..];
        let rest = rest.trim_start();
        if !rest.starts_with('"') {
            // The macro's own definition (`$action:literal`).
            continue;
        }
        let end = rest[1..].find('"').unwrap() + 1;
        let action = rest[1..end].to_owned();
        // The operation: the first `.name(` after the client variable.
        let after = &rest[end + 1..];
        let dot = after.find('.').unwrap();
        let op: String = after[dot + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.push((action, op));
    }
    out
}

#[test]
fn every_call_names_its_operations_iam_action_and_the_policy_has_exactly_those() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut in_code = BTreeSet::new();
    let mut in_remote = BTreeSet::new();
    for (path, text) in &files {
        // S3 authorises a few operations by another action's name.
        let authorised_as = |op: &str| match op {
            "list_objects_v2" => "ListBucket".to_owned(),
            "head_object" => "GetObject".to_owned(),
            "copy_object" => "PutObject".to_owned(),
            "list_buckets" => "ListAllMyBuckets".to_owned(),
            op => camel(op),
        };
        for (action, op) in calls(text) {
            let (_, name) = action.split_once(':').unwrap();
            // IAM action names are case-insensitive, and the SDK's snake case loses the
            // capitals of acronyms (`list_web_acls` is wafv2:ListWebACLs).
            assert!(
                name.eq_ignore_ascii_case(&authorised_as(&op)),
                "{}: aws_call!({action:?}) wraps the operation `{op}`",
                path.display()
            );
            // The bucket and queue calls have their own policy (remote::storage_policy).
            if path.components().any(|c| c.as_os_str() == "remote") {
                in_remote.insert(action);
            } else {
                in_code.insert(action);
            }
        }
        // No request is sent around the wrapper: `.send()` appears only in its definition.
        let sends = text.matches(".send()").count();
        let allowed = usize::from(path.ends_with("call.rs"));
        assert_eq!(
            sends,
            allowed,
            "{}: a request sent without aws_call!",
            path.display()
        );
        // The SDK's role provider calls sts:AssumeRole itself.
        if text.contains("AssumeRoleProvider::builder") {
            in_code.insert("sts:AssumeRole".to_owned());
        }
    }
    let in_policy: BTreeSet<String> = CALLS.iter().map(|(a, _)| (*a).to_owned()).collect();
    assert_eq!(
        in_code, in_policy,
        "calls in the code vs. actions in the policy"
    );
    assert!(in_code.len() >= 10, "the scan found the calls: {in_code:?}");
    let in_storage_policy: BTreeSet<String> = orgwatch_collect::remote::CALLS
        .iter()
        .map(|(a, _)| (*a).to_owned())
        .collect();
    assert_eq!(
        in_remote, in_storage_policy,
        "bucket and queue calls in the code vs. actions in the storage policy"
    );
}

#[test]
fn every_client_of_an_account_region_has_a_retry_partition_of_its_own() {
    // The run and the categories build the clients of member accounts; the discovery
    // (`accounts.rs`) and the S3/SQS sources (`remote/`) run as one identity and keep the
    // SDK's shared partition.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![(
        root.join("run.rs"),
        std::fs::read_to_string(root.join("run.rs")).unwrap(),
    )];
    sources(&root.join("category"), &mut files);
    let mut built = 0;
    for (path, text) in &files {
        assert!(
            !text.contains("Client::new(") && !text.contains("Client::from_conf("),
            "{}: an account's client built without aws_client! (it would share the SDK's \
             adaptive limiter with every other account)",
            path.display()
        );
        built += text.matches("aws_client!(").count();
    }
    assert!(
        built >= 20,
        "only {built} aws_client! in the run and the categories"
    );
}

#[test]
fn the_scanner_reads_a_call_spread_over_lines() {
    let text = r#"let p = aws_call!(
            "organizations:ListTagsForResource",
            org.list_tags_for_resource()
                .resource_id(id)
        )?;"#;
    assert_eq!(
        calls(text),
        vec![(
            "organizations:ListTagsForResource".to_owned(),
            "list_tags_for_resource".to_owned()
        )]
    );
    assert_eq!(camel("get_key_rotation_status"), "GetKeyRotationStatus");
}
