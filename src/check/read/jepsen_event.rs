//! Turns one Jepsen event map into an [`Event`], whichever format it came in.
//!
//! Both readers hand over the map as [`Edn`]: the EDN reader directly, the
//! JSON lines reader after converting (JSON strings become EDN strings, so
//! field names and values are accepted as keywords or as strings). The
//! fields used are `process`, `type`, `f`, `value` and the optional `key`;
//! others (`time`, `index`, `error`, ...) are ignored. An event whose process
//! is not an integer (Jepsen's `:nemesis`) is not a client operation and is
//! skipped.

use crate::check::history::{Command, Event, EventKind, ProcessId, Value};
use crate::check::read::edn::{Edn, EdnError, EdnValue};

/// What one event map turned out to be.
#[derive(Debug, PartialEq)]
pub(crate) enum Decoded {
    Event(Event),
    /// Not a client operation (a nemesis event): nothing to check.
    Skipped,
}

/// The fields of an event map that matter, each with where it was found.
#[derive(Default)]
struct Fields<'a> {
    process: Option<&'a Edn>,
    kind: Option<&'a Edn>,
    function: Option<&'a Edn>,
    value: Option<&'a Edn>,
    key: Option<&'a Edn>,
}

fn malformed<T>(at: &Edn, reason: impl Into<String>) -> Result<T, EdnError> {
    Err(EdnError {
        offset: at.offset,
        reason: reason.into(),
    })
}

/// Decodes `map`, an event. The position of the event is left for the
/// caller to attach.
pub(crate) fn decode_event(map: &Edn) -> Result<Decoded, EdnError> {
    let entries = match &map.value {
        EdnValue::Map(entries) => entries,
        // Some Jepsen versions print events as records: `#jepsen.history.Op{...}`.
        EdnValue::Tagged(_, inner) => return decode_event(inner),
        other => {
            return malformed(
                map,
                format!("an event must be a map, found {}", other.kind_name()),
            )
        }
    };
    let fields = collect_fields(entries)?;
    let Some(process) = fields.process else {
        return malformed(map, "this event has no `process`");
    };
    let process = match &process.value {
        EdnValue::Integer(process) if *process >= 0 => *process as ProcessId,
        EdnValue::Keyword(_) | EdnValue::String(_) | EdnValue::Symbol(_) => {
            return Ok(Decoded::Skipped)
        }
        other => {
            return malformed(
                process,
                format!(
                    "`process` must be a non-negative integer or a name like :nemesis, found {}",
                    describe(other)
                ),
            )
        }
    };
    let Some(kind) = fields.kind else {
        return malformed(map, "this event has no `type`");
    };
    let kind = match name_of(kind) {
        Some("invoke") => EventKind::Invoke,
        Some("ok") => EventKind::Ok,
        Some("fail") => EventKind::Fail,
        Some("info") => EventKind::Info,
        _ => {
            return malformed(
                kind,
                format!(
                    "`type` must be invoke, ok, fail or info, found {}",
                    describe(&kind.value)
                ),
            )
        }
    };
    let Some(function) = fields.function else {
        return malformed(map, "this event has no `f`");
    };
    let key = match fields.key {
        None => None,
        Some(key) => decode_key(key)?,
    };
    let command = match name_of(function) {
        Some("read") => Command::Read {
            key,
            value: match fields.value {
                None => None,
                Some(value) => optional_value(value)?,
            },
        },
        Some("write") => Command::Write {
            key,
            value: required_value(map, fields.value, "a write")?,
        },
        Some("cas") => {
            let (expected, new) = cas_pair(map, fields.value)?;
            Command::CompareAndSet { key, expected, new }
        }
        _ => {
            return malformed(
                function,
                format!(
                    "`f` must be read, write or cas, found {}",
                    describe(&function.value)
                ),
            )
        }
    };
    Ok(Decoded::Event(Event::new(process, kind, command)))
}

fn collect_fields(entries: &[(Edn, Edn)]) -> Result<Fields<'_>, EdnError> {
    let mut fields = Fields::default();
    for (key, value) in entries {
        let slot = match name_of(key) {
            Some("process") => &mut fields.process,
            Some("type") => &mut fields.kind,
            Some("f") => &mut fields.function,
            Some("value") => &mut fields.value,
            Some("key") => &mut fields.key,
            _ => continue,
        };
        if slot.is_some() {
            return malformed(
                key,
                format!(
                    "this event has `{}` twice",
                    name_of(key).unwrap_or_default()
                ),
            );
        }
        *slot = Some(value);
    }
    Ok(fields)
}

/// The name in a keyword (`:ok`) or string (`"ok"`).
fn name_of(value: &Edn) -> Option<&str> {
    match &value.value {
        EdnValue::Keyword(name) | EdnValue::String(name) => Some(name),
        _ => None,
    }
}

/// A value as the user wrote it, for error messages.
fn describe(value: &EdnValue) -> String {
    match value {
        EdnValue::Keyword(name) => format!("`:{name}`"),
        EdnValue::String(text) => format!("{text:?}"),
        EdnValue::Integer(integer) => format!("`{integer}`"),
        other => other.kind_name().to_string(),
    }
}

