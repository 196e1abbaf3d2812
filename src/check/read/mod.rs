//! Reading histories from files: Jepsen's EDN and JSON lines.
//!
//! [`read_history_file`] detects the format (from the file's extension, else
//! from its first characters), reads the events and pairs them into a
//! [`History`]. Every failure is a [`ReadError`] that says where (line and
//! column) and why; no input makes a reader panic.

pub mod edn;
mod jepsen_edn;
mod jepsen_event;
mod json_lines;

use std::path::{Path, PathBuf};

use crate::check::history::{Event, EventKind, History, HistoryError};
use crate::check::position::Position;
use crate::check::value::Value;

use jepsen_event::Decoded;

pub use jepsen_edn::read_edn;
pub use json_lines::{read_json_lines, to_json_lines, write_json_lines};

/// The events a reader found, and those it set aside because they are not
/// client operations (Jepsen's `:nemesis` events).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventsRead {
    pub events: Vec<Event>,
    pub skipped_event_count: usize,
    pub nemesis: Vec<NemesisEvent>,
}

impl EventsRead {
    /// Adds what `decoded` turned out to be, found at `position`.
    pub(crate) fn push(&mut self, decoded: Decoded, position: Position) {
        match decoded {
            Decoded::Event(event) => self.events.push(event.at(position)),
            Decoded::Nemesis(nemesis) => {
                self.skipped_event_count += 1;
                self.nemesis.push(NemesisEvent {
                    before_event: self.events.len(),
                    position: Some(position),
                    ..nemesis
                });
            }
        }
    }
}

/// A `:nemesis` event (any event whose `:process` is not an integer): not
/// a client operation, so never checked, but kept to show faults in reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NemesisEvent {
    /// How many client events came before it.
    pub before_event: usize,
    pub kind: EventKind,
    /// Its `:f` (`start`, `kill`, ...).
    pub function: String,
    /// Its `:value` in EDN, or what kind of value it is.
    pub value: String,
    pub position: Option<Position>,
}

impl NemesisEvent {
    /// `start [:n1 :n2]`, for reports.
    pub fn summary(&self) -> String {
        format!("{} {} {}", self.kind.name(), self.function, self.value)
    }
}

/// The file formats a history can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryFormat {
    /// Jepsen's EDN: a vector of event maps, or one map after another.
    Edn,
    /// One JSON event object per line.
    JsonLines,
}

impl HistoryFormat {
    /// The format of `path` by its extension (`.edn`; `.jsonl`, `.ndjson`,
    /// `.json`), or else by its text: JSON lines start with `{"`, anything
    /// else is taken for EDN.
    pub fn detect(path: &Path, text: &str) -> HistoryFormat {
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .unwrap_or("");
        match extension.to_ascii_lowercase().as_str() {
            "edn" => HistoryFormat::Edn,
            "jsonl" | "ndjson" | "json" => HistoryFormat::JsonLines,
            _ => {
                // `{` starts both an EDN map and a JSON object; what follows
                // tells them apart (`{:process` against `{"process"`).
                let start = text.trim_start();
                let after_brace = start.strip_prefix('{').map(str::trim_start);
                if after_brace.is_some_and(|rest| rest.starts_with('"')) {
                    HistoryFormat::JsonLines
                } else {
                    HistoryFormat::Edn
                }
            }
        }
    }

    /// Reads the events of `text` in this format.
    pub fn read(self, text: &str) -> Result<EventsRead, ReadError> {
        match self {
            HistoryFormat::Edn => read_edn(text),
            HistoryFormat::JsonLines => read_json_lines(text),
        }
    }
}

/// Why a history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the file: {0}")]
    Io(#[source] std::io::Error),
    #[error("{position}: {reason}")]
    Malformed { position: Position, reason: String },
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// A history file that could not be read: which file, and why (with the
/// line and column, when the file is at fault).
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    /// Boxed: a history error carries two locations and two commands.
    #[source]
    pub error: Box<ReadError>,
}

