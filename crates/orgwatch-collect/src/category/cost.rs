//! `cost` and `service`: Cost Explorer, once per account (it is global, answered in
//! us-east-1) and copied into each region's file, as the A360 sender does since it dropped
//! its region filter.
//!
//! The sender's requests, in its order, all for UnblendedCost of this account only (filter
//! LINKED_ACCOUNT) at the file's granularity:
//!
//! 1. GetCostAndUsage over the period: the account's total (`current_period_cost`);
//! 2. the same grouped by SERVICE: the `service` rows (every bucket's groups, most expensive
//!    first) and `top_services` (the five most expensive of the last bucket); the sender
//!    makes this request twice, once for each category, and we once;
//! 3. GetCostAndUsage over the previous period of as many days (`previous_period_cost`);
//! 4. GetCostForecast from the period's end to the run date + 30 days, MONTHLY: `forecast`;
//! 5. GetCostAndUsage over the period for the billing entity "AWS Marketplace" by SERVICE:
//!    the `marketplace` rows (the sender had this collector but never called it).
//!
//! Periods are the sender's ([`Periods`]), which for CE are not the file's window: MONTHLY
//! is the 1st to the month's *last day* (CE's end is exclusive, so the last day is left
//! out), and its previous period starts as many days before the 1st as the month has.
//! Unlike the sender, every page of an answer is read (it read one).
//!
//! A forecast that cannot be had (accounts with too little history, backfills, an emulator
//! without the call) is what the sender records as `{"Forecast unavailable": reason}` with
//! `cost` still "Pass" and `forecast: []`; so do we, and the ledger has `cost` as partial.

use super::period::Periods;
use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError, Failure};
use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, DimensionValues, Expression, GroupDefinition, GroupDefinitionType,
    Metric, MetricValue, ResultByTime,
};
use orgwatch_model::category::cost::{
    CostForecast, CostPeriod, CostReport, ForecastPeriod, TopService,
};
use orgwatch_model::category::marketplace::MarketplaceUsage;
use orgwatch_model::category::service::ServiceCost;
use orgwatch_model::time::parse_date;
use orgwatch_model::{AccountId, Day};
use std::collections::HashMap;
use time::Date;

/// The metric the sender reads, in GetCostAndUsage's spelling.
const UNBLENDED: &str = "UnblendedCost";

/// How many services `top_services` holds.
const TOP_SERVICES: usize = 5;

/// The key of `logs.message` under which the sender reports a missing forecast.
pub const FORECAST_UNAVAILABLE: &str = "Forecast unavailable";

/// What Cost Explorer gave for one account: `service` and `cost` fail apart (`service`
/// needs only the by-service request).
#[derive(Debug, Clone, PartialEq)]
pub struct CostAndServices {
    /// The `service` rows, most expensive first.
    pub service: Result<Vec<ServiceCost>, CallError>,
    /// The `cost` object; a missing forecast is its problem, not its failure.
    pub cost: Result<Collected<CostReport>, CallError>,
    /// The `marketplace` rows: the period's Marketplace charges by product.
    pub marketplace: Result<Vec<MarketplaceUsage>, CallError>,
}

