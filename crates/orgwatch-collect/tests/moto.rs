//! `orgwatch collect` against moto_server: an organisation of three member accounts (and a
//! suspended one) seeded through the emulator's own APIs in two regions, read through
//! AssumeRole, and the written snapshots compared with what was seeded.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_config::types::{ConfigRule, Owner, Source};
use aws_sdk_organizations::types::{OrganizationFeatureSet, Tag};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, RecordState, Resource, Severity, SeverityLabel, Workflow, WorkflowStatus,
};
use aws_sdk_wafv2::types::{
    AllowAction, BlockAction, CountryCode, DefaultAction, GeoMatchStatement,
    ManagedRuleGroupStatement, NoneAction, OverrideAction, RateBasedStatement,
    RateBasedStatementAggregateKeyType, Rule, RuleAction, Scope, Statement, VisibilityConfig,
};
use common::{management, member, Moto, MANAGEMENT};
use orgwatch_collect::aws::RoleOptions;
use orgwatch_collect::call::Failure;
use orgwatch_collect::write::Out;
use orgwatch_collect::{accounts, regions, CollectOptions, Status};
use orgwatch_model::category::config::ConfigReport;
use orgwatch_model::category::cost::{CostPeriod, CostReport, TopService};
use orgwatch_model::category::logs::CollectionStatus;
use orgwatch_model::category::marketplace::MarketplaceUsage;
use orgwatch_model::category::service::ServiceCost;
use orgwatch_model::{AccountId, Category, Granularity, Region, Snapshot, SnapshotLocation};
use std::collections::{BTreeMap, BTreeSet};

const ROLE: &str = "OrgwatchReadOnly";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// What one account-region holds.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seeded {
    /// (description, rotation enabled: unknown for a key pending deletion)
    keys: BTreeSet<(String, Option<bool>)>,
    secrets: BTreeSet<String>,
    /// (domain, SANs)
    certificates: BTreeSet<(String, Vec<String>)>,
    /// (name, bucket)
    trails: BTreeSet<(String, String)>,
    /// Security Hub findings of the window: (product, finding id, status)
    findings: BTreeSet<(String, String, String)>,
    /// Web ACLs: (name, scope, rules, blocked countries)
    acls: BTreeSet<(String, String, i64, Vec<String>)>,
    /// WAF rules: (ACL, rule, statement type, compliant)
    waf_rules: BTreeSet<(String, String, String, bool)>,
    /// Inspector findings of the window: (ARN, severity)
    inspector: BTreeSet<(String, String)>,
    /// Service resources: (service, type, name, what else identifies it; see `resource`)
    resources: BTreeSet<(String, String, String, String)>,
    /// Resources Config recorded (`None`: config_inventory not read, no recorder recording)
    config_inventory: Option<usize>,
}

/// A `service_resources` row as the test compares it: service, type, name, and the fields
/// that say what it is (each type's own).
fn resource(
    r: &orgwatch_model::category::service_resources::ServiceResource,
) -> (String, String, String, String) {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
    let detail = match r.resource_type.as_deref().unwrap_or_default() {
        "Instance" => format!(
            "{} {} {}",
            s(&r.instance_type),
            s(&r.state),
            s(&r.availability_zone)
        ),
        "Volume" => format!(
            "{} {} {}",
            r.size_gb.unwrap_or_default(),
            s(&r.volume_type),
            s(&r.state)
        ),
        "Subnet" => format!(
            "{} {} {}",
            s(&r.resource_id),
            s(&r.vpc_id),
            s(&r.availability_zone)
        ),
        "DBInstance" => format!("{} {} {:?}", s(&r.engine), s(&r.instance_class), r.multi_az),
        "Bucket" => s(&r.state),
        "LoadBalancer" => format!(
            "{} {} {}",
            s(&r.resource_kind),
            s(&r.scheme),
            s(&r.availability_zone)
        ),
        "AutoScalingGroup" => format!(
            "{}-{} {} {}",
            n(r.min_size),
            n(r.max_size),
            n(r.instance_count),
            s(&r.availability_zone)
        ),
        "Function" => format!(
            "{} {} {}",
            s(&r.engine),
            r.size_gb.unwrap_or_default(),
            s(&r.resource_kind)
        ),
        other => panic!("unexpected resource type {other}"),
    };
    (
        s(&r.service_name),
        s(&r.resource_type),
        s(&r.resource_name),
        detail,
    )
}

/// The expected `resource` tuple.
fn res(
    service: &str,
    kind: &str,
    name: &str,
    detail: impl Into<String>,
) -> (String, String, String, String) {
    (
        service.to_owned(),
        kind.to_owned(),
        name.to_owned(),
        detail.into(),
    )
}

fn read(out: &std::path::Path, account: &str, region: &str) -> Snapshot {
    let location = SnapshotLocation {
        account: AccountId::parse(account).unwrap(),
        region: Some(Region::parse(region).unwrap()),
        run_date: time::macros::date!(2026 - 12 - 04),
        granularity: Granularity::Daily,
    };
    let path = out.join("data").join(location.relative_path());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    orgwatch_model::read_located(&bytes, &location).unwrap()
}

fn found(s: &Snapshot) -> Seeded {
    let sec = s.security.as_ref().expect("security collected");
    Seeded {
        keys: sec
            .kms
            .iter()
            .flatten()
            .map(|k| {
                (
                    k.description.clone().unwrap_or_default(),
                    k.key_rotation_enabled,
                )
            })
            .collect(),
        secrets: sec
            .secrets_manager
            .iter()
            .flatten()
            .map(|x| x.name.clone().unwrap())
            .collect(),
        certificates: sec
            .certificate_manager
            .iter()
            .flatten()
            .map(|c| {
                let mut sans = c.subject_alternative_names.clone();
                sans.sort();
                (c.domain_name.clone().unwrap(), sans)
            })
            .collect(),
        trails: sec
            .cloudtrail
            .iter()
            .flatten()
            .map(|t| (t.name.clone().unwrap(), t.s3_bucket.clone().unwrap()))
            .collect(),
        findings: sec
            .security_hub
            .iter()
            .flatten()
            .flat_map(|s| {
                s.findings.iter().map(|f| {
                    (
                        s.service.clone().unwrap(),
                        f.finding_id.clone().unwrap(),
                        f.status.clone().unwrap(),
                    )
                })
            })
            .collect(),
        acls: sec
            .waf
            .iter()
            .flatten()
            .map(|a| {
                (
                    a.name.clone().unwrap(),
                    a.scope.clone().unwrap(),
                    a.rules_count.unwrap(),
                    a.blocked_countries.clone(),
                )
            })
            .collect(),
        waf_rules: sec
            .waf_rules
            .iter()
            .flatten()
            .map(|r| {
                (
                    r.web_acl_name.clone().unwrap(),
                    r.rule_name.clone().unwrap(),
                    r.statement_type.clone().unwrap(),
                    r.is_compliant.unwrap(),
                )
            })
            .collect(),
        inspector: sec
            .inspector
            .iter()
            .flatten()
            .map(|f| (f.finding_arn.clone().unwrap(), f.severity.clone().unwrap()))
            .collect(),
        resources: s.service_resources.iter().flatten().map(resource).collect(),
        config_inventory: s.config_inventory.as_ref().map(Vec::len),
    }
}

