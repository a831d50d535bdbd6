//! Decoding CloudTrail in the forms it is delivered in, into a [`Report`].
//!
//! The form is detected from the first bytes, never from the file name:
//!
//! - gzip (magic `1f 8b`) is decompressed first (multi-member gzip too), then:
//! - an S3 log file `{"Records": [...]}` is **streamed**: the `Records` array is read one
//!   record at a time, so a log file of any size is never held in memory whole;
//! - an EventBridge envelope `{"detail-type": "AWS API Call via CloudTrail", "detail": {event}}`
//!   (any `… via CloudTrail` type) decodes its `detail`; an envelope of another type is skipped
//!   as `eventbridge-other`;
//! - a raw event object, a JSON array of events or envelopes, and several values one after the
//!   other (NDJSON, one per line, or concatenated pretty-printed objects) are all read.
//!
//! Records are read by a fast path where possible: the stream is cut into whole values
//! ([`crate::frame`]), and a record's slice is read straight into the fields an event needs
//! (`fast`), checked as strictly as a `serde_json::Value` but without building one; digests,
//! envelopes and records without `eventID` take the `Map` path ([`ActivityEvent::from_cloudtrail`]).
//!
//! When the first line of the input is a complete JSON value, the input is read **line by
//! line** (NDJSON): a line that is not JSON counts as one undecodable record and reading goes
//! on with the next line. Otherwise the input is read as a stream of JSON values (this is how
//! a multi-line or single-line log file is streamed); invalid JSON after the first record ends
//! the file with one undecodable record counted, the records before it kept.
//!
//! Recognised and skipped, never an error: CloudTrail digest files (`digestStartTime`, or a
//! path containing `CloudTrail-Digest` in [`decode_file`]) as `digest`, and Insight events
//! (`eventCategory: "Insight"` or `insightDetails`) as `insight`. A record that is not an
//! object, lacks `eventTime`, `eventSource` or `eventName`, or has an unreadable time is counted
//! as undecodable, with the first few reasons kept. Only input that is not JSON from its first
//! value on (or cannot be read at all) is a [`DecodeError`].

use crate::fast::{self, Fast};
use crate::frame::{self, Framer};
use crate::report::Report;
use crate::sink::Sink;
use orgwatch_model::ActivityEvent;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::{Map, Value};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Bytes looked at to detect the form (and the most the first NDJSON line may take to be
/// recognised as one).
const PEEK: usize = 64 * 1024;

/// Input that could not be decoded at all (nothing in it was counted).
///
/// Each variant prints its cause in its own message and has no `source()`, so a chain
/// (`{:#}`) names it once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input could not be read (including a corrupt gzip stream).
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    /// The input is not JSON from its first value on.
    #[error("not CloudTrail JSON: {0}")]
    NotJson(serde_json::Error),
}

impl From<std::io::Error> for DecodeError {
    fn from(e: std::io::Error) -> DecodeError {
        DecodeError::Io(e)
    }
}

/// Decodes an in-memory file (plain or gzip).
pub fn decode_bytes(bytes: &[u8]) -> Result<Report, DecodeError> {
    decode_reader(bytes)
}

/// Decodes a file. A path containing `CloudTrail-Digest` (the S3 key layout of digest files) is
/// counted as one skipped `digest` without being read. Undecodable reasons name the file.
pub fn decode_file(path: &Path) -> Result<Report, DecodeError> {
    let mut report = Report::new();
    decode_file_into(path, &mut report)?;
    Ok(report)
}

/// Decodes a byte stream (plain or gzip) without holding it whole in memory.
pub fn decode_reader<R: Read>(reader: R) -> Result<Report, DecodeError> {
    let mut report = Report::new();
    decode_reader_into(reader, &mut report)?;
    Ok(report)
}