/// Reads the account's cost for the periods (the client should be in us-east-1).
pub async fn collect(
    client: &aws_sdk_costexplorer::Client,
    account: AccountId,
    periods: Periods,
) -> CostAndServices {
    let filter = only(Dimension::LinkedAccount, account.as_str());
    let ask = Ask {
        client,
        filter: &filter,
        granularity: aws_sdk_costexplorer::types::Granularity::from(periods.granularity.as_str()),
    };
    // In the sender's order, each asked whatever the one before answered: `service` needs
    // only the second, and an emulator that answers from a queue (moto) hands out its
    // answers in the order of the requests.
    let current = ask.results(periods.current, None).await;
    let by_service = ask.results(periods.current, Some(by_service_group())).await;
    let previous = ask.results(periods.previous, None).await;
    let marketplace_filter = Expression::builder()
        .and(filter.clone())
        .and(only(Dimension::BillingEntity, MARKETPLACE))
        .build();
    let marketplace = Ask {
        filter: &marketplace_filter,
        ..ask
    }
    .results(periods.current, Some(by_service_group()))
    .await
    .and_then(|r| marketplace_rows(&r));

    let service = by_service.clone().and_then(|r| service_rows(&r));
    let cost = match (current, by_service, previous) {
        (Ok(current), Ok(by_service), Ok(previous)) => {
            match report(account, periods, &current, &by_service, &previous) {
                Ok(report) => Ok(with_forecast(client, &filter, periods, report).await),
                Err(e) => Err(e),
            }
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
    };
    CostAndServices {
        service,
        cost,
        marketplace,
    }
}

/// CE's grouping by service (for Marketplace charges: by product).
fn by_service_group() -> GroupDefinition {
    GroupDefinition::builder()
        .r#type(GroupDefinitionType::Dimension)
        .key("SERVICE")
        .build()
}

/// The billing entity of Marketplace charges (the other is "AWS").
const MARKETPLACE: &str = "AWS Marketplace";

/// The `marketplace` rows: one per product and bucket, most expensive first. CE names a
/// Marketplace product by its name only, which is also its `product_code` (the receiver's
/// table keys the rows by it).
fn marketplace_rows(results: &[ResultByTime]) -> Result<Vec<MarketplaceUsage>, CallError> {
    grouped(results, "a Marketplace product", |g| MarketplaceUsage {
        product_code: g.name.clone(),
        product_name: g.name,
        cost_consumed: Some(g.cost),
        currency: g.currency,
        period_start: g.from,
        period_end: g.to,
        status: None,
    })
}

/// One group of one bucket of a grouped GetCostAndUsage answer.
struct Group {
    name: Option<String>,
    cost: f64,
    currency: Option<String>,
    from: Option<Day>,
    to: Option<Day>,
}

/// Every bucket's groups as rows made by `row`, most expensive first (a stable sort, so equal
/// costs keep CE's order, as the sender's `sorted(..., reverse=True)`); `what` names a group
/// in the error of an answer without an amount.
fn grouped<T>(
    results: &[ResultByTime],
    what: &str,
    row: impl Fn(Group) -> T,
) -> Result<Vec<T>, CallError> {
    let mut groups = Vec::new();
    for r in results {
        let period = r.time_period();
        for g in r.groups() {
            let (cost, currency) = unblended(g.metrics(), what)?;
            groups.push(Group {
                name: g.keys().first().cloned(),
                cost,
                currency,
                from: period.and_then(|p| day(p.start())),
                to: period.and_then(|p| day(p.end())),
            });
        }
    }
    groups.sort_by(|a, b| b.cost.total_cmp(&a.cost));
    Ok(groups.into_iter().map(row).collect())
}

/// What every GetCostAndUsage request of an account shares.
struct Ask<'a> {
    client: &'a aws_sdk_costexplorer::Client,
    filter: &'a Expression,
    granularity: aws_sdk_costexplorer::types::Granularity,
}

impl Ask<'_> {
    /// Every page's buckets of the UnblendedCost of `[start, end)`, grouped if asked.
    async fn results(
        &self,
        (start, end): (Date, Date),
        group_by: Option<GroupDefinition>,
    ) -> Result<Vec<ResultByTime>, CallError> {
        let client = self.client;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = aws_call!(
                "ce:GetCostAndUsage",
                client
                    .get_cost_and_usage()
                    .set_time_period(interval(start, end))
                    .granularity(self.granularity.clone())
                    .metrics(UNBLENDED)
                    .filter(self.filter.clone())
                    .set_group_by(group_by.clone().map(|g| vec![g]))
                    .set_next_page_token(token.take())
            )?;
            out.extend(page.results_by_time().iter().cloned());
            token = next_token(page.next_page_token());
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}

