//! Symmetry reduction for the Raft model (`[check] symmetry = true`).
//!
//! Two states that differ only in the names of the nodes (node 1 leads and
//! node 2 voted for it, or node 2 leads and node 1 voted for it) have the
//! same futures up to that renaming, and a property that does not mention
//! names holds in both or in neither. stateright's depth-first search can
//! therefore remember one representative per class of renamed states
//! ([`Representative`]) and explore each class once: up to n! fewer states
//! for n nodes.
//!
//! # When it is valid
//!
//! Only if nothing but the names tells nodes apart:
//! - the Raft core never compares node ids (it keys maps by them and sends
//!   to peers in id order, but every link has its own queue, so the order
//!   of sends to different peers is not observable);
//! - every node runs the same configuration and starts the same way;
//! - election timeouts are the minimum (`time.jitter = "minimum"`), or
//!   either extreme with both offered to every node alike (`"extremes"`,
//!   the drawn length hashed with the node): a seeded jitter draws from
//!   the node id, so renamed nodes would time out differently
//!   ([`super::spec`] refuses symmetry with `"seeded"`);
//! - clocks, crashes, transfers and clients are chosen by the model for any
//!   node alike; clients are numbered, not named after nodes;
//! - every property is about "some leader", "two leaders", "any log": none
//!   names a node.
//!
//! Bully (the highest id wins) and Ring (tokens pass in id order) break it
//! by design and are refused.
//!
//! One caveat: the safety monitor records the leader of a term, the entry
//! at an (index, term) and the entry committed at an index in id order
//! when two candidates appear at the same instant, which happens only once
//! Election Safety, Log Matching or State Machine Safety is already
//! violated. After such a first violation, a
//! second property's violation that depends on that record may be
//! explored in one naming only; the first violation is always reported.
//!
//! # The representative
//!
//! Nodes are sorted by a hash of everything about them that no renaming
//! changes ([`RaftNode::hash_anonymous`], what is in flight to and from
//! them, the clients waiting on them). Nodes with equal hashes are tied;
//! every order of the tied nodes is tried and the renamed state with the
//! least hash wins. That is canonical: every renaming of a state yields the
//! same candidates, so the same representative, and the number of unique
//! states is the number of classes whatever the thread count or the order
//! of the search (barring a 64-bit hash collision, which stateright's own
//! fingerprints risk as well).
//!
//! [`RaftNode::hash_anonymous`]: crate::core::raft::RaftNode::hash_anonymous
//!
//! The search continues from the state it generated, not from the
//! representative (stateright's rule), so counterexample and example paths
//! replay exactly as the checker found them.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use foldhash::fast::FixedState;
use stateright::Representative;

use crate::core::node::NodeId;
use crate::core::raft::{DurableState, RaftNode};
use crate::harness::algorithm::Raft;
use crate::model::state::{index, ClientStatus, ClusterState, NodeSlot, Panic};
use crate::model::variant::StateOf;

/// A state of the Raft model, the one variant whose node ids are
/// interchangeable.
pub type RaftState = StateOf<Raft>;

/// The largest cluster symmetry reduction accepts: canonicalization may try
/// every order of tied nodes, n! of them.
pub const MAX_SYMMETRIC_NODES: u64 = 7;

impl NodeSlot<RaftNode, DurableState> {
    fn relabeled(&self, rename: &dyn Fn(NodeId) -> NodeId) -> Self {
        let durable = match self.durable.hard_state.voted_for {
            None => Arc::clone(&self.durable),
            Some(vote) => {
                let mut durable = DurableState::clone(&self.durable);
                durable.hard_state.voted_for = Some(rename(vote));
                Arc::new(durable)
            }
        };
        NodeSlot {
            node: self
                .node
                .as_ref()
                .map(|node| Arc::new(node.relabeled(rename))),
            durable,
            clock_gain: self.clock_gain,
            lost_for_good: self.lost_for_good,
            torn: self.torn,
        }
    }

    fn hash_anonymous<H: Hasher>(&self, id: NodeId, state: &mut H) {
        match &self.node {
            Some(node) => {
                true.hash(state);
                node.hash_anonymous(state);
            }
            None => false.hash(state),
        }
        let hard_state = self.durable.hard_state;
        hard_state.term.hash(state);
        hard_state.voted_for.map(|vote| vote == id).hash(state);
        self.durable.snapshot.hash(state);
        self.durable.log.hash(state);
        self.clock_gain.hash(state);
        self.lost_for_good.hash(state);
        self.torn.hash(state);
    }
}