/// The subnets of the default VPC the emulator makes in every account-region, as it lists
/// them: (id, VPC, zone); each is expected in `seeded` as a row of `service_resources`.
async fn default_subnets(
    cfg: &aws_config::SdkConfig,
    seeded: &mut Seeded,
) -> Vec<(String, String, String)> {
    let listed = aws_sdk_ec2::Client::new(cfg)
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("default-for-az")
                .values("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let subnets: Vec<(String, String, String)> = listed
        .subnets()
        .iter()
        .map(|s| {
            (
                s.subnet_id().unwrap().to_owned(),
                s.vpc_id().unwrap().to_owned(),
                s.availability_zone().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(subnets.len() >= 2, "the default VPC has a subnet per zone");
    for (id, vpc, az) in &subnets {
        seeded
            .resources
            .insert(res("VPC", "Subnet", "", format!("{id} {vpc} {az}")));
    }
    subnets
}

/// Seeds the region's resources: in every account-region the default VPC's subnets (the
/// emulator's, read back as it lists them) and the account's trail bucket (account-wide,
/// so in each region's file); in account 1's first region one resource of every type; in
/// account 2's second region an instance without a Name tag and a named subnet of a VPC of
/// its own.
async fn seed_resources(
    moto: &Moto,
    cfg: &aws_config::SdkConfig,
    account: &str,
    i: usize,
    j: usize,
    seeded: &mut Seeded,
) {
    use aws_sdk_ec2::types::{InstanceType, ResourceType, Tag as Ec2Tag, TagSpecification};
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let default_subnets = default_subnets(cfg, seeded).await;
    seeded.resources.insert(res(
        "S3",
        "Bucket",
        &format!("trail-logs-{account}"),
        "Active",
    ));
    let named = |kind: ResourceType, name: &str| {
        TagSpecification::builder()
            .resource_type(kind)
            .tags(Ec2Tag::builder().key("Name").value(name).build())
            .build()
    };
    if (i, j) == (0, 0) {
        // A Config recorder recording (to the trail's bucket): the inventory is read. The
        // emulator answers SelectResourceConfig with no rows (its canned results cannot be
        // set over HTTP), so it is read as empty; elsewhere it is `not enabled`.
        let config = aws_sdk_config::Client::new(cfg);
        config
            .put_configuration_recorder()
            .configuration_recorder(
                aws_sdk_config::types::ConfigurationRecorder::builder()
                    .name("default")
                    .role_arn(format!("arn:aws:iam::{account}:role/config"))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        config
            .put_delivery_channel()
            .delivery_channel(
                aws_sdk_config::types::DeliveryChannel::builder()
                    .name("default")
                    .s3_bucket_name(format!("trail-logs-{account}"))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        config
            .start_configuration_recorder()
            .configuration_recorder_name("default")
            .send()
            .await
            .unwrap();
        seeded.config_inventory = Some(0);
    }
    if (i, j) == (1, 0) {
        let zone = default_subnets[0].2.clone();
        ec2.run_instances()
            .image_id("ami-12c6146b")
            .instance_type(InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .placement(
                aws_sdk_ec2::types::Placement::builder()
                    .availability_zone(&zone)
                    .build(),
            )
            .tag_specifications(named(ResourceType::Instance, "web-1"))
            .send()
            .await
            .unwrap();
        seeded.resources.insert(res(
            "EC2",
            "Instance",
            "web-1",
            format!("t3.micro running {zone}"),
        ));
        // The instance's root volume (the emulator gives every instance one of 8 GiB).
        seeded
            .resources
            .insert(res("EBS", "Volume", "", "8 gp2 in-use"));
        ec2.create_volume()
            .availability_zone(&zone)
            .size(100)
            .volume_type(aws_sdk_ec2::types::VolumeType::Gp3)
            .tag_specifications(named(ResourceType::Volume, "data"))
            .send()
            .await
            .unwrap();
        seeded
            .resources
            .insert(res("EBS", "Volume", "data", "100 gp3 available"));
        aws_sdk_rds::Client::new(cfg)
            .create_db_instance()
            .db_instance_identifier("orders-db")
            .engine("postgres")
            .db_instance_class("db.t3.micro")
            .allocated_storage(20)
            .master_username("admin")
            .master_user_password("never-read-1")
            .send()
            .await
            .unwrap();
        seeded.resources.insert(res(
            "RDS",
            "DBInstance",
            "orders-db",
            "postgres db.t3.micro Some(false)",
        ));
        let (a, b) = (&default_subnets[0], &default_subnets[1]);
        aws_sdk_elasticloadbalancingv2::Client::new(cfg)
            .create_load_balancer()
            .name("web-alb")
            .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::Internal)
            .subnets(&a.0)
            .subnets(&b.0)
            .send()
            .await
            .unwrap();
        let mut zones = [a.2.clone(), b.2.clone()];
        zones.sort();
        let listed = aws_sdk_elasticloadbalancingv2::Client::new(cfg)
            .describe_load_balancers()
            .send()
            .await
            .unwrap();
        // The zones in the order the emulator lists them.
        let order: Vec<String> = listed.load_balancers()[0]
            .availability_zones()
            .iter()
            .map(|z| z.zone_name().unwrap().to_owned())
            .collect();
        assert_eq!(
            {
                let mut o = order.clone();
                o.sort();
                o
            },
            zones
        );
        seeded.resources.insert(res(
            "ELB",
            "LoadBalancer",
            "web-alb",
            format!("application internal {}", order.join(",")),
        ));
        let asg = aws_sdk_autoscaling::Client::new(cfg);
        asg.create_launch_configuration()
            .launch_configuration_name("workers-lc")
            .image_id("ami-12c6146b")
            .instance_type("t3.micro")
            .send()
            .await
            .unwrap();
        asg.create_auto_scaling_group()
            .auto_scaling_group_name("workers")
            .launch_configuration_name("workers-lc")
            .min_size(0)
            .max_size(3)
            .desired_capacity(0)
            .availability_zones(&a.2)
            .send()
            .await
            .unwrap();
        seeded.resources.insert(res(
            "AutoScaling",
            "AutoScalingGroup",
            "workers",
            format!("0-3 0 {}", a.2),
        ));
        let (status, body) = moto.query_call(
            account,
            "iam",
            "2010-05-08",
            "CreateRole",
            &[("RoleName", "api-exec"), ("AssumeRolePolicyDocument", "{}")],
        );
        assert_eq!(status, 200, "{body}");
        // An empty zip archive: the emulator stores the code, it never runs it here.
        let zip = [&b"PK\x05\x06"[..], &[0u8; 18]].concat();
        aws_sdk_lambda::Client::new(cfg)
            .create_function()
            .function_name("api")
            .runtime(aws_sdk_lambda::types::Runtime::Python313)
            .role(format!("arn:aws:iam::{account}:role/api-exec"))
            .handler("app.handler")
            .memory_size(256)
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        seeded
            .resources
            .insert(res("Lambda", "Function", "api", "python3.13 0.25 Zip"));
    }
    if (i, j) == (2, 1) {
        let zone = default_subnets[0].2.clone();
        ec2.run_instances()
            .image_id("ami-12c6146b")
            .instance_type(InstanceType::M5Large)
            .min_count(1)
            .max_count(1)
            .placement(
                aws_sdk_ec2::types::Placement::builder()
                    .availability_zone(&zone)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        seeded.resources.insert(res(
            "EC2",
            "Instance",
            "",
            format!("m5.large running {zone}"),
        ));
        seeded
            .resources
            .insert(res("EBS", "Volume", "", "8 gp2 in-use"));
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.9.0.0/16")
            .send()
            .await
            .unwrap();
        let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.9.1.0/24")
            .availability_zone(&zone)
            .tag_specifications(named(ResourceType::Subnet, "private-a"))
            .send()
            .await
            .unwrap();
        let id = subnet.subnet().unwrap().subnet_id().unwrap().to_owned();
        seeded.resources.insert(res(
            "VPC",
            "Subnet",
            "private-a",
            format!("{id} {vpc} {zone}"),
        ));
    }
}

/// An Inspector finding as ListFindings returns it (times in epoch seconds).
fn inspector_finding(
    account: &str,
    region: &str,
    n: usize,
    severity: &str,
    observed: (f64, f64),
) -> serde_json::Value {
    serde_json::json!({
        "findingArn": format!("arn:aws:inspector2:{region}:{account}:finding/{n}"),
        "awsAccountId": account,
        "type": "PACKAGE_VULNERABILITY",
        "description": "seeded",
        "title": format!("CVE-2026-{n}"),
        "severity": severity,
        "firstObservedAt": observed.0,
        "lastObservedAt": observed.1,
        "status": "ACTIVE",
        "resources": [{"type": "AWS_EC2_INSTANCE", "id": "i-0123456789abcdef0"}]
    })
}

/// A Security Hub finding of `account` in `region`, created and updated at the given times.
fn hub_finding(
    account: &str,
    region: &str,
    id: &str,
    product: &str,
    label: SeverityLabel,
    status: WorkflowStatus,
    (created, updated): (&str, &str),
) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(id)
        .product_arn(format!(
            "arn:aws:securityhub:{region}::product/aws/securityhub"
        ))
        .product_name(product)
        .company_name("AWS")
        .generator_id("security-control/S3.5")
        .aws_account_id(account)
        .region(region)
        .types("Software and Configuration Checks")
        .created_at(created)
        .updated_at(updated)
        .severity(Severity::builder().label(label).build())
        .title(format!("finding {id}"))
        .description("seeded")
        .workflow(Workflow::builder().status(status).build())
        .record_state(RecordState::Active)
        .resources(
            Resource::builder()
                .r#type("AwsS3Bucket")
                .id(format!("arn:aws:s3:::bucket-{id}"))
                .build(),
        )
        .build()
}

fn visibility(metric: &str) -> VisibilityConfig {
    VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(true)
        .metric_name(metric)
        .build()
        .unwrap()
}

/// A web ACL with an AWS managed rule group, a rate limit and a geo block of `countries`.
async fn web_acl(waf: &aws_sdk_wafv2::Client, name: &str, scope: Scope, countries: &[CountryCode]) {
    let geo = Statement::builder()
        .geo_match_statement(
            GeoMatchStatement::builder()
                .set_country_codes(Some(countries.to_vec()))
                .build(),
        )
        .build();
    let block = RuleAction::builder()
        .block(BlockAction::builder().build())
        .build();
    waf.create_web_acl()
        .name(name)
        .scope(scope)
        .default_action(
            DefaultAction::builder()
                .allow(AllowAction::builder().build())
                .build(),
        )
        .visibility_config(visibility(name))
        .rules(
            Rule::builder()
                .name("AWS-AWSManagedRulesCommonRuleSet")
                .priority(0)
                .statement(
                    Statement::builder()
                        .managed_rule_group_statement(
                            ManagedRuleGroupStatement::builder()
                                .vendor_name("AWS")
                                .name("AWSManagedRulesCommonRuleSet")
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .override_action(
                    OverrideAction::builder()
                        .none(NoneAction::builder().build())
                        .build(),
                )
                .visibility_config(visibility("common"))
                .build()
                .unwrap(),
        )
        .rules(
            Rule::builder()
                .name("rate-limit")
                .priority(1)
                .statement(
                    Statement::builder()
                        .rate_based_statement(
                            RateBasedStatement::builder()
                                .limit(2000)
                                .aggregate_key_type(RateBasedStatementAggregateKeyType::Ip)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .action(block.clone())
                .visibility_config(visibility("rate"))
                .build()
                .unwrap(),
        )
        .rules(
            Rule::builder()
                .name("geo-block")
                .priority(2)
                .statement(geo)
                .action(block)
                .visibility_config(visibility("geo"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// The rules `web_acl` creates, as `waf_rules` holds them.
fn acl_rules(acl: &str) -> [(String, String, String, bool); 3] {
    [
        (
            acl.to_owned(),
            "AWS-AWSManagedRulesCommonRuleSet".to_owned(),
            "ManagedRuleGroupStatement".to_owned(),
            true,
        ),
        (
            acl.to_owned(),
            "rate-limit".to_owned(),
            "RateBasedStatement".to_owned(),
            true,
        ),
        (
            acl.to_owned(),
            "geo-block".to_owned(),
            "GeoMatchStatement".to_owned(),
            true,
        ),
    ]
}

/// Seeds account `i` in `region` (index `j`) with a different number of each kind of item.
async fn seed(moto: &Moto, account: &str, i: usize, j: usize) -> Seeded {
    let region = REGIONS[j];
    let cfg = member(moto, account, ROLE, region).await;
    let mut seeded = Seeded::default();
    let kms = aws_sdk_kms::Client::new(&cfg);
    for k in 0..(i + j + 1) {
        let description = format!("{account} {region} key {k}");
        let key = kms
            .create_key()
            .description(&description)
            .send()
            .await
            .unwrap();
        let id = key.key_metadata().unwrap().key_id().to_owned();
        let rotate = k % 2 == 0;
        if rotate {
            kms.enable_key_rotation().key_id(&id).send().await.unwrap();
        }
        seeded.keys.insert((description, Some(rotate)));
    }
    if (i, j) == (1, 0) {
        // A key pending deletion has no rotation status: unknown, and no failure.
        let description = format!("{account} {region} key being deleted");
        let key = kms
            .create_key()
            .description(&description)
            .send()
            .await
            .unwrap();
        let id = key.key_metadata().unwrap().key_id().to_owned();
        kms.schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(7)
            .send()
            .await
            .unwrap();
        seeded.keys.insert((description, None));
    }
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    // Account 0 has no secret at all: an empty list, not a missing one. Account 2 has 103
    // in its second region: more than one page (moto's ListSecrets pages by 100).
    let secrets = if (i, j) == (2, 1) { 103 } else { i * 2 };
    for s in 0..secrets {
        let name = format!("app/{region}/secret-{s}");
        sm.create_secret()
            .name(&name)
            .secret_string("never read")
            .tags(
                aws_sdk_secretsmanager::types::Tag::builder()
                    .key("Team")
                    .value("payments")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        seeded.secrets.insert(name);
    }
    let acm = aws_sdk_acm::Client::new(&cfg);
    let domain = format!("svc{j}.member{i}.example.com");
    let san = format!("www.svc{j}.member{i}.example.com");
    acm.request_certificate()
        .domain_name(&domain)
        .subject_alternative_names(&domain)
        .subject_alternative_names(&san)
        .send()
        .await
        .unwrap();
    let mut sans = vec![domain.clone(), san];
    sans.sort();
    seeded.certificates.insert((domain, sans));
    if j == 0 {
        let bucket = format!("trail-logs-{account}");
        moto.create_bucket(account, &bucket);
        let ct = aws_sdk_cloudtrail::Client::new(&cfg);
        let name = format!("trail-{i}");
        ct.create_trail()
            .name(&name)
            .s3_bucket_name(&bucket)
            .send()
            .await
            .unwrap();
        seeded.trails.insert((name, bucket));
    }
    // Security Hub (the run is on 2026-12-04, DAILY: the window is 2026-12-03). i + j new
    // findings created in the window, one created before it (not read), an informational one
    // (not read: the sender reads CRITICAL to LOW), and in the second region one resolved in
    // the window though created long before (read by the second query).
    let hub = aws_sdk_securityhub::Client::new(&cfg);
    let in_window = ("2026-12-03T10:00:00Z", "2026-12-03T10:00:00Z");
    let mut findings = Vec::new();
    for n in 0..(i + j) {
        let id = format!("{account}-{region}-new-{n}");
        // Account 2's first region has a second product: one summary per product.
        let product = if (i, j, n) == (2, 0, 1) {
            "GuardDuty"
        } else {
            "Security Hub"
        };
        findings.push(hub_finding(
            account,
            region,
            &id,
            product,
            SeverityLabel::High,
            WorkflowStatus::New,
            in_window,
        ));
        seeded
            .findings
            .insert((product.to_owned(), id, "NEW".to_owned()));
    }
    findings.push(hub_finding(
        account,
        region,
        &format!("{account}-{region}-old"),
        "Security Hub",
        SeverityLabel::Critical,
        WorkflowStatus::New,
        ("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z"),
    ));
    findings.push(hub_finding(
        account,
        region,
        &format!("{account}-{region}-info"),
        "Security Hub",
        SeverityLabel::Informational,
        WorkflowStatus::New,
        in_window,
    ));
    if j == 1 {
        let id = format!("{account}-{region}-resolved");
        findings.push(hub_finding(
            account,
            region,
            &id,
            "Security Hub",
            SeverityLabel::Medium,
            WorkflowStatus::Resolved,
            ("2026-11-01T00:00:00Z", "2026-12-03T12:00:00.500Z"),
        ));
        seeded
            .findings
            .insert(("Security Hub".to_owned(), id, "RESOLVED".to_owned()));
    }
    hub.batch_import_findings()
        .set_findings(Some(findings))
        .send()
        .await
        .unwrap();
    // Inspector: moto answers ListFindings from a queue set through its own API. Account 1's
    // first region has one finding last seen in the window and one seen only before it.
    if (i, j) == (1, 0) {
        // 2026-12-03 01:00 and 2026-11-01 00:00 UTC.
        let (dec3, nov1) = (1_796_259_600.0, 1_793_491_200.0);
        let results = serde_json::json!({
            "results": [[
                inspector_finding(account, region, 1, "HIGH", (nov1, dec3)),
                inspector_finding(account, region, 2, "LOW", (nov1, nov1)),
            ]],
            "account_id": account,
            "region": region,
        });
        let status = moto.raw(
            "POST",
            "/moto-api/static/inspector2/findings-results",
            &[("Content-Type", "application/json")],
            &results.to_string(),
        );
        assert!(
            matches!(status, Some(200 | 201)),
            "seeding Inspector: {status:?}"
        );
        seeded.inspector.insert((
            format!("arn:aws:inspector2:{region}:{account}:finding/1"),
            "HIGH".to_owned(),
        ));
    }
    // WAF: a regional web ACL where i == j; in account 0's us-east-1 also a CloudFront one,
    // which only the us-east-1 file holds.
    let waf = aws_sdk_wafv2::Client::new(&cfg);
    if i == j {
        let name = format!("acl-{i}");
        web_acl(
            &waf,
            &name,
            Scope::Regional,
            &[CountryCode::Cn, CountryCode::Ru],
        )
        .await;
        seeded.acls.insert((
            name.clone(),
            "REGIONAL".to_owned(),
            3,
            vec!["CN".to_owned(), "RU".to_owned()],
        ));
        seeded.waf_rules.extend(acl_rules(&name));
    }
    if (i, j) == (0, 0) {
        web_acl(&waf, "edge", Scope::Cloudfront, &[CountryCode::Kp]).await;
        seeded.acls.insert((
            "edge".to_owned(),
            "CLOUDFRONT".to_owned(),
            3,
            vec!["KP".to_owned()],
        ));
        seeded.waf_rules.extend(acl_rules("edge"));
        // GuardDuty is on here only; the emulator has no ListFindings.
        aws_sdk_guardduty::Client::new(&cfg)
            .create_detector()
            .enable(true)
            .send()
            .await
            .unwrap();
    }
    seeded
}

/// Seeds `n` AWS Config rules (an AWS managed rule each) in the configuration's region.
async fn seed_config(cfg: &aws_config::SdkConfig, n: usize) {
    let config = aws_sdk_config::Client::new(cfg);
    for k in 0..n {
        config
            .put_config_rule()
            .config_rule(
                ConfigRule::builder()
                    .config_rule_name(format!("root-mfa-{k:02}"))
                    .source(
                        Source::builder()
                            .owner(Owner::Aws)
                            .source_identifier("ROOT_ACCOUNT_MFA_ENABLED")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

/// One GetCostAndUsage answer of the window 2026-12-03 (the run is on 2026-12-04, DAILY):
/// the total, or with `services` the SERVICE groups.
fn ce_answer(start: &str, end: &str, total: &str, services: &[(&str, &str)]) -> serde_json::Value {
    let metric =
        |amount: &str| serde_json::json!({"UnblendedCost": {"Amount": amount, "Unit": "USD"}});
    let groups: Vec<_> = services
        .iter()
        .map(|(name, amount)| serde_json::json!({"Keys": [name], "Metrics": metric(amount)}))
        .collect();
    let total = if services.is_empty() {
        metric(total)
    } else {
        serde_json::json!({})
    };
    serde_json::json!({
        "ResultsByTime": [{
            "TimePeriod": {"Start": start, "End": end},
            "Total": total,
            "Groups": groups,
            "Estimated": false
        }],
        "DimensionValueAttributes": []
    })
}

/// Seeds Cost Explorer for member `i`: moto answers GetCostAndUsage from a queue of answers
/// per account, each taken by the first request it has not seen, so they are queued in the
/// collector's order (total, by service, previous total, Marketplace charges by product).
/// Returns what `service`, `cost` and `marketplace` must then hold. Account 2 has seven services (the top five are cut from them) and
/// account 0 had nothing the day before (a difference of 0 %, not a division by zero).
fn seed_cost(
    moto: &Moto,
    account: &str,
    i: usize,
) -> (Vec<ServiceCost>, CostReport, Vec<MarketplaceUsage>) {
    let all = [
        ("Amazon Elastic Compute Cloud - Compute", "6.48"),
        ("Amazon Relational Database Service", "0.384"),
        ("EC2 - Other", "0.9125114"),
        ("AWS Lambda", "4.12e-05"),
        ("Tax", "0"),
        ("Amazon Simple Storage Service", "0.2211102"),
        ("AWS Key Management Service", "0.0666666"),
    ];
    let services = &all[..[2, 4, 7][i]];
    let current = services
        .iter()
        .map(|(_, a)| a.parse::<f64>().unwrap())
        .sum::<f64>();
    let current_text = current.to_string();
    let previous = [0.0, 5.5, 10.25][i];
    let previous_text = previous.to_string();
    // Account 0 bought nothing on the Marketplace; account 2 two products.
    let products = &[("Acme Firewall", "1.25"), ("Example SIEM", "12.5")][..i];
    let results = serde_json::json!({
        "results": [
            ce_answer("2026-12-03", "2026-12-04", &current_text, &[]),
            ce_answer("2026-12-03", "2026-12-04", "", services),
            ce_answer("2026-12-02", "2026-12-03", &previous_text, &[]),
            ce_answer("2026-12-03", "2026-12-04", "", products),
        ],
        "account_id": account,
    });
    let status = moto.raw(
        "POST",
        "/moto-api/static/ce/cost-and-usage-results",
        &[("Content-Type", "application/json")],
        &results.to_string(),
    );
    assert!(
        matches!(status, Some(200 | 201)),
        "seeding Cost Explorer: {status:?}"
    );
    let day = |d| Some(orgwatch_model::Day(d));
    let mut rows: Vec<ServiceCost> = services
        .iter()
        .map(|(name, amount)| ServiceCost {
            service: Some((*name).to_owned()),
            usage_types: Some("Aggregated".to_owned()),
            date_from: day(time::macros::date!(2026 - 12 - 03)),
            date_to: day(time::macros::date!(2026 - 12 - 04)),
            cost: Some(amount.parse().unwrap()),
            currency: Some("USD".to_owned()),
            utilization: None,
            utilization_unit: None,
        })
        .collect();
    rows.sort_by(|a, b| b.cost.unwrap().total_cmp(&a.cost.unwrap()));
    let cost = CostReport {
        account_id: Some(account.to_owned()),
        current_period_cost: Some(current),
        previous_period_cost: Some(previous),
        cost_difference: Some(current - previous),
        cost_difference_percentage: Some(if previous > 0.0 {
            (current - previous) / previous * 100.0
        } else {
            0.0
        }),
        top_services: rows
            .iter()
            .take(5)
            .map(|r| TopService {
                service: r.service.clone(),
                cost: r.cost,
            })
            .collect(),
        period: Some(CostPeriod {
            start: day(time::macros::date!(2026 - 12 - 03)),
            end: day(time::macros::date!(2026 - 12 - 04)),
            granularity: Some("DAILY".to_owned()),
        }),
        // The emulator has no GetCostForecast.
        forecast: Vec::new(),
    };
    // Most expensive first.
    let marketplace = products
        .iter()
        .rev()
        .map(|(name, amount)| MarketplaceUsage {
            product_code: Some((*name).to_owned()),
            product_name: Some((*name).to_owned()),
            cost_consumed: Some(amount.parse().unwrap()),
            currency: Some("USD".to_owned()),
            period_start: day(time::macros::date!(2026 - 12 - 03)),
            period_end: day(time::macros::date!(2026 - 12 - 04)),
            status: None,
        })
        .collect();
    (rows, cost, marketplace)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_writes_exactly_what_three_member_accounts_hold_in_two_regions() {
    let moto = Moto::start();
    let mgmt = management(&moto, "us-east-1").await;
    let org = aws_sdk_organizations::Client::new(&mgmt);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let environments = ["PRODUCTION", "STAGING", "DEVELOPMENT"];
    let mut members = Vec::new();
    for (i, env) in environments.iter().enumerate() {
        let created = org
            .create_account()
            .email(format!("member{i}@example.com"))
            .account_name(format!("member-{i}"))
            .send()
            .await
            .unwrap();
        let id = created
            .create_account_status()
            .and_then(|s| s.account_id())
            .unwrap()
            .to_owned();
        org.tag_resource()
            .resource_id(&id)
            .tags(
                Tag::builder()
                    .key("Environment")
                    .value(*env)
                    .build()
                    .unwrap(),
            )
            .tags(
                Tag::builder()
                    .key("Customer")
                    .value("Example Corp")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        members.push(id);
    }
    let closed = org
        .create_account()
        .email("closed@example.com")
        .account_name("closed")
        .send()
        .await
        .unwrap()
        .create_account_status()
        .and_then(|s| s.account_id())
        .unwrap()
        .to_owned();
    org.close_account()
        .account_id(&closed)
        .send()
        .await
        .unwrap();

    // OUs: member 0 in Sales, member 1 in Sales/EU, member 2 directly under the root.
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let sales = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("Sales")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let eu = org
        .create_organizational_unit()
        .parent_id(&sales)
        .name("EU")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    for (member, ou) in [(&members[0], &sales), (&members[1], &eu)] {
        org.move_account()
            .account_id(member)
            .source_parent_id(&root)
            .destination_parent_id(ou)
            .send()
            .await
            .unwrap();
    }
    let placement = [
        (Some(sales.clone()), "Sales"),
        (Some(eu.clone()), "Sales/EU"),
        (None, ""),
    ];

    let mut seeded = BTreeMap::new();
    let mut costs = BTreeMap::new();
    let mut rules = BTreeMap::new();
    for (i, account) in members.iter().enumerate() {
        for (j, region) in REGIONS.iter().enumerate() {
            let mut s = seed(&moto, account, i, j).await;
            let cfg = member(&moto, account, ROLE, region).await;
            seed_resources(&moto, &cfg, account, i, j, &mut s).await;
            seeded.insert((account.clone(), *region), s);
            // None in account 0's first region; 27 in account 2's second, more than one
            // DescribeConfigRules page (moto's pages hold 25).
            let n = if (i, j) == (2, 1) { 27 } else { i + j };
            seed_config(&member(&moto, account, ROLE, region).await, n).await;
            rules.insert((account.clone(), *region), n);
        }
        costs.insert(account.clone(), seed_cost(&moto, account, i));
    }

    let out = tempfile::tempdir().unwrap();
    let opts = CollectOptions {
        accounts: accounts::Selection::Organization,
        role: RoleOptions {
            role_name: ROLE.to_owned(),
            external_id: Some("orgwatch-test".to_owned()),
            session_name: "orgwatch-collect-test".to_owned(),
        },
        regions: regions::Selection::List(
            REGIONS.iter().map(|r| Region::parse(r).unwrap()).collect(),
        ),
        concurrency: 3,
        granularity: Granularity::Daily,
        run_date: time::macros::date!(2026 - 12 - 04),
        out: Out::Dir(out.path().to_owned()),
        rate_limits: Default::default(),
    };
    let report = orgwatch_collect::run(&mgmt, &opts, &|_| {}).await.unwrap();

    // The management account, three members and the closed one were considered; the closed
    // one is skipped and reported, and has no file.
    assert_eq!(report.accounts, 5);
    assert_eq!(report.files.len(), 4 * REGIONS.len(), "{:?}", report.files);
    assert!(!out.path().join("data").join(&closed).exists());
    let skipped: Vec<_> = report
        .ledger
        .entries
        .iter()
        .filter(|e| e.status == Status::Skipped)
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].account.as_str(), closed);
    assert!(skipped[0].reason.as_deref().unwrap().contains("SUSPENDED"));

    for ((account, region), want) in &seeded {
        let snap = read(out.path(), account, region);
        assert_eq!(&found(&snap), want, "{account} {region}");
        // Labels from the Organizations tags; name and e-mail from Organizations.
        let i = members.iter().position(|m| m == account).unwrap();
        assert_eq!(snap.account.account_type.as_deref(), Some(environments[i]));
        assert_eq!(snap.account.customer_name.as_deref(), Some("Example Corp"));
        assert_eq!(
            snap.account.account_name.as_deref(),
            Some(&*format!("member-{i}"))
        );
        assert_eq!(snap.account.region.as_deref(), Some(*region));
        // The OU path, outside `account` (the A360 receiver makes a column of each key there).
        let (ou_id, ou_path) = &placement[i];
        let org_key = snap.organization.as_ref().expect("organization recorded");
        assert_eq!(org_key.ou_id.as_ref(), ou_id.as_ref());
        assert_eq!(org_key.ou_path.as_deref(), Some(*ou_path));
        // GuardDuty could not be read (no detector, or the emulator's missing ListFindings),
        // so `security` is "Fail" and its guard_duty part absent, not an empty list.
        assert_eq!(
            snap.logs.statuses.get(&Category::Security),
            Some(&CollectionStatus::Fail)
        );
        let sec = snap.security.as_ref().unwrap();
        assert_eq!(sec.guard_duty, None);
        assert_eq!(
            sec.present_parts(),
            [
                "security_hub",
                "kms",
                "waf",
                "waf_rules",
                "cloudtrail",
                "secrets_manager",
                "certificate_manager",
                "inspector"
            ]
        );
        let gd = snap
            .logs
            .messages
            .iter()
            .find(|m| m.key == "guard_duty")
            .unwrap();
        let want = if (account.as_str(), *region) == (members[0].as_str(), "us-east-1") {
            "guardduty:ListFindings error"
        } else {
            "guardduty:ListDetectors not enabled"
        };
        assert!(gd.text.starts_with(want), "{account} {region}: {}", gd.text);
        let written: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                out.path()
                    .join("data")
                    .join(account)
                    .join(region)
                    .join("2026-12-04_DAILY.json"),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(
            written["security"].get("guard_duty").is_none(),
            "absent from the file, not []"
        );
        assert!(written["logs"]["security_status"] == "Fail");
        // Cost Explorer, read once per account, is in each of its regions' files: exactly
        // what was seeded, with no forecast (the emulator has none) and the sender's record
        // of that: `cost` still "Pass", the reason under "Forecast unavailable".
        let (service, cost, marketplace) = &costs[account];
        assert_eq!(snap.service.as_ref(), Some(service), "{account} {region}");
        assert_eq!(snap.cost.as_ref(), Some(cost), "{account} {region}");
        assert_eq!(
            snap.marketplace.as_ref(),
            Some(marketplace),
            "{account} {region}"
        );
        for c in [Category::Cost, Category::Service, Category::Marketplace] {
            assert_eq!(snap.logs.statuses.get(&c), Some(&CollectionStatus::Pass));
        }
        let forecast: Vec<_> = snap
            .logs
            .messages
            .iter()
            .filter(|m| m.key == "Forecast unavailable")
            .collect();
        assert_eq!(forecast.len(), 1, "{:?}", snap.logs.messages);
        assert!(
            forecast[0].text.starts_with("ce:GetCostForecast error"),
            "{}",
            forecast[0].text
        );
        assert!(written["cost"]["forecast"] == serde_json::json!([]));
        // Config: the emulator lists the rules but has none of the compliance calls, so
        // the report holds the sender's period and nothing it could not know (no count is
        // 0 for want of an answer), "Fail", with each missing call's reason.
        // A region without rules asks nothing more: every count 0, "Pass".
        let n = rules[&(account.clone(), *region)];
        let counts = if n == 0 {
            ConfigReport {
                compliance_score: Some(0.0),
                total_rules: Some(0),
                compliant_rules: Some(0),
                non_compliant_rules: Some(0),
                curr_non_compliant: Some(0),
                curr_compliant: Some(0),
                ..ConfigReport::default()
            }
        } else {
            ConfigReport::default()
        };
        assert_eq!(
            snap.config,
            Some(ConfigReport {
                date_from: Some(orgwatch_model::Day(time::macros::date!(2026 - 12 - 03))),
                date_to: Some(orgwatch_model::Day(time::macros::date!(2026 - 12 - 04))),
                ..counts
            }),
            "{account} {region}"
        );
        let status = if n == 0 {
            CollectionStatus::Pass
        } else {
            CollectionStatus::Fail
        };
        assert_eq!(snap.logs.statuses.get(&Category::Config), Some(&status));
        let mut config_reasons: Vec<&str> = snap
            .logs
            .messages
            .iter()
            .filter(|m| m.key == "config")
            .map(|m| m.text.as_str())
            .collect();
        config_reasons.sort_unstable();
        let want = if n == 0 {
            Vec::new()
        } else {
            vec![
                "config:DescribeComplianceByConfigRule error",
                "config:DescribeConformancePacks error",
                "config:GetComplianceDetailsByConfigRule error",
            ]
        };
        assert_eq!(config_reasons.len(), want.len(), "{config_reasons:?}");
        for (got, want) in config_reasons.iter().zip(&want) {
            assert!(got.starts_with(want), "{got}");
        }
        if n > 0 {
            let unread = format!("(the evaluations of {n} rule(s) were not read)");
            assert!(
                config_reasons[2].ends_with(&unread),
                "{}",
                config_reasons[2]
            );
        }
        // Service resources read completely everywhere; the Config inventory only where a
        // recorder records, else `not enabled` with the reason.
        assert_eq!(
            snap.logs.statuses.get(&Category::ServiceResources),
            Some(&CollectionStatus::Pass)
        );
        let inventory_status = if seeded[&(account.clone(), *region)]
            .config_inventory
            .is_some()
        {
            CollectionStatus::Pass
        } else {
            assert!(
                snap.logs
                    .messages
                    .iter()
                    .any(|m| m.key == "config_inventory"
                        && m.text
                            .starts_with("config:DescribeConfigurationRecorderStatus not enabled")),
                "{:?}",
                snap.logs.messages
            );
            CollectionStatus::Fail
        };
        assert_eq!(
            snap.logs.statuses.get(&Category::ConfigInventory),
            Some(&inventory_status)
        );
        // What the emulator lacks (Health, SSM inventory, Compute Optimizer, Application
        // Signals, reserved instances and Savings Plans) is absent, "Fail", with the
        // failure's reason: recorded as unavailable, never as empty.
        assert!(snap.ri_sp_savings.is_none() && snap.health.is_none());
        assert!(snap.inventory.is_none() && snap.compute_optimizer.is_none());
        for c in [
            Category::Health,
            Category::Inventory,
            Category::ComputeOptimizer,
        ] {
            assert_eq!(snap.logs.statuses.get(&c), Some(&CollectionStatus::Fail));
        }
        for (key, said) in [
            ("ri_sp_savings", "ec2:DescribeReservedInstances error"),
            ("health", "health:DescribeEvents error"),
            ("inventory", "ssm:DescribeInstanceInformation error"),
            ("application", "application-signals:ListServices error"),
            (
                "compute_optimizer",
                "compute-optimizer:GetEC2InstanceRecommendations error",
            ),
        ] {
            assert!(
                snap.logs
                    .messages
                    .iter()
                    .any(|m| m.key == key && m.text.starts_with(said)),
                "{key} not named in {:?}",
                snap.logs.messages
            );
        }
        // A secret's tags and a key's metadata come through.
        assert!(sec
            .secrets_manager
            .iter()
            .flatten()
            .all(|s| s.tags == serde_json::json!([{"Key": "Team", "Value": "payments"}])));
        for k in sec.kms.iter().flatten() {
            assert!(k
                .arn
                .as_deref()
                .unwrap()
                .contains(&format!(":{account}:key/")));
            let pending = k.description.as_deref().unwrap().ends_with("being deleted");
            let state = if pending {
                "PendingDeletion"
            } else {
                "Enabled"
            };
            assert_eq!(k.key_state.as_deref(), Some(state));
            assert_eq!(k.enabled, Some(!pending));
        }
    }
    // The management account is read with its own credentials and holds nothing seeded but
    // the default VPC: Cost Explorer answers it with no bucket, so no service and a cost of 0.
    for region in REGIONS {
        let snap = read(out.path(), MANAGEMENT, region);
        let mut want = Seeded::default();
        default_subnets(&management(&moto, region).await, &mut want).await;
        assert_eq!(found(&snap), want);
        assert_eq!(snap.service, Some(Vec::new()));
        let cost = snap.cost.unwrap();
        assert_eq!(
            (cost.current_period_cost, cost.cost_difference_percentage),
            (Some(0.0), Some(0.0))
        );
    }
    // Cost and service are global: one ledger entry per account, no region; `cost` is
    // partial for want of a forecast.
    for account in members.iter().map(String::as_str).chain([MANAGEMENT]) {
        let of = |part: &str| {
            let entries: Vec<_> = report
                .ledger
                .entries
                .iter()
                .filter(|e| e.account.as_str() == account && e.part == part)
                .collect();
            assert_eq!(entries.len(), 1, "{account} {part}: {entries:?}");
            assert_eq!(entries[0].region, None);
            entries[0]
        };
        let service = of("service");
        let want = costs.get(account).map_or(0, |(rows, _, _)| rows.len());
        assert_eq!(
            (service.status, service.items),
            (Status::Ok, want),
            "{service}"
        );
        let cost = of("cost");
        assert_eq!(cost.status, Status::Partial, "{cost}");
        assert!(
            cost.reason
                .as_deref()
                .unwrap()
                .starts_with("ce:GetCostForecast error"),
            "{cost}"
        );
    }

    // Every security part of every account-region is in the ledger, ok, with its count.
    for ((account, region), want) in &seeded {
        let count = |part: &str| {
            let e = report
                .ledger
                .entries
                .iter()
                .find(|e| {
                    e.account.as_str() == account
                        && e.region.as_deref() == Some(*region)
                        && e.part == part
                })
                .unwrap_or_else(|| panic!("no ledger entry {account} {region} {part}"));
            assert_eq!(e.status, Status::Ok, "{e}");
            e.items
        };
        assert_eq!(count("security.kms"), want.keys.len());
        assert_eq!(count("security.secrets_manager"), want.secrets.len());
        assert_eq!(
            count("security.certificate_manager"),
            want.certificates.len()
        );
        assert_eq!(count("security.cloudtrail"), want.trails.len());
        assert_eq!(count("security.security_hub"), want.findings.len());
        assert_eq!(count("security.inspector"), want.inspector.len());
        // Config: as many rules as seeded, partial for want of their compliance.
        let config = report
            .ledger
            .entries
            .iter()
            .find(|e| {
                e.account.as_str() == account
                    && e.region.as_deref() == Some(*region)
                    && e.part == "config"
            })
            .unwrap();
        let n = rules[&(account.clone(), *region)];
        let status = if n == 0 { Status::Ok } else { Status::Partial };
        assert_eq!((config.status, config.items), (status, n), "{config}");
        // The emulator has no ListResourcesForWebACL: ACLs are read, their resources not.
        let waf = report
            .ledger
            .entries
            .iter()
            .find(|e| {
                e.account.as_str() == account
                    && e.region.as_deref() == Some(*region)
                    && e.part == "security.waf"
            })
            .unwrap();
        if want.acls.is_empty() {
            assert_eq!((waf.status, waf.items), (Status::Ok, 0), "{waf}");
        } else {
            assert_eq!(waf.status, Status::Partial, "{waf}");
            assert_eq!(waf.items, want.acls.len());
            assert!(
                waf.reason
                    .as_deref()
                    .unwrap()
                    .contains("wafv2:ListResourcesForWebACL"),
                "{waf}"
            );
        }
    }
    // The emulator has no GetContactInformation: the account record is kept, the call is
    // recorded as failed in the file's logs and the ledger, and the run is not "complete".
    let account_entries: Vec<_> = report
        .ledger
        .entries
        .iter()
        .filter(|e| e.part == "account" && e.status != Status::Skipped)
        .collect();
    assert_eq!(account_entries.len(), 4);
    for e in &account_entries {
        assert_eq!(e.status, Status::Partial, "{e}");
        assert!(
            e.reason
                .as_deref()
                .unwrap()
                .contains("account:GetContactInformation"),
            "{e}"
        );
    }
    let snap = read(out.path(), &members[0], "eu-west-1");
    assert_eq!(
        snap.logs.statuses.get(&Category::Account),
        Some(&CollectionStatus::Fail)
    );
    assert!(snap
        .logs
        .messages
        .iter()
        .any(|m| m.key == "account" && m.text.contains("account:GetContactInformation")));
    assert!(!report.ledger.is_complete());
    assert!(!report
        .ledger
        .entries
        .iter()
        .any(|e| e.status == Status::Failed(Failure::Denied)));

    // The same organisation read one account-region at a time gives the same bytes: the
    // files do not depend on the concurrency (nor on the order the reads finished in).
    let again = tempfile::tempdir().unwrap();
    let serial = CollectOptions {
        concurrency: 1,
        out: Out::Dir(again.path().to_owned()),
        ..opts.clone()
    };
    let second = orgwatch_collect::run(&mgmt, &serial, &|_| {})
        .await
        .unwrap();
    assert_eq!(second.ledger, report.ledger);
    assert_eq!(second.files.len(), report.files.len());
    for file in &report.files {
        let rel = file.strip_prefix(out.path()).unwrap();
        assert_eq!(
            std::fs::read(file).unwrap(),
            std::fs::read(again.path().join(rel)).unwrap(),
            "{}",
            rel.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_all_needs_list_regions_and_an_emulator_without_it_is_reported_not_fatal() {
    let moto = Moto::start();
    let mgmt = management(&moto, "us-east-1").await;
    let out = tempfile::tempdir().unwrap();
    let opts = CollectOptions {
        accounts: accounts::Selection::Caller,
        role: RoleOptions {
            role_name: ROLE.to_owned(),
            external_id: None,
            session_name: "orgwatch-collect-test".to_owned(),
        },
        regions: regions::Selection::All,
        concurrency: 2,
        granularity: Granularity::Monthly,
        run_date: time::macros::date!(2026 - 12 - 04),
        out: Out::Dir(out.path().to_owned()),
        rate_limits: Default::default(),
    };
    let report = orgwatch_collect::run(&mgmt, &opts, &|_| {}).await.unwrap();
    assert_eq!(report.accounts, 1);
    assert!(report.files.is_empty());
    let e = &report.ledger.entries[0];
    assert_eq!((e.account.as_str(), e.part), (MANAGEMENT, "regions"));
    assert!(matches!(e.status, Status::Failed(_)), "{e}");
    assert!(
        e.reason.as_deref().unwrap().contains("account:ListRegions"),
        "{e}"
    );
    assert!(!report.ledger.is_complete());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_cases_and_resilience_hub_apps_of_the_window_are_read_and_trusted_advisor_and_health_without_answers_are_recorded(
) {
    const MEMBER: &str = "333333333333";
    let moto = Moto::start();
    let support = aws_sdk_support::Client::new(&member(&moto, MEMBER, ROLE, "us-east-1").await);
    let mut seeded = BTreeSet::new();
    for (subject, service) in [
        (
            "EC2 instance will not start",
            "amazon-elastic-compute-cloud-linux",
        ),
        (
            "Raise the Lambda concurrency quota",
            "service-limit-increase",
        ),
        ("Billing question", "billing"),
    ] {
        let case = support
            .create_case()
            .subject(subject)
            .service_code(service)
            .category_code("other")
            .severity_code("low")
            .communication_body("details")
            .language("en")
            .send()
            .await
            .unwrap();
        seeded.insert((
            case.case_id().unwrap().to_owned(),
            subject.to_owned(),
            service.to_owned(),
        ));
    }
    // Resilience Hub in us-east-1: an app with a policy (its AZ objectives are read) and one
    // without.
    let hub = aws_sdk_resiliencehub::Client::new(&member(&moto, MEMBER, ROLE, "us-east-1").await);
    let objective = |rpo: i32, rto: i32| {
        aws_sdk_resiliencehub::types::FailurePolicy::builder()
            .rpo_in_secs(rpo)
            .rto_in_secs(rto)
            .build()
    };
    use aws_sdk_resiliencehub::types::{DisruptionType, ResiliencyPolicyTier};
    let policy = hub
        .create_resiliency_policy()
        .policy_name("critical")
        .tier(ResiliencyPolicyTier::MissionCritical)
        .policy(DisruptionType::Az, objective(300, 600))
        .policy(DisruptionType::Hardware, objective(60, 120))
        .policy(DisruptionType::Software, objective(900, 1800))
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().policy_arn().unwrap().to_owned();
    hub.create_app()
        .name("shop")
        .description("the shop")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    hub.create_app().name("blog").send().await.unwrap();
    // moto stamps a case and an app with the current time, so the window is today: a run of
    // tomorrow.
    let today = time::OffsetDateTime::now_utc().date();
    let run = |run_date: time::Date, out: &std::path::Path| CollectOptions {
        accounts: accounts::Selection::List(vec![AccountId::parse(MEMBER).unwrap()]),
        role: RoleOptions {
            role_name: ROLE.to_owned(),
            external_id: None,
            session_name: "orgwatch-collect-test".to_owned(),
        },
        regions: regions::Selection::List(
            REGIONS.iter().map(|r| Region::parse(r).unwrap()).collect(),
        ),
        concurrency: 2,
        granularity: Granularity::Daily,
        run_date,
        out: Out::Dir(out.to_owned()),
        rate_limits: Default::default(),
    };
    let mgmt = management(&moto, "us-east-1").await;
    let out = tempfile::tempdir().unwrap();
    let tomorrow = today.next_day().unwrap();
    let report = orgwatch_collect::run(&mgmt, &run(tomorrow, out.path()), &|_| {})
        .await
        .unwrap();
    let entry = |report: &orgwatch_collect::Report, part: &str| {
        report
            .ledger
            .entries
            .iter()
            .find(|e| e.part == part)
            .unwrap()
            .clone()
    };
    let tickets = entry(&report, "support_tickets");
    assert_eq!(
        (tickets.status, tickets.items),
        (Status::Ok, 3),
        "{tickets}"
    );
    let resilience = |region: &str| {
        let e = report
            .ledger
            .entries
            .iter()
            .find(|e| e.part == "resilience_hub" && e.region.as_deref() == Some(region))
            .unwrap();
        (e.status, e.items)
    };
    assert_eq!(resilience("us-east-1"), (Status::Ok, 2));
    assert_eq!(resilience("eu-west-1"), (Status::Ok, 0));
    // moto lists the checks but has no DescribeTrustedAdvisorCheckResult: the category is
    // failed with the reason, absent from the files (not an empty list), the rest written.
    let advisor = entry(&report, "trusted_advisor");
    assert_eq!(advisor.status, Status::Failed(Failure::Error), "{advisor}");
    assert!(
        advisor
            .reason
            .as_deref()
            .unwrap()
            .starts_with("support:DescribeTrustedAdvisorCheckResult"),
        "{advisor}"
    );
    // moto has no Health API: recorded as failed with the reason.
    let health = entry(&report, "health");
    assert!(matches!(health.status, Status::Failed(_)), "{health}");
    assert!(
        health
            .reason
            .as_deref()
            .unwrap()
            .starts_with("health:DescribeEvents"),
        "{health}"
    );
    for region in REGIONS {
        let location = SnapshotLocation {
            account: AccountId::parse(MEMBER).unwrap(),
            region: Some(Region::parse(region).unwrap()),
            run_date: tomorrow,
            granularity: Granularity::Daily,
        };
        let bytes = std::fs::read(out.path().join("data").join(location.relative_path())).unwrap();
        let snap = orgwatch_model::read_located(&bytes, &location).unwrap();
        // Global: the same cases in each region's file.
        let read = snap.support_tickets.as_ref().unwrap();
        let got: BTreeSet<_> = read
            .iter()
            .map(|t| {
                (
                    t.case_id.clone().unwrap(),
                    t.subject.clone().unwrap(),
                    t.service_code.clone().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, seeded, "{region}");
        for t in read {
            assert_eq!(t.date_from.map(|d| d.0), Some(today));
            assert_eq!(t.date_to.map(|d| d.0), Some(tomorrow));
            assert_eq!(t.time_created.unwrap().get().date(), today);
            assert_eq!(t.submitted_by.as_deref(), Some("moto@moto.com"));
            assert_ne!(t.status.as_deref(), Some("resolved"));
        }
        // Regional: the apps are in us-east-1's file only.
        let apps: BTreeSet<_> = snap
            .resilience_hub
            .as_ref()
            .unwrap()
            .iter()
            .map(|a| (a.name.clone().unwrap(), a.rpo, a.rto))
            .collect();
        if region == "us-east-1" {
            let want = BTreeSet::from([
                ("shop".to_owned(), Some(300), Some(600)),
                ("blog".to_owned(), None, None),
            ]);
            assert_eq!(apps, want);
        } else {
            assert!(apps.is_empty());
        }
        assert_eq!(
            snap.logs.statuses.get(&Category::ResilienceHub),
            Some(&CollectionStatus::Pass)
        );
        assert_eq!(snap.trusted_advisor, None);
        assert_eq!(snap.health, None);
        assert_eq!(
            snap.logs.statuses.get(&Category::Health),
            Some(&CollectionStatus::Fail)
        );
        assert_eq!(
            snap.logs.statuses.get(&Category::SupportTickets),
            Some(&CollectionStatus::Pass)
        );
        assert_eq!(
            snap.logs.statuses.get(&Category::TrustedAdvisor),
            Some(&CollectionStatus::Fail)
        );
        assert!(snap
            .logs
            .messages
            .iter()
            .any(|m| m.key == "trusted_advisor"
                && m.text.contains("DescribeTrustedAdvisorCheckResult")));
        assert!(snap.security.is_some() && snap.cost.is_some());
    }

    // Today's run covers yesterday: none of today's cases.
    let out = tempfile::tempdir().unwrap();
    let report = orgwatch_collect::run(&mgmt, &run(today, out.path()), &|_| {})
        .await
        .unwrap();
    let tickets = entry(&report, "support_tickets");
    assert_eq!(
        (tickets.status, tickets.items),
        (Status::Ok, 0),
        "{tickets}"
    );
    let apps = entry(&report, "resilience_hub");
    assert_eq!((apps.status, apps.items), (Status::Ok, 0), "{apps}");
}
