//! `cost`: the Cost page's figures, per account and per service, over a date range.
//!
//! The figures, each defined once:
//! - **range**: `to` is the filter's last day, else the latest day with DAILY cost of the
//!   accounts shown; `from` the filter's first day, else 29 days before `to` (30 days);
//! - **day cost**: Cost Explorer's cost of `to` (the DAILY report of that day), per account;
//!   with the default range, "yesterday" as the data knows it;
//! - **month to date** / **previous month to date**: the DAILY costs from the first of
//!   `to`'s month to `to`, and over the same days of the month before (clamped to its
//!   length), as [`Store::org_summary`] defines them;
//! - **like for like**: an account's month to date and previous month to date compare only
//!   when each day of both spans has its DAILY report ([`AccountCost::comparable`]); a
//!   history that starts within the previous month (a new account, a new installation), or
//!   a day not delivered, would otherwise show a growth that is only missing data. The days
//!   loaded are counted per account and span;
//! - **forecast** of `to`'s month: month to date plus Cost Explorer's forecast for the rest
//!   of the month, the forecast of `to`'s DAILY report when it covers exactly `to + 1` to the
//!   first of the next month ([`ForecastSource::CostExplorer`]); when `to` is the month's
//!   last day, the month to date ([`ForecastSource::MonthComplete`]); when the report holds
//!   no such forecast (the sender logs GetCostForecast's failure), the month to date run on
//!   at its daily rate to the month's end ([`ForecastSource::RunRate`]);
//! - **per service**: the DAILY `services` rows (every service, not only the report's top
//!   five), summed over the accounts shown;
//! - **Marketplace**: `marketplace_usage` of the DAILY files in the range, per account and
//!   product; **RI/SP savings**: `ri_sp_daily_savings` rows dated in the range, per account
//!   and subscription, with whether the sender collected them ([`Collection`]).

use super::collection::Collection;
use super::filter::{account_id, visible, PageFilter};
use super::summary::previous_month_days;
use super::Access;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::AccountId;
use std::collections::BTreeMap;
use time::{Date, Duration};

/// Days the default range covers.
pub const DEFAULT_RANGE_DAYS: i64 = 30;

/// The days a cost report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostRange {
    /// First day of the range.
    pub from: Date,
    /// Last day of the range: the day of "day cost".
    pub to: Date,
    /// First of `to`'s month ..= `to`.
    pub month_to_date: (Date, Date),
    /// The same days of the previous month.
    pub previous_month_to_date: (Date, Date),
}

/// Where an account's forecast comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForecastSource {
    /// Month to date plus Cost Explorer's forecast of the rest of the month.
    CostExplorer,
    /// `to` is the month's last day: the month to date is the month.
    MonthComplete,
    /// No forecast in the data: the month to date at its daily rate to the month's end.
    RunRate,
}

impl ForecastSource {
    /// A short name (`cost_explorer`, `month_complete`, `run_rate`).
    pub fn as_str(self) -> &'static str {
        match self {
            ForecastSource::CostExplorer => "cost_explorer",
            ForecastSource::MonthComplete => "month_complete",
            ForecastSource::RunRate => "run_rate",
        }
    }
}

/// The month-end forecast of one account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    /// Forecast cost of the whole month of `to`.
    pub month: f64,
    /// How it was obtained.
    pub source: ForecastSource,
}

/// One account's cost figures.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountCost {
    /// The account.
    pub account_id: AccountId,
    /// Its name.
    pub name: String,
    /// Its environment.
    pub environment: String,
    /// Cost of `to` (`None`: no DAILY report for that day).
    pub day_cost: Option<f64>,
    /// Cost over the range.
    pub range_cost: f64,
    /// Month to date.
    pub month_to_date: f64,
    /// Same days of the previous month.
    pub previous_month_to_date: f64,
    /// Days of the month to date with a DAILY report of the account.
    pub month_to_date_days: u32,
    /// Days of the same days of the previous month with one.
    pub previous_month_to_date_days: u32,
    /// Month-end forecast (`None` only without any cost in the month).
    pub forecast: Option<Forecast>,
}

/// One account's cost of one day.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyCost {
    /// The day.
    pub day: Date,
    /// The account.
    pub account_id: AccountId,
    /// Its cost that day.
    pub cost: f64,
}

/// One service's cost over the accounts shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCost {
    /// Service name, as Cost Explorer writes it.
    pub service: String,
    /// Cost over the range.
    pub range_cost: f64,
    /// Month to date.
    pub month_to_date: f64,
    /// Same days of the previous month.
    pub previous_month_to_date: f64,
}

