//! Sequential specifications that histories are checked against.
//!
//! A [`Model`] says what a single, atomic copy of the object would do: from a
//! state, a command either has the result the history observed (and leads to
//! a next state) or is impossible. The checker searches for an order of the
//! operations that the model accepts. Users add their own model by
//! implementing the trait.
//!
//! - [`Register`]: read and write (Knossos's `register`).
//! - [`CasRegister`]: read, write and compare-and-set (Knossos's `cas-register`).
//! - [`KeyValue`]: a map of independent compare-and-set registers, checked
//!   one key at a time (P-compositionality).

mod key_value;
mod register;

use std::fmt;
use std::hash::Hash;

use crate::check::history::Command;

pub use key_value::KeyValue;
pub use register::{CasRegister, Register, RegisterState};

/// A sequential specification.
pub trait Model {
    /// The object's state. The checker remembers (set of linearized
    /// operations, state) pairs it has explored, so states must hash; keep
    /// them small and cheap to clone.
    type State: Clone + Eq + Hash + fmt::Display;

    /// A name for reports, e.g. `cas-register (initial 0)`.
    fn description(&self) -> String;

    fn initial_state(&self) -> Self::State;

    /// The state after `command` took effect in `state`, if the result the
    /// history observed (the value an `ok` read returned) is possible there;
    /// `None` if it is not. Only commands that took effect (or may have) are
    /// stepped: failed operations never are, and neither are reads of
    /// unknown outcome, which cannot change the state.
    fn step(&self, state: &Self::State, command: &Command) -> Option<Self::State>;

    /// The independent part of the object `command` touches. Commands on
    /// different parts commute and never constrain each other, so each part
    /// is checked on its own, which is far cheaper than checking the whole
    /// (Herlihy and Wing's locality, "P-compositionality" in Horn and
    /// Kroening). `None` means the object is one indivisible part.
    fn partition_key<'c>(&self, _command: &'c Command) -> Option<&'c str> {
        None
    }

    /// Why this model cannot judge `command` (a compare-and-set on a plain
    /// register), if it cannot.
    fn unsupported(&self, _command: &Command) -> Option<String> {
        None
    }
}
