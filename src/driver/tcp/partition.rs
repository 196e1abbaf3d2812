//! A network partition imposed from inside a node: the peers it must not
//! talk to. Outbound messages to them are dropped and inbound frames from
//! them ignored, so blocking `b` on `a` and `a` on `b` cuts the link both
//! ways — what `electorate cluster --partition-leader-every` does to the
//! leader, through `electorate node`'s control lines on stdin. Client
//! connections are never blocked: a client can still reach an isolated
//! leader, which is the interesting case for leases.

use std::collections::BTreeSet;

use crate::core::node::NodeId;
use crate::driver::sync::{lock, Mutex};

#[derive(Debug, Default)]
pub struct Partition {
    blocked: Mutex<BTreeSet<NodeId>>,
}

impl Partition {
    /// Replaces the blocked set with `peers`.
    pub fn block(&self, peers: impl IntoIterator<Item = NodeId>) {
        let peers: BTreeSet<NodeId> = peers.into_iter().collect();
        tracing::info!(blocked = ?peers, "partition");
        *lock(&self.blocked) = peers;
    }

    pub fn heal(&self) {
        tracing::info!("partition healed");
        lock(&self.blocked).clear();
    }

    pub fn is_blocked(&self, peer: NodeId) -> bool {
        lock(&self.blocked).contains(&peer)
    }

    /// Applies one control line: `block ID...` or `heal`.
    pub fn apply_command(&self, line: &str) -> Result<(), String> {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("block") => {
                let peers = words
                    .map(|word| {
                        word.parse::<NodeId>()
                            .map_err(|_| format!("bad node id {word:?} in {line:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.block(peers);
                Ok(())
            }
            Some("heal") => {
                self.heal();
                Ok(())
            }
            Some(other) => Err(format!(
                "unknown control command {other:?} (block ID... | heal)"
            )),
            None => Ok(()),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn control_lines_block_and_heal() {
        let partition = Partition::default();
        partition.apply_command("block 2 3").unwrap();
        assert!(partition.is_blocked(2) && partition.is_blocked(3) && !partition.is_blocked(1));
        partition.apply_command("heal").unwrap();
        assert!(!partition.is_blocked(2));
        assert!(partition.apply_command("block x").is_err());
        assert!(partition.apply_command("explode").is_err());
    }
}
