//! Days and instants: midnight-relative timestamps, random instants within a day, month bounds.

use orgwatch_model::Timestamp;
use rand::Rng;
use time::{Date, Duration, PrimitiveDateTime, Time};

/// Midnight UTC of `day` plus `secs` seconds.
pub(super) fn at(day: Date, secs: i64) -> Timestamp {
    Timestamp::new(
        PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_utc() + Duration::seconds(secs),
    )
}

/// A random instant within `day`.
pub(super) fn during(rng: &mut impl Rng, day: Date) -> Timestamp {
    at(day, rng.random_range(0..86_400))
}

/// A random instant on a random day `range` days before `day`.
pub(super) fn ago(rng: &mut impl Rng, day: Date, range: std::ops::Range<i64>) -> Timestamp {
    let d = day - days(rng.random_range(range));
    during(rng, d)
}

/// A random instant within `day`, between two hours of the clock.
pub(super) fn between(rng: &mut impl Rng, day: Date, from_hour: i64, to_hour: i64) -> Timestamp {
    at(day, rng.random_range(from_hour * 3600..to_hour * 3600))
}

pub(super) fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub(super) fn first_of_month(d: Date) -> Date {
    d - Duration::days(i64::from(d.day()) - 1)
}

pub(super) fn last_of_month(d: Date) -> Date {
    d + Duration::days(i64::from(d.month().length(d.year()) - d.day()))
}

pub(super) fn first_of_next_month(d: Date) -> Date {
    last_of_month(d) + days(1)
}

/// Days in `[from, to)`.
pub(super) fn day_range(from: Date, to: Date) -> impl Iterator<Item = Date> {
    let n = (to - from).whole_days().max(0);
    (0..n).map(move |i| from + days(i))
}
