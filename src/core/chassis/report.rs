//! Role and leader events for Bully and Ring, reported once per step by
//! comparing what an observer could see before and after it. The states a
//! step passes through on the way (a follower that adopts a newer epoch and
//! then, in the same step, follows its coordinator) are not observable from
//! outside, so they are not reported.

use crate::core::chassis::Epoch;
use crate::core::node::{Event, Node, NodeId, Role};

/// What an observer sees of a node between steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Observed {
    pub role: Role,
    pub leader: Option<NodeId>,
    pub epoch: Epoch,
}

impl Observed {
    /// What an observer sees of `node` now.
    pub fn of(node: &impl Node) -> Observed {
        Observed {
            role: node.role(),
            leader: node.leader(),
            epoch: Epoch::new(node.term()),
        }
    }

    /// Ends a step of `node` that began when it looked like `self`: reports
    /// what changed, and checks that the epoch did not go back.
    pub fn finish_step(self, node: &impl Node, events: &mut Vec<Event>) {
        let after = Observed::of(node);
        self.report_changes(after, events);
        if cfg!(any(test, debug_assertions)) {
            assert!(after.epoch >= self.epoch, "epoch went backwards");
        }
    }

    /// Pushes `RoleChanged` if the role changed, and `LeaderChanged` if the
    /// leader changed or a known leader now rules in another epoch (a
    /// coordinator crowned again is a new reign).
    pub fn report_changes(self, after: Observed, events: &mut Vec<Event>) {
        if after.role != self.role {
            events.push(Event::RoleChanged {
                role: after.role,
                term: after.epoch.get(),
            });
        }
        let new_reign = after.leader.is_some() && after.epoch != self.epoch;
        if after.leader != self.leader || new_reign {
            events.push(Event::LeaderChanged {
                leader: after.leader,
                term: after.epoch.get(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recrowned_leader_is_reported_once() {
        let before = Observed {
            role: Role::Leader,
            leader: Some(5),
            epoch: Epoch::new(1),
        };
        let mut events = Vec::new();
        before.report_changes(
            Observed {
                epoch: Epoch::new(2),
                ..before
            },
            &mut events,
        );
        assert_eq!(
            events,
            vec![Event::LeaderChanged {
                leader: Some(5),
                term: 2
            }]
        );
        events.clear();
        before.report_changes(before, &mut events);
        assert!(events.is_empty(), "no change, no event");
    }
}
