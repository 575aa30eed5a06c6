//! Streaming a top-level JSON array, one element at a time, in bounded memory.
//!
//! Export files are up to hundreds of MB, so the array is never collected. The reader keeps a
//! window of the file in one buffer, validated as UTF-8 once per refill. Each element goes
//! first through the [flat-object fast path](crate::flat_object); what that declines,
//! `serde_json` parses straight from the buffer (slice parsing is several times faster than
//! `serde_json::from_reader`). Strings without escapes are borrowed, never copied, until a
//! listen is built. When an element runs past the end of the window, the window is refilled
//! and the element parsed again; that happens once per refill.
//!
//! An element of the wrong shape (not an object, a duplicate field) is reported as malformed
//! and stepped over, so one bad row never costs the rest of the file.

use std::io::{self, Read};
use std::ops::ControlFlow;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::ImportError;
use crate::flat_object::{FlatFields, Scan, scan_object};
use crate::limits::LimitExceeded;

/// Bytes read from the source per refill; also the starting size of the window.
const WINDOW_BYTES: usize = 256 * 1024;
/// No real record comes near this; a bigger element means the file is something else.
pub(crate) const MAX_ELEMENT_BYTES: usize = 4 * 1024 * 1024;

/// The record type an array holds, as a family over the lifetime of the window it borrows from.
pub(crate) trait ElementShape {
    type Element<'de>: Deserialize<'de> + FlatFields<'de>;
}

/// How reading an array ended (errors aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArrayEnd {
    /// Elements seen, the passed-over ones included.
    pub(crate) elements: u64,
    /// The callback asked to stop.
    pub(crate) stopped_early: bool,
}

/// Read the array from `source`, passing over the first `skip_first` elements unparsed and
/// giving each following one to `on_element` (`None` for a malformed element).
pub(crate) fn read_array<S, R, F>(
    source: R,
    name: &str,
    skip_first: u64,
    mut on_element: F,
) -> Result<ArrayEnd, ImportError>
where
    S: ElementShape,
    R: Read,
    F: for<'de> FnMut(Option<S::Element<'de>>) -> ControlFlow<()>,
{
    let mut window = Window::new(source, name);
    window.open_array()?;
    let mut stopped_early = false;
    loop {
        match window.peek_significant()? {
            None => return Err(window.truncated()),
            Some(b']') => break,
            Some(_) => {}
        }
        if window.elements < skip_first {
            window.skip_element()?;
        } else if window.parse_record::<S>(&mut on_element)?.is_break() {
            stopped_early = true;
            break;
        }
        match window.peek_significant()? {
            Some(b',') => window.pos += 1,
            Some(b']') => break,
            None => return Err(window.truncated()),
            Some(other) => {
                return Err(window.invalid(format!(
                    "expected ',' or ']' after a record, found {}",
                    describe_byte(other)
                )));
            }
        }
    }
    Ok(ArrayEnd {
        elements: window.elements,
        stopped_early,
    })
}

/// Any JSON value, unparsed: for passing over elements.
struct Opaque;

impl ElementShape for Opaque {
    type Element<'de> = IgnoredAny;
}

impl FlatFields<'_> for IgnoredAny {
    fn field(&mut self, _: &str, _: crate::flat_object::Flat<'_>) -> bool {
        true
    }
}

/// What the fast path did with the element under the cursor.
enum FastPath {
    Delivered(ControlFlow<()>, usize),
    NeedMore,
    SerdeDecides,
}

/// What one attempt at the element under the cursor came to.
enum Attempt {
    Parsed {
        used: usize,
        flow: ControlFlow<()>,
    },
    /// Wrong shape: step over it as an opaque value and report it malformed.
    WrongShape,
    NeedMoreBytes,
    Broken(String),
}

struct Window<'n, R> {
    source: R,
    name: &'n str,
    buf: Vec<u8>,
    /// Start of unread bytes in `buf`.
    pos: usize,
    /// End of valid bytes in `buf`.
    filled: usize,
    /// `buf[..text_end]` is known to be valid UTF-8 and ends on a character boundary.
    text_end: usize,
    /// Invalid UTF-8 was seen: the fast path is off and `serde_json` reports the error.
    not_utf8: bool,
    /// File offset of `buf[0]`, for error messages.
    offset: u64,
    eof: bool,
    elements: u64,
}

