//! Times as counts of seconds or milliseconds since 1970, as activity times are stored.

use crate::Timestamp;
use time::OffsetDateTime;

/// A count since 1970 that is no representable time (outside the years -9999 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeOutOfRange {
    /// Seconds since 1970.
    #[error("{0} seconds since 1970 is out of the representable time range")]
    Seconds(i64),
    /// Milliseconds since 1970.
    #[error("{0} milliseconds since 1970 is out of the representable time range")]
    Milliseconds(i64),
}

/// Milliseconds since 1970 of a timestamp (sub-millisecond digits dropped, towards 1970).
pub fn epoch_ms(t: Timestamp) -> i64 {
    // Every representable time is within ±10^4 years: its milliseconds fit an i64.
    (t.get().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The timestamp of `s` seconds since 1970.
pub fn from_epoch_s(s: i64) -> Result<Timestamp, TimeOutOfRange> {
    OffsetDateTime::from_unix_timestamp(s)
        .map(Timestamp::new)
        .map_err(|_| TimeOutOfRange::Seconds(s))
}

/// The timestamp of `ms` milliseconds since 1970.
pub fn from_epoch_ms(ms: i64) -> Result<Timestamp, TimeOutOfRange> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(Timestamp::new)
        .map_err(|_| TimeOutOfRange::Milliseconds(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = Timestamp::parse("2024-03-01T10:00:05.123Z").unwrap();
        assert_eq!(epoch_ms(t), 1_709_287_205_123);
        assert_eq!(from_epoch_ms(1_709_287_205_123), Ok(t));
        assert_eq!(
            from_epoch_s(1_709_287_205),
            Ok(Timestamp::parse("2024-03-01T10:00:05Z").unwrap())
        );
        for ms in [0, -1, -86_400_001, 253_402_300_799_999] {
            assert_eq!(epoch_ms(from_epoch_ms(ms).unwrap()), ms);
        }
        let before_1970 = Timestamp::parse("1969-12-31T23:59:59Z").unwrap();
        assert_eq!(from_epoch_s(-1), Ok(before_1970));
    }

    #[test]
    fn an_out_of_range_time_is_an_error_naming_it() {
        assert_eq!(
            from_epoch_s(i64::MAX),
            Err(TimeOutOfRange::Seconds(i64::MAX))
        );
        assert_eq!(
            from_epoch_ms(i64::MIN),
            Err(TimeOutOfRange::Milliseconds(i64::MIN))
        );
        // Year 10000 and beyond: not 1970.
        let e = from_epoch_s(253_402_300_800).unwrap_err();
        assert_eq!(
            e.to_string(),
            "253402300800 seconds since 1970 is out of the representable time range"
        );
        assert!(from_epoch_ms(253_402_300_800_000)
            .unwrap_err()
            .to_string()
            .contains("253402300800000 milliseconds"));
    }
}
