//! Ring's messages (Chang & Roberts, 1979, with acknowledged hops). Every
//! message carries the sender's epoch. ELECTION and COORDINATOR travel
//! round the ring one hop at a time; each hop is numbered by its sender and
//! acknowledged by its receiver (ACK), so a sender can tell a dead successor
//! and pass the message on to the next one.

use std::fmt;

use crate::core::chassis::Stamped;
use crate::core::node::NodeId;

/// Numbers one hop, chosen by the sender; the receiver's ACK echoes it.
pub type Hop = u64;

/// A Ring message: its body, stamped with the sender's epoch.
pub type Message = Stamped<Body>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Body {
    /// The highest id seen so far on this lap. A node that receives its own
    /// id back has outranked every live node: it wins.
    Election { candidate: NodeId, hop: Hop },
    /// `leader` won; passed round the ring until it is back at `leader`.
    /// The message's epoch is the one `leader` crowned itself in.
    Coordinator { leader: NodeId, hop: Hop },
    /// The receiver of hop `hop` is alive and took the message.
    Ack { hop: Hop },
    /// The coordinator is alive; sent straight to every node each heartbeat
    /// interval, not round the ring.
    Heartbeat,
}

impl Body {
    /// A short name for logs, scenario output and message counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Election { .. } => "Election",
            Body::Coordinator { .. } => "Coordinator",
            Body::Ack { .. } => "Ack",
            Body::Heartbeat => "Heartbeat",
        }
    }
}

impl fmt::Display for Body {
    /// The kind and the fields, e.g. `Coordinator leader=5 hop=7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())?;
        match *self {
            Body::Election { candidate, hop } => write!(f, " candidate={candidate} hop={hop}"),
            Body::Coordinator { leader, hop } => write!(f, " leader={leader} hop={hop}"),
            Body::Ack { hop } => write!(f, " hop={hop}"),
            Body::Heartbeat => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::chassis::Epoch;

    #[test]
    fn messages_print_on_one_line() {
        let line = |body| {
            Message {
                epoch: Epoch::new(3),
                body,
            }
            .to_string()
        };
        assert_eq!(
            line(Body::Election {
                candidate: 4,
                hop: 2
            }),
            "Election candidate=4 hop=2 epoch=3"
        );
        assert_eq!(
            line(Body::Coordinator { leader: 5, hop: 7 }),
            "Coordinator leader=5 hop=7 epoch=3"
        );
        assert_eq!(line(Body::Ack { hop: 7 }), "Ack hop=7 epoch=3");
        assert_eq!(line(Body::Heartbeat), "Heartbeat epoch=3");
    }
}