/// A Cost Explorer filter on one dimension value.
pub(super) fn only(dimension: Dimension, value: &str) -> Expression {
    Expression::builder()
        .dimensions(
            DimensionValues::builder()
                .key(dimension)
                .values(value)
                .build(),
        )
        .build()
}

/// `[start, end)` as Cost Explorer's dates.
pub(super) fn interval(start: Date, end: Date) -> Option<DateInterval> {
    DateInterval::builder()
        .start(Day(start).to_string())
        .end(Day(end).to_string())
        .build()
        .ok()
}

/// An answer CE should not give (no amount, an amount that is no number): the category
/// cannot be written from it, as the sender's `float()` would have raised.
fn bad_answer(message: String) -> CallError {
    CallError {
        action: "ce:GetCostAndUsage",
        failure: Failure::Error,
        code: None,
        message,
    }
}

/// The UnblendedCost amount and unit of a bucket's total or a group's metrics.
fn unblended(
    metrics: Option<&HashMap<String, MetricValue>>,
    what: &str,
) -> Result<(f64, Option<String>), CallError> {
    let value = metrics
        .and_then(|m| m.get(UNBLENDED))
        .ok_or_else(|| bad_answer(format!("no {UNBLENDED} in {what}")))?;
    let text = value.amount().unwrap_or_default();
    let amount = text
        .parse::<f64>()
        .map_err(|_| bad_answer(format!("{UNBLENDED} of {what} is not a number: {text:?}")))?;
    Ok((amount, value.unit().map(str::to_owned)))
}

fn total(results: &[ResultByTime]) -> Result<f64, CallError> {
    results
        .iter()
        .map(|r| unblended(r.total(), "a total").map(|(amount, _)| amount))
        .sum()
}

fn day(text: &str) -> Option<Day> {
    parse_date(text).map(Day)
}

/// The `service` rows: one per service and bucket, most expensive first (a stable sort, so
/// equal costs keep CE's order, as the sender's `sorted(..., reverse=True)`).
fn service_rows(results: &[ResultByTime]) -> Result<Vec<ServiceCost>, CallError> {
    grouped(results, "a service", |g| ServiceCost {
        service: g.name,
        usage_types: Some("Aggregated".to_owned()),
        date_from: g.from,
        date_to: g.to,
        cost: Some(g.cost),
        currency: g.currency,
        utilization: None,
        utilization_unit: None,
    })
}

/// The five most expensive services of the last bucket (of every page's groups for it).
fn top_services(results: &[ResultByTime]) -> Result<Vec<TopService>, CallError> {
    let Some(last) = results.last() else {
        return Ok(Vec::new());
    };
    let mut top = Vec::new();
    for r in results
        .iter()
        .filter(|r| r.time_period() == last.time_period())
    {
        for g in r.groups() {
            top.push(TopService {
                service: g.keys().first().cloned(),
                cost: Some(unblended(g.metrics(), "a service")?.0),
            });
        }
    }
    top.sort_by(|a, b| b.cost.unwrap_or(0.0).total_cmp(&a.cost.unwrap_or(0.0)));
    top.truncate(TOP_SERVICES);
    Ok(top)
}

/// The `cost` object without its forecast.
fn report(
    account: AccountId,
    periods: Periods,
    current: &[ResultByTime],
    by_service: &[ResultByTime],
    previous: &[ResultByTime],
) -> Result<CostReport, CallError> {
    let (current_cost, previous_cost) = (total(current)?, total(previous)?);
    let difference = current_cost - previous_cost;
    Ok(CostReport {
        account_id: Some(account.as_str().to_owned()),
        current_period_cost: Some(current_cost),
        previous_period_cost: Some(previous_cost),
        cost_difference: Some(difference),
        // The sender's: 0 when there was nothing to compare with.
        cost_difference_percentage: Some(if previous_cost > 0.0 {
            difference / previous_cost * 100.0
        } else {
            0.0
        }),
        top_services: top_services(by_service)?,
        period: Some(CostPeriod {
            start: Some(Day(periods.current.0)),
            end: Some(Day(periods.current.1)),
            granularity: Some(periods.granularity.as_str().to_owned()),
        }),
        forecast: Vec::new(),
    })
}

