//! The `service_resources` rows: the world's resources as listed on a day.

use super::Ctx;
use crate::demo::generate::calendar::at;
use orgwatch_model::category::service_resources::ServiceResource;
use rand::Rng;

impl Ctx<'_> {
    pub(super) fn service_resources(&self) -> Vec<ServiceResource> {
        let w = self.w;
        let region = self.region();
        let acct = self.account_id();
        let day = self.asof;
        let mut rng = self.rng("resources", true, Some(day));
        let row = |service: &str, kind: &str, id: String, name: String| ServiceResource {
            service_name: Some(service.to_owned()),
            resource_type: Some(kind.to_owned()),
            resource_id: Some(id),
            resource_name: Some(name),
            region: Some(region.clone()),
            ..Default::default()
        };
        let mut out = Vec::new();
        for h in w.hosts_on(day) {
            out.push(ServiceResource {
                availability_zone: Some(w.azs[h.az].clone()),
                state: Some(if h.stopped { "stopped" } else { "running" }.to_owned()),
                instance_type: Some(h.instance_type.to_owned()),
                vpc_id: Some(w.vpcs[h.vpc].clone()),
                ..row("EC2", "Instance", h.id.clone(), h.name.clone())
            });
        }
        let live_hosts = w.hosts_on(day).count();
        // A root volume is created with its instance.
        for v in w.volumes.iter().filter(|v| v.created <= day) {
            out.push(ServiceResource {
                availability_zone: Some(w.azs[v.az].clone()),
                state: Some(if v.attached { "in-use" } else { "available" }.to_owned()),
                size_gb: Some(v.size as f64),
                volume_type: Some(v.kind.to_owned()),
                creation_date: Some(at(v.created, 3_600)),
                ..row("EBS", "Volume", v.id.clone(), String::new())
            });
        }
        for s in &w.subnets {
            out.push(ServiceResource {
                availability_zone: Some(w.azs[s.az].clone()),
                state: Some("available".to_owned()),
                vpc_id: Some(w.vpcs[s.vpc].clone()),
                available_ip_count: Some(
                    s.free_ips - live_hosts as i64 % 7 - rng.random_range(0..4),
                ),
                ..row("VPC", "Subnet", s.id.clone(), s.name.clone())
            });
        }
        for d in &w.databases {
            out.push(ServiceResource {
                availability_zone: Some(w.azs[d.az].clone()),
                state: Some("available".to_owned()),
                engine: Some(d.engine.to_owned()),
                instance_class: Some(d.class.to_owned()),
                multi_az: Some(self.p.prod),
                ..row("RDS", "DBInstance", d.id.clone(), d.id.clone())
            });
        }
        // S3 is listed account-wide: the same rows in every region's file.
        let home = self.org.opts.regions[0].to_string();
        for b in &w.global.buckets {
            out.push(ServiceResource {
                region: Some(home.clone()),
                state: Some("Active".to_owned()),
                creation_date: Some(b.created),
                ..row("S3", "Bucket", b.name.clone(), b.name.clone())
            });
        }
        let all_azs = w.azs.join(",");
        for l in w.load_balancers.iter().filter(|l| l.created <= day) {
            out.push(ServiceResource {
                availability_zone: Some(all_azs.clone()),
                state: Some("active".to_owned()),
                vpc_id: Some(w.vpcs[0].clone()),
                creation_date: Some(at(l.created, 30_000)),
                resource_kind: Some("application".to_owned()),
                scheme: Some(l.scheme.to_owned()),
                ..row("ELB", "LoadBalancer", l.arn.clone(), l.name.clone())
            });
        }
        for g in w.asgs.iter().filter(|g| g.created <= day) {
            out.push(ServiceResource {
                availability_zone: Some(all_azs.clone()),
                creation_date: Some(at(g.created, 30_000)),
                instance_count: Some(rng.random_range(g.min..=g.max.min(g.min + 4))),
                min_size: Some(g.min),
                max_size: Some(g.max),
                ..row(
                    "AutoScaling",
                    "AutoScalingGroup",
                    g.name.clone(),
                    g.name.clone(),
                )
            });
        }
        for f in w.functions.iter().filter(|f| self.exists(f.modified)) {
            out.push(ServiceResource {
                availability_zone: Some("Generic".to_owned()),
                state: Some("Active".to_owned()),
                instance_type: Some(f.runtime.to_owned()),
                vpc_id: Some(String::new()),
                engine: Some(f.runtime.to_owned()),
                instance_class: Some(String::new()),
                multi_az: Some(true),
                size_gb: Some(f.memory as f64 / 1024.0),
                volume_type: Some("EphemeralStorage".to_owned()),
                creation_date: Some(f.modified),
                resource_kind: Some(f.package.to_owned()),
                scheme: Some(f.arch.to_owned()),
                instance_count: Some(1),
                max_size: Some(512),
                ..row(
                    "Lambda",
                    "Function",
                    format!("arn:aws:lambda:{region}:{acct}:function:{}", f.name),
                    f.name.clone(),
                )
            });
        }
        out
    }
}
