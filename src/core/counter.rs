//! Typed counters: a `u64` wrapped in its own type per meaning (a Raft term,
//! a log index, a heartbeat round, a leadership epoch), so a term passed
//! where an index is expected does not compile.
//!
//! Each wrapper prints, hashes, orders and fuzzes exactly like the bare
//! `u64` it holds: `Debug` and `Display` print the number alone (scenario
//! transcripts and test output stay as they were), the derived `Hash` feeds
//! the hasher the one `u64` (model-checker state fingerprints do not move),
//! and `Arbitrary` draws one `u64` (fuzz inputs decode to the same values).
//! What may be done with the number is up to each type: it gets only
//! `new`, `get` and the named operations its protocol needs.

/// Declares `pub struct $name(u64)` with the shared behaviour described in
/// the module docs.
macro_rules! counter {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u64);

        impl $name {
            pub const ZERO: $name = $name(0);

            pub const fn new(value: u64) -> $name {
                $name(value)
            }

            /// The bare number, for wire encodings, foreign libraries and
            /// the algorithm-generic [`Node`](crate::core::node::Node)
            /// interface.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }

        #[cfg(feature = "arbitrary")]
        impl<'a> arbitrary::Arbitrary<'a> for $name {
            fn arbitrary(input: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<$name> {
                u64::arbitrary(input).map($name)
            }

            fn arbitrary_take_rest(
                input: arbitrary::Unstructured<'a>,
            ) -> arbitrary::Result<$name> {
                u64::arbitrary_take_rest(input).map($name)
            }

            fn size_hint(depth: usize) -> (usize, Option<usize>) {
                <u64 as arbitrary::Arbitrary>::size_hint(depth)
            }

            fn try_size_hint(
                depth: usize,
            ) -> Result<(usize, Option<usize>), arbitrary::MaxRecursionReached> {
                <u64 as arbitrary::Arbitrary>::try_size_hint(depth)
            }
        }
    };
}

pub(crate) use counter;
