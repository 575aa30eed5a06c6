//! A fast path for the shape every export record has: one JSON object whose values are all
//! strings, numbers, booleans or null.
//!
//! `serde_json` spends most of an export's parse time validating and scanning strings one
//! value at a time. Here the window is known to be valid UTF-8 already, keys are matched as
//! plain text, and values are sliced out of the window without copies. Anything this scanner
//! does not handle (a nested value, an escaped key, a repeated field, odd syntax) makes it
//! step aside: the element is then parsed by `serde_json`, which has the last word on what is
//! valid, so both paths give the same records.

use std::borrow::Cow;

/// One scalar value of a flat object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Flat<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

/// A record that can be filled from a flat object's fields.
pub(crate) trait FlatFields<'a>: Default {
    /// Take one field; `false` refuses it (a repeated field), sending the element to serde.
    fn field(&mut self, key: &str, value: Flat<'a>) -> bool;
}

/// The outcome of scanning one element.
#[derive(Debug, PartialEq)]
pub(crate) enum Scan<T> {
    /// The record, and the bytes of the window it took.
    Done(T, usize),
    /// The window ends inside the element.
    NeedMore,
    /// Not for the fast path: parse the element with `serde_json`.
    StepAside,
}

/// Scan the object at the start of `text` (which starts with `{`) into a `T`.
pub(crate) fn scan_object<'a, T: FlatFields<'a>>(text: &'a str) -> Scan<T> {
    let mut cursor = Cursor {
        text,
        bytes: text.as_bytes(),
        at: 1,
    };
    match cursor.object() {
        Ok(Some(record)) => Scan::Done(record, cursor.at),
        Ok(None) => Scan::StepAside,
        Err(EndOfWindow) => Scan::NeedMore,
    }
}

/// The window ended before the element did.
struct EndOfWindow;

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// `Ok(None)`: step aside.
    fn object<T: FlatFields<'a>>(&mut self) -> Result<Option<T>, EndOfWindow> {
        let mut record = T::default();
        if self.significant()? == b'}' {
            self.at += 1;
            return Ok(Some(record));
        }
        loop {
            if self.significant()? != b'"' {
                return Ok(None);
            }
            let Some(key) = self.plain_string()? else {
                return Ok(None);
            };
            if self.significant()? != b':' {
                return Ok(None);
            }
            self.at += 1;
            let Some(value) = self.value()? else {
                return Ok(None);
            };
            if !record.field(key, value) {
                return Ok(None);
            }
            match self.significant()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Ok(Some(record));
                }
                _ => return Ok(None),
            }
        }
    }

    /// The next byte that is not whitespace, not consumed.
    fn significant(&mut self) -> Result<u8, EndOfWindow> {
        while let Some(&b) = self.bytes.get(self.at) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Ok(b);
            }
            self.at += 1;
        }
        Err(EndOfWindow)
    }

    fn value(&mut self) -> Result<Option<Flat<'a>>, EndOfWindow> {
        Ok(match self.significant()? {
            b'"' => {
                let start = self.at;
                match self.plain_string()? {
                    Some(s) => Some(Flat::Str(Cow::Borrowed(s))),
                    None => self.escaped_string(start)?,
                }
            }
            b't' => self.literal("true", Flat::Bool(true))?,
            b'f' => self.literal("false", Flat::Bool(false))?,
            b'n' => self.literal("null", Flat::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => None,
        })
    }

    /// A string without escapes, cursor on its opening quote; `None` (cursor unmoved) if it
    /// has escapes or control characters.
    fn plain_string(&mut self) -> Result<Option<&'a str>, EndOfWindow> {
        let start = self.at + 1;
        let end = start + find_special(&self.bytes[start..]).ok_or(EndOfWindow)?;
        if self.bytes[end] != b'"' {
            return Ok(None);
        }
        self.at = end + 1;
        Ok(Some(&self.text[start..end]))
    }

    /// A string with escapes, from its opening quote at `start`: unescaped by `serde_json`.
    fn escaped_string(&mut self, start: usize) -> Result<Option<Flat<'a>>, EndOfWindow> {
        let mut i = start + 1;
        loop {
            match self.bytes.get(i) {
                None => return Err(EndOfWindow),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        self.at = i + 1;
        Ok(serde_json::from_str::<String>(&self.text[start..=i])
            .ok()
            .map(|s| Flat::Str(Cow::Owned(s))))
    }

    fn literal(&mut self, word: &str, value: Flat<'a>) -> Result<Option<Flat<'a>>, EndOfWindow> {
        let end = self.at + word.len();
        if self.bytes.len() < end {
            return if word.as_bytes().starts_with(&self.bytes[self.at..]) {
                Err(EndOfWindow)
            } else {
                Ok(None)
            };
        }
        if &self.bytes[self.at..end] != word.as_bytes() {
            return Ok(None);
        }
        self.at = end;
        Ok(Some(value))
    }

    fn number(&mut self) -> Result<Option<Flat<'a>>, EndOfWindow> {
        let start = self.at;
        let mut end = start;
        let mut integer = true;
        while let Some(&b) = self.bytes.get(end) {
            match b {
                b'0'..=b'9' | b'-' => {}
                b'.' | b'e' | b'E' | b'+' => integer = false,
                _ => break,
            }
            end += 1;
        }
        if end == self.bytes.len() {
            // The number may go on in the next window.
            return Err(EndOfWindow);
        }
        self.at = end;
        let digits = &self.text[start..end];
        if integer && let Ok(n) = digits.parse::<i64>() {
            return Ok(Some(Flat::Int(n)));
        }
        // Out-of-range integers and real numbers: JSON allows them, serde_json reads them
        // as floats, and so does this. Beyond f64 (`1e400`) serde_json rejects the whole
        // document; here it is an infinite float, which no field accepts: one malformed record.
        Ok(digits.parse::<f64>().ok().map(Flat::Float))
    }
}

