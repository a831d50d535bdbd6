//! `service_resources`: the region's EC2 instances, EBS volumes, VPC subnets, RDS instances,
//! load balancers (ELBv2), Auto Scaling groups and Lambda functions, and the account's S3
//! buckets, as rows of the sender's shape (its field overloads for Lambda included).
//!
//! Unlike the sender, where one failed listing drops the whole category, each service's
//! listing stands alone: one that fails is a problem of the category (its status `Fail`,
//! the reason in `logs`) and the others' rows are still written.

use crate::aws_call;
use crate::call::{next_token, CallError};
use aws_config::SdkConfig;
use orgwatch_model::category::service_resources::ServiceResource;
use orgwatch_model::Timestamp;

/// The clients of one account-region.
pub struct Clients {
    ec2: aws_sdk_ec2::Client,
    rds: aws_sdk_rds::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    autoscaling: aws_sdk_autoscaling::Client,
    lambda: aws_sdk_lambda::Client,
}

impl Clients {
    /// The clients of the configuration's account and region.
    pub fn new(config: &SdkConfig) -> Self {
        Clients {
            ec2: crate::aws_client!(aws_sdk_ec2, config),
            rds: crate::aws_client!(aws_sdk_rds, config),
            elb: crate::aws_client!(aws_sdk_elasticloadbalancingv2, config),
            autoscaling: crate::aws_client!(aws_sdk_autoscaling, config),
            lambda: crate::aws_client!(aws_sdk_lambda, config),
        }
    }

    /// The EC2 client (its Reserved Instances are read with it too).
    pub fn ec2(&self) -> &aws_sdk_ec2::Client {
        &self.ec2
    }

    /// The RDS client (its reserved DB instances are read with it too).
    pub fn rds(&self) -> &aws_sdk_rds::Client {
        &self.rds
    }
}

/// One service's rows, or why it has none.
pub type Listing = Result<Vec<ServiceResource>, CallError>;

/// Lists the region's resources, each service on its own (every page).
pub async fn regional(clients: &Clients, region: &str) -> Vec<Listing> {
    let (instances, volumes, subnets, databases, balancers, groups, functions) = tokio::join!(
        instances(&clients.ec2, region),
        volumes(&clients.ec2, region),
        subnets(&clients.ec2, region),
        databases(&clients.rds, region),
        load_balancers(&clients.elb, region),
        auto_scaling_groups(&clients.autoscaling, region),
        functions(&clients.lambda, region),
    );
    vec![
        instances, volumes, subnets, databases, balancers, groups, functions,
    ]
}

/// The account's S3 buckets (ListBuckets is account-wide: read once per account, and written
/// into each region's file labelled with that region, as the sender does).
pub async fn buckets(s3: &aws_sdk_s3::Client) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "s3:ListAllMyBuckets",
            s3.list_buckets().set_continuation_token(next.take())
        )?;
        out.extend(page.buckets().iter().map(|b| ServiceResource {
            service_name: Some("S3".to_owned()),
            resource_type: Some("Bucket".to_owned()),
            resource_id: b.name().map(str::to_owned),
            resource_name: b.name().map(str::to_owned),
            state: Some("Active".to_owned()),
            creation_date: crate::sdk_time::opt(b.creation_date()),
            ..ServiceResource::default()
        }));
        next = next_token(page.continuation_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

/// The account's buckets as one region's rows.
pub fn in_region(buckets: &Listing, region: &str) -> Listing {
    buckets.clone().map(|rows| {
        rows.into_iter()
            .map(|mut r| {
                r.region = Some(region.to_owned());
                r
            })
            .collect()
    })
}

/// The value of the `Name` tag, `""` without one (the sender's blank name).
fn name_tag<'a>(tags: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) -> String {
    tags.into_iter()
        .find(|(k, _)| *k == Some("Name"))
        .and_then(|(_, v)| v)
        .unwrap_or_default()
        .to_owned()
}

fn ec2_name(tags: &[aws_sdk_ec2::types::Tag]) -> String {
    name_tag(tags.iter().map(|t| (t.key(), t.value())))
}

/// A row of `service`'s `kind` in `region`, the rest empty.
fn row(service: &str, kind: &str, region: &str) -> ServiceResource {
    ServiceResource {
        service_name: Some(service.to_owned()),
        resource_type: Some(kind.to_owned()),
        region: Some(region.to_owned()),
        ..ServiceResource::default()
    }
}

