//! Bully's messages (Garcia-Molina, 1982), plus the heartbeat that drives
//! failure detection. Every message carries the sender's epoch; the body
//! says what it is. None names a node: the sender is the candidate, the
//! answerer or the coordinator.

use std::fmt;

use crate::core::chassis::Stamped;

/// A Bully message: its body, stamped with the sender's epoch.
pub type Message = Stamped<Body>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Body {
    /// "Are any of you higher ids alive?" Sent only to higher ids.
    Election,
    /// "Yes, and I take the election over from here" (the paper's OK). Sent
    /// only to a lower id, in reply to its ELECTION.
    Answer,
    /// "I am the coordinator of this epoch." Sent to every node by a node
    /// that no higher id answered.
    Coordinator,
    /// The coordinator is alive; sent to every node each heartbeat interval.
    Heartbeat,
}

impl Body {
    /// A short name for logs, scenario output and message counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Election => "Election",
            Body::Answer => "Answer",
            Body::Coordinator => "Coordinator",
            Body::Heartbeat => "Heartbeat",
        }
    }
}

impl fmt::Display for Body {
    /// The kind alone: no Bully message names a node.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::chassis::Epoch;

    #[test]
    fn messages_print_on_one_line() {
        let message = Message {
            epoch: Epoch::new(3),
            body: Body::Coordinator,
        };
        assert_eq!(message.to_string(), "Coordinator epoch=3");
        let message = Message {
            epoch: Epoch::new(0),
            body: Body::Election,
        };
        assert_eq!(message.to_string(), "Election epoch=0");
    }
}
