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

/// Finds positions of many offsets in one text quickly: the start of every
/// line is found once, then each lookup is a binary search. (Calling
/// [`Position::of_offset`] per event would rescan the text each time, which
/// is quadratic in the length of a history.)
pub struct LineIndex<'t> {
    text: &'t str,
    /// Invariant: sorted, starts with 0; the byte offset where each line starts.
    line_starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> LineIndex<'t> {
        let newlines = text.match_indices('\n').map(|(offset, _)| offset + 1);
        LineIndex {
            text,
            line_starts: std::iter::once(0).chain(newlines).collect(),
        }
    }

    /// The same as `Position::of_offset(text, offset)`.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The last line starting at or before `offset`.
        let line_index = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let line_start = self.line_starts[line_index];
        Position {
            line: line_index + 1,
            column: self.text[line_start..offset].chars().count() + 1,
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
        // (offset, line, column); 'é' is two bytes but one column.
        for (offset, line, column) in [(0, 1, 1), (3, 2, 1), (7, 2, 4), (8, 3, 1)] {
            assert_eq!(
                Position::of_offset(text, offset),
                Position { line, column },
                "offset {offset}"
            );
        }
    }

    #[test]
    fn the_line_index_agrees_with_of_offset() {
        let text = "ab\ncdé\n\nf";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(
                index.position(offset),
                Position::of_offset(text, offset),
                "offset {offset}"
            );
        }
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
