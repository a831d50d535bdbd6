//! The A360 sender's periods (its `get_date`), which its Cost Explorer and Config requests
//! use instead of the file's window ([`SnapshotLocation::period`]): the same for DAILY, but
//! MONTHLY ends on the month's last day rather than the next month's first.
//!
//! [`SnapshotLocation::period`]: orgwatch_model::SnapshotLocation::period

use orgwatch_model::Granularity;
use time::{Date, Duration};

/// The sender's periods for a run on one date (`current` is also its Config period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    /// The file's granularity (CE's, and `period.granularity`).
    pub granularity: Granularity,
    /// `[start, end)` of the current period, as sent to CE.
    pub current: (Date, Date),
    /// `[start, end)` of the previous period: as many days (the sender's `days`) before.
    pub previous: (Date, Date),
    /// `[start, end)` of the forecast: the current period's end to the run date + 30 days.
    pub forecast: (Date, Date),
}

impl Periods {
    /// The sender's `get_date` for a run on `run_date`: DAILY the day before; WEEKLY Monday
    /// to Sunday; MONTHLY the 1st to the last day; YEARLY 1 January to 31 December.
    pub fn of(run_date: Date, granularity: Granularity) -> Periods {
        let (start, end, days) = match granularity {
            Granularity::Daily => (run_date - Duration::days(1), run_date, 1),
            Granularity::Weekly => {
                let start = run_date
                    - Duration::days(i64::from(run_date.weekday().number_days_from_monday()));
                (start, start + Duration::days(6), 7)
            }
            Granularity::Monthly => {
                let start = run_date - Duration::days(i64::from(run_date.day()) - 1);
                let length = i64::from(start.month().length(start.year()));
                (start, start + Duration::days(length - 1), length)
            }
            Granularity::Yearly => {
                let start = run_date - Duration::days(i64::from(run_date.ordinal()) - 1);
                let length = i64::from(time::util::days_in_year(start.year()));
                (start, start + Duration::days(length - 1), length)
            }
        };
        Periods {
            granularity,
            current: (start, end),
            previous: (start - Duration::days(days), start),
            forecast: (end, run_date + Duration::days(30)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn daily_is_the_day_before_the_run_against_the_day_before_that() {
        let p = Periods::of(date!(2026 - 11 - 24), Granularity::Daily);
        assert_eq!(p.current, (date!(2026 - 11 - 23), date!(2026 - 11 - 24)));
        assert_eq!(p.previous, (date!(2026 - 11 - 22), date!(2026 - 11 - 23)));
        assert_eq!(p.forecast, (date!(2026 - 11 - 24), date!(2026 - 12 - 24)));
    }

    #[test]
    fn monthly_ends_on_the_last_day_and_looks_back_as_many_days_as_the_month_has() {
        // As the genuine sample: period 2026-11-01 .. 2026-11-30 (CE leaves the 30th out).
        let p = Periods::of(date!(2026 - 11 - 24), Granularity::Monthly);
        assert_eq!(p.current, (date!(2026 - 11 - 01), date!(2026 - 11 - 30)));
        assert_eq!(p.previous, (date!(2026 - 10 - 02), date!(2026 - 11 - 01)));
        assert_eq!(p.forecast, (date!(2026 - 11 - 30), date!(2026 - 12 - 24)));
        let feb = Periods::of(date!(2028 - 02 - 10), Granularity::Monthly);
        assert_eq!(feb.current, (date!(2028 - 02 - 01), date!(2028 - 02 - 29)));
        assert_eq!(feb.previous.0, date!(2028 - 01 - 03));
    }
}
