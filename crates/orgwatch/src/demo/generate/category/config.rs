//! The `config` report: each rule's non-compliant resources drift with the rule's level and trend.

use super::Ctx;
use crate::demo::generate::calendar::during;
use crate::demo::generate::format::round;
use crate::demo::generate::resources::ConfigRule;
use orgwatch_model::category::config::{ConfigReport, NonCompliantResource};
use orgwatch_model::{Day, Timestamp};
use rand::Rng;

impl Ctx<'_> {
    pub(super) fn config(&self) -> ConfigReport {
        // The sender keeps evaluations recorded on the window's first day, even for a month.
        let day = self.label_from;
        let x = (day - self.org.opts.end_date).whole_days() as f64 / 30.0;
        let mut rows = Vec::new();
        let (mut compliant, mut non_compliant, mut curr_compliant) = (0u32, 0u32, 0u32);
        for rule in &self.w.rules {
            let mut rng = self
                .org
                .rng(rule.name, self.p.index, Some(&self.w.region), Some(day));
            let noise = match rng.random::<f64>() {
                v if v < 0.07 => -1.0,
                v if v > 0.93 => 1.0,
                _ => 0.0,
            };
            let failing = (rule.level + rule.trend * x + noise)
                .round()
                .clamp(0.0, rule.candidates.len() as f64) as usize;
            if failing > 0 {
                non_compliant += 1;
                for resource in &rule.candidates[..failing] {
                    rows.push(rule.evaluation(resource, false, during(&mut rng, day)));
                }
            } else {
                compliant += 1;
                // Despite its name, the list also carries some COMPLIANT evaluations.
                if let (Some(first), true) = (rule.candidates.first(), rng.random_bool(0.5)) {
                    curr_compliant += 1;
                    rows.push(rule.evaluation(first, true, during(&mut rng, day)));
                }
            }
        }
        let total = compliant + non_compliant;
        ConfigReport {
            date_from: Some(Day(self.label_from)),
            date_to: Some(Day(self.label_to)),
            compliance_score: Some(if total > 0 {
                round(f64::from(compliant) / f64::from(total) * 100.0, 2)
            } else {
                0.0
            }),
            total_rules: Some(i64::from(total)),
            compliant_rules: Some(i64::from(compliant)),
            non_compliant_rules: Some(i64::from(non_compliant)),
            curr_non_compliant: Some(i64::from(non_compliant)),
            curr_compliant: Some(i64::from(curr_compliant)),
            non_compliant_resources: rows,
        }
    }
}

impl ConfigRule {
    fn evaluation(
        &self,
        resource: &str,
        compliant: bool,
        invoked: Timestamp,
    ) -> NonCompliantResource {
        NonCompliantResource {
            rule_name: Some(self.name.to_owned()),
            resource_id: Some(resource.to_owned()),
            resource_type: Some(self.resource_type.to_owned()),
            config_rule_invoked_time: Some(invoked),
            conformance_pack: Some(self.pack.to_owned()),
            compliance_type: Some(
                if compliant {
                    "COMPLIANT"
                } else {
                    "NON_COMPLIANT"
                }
                .to_owned(),
            ),
            annotation: self.annotation.filter(|_| !compliant).map(str::to_owned),
            evaluation_mode: Some("DETECTIVE".to_owned()),
        }
    }
}