async fn instances(ec2: &aws_sdk_ec2::Client, region: &str) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "ec2:DescribeInstances",
            ec2.describe_instances().set_next_token(next.take())
        )?;
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            out.push(ServiceResource {
                resource_id: i.instance_id().map(str::to_owned),
                resource_name: Some(ec2_name(i.tags())),
                availability_zone: i
                    .placement()
                    .and_then(|p| p.availability_zone())
                    .map(str::to_owned),
                state: i
                    .state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_owned()),
                instance_type: i.instance_type().map(|t| t.as_str().to_owned()),
                vpc_id: i.vpc_id().map(str::to_owned),
                ..row("EC2", "Instance", region)
            });
        }
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

async fn volumes(ec2: &aws_sdk_ec2::Client, region: &str) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "ec2:DescribeVolumes",
            ec2.describe_volumes().set_next_token(next.take())
        )?;
        for v in page.volumes() {
            out.push(ServiceResource {
                resource_id: v.volume_id().map(str::to_owned),
                resource_name: Some(ec2_name(v.tags())),
                availability_zone: v.availability_zone().map(str::to_owned),
                state: v.state().map(|s| s.as_str().to_owned()),
                size_gb: v.size().map(f64::from),
                volume_type: v.volume_type().map(|t| t.as_str().to_owned()),
                ..row("EBS", "Volume", region)
            });
        }
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

async fn subnets(ec2: &aws_sdk_ec2::Client, region: &str) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "ec2:DescribeSubnets",
            ec2.describe_subnets().set_next_token(next.take())
        )?;
        for s in page.subnets() {
            out.push(ServiceResource {
                resource_id: s.subnet_id().map(str::to_owned),
                resource_name: Some(ec2_name(s.tags())),
                availability_zone: s.availability_zone().map(str::to_owned),
                state: s.state().map(|x| x.as_str().to_owned()),
                vpc_id: s.vpc_id().map(str::to_owned),
                available_ip_count: s.available_ip_address_count().map(i64::from),
                ..row("VPC", "Subnet", region)
            });
        }
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

async fn databases(rds: &aws_sdk_rds::Client, region: &str) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "rds:DescribeDBInstances",
            rds.describe_db_instances().set_marker(next.take())
        )?;
        for d in page.db_instances() {
            out.push(ServiceResource {
                resource_id: d.db_instance_identifier().map(str::to_owned),
                resource_name: d.db_instance_identifier().map(str::to_owned),
                availability_zone: d.availability_zone().map(str::to_owned),
                state: d.db_instance_status().map(str::to_owned),
                engine: d.engine().map(str::to_owned),
                instance_class: d.db_instance_class().map(str::to_owned),
                multi_az: d.multi_az(),
                ..row("RDS", "DBInstance", region)
            });
        }
        next = next_token(page.marker());
        if next.is_none() {
            return Ok(out);
        }
    }
}

async fn load_balancers(elb: &aws_sdk_elasticloadbalancingv2::Client, region: &str) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "elasticloadbalancing:DescribeLoadBalancers",
            elb.describe_load_balancers().set_marker(next.take())
        )?;
        for b in page.load_balancers() {
            let zones: Vec<&str> = b
                .availability_zones()
                .iter()
                .filter_map(|z| z.zone_name())
                .collect();
            out.push(ServiceResource {
                resource_id: b.load_balancer_arn().map(str::to_owned),
                resource_name: b.load_balancer_name().map(str::to_owned),
                availability_zone: Some(zones.join(",")),
                state: b
                    .state()
                    .and_then(|s| s.code())
                    .map(|c| c.as_str().to_owned()),
                vpc_id: b.vpc_id().map(str::to_owned),
                creation_date: crate::sdk_time::opt(b.created_time()),
                resource_kind: b.r#type().map(|t| t.as_str().to_owned()),
                scheme: b.scheme().map(|s| s.as_str().to_owned()),
                ..row("ELB", "LoadBalancer", region)
            });
        }
        next = next_token(page.next_marker());
        if next.is_none() {
            return Ok(out);
        }
    }
}

async fn auto_scaling_groups(autoscaling: &aws_sdk_autoscaling::Client, region: &str) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "autoscaling:DescribeAutoScalingGroups",
            autoscaling
                .describe_auto_scaling_groups()
                .set_next_token(next.take())
        )?;
        for g in page.auto_scaling_groups() {
            out.push(ServiceResource {
                resource_id: g.auto_scaling_group_arn().map(str::to_owned),
                resource_name: g.auto_scaling_group_name().map(str::to_owned),
                availability_zone: Some(g.availability_zones().join(",")),
                // A group has a status only while it is being deleted.
                state: Some(g.status().unwrap_or("Active").to_owned()),
                creation_date: crate::sdk_time::opt(g.created_time()),
                instance_count: i64::try_from(g.instances().len()).ok(),
                min_size: g.min_size().map(i64::from),
                max_size: g.max_size().map(i64::from),
                ..row("AutoScaling", "AutoScalingGroup", region)
            });
        }
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

