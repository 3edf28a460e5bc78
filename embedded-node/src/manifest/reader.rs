//! The manifest's TOML reader: text → a tree of spanned values → serde.
//!
//! Owns: reading TOML 1.1 (the version the `toml` crate reads) in one pass over the
//! bytes, with no token list and no copies of strings that have no escapes, into a
//! tree whose every value keeps its byte span; and a serde `Deserializer` over that
//! tree that fills `serde_spanned::Spanned` fields and `toml::Value`s as the `toml`
//! crate does. It exists because the manifest's cold start has to fit in 5 ms and the
//! `toml` crate alone took longer than that for a 1,000-rule manifest (BENCHMARKS.md).
//! Never: checks what the values mean (that is `parse`).
//!
//! Every syntax error names what was expected and carries the span it was found at, so
//! `parse` reports it with its line and column. Nesting and the parts of a key are
//! bounded (`MAX_DEPTH`), so no text can exhaust the stack.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use toml::value::Datetime;

/// Deepest nesting of arrays and inline tables in one value, and most parts in one
/// key (`a.b.c`): together they bound how deep the tree, its serde hand-over and its
/// drop can recurse.
const MAX_DEPTH: usize = 64;

/// A table's keys are found by a linear search up to this many, by a hash map beyond.
const LINEAR_KEYS: usize = 12;

/// Why a text is not TOML, or why its values do not fit the structure asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    message: String,
    span: Option<Range<usize>>,
}

impl Error {
    fn at(message: impl Into<String>, span: Range<usize>) -> Error {
        Error { message: message.into(), span: Some(span) }
    }

    /// Where in the text; `None` only for an error about the whole document.
    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Gives a span to an error that has none yet (the innermost value wins).
    fn within(mut self, span: Span) -> Error {
        if self.span.is_none() {
            self.span = Some(span.range());
        }
        self
    }
}

impl de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error { message: msg.to_string(), span: None }
    }
}

/// Reads `text` as TOML into `T`.
pub fn from_str<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, Error> {
    if text.len() > u32::MAX as usize {
        return Err(Error::at("the text is too long", 0..0));
    }
    let root = read(text)?;
    let span = Span::new(0, text.len());
    T::deserialize(ItemDe(Item { span, value: Value::Table(root) })).map_err(|e| e.within(span))
}

/// Where a value or key is written: byte offsets, in 8 bytes rather than 16, since a
/// manifest is at most `MAX_MANIFEST_BYTES` (the tree's size is most of its reading time).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }

    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One value and where it is written.
#[derive(Debug)]
struct Item<'a> {
    span: Span,
    value: Value<'a>,
}

#[derive(Debug)]
enum Value<'a> {
    String(Cow<'a, str>),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(Datetime),
    Array(Array<'a>),
    Table(Table<'a>),
}

#[derive(Debug, Default)]
struct Array<'a> {
    items: Vec<Item<'a>>,
    /// Made by `[[headers]]`: only such an array may be added to by another one.
    of_tables: bool,
}

/// How a table came to be, which decides what may add to it later.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Made {
    Root,
    /// Named on the way to a header's table (`a` in `[a.b]`): a header may still define it.
    Implicit,
    /// Defined by its own `[header]` (or as an element of `[[header]]`).
    Header,
    /// Made by a dotted key (`a.b = 1`): more dotted keys may add to it, a header may not.
    Dotted,
    /// `{ … }`: closed once written.
    Inline,
}

#[derive(Debug)]
struct Table<'a> {
    entries: Vec<Entry<'a>>,
    /// Key → index in `entries`, once there are more than `LINEAR_KEYS`. Boxed: most
    /// tables never have one, and the box keeps every table 40 bytes smaller.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<Cow<'a, str>, usize>>>,
    made: Made,
}

#[derive(Debug)]
struct Entry<'a> {
    key: Cow<'a, str>,
    key_span: Span,
    item: Item<'a>,
}