/// One service's cost of one day, over the accounts shown.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyServiceCost {
    /// The day.
    pub day: Date,
    /// Service name.
    pub service: String,
    /// Its cost that day.
    pub cost: f64,
}

/// Marketplace spend of one account and product over the range.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketplaceCost {
    /// The account.
    pub account_id: AccountId,
    /// Product code.
    pub product_code: String,
    /// Product name.
    pub product_name: String,
    /// Cost consumed over the range.
    pub cost: f64,
}

/// One reservation's use over the range (a Reserved Instance or a Savings Plan).
#[derive(Debug, Clone, PartialEq)]
pub struct Saving {
    /// The account.
    pub account_id: AccountId,
    /// `Reserved Instance` or `Savings Plan`.
    pub reservation_type: String,
    /// Reservation or plan id.
    pub subscription_id: String,
    /// Days with a row in the range.
    pub days: u64,
    /// Mean utilisation, percent.
    pub utilization: Option<f64>,
    /// What the usage would have cost on demand.
    pub on_demand_cost: f64,
    /// What the reservation cost.
    pub reservation_cost: f64,
    /// On demand minus reservation.
    pub net_savings: f64,
}

/// The Cost page's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostReport {
    /// The days covered (`None`: no DAILY cost for the accounts shown, and no range asked).
    pub range: Option<CostRange>,
    /// One line per account shown, by account id.
    pub accounts: Vec<AccountCost>,
    /// Cost per account and day of the range, by day then account.
    pub daily: Vec<DailyCost>,
    /// Cost per service, by service name.
    pub services: Vec<ServiceCost>,
    /// Cost per service and day of the range, by day then service.
    pub daily_services: Vec<DailyServiceCost>,
    /// Marketplace spend, by account and product.
    pub marketplace: Vec<MarketplaceCost>,
    /// Whether the files of the range collected Marketplace.
    pub marketplace_collection: Collection,
    /// RI and Savings Plan use, by account, type and id.
    pub savings: Vec<Saving>,
    /// Whether the files of the range collected RI/SP savings.
    pub savings_collection: Collection,
}

impl CostRange {
    /// Days of the month to date.
    pub fn month_to_date_days(&self) -> u32 {
        span_days(self.month_to_date)
    }
    /// Days of the same days of the previous month.
    pub fn previous_month_to_date_days(&self) -> u32 {
        span_days(self.previous_month_to_date)
    }
}

/// Days of an inclusive span.
pub(crate) fn span_days((a, b): (Date, Date)) -> u32 {
    u32::try_from((b - a).whole_days() + 1).unwrap_or(0)
}

/// Account-days with a report among `accounts` (each has `days` of `of_each`), and how many
/// there are: `(loaded, of)`.
pub(crate) fn account_days<T>(
    accounts: &[T],
    of_each: u32,
    days: impl Fn(&T) -> u32,
) -> (u32, u32) {
    (
        accounts.iter().map(days).sum(),
        of_each * accounts.len() as u32,
    )
}

impl AccountCost {
    /// Whether the month to date and the same days of the previous month both have every
    /// day's report, so that their change is a change of cost, not of data.
    pub fn comparable(&self, range: &CostRange) -> bool {
        self.month_to_date_days == range.month_to_date_days()
            && self.previous_month_to_date_days == range.previous_month_to_date_days()
    }
}

