//! The values a Jepsen history carries in `:value` and `:key`: nil,
//! integers of either sign, strings, keywords, booleans, and the vectors
//! and sets made of them (a compare-and-set's `[expected new]`, a set
//! read's `#{1 2}`, a `jepsen.independent` tuple `[key value]`).
//!
//! Values are compared by equality, as Clojure compares them: `[1 2]` and
//! `(1 2)` are the same vector, `#{1 2}` and `#{2 1}` the same set, and a
//! string is never equal to the keyword of the same name. The checker
//! interns them into small integers before it searches
//! ([`crate::check::model::Values`]), so their size never slows the search.

use std::fmt;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// One value of a history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    #[default]
    Nil,
    Boolean(bool),
    /// EDN integers are 64-bit signed; the core's register values are
    /// unsigned 64-bit. 128 bits hold both exactly.
    Integer(i128),
    String(Arc<str>),
    /// A keyword without its colon: `:x` is `Keyword("x")`.
    Keyword(Arc<str>),
    /// A vector or list.
    Vector(Arc<[Value]>),
    /// Invariant: sorted and without duplicates, so that equal sets are
    /// equal values.
    Set(Arc<[Value]>),
}

impl Value {
    pub fn string(text: &str) -> Value {
        Value::String(text.into())
    }

    pub fn keyword(name: &str) -> Value {
        Value::Keyword(name.into())
    }

    pub fn vector(items: Vec<Value>) -> Value {
        Value::Vector(items.into())
    }

    /// The set of `members`, in canonical (sorted, deduplicated) form.
    pub fn set(mut members: Vec<Value>) -> Value {
        members.sort();
        members.dedup();
        Value::Set(members.into())
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Whether this is a scalar (not a vector or set).
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Value::Vector(_) | Value::Set(_))
    }

    /// The items of a vector or set.
    pub fn items(&self) -> Option<&[Value]> {
        match self {
            Value::Vector(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// A short description for error messages ("a string", "a set").
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Boolean(_) => "a boolean",
            Value::Integer(_) => "an integer",
            Value::String(_) => "a string",
            Value::Keyword(_) => "a keyword",
            Value::Vector(_) => "a vector",
            Value::Set(_) => "a set",
        }
    }
}

impl From<u64> for Value {
    fn from(integer: u64) -> Value {
        Value::Integer(integer.into())
    }
}

impl From<i64> for Value {
    fn from(integer: i64) -> Value {
        Value::Integer(integer.into())
    }
}

impl From<i32> for Value {
    fn from(integer: i32) -> Value {
        Value::Integer(integer.into())
    }
}

impl From<bool> for Value {
    fn from(boolean: bool) -> Value {
        Value::Boolean(boolean)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::string(text)
    }
}

impl From<Option<u64>> for Value {
    /// `None` is nil, as the core writes an absent value.
    fn from(value: Option<u64>) -> Value {
        value.map_or(Value::Nil, Value::from)
    }
}

/// EDN syntax: `nil`, `-3`, `"a"`, `:x`, `[1 2]`, `#{1 2}`.
impl fmt::Display for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = |formatter: &mut fmt::Formatter<'_>, items: &[Value]| {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    formatter.write_str(" ")?;
                }
                write!(formatter, "{item}")?;
            }
            Ok(())
        };
        match self {
            Value::Nil => formatter.write_str("nil"),
            Value::Boolean(boolean) => write!(formatter, "{boolean}"),
            Value::Integer(integer) => write!(formatter, "{integer}"),
            Value::String(text) => write!(formatter, "{text:?}"),
            Value::Keyword(name) => write!(formatter, ":{name}"),
            Value::Vector(members) => {
                formatter.write_str("[")?;
                items(formatter, members)?;
                formatter.write_str("]")
            }
            Value::Set(members) => {
                formatter.write_str("#{")?;
                items(formatter, members)?;
                formatter.write_str("}")
            }
        }
    }
}

/// JSON: nil is null, a keyword its EDN text (`":x"`), vectors and sets
/// arrays; integers beyond 64 bits (never read from a file) as strings.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => serializer.serialize_none(),
            Value::Boolean(boolean) => serializer.serialize_bool(*boolean),
            Value::Integer(integer) => match (i64::try_from(*integer), u64::try_from(*integer)) {
                (Ok(integer), _) => serializer.serialize_i64(integer),
                (_, Ok(integer)) => serializer.serialize_u64(integer),
                _ => serializer.serialize_str(&integer.to_string()),
            },
            Value::String(text) => serializer.serialize_str(text),
            Value::Keyword(_) => serializer.serialize_str(&self.to_string()),
            Value::Vector(items) | Value::Set(items) => {
                let mut sequence = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    sequence.serialize_element(item)?;
                }
                sequence.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_edn() {
        let value = Value::vector(vec![
            Value::Nil,
            Value::from(-3i64),
            Value::string("a b"),
            Value::keyword("x"),
            Value::set(vec![
                Value::from(2u64),
                Value::from(1u64),
                Value::from(2u64),
            ]),
            Value::Boolean(true),
        ]);
        assert_eq!(value.to_string(), "[nil -3 \"a b\" :x #{1 2} true]");
    }

    #[test]
    fn equal_sets_are_equal_whatever_the_order() {
        let forward = Value::set(vec![1u64.into(), 2u64.into()]);
        let backward = Value::set(vec![2u64.into(), 1u64.into(), 1u64.into()]);
        assert_eq!(forward, backward);
        assert_ne!(Value::string("x"), Value::keyword("x"));
        assert_ne!(Value::from(1u64), Value::string("1"));
    }

    #[test]
    fn serializes_to_json() {
        let value = Value::vector(vec![
            Value::Nil,
            Value::keyword("x"),
            Value::from(u64::MAX),
            Value::from(-1i64),
        ]);
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            "[null,\":x\",18446744073709551615,-1]"
        );
    }
}