async fn functions(lambda: &aws_sdk_lambda::Client, region: &str) -> Listing {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "lambda:ListFunctions",
            lambda.list_functions().set_marker(next.take())
        )?;
        out.extend(page.functions().iter().map(|f| function(f, region)));
        next = next_token(page.next_marker());
        if next.is_none() {
            return Ok(out);
        }
    }
}

/// A function in the sender's overloaded fields: the runtime as instance type and engine,
/// memory as `size_gb`, ephemeral storage as `volume_type` and its size as `max_size`, the
/// package type as `type` and the architectures as `scheme`.
fn function(f: &aws_sdk_lambda::types::FunctionConfiguration, region: &str) -> ServiceResource {
    let runtime = f.runtime().map(|r| r.as_str().to_owned());
    let architectures: Vec<&str> = f.architectures().iter().map(|a| a.as_str()).collect();
    ServiceResource {
        resource_id: f.function_arn().map(str::to_owned),
        resource_name: f.function_name().map(str::to_owned),
        availability_zone: Some("Generic".to_owned()),
        // ListFunctions leaves State out for functions that are ready.
        state: Some(f.state().map_or("Active", |s| s.as_str()).to_owned()),
        instance_type: runtime.clone(),
        engine: runtime,
        vpc_id: f.vpc_config().and_then(|v| v.vpc_id()).map(str::to_owned),
        multi_az: Some(true),
        size_gb: f.memory_size().map(|mb| f64::from(mb) / 1024.0),
        volume_type: Some("EphemeralStorage".to_owned()),
        creation_date: f.last_modified().and_then(|t| Timestamp::parse(t).ok()),
        resource_kind: f.package_type().map(|p| p.as_str().to_owned()),
        scheme: (!architectures.is_empty()).then(|| architectures.join(",")),
        instance_count: Some(1),
        max_size: f.ephemeral_storage().map(|e| i64::from(e.size())),
        ..row("Lambda", "Function", region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Failure;
    use crate::category::{combine, Collected};

    fn failed(action: &'static str) -> CallError {
        CallError {
            action,
            failure: Failure::Denied,
            code: Some("AccessDenied".to_owned()),
            message: "no".to_owned(),
        }
    }

    fn bucket(name: &str) -> ServiceResource {
        ServiceResource {
            service_name: Some("S3".to_owned()),
            resource_id: Some(name.to_owned()),
            ..ServiceResource::default()
        }
    }

    #[test]
    fn a_failed_listing_is_a_problem_and_the_others_are_kept() {
        let c = combine(vec![
            Ok(vec![bucket("a")]),
            Err(failed("rds:DescribeDBInstances")),
            Ok(vec![]),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.items, vec![bucket("a")]);
        assert_eq!(c.problems, vec![failed("rds:DescribeDBInstances")]);
    }

    #[test]
    fn the_category_fails_only_when_every_listing_failed() {
        let e = combine::<ServiceResource>(vec![
            Err(failed("ec2:DescribeInstances")),
            Err(failed("lambda:ListFunctions")),
        ]);
        assert_eq!(e, Err(failed("ec2:DescribeInstances")));
        // Nothing to list is not a failure.
        assert_eq!(
            combine::<ServiceResource>(vec![Ok(vec![])]),
            Ok(Collected::clean(vec![]))
        );
    }

    #[test]
    fn the_accounts_buckets_carry_each_regions_label() {
        let rows = in_region(&Ok(vec![bucket("a")]), "eu-west-1").unwrap_or_default();
        assert_eq!(rows[0].region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn a_function_keeps_the_senders_field_overloads() {
        use aws_sdk_lambda::types::{Architecture, EphemeralStorage, PackageType, Runtime};
        let f = aws_sdk_lambda::types::FunctionConfiguration::builder()
            .function_name("api")
            .function_arn("arn:aws:lambda:us-east-1:210987654321:function:api")
            .runtime(Runtime::Python313)
            .memory_size(128)
            .last_modified("2026-11-24T00:56:37.104+0000")
            .package_type(PackageType::Zip)
            .architectures(Architecture::X8664)
            .ephemeral_storage(
                EphemeralStorage::builder()
                    .size(512)
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .build();
        let r = function(&f, "us-east-1");
        assert_eq!(r.instance_type.as_deref(), Some("python3.13"));
        assert_eq!(r.engine, r.instance_type);
        assert_eq!(r.size_gb, Some(0.125));
        assert_eq!(r.max_size, Some(512));
        assert_eq!(r.scheme.as_deref(), Some("x86_64"));
        assert_eq!(r.resource_kind.as_deref(), Some("Zip"));
        assert_eq!(r.state.as_deref(), Some("Active"));
        assert_eq!(
            r.creation_date.map(|t| t.get().unix_timestamp()),
            Some(1_795_481_797)
        );
    }
}
