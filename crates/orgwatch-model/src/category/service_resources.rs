//! `service_resources`: EC2, EBS, VPC subnets, RDS, S3, ELB, Auto Scaling and Lambda resources.

use crate::lenient::record;
use crate::time::Timestamp;

record! {
    /// One resource. S3 buckets are global (identical in every region's file).
    pub struct ServiceResource {
        service_name: Option<String>,
        resource_type: Option<String>,
        resource_id: Option<String>,
        resource_name: Option<String>,
        region: Option<String>,
        availability_zone: Option<String>,
        state: Option<String>,
        instance_type: Option<String>,
        vpc_id: Option<String>,
        engine: Option<String>,
        instance_class: Option<String>,
        multi_az: Option<bool>,
        size_gb: Option<f64>,
        volume_type: Option<String>,
        creation_date: Option<Timestamp>,
        #[serde(rename = "type")]
        resource_kind: Option<String>,
        scheme: Option<String>,
        instance_count: Option<i64>,
        min_size: Option<i64>,
        max_size: Option<i64>,
        available_ip_count: Option<i64>,
    }
}

impl ServiceResource {
    /// S3 buckets are listed account-wide, so every region's file carries the same ones.
    pub fn is_global(&self) -> bool {
        self.service_name.as_deref() == Some("S3")
    }
}
