//! Where something sits in a source text: 1-based line and column.
//!
//! Readers keep byte offsets while they parse (cheap) and turn an offset into
//! a [`Position`] only when they report an error or attach a position to an
//! event, so a user can jump straight to the offending spot in the file.

use std::fmt;

use serde::Serialize;

/// A line and column in a text, both counted from 1. Columns count Unicode
/// scalar values (what an editor shows), not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`. An offset past the end (or
    /// inside a multi-byte character) is clamped to the nearest character
    /// boundary before it, so a reader's off-by-one never turns into a panic.
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "line {}, column {}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let text = "ab\ncdé\nf";
        assert_eq!(
            Position::of_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        assert_eq!(
            Position::of_offset(text, 3),
            Position { line: 2, column: 1 }
        );
        // 'é' is two bytes but one column.
        assert_eq!(
            Position::of_offset(text, 7),
            Position { line: 2, column: 4 }
        );
        assert_eq!(
            Position::of_offset(text, 8),
            Position { line: 3, column: 1 }
        );
    }

    #[test]
    fn out_of_range_offsets_are_clamped() {
        assert_eq!(
            Position::of_offset("ab", 99),
            Position { line: 1, column: 3 }
        );
        // Offset 2 is inside 'é' (bytes 1..3): clamp back to its start.
        assert_eq!(
            Position::of_offset("aé", 2),
            Position { line: 1, column: 2 }
        );
    }
}