impl<'a> Table<'a> {
    fn new(made: Made) -> Table<'a> {
        Table { entries: Vec::new(), index: None, made }
    }

    /// A table a header defines: room for a typical table's keys from the start.
    fn for_header(made: Made) -> Table<'a> {
        Table { entries: Vec::with_capacity(8), index: None, made }
    }

    fn find(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|e| e.key == key),
        }
    }

    fn push(&mut self, key: Cow<'a, str>, key_span: Span, item: Item<'a>) -> usize {
        let at = self.entries.len();
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), at);
        } else if at == LINEAR_KEYS {
            let mut index: HashMap<Cow<'a, str>, usize> = self.entries.iter().enumerate().map(|(i, e)| (e.key.clone(), i)).collect();
            index.insert(key.clone(), at);
            self.index = Some(Box::new(index));
        }
        self.entries.push(Entry { key, key_span, item });
        at
    }
}

/// A key as written: its parts and each part's span.
type Key<'a> = Vec<(Cow<'a, str>, Span)>;

fn read(text: &str) -> Result<Table<'_>, Error> {
    let mut r = Reader { text, b: text.as_bytes(), pos: 0, parts: Vec::new() };
    let mut root = Table::new(Made::Root);
    // The table that key/value lines go to: entry indices from the root (an array of
    // tables on the way stands for its last element).
    let mut current: Vec<usize> = Vec::new();
    if text.starts_with('\u{feff}') {
        r.pos = '\u{feff}'.len_utf8();
    }
    loop {
        r.spaces();
        match r.peek() {
            None => break,
            Some(b'#') => r.comment()?,
            Some(b'\n' | b'\r') => {}
            Some(b'[') => r.header(&mut root, &mut current)?,
            Some(_) => r.key_value(table_at(&mut root, &current), 0)?,
        }
        r.end_of_line()?;
    }
    Ok(root)
}

/// The table at `path`, which `header` checked when it made it.
fn table_at<'t, 'a>(root: &'t mut Table<'a>, path: &[usize]) -> &'t mut Table<'a> {
    let mut table = root;
    for &i in path {
        table = match &mut table.entries[i].item.value {
            Value::Table(t) => t,
            Value::Array(a) => match a.items.last_mut().map(|item| &mut item.value) {
                Some(Value::Table(t)) => t,
                _ => unreachable!("a header's path holds tables"),
            },
            _ => unreachable!("a header's path holds tables"),
        };
    }
    table
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    /// The parts of the key being read, kept between keys so most keys allocate nothing.
    parts: Key<'a>,
}

