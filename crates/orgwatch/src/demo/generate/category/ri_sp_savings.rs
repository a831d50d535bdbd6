//! The `ri_sp_savings` rows: daily use of the Reserved Instances and the Savings Plan.

use super::Ctx;
use crate::demo::generate::calendar::days;
use crate::demo::generate::format::{money, round};
use orgwatch_model::category::ri_sp_savings::RiSpSaving;
use orgwatch_model::{Day, Timestamp};
use rand::Rng;

impl Ctx<'_> {
    pub(super) fn ri_sp_savings(&self) -> Vec<RiSpSaving> {
        let mut out = Vec::new();
        let region = self.region();
        if let Some(ri) = &self.w.reserved {
            for day in self.data_days().filter(|d| *d >= ri.start.get().date()) {
                let mut rng = self.rng("reserved", true, Some(day));
                let utilization = round(rng.random_range(82.0..100.0), 2);
                let fee = ri.hourly * 24.0 * ri.count as f64;
                let on_demand = fee / 0.62 * utilization / 100.0;
                out.push(RiSpSaving {
                    reservation_type: Some("Reserved Instance".to_owned()),
                    subscription_id: Some(ri.id.clone()),
                    date_from: Some(Day(self.label_from)),
                    date_to: Some(Day(self.label_to)),
                    date: Some(Day(day)),
                    utilization_percentage: Some(utilization),
                    on_demand_cost: Some(money(on_demand)),
                    reservation_cost: Some(money(fee)),
                    net_savings: Some(money(on_demand - fee)),
                    service: Some("Amazon EC2".to_owned()),
                    instance_type: Some(ri.instance_type.to_owned()),
                    instance_count: Some(ri.count),
                    instance_tenancy: Some("default".to_owned()),
                    offering_class: Some("standard".to_owned()),
                    offering_type: Some("No Upfront".to_owned()),
                    product_types: Some("Linux/UNIX".to_owned()),
                    // The sender writes the RI's Scope here.
                    region: Some("Region".to_owned()),
                    currency: Some("USD".to_owned()),
                    commitment: Some(money(ri.hourly * 730.0)),
                    upfront_cost: Some(0.0),
                    recurring_cost: Some(ri.hourly),
                    recurring_frequency: Some("Hourly".to_owned()),
                    usage_price: Some(0.0),
                    start_date: Some(ri.start),
                    end_date: Some(Timestamp::new(ri.start.get() + days(365))),
                    duration_seconds: Some(31_536_000),
                    state: Some("active".to_owned()),
                    description: Some(format!(
                        "{} reserved instances in {region}",
                        ri.instance_type
                    )),
                    ..Default::default()
                });
            }
        }
        if let Some(sp) = &self.w.global.savings_plan {
            let home = self.org.opts.regions[0].to_string();
            for day in self.data_days().filter(|d| *d >= sp.start.get().date()) {
                // Global: no region in the stream.
                let mut rng = self.rng("savings-plan", false, Some(day));
                let utilization = round(rng.random_range(70.0..100.0), 2);
                let used = sp.hourly * 24.0 * utilization / 100.0;
                let on_demand = used * rng.random_range(1.25..1.45);
                out.push(RiSpSaving {
                    reservation_type: Some("Savings Plan".to_owned()),
                    subscription_id: Some(sp.id.clone()),
                    date_from: Some(Day(self.label_from)),
                    date_to: Some(Day(self.label_to)),
                    date: Some(Day(day)),
                    utilization_percentage: Some(utilization),
                    on_demand_cost: Some(money(on_demand)),
                    reservation_cost: Some(money(used)),
                    net_savings: Some(money(on_demand - used)),
                    service: Some("AWS Savings Plans".to_owned()),
                    offering_id: Some(sp.offering.clone()),
                    savings_plan_arn: Some(format!(
                        "arn:aws:savingsplans::{}:savingsplan/{}",
                        self.account_id(),
                        sp.id
                    )),
                    instance_type: Some(sp.plan_type.to_owned()),
                    instance_family: (sp.plan_type == "EC2Instance").then(|| "m5".to_owned()),
                    offering_type: Some(sp.payment.to_owned()),
                    product_types: Some(
                        if sp.plan_type == "Compute" {
                            "EC2,Fargate,Lambda"
                        } else {
                            "EC2"
                        }
                        .to_owned(),
                    ),
                    region: Some(home.clone()),
                    currency: Some("USD".to_owned()),
                    commitment: Some(sp.hourly),
                    upfront_cost: Some(if sp.payment == "No Upfront" {
                        0.0
                    } else {
                        money(sp.hourly * 4380.0 * sp.years as f64)
                    }),
                    recurring_cost: Some(if sp.payment == "No Upfront" {
                        sp.hourly
                    } else {
                        money(sp.hourly / 2.0)
                    }),
                    start_date: Some(sp.start),
                    end_date: Some(Timestamp::new(sp.start.get() + days(365 * sp.years))),
                    duration_seconds: Some(31_536_000 * sp.years),
                    state: Some("active".to_owned()),
                    description: Some(format!("{}-year {} Savings Plan", sp.years, sp.plan_type)),
                    ..Default::default()
                });
            }
        }
        out
    }
}