impl CostReport {
    /// Whether every account shown compares like for like ([`AccountCost::comparable`]).
    pub fn comparable(&self) -> bool {
        self.range
            .is_some_and(|g| self.accounts.iter().all(|a| a.comparable(&g)))
    }
    /// Account-days of the month to date with a DAILY report, and how many there are.
    pub fn month_to_date_account_days(&self) -> (u32, u32) {
        let of_each = self.range.map_or(0, |g| g.month_to_date_days());
        account_days(&self.accounts, of_each, |a| a.month_to_date_days)
    }
    /// Account-days of the same days of the previous month with one, and how many there are.
    pub fn previous_month_to_date_account_days(&self) -> (u32, u32) {
        let of_each = self.range.map_or(0, |g| g.previous_month_to_date_days());
        account_days(&self.accounts, of_each, |a| a.previous_month_to_date_days)
    }
    /// The organisation's cost of `to`.
    pub fn day_cost(&self) -> f64 {
        self.accounts.iter().filter_map(|a| a.day_cost).sum()
    }
    /// The organisation's cost over the range.
    pub fn range_cost(&self) -> f64 {
        self.accounts.iter().map(|a| a.range_cost).sum()
    }
    /// The organisation's month to date.
    pub fn month_to_date(&self) -> f64 {
        self.accounts.iter().map(|a| a.month_to_date).sum()
    }
    /// The organisation's cost over the same days of the previous month.
    pub fn previous_month_to_date(&self) -> f64 {
        self.accounts.iter().map(|a| a.previous_month_to_date).sum()
    }
    /// The organisation's month-end forecast: the sum of the accounts'.
    pub fn forecast(&self) -> f64 {
        self.accounts
            .iter()
            .filter_map(|a| a.forecast.map(|f| f.month))
            .sum()
    }
    /// Accounts whose forecast is a run-rate estimate (no forecast in the data).
    pub fn run_rate_forecasts(&self) -> usize {
        self.accounts
            .iter()
            .filter(|a| {
                a.forecast
                    .is_some_and(|f| f.source == ForecastSource::RunRate)
            })
            .count()
    }
}

/// The last day of `day`'s month.
fn month_end(day: Date) -> Date {
    let len = day.month().length(day.year());
    day.replace_day(len).unwrap_or(day)
}