fn is_bare(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// A control character that TOML allows in no string or comment (tab is allowed).
fn is_control(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7f
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.b.get(self.pos + ahead).copied()
    }

    fn starts(&self, s: &[u8]) -> bool {
        self.b[self.pos..].starts_with(s)
    }

    /// What stands at the reader's position, for an error message.
    fn here(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "the end of the text".to_owned(),
            Some('\n' | '\r') => "the end of the line".to_owned(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, Error> {
        let end = (self.pos + 1).min(self.b.len());
        Err(Error::at(message, self.pos..end.max(self.pos)))
    }

    fn expected<T>(&self, what: &str) -> Result<T, Error> {
        self.error(format!("expected {what}, found {}", self.here()))
    }

    fn spaces(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn comment(&mut self) -> Result<(), Error> {
        debug_assert_eq!(self.peek(), Some(b'#'));
        self.pos += 1;
        while let Some(c) = self.peek() {
            match c {
                b'\n' => break,
                b'\r' if self.peek_at(1) == Some(b'\n') => break,
                c if is_control(c) => return self.error("a control character is not allowed in a comment"),
                _ => self.pos += 1,
            }
        }
        Ok(())
    }

    fn newline(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'\n') => self.pos += 1,
            Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
            _ => return self.expected("a new line"),
        }
        Ok(())
    }

    /// After a key/value or a header: spaces, an optional comment, then a new line or the end.
    fn end_of_line(&mut self) -> Result<(), Error> {
        self.spaces();
        if self.peek() == Some(b'#') {
            self.comment()?;
        }
        match self.peek() {
            None => Ok(()),
            _ => self.newline().or_else(|_| self.expected("a new line after the value")),
        }
    }

    /// Spaces, new lines and comments, as allowed between an array's values.
    fn blank(&mut self) -> Result<(), Error> {
        loop {
            self.spaces();
            match self.peek() {
                Some(b'#') => self.comment()?,
                Some(b'\n' | b'\r') => self.newline()?,
                _ => return Ok(()),
            }
        }
    }

    /// Reads a key into `parts` (emptied first).
    fn key(&mut self, parts: &mut Key<'a>) -> Result<(), Error> {
        parts.clear();
        loop {
            self.spaces();
            let start = self.pos;
            let part = match self.peek() {
                Some(b'"') => {
                    if self.starts(b"\"\"\"") {
                        return self.error("a key cannot be a multi-line string");
                    }
                    self.basic_string()?
                }
                Some(b'\'') => {
                    if self.starts(b"'''") {
                        return self.error("a key cannot be a multi-line string");
                    }
                    self.literal_string()?
                }
                Some(c) if is_bare(c) => {
                    while self.peek().is_some_and(is_bare) {
                        self.pos += 1;
                    }
                    Cow::Borrowed(&self.text[start..self.pos])
                }
                _ => return self.expected("a key"),
            };
            if parts.len() == MAX_DEPTH {
                return Err(Error::at(format!("a key may have at most {MAX_DEPTH} parts"), start..self.pos));
            }
            parts.push((part, Span::new(start, self.pos)));
            self.spaces();
            if self.peek() == Some(b'.') {
                self.pos += 1;
            } else {
                return Ok(());
            }
        }
    }

    /// `key = value` into `table`, making the tables a dotted key names. Inside an
    /// inline table (`depth` > 0), new lines may stand around the `=`, as the `toml`
    /// crate allows.
    fn key_value(&mut self, table: &mut Table<'a>, depth: usize) -> Result<(), Error> {
        // Taken for this key; a nested inline table's keys get a buffer of their own.
        let mut key = std::mem::take(&mut self.parts);
        self.key(&mut key)?;
        if depth > 0 {
            self.blank()?;
        }
        if self.peek() != Some(b'=') {
            return self.expected("`=` after the key");
        }
        self.pos += 1;
        if depth > 0 {
            self.blank()?;
        } else {
            self.spaces();
        }
        let value = self.value(depth)?;
        let (last, path) = key.split_last().expect("a key has a part");
        let mut table = table;
        for (part, span) in path {
            let at = match table.find(part) {
                Some(at) => match &table.entries[at].item.value {
                    Value::Table(t) if t.made == Made::Dotted => at,
                    _ => return Err(Error::at(format!("key `{part}` is already defined and cannot be added to"), span.range())),
                },
                None => table.push(part.clone(), *span, Item { span: *span, value: Value::Table(Table::new(Made::Dotted)) }),
            };
            let Value::Table(t) = &mut table.entries[at].item.value else { unreachable!("checked above") };
            table = t;
        }
        let (part, span) = last;
        if table.find(part).is_some() {
            return Err(Error::at(format!("duplicate key `{part}`"), span.range()));
        }
        table.push(part.clone(), *span, value);
        self.parts = key;
        Ok(())
    }

    /// `[a.b]` or `[[a.b]]`: finds or makes the table and sets `indices` to its path.
    fn header(&mut self, root: &mut Table<'a>, indices: &mut Vec<usize>) -> Result<(), Error> {
        let start = self.pos;
        let array = self.starts(b"[[");
        self.pos += if array { 2 } else { 1 };
        let mut key = std::mem::take(&mut self.parts);
        self.key(&mut key)?;
        if array {
            if !self.starts(b"]]") {
                return self.expected("`]]` to close the header");
            }
            self.pos += 2;
        } else {
            if self.peek() != Some(b']') {
                return self.expected("`]` to close the header");
            }
            self.pos += 1;
        }
        let header_span = Span::new(start, self.pos);
        let (last, path) = key.split_last().expect("a key has a part");
        indices.clear();
        let mut table = root;
        for (part, span) in path {
            let at = match table.find(part) {
                Some(at) => at,
                None => table.push(part.clone(), *span, Item { span: header_span, value: Value::Table(Table::new(Made::Implicit)) }),
            };
            indices.push(at);
            table = match &mut table.entries[at].item.value {
                Value::Table(t) if t.made != Made::Inline => t,
                Value::Array(a) if a.of_tables => match a.items.last_mut().map(|i| &mut i.value) {
                    Some(Value::Table(t)) => t,
                    _ => unreachable!("an array of tables holds tables"),
                },
                _ => return Err(Error::at(format!("key `{part}` is already defined and is not a table"), span.range())),
            };
        }
        let (part, span) = last;
        let element = || Item { span: header_span, value: Value::Table(Table::for_header(Made::Header)) };
        let at = match table.find(part) {
            None if array => {
                let items = vec![element()];
                table.push(part.clone(), *span, Item { span: header_span, value: Value::Array(Array { items, of_tables: true }) })
            }
            None => table.push(part.clone(), *span, element()),
            Some(at) => {
                let item = &mut table.entries[at].item;
                match &mut item.value {
                    Value::Array(a) if array && a.of_tables => a.items.push(element()),
                    Value::Table(t) if !array && t.made == Made::Implicit => {
                        t.made = Made::Header;
                        item.span = header_span;
                    }
                    Value::Table(_) if !array => {
                        return Err(Error::at(format!("table `{}` is defined twice", &self.text[header_span.range()]), header_span.range()))
                    }
                    _ => return Err(Error::at(format!("key `{part}` is already defined"), span.range())),
                }
                at
            }
        };
        indices.push(at);
        self.parts = key;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Item<'a>, Error> {
        let start = self.pos;
        let value = match self.peek() {
            Some(b'"') => Value::String(if self.starts(b"\"\"\"") { self.multiline_basic()? } else { self.basic_string()? }),
            Some(b'\'') => Value::String(if self.starts(b"'''") { self.multiline_literal()? } else { self.literal_string()? }),
            Some(b'[' | b'{') if depth >= MAX_DEPTH => return self.error("values are nested too deeply"),
            Some(b'[') => Value::Array(self.array(depth + 1)?),
            Some(b'{') => Value::Table(self.inline_table(depth + 1)?),
            Some(b't') if self.starts(b"true") => {
                self.pos += 4;
                Value::Boolean(true)
            }
            Some(b'f') if self.starts(b"false") => {
                self.pos += 5;
                Value::Boolean(false)
            }
            Some(c) if c.is_ascii_digit() && self.is_datetime() => Value::Datetime(self.datetime()?),
            // Numbers, `inf` and `nan`, and bare words, which `number` names as missing quotes.
            Some(c) if is_bare(c) || c == b'+' => self.number()?,
            _ => return self.expected("a value"),
        };
        if let Some(c) = self.peek() {
            if is_bare(c) || c == b'.' {
                return self.expected("a space, `,`, `]`, `}` or a new line after the value");
            }
        }
        Ok(Item { span: Span::new(start, self.pos), value })
    }

    fn is_datetime(&self) -> bool {
        let digits = |from: usize, n: usize| (from..from + n).all(|i| self.peek_at(i).is_some_and(|c| c.is_ascii_digit()));
        (digits(0, 4) && self.peek_at(4) == Some(b'-')) || (digits(0, 2) && self.peek_at(2) == Some(b':'))
    }

    fn datetime(&mut self) -> Result<Datetime, Error> {
        let start = self.pos;
        let date_time_chars = |c: u8| c.is_ascii_digit() || matches!(c, b'-' | b':' | b'.' | b'+' | b'T' | b't' | b'Z' | b'z');
        while let Some(c) = self.peek() {
            if date_time_chars(c) {
                self.pos += 1;
            } else if c == b' ' && self.pos - start == 10 && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                // `1979-05-27 07:32:00`: a space may stand for the `T`.
                self.pos += 1;
            } else {
                break;
            }
        }
        let written = &self.text[start..self.pos];
        written.parse::<Datetime>().map_err(|_| Error::at(format!("`{written}` is not a valid date or time"), start..self.pos))
    }

    fn number(&mut self) -> Result<Value<'a>, Error> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'+' | b'-' | b'.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let written = &self.text[start..self.pos];
        if let Some(n) = plain_integer(written) {
            return Ok(Value::Integer(n));
        }
        let span = start..self.pos;
        let bad = || match written.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') {
            true => Error::at(format!("`{written}` is not a valid number"), span.clone()),
            false => Error::at(format!("`{written}` is not a value (a string needs quotes)"), span.clone()),
        };
        let unsigned = written.strip_prefix(['+', '-']).unwrap_or(written);
        match unsigned {
            "inf" => return Ok(Value::Float(if written.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY })),
            "nan" => return Ok(Value::Float(if written.starts_with('-') { -f64::NAN } else { f64::NAN })),
            _ => {}
        }
        if let Some((radix, digits)) = [("0x", 16), ("0o", 8), ("0b", 2)].iter().find_map(|(p, r)| written.strip_prefix(p).map(|d| (*r, d)))
        {
            if !underscores_between(digits, |c| c.is_digit(radix)) {
                return Err(bad());
            }
            return i64::from_str_radix(&digits.replace('_', ""), radix)
                .map(Value::Integer)
                .map_err(|_| Error::at(format!("`{written}` does not fit in a 64-bit integer"), span.clone()));
        }
        // Decimal: an integer part, then an optional fraction and an optional exponent.
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(e) => (&unsigned[..e], Some(&unsigned[e + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (mantissa, None),
        };
        let digit = |c: char| c.is_ascii_digit();
        let whole_ok = underscores_between(whole, digit) && (whole == "0" || !whole.starts_with('0'));
        let fraction_ok = fraction.is_none_or(|f| underscores_between(f, digit));
        let exponent_ok = exponent.is_none_or(|e| underscores_between(e.strip_prefix(['+', '-']).unwrap_or(e), digit));
        if !(whole_ok && fraction_ok && exponent_ok) {
            return Err(bad());
        }
        let plain = match written.contains('_') {
            true => Cow::Owned(written.replace('_', "")),
            false => Cow::Borrowed(written),
        };
        if fraction.is_some() || exponent.is_some() {
            plain.parse::<f64>().map(Value::Float).map_err(|_| bad())
        } else {
            plain
                .parse::<i64>()
                .map(Value::Integer)
                .map_err(|_| Error::at(format!("`{written}` does not fit in a 64-bit integer"), span.clone()))
        }
    }

    /// `"…"`, after the caller checked it is not `"""`. Borrows the text when there is no escape.
    fn basic_string(&mut self) -> Result<Cow<'a, str>, Error> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.text[start..self.pos - 1]));
                }
                Some(b'\\') => break,
                Some(b'\n' | b'\r') | None => return Err(Error::at("this string is not closed on its line", open..self.pos)),
                Some(c) if is_control(c) => return self.error("a control character is not allowed in a string; write it as an escape"),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(b'\n' | b'\r') | None => return Err(Error::at("this string is not closed on its line", open..self.pos)),
                Some(c) if is_control(c) => return self.error("a control character is not allowed in a string; write it as an escape"),
                Some(_) => self.copy_char(&mut out),
            }
        }
    }

    fn copy_char(&mut self, out: &mut String) {
        let c = self.text[self.pos..].chars().next().expect("not at the end");
        out.push(c);
        self.pos += c.len_utf8();
    }

    /// A backslash escape, the reader at the backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), Error> {
        let start = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'b') => '\u{8}',
            Some(b't') => '\t',
            Some(b'n') => '\n',
            Some(b'f') => '\u{c}',
            Some(b'r') => '\r',
            Some(b'e') => '\u{1b}',
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(kind @ (b'x' | b'u' | b'U')) => {
                let n = match kind {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = self.text.get(self.pos + 1..self.pos + 1 + n).filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                let Some(c) = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32) else {
                    let end = (self.pos + 1 + n).min(self.b.len());
                    return Err(Error::at("this escape is not a valid Unicode scalar value", start..end));
                };
                self.pos += n;
                c
            }
            _ => {
                let found = self.text[self.pos..].chars().next().map_or_else(|| "\\".to_owned(), |c| format!("\\{c}"));
                return Err(Error::at(format!("`{found}` is not a valid escape"), start..self.pos));
            }
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    /// `'…'`, after the caller checked it is not `'''`.
    fn literal_string(&mut self) -> Result<Cow<'a, str>, Error> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b'\'') => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.text[start..self.pos - 1]));
                }
                Some(b'\n' | b'\r') | None => return Err(Error::at("this string is not closed on its line", open..self.pos)),
                Some(c) if is_control(c) => return self.error("a control character is not allowed in a string"),
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Skips the new line right after an opening `"""` or `'''`.
    fn skip_first_newline(&mut self) {
        if self.peek() == Some(b'\n') {
            self.pos += 1;
        } else if self.starts(b"\r\n") {
            self.pos += 2;
        }
    }

    /// At a closing run of `quote`s (three to five: up to two belong to the string),
    /// how many of them belong to the string; `None` if this is not a closing run.
    fn closing(&self, quote: u8) -> Result<Option<usize>, Error> {
        let run = self.b[self.pos..].iter().take_while(|&&c| c == quote).count();
        match run {
            0..=2 => Ok(None),
            3..=5 => Ok(Some(run - 3)),
            _ => self.error("too many quotes at the end of a multi-line string"),
        }
    }

    fn multiline_basic(&mut self) -> Result<Cow<'a, str>, Error> {
        let open = self.pos;
        self.pos += 3;
        self.skip_first_newline();
        let mut out: Option<String> = None;
        let mut plain_from = self.pos;
        loop {
            match self.peek() {
                None => return Err(Error::at("this multi-line string is never closed", open..open + 3)),
                Some(b'"') => match self.closing(b'"')? {
                    Some(quotes) => {
                        let end = self.pos + quotes;
                        self.pos += quotes + 3;
                        return Ok(match out {
                            None => Cow::Borrowed(&self.text[plain_from..end]),
                            Some(mut s) => {
                                s.push_str(&self.text[plain_from..end]);
                                Cow::Owned(s)
                            }
                        });
                    }
                    None => self.pos += 1,
                },
                Some(b'\\') => {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(&self.text[plain_from..self.pos]);
                    if self.line_ending_backslash() {
                        // Trims the backslash, the new line and every space and new line after it.
                        self.pos += 1;
                        loop {
                            match self.peek() {
                                Some(b' ' | b'\t' | b'\n') => self.pos += 1,
                                Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                                _ => break,
                            }
                        }
                    } else {
                        self.escape(s)?;
                    }
                    plain_from = self.pos;
                }
                Some(b'\n') => self.pos += 1,
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                Some(c) if is_control(c) => return self.error("a control character is not allowed in a string; write it as an escape"),
                Some(_) => self.pos += 1,
            }
        }
    }

    /// A backslash followed only by spaces up to the end of its line.
    fn line_ending_backslash(&self) -> bool {
        let rest = &self.b[self.pos + 1..];
        let spaces = rest.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
        matches!(rest.get(spaces), Some(b'\n')) || rest[spaces..].starts_with(b"\r\n")
    }

    fn multiline_literal(&mut self) -> Result<Cow<'a, str>, Error> {
        let open = self.pos;
        self.pos += 3;
        self.skip_first_newline();
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err(Error::at("this multi-line string is never closed", open..open + 3)),
                Some(b'\'') => match self.closing(b'\'')? {
                    Some(quotes) => {
                        let end = self.pos + quotes;
                        self.pos += quotes + 3;
                        return Ok(Cow::Borrowed(&self.text[start..end]));
                    }
                    None => self.pos += 1,
                },
                Some(b'\n') => self.pos += 1,
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                Some(c) if is_control(c) => return self.error("a control character is not allowed in a string"),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Array<'a>, Error> {
        let open = self.pos;
        self.pos += 1;
        let mut array = Array::default();
        loop {
            self.blank()?;
            match self.peek() {
                Some(b']') => break,
                None => return Err(Error::at("this array is never closed", open..open + 1)),
                _ => {}
            }
            array.items.push(self.value(depth)?);
            self.blank()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => break,
                _ => return self.expected("`,` or `]` in the array"),
            }
        }
        self.pos += 1;
        Ok(array)
    }

    /// `{ … }`: new lines, comments and a trailing comma are allowed, as TOML 1.1 allows them.
    fn inline_table(&mut self, depth: usize) -> Result<Table<'a>, Error> {
        let open = self.pos;
        self.pos += 1;
        let mut table = Table::new(Made::Dotted);
        loop {
            self.blank()?;
            match self.peek() {
                Some(b'}') => break,
                None => return Err(Error::at("this inline table is never closed", open..open + 1)),
                _ => {}
            }
            self.key_value(&mut table, depth)?;
            self.blank()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                _ => return self.expected("`,` or `}` in the inline table"),
            }
        }
        self.pos += 1;
        table.made = Made::Inline;
        Ok(table)
    }
}

