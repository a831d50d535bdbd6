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
//! line** (NDJSON). Otherwise the input is read as a stream of JSON values (this is how a
//! multi-line or single-line log file is streamed).
//!
//! **One rule for damage, in every form**: a record is cut out of the stream by its framing
//! (its brackets and strings, or its line) before it is parsed, so a record that does not
//! decode (invalid UTF-8, a bad escape, a wrong type, too deeply nested) is counted as
//! undecodable with its record index and the reason, and reading goes on with the next record.
//! A record longer than the limit (`max_record_bytes`, [`DEFAULT_MAX_RECORD_BYTES`]) is
//! skipped while it streams past, never held, and counted as undecodable and oversized with
//! its byte offset (in the decompressed stream). Only when the framing itself breaks (the
//! file ends inside a record, a gzip stream is corrupt or cut short, bytes between records
//! are not JSON) does reading stop: the records before are kept and the file is
//! [`DecodeError::Incomplete`].
//!
//! Recognised and skipped, never an error: CloudTrail digest files (`digestStartTime`, or a
//! path containing `CloudTrail-Digest` in [`decode_file`]) as `digest`, and Insight events
//! (`eventCategory: "Insight"` or `insightDetails`) as `insight`. A record that is not an
//! object, lacks `eventTime`, `eventSource` or `eventName`, or has an unreadable time is counted
//! as undecodable, with the first few reasons kept. An empty or whitespace-only input is one
//! skipped `empty` record (so a caller can say so). Input that is not JSON from its first
//! value on (or cannot be read at all) is a [`DecodeError`] too.

use crate::fast::{self, Fast};
pub use crate::frame::DEFAULT_MAX_RECORD_BYTES;
use crate::frame::{self, Framed, Framer, Line};
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
    /// The framing broke after some records (the file is cut short, its gzip stream is
    /// corrupt, or what follows a record is not JSON): the records before were decoded.
    #[error("incomplete: reading stopped after {records} records, at byte {offset}: {reason}")]
    Incomplete {
        /// Records decoded (or counted) before it.
        records: u64,
        /// Where (in the decompressed stream) reading stopped.
        offset: u64,
        /// Why.
        reason: String,
    },
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

/// [`decode_file`] into any [`Sink`], with the default record-size limit. On an error the
/// sink may already hold records of the file ([`DecodeError::Incomplete`]); callers that need
/// all or nothing decode into a buffer first.
pub fn decode_file_into(path: &Path, sink: &mut dyn Sink) -> Result<(), DecodeError> {
    decode_file_limited(path, DEFAULT_MAX_RECORD_BYTES, sink)
}

/// [`decode_file_into`] skipping records (and NDJSON lines) longer than `max_record_bytes`.
pub fn decode_file_limited(
    path: &Path,
    max_record_bytes: usize,
    sink: &mut dyn Sink,
) -> Result<(), DecodeError> {
    if path.to_string_lossy().contains("CloudTrail-Digest") {
        sink.skipped("digest");
        return Ok(());
    }
    let file = File::open(path)?;
    let mut named = NamedSink { path, inner: sink };
    decode_reader_limited(file, max_record_bytes, &mut named)
}

/// [`decode_reader`] into any [`Sink`], with the default record-size limit.
pub fn decode_reader_into<R: Read>(reader: R, sink: &mut dyn Sink) -> Result<(), DecodeError> {
    decode_reader_limited(reader, DEFAULT_MAX_RECORD_BYTES, sink)
}

/// [`decode_reader_into`] skipping records (and NDJSON lines) longer than `max_record_bytes`.
pub fn decode_reader_limited<R: Read>(
    reader: R,
    max_record_bytes: usize,
    sink: &mut dyn Sink,
) -> Result<(), DecodeError> {
    let mut sink = Counted {
        records: 0,
        max: max_record_bytes,
        inner: sink,
    };
    let mut raw = BufReader::with_capacity(PEEK, reader);
    // The gzip magic, read whole (a pipe may give one byte first).
    let mut magic = Vec::new();
    (&mut raw).take(2).read_to_end(&mut magic)?;
    let gzip = magic == [0x1f, 0x8b];
    let raw = std::io::Cursor::new(magic).chain(raw);
    if gzip {
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
    fn oversized(&mut self, reason: String) {
        self.inner
            .oversized(format!("{}: {reason}", self.path.display()));
    }
    fn skipped(&mut self, kind: &str) {
        self.inner.skipped(kind);
    }
}

/// Counts the records of one input, whatever the sink already holds.
struct Counted<'a> {
    records: u64,
    /// The record-size limit.
    max: usize,
    inner: &'a mut dyn Sink,
}