impl Store {
    /// The Cost page's figures for the accounts `access` sees and `filter` names, over the
    /// filter's range (see the module docs for every figure).
    pub async fn cost_report(
        &self,
        access: &Access,
        filter: &PageFilter,
    ) -> Result<CostReport, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let out = cost_report(&mut *tx, access, filter).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

type MoneyRow = (String, Date, f64);

async fn cost_report<C: Conn>(
    c: &mut C,
    access: &Access,
    filter: &PageFilter,
) -> Result<CostReport, sqlx::Error> {
    let (vis, vis_args) = visible(access, filter, "a");
    let names: Vec<(String, String, String)> = c
        .fetch_all(
            &format!(
                "SELECT a.account_id, COALESCE(a.account_name, a.account_id), \
                 COALESCE(a.account_type, '') FROM accounts a WHERE {vis} ORDER BY a.account_id"
            ),
            &vis_args,
        )
        .await?;
    let to = match filter.to {
        Some(to) => Some(to),
        None => {
            let (d,): (Option<Date>,) = c
                .fetch_optional(
                    &format!(
                        "SELECT MAX(cr.period_start) FROM cost_reports cr \
                         JOIN accounts a ON a.id = cr.account_id \
                         WHERE cr.period_granularity = 'DAILY' AND {vis}"
                    ),
                    &vis_args,
                )
                .await?
                .unwrap_or((None,));
            d
        }
    };
    let Some(to) = to else {
        let accounts = names
            .into_iter()
            .map(|(id, name, environment)| {
                Ok(AccountCost {
                    account_id: account_id(&id)?,
                    name,
                    environment,
                    day_cost: None,
                    range_cost: 0.0,
                    month_to_date: 0.0,
                    previous_month_to_date: 0.0,
                    month_to_date_days: 0,
                    previous_month_to_date_days: 0,
                    forecast: None,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        return Ok(CostReport {
            range: None,
            accounts,
            daily: Vec::new(),
            services: Vec::new(),
            daily_services: Vec::new(),
            marketplace: Vec::new(),
            marketplace_collection: Collection::default(),
            savings: Vec::new(),
            savings_collection: Collection::default(),
        });
    };
    let from = filter
        .from
        .unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS - 1));
    let mtd = (to.replace_day(1).unwrap_or(to), to);
    let previous = previous_month_days(to);
    let range = CostRange {
        from,
        to,
        month_to_date: mtd,
        previous_month_to_date: previous,
    };
    // Every day any figure needs, read once.
    let first = from.min(previous.0);
    let in_days = |args: &[Val]| {
        let mut all = vec![Val::Date(first), Val::Date(to)];
        all.extend_from_slice(args);
        all
    };
    let by_account: Vec<MoneyRow> = c
        .fetch_all(
            &format!(
                "SELECT a.account_id, cr.period_start, \
                 CAST(SUM(cr.current_period_cost) AS DOUBLE PRECISION) \
                 FROM cost_reports cr JOIN accounts a ON a.id = cr.account_id \
                 WHERE cr.period_granularity = 'DAILY' AND cr.period_start >= ? \
                 AND cr.period_start <= ? AND {vis} \
                 GROUP BY a.account_id, cr.period_start ORDER BY cr.period_start, a.account_id"
            ),
            &in_days(&vis_args),
        )
        .await?;
    let by_service: Vec<MoneyRow> = c
        .fetch_all(
            &format!(
                "SELECT s.service, s.date_from, CAST(SUM(s.cost) AS DOUBLE PRECISION) \
                 FROM services s JOIN snapshots sn ON sn.id = s.snapshot_id \
                 AND sn.granularity = 'DAILY' JOIN accounts a ON a.id = s.account_id \
                 WHERE s.date_from >= ? AND s.date_from <= ? AND {vis} \
                 GROUP BY s.service, s.date_from ORDER BY s.date_from, s.service"
            ),
            &in_days(&vis_args),
        )
        .await?;
    let rest = (to + Duration::days(1), month_end(to) + Duration::days(1));
    let mut forecast_args = vec![Val::Date(to), Val::Date(rest.0), Val::Date(rest.1)];
    forecast_args.extend(vis_args.iter().cloned());
    let forecasts: BTreeMap<String, f64> = c
        .fetch_all::<(String, f64)>(
            &format!(
                "SELECT a.account_id, CAST(SUM(cf.amount) AS DOUBLE PRECISION) \
                 FROM cost_forecasts cf JOIN cost_reports cr ON cr.id = cf.cost_report_id \
                 JOIN accounts a ON a.id = cr.account_id \
                 WHERE cr.period_granularity = 'DAILY' AND cr.period_start = ? \
                 AND cf.period_start = ? AND cf.period_end = ? AND cf.amount IS NOT NULL \
                 AND {vis} GROUP BY a.account_id"
            ),
            &forecast_args,
        )
        .await?
        .into_iter()
        .collect();

    let within = |d: Date, (a, b): (Date, Date)| a <= d && d <= b;
    let mut accounts = Vec::with_capacity(names.len());
    let mut costs: BTreeMap<&str, Vec<(Date, f64)>> = BTreeMap::new();
    for (id, day, cost) in &by_account {
        costs.entry(id.as_str()).or_default().push((*day, *cost));
    }
    for (id, name, environment) in &names {
        let days = costs.get(id.as_str()).map_or(&[][..], Vec::as_slice);
        let sum = |span: (Date, Date)| -> f64 {
            days.iter()
                .filter(|(d, _)| within(*d, span))
                .map(|(_, c)| c)
                .sum()
        };
        let month_to_date = sum(mtd);
        let loaded = |span: (Date, Date)| -> u32 {
            // One row per account and day (grouped in the query).
            days.iter().filter(|(d, _)| within(*d, span)).count() as u32
        };
        let any_this_month = days.iter().any(|(d, _)| within(*d, mtd));
        let forecast = if to == month_end(to) {
            Some(Forecast {
                month: month_to_date,
                source: ForecastSource::MonthComplete,
            })
        } else if let Some(rest) = forecasts.get(id) {
            Some(Forecast {
                month: month_to_date + rest,
                source: ForecastSource::CostExplorer,
            })
        } else if any_this_month {
            let length = f64::from(to.month().length(to.year()));
            Some(Forecast {
                month: month_to_date / f64::from(to.day()) * length,
                source: ForecastSource::RunRate,
            })
        } else {
            None
        };
        accounts.push(AccountCost {
            account_id: account_id(id)?,
            name: name.clone(),
            environment: environment.clone(),
            day_cost: days.iter().find(|(d, _)| *d == to).map(|(_, c)| *c),
            range_cost: sum((from, to)),
            month_to_date,
            previous_month_to_date: sum(previous),
            month_to_date_days: loaded(mtd),
            previous_month_to_date_days: loaded(previous),
            forecast,
        });
    }
    let daily = by_account
        .iter()
        .filter(|(_, d, _)| within(*d, (from, to)))
        .map(|(id, day, cost)| {
            Ok(DailyCost {
                day: *day,
                account_id: account_id(id)?,
                cost: *cost,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let mut services: BTreeMap<&str, ServiceCost> = BTreeMap::new();
    for (service, day, cost) in &by_service {
        let s = services
            .entry(service.as_str())
            .or_insert_with(|| ServiceCost {
                service: service.clone(),
                range_cost: 0.0,
                month_to_date: 0.0,
                previous_month_to_date: 0.0,
            });
        if within(*day, (from, to)) {
            s.range_cost += cost;
        }
        if within(*day, mtd) {
            s.month_to_date += cost;
        }
        if within(*day, previous) {
            s.previous_month_to_date += cost;
        }
    }
    let daily_services = by_service
        .iter()
        .filter(|(_, d, _)| within(*d, (from, to)))
        .map(|(service, day, cost)| DailyServiceCost {
            day: *day,
            service: service.clone(),
            cost: *cost,
        })
        .collect();

    let range_args = || {
        let mut all = vec![Val::Date(from), Val::Date(to)];
        all.extend(vis_args.iter().cloned());
        all
    };
    let marketplace = c
        .fetch_all::<(String, String, String, f64)>(
            &format!(
                "SELECT a.account_id, COALESCE(m.product_code, ''), \
                 COALESCE(m.product_name, m.product_code, ''), \
                 CAST(COALESCE(SUM(m.cost_consumed), 0) AS DOUBLE PRECISION) \
                 FROM marketplace_usage m JOIN snapshots sn ON sn.id = m.snapshot_id \
                 AND sn.granularity = 'DAILY' JOIN accounts a ON a.id = m.account_id \
                 WHERE m.period_start >= ? AND m.period_start <= ? AND {vis} \
                 GROUP BY a.account_id, COALESCE(m.product_code, ''), \
                 COALESCE(m.product_name, m.product_code, '') \
                 ORDER BY a.account_id, COALESCE(m.product_code, '')"
            ),
            &range_args(),
        )
        .await?
        .into_iter()
        .map(|(id, product_code, product_name, cost)| {
            Ok(MarketplaceCost {
                account_id: account_id(&id)?,
                product_code,
                product_name,
                cost,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    type SavingRow = (String, String, String, i64, Option<f64>, f64, f64, f64);
    let savings = c
        .fetch_all::<SavingRow>(
            &format!(
                "SELECT a.account_id, r.reservation_type, r.subscription_id, COUNT(*), \
                 CAST(AVG(r.utilization_percentage) AS DOUBLE PRECISION), \
                 CAST(COALESCE(SUM(r.on_demand_cost), 0) AS DOUBLE PRECISION), \
                 CAST(COALESCE(SUM(r.reservation_cost), 0) AS DOUBLE PRECISION), \
                 CAST(COALESCE(SUM(r.net_savings), 0) AS DOUBLE PRECISION) \
                 FROM ri_sp_daily_savings r JOIN snapshots sn ON sn.id = r.snapshot_id \
                 AND sn.granularity = 'DAILY' JOIN accounts a ON a.id = r.account_id \
                 WHERE r.date >= ? AND r.date <= ? AND {vis} \
                 GROUP BY a.account_id, r.reservation_type, r.subscription_id \
                 ORDER BY a.account_id, r.reservation_type, r.subscription_id"
            ),
            &range_args(),
        )
        .await?
        .into_iter()
        .map(
            |(id, reservation_type, subscription_id, days, util, od, rc, net)| {
                Ok(Saving {
                    account_id: account_id(&id)?,
                    reservation_type,
                    subscription_id,
                    days: u64::try_from(days).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    utilization: util,
                    on_demand_cost: od,
                    reservation_cost: rc,
                    net_savings: net,
                })
            },
        )
        .collect::<Result<_, sqlx::Error>>()?;
    let snapshots = format!(
        "SELECT sn.id FROM snapshots sn JOIN accounts a ON a.id = sn.account_id \
         WHERE sn.granularity = 'DAILY' AND sn.period_start >= ? AND sn.period_start <= ? \
         AND {vis}"
    );
    let marketplace_collection =
        Collection::read(c, "marketplace_status", &snapshots, &range_args()).await?;
    let savings_collection =
        Collection::read(c, "ri_sp_savings_status", &snapshots, &range_args()).await?;
    Ok(CostReport {
        range: Some(range),
        accounts,
        daily,
        services: services.into_values().collect(),
        daily_services,
        marketplace,
        marketplace_collection,
        savings,
        savings_collection,
    })
}

#[cfg(test)]
mod tests {
    use super::month_end;
    use time::macros::date;

    #[test]
    fn a_month_ends_on_its_own_last_day() {
        assert_eq!(month_end(date!(2026 - 02 - 10)), date!(2026 - 02 - 28));
        assert_eq!(month_end(date!(2028 - 02 - 29)), date!(2028 - 02 - 29));
        assert_eq!(month_end(date!(2026 - 12 - 31)), date!(2026 - 12 - 31));
    }
}
