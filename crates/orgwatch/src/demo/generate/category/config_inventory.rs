//! The `config_inventory` rows: the resources AWS Config records, the same world's resources
//! as `service_resources` (the original sender writes `[]`; `orgwatch collect` fills it, so
//! the demo shows what a collected organisation looks like).

use super::Ctx;
use orgwatch_model::category::config_inventory::ConfigInventoryItem;
use orgwatch_model::category::service_resources::ServiceResource;
use serde_json::json;

/// AWS Config's type name and the ARN of a listed resource.
fn config_type(r: &ServiceResource, region: &str, account: &str) -> Option<(String, String)> {
    let id = r.resource_id.clone()?;
    let (kind, arn) = match (r.service_name.as_deref()?, r.resource_type.as_deref()?) {
        ("EC2", "Instance") => (
            "AWS::EC2::Instance",
            format!("arn:aws:ec2:{region}:{account}:instance/{id}"),
        ),
        ("EBS", "Volume") => (
            "AWS::EC2::Volume",
            format!("arn:aws:ec2:{region}:{account}:volume/{id}"),
        ),
        ("VPC", "Subnet") => (
            "AWS::EC2::Subnet",
            format!("arn:aws:ec2:{region}:{account}:subnet/{id}"),
        ),
        ("RDS", "DBInstance") => (
            "AWS::RDS::DBInstance",
            format!("arn:aws:rds:{region}:{account}:db:{id}"),
        ),
        ("S3", "Bucket") => ("AWS::S3::Bucket", format!("arn:aws:s3:::{id}")),
        ("ELB", "LoadBalancer") => ("AWS::ElasticLoadBalancingV2::LoadBalancer", id.clone()),
        ("AutoScaling", "AutoScalingGroup") => (
            "AWS::AutoScaling::AutoScalingGroup",
            format!(
                "arn:aws:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{id}"
            ),
        ),
        _ => return None,
    };
    Some((kind.to_owned(), arn))
}

impl Ctx<'_> {
    pub(super) fn config_inventory(&self) -> Vec<ConfigInventoryItem> {
        let region = self.region();
        let account = self.account_id();
        // Config records a bucket once, in the account's home region (service_resources
        // lists buckets in every region's file).
        let home = self.org.opts.regions[0].to_string();
        self.service_resources()
            .into_iter()
            .filter(|r| r.service_name.as_deref() != Some("S3") || region == home)
            .filter_map(|r| {
                let (resource_type, arn) = config_type(&r, &region, &account)?;
                Some(ConfigInventoryItem {
                    resource_subtype: r.resource_kind.clone(),
                    configuration: json!({
                        "state": r.state,
                        "instanceType": r.instance_type,
                        "vpcId": r.vpc_id,
                        "engine": r.engine,
                    }),
                    resource_type: Some(resource_type),
                    resource_id: r.resource_id,
                    resource_name: r.resource_name.filter(|n| !n.is_empty()),
                    region: Some(region.clone()),
                    availability_zone: r.availability_zone,
                    state: r.state,
                    arn: Some(arn),
                    creation_date: r.creation_date,
                })
            })
            .collect()
    }
}
