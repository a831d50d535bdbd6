//! Timestamps and dates as the A360 sender writes them (Python `isoformat`, CE dates).

use crate::lenient::Lenient;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// An instant, normalised to UTC.
///
/// Reads Python `isoformat` with or without an offset (naive times are UTC, as the sender's
/// own dates are), `Z`, `+0000`, a space instead of `T`, a bare date (midnight UTC), and epoch
/// seconds or milliseconds as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Wraps an instant, converting it to UTC.
    pub fn new(t: OffsetDateTime) -> Self {
        Timestamp(t.to_offset(UtcOffset::UTC))
    }

    /// Midnight UTC of a date.
    pub fn from_date(d: Date) -> Self {
        Timestamp(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc())
    }

    /// The instant in UTC.
    pub fn get(self) -> OffsetDateTime {
        self.0
    }

    /// Parses any of the accepted text forms.
    pub fn parse(s: &str) -> Result<Self, TimeParseError> {
        parse_timestamp(s.trim()).ok_or_else(|| TimeParseError(s.to_owned()))
    }

    /// Fixed-width UTC text (`2026-11-23T08:00:00.000000Z`): sorts and compares as text, which
    /// is how SQLite stores it.
    pub fn to_sortable_string(self) -> String {
        let t = self.0;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str(&self.to_sortable_string()),
        }
    }
}

/// Text that is not a timestamp orgwatch can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a timestamp (expected ISO 8601, e.g. 2026-11-23T08:00:00+00:00)")]
pub struct TimeParseError(String);

fn parse_timestamp(s: &str) -> Option<Timestamp> {
    if s.len() < 10 || !s.is_char_boundary(10) {
        return None;
    }
    let date = parse_date(&s[..10])?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(Timestamp::from_date(date));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    // Split the clock from the offset: the offset starts at 'Z', '+' or '-'.
    let (clock, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let time = parse_clock(clock)?;
    let offset = parse_offset(offset)?;
    Some(Timestamp::new(
        PrimitiveDateTime::new(date, time).assume_offset(offset),
    ))
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&s[0..4])? as i32;
    let month = Month::try_from(digits(&s[5..7])? as u8).ok()?;
    let day = digits(&s[8..10])? as u8;
    Date::from_calendar_date(year, month, day).ok()
}

fn parse_clock(s: &str) -> Option<Time> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let mut parts = hms.split(':');
    let h = digits(parts.next()?)? as u8;
    let m = digits(parts.next()?)? as u8;
    let sec = match parts.next() {
        Some(p) => digits(p)? as u8,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) => {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut padded: String = f.chars().take(9).collect();
            while padded.len() < 9 {
                padded.push('0');
            }
            padded.parse().ok()?
        }
    };
    Time::from_hms_nano(h, m, sec, nanos).ok()
}

fn parse_offset(s: &str) -> Option<UtcOffset> {
    match s {
        "" | "Z" | "z" => return Some(UtcOffset::UTC),
        _ => {}
    }
    let sign: i8 = if s.starts_with('-') { -1 } else { 1 };
    let body = &s[1..];
    let (h, m) = if let Some((h, m)) = body.split_once(':') {
        (h, m)
    } else if body.len() == 4 {
        (&body[..2], &body[2..])
    } else if body.len() == 2 {
        (body, "00")
    } else {
        return None;
    };
    let h = digits(h)? as i8;
    let m = digits(m)? as i8;
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<Timestamp>::de(d)? {
            Some(t) => Ok(t),
            None => Err(de::Error::custom("expected a timestamp, found null")),
        }
    }
}

impl Lenient for Option<Timestamp> {
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) if s.trim().is_empty() || s == "None" => Ok(None),
            serde_json::Value::String(s) => {
                Timestamp::parse(&s).map(Some).map_err(de::Error::custom)
            }
            serde_json::Value::Number(n) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                // Epoch milliseconds are what the AWS SDKs emit when they do not format dates.
                let secs = if v.abs() >= 1.0e11 { v / 1000.0 } else { v };
                OffsetDateTime::from_unix_timestamp_nanos((secs * 1.0e9) as i128)
                    .map(|t| Some(Timestamp::new(t)))
                    .map_err(|_| de::Error::custom(format!("epoch time {v} is out of range")))
            }
            other => Err(de::Error::custom(format!(
                "expected a timestamp, found {}",
                crate::lenient::json_kind(&other)
            ))),
        }
    }
}

/// A calendar date (`YYYY-MM-DD`, as Cost Explorer writes them); a full timestamp keeps its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub Date);

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<Day>::de(d)? {
            Some(t) => Ok(t),
            None => Err(de::Error::custom("expected a date, found null")),
        }
    }
}

impl Lenient for Option<Day> {
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<Timestamp>::de(d)?.map(|t| Day(t.get().date())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        Timestamp::parse(s).unwrap().to_sortable_string()
    }

    #[test]
    fn reads_every_form_the_sender_writes() {
        assert_eq!(
            ts("2026-11-24T00:56:36.150351+00:00"),
            "2026-11-24T00:56:36.150351Z"
        );
        assert_eq!(
            ts("2026-11-13T00:00:00.000Z"),
            "2026-11-13T00:00:00.000000Z"
        );
        assert_eq!(ts("2026-11-23T00:00:00"), "2026-11-23T00:00:00.000000Z");
        assert_eq!(
            ts("2026-01-01T02:00:00.000+0200"),
            "2026-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            ts("2026-01-01 10:30:00-05:00"),
            "2026-01-01T15:30:00.000000Z"
        );
        assert_eq!(ts("2026-11-23"), "2026-11-23T00:00:00.000000Z");
    }

    #[test]
    fn rejects_text_that_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-23T25:00:00",
            "2026-11-23Tx",
            "2026-11-23T10:00:00+5",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
