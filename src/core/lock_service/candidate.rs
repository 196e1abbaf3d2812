//! What every lock-service candidate does the same way whatever its
//! recipe: tell the runner when it starts or stops leading, refuse
//! key-value clients, and answer the node queries from whether it holds.

use crate::core::lock_service::LockMessage;
use crate::core::node::{Actions, Event, Input, NodeId, Role};

/// Reports a change of role: `leader` is the candidate itself when it
/// starts leading, `None` when it stops; `term` is the newest revision it
/// has seen.
pub fn announce<P>(
    role: Role,
    leader: Option<NodeId>,
    term: u64,
    actions: &mut Actions<LockMessage, P>,
) {
    actions.events.push(Event::RoleChanged { role, term });
    actions.events.push(Event::LeaderChanged { leader, term });
}

/// A lock-service member serves no key-value clients: each request of
/// `clients`, alone or in a batch, is refused in order and pointed at
/// `leader_hint`.
pub fn refuse_clients<P>(
    clients: Input<LockMessage>,
    leader_hint: Option<NodeId>,
    actions: &mut Actions<LockMessage, P>,
) {
    for request in clients.into_client_requests() {
        actions.refuse_not_leader(request.id, leader_hint);
    }
}

/// The node queries of a candidate with fields `id`, `known` (the newest
/// revision seen: its term), `held` (an `Option`, `Some` while it leads)
/// and a method `holding_at(now)`, inside its `impl Node`.
#[macro_export]
macro_rules! lock_candidate_queries {
    () => {
        fn role(&self) -> $crate::core::node::Role {
            if self.held.is_some() {
                $crate::core::node::Role::Leader
            } else {
                $crate::core::node::Role::Follower
            }
        }

        /// The newest revision it has seen: a leader's is its fencing
        /// token.
        fn term(&self) -> u64 {
            self.known.get()
        }

        fn leader(&self) -> Option<$crate::core::node::NodeId> {
            self.held.map(|_| self.id)
        }

        fn commit_index(&self) -> u64 {
            0
        }

        fn holds_lease(&self, now: $crate::core::time::Time) -> bool {
            self.holding_at(now).is_some()
        }
    };
}