/// The common case, read in one pass: an optional sign and decimal digits with no
/// leading zero and no underscore, that fit in an `i64`. Anything else is `None` and
/// takes the full way.
fn plain_integer(written: &str) -> Option<i64> {
    let (negative, digits) = match written.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        all => (false, all),
    };
    if digits.is_empty() || digits.len() > 18 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if negative { -n } else { n })
}

/// `text` is one or more digits, with single underscores only between two digits.
fn underscores_between(text: &str, digit: impl Fn(char) -> bool) -> bool {
    let mut previous_digit = false;
    for c in text.chars() {
        if digit(c) {
            previous_digit = true;
        } else if c == '_' && previous_digit {
            previous_digit = false;
        } else {
            return false;
        }
    }
    previous_digit
}

/// The serde side: hands the tree to whatever is asked for, by value.
struct ItemDe<'a>(Item<'a>);

impl<'de> de::Deserializer<'de> for ItemDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let Item { span, value } = self.0;
        let result = match value {
            Value::String(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Value::String(Cow::Owned(s)) => visitor.visit_string(s),
            Value::Integer(i) => visitor.visit_i64(i),
            Value::Float(f) => visitor.visit_f64(f),
            Value::Boolean(b) => visitor.visit_bool(b),
            Value::Datetime(d) => visitor.visit_map(toml_datetime::de::DatetimeDeserializer::new(d)),
            Value::Array(a) => {
                let mut seq = SeqDe(a.items.into_iter());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.next() {
                    None => Ok(value),
                    Some(extra) => Err(Error::at("more values in this array than expected", extra.span.range())),
                }
            }
            Value::Table(t) => visitor.visit_map(MapDe { entries: t.entries.into_iter(), value: None }),
        };
        result.map_err(|e| e.within(span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if serde_spanned::de::is_spanned(name) {
            let span = self.0.span;
            let map = serde_spanned::de::SpannedDeserializer::<ItemDe<'de>, Error>::new(self, span.range());
            return visitor.visit_map(map).map_err(|e| e.within(span));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let Item { span, value } = self.0;
        let result = match value {
            Value::String(Cow::Borrowed(s)) => visitor.visit_enum(de::value::BorrowedStrDeserializer::<Error>::new(s)),
            Value::String(Cow::Owned(s)) => visitor.visit_enum(s.into_deserializer()),
            Value::Table(t) if t.entries.len() == 1 => {
                let Entry { key, key_span, item } = t.entries.into_iter().next().expect("one entry");
                visitor.visit_enum(EnumDe { key, key_span, item })
            }
            _ => Err(de::Error::custom("expected a string or a table with one key for this choice")),
        };
        result.map_err(|e| e.within(span))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq
        tuple tuple_struct map identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Error> for ItemDe<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

struct SeqDe<'a>(std::vec::IntoIter<Item<'a>>);

impl<'de> de::SeqAccess<'de> for SeqDe<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(item) => seed.deserialize(ItemDe(item)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapDe<'a> {
    entries: std::vec::IntoIter<Entry<'a>>,
    value: Option<Item<'a>>,
}

/// A table's key, handed over as a borrowed string when it has no escapes.
struct KeyDe<'a>(Cow<'a, str>);

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit unit_struct
        newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some(Entry { key, key_span, item }) => {
                self.value = Some(item);
                seed.deserialize(KeyDe(key)).map(Some).map_err(|e| e.within(key_span))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let item = self.value.take().expect("serde asks for a key before its value");
        seed.deserialize(ItemDe(item))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// `{ variant = value }` for an enum's variant with data.
struct EnumDe<'a> {
    key: Cow<'a, str>,
    key_span: Span,
    item: Item<'a>,
}

impl<'de> de::EnumAccess<'de> for EnumDe<'de> {
    type Error = Error;
    type Variant = ItemDe<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, ItemDe<'de>), Error> {
        let span = self.key_span;
        let variant = seed.deserialize(KeyDe(self.key)).map_err(|e| e.within(span))?;
        Ok((variant, ItemDe(self.item)))
    }
}

impl<'de> de::VariantAccess<'de> for ItemDe<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        serde::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
