//! Turns one Jepsen event map into an [`Event`], whichever format it came in.
//!
//! Both readers hand over the map as [`Edn`]: the EDN reader directly, the
//! JSON lines reader after converting (JSON strings become EDN strings, so
//! field names and values are accepted as keywords or as strings). The
//! fields used are `process`, `type`, `f`, `value` and the optional `key`;
//! others (`time`, `index`, `error`, ...) are ignored. Values are read as
//! they are (nil, integers, strings, keywords, booleans, and vectors and
//! sets of them); which shapes a function takes is the model's to judge. An event whose process
//! is not an integer (Jepsen's `:nemesis`) is not a client operation and is
//! skipped.

use crate::check::history::{Command, Event, EventKind, Function, ProcessId};
use crate::check::read::edn::{Edn, EdnError, EdnValue};
use crate::check::read::NemesisEvent;
use crate::check::value::Value;

/// What one event map turned out to be.
#[derive(Debug, PartialEq)]
pub(crate) enum Decoded {
    Event(Event),
    /// Not a client operation (a nemesis event): nothing to check. Its
    /// place (`before_event`, `position`) is left for the caller to fill.
    Nemesis(NemesisEvent),
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
            return Ok(Decoded::Nemesis(nemesis(&fields)))
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
    let Some(function_name) = name_of(function).and_then(Function::from_name) else {
        let names: Vec<&str> = Function::ALL
            .iter()
            .map(|function| function.name())
            .collect();
        return malformed(
            function,
            format!(
                "`f` must be one of {}, found {}",
                names.join(", "),
                describe(&function.value)
            ),
        );
    };
    let key = match fields.key {
        None => None,
        Some(key) => decode_key(key)?,
    };
    let value = match fields.value {
        None => Value::Nil,
        Some(value) => decode_value(value)?,
    };
    let command = Command {
        function: function_name,
        key,
        value,
    };
    Ok(Decoded::Event(Event::new(process, kind, command)))
}

/// A nemesis event as far as it can be read: its kind, function and value
/// are free-form, so nothing about them is an error.
fn nemesis(fields: &Fields) -> NemesisEvent {
    let kind = match fields.kind.and_then(name_of) {
        Some("invoke") => EventKind::Invoke,
        Some("ok") => EventKind::Ok,
        Some("fail") => EventKind::Fail,
        _ => EventKind::Info,
    };
    let value = fields.value.map_or_else(
        || "nil".to_string(),
        |value| {
            decode_value(value).map_or_else(
                |_| value.value.kind_name().to_string(),
                |value| value.to_string(),
            )
        },
    );
    NemesisEvent {
        before_event: 0,
        kind,
        function: fields.function.and_then(name_of).unwrap_or("?").to_string(),
        value,
        position: None,
    }
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

fn decode_key(key: &Edn) -> Result<Option<Value>, EdnError> {
    match decode_value(key)? {
        Value::Nil => Ok(None),
        value if value.is_scalar() => Ok(Some(value)),
        value => malformed(
            key,
            format!(
                "`key` must be a scalar (an integer, a string, a keyword or a boolean), found {}",
                value.kind_name()
            ),
        ),
    }
}

/// `value` as a history value: a scalar, or a vector, list or set of them.
pub(crate) fn decode_value(value: &Edn) -> Result<Value, EdnError> {
    let items = |items: &[Edn]| {
        items
            .iter()
            .map(decode_value)
            .collect::<Result<Vec<Value>, EdnError>>()
    };
    Ok(match &value.value {
        EdnValue::Nil => Value::Nil,
        EdnValue::Boolean(boolean) => Value::Boolean(*boolean),
        EdnValue::Integer(integer) => Value::Integer((*integer).into()),
        EdnValue::String(text) => Value::string(text),
        EdnValue::Keyword(name) => Value::keyword(name),
        EdnValue::Vector(members) | EdnValue::List(members) => Value::vector(items(members)?),
        EdnValue::Set(members) => Value::set(items(members)?),
        other => {
            return malformed(
                value,
                format!(
                    "values must be nil, integers, strings, keywords, booleans, or vectors and sets of them; found {}",
                    other.kind_name()
                ),
            )
        }
    })
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
            Decoded::Nemesis(_) => panic!("skipped {text}"),
        }
    }

    #[test]
    fn decodes_each_function() {
        assert_eq!(
            event("{:process 7, :type :invoke, :f :cas, :value [2 3]}"),
            Event::invoke(7, Command::compare_and_set(2, 3))
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
            Event::fail(2, Command::compare_and_set(Value::Nil, 1).with_key("x"))
        );
        assert_eq!(
            event("#jepsen.history.Op{:process 3, :type :ok, :f :read, :value 9, :key 12}"),
            Event::ok(3, Command::read_returning(9).with_key(12))
        );
        assert_eq!(
            event("{:process 4, :type :invoke, :f :acquire}"),
            Event::invoke(4, Command::new(Function::Acquire, Value::Nil))
        );
    }

    #[test]
    fn decodes_values_of_every_scalar_type_and_their_collections() {
        let read = |text: &str| {
            event(&format!(
                "{{:process 0, :type :ok, :f :read, :value {text}}}"
            ))
            .command
            .value
        };
        assert_eq!(read("-1"), Value::from(-1i64));
        assert_eq!(read("\"a\""), Value::string("a"));
        assert_eq!(read(":x"), Value::keyword("x"));
        assert_eq!(read("false"), Value::Boolean(false));
        assert_eq!(
            read("(1 :a)"),
            Value::vector(vec![1.into(), Value::keyword("a")])
        );
        assert_eq!(read("#{2 1}"), Value::set(vec![1.into(), 2.into()]));
        assert_eq!(
            read("[3 [nil 2]]"),
            Value::vector(vec![3.into(), Value::vector(vec![Value::Nil, 2.into()])])
        );
        let keyed = event("{:process 0, :type :ok, :f :read, :key :k, :value 1}");
        assert_eq!(keyed.command.key, Some(Value::keyword("k")));
    }

    #[test]
    fn skips_nemesis_events() {
        let Ok(Decoded::Nemesis(nemesis)) =
            decode("{:process :nemesis, :type :info, :f :start, :value {:n1 [:n2]}}")
        else {
            panic!("not skipped")
        };
        assert_eq!(nemesis.summary(), "info start a map");
        let Ok(Decoded::Nemesis(nemesis)) =
            decode("{:process :nemesis, :type :invoke, :f :kill, :value [:n1]}")
        else {
            panic!("not skipped")
        };
        assert_eq!(nemesis.summary(), "invoke kill [:n1]");
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
            (
                "{:process 1, :type :ok, :f :frob}",
                27,
                "`f` must be one of read, write, cas, acquire",
            ),
            (
                "{:process 1, :type :ok, :f :read, :value 1.5}",
                41,
                "found a float",
            ),
            (
                "{:process 1, :type :ok, :f :read, :value [1 {:a 1}]}",
                44,
                "found a map",
            ),
            ("{:process 1, :process 2, :type :ok, :f :read}", 13, "twice"),
            (
                "{:process 1, :type :ok, :f :read, :key [1]}",
                39,
                "`key` must be a scalar",
            ),
        ];
        for (text, offset, reason) in cases {
            let error = decode(text).unwrap_err();
            assert_eq!(error.offset, offset, "{text}: {error}");
            assert!(error.reason.contains(reason), "{text}: {error}");
        }
    }
}