impl RaftState {
    /// This state with node `id` renamed `rename(id)` everywhere: its slot
    /// moves to `rename(id)`'s place and every id held anywhere follows.
    /// `rename` must be a permutation of the members.
    pub fn relabeled(&self, rename: &dyn Fn(NodeId) -> NodeId) -> RaftState {
        let mut nodes = self.nodes.clone();
        for (position, slot) in self.nodes.iter().enumerate() {
            let new_id = rename(position as NodeId + 1);
            nodes[index(new_id)] = slot.relabeled(rename);
        }
        ClusterState {
            real_time: self.real_time,
            nodes,
            network: self.network.relabeled(rename),
            crashes: self.crashes,
            power_losses: self.power_losses,
            transfers: self.transfers,
            campaigns: self.campaigns,
            snapshots: self.snapshots,
            clients: self
                .clients
                .iter()
                .map(|status| match status {
                    ClientStatus::Pending { node } => ClientStatus::Pending {
                        node: rename(*node),
                    },
                    other => other.clone(),
                })
                .collect(),
            history: self.history.clone(),
            monitor: self.monitor.relabeled(rename),
            // Raft has no lock service: nothing in it to rename.
            lock_monitor: self.lock_monitor.clone(),
            violations: self.violations,
            crashed_leader_term: self.crashed_leader_term,
            panic: self.panic.as_ref().map(|panic| Panic {
                node: rename(panic.node),
                message: panic.message.clone(),
            }),
            goals: self.goals,
        }
    }

    /// A hash of node `id` that every renaming leaves unchanged.
    fn anonymous_key(&self, id: NodeId) -> u64 {
        let mut hasher = FixedState::with_seed(0).build_hasher();
        self.slot(id).hash_anonymous(id, &mut hasher);
        self.network.hash_anonymous_of(id, &mut hasher);
        for (client, status) in self.clients.iter().enumerate() {
            if *status == (ClientStatus::Pending { node: id }) {
                client.hash(&mut hasher);
            }
        }
        hasher.finish()
    }
}

impl Representative for RaftState {
    fn representative(&self) -> RaftState {
        representative(self)
    }
}

/// The canonical member of `state`'s class of renamings (see the module
/// documentation).
pub fn representative(state: &RaftState) -> RaftState {
    let size = state.nodes.len();
    let keys: Vec<u64> = (1..=size as NodeId)
        .map(|id| state.anonymous_key(id))
        .collect();
    // `order[k]` is the index of the node that becomes node k + 1.
    let mut order: Vec<usize> = (0..size).collect();
    order.sort_by_key(|&position| keys[position]);
    let mut ties = Vec::new();
    let mut start = 0;
    while start < size {
        let end = (start..size)
            .find(|&k| keys[order[k]] != keys[order[start]])
            .unwrap_or(size);
        if end - start > 1 {
            ties.push((start, end));
        }
        start = end;
    }
    if ties.is_empty() {
        return renamed(state, &order);
    }
    let hasher = FixedState::with_seed(0);
    let mut best: Option<(u64, RaftState)> = None;
    each_order(&mut order, &ties, &mut |order| {
        let candidate = renamed(state, order);
        let hash = hasher.hash_one(&candidate);
        if best.as_ref().is_none_or(|(least, _)| hash < *least) {
            best = Some((hash, candidate));
        }
    });
    best.expect("at least one order").1
}

/// `state` with node `order[k] + 1` renamed `k + 1`.
fn renamed(state: &RaftState, order: &[usize]) -> RaftState {
    if order.iter().enumerate().all(|(k, &position)| k == position) {
        return state.clone();
    }
    let mut new_id = vec![0; order.len()];
    for (k, &position) in order.iter().enumerate() {
        new_id[position] = k as NodeId + 1;
    }
    state.relabeled(&|id| new_id[index(id)])
}

/// Calls `visit` with every order obtained from `order` by permuting each
/// range of `ties` among itself.
fn each_order(order: &mut [usize], ties: &[(usize, usize)], visit: &mut dyn FnMut(&[usize])) {
    let Some((&(start, end), rest)) = ties.split_first() else {
        visit(order);
        return;
    };
    permutations(order, start, end, &mut |order| {
        each_order(order, rest, visit)
    });
}