impl Counted<'_> {
    /// Counts a record skipped for its size, `at` naming it (`record 3 at byte 120`).
    fn too_long(&mut self, at: &str, len: u64) {
        let max = self.max;
        self.oversized(format!(
            "{at}: {len} bytes, longer than the limit of {max} (--max-record-bytes)"
        ));
    }

    /// `record N at byte X` for the next record, starting at `offset`.
    fn next_record(&self, offset: u64) -> String {
        format!("record {} at byte {offset}", self.records + 1)
    }
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
    fn oversized(&mut self, reason: String) {
        self.records += 1;
        self.inner.oversized(reason);
    }
    fn skipped(&mut self, kind: &str) {
        self.records += 1;
        self.inner.skipped(kind);
    }
}

/// Decodes decompressed input. The form is decided on whole bytes (a byte order mark, the
/// first line), read however the input arrives, so it never depends on how the reads cut it.
fn decode_plain<R: BufRead>(mut r: R, report: &mut Counted) -> Result<(), DecodeError> {
    // Skip a UTF-8 byte order mark, then leading whitespace.
    let mut bom = Vec::new();
    (&mut r).take(3).read_to_end(&mut bom)?;
    if bom == b"\xEF\xBB\xBF" {
        bom.clear();
    }
    let mut r = std::io::Cursor::new(bom).chain(r);
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            report.skipped("empty");
            return Ok(());
        }
        let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let all = n == buf.len();
        r.consume(n);
        if !all {
            break;
        }
    }
    // NDJSON when the first line (read up to its newline, at most PEEK bytes and the
    // record-size limit) is a whole JSON object.
    let mut head = Vec::new();
    // A read error after some bytes (a corrupt gzip stream) comes after those bytes' records,
    // as it would had the first read not stopped there.
    let failed = match (&mut r).take(PEEK as u64).read_until(b'\n', &mut head) {
        Ok(_) => None,
        Err(e) if head.is_empty() => return Err(e.into()),
        Err(e) => Some(e),
    };
    let r = Deferred { r, failed };
    let line_mode = head.first() == Some(&b'{')
        && head.len() <= report.max
        && head
            .strip_suffix(b"\n")
            .is_some_and(|line| serde_json::from_slice::<IgnoredAny>(line).is_ok());
    let r = std::io::Cursor::new(head).chain(r);
    if line_mode {
        return decode_lines(r, report);
    }
    let mut f = Framer::new(r, report.max);
    match stream(&mut f, report) {
        Ok(()) => Ok(()),
        Err(Fail::Io(e)) if report.records == 0 => Err(DecodeError::Io(e)),
        Err(Fail::Json(e)) if report.records == 0 => Err(if e.is_io() {
            DecodeError::Io(e.into())
        } else {
            DecodeError::NotJson(e)
        }),
        Err(e) => Err(DecodeError::Incomplete {
            records: report.records,
            offset: f.offset(),
            reason: e.to_string(),
        }),
    }
}

/// A reader that gives an error it met earlier before reading on.
struct Deferred<R> {
    r: R,
    failed: Option<std::io::Error>,
}

impl<R: BufRead> Read for Deferred<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match self.failed.take() {
            Some(e) => Err(e),
            None => self.r.read(out),
        }
    }
}

