//! The properties the model checks, by name.
//!
//! `always` properties are DESIGN.md's safety properties, judged by the
//! shared [`SafetyMonitor`](crate::check::properties::SafetyMonitor) after
//! every transition, plus linearizability of the client history and the
//! nodes' own invariants. Judging happens in the transition (where the
//! history of the run is at hand); the state records which properties were
//! ever violated ([`Violations`]), and the predicates stateright evaluates
//! just read that record. A violation is therefore reported at the first
//! state where it happened, and a property once broken stays broken along
//! the path, as it should: a run that had two leaders in one term always had.
//!
//! `sometimes` properties show the model is not vacuous: each names
//! something a meaningful configuration must be able to reach.

use stateright::{Model, Property as CheckerProperty};

use crate::check::properties::Property;
use crate::core::node::{Node, Role};
use crate::model::raft::RaftModel;
use crate::model::register::RegisterRet;
use crate::model::state::{ClientStatus, ClusterState};

pub const ELECTION_SAFETY: &str = Property::ElectionSafety.name();
pub const LEASE_SAFETY: &str = Property::LeaseSafety.name();
pub const LOG_MATCHING: &str = Property::LogMatching.name();
pub const LEADER_COMPLETENESS: &str = Property::LeaderCompleteness.name();
pub const STATE_MACHINE_SAFETY: &str = Property::StateMachineSafety.name();
/// Every client history is linearizable against a compare-and-set register.
pub const LINEARIZABILITY: &str = "Linearizability";
/// No step panics: every node's `invariants()` hold after every step.
pub const NODE_INVARIANTS: &str = "Node Invariants";

/// The `always` properties, in the order their bits sit in [`Violations`].
pub const ALWAYS: [&str; 7] = [
    ELECTION_SAFETY,
    LEASE_SAFETY,
    LOG_MATCHING,
    LEADER_COMPLETENESS,
    STATE_MACHINE_SAFETY,
    LINEARIZABILITY,
    NODE_INVARIANTS,
];

pub const LEADER_ELECTED: &str = "a leader is elected";
pub const WRITE_COMMITTED: &str = "a write is committed";
pub const LEADER_REPLACED: &str = "a leader is replaced after a crash";
pub const LEASE_READ_SERVED: &str = "a lease read is served";

pub const SOMETIMES: [&str; 4] = [
    LEADER_ELECTED,
    WRITE_COMMITTED,
    LEADER_REPLACED,
    LEASE_READ_SERVED,
];

/// The `always` properties violated so far in a run, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Violations(u8);

impl Violations {
    fn bit(name: &str) -> u8 {
        let position = ALWAYS
            .iter()
            .position(|&known| known == name)
            .expect("an always property");
        1 << position
    }

    pub fn record(&mut self, name: &str) {
        self.0 |= Violations::bit(name);
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0 & Violations::bit(name) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn names(&self) -> Vec<&'static str> {
        ALWAYS
            .into_iter()
            .filter(|name| self.contains(name))
            .collect()
    }
}

/// The checker's view of the properties above.
pub fn properties() -> Vec<CheckerProperty<RaftModel>> {
    vec![
        CheckerProperty::always(ELECTION_SAFETY, |_, state| holds(state, ELECTION_SAFETY)),
        CheckerProperty::always(LEASE_SAFETY, |_, state| holds(state, LEASE_SAFETY)),
        CheckerProperty::always(LOG_MATCHING, |_, state| holds(state, LOG_MATCHING)),
        CheckerProperty::always(LEADER_COMPLETENESS, |_, state| {
            holds(state, LEADER_COMPLETENESS)
        }),
        CheckerProperty::always(STATE_MACHINE_SAFETY, |_, state| {
            holds(state, STATE_MACHINE_SAFETY)
        }),
        CheckerProperty::always(LINEARIZABILITY, |_, state| holds(state, LINEARIZABILITY)),
        CheckerProperty::always(NODE_INVARIANTS, |_, state| holds(state, NODE_INVARIANTS)),
        CheckerProperty::sometimes(LEADER_ELECTED, |_, state| leader_elected(state)),
        CheckerProperty::sometimes(WRITE_COMMITTED, |_, state| write_committed(state)),
        CheckerProperty::sometimes(LEADER_REPLACED, |_, state| leader_replaced(state)),
        CheckerProperty::sometimes(LEASE_READ_SERVED, |_, state| lease_read_served(state)),
    ]
}

/// Whether `name` is an `always` property of the model.
pub fn is_always(name: &str) -> bool {
    ALWAYS.contains(&name)
}

/// The property named `name` as the checker knows it.
pub fn checker_property(model: &RaftModel, name: &'static str) -> CheckerProperty<RaftModel> {
    model.property(name)
}

fn holds(state: &ClusterState, name: &str) -> bool {
    !state.violations.contains(name)
}

fn leader_elected(state: &ClusterState) -> bool {
    state.up_nodes().any(|node| node.role() == Role::Leader)
}

fn write_committed(state: &ClusterState) -> bool {
    state.clients.iter().any(|client| {
        matches!(
            client,
            ClientStatus::Done {
                result: RegisterRet::Written | RegisterRet::CompareAndSet { .. },
                ..
            }
        )
    })
}

/// A leader crashed, and a node leads a later term.
fn leader_replaced(state: &ClusterState) -> bool {
    let Some(crashed) = state.crashed_leader_term else {
        return false;
    };
    state
        .up_nodes()
        .any(|node| node.role() == Role::Leader && node.term() > crashed)
}

fn lease_read_served(state: &ClusterState) -> bool {
    state.clients.iter().any(|client| {
        matches!(
            client,
            ClientStatus::Done {
                lease_read: true,
                ..
            }
        )
    })
}
