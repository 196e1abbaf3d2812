//! The client operations of a model spec, written as short commands:
//! `write 1`, `cas 1 2` (set to 2 if it is 1), `cas nil 1` (set to 1 if
//! unset), `read`. An operation works on the model's default key unless
//! it names another first: `y: write 2`.

use crate::core::client::{Operation, Value};

/// Parses one operation, on `default_key` unless the text names a key
/// (`KEY: OPERATION`, the key a lowercase word); the error says what is
/// wrong with it.
pub fn parse_operation(default_key: &str, text: &str) -> Result<Operation, String> {
    let (key, text) = match text.split_once(':') {
        Some((key, rest)) => (parse_key(key.trim())?, rest),
        None => (default_key.to_owned(), text),
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["read"] => Ok(Operation::Read { key }),
        ["write", value] => Ok(Operation::Write {
            key,
            value: parse_value(value)?,
        }),
        ["cas", expected, new] => Ok(Operation::CompareAndSet {
            key,
            expected: match *expected {
                "nil" => None,
                expected => Some(parse_value(expected)?),
            },
            new: parse_value(new)?,
        }),
        _ => Err("expected `read`, `write V`, `cas V V` or `cas nil V`".to_owned()),
    }
}

fn parse_key(text: &str) -> Result<String, String> {
    let word = !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase());
    if !word {
        return Err(format!(
            "{text:?} is not a key (a lowercase word, as in `y: write 1`)"
        ));
    }
    Ok(text.to_owned())
}

fn parse_value(text: &str) -> Result<Value, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a value (a non-negative integer)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        assert_eq!(
            parse_operation("x", "write 1"),
            Ok(Operation::Write {
                key: "x".into(),
                value: 1
            })
        );
        assert_eq!(
            parse_operation("x", " cas  nil 2 "),
            Ok(Operation::CompareAndSet {
                key: "x".into(),
                expected: None,
                new: 2
            })
        );
        assert_eq!(
            parse_operation("x", "read"),
            Ok(Operation::Read { key: "x".into() })
        );
    }

    #[test]
    fn an_operation_may_name_its_key() {
        assert_eq!(
            parse_operation("x", "y: cas nil 2"),
            Ok(Operation::CompareAndSet {
                key: "y".into(),
                expected: None,
                new: 2
            })
        );
        assert_eq!(
            parse_operation("x", "zz :read"),
            Ok(Operation::Read { key: "zz".into() })
        );
    }

    #[test]
    fn refuses_malformed_keys() {
        for bad in [": write 1", "Y: write 1", "y1: read", "a b: read"] {
            let error = parse_operation("x", bad).unwrap_err();
            assert!(error.contains("is not a key"), "{bad}: {error}");
        }
        assert!(parse_operation("x", "y: delete").is_err());
    }

    #[test]
    fn refuses_malformed_operations() {
        assert!(parse_operation("x", "write").is_err());
        assert!(parse_operation("x", "write -1")
            .unwrap_err()
            .contains("\"-1\""));
        assert!(parse_operation("x", "delete 1").is_err());
    }
}