/// The index of the first byte that ends a plain string: `"`, `\\` or a control character.
///
/// Strings are most of an export's bytes, so this looks at eight bytes per step (SWAR): each
/// test below sets the high bit of a byte lane exactly when the lowest matching byte is there
/// (borrows only disturb lanes above it), so the lowest set bit marks the first match.
fn find_special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let zero_lane = |x: u64| x.wrapping_sub(ONES) & !x;
        let control = word.wrapping_sub(ONES * 0x20) & !word;
        let found = (zero_lane(quote) | zero_lane(backslash) | control) & HIGHS;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|p| i + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Fields(Vec<(String, Flat<'static>)>);

    impl<'a> FlatFields<'a> for Fields {
        fn field(&mut self, key: &str, value: Flat<'a>) -> bool {
            if self.0.iter().any(|(k, _)| k == key) {
                return false;
            }
            let value = match value {
                Flat::Str(s) => Flat::Str(Cow::Owned(s.into_owned())),
                Flat::Int(i) => Flat::Int(i),
                Flat::Float(f) => Flat::Float(f),
                Flat::Bool(b) => Flat::Bool(b),
                Flat::Null => Flat::Null,
            };
            self.0.push((key.to_owned(), value));
            true
        }
    }

    fn scan(text: &str) -> Scan<Fields> {
        scan_object(text)
    }

    #[test]
    fn reads_every_scalar() {
        let text = r#"{ "s" : "Sigur Rós", "e":"a\"b\u00e9", "i":-42, "f":1.5e3, "t":true, "n":null, "x":false }, next"#;
        let Scan::Done(fields, used) = scan(text) else {
            panic!("{:?}", scan(text));
        };
        assert_eq!(&text[used..], ", next");
        assert_eq!(
            fields.0,
            vec![
                ("s".to_owned(), Flat::Str("Sigur Rós".into())),
                ("e".to_owned(), Flat::Str("a\"bé".into())),
                ("i".to_owned(), Flat::Int(-42)),
                ("f".to_owned(), Flat::Float(1500.0)),
                ("t".to_owned(), Flat::Bool(true)),
                ("n".to_owned(), Flat::Null),
                ("x".to_owned(), Flat::Bool(false)),
            ]
        );
        assert!(matches!(scan("{}"), Scan::Done(_, 2)));
        assert!(matches!(
            scan(r#"{"big":18446744073709551616}"#),
            Scan::Done(f, _) if f.0[0].1 == Flat::Float(18446744073709551616.0)
        ));
    }

    #[test]
    fn special_byte_search_matches_a_plain_loop() {
        let plain = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let samples: [&[u8]; 8] = [
            b"",
            b"abc",
            b"abcdefgh\"",
            b"abcdefghijklmnop\\q",
            "Sigur Rós 坂本龍一 ✨\"".as_bytes(),
            b"\x7f\x80\xff\x1f",
            b"!!!!!!!!!!!!!!!!!!!!!!!#",
            b"\"\"",
        ];
        for sample in samples {
            for start in 0..sample.len().max(1) {
                let s = &sample[start.min(sample.len())..];
                assert_eq!(find_special(s), plain(s), "{s:?}");
            }
        }
    }

    #[test]
    fn every_cut_of_a_record_asks_for_more() {
        let text = r#"{"ts":"2021-03-04T18:22:05Z","ms":123,"e":"x\"y","b":true,"n":null}"#;
        for cut in 1..text.len() {
            assert_eq!(scan(&text[..cut]), Scan::NeedMore, "cut at {cut}");
        }
        assert!(matches!(scan(text), Scan::Done(_, n) if n == text.len()));
    }

    #[test]
    fn steps_aside_for_what_serde_must_judge() {
        for text in [
            r#"{"a":{"b":1}}"#,
            r#"{"a":[1]}"#,
            r#"{"a\"b":1}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            r#"{"a":1 "b":2}"#,
            "{\"a\":\"tab\there\"}",
            r#"{a:1}"#,
        ] {
            assert_eq!(scan(text), Scan::StepAside, "{text}");
        }
    }
}
