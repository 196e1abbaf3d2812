//! Leadership epochs: the number Bully and Ring report as their term.
//!
//! Every message carries its sender's epoch and every receiver adopts a
//! higher one, so a new coordinator, which crowns itself at the highest epoch
//! it knows plus one, outnumbers every coordinator its messages passed by.
//! Under a partition two sides can still pick the same epoch: the algorithms
//! have no quorum to prevent it, and the Election Safety monitor shows it.

use std::fmt;

use crate::core::counter::counter;

counter! {
    /// A leadership epoch. 0 means no coordinator was ever known.
    Epoch
}

impl Epoch {
    /// The epoch a new coordinator crowns itself in: one past the highest
    /// it knows. Epochs grow by one per election, so they never near
    /// `u64::MAX`.
    pub fn next(self) -> Epoch {
        Epoch(self.0 + 1)
    }
}

/// A message of Bully or Ring: what it says (`body`), stamped with its
/// sender's epoch.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Stamped<B> {
    pub epoch: Epoch,
    pub body: B,
}

impl<B: fmt::Display> fmt::Display for Stamped<B> {
    /// One line per message: the body, then the epoch (`Coordinator
    /// epoch=3`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} epoch={}", self.body, self.epoch)
    }
}

/// The one durable record of Bully and Ring: the highest epoch the node has
/// seen or crowned itself in. Made durable before any message carrying it is
/// sent, so a restart never crowns a second coordinator in the same epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Persist {
    pub epoch: Epoch,
}

/// Everything durable about a Bully or Ring node: what a restart starts from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DurableState {
    pub epoch: Epoch,
}

impl DurableState {
    /// Applies one record. Nodes only ever persist a higher epoch; a lower
    /// one would be a bug in the node, not bad input.
    pub fn apply(&mut self, record: &Persist) {
        assert!(
            record.epoch > self.epoch,
            "epoch persisted out of order: {} after {}",
            record.epoch,
            self.epoch
        );
        self.epoch = record.epoch;
    }

    pub fn apply_all<'a>(&mut self, records: impl IntoIterator<Item = &'a Persist>) {
        for record in records {
            self.apply(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_apply_in_order() {
        let mut durable = DurableState::default();
        durable.apply_all(&[
            Persist {
                epoch: Epoch::new(1),
            },
            Persist {
                epoch: Epoch::new(4),
            },
        ]);
        assert_eq!(durable.epoch, Epoch::new(4));
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn a_lower_epoch_is_a_bug() {
        let mut durable = DurableState {
            epoch: Epoch::new(3),
        };
        durable.apply(&Persist {
            epoch: Epoch::new(2),
        });
    }
}