/// [`decode_file`] into any [`Sink`]. On an error the sink may already hold records of the
/// file (a corrupt gzip member after good ones); callers that need all or nothing decode
/// into a buffer first.
pub fn decode_file_into(path: &Path, sink: &mut dyn Sink) -> Result<(), DecodeError> {
    if path.to_string_lossy().contains("CloudTrail-Digest") {
        sink.skipped("digest");
        return Ok(());
    }
    let file = File::open(path)?;
    let mut named = NamedSink { path, inner: sink };
    decode_reader_into(file, &mut named)
}

/// [`decode_reader`] into any [`Sink`].
pub fn decode_reader_into<R: Read>(reader: R, sink: &mut dyn Sink) -> Result<(), DecodeError> {
    let mut sink = Counted {
        records: 0,
        inner: sink,
    };
    let mut raw = BufReader::with_capacity(PEEK, reader);
    let head = raw.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(raw);
        decode_plain(BufReader::with_capacity(PEEK, gz), &mut sink)
    } else {
        decode_plain(raw, &mut sink)
    }
}

/// Prefixes undecodable reasons with the file's path.
struct NamedSink<'a> {
    path: &'a Path,
    inner: &'a mut dyn Sink,
}

impl Sink for NamedSink<'_> {
    fn event(&mut self, ev: ActivityEvent) {
        self.inner.event(ev);
    }
    fn undecodable(&mut self, reason: String) {
        self.inner
            .undecodable(format!("{}: {reason}", self.path.display()));
    }
    fn skipped(&mut self, kind: &str) {
        self.inner.skipped(kind);
    }
}

/// Counts the records of one input, whatever the sink already holds.
struct Counted<'a> {
    records: u64,
    inner: &'a mut dyn Sink,
}

impl Sink for Counted<'_> {
    fn event(&mut self, ev: ActivityEvent) {
        self.records += 1;
        self.inner.event(ev);
    }
    fn undecodable(&mut self, reason: String) {
        self.records += 1;
        self.inner.undecodable(reason);
    }
    fn skipped(&mut self, kind: &str) {
        self.records += 1;
        self.inner.skipped(kind);
    }
}

fn decode_plain<R: BufRead>(mut r: R, report: &mut Counted) -> Result<(), DecodeError> {
    // Skip leading whitespace and a UTF-8 byte order mark.
    let mut first = true;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let bom = if first && buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        first = false;
        let n = bom
            + buf[bom..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        let all = n == buf.len();
        r.consume(n);
        if !all {
            break;
        }
    }
    let buf = r.fill_buf()?;
    let line_mode = buf[0] == b'{'
        && buf
            .iter()
            .position(|&b| b == b'\n')
            .is_some_and(|i| serde_json::from_slice::<IgnoredAny>(&buf[..i]).is_ok());
    if line_mode {
        return decode_lines(r, report);
    }
    match stream(Framer::new(r), report) {
        Ok(()) => Ok(()),
        Err(Fail::Io(e)) if report.records == 0 => Err(DecodeError::Io(e)),
        Err(Fail::Json(e)) if report.records == 0 => Err(if e.is_io() {
            DecodeError::Io(e.into())
        } else {
            DecodeError::NotJson(e)
        }),
        Err(e) => {
            let n = report.records;
            report.undecodable(format!("invalid JSON after {n} records: {e}"));
            Ok(())
        }
    }
}

/// Why reading a stream of JSON values stopped early.
#[derive(Debug)]
enum Fail {
    Io(std::io::Error),
    Json(serde_json::Error),
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Fail::Io(e) => e.fmt(f),
            Fail::Json(e) => e.fmt(f),
        }
    }
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Self {
        Fail::Io(e)
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Self {
        Fail::Json(e)
    }
}

fn syntax(msg: &str) -> Fail {
    Fail::Json(de::Error::custom(msg))
}

/// serde_json's nesting limit: a value may be nested at most this deep in its document.
const MAX_DEPTH: u32 = 128;