impl<R: BufRead> BufRead for Deferred<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self.failed.take() {
            Some(e) => Err(e),
            None => self.r.fill_buf(),
        }
    }
    fn consume(&mut self, n: usize) {
        self.r.consume(n);
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

/// A value taken whole by [`next_value`], or why it was not.
enum Next<'a> {
    /// The value's bytes.
    Value(&'a [u8]),
    /// Nested deeper than serde_json reads (its end was found all the same).
    TooDeep,
    /// Longer than the limit: skipped.
    Oversized {
        /// Its first byte's offset in the stream.
        offset: u64,
        /// Its length.
        len: u64,
    },
}

/// The next whole value of `f` (after `peek`), nested `enclosing` deep in its document. An
/// error means the framing broke (the stream ends inside the value).
fn next_value<R: Read>(f: &mut Framer<R>, enclosing: u32) -> Result<Next<'_>, Fail> {
    match f.value()? {
        Some(Framed::Value(_, depth)) if enclosing + depth >= MAX_DEPTH => Ok(Next::TooDeep),
        Some(Framed::Value(v, _)) => Ok(Next::Value(f.get(v))),
        Some(Framed::Oversized { offset, len }) => Ok(Next::Oversized { offset, len }),
        // The stream ends inside the value: serde_json says where and why.
        None => Err(match serde_json::from_slice::<IgnoredAny>(f.rest()) {
            Err(e) => Fail::Json(e),
            Ok(_) => syntax("EOF while parsing a value"),
        }),
    }
}

/// The next value of `f` as one record: handed to `each`, or counted as undecodable or
/// oversized (naming its index and offset) when it cannot be read. The framing found its
/// end, so the next record is read whatever happened to this one.
fn record<R: Read>(
    f: &mut Framer<R>,
    enclosing: u32,
    sink: &mut Counted,
    each: fn(&[u8], &mut dyn Sink) -> Result<(), Fail>,
) -> Result<(), Fail> {
    let at = f.offset();
    match next_value(f, enclosing)? {
        Next::Value(v) => {
            if let Err(e) = each(v, sink) {
                let name = sink.next_record(at);
                sink.undecodable(format!("{name}: {e}"));
            }
        }
        Next::TooDeep => {
            let name = sink.next_record(at);
            sink.undecodable(format!("{name}: recursion limit exceeded"));
        }
        Next::Oversized { offset, len } => sink.too_long(&sink.next_record(offset), len),
    }
    Ok(())
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

/// The elements of an array whose `[` is next, each a [`record`].
fn array<R: Read>(
    f: &mut Framer<R>,
    enclosing: u32,
    sink: &mut Counted,
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
        record(f, enclosing + 1, sink, each)?;
        if !more_after(f, b']')? {
            return Ok(());
        }
    }
}

/// Reads JSON values one after the other until the end of the input: objects and arrays are
/// streamed (a log file's `Records` element by element), each record parsed from its own
/// slice. A top-level scalar is one undecodable record; bytes that are not JSON at all end
/// the stream (an error).
fn stream<R: Read>(f: &mut Framer<R>, sink: &mut Counted) -> Result<(), Fail> {
    loop {
        match f.peek()? {
            None => return Ok(()),
            Some(b'{') => top_object(f, sink)?,
            Some(b'[') => array(f, 0, sink, element)?,
            Some(_) => {
                let at = f.offset();
                match next_value(f, 0)? {
                    Next::Value(v) => slow(TopSeed(sink), v)?,
                    // A scalar has no nesting.
                    Next::TooDeep => {}
                    Next::Oversized { len, .. } => sink.too_long(&sink.next_record(at), len),
                }
            }
        }
    }
}

/// Why a top-level object is not read as a record although its framing is whole.
enum Damage {
    /// A value in it does not decode.
    Invalid(String),
    /// It (or one of its values) is longer than the limit.
    Oversized(u64),
}

