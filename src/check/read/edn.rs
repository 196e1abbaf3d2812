//! A reader for EDN, the data notation Jepsen writes its histories in.
//!
//! No EDN crate on crates.io keeps the source position of every value, and
//! error messages about a history need it ("line 12, column 3: `:f :add` is
//! not read, write or cas"), so this is a small reader of our own. It reads
//! the whole of EDN that Jepsen histories use, and the rest of the spec that
//! costs little: nil, booleans, integers (with an `N` suffix), floats (with
//! an `M` suffix, `##Inf`, `##-Inf`, `##NaN`), strings, characters, keywords,
//! symbols, lists, vectors, maps, sets, tagged values (`#inst "…"`,
//! `#jepsen.history.Op{…}`), comments (`;`) and discards (`#_`). Commas are
//! whitespace.
//!
//! Untrusted input never panics: every failure is an [`EdnError`] with the
//! byte offset of the problem, and nesting is bounded by [`MAX_DEPTH`] so a
//! hostile file cannot overflow the stack.

/// Deepest nesting of collections accepted. Jepsen histories nest three
/// deep (vector of maps of vectors); this leaves ample room.
pub const MAX_DEPTH: usize = 128;

/// A value with the byte offset in the source where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Edn {
    pub value: EdnValue,
    pub offset: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EdnValue {
    Nil,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Character(char),
    /// A keyword without its leading colon: `:cas` is `Keyword("cas")`.
    Keyword(String),
    Symbol(String),
    List(Vec<Edn>),
    Vector(Vec<Edn>),
    /// Entries in source order; duplicate keys are left for the caller to judge.
    Map(Vec<(Edn, Edn)>),
    Set(Vec<Edn>),
    Tagged(String, Box<Edn>),
}

impl EdnValue {
    /// A short description for error messages ("a keyword", "a map").
    pub fn kind_name(&self) -> &'static str {
        match self {
            EdnValue::Nil => "nil",
            EdnValue::Boolean(_) => "a boolean",
            EdnValue::Integer(_) => "an integer",
            EdnValue::Float(_) => "a float",
            EdnValue::String(_) => "a string",
            EdnValue::Character(_) => "a character",
            EdnValue::Keyword(_) => "a keyword",
            EdnValue::Symbol(_) => "a symbol",
            EdnValue::List(_) => "a list",
            EdnValue::Vector(_) => "a vector",
            EdnValue::Map(_) => "a map",
            EdnValue::Set(_) => "a set",
            EdnValue::Tagged(..) => "a tagged value",
        }
    }
}

/// Why the text is not EDN, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct EdnError {
    pub offset: usize,
    pub reason: String,
}

/// Reads every top-level value of `text`.
pub fn parse_all(text: &str) -> Result<Vec<Edn>, EdnError> {
    let mut reader = Reader { text, offset: 0 };
    let mut values = Vec::new();
    while let Some(value) = reader.next_value(0, None)? {
        values.push(value);
    }
    Ok(values)
}

/// The collection a value is read inside of.
#[derive(Clone, Copy)]
struct Enclosing {
    closing: char,
    opening_offset: usize,
}

struct Reader<'t> {
    text: &'t str,
    /// Invariant: a character boundary of `text`.
    offset: usize,
}

/// Characters that end a token (symbol, keyword, number, character literal).
fn is_delimiter(character: char) -> bool {
    // A `match` rather than `"()[]{}...".contains`: this runs on every
    // character of a token, and the string search was a sixth of read time.
    matches!(
        character,
        '(' | ')' | '[' | ']' | '{' | '}' | '"' | ';' | ','
    ) || character.is_whitespace()
}