/// The next whole value of `f` (after `peek`), nested `enclosing` deep in its document.
fn next_value<R: Read>(f: &mut Framer<R>, enclosing: u32) -> Result<&[u8], Fail> {
    match f.value()? {
        Some((_, depth)) if enclosing + depth >= MAX_DEPTH => {
            Err(syntax("recursion limit exceeded"))
        }
        Some((v, _)) => Ok(f.get(v)),
        // The stream ends inside the value: serde_json says where and why.
        None => Err(match serde_json::from_slice::<IgnoredAny>(f.rest()) {
            Err(e) => Fail::Json(e),
            Ok(_) => syntax("EOF while parsing a value"),
        }),
    }
}

/// Runs the `Map` path (serde_json `Value`s) over one whole value.
fn slow<'a>(seed: impl DeserializeSeed<'a, Value = ()>, slice: &'a [u8]) -> Result<(), Fail> {
    let mut de = serde_json::Deserializer::from_slice(slice);
    seed.deserialize(&mut de)?;
    de.end()?;
    Ok(())
}

/// One element of `Records` or of a top-level array.
fn element(slice: &[u8], sink: &mut dyn Sink) -> Result<(), Fail> {
    if slice.first() == Some(&b'{') {
        match fast::record(slice, sink) {
            Fast::Done => return Ok(()),
            Fast::Invalid(e) => return Err(Fail::Json(e)),
            Fast::Slow => {}
        }
    }
    slow(ElementSeed(sink), slice)
}

/// After a value inside an array or object: `,` (more follow) or the closing byte.
fn more_after<R: Read>(f: &mut Framer<R>, close: u8) -> Result<bool, Fail> {
    match f.peek()? {
        Some(b',') => {
            f.consume(1);
            Ok(true)
        }
        Some(b) if b == close => {
            f.consume(1);
            Ok(false)
        }
        Some(_) => Err(syntax(if close == b']' {
            "expected `,` or `]`"
        } else {
            "expected `,` or `}`"
        })),
        None => Err(syntax("EOF while parsing a value")),
    }
}

/// The elements of an array whose `[` is next, each handed whole to `each`.
fn array<R: Read>(
    f: &mut Framer<R>,
    enclosing: u32,
    sink: &mut dyn Sink,
    each: fn(&[u8], &mut dyn Sink) -> Result<(), Fail>,
) -> Result<(), Fail> {
    f.consume(1);
    if f.peek()? == Some(b']') {
        f.consume(1);
        return Ok(());
    }
    loop {
        match f.peek()? {
            None => return Err(syntax("EOF while parsing a list")),
            Some(b']') => return Err(syntax("trailing comma")),
            Some(_) => {}
        }
        each(next_value(f, enclosing + 1)?, sink)?;
        if !more_after(f, b']')? {
            return Ok(());
        }
    }
}

/// Reads JSON values one after the other until the end of the input: objects and arrays are
/// streamed (a log file's `Records` element by element), each record parsed from its own
/// slice. A top-level scalar hands the rest of the input to serde_json's reader.
fn stream<R: Read>(mut f: Framer<R>, sink: &mut dyn Sink) -> Result<(), Fail> {
    loop {
        match f.peek()? {
            None => return Ok(()),
            Some(b'{') => top_object(&mut f, sink)?,
            Some(b'[') => array(&mut f, 0, sink, element)?,
            Some(_) => {
                let (head, rest) = f.into_parts();
                let mut de =
                    serde_json::Deserializer::from_reader(std::io::Cursor::new(head).chain(rest));
                return Ok(values(&mut de, sink)?);
            }
        }
    }
}