/// A history read from a file, and how many non-client events it skipped.
#[derive(Clone, Debug)]
pub struct HistoryRead {
    pub history: History,
    pub format: HistoryFormat,
    pub skipped_event_count: usize,
    /// The nemesis events, in order.
    pub nemesis: Vec<NemesisEvent>,
}

/// One value in EDN (`nil`, `-1`, `"a"`, `:x`, `true`, `[1 2]`), as a
/// history would hold it: for command-line arguments such as an initial
/// value.
pub fn parse_value(text: &str) -> Result<Value, String> {
    let forms = edn::parse_all(text).map_err(|error| format!("`{text}` is not EDN: {error}"))?;
    let [form] = forms.as_slice() else {
        return Err(format!("`{text}` is not one EDN value"));
    };
    jepsen_event::decode_value(form).map_err(|error| format!("`{text}`: {error}"))
}

/// Reads and pairs the history in `text`.
pub fn read_history(text: &str, format: HistoryFormat) -> Result<HistoryRead, ReadError> {
    let read = format.read(text)?;
    Ok(HistoryRead {
        history: History::from_events(read.events)?,
        format,
        skipped_event_count: read.skipped_event_count,
        nemesis: read.nemesis,
    })
}

/// Reads the history in the file at `path`, detecting its format.
pub fn read_history_file(path: &Path) -> Result<HistoryRead, FileError> {
    let in_file = |error| FileError {
        path: path.to_path_buf(),
        error: Box::new(error),
    };
    let bytes = std::fs::read(path).map_err(|error| in_file(ReadError::Io(error)))?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).expect("valid_up_to marks a valid prefix");
        in_file(ReadError::Malformed {
            position: Position::of_offset(valid, valid.len()),
            reason: "the file is not UTF-8 text".to_string(),
        })
    })?;
    read_history(&text, HistoryFormat::detect(path, &text)).map_err(in_file)
}

/// Asserts that each text is refused as malformed at the given line and
/// column, with a reason that contains the given words: the error tests of
/// every reader share it.
#[cfg(test)]
pub(crate) fn assert_malformed_at(
    read: fn(&str) -> Result<EventsRead, ReadError>,
    cases: &[(&str, usize, usize, &str)],
) {
    for &(text, line, column, reason) in cases {
        let error = read(text).unwrap_err();
        let ReadError::Malformed {
            position,
            reason: found,
        } = &error
        else {
            panic!("{error}")
        };
        let expected = crate::check::position::Position { line, column };
        assert_eq!(*position, expected, "{text}: {error}");
        assert!(found.contains(reason), "{text}: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_by_extension_then_content() {
        let detect = |path: &str, text: &str| HistoryFormat::detect(Path::new(path), text);
        assert_eq!(detect("h.edn", "{\"process\":1}"), HistoryFormat::Edn);
        assert_eq!(
            detect("h.jsonl", "[{:process 1}]"),
            HistoryFormat::JsonLines
        );
        assert_eq!(
            detect("h.txt", "  { \"process\":1}"),
            HistoryFormat::JsonLines
        );
        assert_eq!(detect("h", "{:process 1}"), HistoryFormat::Edn);
        assert_eq!(detect("h", "[{:process 1}]"), HistoryFormat::Edn);
    }

    #[test]
    fn pairing_errors_keep_the_position_of_the_event() {
        let text = "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}";
        let error = read_history(text, HistoryFormat::JsonLines).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("line 2, column 1 (event 1): process 0 invokes"),
            "{error}"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_is_an_error_with_its_position() {
        let path =
            std::env::temp_dir().join(format!("electorate-not-utf8-{}.edn", std::process::id()));
        std::fs::write(&path, b"[\n  \xff]").unwrap();
        let error = read_history_file(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: line 2, column 3: the file is not UTF-8 text",
                path.display()
            )
        );
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        let error = read_history_file(Path::new("/nonexistent/history.edn")).unwrap_err();
        assert!(matches!(*error.error, ReadError::Io(_)), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("/nonexistent/history.edn: cannot read"),
            "{error}"
        );
    }
}
