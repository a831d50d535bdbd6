//! The `resilience_hub` rows: the workload's assessed applications.

use super::Ctx;
use crate::demo::generate::calendar::{at, between, days};
use crate::demo::generate::format::round;
use crate::demo::generate::random::pick;
use orgwatch_model::category::resilience_hub::ResilienceHubApp;
use rand::Rng;

impl Ctx<'_> {
    pub(super) fn resilience_hub(&self) -> Vec<ResilienceHubApp> {
        let mut rng = self.rng("resilience", true, Some(self.asof));
        self.w
            .resilience_apps
            .iter()
            .enumerate()
            .map(|(i, (arn, name))| {
                let score = round(rng.random_range(55.0..96.0) - 10.0 * i as f64, 1);
                ResilienceHubApp {
                    app_arn: Some(arn.clone()),
                    name: Some(name.clone()),
                    description: Some(format!("{name} production stack")),
                    creation_time: Some(at(self.p.created + days(30), 50_000)),
                    last_assessment_time: Some(between(&mut rng, self.asof, 2, 4)),
                    compliance_status: Some(
                        if score >= 70.0 {
                            "PolicyMet"
                        } else {
                            "PolicyBreached"
                        }
                        .to_owned(),
                    ),
                    resiliency_score: Some(score),
                    status: Some("Active".to_owned()),
                    rpo: Some(*pick(&mut rng, &[300, 900, 3600])),
                    rto: Some(*pick(&mut rng, &[900, 3600, 14_400])),
                    last_drill: Some(at(self.asof - days(rng.random_range(5..90)), 36_000)),
                    cost: None,
                }
            })
            .collect()
    }
}