impl<'n, R: Read> Window<'n, R> {
    fn new(source: R, name: &'n str) -> Self {
        Self {
            source,
            name,
            buf: vec![0; WINDOW_BYTES],
            pos: 0,
            filled: 0,
            text_end: 0,
            not_utf8: false,
            offset: 0,
            eof: false,
            elements: 0,
        }
    }

    fn open_array(&mut self) -> Result<(), ImportError> {
        self.fill()?;
        while self.filled < 3 && !self.eof {
            self.fill()?;
        }
        if self.buf[..self.filled].starts_with(b"\xEF\xBB\xBF") {
            self.pos = 3;
        }
        match self.peek_significant()? {
            Some(b'[') => {
                self.pos += 1;
                Ok(())
            }
            found => Err(ImportError::NotStreamingHistory {
                name: self.name.to_owned(),
                found: match found {
                    None => "an empty file".to_owned(),
                    Some(b'P') if self.buf[self.pos..self.filled].starts_with(b"PK") => {
                        "a ZIP archive (name it .zip)".to_owned()
                    }
                    Some(b) => describe_byte(b),
                },
            }),
        }
    }

    /// The next byte that is not JSON whitespace, without consuming it; `None` at end of file.
    fn peek_significant(&mut self) -> Result<Option<u8>, ImportError> {
        loop {
            while self.pos < self.filled {
                match self.buf[self.pos] {
                    b' ' | b'\n' | b'\r' | b'\t' => self.pos += 1,
                    b => return Ok(Some(b)),
                }
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Parse the element under the cursor as a record and hand it to `deliver`; a
    /// wrong-shaped element is stepped over and handed over as `None`.
    fn parse_record<S: ElementShape>(
        &mut self,
        mut deliver: impl for<'de> FnMut(Option<S::Element<'de>>) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, ImportError> {
        if let Some(flow) = self.try_fast_path::<S>(&mut deliver)? {
            return Ok(flow);
        }
        loop {
            match self.attempt::<S>(|record| deliver(Some(record))) {
                Attempt::Parsed { used, flow } => {
                    self.pos += used;
                    self.elements += 1;
                    return Ok(flow);
                }
                Attempt::WrongShape => {
                    self.skip_element()?;
                    return Ok(deliver(None));
                }
                Attempt::NeedMoreBytes if self.eof => return Err(self.truncated()),
                Attempt::NeedMoreBytes => self.fill()?,
                Attempt::Broken(message) => return Err(self.invalid(message)),
            }
        }
    }

    /// Step over the element under the cursor without building anything from it.
    fn skip_element(&mut self) -> Result<(), ImportError> {
        if self
            .try_fast_path::<Opaque>(&mut |_| ControlFlow::Continue(()))?
            .is_some()
        {
            return Ok(());
        }
        loop {
            match self.attempt::<Opaque>(|_| ControlFlow::Continue(())) {
                Attempt::Parsed { used, .. } => {
                    self.pos += used;
                    self.elements += 1;
                    return Ok(());
                }
                Attempt::NeedMoreBytes if self.eof => return Err(self.truncated()),
                Attempt::NeedMoreBytes => self.fill()?,
                // Any JSON value is a valid IgnoredAny, so only broken JSON ends up here.
                Attempt::WrongShape => return Err(self.invalid("unreadable value".to_owned())),
                Attempt::Broken(message) => return Err(self.invalid(message)),
            }
        }
    }

    /// Try the flat-object fast path on the element under the cursor; `Some` when it
    /// delivered the element, `None` when `serde_json` must parse it.
    fn try_fast_path<S: ElementShape>(
        &mut self,
        deliver: &mut impl for<'de> FnMut(Option<S::Element<'de>>) -> ControlFlow<()>,
    ) -> Result<Option<ControlFlow<()>>, ImportError> {
        loop {
            if self.buf[self.pos] != b'{' || self.not_utf8 {
                return Ok(None);
            }
            let fast = match scan_object::<S::Element<'_>>(self.text()) {
                Scan::Done(record, used) => FastPath::Delivered(deliver(Some(record)), used),
                Scan::NeedMore if !self.eof => FastPath::NeedMore,
                // At the end of the file, serde_json says what is wrong.
                Scan::NeedMore | Scan::StepAside => FastPath::SerdeDecides,
            };
            match fast {
                FastPath::Delivered(flow, used) => {
                    self.pos += used;
                    self.elements += 1;
                    return Ok(Some(flow));
                }
                FastPath::NeedMore => self.fill()?,
                FastPath::SerdeDecides => return Ok(None),
            }
        }
    }

    fn attempt<S: ElementShape>(
        &self,
        deliver: impl for<'de> FnOnce(S::Element<'de>) -> ControlFlow<()>,
    ) -> Attempt {
        let window = &self.buf[self.pos..self.filled];
        let mut stream = serde_json::Deserializer::from_slice(window).into_iter::<S::Element<'_>>();
        match stream.next() {
            Some(Ok(value)) => {
                let used = stream.byte_offset();
                // A value that ends exactly at the window's end may be cut short (a number
                // `12` of `123`): read on and parse it again.
                if used == window.len() && !self.eof {
                    return Attempt::NeedMoreBytes;
                }
                let flow = deliver(value);
                Attempt::Parsed { used, flow }
            }
            Some(Err(e)) if e.is_eof() => Attempt::NeedMoreBytes,
            Some(Err(e)) if e.is_data() => Attempt::WrongShape,
            Some(Err(e)) => Attempt::Broken(e.to_string()),
            None => Attempt::NeedMoreBytes,
        }
    }

