//! `ri_sp_savings`: the daily utilisation and savings of the account's Reserved Instances
//! (EC2 active ones and RDS ones of every state, regional) and active Savings Plans
//! (account-wide: read once per account and copied into each region's file), from Cost
//! Explorer, in the sender's rows: each reservation's details repeated on each day.

use crate::aws_call;
use crate::call::{next_token, CallError};
use crate::category::cost::{interval, only};
use crate::category::security_hub::Window;
use crate::category::Collected;
use aws_sdk_costexplorer::types::{Dimension, Granularity, UtilizationByTime};
use aws_sdk_savingsplans::types::{SavingsPlan, SavingsPlanState};
use orgwatch_model::category::ri_sp_savings::RiSpSaving;
use orgwatch_model::{Day, Timestamp};

/// One kind of reservation's rows (with the reservations whose days could not be read as
/// problems), or why there are none.
pub type Read = Result<Collected<Vec<RiSpSaving>>, CallError>;

/// Hours in the sender's month: an RI's `commitment` is its hourly charge times this.
const HOURS_A_MONTH: f64 = 730.0;

const RESERVED_INSTANCE: &str = "Reserved Instance";
const SAVINGS_PLAN: &str = "Savings Plan";

/// CE's amounts are text; one that is no number is no value.
fn amount(text: Option<&str>) -> Option<f64> {
    text.and_then(|t| t.parse().ok())
}

/// The rows of a reservation with these `details` (its window set), one a day of `days`.
fn with_days(details: &RiSpSaving, window: Window, days: Vec<RiSpSaving>) -> Vec<RiSpSaving> {
    days.into_iter()
        .map(|day| RiSpSaving {
            date_from: Some(Day(window.start.date())),
            date_to: Some(Day(window.end.date())),
            date: day.date,
            utilization_percentage: day.utilization_percentage,
            on_demand_cost: day.on_demand_cost,
            reservation_cost: day.reservation_cost,
            net_savings: day.net_savings,
            ..details.clone()
        })
        .collect()
}

/// A Reserved Instance's days: those it was used (utilisation above 0), or, when it was
/// not used at all, one row of zeros without a date (the sender's).
fn ri_days(utilizations: &[UtilizationByTime]) -> Vec<RiSpSaving> {
    let used: Vec<RiSpSaving> = utilizations
        .iter()
        .filter_map(|u| {
            let total = u.total()?;
            let utilization = amount(total.utilization_percentage())?;
            (utilization > 0.0).then(|| RiSpSaving {
                date: u
                    .time_period()
                    .and_then(|p| orgwatch_model::time::parse_date(p.start()))
                    .map(Day),
                utilization_percentage: Some(utilization),
                on_demand_cost: amount(total.on_demand_cost_of_ri_hours_used()),
                reservation_cost: amount(total.total_amortized_fee()),
                net_savings: amount(total.net_ri_savings()),
                ..RiSpSaving::default()
            })
        })
        .collect();
    if used.is_empty() {
        vec![RiSpSaving {
            utilization_percentage: Some(0.0),
            on_demand_cost: Some(0.0),
            reservation_cost: Some(0.0),
            net_savings: Some(0.0),
            ..RiSpSaving::default()
        }]
    } else {
        used
    }
}

/// Every day's utilisation of the reservation `id` in the window (every page).
async fn reservation_utilization(
    ce: &aws_sdk_costexplorer::Client,
    id: &str,
    window: Window,
) -> Result<Vec<UtilizationByTime>, CallError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "ce:GetReservationUtilization",
            ce.get_reservation_utilization()
                .set_time_period(interval(window.start.date(), window.end.date()))
                .granularity(Granularity::Daily)
                .filter(only(Dimension::SubscriptionId, id))
                .set_next_page_token(next.take())
        )?;
        out.extend(page.utilizations_by_time().iter().cloned());
        next = next_token(page.next_page_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

/// Each reservation's rows; one whose utilisation cannot be read is kept as its details
/// alone (utilisation unknown, not 0) and its failure returned.
async fn reservations_rows(
    ce: &aws_sdk_costexplorer::Client,
    reservations: Vec<RiSpSaving>,
    window: Window,
) -> Collected<Vec<RiSpSaving>> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for details in reservations {
        let id = details.subscription_id.clone().unwrap_or_default();
        match reservation_utilization(ce, &id, window).await {
            Ok(u) => rows.extend(with_days(&details, window, ri_days(&u))),
            Err(e) => {
                problems.push(e);
                rows.extend(with_days(&details, window, vec![RiSpSaving::default()]));
            }
        }
    }
    Collected {
        items: rows,
        problems,
    }
}

