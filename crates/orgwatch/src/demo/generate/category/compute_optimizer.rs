//! The `compute_optimizer` rows: rightsizing of instances, gp2 volumes and large functions.

use super::Ctx;
use crate::demo::generate::format::round;
use crate::demo::generate::tables::instance_types;
use orgwatch_model::category::compute_optimizer::ComputeOptimizerRecommendation;
use rand::Rng;

impl Ctx<'_> {
    pub(super) fn compute_optimizer(&self) -> Vec<ComputeOptimizerRecommendation> {
        let w = self.w;
        let (region, acct) = (self.region(), self.account_id());
        let mut fixed = self.rng("compute-optimizer", true, None);
        let mut daily = self.rng("compute-optimizer", true, Some(self.asof));
        let mut out = Vec::new();
        for h in w.hosts_on(self.asof) {
            if !fixed.random_bool(0.4) {
                continue;
            }
            let types = instance_types(self.p.prod);
            let (finding, recommended, hourly) = match fixed.random::<f64>() {
                x if x < 0.6 => {
                    let cheaper: Vec<&(&str, f64)> =
                        types.iter().filter(|(_, p)| *p < h.hourly).collect();
                    match cheaper.last() {
                        Some((t, p)) => ("Overprovisioned", *t, *p),
                        None => ("Optimized", h.instance_type, h.hourly),
                    }
                }
                x if x < 0.8 => ("Underprovisioned", "m5.2xlarge", 0.384),
                _ => ("Optimized", h.instance_type, h.hourly),
            };
            let savings = ((h.hourly - hourly) * 730.0).max(0.0);
            out.push(ComputeOptimizerRecommendation {
                account_id: Some(acct.clone()),
                resource_type: Some("EC2".to_owned()),
                resource_arn: Some(format!("arn:aws:ec2:{region}:{acct}:instance/{}", h.id)),
                resource_name: Some(h.name.clone()),
                finding: Some(finding.to_owned()),
                current_instance_type: Some(h.instance_type.to_owned()),
                recommended_instance_type: Some(recommended.to_owned()),
                savings_opportunity_percentage: Some(round(
                    savings / (h.hourly * 730.0) * 100.0,
                    2,
                )),
                estimated_monthly_savings_usd: Some(round(savings, 2)),
                performance_risk: Some(round(fixed.random_range(0.5..3.0), 1)),
                cpu_utilization_max: Some(round(
                    if finding == "Underprovisioned" {
                        daily.random_range(85.0..100.0)
                    } else {
                        daily.random_range(8.0..45.0)
                    },
                    2,
                )),
                memory_utilization_avg: Some(round(daily.random_range(15.0..70.0), 2)),
                ..Default::default()
            });
        }
        for v in w.volumes.iter().filter(|v| v.kind == "gp2") {
            let savings = v.size as f64 * 0.02;
            out.push(ComputeOptimizerRecommendation {
                account_id: Some(acct.clone()),
                resource_type: Some("EBS".to_owned()),
                resource_arn: Some(format!("arn:aws:ec2:{region}:{acct}:volume/{}", v.id)),
                resource_name: Some(v.id.clone()),
                finding: Some("NotOptimized".to_owned()),
                current_volume_type: Some("gp2".to_owned()),
                recommended_volume_type: Some("gp3".to_owned()),
                current_volume_size: Some(v.size as f64),
                recommended_volume_size: Some(v.size as f64),
                savings_opportunity_percentage: Some(20.0),
                estimated_monthly_savings_usd: Some(round(savings, 2)),
                performance_risk: Some(0.0),
                ..Default::default()
            });
        }
        for f in w
            .functions
            .iter()
            .filter(|f| f.memory >= 1024 && self.exists(f.modified))
        {
            out.push(ComputeOptimizerRecommendation {
                account_id: Some(acct.clone()),
                resource_type: Some("Lambda".to_owned()),
                resource_arn: Some(format!(
                    "arn:aws:lambda:{region}:{acct}:function:{}",
                    f.name
                )),
                resource_name: Some(f.name.clone()),
                finding: Some("NotOptimized".to_owned()),
                current_memory_size: Some(f.memory as f64),
                recommended_memory_size: Some((f.memory / 2) as f64),
                savings_opportunity_percentage: Some(round(fixed.random_range(20.0..45.0), 2)),
                estimated_monthly_savings_usd: Some(round(fixed.random_range(0.5..25.0), 2)),
                performance_risk: Some(round(fixed.random_range(0.0..2.0), 1)),
                ..Default::default()
            });
        }
        out
    }
}
