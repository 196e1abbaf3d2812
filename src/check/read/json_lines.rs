//! Histories as JSON lines: one event object per line, e.g.
//!
//! ```text
//! {"process":1,"type":"invoke","f":"write","key":"x","value":3}
//! {"process":1,"type":"ok","f":"write","key":"x","value":3}
//! {"process":2,"type":"invoke","f":"cas","value":[3,4]}
//! ```
//!
//! The fields and their meaning are Jepsen's (see [`super::jepsen_event`]);
//! `key` is optional and blank lines are ignored. [`write_json_lines`] writes
//! the same format, so a history recorded by the simulator can be saved and
//! checked again with `electorate lincheck`.

use std::io::{self, Write};

use serde::Serialize;

use crate::check::history::{Event, Value};
use crate::check::position::Position;
use crate::check::read::edn::{Edn, EdnValue};
use crate::check::read::jepsen_event::decode_event;
use crate::check::read::{EventsRead, ReadError};

/// Reads the events of a JSON lines history.
pub fn read_json_lines(text: &str) -> Result<EventsRead, ReadError> {
    let mut read = EventsRead::default();
    for (line_index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_number = line_index + 1;
        let json: serde_json::Value =
            serde_json::from_str(line).map_err(|error| ReadError::Malformed {
                position: Position {
                    line: line_number,
                    column: error.column().max(1),
                },
                reason: json_reason(&error),
            })?;
        // Field errors point at the start of the line: serde_json does not
        // keep positions inside a parsed value.
        let position = Position {
            line: line_number,
            column: 1,
        };
        let decoded = decode_event(&to_edn(json)).map_err(|error| ReadError::Malformed {
            position,
            reason: error.reason,
        })?;
        read.push(decoded, position);
    }
    Ok(read)
}

/// serde_json's message without its own " at line 1 column 7" suffix: the
/// caller reports the position in the whole file.
fn json_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(suffix) => message[..suffix].to_string(),
        None => message,
    }
}

/// The same value in EDN terms. Every value gets offset 0: positions inside
/// a line are not known (see above).
fn to_edn(json: serde_json::Value) -> Edn {
    use serde_json::Value as Json;
    let value = match json {
        Json::Null => EdnValue::Nil,
        Json::Bool(boolean) => EdnValue::Boolean(boolean),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => EdnValue::Integer(integer),
            None => EdnValue::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(text) => EdnValue::String(text),
        Json::Array(items) => EdnValue::Vector(items.into_iter().map(to_edn).collect()),
        Json::Object(entries) => EdnValue::Map(
            entries
                .into_iter()
                .map(|(key, value)| (to_edn(Json::String(key)), to_edn(value)))
                .collect(),
        ),
    };
    Edn { value, offset: 0 }
}

/// One event as written: the fields in the order people read them.
#[derive(Serialize)]
struct JsonEvent<'e> {
    process: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    f: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'e Value>,
    value: &'e Value,
}

/// Writes `events` as JSON lines, one event per line. Keywords are written
/// as their EDN text (`":x"`), which reads back as a string.
pub fn write_json_lines(events: &[Event], mut writer: impl Write) -> io::Result<()> {
    for event in events {
        let json = JsonEvent {
            process: event.process,
            kind: event.kind.name(),
            f: event.command.function_name(),
            key: event.command.key(),
            value: &event.command.value,
        };
        serde_json::to_writer(&mut writer, &json)?;
        writer.write_all(b"\n")?;
    }
    Ok(())
}

/// `events` as JSON lines text.
pub fn to_json_lines(events: &[Event]) -> String {
    let mut bytes = Vec::new();
    write_json_lines(events, &mut bytes).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::history::Command;
    use crate::check::read::assert_malformed_at;

    fn sample_events() -> Vec<Event> {
        vec![
            Event::invoke(1, Command::write(3).with_key("x")),
            Event::invoke(2, Command::read()),
            Event::ok(1, Command::write(3).with_key("x")),
            Event::ok(2, Command::read_returning(-3)),
            Event::invoke(3, Command::compare_and_set(Value::Nil, "a")),
            Event::info(3, Command::compare_and_set(Value::Nil, "a")),
            Event::invoke(4, Command::write(true).with_key(7)),
        ]
    }

    #[test]
    fn writes_the_documented_format() {
        let text = to_json_lines(&sample_events()[..1]);
        assert_eq!(
            text,
            "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"x\",\"value\":3}\n"
        );
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let events = sample_events();
        let read = read_json_lines(&to_json_lines(&events)).unwrap();
        let without_positions: Vec<Event> = read
            .events
            .into_iter()
            .map(|event| Event {
                position: None,
                ..event
            })
            .collect();
        assert_eq!(without_positions, events);
    }

    #[test]
    fn skips_blank_lines_and_the_nemesis_and_keeps_line_numbers() {
        let text = "\n{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"start\"}\n{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"time\":12}\n";
        let read = read_json_lines(text).unwrap();
        assert_eq!(read.skipped_event_count, 1);
        assert_eq!(
            read.events,
            vec![Event::invoke(0, Command::read()).at(Position { line: 3, column: 1 })]
        );
    }

    #[test]
    fn malformed_lines_are_errors_with_line_and_column() {
        let cases = [
            ("{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{\"process\":0,\"type\":\"ok\",,}", 2, 26, "key must be a string"),
            ("{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n\n{\"process\":0,\"type\":\"ok\",\"f\":\"sing\"}", 3, 1, "`f` must be one of read, write, cas"),
            ("[1,2]", 1, 1, "must be a map"),
            ("{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1.5}", 1, 1, "found a float"),
            ("{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1} trailing", 1, 49, "trailing"),
        ];
        assert_malformed_at(read_json_lines, &cases);
    }
}