/// The region's active EC2 Reserved Instances, with their days.
pub async fn ec2_reserved(
    ec2: &aws_sdk_ec2::Client,
    ce: &aws_sdk_costexplorer::Client,
    window: Window,
) -> Read {
    let listed = aws_call!(
        "ec2:DescribeReservedInstances",
        ec2.describe_reserved_instances().filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("state")
                .values("active")
                .build()
        )
    )?;
    let reservations = listed
        .reserved_instances()
        .iter()
        .map(ec2_details)
        .collect();
    Ok(reservations_rows(ce, reservations, window).await)
}

fn ec2_details(ri: &aws_sdk_ec2::types::ReservedInstances) -> RiSpSaving {
    let charge = ri.recurring_charges().first();
    let hourly = charge.and_then(|c| c.amount());
    RiSpSaving {
        reservation_type: Some(RESERVED_INSTANCE.to_owned()),
        subscription_id: ri.reserved_instances_id().map(str::to_owned),
        service: Some("Amazon EC2".to_owned()),
        instance_type: ri.instance_type().map(|t| t.as_str().to_owned()),
        instance_count: ri.instance_count().map(i64::from),
        instance_tenancy: ri.instance_tenancy().map(|t| t.as_str().to_owned()),
        offering_class: ri.offering_class().map(|c| c.as_str().to_owned()),
        offering_type: ri.offering_type().map(|t| t.as_str().to_owned()),
        product_types: ri.product_description().map(|p| p.as_str().to_owned()),
        region: ri.scope().map(|s| s.as_str().to_owned()),
        currency: ri.currency_code().map(|c| c.as_str().to_owned()),
        commitment: hourly.map(|h| h * HOURS_A_MONTH),
        upfront_cost: ri.fixed_price().map(f64::from),
        recurring_cost: hourly,
        recurring_frequency: charge
            .and_then(|c| c.frequency())
            .map(|f| f.as_str().to_owned()),
        usage_price: ri.usage_price().map(f64::from),
        start_date: crate::sdk_time::opt(ri.start()),
        end_date: crate::sdk_time::opt(ri.end()),
        duration_seconds: ri.duration(),
        state: ri.state().map(|s| s.as_str().to_owned()),
        ..RiSpSaving::default()
    }
}

/// The region's RDS Reserved Instances of every state (the sender's), with their days.
pub async fn rds_reserved(
    rds: &aws_sdk_rds::Client,
    ce: &aws_sdk_costexplorer::Client,
    window: Window,
) -> Read {
    let mut reservations = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "rds:DescribeReservedDBInstances",
            rds.describe_reserved_db_instances().set_marker(next.take())
        )?;
        reservations.extend(page.reserved_db_instances().iter().map(rds_details));
        next = next_token(page.marker());
        if next.is_none() {
            break;
        }
    }
    Ok(reservations_rows(ce, reservations, window).await)
}