/// A top-level object whose `{` is next: a log file (its `Records` streamed), or an event, an
/// envelope or a digest (read whole, as [`TopVisitor`] reads them). An object whose keys
/// and values are framed but do not decode, or hold more than the limit together, is one
/// undecodable (or oversized) record; its end is still found, and the next value read.
fn top_object<R: Read>(f: &mut Framer<R>, sink: &mut Counted) -> Result<(), Fail> {
    let at = f.offset();
    f.consume(1);
    let mut rest = Map::new();
    let mut had_records = false;
    let mut damaged: Option<Damage> = None;
    // Bytes of the values held in `rest`: bounded by the limit like any record.
    let mut held = 0u64;
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
            let key: String = match next_value(f, 1)? {
                Next::Value(v) => serde_json::from_slice(v).unwrap_or_else(|e| {
                    damaged.get_or_insert(Damage::Invalid(e.to_string()));
                    String::new()
                }),
                Next::TooDeep => String::new(),
                Next::Oversized { len, .. } => {
                    damaged.get_or_insert(Damage::Oversized(len));
                    String::new()
                }
            };
            match f.peek()? {
                Some(b':') => f.consume(1),
                Some(_) => return Err(syntax("expected `:`")),
                None => return Err(syntax("EOF while parsing an object")),
            }
            let records = key == "Records" && !had_records;
            match f.peek()? {
                None => return Err(syntax("EOF while parsing a value")),
                Some(b'[') if records => {
                    had_records = true;
                    array(f, 1, sink, element)?;
                }
                Some(_) => match next_value(f, 1)? {
                    Next::Value(v) if records => {
                        had_records = true;
                        if let Err(e) = slow(RecordsSeed(sink), v) {
                            damaged.get_or_insert(Damage::Invalid(e.to_string()));
                        }
                    }
                    Next::Value(_) if damaged.is_some() => {}
                    Next::Value(v) => {
                        held += v.len() as u64;
                        if held > sink.max as u64 {
                            damaged = Some(Damage::Oversized(held));
                            rest.clear();
                        } else {
                            match serde_json::from_slice::<Value>(v) {
                                Ok(v) => {
                                    rest.insert(key, v);
                                }
                                Err(e) => damaged = Some(Damage::Invalid(e.to_string())),
                            }
                        }
                    }
                    Next::TooDeep => {
                        damaged.get_or_insert(Damage::Invalid("recursion limit exceeded".into()));
                    }
                    Next::Oversized { len, .. } => {
                        damaged.get_or_insert(Damage::Oversized(len));
                    }
                },
            }
            if !more_after(f, b'}')? {
                break;
            }
        }
    }
    match damaged {
        None if !had_records => handle_object(rest, sink),
        None => {}
        Some(Damage::Invalid(e)) => {
            let name = sink.next_record(at);
            sink.undecodable(format!("{name}: {e}"));
        }
        Some(Damage::Oversized(len)) => sink.too_long(&sink.next_record(at), len),
    }
    Ok(())
}

