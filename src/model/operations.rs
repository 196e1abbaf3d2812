//! The client operations of a model spec, written as short commands:
//! `write 1`, `cas 1 2` (set to 2 if it is 1), `cas nil 1` (set to 1 if
//! unset), `read`. Every operation works on the one key of the model.

use crate::core::client::{Operation, Value};

/// Parses one operation on `key`; the error says what is wrong with it.
pub fn parse_operation(key: &str, text: &str) -> Result<Operation, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let key = key.to_owned();
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
    fn refuses_malformed_operations() {
        assert!(parse_operation("x", "write").is_err());
        assert!(parse_operation("x", "write -1")
            .unwrap_err()
            .contains("\"-1\""));
        assert!(parse_operation("x", "delete 1").is_err());
    }
}
