//! The one way to show a node to the safety monitors
//! ([`crate::check::properties::SafetyMonitor`]): its role, term, lease,
//! log, snapshot and commit index, judged on its own clock.

use crate::check::properties::NodeView;
use crate::core::node::{Node, NodeId};
use crate::core::raft::{LogIndex, Term};
use crate::core::time::Time;
use crate::harness::algorithm::Algorithm;
use crate::harness::clock::LocalClock;
use crate::harness::slot::Slot;

/// Node `id` as the monitors see it when its local clock reads `local`,
/// its restarts not counted (a caller that counts them sets
/// [`NodeView::incarnation`]).
pub fn view<A: Algorithm>(id: NodeId, node: &A::Node, local: Time) -> NodeView<'_> {
    NodeView {
        id,
        role: node.role(),
        term: Term::new(node.term()),
        holds_lease: node.holds_lease(local),
        log: A::log(node),
        snapshot: A::snapshot(node),
        commit_index: LogIndex::new(node.commit_index()),
        incarnation: None,
    }
}

/// The members that are up, as the monitors see them at real time `now`.
pub fn views<'a, A, C>(
    slots: impl IntoIterator<Item = &'a Slot<A, C>>,
    now: Time,
) -> impl Iterator<Item = NodeView<'a>>
where
    A: Algorithm + 'a,
    C: LocalClock + 'a,
{
    slots.into_iter().filter_map(move |slot| slot.view(now))
}