fn decode_key(key: &Edn) -> Result<Option<String>, EdnError> {
    Ok(match &key.value {
        EdnValue::Nil => None,
        EdnValue::String(name) | EdnValue::Keyword(name) | EdnValue::Symbol(name) => {
            Some(name.clone())
        }
        EdnValue::Integer(integer) => Some(integer.to_string()),
        other => {
            return malformed(
                key,
                format!(
                    "`key` must be a string, keyword or integer, found {}",
                    other.kind_name()
                ),
            )
        }
    })
}

fn optional_value(value: &Edn) -> Result<Option<Value>, EdnError> {
    match &value.value {
        EdnValue::Nil => Ok(None),
        EdnValue::Integer(integer) if *integer >= 0 => Ok(Some(*integer as Value)),
        other => malformed(
            value,
            format!(
                "values must be nil or non-negative integers, found {}",
                describe(other)
            ),
        ),
    }
}

fn required_value(event: &Edn, value: Option<&Edn>, what: &str) -> Result<Value, EdnError> {
    let Some(value) = value else {
        return malformed(event, format!("{what} needs a `value`"));
    };
    match optional_value(value)? {
        Some(value) => Ok(value),
        None => malformed(value, format!("{what} needs an integer `value`, found nil")),
    }
}

/// A compare-and-set's `[expected new]`.
fn cas_pair(event: &Edn, value: Option<&Edn>) -> Result<(Option<Value>, Value), EdnError> {
    let Some(value) = value else {
        return malformed(event, "a cas needs a `value` [expected new]");
    };
    match &value.value {
        EdnValue::Vector(pair) | EdnValue::List(pair) if pair.len() == 2 => Ok((
            optional_value(&pair[0])?,
            required_value(value, Some(&pair[1]), "a cas")?,
        )),
        other => malformed(
            value,
            format!(
                "a cas `value` must be a pair [expected new], found {}",
                describe(other)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::read::edn::parse_all;

    fn decode(text: &str) -> Result<Decoded, EdnError> {
        decode_event(&parse_all(text).unwrap()[0])
    }

    fn event(text: &str) -> Event {
        match decode(text).unwrap() {
            Decoded::Event(event) => event,
            Decoded::Skipped => panic!("skipped {text}"),
        }
    }

    #[test]
    fn decodes_each_function() {
        assert_eq!(
            event("{:process 7, :type :invoke, :f :cas, :value [2 3]}"),
            Event::invoke(7, Command::compare_and_set(Some(2), 3))
        );
        assert_eq!(
            event("{:process 0, :type :ok, :f :read, :value nil, :time 5}"),
            Event::ok(0, Command::read())
        );
        assert_eq!(
            event("{:process 1, :type :info, :f :write, :value 4}"),
            Event::info(1, Command::write(4))
        );
        assert_eq!(
            event(r#"{"process" 2, "type" "fail", "f" "cas", "key" "x", "value" [nil 1]}"#),
            Event::fail(2, Command::compare_and_set(None, 1).with_key("x"))
        );
        assert_eq!(
            event("#jepsen.history.Op{:process 3, :type :ok, :f :read, :value 9, :key 12}"),
            Event::ok(3, Command::read_returning(Some(9)).with_key("12"))
        );
    }

    #[test]
    fn skips_nemesis_events() {
        assert_eq!(
            decode("{:process :nemesis, :type :info, :f :start, :value nil}"),
            Ok(Decoded::Skipped)
        );
    }

    #[test]
    fn malformed_events_are_errors_pointing_at_the_field() {
        let cases = [
            ("[1 2]", 0, "must be a map"),
            ("{:type :ok, :f :read}", 0, "no `process`"),
            ("{:process -1, :type :ok, :f :read}", 10, "non-negative"),
            (
                "{:process 1, :type :done, :f :read}",
                19,
                "invoke, ok, fail or info",
            ),
            ("{:process 1, :type :ok}", 0, "no `f`"),
            ("{:process 1, :type :ok, :f :add}", 27, "read, write or cas"),
            ("{:process 1, :type :ok, :f :write}", 0, "needs a `value`"),
            (
                "{:process 1, :type :ok, :f :write, :value nil}",
                42,
                "found nil",
            ),
            ("{:process 1, :type :ok, :f :cas, :value [1]}", 40, "pair"),
            (
                "{:process 1, :type :ok, :f :read, :value \"x\"}",
                41,
                "nil or non-negative",
            ),
            ("{:process 1, :process 2, :type :ok, :f :read}", 13, "twice"),
            (
                "{:process 1, :type :ok, :f :read, :key [1]}",
                39,
                "`key` must be",
            ),
        ];
        for (text, offset, reason) in cases {
            let error = decode(text).unwrap_err();
            assert_eq!(error.offset, offset, "{text}: {error}");
            assert!(error.reason.contains(reason), "{text}: {error}");
        }
    }
}