/// The report with its forecast, or with the reason there is none as its problem.
async fn with_forecast(
    client: &aws_sdk_costexplorer::Client,
    filter: &Expression,
    periods: Periods,
    mut report: CostReport,
) -> Collected<CostReport> {
    let (start, end) = periods.forecast;
    let answer = aws_call!(
        "ce:GetCostForecast",
        client
            .get_cost_forecast()
            .set_time_period(interval(start, end))
            .metric(Metric::UnblendedCost)
            .granularity(aws_sdk_costexplorer::types::Granularity::Monthly)
            .filter(filter.clone())
    );
    let forecast = match answer {
        Ok(f) => f,
        Err(e) => {
            return Collected {
                items: report,
                problems: vec![e],
            }
        }
    };
    report.forecast = forecast
        .forecast_results_by_time()
        .iter()
        .map(|f| CostForecast {
            period: f.time_period().map(|p| ForecastPeriod {
                start: day(p.start()),
                end: day(p.end()),
            }),
            amount: f.mean_value().and_then(|v| v.parse().ok()),
        })
        .collect();
    Collected::clean(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn metric(amount: &str) -> MetricValue {
        MetricValue::builder().amount(amount).unit("USD").build()
    }

    fn bucket(start: &str, end: &str, groups: &[(&str, &str)]) -> ResultByTime {
        let mut b = ResultByTime::builder().time_period(
            DateInterval::builder()
                .start(start)
                .end(end)
                .build()
                .unwrap(),
        );
        for (name, amount) in groups {
            b = b.groups(
                aws_sdk_costexplorer::types::Group::builder()
                    .keys(*name)
                    .metrics(UNBLENDED, metric(amount))
                    .build(),
            );
        }
        b.build()
    }

    #[test]
    fn services_are_most_expensive_first_and_the_top_five_come_from_the_last_bucket() {
        let results = [
            bucket("2026-11-01", "2026-11-02", &[("A", "1"), ("B", "9")]),
            bucket(
                "2026-11-02",
                "2026-11-03",
                &[
                    ("A", "2"),
                    ("C", "0"),
                    ("D", "5"),
                    ("E", "0"),
                    ("F", "3"),
                    ("G", "4"),
                ],
            ),
        ];
        let rows = service_rows(&results).unwrap();
        let names: Vec<_> = rows
            .iter()
            .map(|r| (r.service.as_deref().unwrap(), r.cost.unwrap()))
            .collect();
        assert_eq!(
            names,
            [
                ("B", 9.0),
                ("D", 5.0),
                ("G", 4.0),
                ("F", 3.0),
                ("A", 2.0),
                ("A", 1.0),
                ("C", 0.0),
                ("E", 0.0)
            ]
        );
        assert_eq!(rows[0].date_from, Some(Day(date!(2026 - 11 - 01))));
        assert_eq!(rows[0].currency.as_deref(), Some("USD"));
        let top: Vec<_> = top_services(&results)
            .unwrap()
            .into_iter()
            .map(|t| t.service.unwrap())
            .collect();
        // C before E: equal costs keep CE's order.
        assert_eq!(top, ["D", "G", "F", "A", "C"]);
    }

    #[test]
    fn an_amount_that_is_no_number_fails_the_category_with_the_reason() {
        let results = [bucket("2026-11-01", "2026-11-02", &[("A", "n/a")])];
        let e = service_rows(&results).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some(
                "ce:GetCostAndUsage error: UnblendedCost of a service is not a number: \"n/a\""
                    .to_owned()
            )
        );
    }
}