/// A top-level object whose `{` is next: a log file (its `Records` streamed), or an event, an
/// envelope or a digest (read whole), as [`TopVisitor`] reads them.
fn top_object<R: Read>(f: &mut Framer<R>, sink: &mut dyn Sink) -> Result<(), Fail> {
    f.consume(1);
    let mut rest = Map::new();
    let mut had_records = false;
    if f.peek()? == Some(b'}') {
        f.consume(1);
    } else {
        loop {
            match f.peek()? {
                Some(b'"') => {}
                Some(b'}') => return Err(syntax("trailing comma")),
                Some(_) => return Err(syntax("key must be a string")),
                None => return Err(syntax("EOF while parsing an object")),
            }
            let key: String = serde_json::from_slice(next_value(f, 1)?)?;
            match f.peek()? {
                Some(b':') => f.consume(1),
                Some(_) => return Err(syntax("expected `:`")),
                None => return Err(syntax("EOF while parsing an object")),
            }
            match f.peek()? {
                None => return Err(syntax("EOF while parsing a value")),
                Some(b'[') if key == "Records" && !had_records => {
                    had_records = true;
                    array(f, 1, sink, element)?;
                }
                Some(_) if key == "Records" && !had_records => {
                    had_records = true;
                    slow(RecordsSeed(sink), next_value(f, 1)?)?;
                }
                Some(_) => {
                    let v: Value = serde_json::from_slice(next_value(f, 1)?)?;
                    rest.insert(key, v);
                }
            }
            if !more_after(f, b'}')? {
                break;
            }
        }
    }
    if !had_records {
        handle_object(rest, sink);
    }
    Ok(())
}

fn decode_lines<R: BufRead>(mut r: R, report: &mut dyn Sink) -> Result<(), DecodeError> {
    let mut line = Vec::new();
    let mut lineno = 0u64;
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                report.undecodable(format!("line {}: cannot read: {e}", lineno + 1));
                return Ok(());
            }
        }
        lineno += 1;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        if text[0] == b'{' && frame::value_len(text).is_some_and(|(n, _)| n == text.len()) {
            if let Fast::Done = fast::record(text, report) {
                continue;
            }
        }
        let mut de = serde_json::Deserializer::from_slice(text);
        if let Err(e) = values(&mut de, report) {
            report.undecodable(format!("line {lineno}: invalid JSON: {e}"));
        }
    }
}

/// Reads JSON values one after the other until the end of the input.
fn values<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    report: &mut dyn Sink,
) -> Result<(), serde_json::Error> {
    loop {
        TopSeed(report).deserialize(&mut *de)?;
        // `end` only looks past whitespace: on trailing input the next value starts there.
        if de.end().is_ok() {
            return Ok(());
        }
    }
}

/// What kind of JSON value this is, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A top-level value: a log file object (whose `Records` are streamed), an event, an envelope,
/// a digest, or an array of those.
struct TopSeed<'a>(&'a mut dyn Sink);

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(TopVisitor(self.0))
    }
}

struct TopVisitor<'a>(&'a mut dyn Sink);

/// Counts a top-level or `Records` value that is neither an object nor an array.
macro_rules! scalar_is_undecodable {
    ($what:literal) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            self.0
                .undecodable(concat!($what, " is a boolean").to_owned());
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            self.0
                .undecodable(concat!($what, " is a number").to_owned());
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            self.0
                .undecodable(concat!($what, " is a number").to_owned());
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            self.0
                .undecodable(concat!($what, " is a number").to_owned());
            Ok(())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            self.0
                .undecodable(concat!($what, " is a string").to_owned());
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            self.0.undecodable(concat!($what, " is null").to_owned());
            Ok(())
        }
    };
}

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail log file, event, EventBridge envelope or array of events")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rest = Map::new();
        let mut had_records = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" && !had_records {
                had_records = true;
                map.next_value_seed(RecordsSeed(&mut *self.0))?;
            } else {
                let v: Value = map.next_value()?;
                rest.insert(key, v);
            }
        }
        if !had_records {
            handle_object(rest, self.0);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ElementSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }

    scalar_is_undecodable!("the top-level JSON value");
}

/// The value of a log file's `Records`: streamed element by element.
struct RecordsSeed<'a>(&'a mut dyn Sink);

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(RecordsVisitor(self.0))
    }
}

struct RecordsVisitor<'a>(&'a mut dyn Sink);

impl<'de> Visitor<'de> for RecordsVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ElementSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.0
            .undecodable("Records is an object, not an array".to_owned());
        Ok(())
    }

    scalar_is_undecodable!("Records");
}

