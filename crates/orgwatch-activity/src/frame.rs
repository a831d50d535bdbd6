//! Finding where one JSON value ends in a stream, without parsing it: the decoder streams a
//! log file's `Records` array element by element, each element handed whole (as a byte slice)
//! to a fast slice parser. Memory is bounded by the record-size limit, never by the file or
//! its largest element: a value longer than the limit is skipped as it streams past (its end
//! found by [`Skip`], its bytes dropped chunk by chunk), never held whole.
//!
//! Hand-written rather than a crate: it only has to find where a value ends (strings, escapes
//! and brackets), which no JSON crate offers without parsing or buffering the value.

use std::io::{self, BufRead, Read};
use std::ops::Range;

/// JSON whitespace (what serde_json skips between tokens).
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\t' | b'\r')
}

/// The end of the string whose opening quote is just before `i`: the index after its closing
/// quote, `None` when `b` ends first.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        i = j + 2;
    }
}

/// A byte that ends a number or a literal (`true`, `null`, …) inside an array or object.
fn ends_scalar(b: u8) -> bool {
    is_ws(b) || matches!(b, b',' | b']' | b'}' | b'[' | b'{' | b'"' | b':')
}

/// The length of the value starting at `b[0]` and the deepest nesting of arrays and objects
/// in it (0 for a scalar), or `None` when `b` ends first. Brackets are only counted, not
/// matched: the parser of the slice rejects `{]`.
pub(crate) fn value_len(b: &[u8]) -> Option<(usize, u32)> {
    match *b.first()? {
        b'"' => string_end(b, 1).map(|e| (e, 0)),
        b'{' | b'[' => {
            let mut depth = 0u32;
            let mut max = 0u32;
            let mut i = 0;
            loop {
                match *b.get(i)? {
                    b'"' => i = string_end(b, i + 1)?,
                    b'{' | b'[' => {
                        depth += 1;
                        max = max.max(depth);
                        i += 1;
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            return Some((i, max));
                        }
                    }
                    _ => i += 1,
                }
            }
        }
        _ => b.iter().position(|&c| ends_scalar(c)).map(|e| (e, 0)),
    }
}

/// Where a value too long to hold ends, found by feeding it chunk by chunk: the state between
/// chunks is the nesting depth and whether the last byte left a string or an escape open.
#[derive(Debug, Default)]
struct Skip {
    started: bool,
    depth: u32,
    in_string: bool,
    escaped: bool,
    scalar: bool,
}

impl Skip {
    /// Feeds the next bytes of the value (its first byte first): the index in `b` just past
    /// the value's end, or `None` when it goes on after `b`. A scalar ends before the byte
    /// that ends it (not consumed).
    fn feed(&mut self, b: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < b.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                let j = i + memchr::memchr2(b'"', b'\\', &b[i..])?;
                i = j + 1;
                if b[j] == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                    if self.depth == 0 {
                        return Some(i);
                    }
                }
                continue;
            }
            let c = b[i];
            if self.scalar {
                if ends_scalar(c) {
                    return Some(i);
                }
            } else if !self.started {
                match c {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth = 1,
                    _ => self.scalar = true,
                }
                self.started = true;
            } else {
                match c {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        None
    }
}

/// The default record-size limit: well above CloudTrail's largest events (its documented
/// event size limit is 256 KB).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;

/// One value taken by [`Framer::value`].
#[derive(Debug, PartialEq)]
pub(crate) enum Framed {
    /// A whole value: its range in [`Framer::get`] and its nesting depth.
    Value(Range<usize>, u32),
    /// A value longer than the limit, skipped unread: where it started in the stream (bytes
    /// from the start) and its length.
    Oversized {
        /// Offset of its first byte.
        offset: u64,
        /// Its length in bytes.
        len: u64,
    },
}

/// A read-ahead buffer over a byte stream, from which whole JSON values are taken.
pub(crate) struct Framer<R> {
    r: R,
    buf: Vec<u8>,
    /// Consumed up to here.
    start: usize,
    /// Data up to here.
    end: usize,
    eof: bool,
    /// Bytes of the stream dropped before `buf[0]`.
    dropped: u64,
    /// The longest value taken whole.
    max: usize,
    /// A read error met after some bytes of a read, given at the next read so that the
    /// values before it are taken first.
    failed: Option<io::Error>,
}

/// First read-ahead size; it grows (doubling) only for a value larger than it.
const CHUNK: usize = 256 * 1024;

