//! AWS SDK times into the model's timestamps.

use aws_sdk_sts::primitives::DateTime;
use orgwatch_model::Timestamp;
use time::OffsetDateTime;

/// An SDK time as a model timestamp (UTC); `None` for one outside `time`'s range.
pub fn timestamp(t: &DateTime) -> Option<Timestamp> {
    OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos())
        .ok()
        .map(Timestamp::new)
}

/// An optional SDK time as a model timestamp.
pub fn opt(t: Option<&DateTime>) -> Option<Timestamp> {
    t.and_then(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_instant_to_the_nanosecond() {
        let t = DateTime::from_secs_and_nanos(1_764_806_400, 123_456_789);
        let ts = timestamp(&t).map(Timestamp::get);
        assert_eq!(
            ts.map(|t| t.unix_timestamp_nanos()),
            Some(1_764_806_400_123_456_789)
        );
    }
}
