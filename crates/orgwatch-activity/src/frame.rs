//! Finding where one JSON value ends in a stream, without parsing it: the decoder streams a
//! log file's `Records` array element by element, each element handed whole (as a byte slice)
//! to a fast slice parser. Memory is bounded by the largest element, never by the file.

use std::io::{self, Read};

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

/// A read-ahead buffer over a byte stream, from which whole JSON values are taken.
pub(crate) struct Framer<R> {
    r: R,
    buf: Vec<u8>,
    /// Consumed up to here.
    start: usize,
    /// Data up to here.
    end: usize,
    eof: bool,
}

/// First read-ahead size; it grows (doubling) only for a value larger than it.
const CHUNK: usize = 256 * 1024;

impl<R: Read> Framer<R> {
    pub(crate) fn new(r: R) -> Self {
        Framer {
            r,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// The unconsumed bytes read so far.
    pub(crate) fn rest(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Bytes of a range given by [`Framer::value`].
    pub(crate) fn get(&self, r: std::ops::Range<usize>) -> &[u8] {
        &self.buf[r]
    }

    /// Gives back the unconsumed bytes and the stream after them.
    pub(crate) fn into_parts(self) -> (Vec<u8>, R) {
        (self.buf[self.start..self.end].to_vec(), self.r)
    }

    /// Reads more: at least doubles what is buffered, unless the stream ends (`false` then).
    fn more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
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
                Err(e) => return Err(e),
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

    /// The whole value that starts at the next byte (after [`Framer::peek`]) and its nesting
    /// depth; `Ok(None)` when the stream ends inside it (everything left is then in
    /// [`Framer::rest`]). The range, in [`Framer::get`], is valid until the next call; the
    /// value is consumed.
    pub(crate) fn value(&mut self) -> io::Result<Option<(std::ops::Range<usize>, u32)>> {
        loop {
            let rest = &self.buf[self.start..self.end];
            let found = match value_len(rest) {
                Some(x) => Some(x),
                // A scalar ends with the stream.
                None if self.eof && !rest.is_empty() && !matches!(rest[0], b'"' | b'{' | b'[') => {
                    Some((rest.len(), 0))
                }
                None => None,
            };
            if let Some((len, depth)) = found {
                let s = self.start;
                self.start += len;
                return Ok(Some((s..s + len, depth)));
            }
            if !self.more()? {
                return Ok(None);
            }
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
        let mut f = Framer::new(Trickle(input.as_bytes()));
        assert_eq!(f.peek().unwrap(), Some(b'['));
        let (v, depth) = f.value().unwrap().unwrap();
        assert_eq!((v.len(), depth), (big.len(), 1));
        assert_eq!(f.peek().unwrap(), Some(b'4'));
        let (v, _) = f.value().unwrap().unwrap();
        assert_eq!(f.get(v), b"42");
        assert_eq!(f.peek().unwrap(), None);
    }
}