impl<'t> Reader<'t> {
    fn peek(&self) -> Option<char> {
        self.text[self.offset..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let character = self.peek()?;
        self.offset += character.len_utf8();
        Some(character)
    }

    fn error<T>(&self, offset: usize, reason: impl Into<String>) -> Result<T, EdnError> {
        Err(EdnError {
            offset,
            reason: reason.into(),
        })
    }

    /// Skips whitespace, commas and comments.
    fn skip_blank(&mut self) {
        while let Some(character) = self.peek() {
            if character == ';' {
                while !matches!(self.bump(), None | Some('\n')) {}
            } else if character.is_whitespace() || character == ',' {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// The next value, or `None` at the end of the enclosing collection
    /// (its closing character, consumed) or, at the top level, at the end of
    /// the text.
    fn next_value(
        &mut self,
        depth: usize,
        enclosing: Option<Enclosing>,
    ) -> Result<Option<Edn>, EdnError> {
        loop {
            self.skip_blank();
            let start = self.offset;
            let Some(character) = self.bump() else {
                return match enclosing {
                    None => Ok(None),
                    // Point at the opening: that is where the user must look.
                    Some(Enclosing {
                        closing,
                        opening_offset,
                    }) => self.error(
                        opening_offset,
                        format!("this collection has no closing `{closing}`"),
                    ),
                };
            };
            if enclosing.is_some_and(|enclosing| enclosing.closing == character) {
                return Ok(None);
            }
            if depth >= MAX_DEPTH {
                return self.error(
                    start,
                    format!("values are nested deeper than {MAX_DEPTH} levels"),
                );
            }
            let value = match character {
                '(' => EdnValue::List(self.sequence(depth, start, ')')?),
                '[' => EdnValue::Vector(self.sequence(depth, start, ']')?),
                '{' => EdnValue::Map(self.map(depth, start)?),
                ')' | ']' | '}' => {
                    return self.error(start, format!("unexpected closing `{character}`"))
                }
                '"' => EdnValue::String(self.string(start)?),
                '\\' => EdnValue::Character(self.character(start)?),
                '#' => match self.dispatch(depth, start)? {
                    Some(value) => value,
                    // A discarded value (`#_`): read on.
                    None => continue,
                },
                _ => self.token(start)?,
            };
            return Ok(Some(Edn {
                value,
                offset: start,
            }));
        }
    }

    /// The items of a collection opened at `opening_offset`, up to `closing`.
    fn sequence(
        &mut self,
        depth: usize,
        opening_offset: usize,
        closing: char,
    ) -> Result<Vec<Edn>, EdnError> {
        let mut items = Vec::new();
        let enclosing = Enclosing {
            closing,
            opening_offset,
        };
        while let Some(item) = self.next_value(depth + 1, Some(enclosing))? {
            items.push(item);
        }
        Ok(items)
    }

    fn map(&mut self, depth: usize, start: usize) -> Result<Vec<(Edn, Edn)>, EdnError> {
        let mut items = self.sequence(depth, start, '}')?;
        if items.len() % 2 != 0 {
            let last = items.last().map_or(start, |item| item.offset);
            return self.error(last, "this map has a key without a value");
        }
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut drained = items.drain(..);
        while let (Some(key), Some(value)) = (drained.next(), drained.next()) {
            entries.push((key, value));
        }
        Ok(entries)
    }

    /// Reads after `#`: a set, a discard, a symbolic float or a tagged value.
    /// `None` means a discarded value.
    fn dispatch(&mut self, depth: usize, start: usize) -> Result<Option<EdnValue>, EdnError> {
        match self.peek() {
            Some('{') => {
                self.bump();
                Ok(Some(EdnValue::Set(self.sequence(depth, start, '}')?)))
            }
            Some('_') => {
                self.bump();
                match self.next_value(depth + 1, None)? {
                    Some(_) => Ok(None),
                    None => self.error(start, "`#_` discards nothing: the text ends"),
                }
            }
            Some('#') => {
                self.bump();
                let name = self.token_text();
                match name {
                    "Inf" => Ok(Some(EdnValue::Float(f64::INFINITY))),
                    "-Inf" => Ok(Some(EdnValue::Float(f64::NEG_INFINITY))),
                    "NaN" => Ok(Some(EdnValue::Float(f64::NAN))),
                    _ => self.error(start, format!("unknown symbolic value `##{name}`")),
                }
            }
            Some(character) if character.is_alphabetic() => {
                let tag = self.token_text().to_string();
                match self.next_value(depth + 1, None)? {
                    Some(value) => Ok(Some(EdnValue::Tagged(tag, Box::new(value)))),
                    None => self.error(
                        start,
                        format!("the tag `#{tag}` has no value: the text ends"),
                    ),
                }
            }
            _ => self.error(
                start,
                "`#` must start a set `#{`, a discard `#_` or a tag `#name`",
            ),
        }
    }

    /// The characters up to the next delimiter, consumed.
    fn token_text(&mut self) -> &'t str {
        let start = self.offset;
        while self
            .peek()
            .is_some_and(|character| !is_delimiter(character))
        {
            self.bump();
        }
        let text: &'t str = self.text;
        &text[start..self.offset]
    }

    /// A symbol, keyword, number, `nil`, `true` or `false` starting at `start`
    /// (its first character already consumed).
    fn token(&mut self, start: usize) -> Result<EdnValue, EdnError> {
        self.token_text();
        let text = &self.text[start..self.offset];
        let first = text.chars().next().unwrap_or(' ');
        let second = text.chars().nth(1);
        if first.is_ascii_digit()
            || (matches!(first, '+' | '-') && second.is_some_and(|c| c.is_ascii_digit()))
        {
            return self.number(start, text);
        }
        if let Some(name) = text.strip_prefix(':') {
            if name.is_empty() || name.starts_with(':') || name.ends_with('/') {
                return self.error(start, format!("`{text}` is not a keyword"));
            }
            return Ok(EdnValue::Keyword(name.to_string()));
        }
        Ok(match text {
            "nil" => EdnValue::Nil,
            "true" => EdnValue::Boolean(true),
            "false" => EdnValue::Boolean(false),
            _ if first.is_alphabetic() || "*+!-_?<>=./&%$|'".contains(first) => {
                EdnValue::Symbol(text.to_string())
            }
            _ => return self.error(start, format!("unexpected `{text}`")),
        })
    }

    fn number(&self, start: usize, text: &str) -> Result<EdnValue, EdnError> {
        if let Some(integer) = text
            .strip_suffix('N')
            .or(Some(text))
            .filter(|digits| is_integer(digits))
        {
            return match integer.parse::<i64>() {
                Ok(integer) => Ok(EdnValue::Integer(integer)),
                Err(_) => self.error(
                    start,
                    format!("the integer `{text}` does not fit in 64 bits"),
                ),
            };
        }
        match text.strip_suffix('M').unwrap_or(text).parse::<f64>() {
            Ok(float) if is_float(text.strip_suffix('M').unwrap_or(text)) => {
                Ok(EdnValue::Float(float))
            }
            _ => self.error(start, format!("`{text}` is not a number")),
        }
    }

    fn string(&mut self, start: usize) -> Result<String, EdnError> {
        let mut string = String::new();
        loop {
            let escape_offset = self.offset;
            match self.bump() {
                None => return self.error(start, "this string is never closed"),
                Some('"') => return Ok(string),
                Some('\\') => {
                    let escaped = match self.bump() {
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('n') => '\n',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('\\') => '\\',
                        Some('"') => '"',
                        Some('u') => self.unicode_escape(escape_offset)?,
                        _ => return self.error(escape_offset, "unknown escape in string"),
                    };
                    string.push(escaped);
                }
                Some(character) => string.push(character),
            }
        }
    }

    /// The four hex digits after `\u`, as a character.
    fn unicode_escape(&mut self, escape_offset: usize) -> Result<char, EdnError> {
        let digits = self.text.get(self.offset..self.offset + 4).unwrap_or("");
        let code = u32::from_str_radix(digits, 16)
            .ok()
            .filter(|_| digits.len() == 4);
        match code.and_then(char::from_u32) {
            Some(character) => {
                self.offset += 4;
                Ok(character)
            }
            None => self.error(
                escape_offset,
                "`\\u` must be followed by four hex digits of a character",
            ),
        }
    }

    fn character(&mut self, start: usize) -> Result<char, EdnError> {
        // A character literal is at least one character, even a delimiter:
        // `\(` and `\ ` are valid.
        let Some(first) = self.bump() else {
            return self.error(start, "a character literal needs a character after `\\`");
        };
        self.token_text();
        let name = &self.text[start + 1..self.offset];
        Ok(match name {
            "newline" => '\n',
            "return" => '\r',
            "space" => ' ',
            "tab" => '\t',
            "formfeed" => '\u{c}',
            "backspace" => '\u{8}',
            _ if name.chars().count() == 1 => first,
            _ if name.starts_with('u') && name.len() == 5 => {
                let code = u32::from_str_radix(&name[1..], 16).ok();
                match code.and_then(char::from_u32) {
                    Some(character) => character,
                    None => return self.error(start, format!("`\\{name}` is not a character")),
                }
            }
            _ => return self.error(start, format!("`\\{name}` is not a character")),
        })
    }
}

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
}

/// Whether `text` is an EDN float: digits with a fraction and/or exponent.
/// (Rust's `f64::from_str` also takes `inf` and `NaN`, which EDN spells
/// `##Inf` and `##NaN`.)
fn is_float(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .bytes()
            .all(|byte| byte.is_ascii_digit() || b".eE+-".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_one(text: &str) -> EdnValue {
        let mut values = parse_all(text).unwrap();
        assert_eq!(values.len(), 1, "{text}");
        values.remove(0).value
    }

    fn error_offset(text: &str) -> (usize, String) {
        let error = parse_all(text).unwrap_err();
        (error.offset, error.reason)
    }

    #[test]
    fn reads_a_jepsen_event() {
        let value = read_one("{:process 7, :type :invoke, :f :cas, :value [2 3]}");
        let EdnValue::Map(entries) = value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].0.value, EdnValue::Keyword("process".to_string()));
        assert_eq!(entries[0].1.value, EdnValue::Integer(7));
        assert_eq!(entries[0].1.offset, 10);
        let EdnValue::Vector(pair) = &entries[3].1.value else {
            panic!("not a vector")
        };
        assert_eq!(pair[1].value, EdnValue::Integer(3));
    }

    #[test]
    fn reads_scalars() {
        assert_eq!(read_one("nil"), EdnValue::Nil);
        assert_eq!(read_one("true"), EdnValue::Boolean(true));
        assert_eq!(read_one("-42"), EdnValue::Integer(-42));
        assert_eq!(read_one("+42N"), EdnValue::Integer(42));
        assert_eq!(read_one("1.5e3"), EdnValue::Float(1500.0));
        assert_eq!(read_one("2.5M"), EdnValue::Float(2.5));
        assert_eq!(read_one("##-Inf"), EdnValue::Float(f64::NEG_INFINITY));
        assert_eq!(
            read_one(r#""a\"b\u00e9\n""#),
            EdnValue::String("a\"bé\n".to_string())
        );
        assert_eq!(read_one(r"\newline"), EdnValue::Character('\n'));
        assert_eq!(read_one(r"\u0041"), EdnValue::Character('A'));
        assert_eq!(read_one(r"\("), EdnValue::Character('('));
        assert_eq!(read_one(":a/b"), EdnValue::Keyword("a/b".to_string()));
        assert_eq!(
            read_one("jepsen.history/op"),
            EdnValue::Symbol("jepsen.history/op".to_string())
        );
        assert_eq!(read_one("-"), EdnValue::Symbol("-".to_string()));
    }

    #[test]
    fn reads_collections_comments_discards_and_tags() {
        let text =
            "; a history\n(#{1 2} #_ {:ignored 1} [nil, \"x\"] #inst \"2020\" #my.Rec{:a 1})";
        let EdnValue::List(items) = read_one(text) else {
            panic!("not a list")
        };
        assert_eq!(items.len(), 4);
        assert!(matches!(&items[0].value, EdnValue::Set(members) if members.len() == 2));
        assert!(matches!(&items[1].value, EdnValue::Vector(members) if members.len() == 2));
        assert!(matches!(&items[2].value, EdnValue::Tagged(tag, _) if tag == "inst"));
        assert!(
            matches!(&items[3].value, EdnValue::Tagged(tag, inner) if tag == "my.Rec" && matches!(inner.value, EdnValue::Map(_)))
        );
    }

    #[test]
    fn reads_several_top_level_values() {
        let values = parse_all("{:a 1}\n{:a 2}\n").unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(values[1].offset, 7);
    }

    #[test]
    fn malformed_text_is_an_error_at_the_right_offset() {
        assert_eq!(error_offset("[1 2").0, 0);
        assert_eq!(error_offset("[[1] [2").0, 5);
        assert_eq!(error_offset("[1 2)").0, 4);
        assert_eq!(error_offset("{:a 1 :b}").0, 6);
        assert_eq!(error_offset("[1 \"abc").0, 3);
        assert_eq!(error_offset("[99999999999999999999]").0, 1);
        assert_eq!(error_offset("[1.2.3x]").0, 1);
        assert_eq!(error_offset(":").0, 0);
        assert_eq!(error_offset("[#]").0, 1);
        assert_eq!(error_offset("\"\\q\"").0, 1);
        assert_eq!(error_offset("\"\\u12\"").0, 1);
        assert_eq!(error_offset("#_").0, 0);
        assert_eq!(error_offset("\\").0, 0);
        assert_eq!(error_offset("##Foo").0, 0);
        assert_eq!(error_offset("@x").0, 0);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = "[".repeat(100_000);
        let (offset, reason) = error_offset(&text);
        assert_eq!(offset, MAX_DEPTH);
        assert!(reason.contains("nested deeper"), "{reason}");
    }

    #[test]
    fn never_panics_on_truncations_of_valid_text() {
        let text = "[{:process 1, :type :ok, :f :read, :value \"é\\u00e9\" :t #inst \"x\" :c \\a} ##Inf 2.5M]";
        for end in (0..=text.len()).filter(|&end| text.is_char_boundary(end)) {
            let _ = parse_all(&text[..end]);
        }
    }
}
