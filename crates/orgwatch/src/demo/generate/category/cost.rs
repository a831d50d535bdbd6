//! The `cost` object and the `service` rows: daily spend per service, with growth, weekends and
//! spikes.

use super::Ctx;
use crate::demo::generate::calendar::{day_range, days, first_of_next_month};
use crate::demo::generate::format::{money, round};
use orgwatch_model::category::cost::{
    CostForecast, CostPeriod, CostReport, ForecastPeriod, TopService,
};
use orgwatch_model::category::service::ServiceCost;
use orgwatch_model::Day;
use rand::Rng;
use time::{Date, Weekday};

const FORECAST_UNAVAILABLE: &str = "An error occurred (DataUnavailableException) when calling \
    the GetCostForecast operation: Insufficient amount of historical data to generate forecast.";

impl Ctx<'_> {
    /// The account's spend on `day`, per service (aligned with `Profile::services`).
    fn day_costs(&self, day: Date) -> Vec<f64> {
        let p = self.p;
        let mut rng = self.rng("cost", false, Some(day));
        let offset = (day - self.org.opts.end_date).whole_days() as f64;
        let growth = 1.003f64.powf(offset);
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        let season = if weekend { p.weekend_factor } else { 1.0 };
        let target = p.base_cost * growth * season * rng.random_range(0.95..1.05);
        let mut costs: Vec<f64> = p
            .services
            .iter()
            .map(|(_, share)| target * share * rng.random_range(0.85..1.15))
            .collect();
        if let Some(s) = &p.spike {
            if day >= s.start && day < s.start + days(s.len) {
                costs[s.service] += target * (s.factor - 1.0);
            }
        }
        costs.into_iter().map(money).collect()
    }

    fn sum_costs(&self, from: Date, to: Date) -> Vec<f64> {
        let mut sums = vec![0.0; self.p.services.len()];
        for day in day_range(from, to) {
            for (s, c) in sums.iter_mut().zip(self.day_costs(day)) {
                *s += c;
            }
        }
        sums.into_iter().map(money).collect()
    }

    /// The `cost` object, the `service` rows, and the forecast error of a day without forecast.
    pub(super) fn cost_and_service(&self) -> (CostReport, Vec<ServiceCost>, Option<String>) {
        let p = self.p;
        let per_service = self.sum_costs(self.data_from, self.data_to);
        let mut rows: Vec<(&'static str, f64)> = p
            .services
            .iter()
            .map(|(n, _)| *n)
            .zip(per_service)
            .filter(|(_, c)| *c > 0.0)
            .collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        let current = money(rows.iter().map(|(_, c)| c).sum());
        // The previous period has the length of the labelled one, as the sender computes it.
        let span = (self.label_to - self.label_from).whole_days().max(1);
        let previous = money(
            self.sum_costs(self.label_from - days(span), self.label_from)
                .iter()
                .sum(),
        );
        let difference = money(current - previous);
        let percentage = if previous > 0.0 {
            round(difference / previous * 100.0, 6)
        } else {
            0.0
        };

        let mut rng = self.rng("forecast", false, Some(self.run_date));
        let (forecast_from, forecast_to) = if self.daily() {
            (self.run_date, first_of_next_month(self.run_date))
        } else {
            let next = first_of_next_month(self.run_date);
            (next, first_of_next_month(next))
        };
        let daily_rate = if self.daily() {
            current
        } else {
            current / (self.data_to - self.data_from).whole_days().max(1) as f64
        };
        let forecast = vec![CostForecast {
            period: Some(ForecastPeriod {
                start: Some(Day(forecast_from)),
                end: Some(Day(forecast_to)),
            }),
            amount: Some(money(
                daily_rate
                    * (forecast_to - forecast_from).whole_days() as f64
                    * rng.random_range(0.97..1.08),
            )),
        }];
        let note = (self.daily() && rng.random_bool(0.08)).then(|| FORECAST_UNAVAILABLE.to_owned());
        let granularity = self.granularity.as_str().to_owned();
        let service = rows
            .iter()
            .map(|(name, cost)| ServiceCost {
                service: Some((*name).to_owned()),
                usage_types: Some("Aggregated".to_owned()),
                date_from: Some(Day(self.label_from)),
                date_to: Some(Day(self.label_to)),
                cost: Some(*cost),
                currency: Some("USD".to_owned()),
                utilization: None,
                utilization_unit: None,
            })
            .collect();
        let cost = CostReport {
            account_id: Some(self.account_id()),
            current_period_cost: Some(current),
            previous_period_cost: Some(previous),
            cost_difference: Some(difference),
            cost_difference_percentage: Some(percentage),
            top_services: rows
                .iter()
                .take(5)
                .map(|(n, c)| TopService {
                    service: Some((*n).to_owned()),
                    cost: Some(*c),
                })
                .collect(),
            period: Some(CostPeriod {
                start: Some(Day(self.label_from)),
                end: Some(Day(self.label_to)),
                granularity: Some(granularity),
            }),
            // GetCostForecast failed: no bucket, and an entry in the log instead.
            forecast: if note.is_some() { Vec::new() } else { forecast },
        };
        (cost, service, note)
    }
}