impl<R: Read> Framer<R> {
    /// A framer taking values of at most `max` bytes whole (longer ones are skipped).
    pub(crate) fn new(r: R, max: usize) -> Self {
        Framer {
            r,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            dropped: 0,
            max,
            failed: None,
        }
    }

    /// The stream offset of the next unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.dropped + self.start as u64
    }

    /// The unconsumed bytes read so far.
    pub(crate) fn rest(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Bytes of a range given by [`Framer::value`].
    pub(crate) fn get(&self, r: std::ops::Range<usize>) -> &[u8] {
        &self.buf[r]
    }

    /// Reads more: at least doubles what is buffered, unless the stream ends (`false` then).
    fn more(&mut self) -> io::Result<bool> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.dropped += self.start as u64;
            self.start = 0;
        }
        let want = (self.end * 2).max(CHUNK);
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        let before = self.end;
        while self.end < self.buf.len() {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.end == before => return Err(e),
                Err(e) => {
                    self.failed = Some(e);
                    break;
                }
            }
        }
        Ok(self.end > before)
    }

    /// The next byte after whitespace (not consumed), `None` at the end of the stream.
    pub(crate) fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            let rest = &self.buf[self.start..self.end];
            match rest.iter().position(|&b| !is_ws(b)) {
                Some(i) => {
                    self.start += i;
                    return Ok(Some(self.buf[self.start]));
                }
                None => {
                    self.start = self.end;
                    if !self.more()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Consumes `n` bytes (already peeked).
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// The whole value that starts at the next byte (after [`Framer::peek`]), or where a
    /// value longer than the limit was skipped; `Ok(None)` when the stream ends inside it
    /// (everything left is then in [`Framer::rest`]). A range, in [`Framer::get`], is valid
    /// until the next call; the value is consumed.
    pub(crate) fn value(&mut self) -> io::Result<Option<Framed>> {
        loop {
            let rest = &self.buf[self.start..self.end];
            let found = match value_len(rest) {
                Some(x) => Some(x),
                // A scalar ends with the stream.
                None if self.eof && !rest.is_empty() && !matches!(rest[0], b'"' | b'{' | b'[') => {
                    Some((rest.len(), 0))
                }
                None if rest.len() > self.max => return self.skip(),
                None => None,
            };
            if let Some((len, depth)) = found {
                let s = self.start;
                self.start += len;
                if len > self.max {
                    let offset = self.dropped + s as u64;
                    return Ok(Some(Framed::Oversized {
                        offset,
                        len: len as u64,
                    }));
                }
                return Ok(Some(Framed::Value(s..s + len, depth)));
            }
            if !self.more()? {
                return Ok(None);
            }
        }
    }

    /// Skips the value that starts at the next byte, reading on into the buffer it already
    /// has (which stays at most about twice the limit) and dropping what it scanned.
    fn skip(&mut self) -> io::Result<Option<Framed>> {
        let offset = self.offset();
        let mut skip = Skip::default();
        loop {
            if let Some(n) = skip.feed(&self.buf[self.start..self.end]) {
                self.start += n;
                let len = self.offset() - offset;
                return Ok(Some(Framed::Oversized { offset, len }));
            }
            self.start = self.end;
            if !self.more()? {
                return Ok(if skip.scalar {
                    let len = self.offset() - offset;
                    Some(Framed::Oversized { offset, len })
                } else {
                    None
                });
            }
        }
    }
}

/// What [`read_line`] read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The stream had ended.
    End,
    /// A line (in the buffer, with its newline if it had one).
    Read,
    /// A line longer than the limit, skipped to its end (the buffer is left empty): its
    /// length without the newline.
    Oversized(u64),
}