    /// The unread part of the window that is known to be text.
    fn text(&self) -> &str {
        let bytes = &self.buf[self.pos..self.text_end.max(self.pos)];
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: `buf[..text_end]` was validated as UTF-8 by `validate_text`, and `pos` is on
        // a character boundary: it only ever moves past whole JSON values and ASCII bytes
        // (whitespace, `[`, `,`, a complete BOM), and compaction moves it with `text_end`.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Extend the known-text prefix over newly read bytes, once per refill.
    fn validate_text(&mut self) {
        if self.not_utf8 {
            return;
        }
        match std::str::from_utf8(&self.buf[self.text_end..self.filled]) {
            Ok(_) => self.text_end = self.filled,
            Err(e) => {
                self.text_end += e.valid_up_to();
                // `error_len() == None`: a character cut by the window's end, completed by
                // the next read.
                self.not_utf8 = e.error_len().is_some();
            }
        }
    }

    /// Read more of the source, keeping the unread bytes; grows the window for a long element.
    fn fill(&mut self) -> Result<(), ImportError> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.offset += self.pos as u64;
            self.filled -= self.pos;
            self.text_end = self.text_end.saturating_sub(self.pos);
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            if self.buf.len() >= MAX_ELEMENT_BYTES {
                return Err(ImportError::RecordTooLarge {
                    name: self.name.to_owned(),
                    index: self.elements,
                    limit_bytes: MAX_ELEMENT_BYTES,
                });
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.source.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.filled += n;
                    self.validate_text();
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(self.name, self.elements, e)),
            }
        }
    }

    fn truncated(&self) -> ImportError {
        ImportError::Truncated {
            name: self.name.to_owned(),
            records: self.elements,
        }
    }

    fn invalid(&self, message: String) -> ImportError {
        ImportError::InvalidJson {
            name: self.name.to_owned(),
            records: self.elements,
            byte_offset: self.offset + self.pos as u64,
            message,
        }
    }
}

/// An I/O error while reading; a tripped safety limit keeps its own, clearer error.
fn read_error(name: &str, records: u64, e: io::Error) -> ImportError {
    if let Some(limit) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
    {
        return ImportError::ZipBomb {
            name: name.to_owned(),
            detail: limit.to_string(),
        };
    }
    // The `zip` crate stops an entry that inflates past its declared size; that is a forged
    // header, so say so rather than report a read error.
    if e.kind() == io::ErrorKind::InvalidData && e.to_string().contains("larger than its declared")
    {
        return ImportError::ZipBomb {
            name: name.to_owned(),
            detail: "it inflates past the uncompressed size it declares".to_owned(),
        };
    }
    ImportError::Read {
        name: name.to_owned(),
        records,
        source: e,
    }
}

fn describe_byte(b: u8) -> String {
    match b {
        b'{' => "a JSON object".to_owned(),
        b'<' => "HTML or XML (starts with '<')".to_owned(),
        b'"' => "a JSON string".to_owned(),
        b'-' | b'0'..=b'9' => "a number".to_owned(),
        b't' | b'f' | b'n' => "a JSON literal".to_owned(),
        b if b.is_ascii_graphic() => format!("'{}'", b as char),
        b => format!("byte 0x{b:02x} (binary data)"),
    }
}