fn rds_details(ri: &aws_sdk_rds::types::ReservedDbInstance) -> RiSpSaving {
    let charge = ri.recurring_charges().first();
    let hourly = charge.and_then(|c| c.recurring_charge_amount());
    RiSpSaving {
        reservation_type: Some(RESERVED_INSTANCE.to_owned()),
        subscription_id: ri.reserved_db_instance_id().map(str::to_owned),
        service: Some("Amazon RDS".to_owned()),
        instance_type: ri.db_instance_class().map(str::to_owned),
        instance_count: ri.db_instance_count().map(i64::from),
        offering_type: ri.offering_type().map(str::to_owned),
        product_types: ri.product_description().map(str::to_owned),
        currency: ri.currency_code().map(str::to_owned),
        commitment: hourly.map(|h| h * HOURS_A_MONTH),
        upfront_cost: ri.fixed_price(),
        recurring_cost: hourly,
        recurring_frequency: charge
            .and_then(|c| c.recurring_charge_frequency())
            .map(str::to_owned),
        usage_price: ri.usage_price(),
        start_date: crate::sdk_time::opt(ri.start_time()),
        duration_seconds: ri.duration().map(i64::from),
        state: ri.state().map(str::to_owned),
        ..RiSpSaving::default()
    }
}

/// The account's active Savings Plans (every page), each with its days in the window.
pub async fn savings_plans(
    sp: &aws_sdk_savingsplans::Client,
    ce: &aws_sdk_costexplorer::Client,
    window: Window,
) -> Read {
    let mut plans = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "savingsplans:DescribeSavingsPlans",
            sp.describe_savings_plans()
                .states(SavingsPlanState::Active)
                .set_next_token(next.take())
        )?;
        plans.extend(page.savings_plans().iter().map(plan_details));
        next = next_token(page.next_token());
        if next.is_none() {
            break;
        }
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for details in plans {
        let arn = details.savings_plan_arn.clone().unwrap_or_default();
        let days = aws_call!(
            "ce:GetSavingsPlansUtilization",
            ce.get_savings_plans_utilization()
                .set_time_period(interval(window.start.date(), window.end.date()))
                .granularity(Granularity::Daily)
                .filter(only(Dimension::SavingsPlanArn, &arn))
        );
        match days {
            Ok(d) => {
                let days = d
                    .savings_plans_utilizations_by_time()
                    .iter()
                    .map(|u| RiSpSaving {
                        date: u
                            .time_period()
                            .and_then(|p| orgwatch_model::time::parse_date(p.start()))
                            .map(Day),
                        utilization_percentage: amount(
                            u.utilization().and_then(|x| x.utilization_percentage()),
                        ),
                        on_demand_cost: amount(
                            u.savings().and_then(|s| s.on_demand_cost_equivalent()),
                        ),
                        reservation_cost: amount(u.utilization().and_then(|x| x.used_commitment())),
                        net_savings: amount(u.savings().and_then(|s| s.net_savings())),
                        ..RiSpSaving::default()
                    })
                    .collect();
                rows.extend(with_days(&details, window, days));
            }
            Err(e) => {
                problems.push(e);
                rows.extend(with_days(&details, window, vec![RiSpSaving::default()]));
            }
        }
    }
    Ok(Collected {
        items: rows,
        problems,
    })
}