/// Reads one line into `line` (cleared first) like [`BufRead::read_until`], but holds at most
/// `max` bytes of it: a longer line is skipped to its newline as it streams past.
pub fn read_line<R: BufRead + ?Sized>(
    r: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    line.clear();
    let mut len = 0u64;
    let mut oversized = false;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(match (len, oversized) {
                (0, _) => Line::End,
                (n, true) => Line::Oversized(n),
                (_, false) => Line::Read,
            });
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let content = take - usize::from(done);
        len += content as u64;
        if !oversized && len > max as u64 {
            oversized = true;
            line.clear();
        }
        if !oversized {
            line.extend_from_slice(&buf[..take]);
        }
        r.consume(take);
        if done {
            return Ok(if oversized {
                Line::Oversized(len)
            } else {
                Line::Read
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_value_ends() {
        assert_eq!(value_len(br#"{"a":"}\"]"} x"#), Some((12, 1)));
        assert_eq!(value_len(br#"[[1],{"b":[2]}],"#), Some((15, 3)));
        assert_eq!(value_len(br#""a\\" x"#), Some((5, 0)));
        assert_eq!(value_len(b"12.5e3]"), Some((6, 0)));
        assert_eq!(value_len(b"true"), None);
        assert_eq!(value_len(br#"{"a":"b"#), None);
        assert_eq!(value_len(br#"{"a":"b\"#), None);
    }

    #[test]
    fn values_across_small_reads() {
        /// Gives one byte per read.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                match self.0.split_first() {
                    Some((b, rest)) if !out.is_empty() => {
                        out[0] = *b;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let big = format!("[{}]", "\"x\",".repeat(200_000) + "1");
        let input = format!(" {big} 42");
        let mut f = Framer::new(Trickle(input.as_bytes()), DEFAULT_MAX_RECORD_BYTES);
        assert_eq!(f.peek().unwrap(), Some(b'['));
        let Some(Framed::Value(v, depth)) = f.value().unwrap() else {
            panic!("a value")
        };
        assert_eq!((v.len(), depth), (big.len(), 1));
        assert_eq!(f.peek().unwrap(), Some(b'4'));
        let Some(Framed::Value(v, _)) = f.value().unwrap() else {
            panic!("a value")
        };
        assert_eq!(f.get(v), b"42");
        assert_eq!(f.peek().unwrap(), None);
    }

    /// Takes every value of `input` with a limit of `max` bytes.
    fn values(input: &[u8], max: usize) -> Vec<Result<Vec<u8>, (u64, u64)>> {
        let mut f = Framer::new(input, max);
        let mut out = Vec::new();
        while f.peek().unwrap().is_some() {
            match f.value().unwrap() {
                Some(Framed::Value(v, _)) => out.push(Ok(f.get(v).to_vec())),
                Some(Framed::Oversized { offset, len }) => out.push(Err((offset, len))),
                None => break,
            }
            if f.peek().unwrap() == Some(b',') {
                f.consume(1);
            }
        }
        out
    }

    #[test]
    fn values_longer_than_the_limit_are_skipped_with_their_offset_and_length() {
        let long = format!(r#"{{"ua":"{}\"}}]","x":[1,{{}}]}}"#, "a".repeat(CHUNK * 3));
        let input = format!(r#"{{"a":1}},{long},"{}",{{"b":2}}"#, "s".repeat(40));
        let got = values(input.as_bytes(), 32);
        let ok = |s: &str| Ok(s.as_bytes().to_vec());
        assert_eq!(
            got,
            vec![
                ok(r#"{"a":1}"#),
                Err((8, long.len() as u64)),
                Err((9 + long.len() as u64, 42)),
                ok(r#"{"b":2}"#),
            ]
        );
        // The buffer held a few chunks at most, never the long value.
        let mut f = Framer::new(input.as_bytes(), 32);
        while f.peek().unwrap().is_some() && f.value().unwrap().is_some() {
            if f.peek().unwrap() == Some(b',') {
                f.consume(1);
            }
        }
        assert!(f.buf.len() <= 2 * CHUNK, "buffer {}", f.buf.len());
    }

    #[test]
    fn an_escape_split_between_reads_is_still_an_escape() {
        let mut skip = Skip::default();
        assert_eq!(skip.feed(b"[\"ab\\"), None);
        assert_eq!(skip.feed(br#""c""#), None);
        assert_eq!(skip.feed(br#"] x"#), Some(1));
        let mut scalar = Skip::default();
        assert_eq!(scalar.feed(b"12345"), None);
        assert_eq!(scalar.feed(b"6,"), Some(1));
    }

    #[test]
    fn lines_longer_than_the_limit_are_skipped() {
        let input = format!("short\n{}\n\nlast", "x".repeat(100));
        let mut r = std::io::BufReader::with_capacity(16, input.as_bytes());
        let mut line = Vec::new();
        assert_eq!(read_line(&mut r, &mut line, 10).unwrap(), Line::Read);
        assert_eq!(line, b"short\n");
        assert_eq!(
            read_line(&mut r, &mut line, 10).unwrap(),
            Line::Oversized(100)
        );
        assert!(line.is_empty() && line.capacity() <= 32);
        assert_eq!(read_line(&mut r, &mut line, 10).unwrap(), Line::Read);
        assert_eq!(line, b"\n");
        assert_eq!(read_line(&mut r, &mut line, 10).unwrap(), Line::Read);
        assert_eq!(line, b"last");
        assert_eq!(read_line(&mut r, &mut line, 10).unwrap(), Line::End);
    }
}