/// NDJSON: each line is read (at most the record-size limit of it held) and decoded on its
/// own; a line that does not decode is one undecodable record.
fn decode_lines<R: BufRead>(mut r: R, report: &mut Counted) -> Result<(), DecodeError> {
    let mut line = Vec::new();
    let mut lineno = 0u64;
    let mut offset = 0u64;
    loop {
        let read = match frame::read_line(&mut r, &mut line, report.max) {
            Ok(read) => read,
            Err(e) if report.records == 0 => return Err(DecodeError::Io(e)),
            Err(e) => {
                return Err(DecodeError::Incomplete {
                    records: report.records,
                    offset,
                    reason: format!("line {}: cannot read: {e}", lineno + 1),
                })
            }
        };
        lineno += 1;
        match read {
            Line::End => return Ok(()),
            Line::Read => offset += line.len() as u64,
            Line::Oversized(len) => {
                report.too_long(&format!("line {lineno} at byte {offset}"), len);
                // The newline, when there was one, is not in `len`.
                offset += len + 1;
                continue;
            }
        }
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
        assert_eq!(decode_bytes(b"  \n").unwrap().skipped["empty"], 1);
        assert_eq!(decode_bytes(b"").unwrap().skipped["empty"], 1);
    }

    #[test]
    fn a_file_cut_short_keeps_its_records_and_is_incomplete() {
        let truncated = format!("{{\"Records\":[{EV},{EV},{{\"event");
        let mut r = Report::new();
        let e = decode_reader_into(truncated.as_bytes(), &mut r).unwrap_err();
        assert_eq!(r.events, 2);
        assert!(
            matches!(
                e,
                DecodeError::Incomplete {
                    records: 2,
                    offset: 262,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "incomplete: reading stopped after 2 records, at byte 262: EOF while parsing a \
             string at line 1 column 7"
        );
    }

    /// `n` records with `bad` as record `at` (from 1), in each delivered form: a log file,
    /// NDJSON, EventBridge envelopes one after the other, a JSON array.
    fn forms_with(n: usize, at: usize, bad: &str) -> Vec<(&'static str, String)> {
        let recs: Vec<&str> = (1..=n).map(|i| if i == at { bad } else { EV }).collect();
        let env =
            |r: &str| format!(r#"{{"detail-type":"AWS API Call via CloudTrail","detail":{r}}}"#);
        vec![
            ("log file", format!("{{\"Records\":[{}]}}", recs.join(","))),
            (
                "pretty log file",
                format!("{{\n \"Records\": [\n  {}\n ]\n}}\n", recs.join(",\n  ")),
            ),
            ("NDJSON", recs.join("\n")),
            (
                "EventBridge",
                recs.iter().map(|r| env(r)).collect::<Vec<_>>().join(""),
            ),
            ("array", format!("[{}]", recs.join(","))),
        ]
    }

    #[test]
    fn a_damaged_record_is_one_undecodable_record_in_every_form_wherever_it_is() {
        let bad_utf8 = EV.replace("GetObject", "Get\u{FFFF}Object");
        let bad = [
            bad_utf8.as_str(),
            r#"{"eventTime":"2023-07-10T11:41:05Z","eventSource":"s3.amazonaws.com","eventName":"x\q"}"#,
            r#"{"eventTime":"yesterday","eventSource":"s3","eventName":"GetObject"}"#,
        ];
        for bad in bad {
            for at in [1, 5, 31] {
                for (form, text) in forms_with(31, at, bad) {
                    // An invalid UTF-8 byte in place of the marker.
                    let bytes: Vec<u8> = text
                        .replace('\u{FFFF}', "\u{1}")
                        .bytes()
                        .map(|b| if b == 1 { 0xff } else { b })
                        .collect();
                    let r = decode_bytes(&bytes).unwrap_or_else(|e| panic!("{form}, {at}: {e}"));
                    assert_eq!(
                        (r.events, r.undecodable),
                        (30, 1),
                        "{form}, record {at}: {bad}"
                    );
                }
            }
        }
    }

    /// Found by the `framer` fuzz target: the form (NDJSON or not) and the byte order mark
    /// were decided on the bytes of the first read, so a trickling input decoded otherwise.
    #[test]
    fn the_form_does_not_depend_on_how_the_reads_cut_the_input() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(out.len()).min(1);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let log = format!("\u{FEFF}{{\"Records\":[{EV}]}}\n{EV}\n");
        for max in [40, DEFAULT_MAX_RECORD_BYTES] {
            let (mut whole, mut trickled) = (Report::new(), Report::new());
            decode_reader_limited(log.as_bytes(), max, &mut whole).unwrap();
            decode_reader_limited(Trickle(log.as_bytes()), max, &mut trickled).unwrap();
            assert_eq!(whole, trickled, "limit {max}");
        }
        // A gzip stream cut short: the error comes after the records before it either way.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let log = format!("{{\"Records\":[{EV},{EV},{EV}]}}");
        std::io::Write::write_all(&mut gz, log.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let cut = &gz[..gz.len() * 3 / 4];
        let outcome = |r: &mut dyn Read| {
            let mut report = Report::new();
            let e = decode_reader_limited(r, 40, &mut report).map_err(|e| e.to_string());
            (report, e)
        };
        assert_eq!(outcome(&mut &cut[..]), outcome(&mut Trickle(cut)));
    }

    #[test]
    fn a_record_longer_than_the_limit_is_skipped_in_every_form() {
        let long = EV.replace("Root", &"r".repeat(5000));
        for (form, text) in forms_with(31, 5, &long) {
            let mut r = Report::new();
            decode_reader_limited(text.as_bytes(), 2000, &mut r)
                .unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!((r.events, r.undecodable, r.oversized), (30, 1, 1), "{form}");
            let reason = &r.undecodable_reasons[0];
            assert!(
                reason.contains("longer than the limit of 2000"),
                "{form}: {reason}"
            );
        }
    }
}