/// Every permutation of `order[from..end]`, by swapping each candidate for
/// position `from` into place and permuting the rest.
fn permutations(order: &mut [usize], from: usize, end: usize, visit: &mut dyn FnMut(&mut [usize])) {
    if from + 1 >= end {
        visit(order);
        return;
    }
    for k in from..end {
        order.swap(from, k);
        permutations(order, from + 1, end, visit);
        order.swap(from, k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::node::{Node, Role};
    use crate::model::cluster::RaftModel;
    use crate::model::spec::tests::probe;
    use crate::model::spec::ModelSpec;
    use stateright::Model;
    use std::path::Path;

    /// A crash, a write and a drifting clock, searched depth first with
    /// symmetry.
    fn model() -> RaftModel {
        model_with("clock_drift = 1")
    }

    /// [`model`] with `time` the lines of its `[time]` table.
    fn model_with(time: &str) -> RaftModel {
        let spec = probe(
            "explicit",
            &[
                ("cluster", "max_crashes = 1"),
                ("time", time),
                ("network", "ordered = true"),
                ("clients", "operations = [\"write 1\"]"),
                ("check", "strategy = \"dfs\"\nsymmetry = true"),
            ],
        );
        RaftModel::new(ModelSpec::parse(Path::new("probe.toml"), &spec).unwrap())
    }

    /// The first `count` distinct states of a breadth-first search: a
    /// leader elected, clients, crashes and restarts among them.
    fn states(model: &RaftModel, count: usize) -> Vec<RaftState> {
        let mut seen = std::collections::HashSet::new();
        let mut queue: std::collections::VecDeque<RaftState> = model.init_states().into();
        let mut all = Vec::new();
        while let Some(state) = queue.pop_front() {
            if all.len() == count {
                break;
            }
            if !seen.insert(FixedState::with_seed(0).hash_one(&state)) {
                continue;
            }
            let mut actions = Vec::new();
            model.actions(&state, &mut actions);
            for action in actions {
                if let Some(after) = model.next_state(&state, action) {
                    if model.within_boundary(&after) {
                        queue.push_back(after);
                    }
                }
            }
            all.push(state);
        }
        all
    }

    const RENAMINGS: [[NodeId; 3]; 6] = [
        [1, 2, 3],
        [1, 3, 2],
        [2, 1, 3],
        [2, 3, 1],
        [3, 1, 2],
        [3, 2, 1],
    ];

    #[test]
    fn every_renaming_of_a_state_has_the_same_representative() {
        let model = model();
        let states = states(&model, 20_000);
        assert!(
            states.iter().any(|state| state.crashes > 0)
                && states
                    .iter()
                    .any(|state| state.up_nodes().any(|node| node.role() == Role::Leader)),
            "the probe reaches neither a crash nor a leader"
        );
        for state in &states {
            let expected = representative(state);
            for renaming in RENAMINGS {
                let renamed = state.relabeled(&|id| renaming[index(id)]);
                assert_eq!(
                    representative(&renamed),
                    expected,
                    "{renaming:?} of {state:?}"
                );
            }
        }
    }

    #[test]
    fn renaming_commutes_with_every_step() {
        assert_renaming_commutes(&model(), 5_000);
    }

    /// Both draws of `"extremes"` are offered to every node alike, so the
    /// model stays symmetric with them, restarts and crashes included.
    #[test]
    fn renaming_commutes_with_every_step_under_extreme_timeouts() {
        let model = model_with("clock_drift = 1\njitter = \"extremes\"");
        assert_eq!(model.init_states().len(), 8);
        assert_renaming_commutes(&model, 3_000);
    }

    /// The model is symmetric: stepping a renamed state gives the renamed
    /// successors, in each of the first `count` states.
    fn assert_renaming_commutes(model: &RaftModel, count: usize) {
        for state in states(model, count) {
            for renaming in RENAMINGS {
                let rename = |id: NodeId| renaming[index(id)];
                let renamed = state.relabeled(&rename);
                let mut actions = Vec::new();
                model.actions(&state, &mut actions);
                let mut expected: Vec<u64> = actions
                    .into_iter()
                    .filter_map(|action| model.next_state(&state, action))
                    .map(|after| FixedState::with_seed(0).hash_one(after.relabeled(&rename)))
                    .collect();
                let mut actions = Vec::new();
                model.actions(&renamed, &mut actions);
                let mut got: Vec<u64> = actions
                    .into_iter()
                    .filter_map(|action| model.next_state(&renamed, action))
                    .map(|after| FixedState::with_seed(0).hash_one(after))
                    .collect();
                expected.sort_unstable();
                got.sort_unstable();
                assert_eq!(got, expected, "{renaming:?}");
            }
        }
    }

    #[test]
    fn the_representative_is_a_renaming_of_the_state() {
        let model = model();
        for state in states(&model, 5_000) {
            let representative = representative(&state);
            assert!(
                RENAMINGS
                    .iter()
                    .any(|renaming| state.relabeled(&|id| renaming[index(id)]) == representative),
                "{representative:?} is not a renaming of {state:?}"
            );
        }
    }
}