/// One element of `Records` or of a top-level array: one record, read whole.
struct ElementSeed<'a>(&'a mut dyn Sink);

impl<'de> DeserializeSeed<'de> for ElementSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match Value::deserialize(d)? {
            Value::Object(m) => handle_object(m, self.0),
            other => self
                .0
                .undecodable(format!("record is {}, not an object", kind(&other))),
        }
        Ok(())
    }
}

/// A digest file's top-level object.
fn is_digest(m: &Map<String, Value>) -> bool {
    m.contains_key("digestStartTime")
        || m.contains_key("digestEndTime")
        || (m.contains_key("awsAccountId") && m.contains_key("logFiles"))
}

/// An object that is an event, an EventBridge envelope or a digest.
fn handle_object(mut m: Map<String, Value>, report: &mut dyn Sink) {
    if is_digest(&m) {
        report.skipped("digest");
        return;
    }
    if m.contains_key("detail-type") && m.contains_key("detail") {
        let cloudtrail = m
            .get("detail-type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("via CloudTrail"));
        match m.remove("detail") {
            Some(Value::Object(detail)) if cloudtrail => handle_event(detail, report),
            Some(other) if cloudtrail => report.undecodable(format!(
                "EventBridge detail is {}, not an object",
                kind(&other)
            )),
            _ => report.skipped("eventbridge-other"),
        }
        return;
    }
    handle_event(m, report);
}

/// One CloudTrail record.
fn handle_event(m: Map<String, Value>, report: &mut dyn Sink) {
    let insight = m.get("eventCategory").and_then(Value::as_str) == Some("Insight")
        || m.contains_key("insightDetails");
    if insight {
        report.skipped("insight");
        return;
    }
    match ActivityEvent::from_cloudtrail(&m) {
        Ok(ev) => report.event(ev),
        Err(e) => report.undecodable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_read_error_is_named_once_in_its_chain() {
        let e = super::DecodeError::from(std::io::Error::other("disk gone"));
        assert_eq!(e.to_string(), "cannot read: disk gone");
        assert!(
            std::error::Error::source(&e).is_none(),
            "the cause is in the message; as a source too it would print twice"
        );
    }

    use super::*;

    const EV: &str = r#"{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{"type":"Root"}}"#;

    #[test]
    fn forms() {
        let records = format!("{{\"Records\":[{EV},{EV}]}}");
        assert_eq!(decode_bytes(records.as_bytes()).unwrap().events, 2);
        let pretty = format!("{{\n  \"Records\": [\n {EV},\n {EV}\n ]\n}}\n");
        assert_eq!(decode_bytes(pretty.as_bytes()).unwrap().events, 2);
        let ndjson = format!("{EV}\n{EV}\nnot json\n{EV}\n");
        let r = decode_bytes(ndjson.as_bytes()).unwrap();
        assert_eq!((r.events, r.undecodable), (3, 1));
        let array = format!("[{EV}, 3, {EV}]");
        let r = decode_bytes(array.as_bytes()).unwrap();
        assert_eq!((r.events, r.undecodable), (2, 1));
        let env = format!(r#"{{"detail-type":"AWS API Call via CloudTrail","detail":{EV}}}"#);
        assert_eq!(decode_bytes(env.as_bytes()).unwrap().events, 1);
        let other = r#"{"detail-type":"Scheduled Event","detail":{}}"#;
        assert_eq!(
            decode_bytes(other.as_bytes()).unwrap().skipped["eventbridge-other"],
            1
        );
        assert!(matches!(
            decode_bytes(b"hello"),
            Err(DecodeError::NotJson(_))
        ));
        assert_eq!(decode_bytes(b"  \n").unwrap(), Report::new());
        let truncated = format!("{{\"Records\":[{EV},{EV},{{\"event");
        let r = decode_bytes(truncated.as_bytes()).unwrap();
        assert_eq!((r.events, r.undecodable), (2, 1));
    }
}
