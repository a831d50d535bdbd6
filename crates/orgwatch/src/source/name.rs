//! File names as text without losing a byte: the one form in which a path is shown in
//! messages and logs and stored in the database (the activity ledger's key, `logs.file_name`).
//!
//! Hand-written because it is our own convention: UTF-8 is kept as it is, except `\` (written
//! `\\`) and control characters (`\n`, `\r`, `\t`, else `\u{HEX}`), so a newline in a name
//! cannot make one log line look like two; a byte that is not UTF-8 is `\xHH` (always 80 to
//! ff). [`unescape`] gives the bytes back: two names that differ in any byte stay two names.

use std::ffi::OsStr;
use std::fmt::Write;

/// `name`'s bytes as text, escaped as the module describes.
pub fn escape(name: &OsStr) -> String {
    escape_bytes(name.as_encoded_bytes())
}

/// [`escape`] of raw bytes.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// The bytes [`escape_bytes`] made `text` from; `None` if `text` is not of that form.
pub fn unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next()? {
            '\\' => out.push(b'\\'),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).ok()?);
            }
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let c = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_losslessly() {
        let cases: [(&[u8], &str); 6] = [
            (b"plain/a.json", "plain/a.json"),
            (b"caf\xc3\xa9.json", "café.json"),
            (b"a\xff.json", "a\\xff.json"),
            (b"a\xfe.json", "a\\xfe.json"),
            (b"two\nlines.json", "two\\nlines.json"),
            (b"back\\x41\x01", "back\\\\x41\\u{1}"),
        ];
        for (bytes, text) in cases {
            assert_eq!(escape_bytes(bytes), text);
            assert_eq!(unescape(text).as_deref(), Some(bytes), "{text}");
        }
        assert_eq!(unescape("dangling\\"), None);
    }
}