fn plan_details(p: &SavingsPlan) -> RiSpSaving {
    let time = |t: Option<&str>| t.and_then(|t| Timestamp::parse(t).ok());
    let products: Vec<&str> = p.product_types().iter().map(|t| t.as_str()).collect();
    RiSpSaving {
        reservation_type: Some(SAVINGS_PLAN.to_owned()),
        subscription_id: p.savings_plan_id().map(str::to_owned),
        offering_id: p.offering_id().map(str::to_owned),
        savings_plan_arn: p.savings_plan_arn().map(str::to_owned),
        service: Some("AWS Savings Plans".to_owned()),
        instance_type: p.savings_plan_type().map(|t| t.as_str().to_owned()),
        instance_family: p.ec2_instance_family().map(str::to_owned),
        offering_type: p.payment_option().map(|o| o.as_str().to_owned()),
        product_types: (!products.is_empty()).then(|| products.join(",")),
        region: p.region().map(str::to_owned),
        currency: p.currency().map(|c| c.as_str().to_owned()),
        commitment: amount(p.commitment()),
        upfront_cost: amount(p.upfront_payment_amount()),
        recurring_cost: amount(p.recurring_payment_amount()),
        start_date: time(p.start()),
        end_date: time(p.end()),
        returnable_until: time(p.returnable_until()),
        duration_seconds: Some(p.term_duration_in_seconds()),
        state: p.state().map(|s| s.as_str().to_owned()),
        description: p.description().map(str::to_owned),
        ..RiSpSaving::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_costexplorer::types::{DateInterval, ReservationAggregates};
    use time::macros::{date, datetime};

    fn window() -> Window {
        Window::days(date!(2026 - 12 - 03), date!(2026 - 12 - 04))
    }

    fn day(start: &str, utilization: &str) -> UtilizationByTime {
        UtilizationByTime::builder()
            .time_period(
                DateInterval::builder()
                    .start(start)
                    .end("2026-12-04")
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .total(
                ReservationAggregates::builder()
                    .utilization_percentage(utilization)
                    .on_demand_cost_of_ri_hours_used("24.5")
                    .total_amortized_fee("10")
                    .net_ri_savings("14.5")
                    .build(),
            )
            .build()
    }

    #[test]
    fn a_used_reservation_has_a_row_a_day_and_an_unused_one_a_row_of_zeros() {
        let used = ri_days(&[day("2026-12-03", "87.5")]);
        assert_eq!(used.len(), 1);
        assert_eq!(used[0].utilization_percentage, Some(87.5));
        assert_eq!(
            (
                used[0].on_demand_cost,
                used[0].reservation_cost,
                used[0].net_savings
            ),
            (Some(24.5), Some(10.0), Some(14.5))
        );
        assert_eq!(used[0].date, Some(Day(time::macros::date!(2026 - 12 - 03))));
        let unused = ri_days(&[day("2026-12-03", "0")]);
        assert_eq!(unused.len(), 1);
        assert_eq!(unused[0].date, None, "no date on the zero row");
        assert_eq!(unused[0].utilization_percentage, Some(0.0));
    }

    #[test]
    fn an_ec2_reservation_commits_its_hourly_charge_for_730_hours() {
        use aws_sdk_ec2::types::{RecurringCharge, RecurringChargeFrequency, ReservedInstances};
        let ri = ReservedInstances::builder()
            .reserved_instances_id("ri-1")
            .recurring_charges(
                RecurringCharge::builder()
                    .amount(0.05)
                    .frequency(RecurringChargeFrequency::Hourly)
                    .build(),
            )
            .fixed_price(100.0)
            .build();
        let d = ec2_details(&ri);
        assert_eq!(d.commitment, Some(0.05 * 730.0));
        assert_eq!(d.recurring_frequency.as_deref(), Some("Hourly"));
        assert_eq!(d.upfront_cost, Some(100.0));
        let rows = with_days(&d, window(), ri_days(&[day("2026-12-03", "50")]));
        assert_eq!(rows[0].subscription_id.as_deref(), Some("ri-1"));
        assert_eq!(
            rows[0].date_from,
            Some(Day(time::macros::date!(2026 - 12 - 03)))
        );
        assert_eq!(rows[0].utilization_percentage, Some(50.0));
    }

    #[test]
    fn a_savings_plan_keeps_its_terms() {
        use aws_sdk_savingsplans::types::{SavingsPlanPaymentOption, SavingsPlanProductType};
        let p = SavingsPlan::builder()
            .savings_plan_id("sp-1")
            .savings_plan_arn("arn:aws:savingsplans::210987654321:savingsplan/sp-1")
            .payment_option(SavingsPlanPaymentOption::NoUpfront)
            .product_types(SavingsPlanProductType::Ec2)
            .product_types(SavingsPlanProductType::Lambda)
            .commitment("1.5")
            .start("2026-01-01T00:00:00.000Z")
            .term_duration_in_seconds(31_536_000)
            .build();
        let d = plan_details(&p);
        assert_eq!(d.reservation_type.as_deref(), Some("Savings Plan"));
        assert!(d.is_global());
        assert_eq!(d.product_types.as_deref(), Some("EC2,Lambda"));
        assert_eq!(d.commitment, Some(1.5));
        assert_eq!(d.offering_type.as_deref(), Some("No Upfront"));
        assert_eq!(
            d.start_date.map(|t| t.get()),
            Some(datetime!(2026-01-01 00:00 UTC))
        );
    }
}
