//! The properties the model checks, from the suite's one vocabulary
//! ([`Property`]), and how stateright evaluates them.
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
//!
//! A variant is judged on the properties its capabilities give meaning to
//! ([`always`], [`sometimes`]): without a log there is nothing for Log
//! Matching to compare, without clients no history.

use stateright::Property as CheckerProperty;

use crate::check::properties::Property;
use crate::core::node::{Node, Role};
use crate::model::cluster::ClusterModel;
use crate::model::register::RegisterRet;
use crate::model::state::{ClientStatus, ClusterState};
use crate::model::variant::{Capabilities, ModelVariant, StateOf};

/// The `always` properties of the model, in report order.
pub const ALWAYS: [Property; 7] = [
    Property::ElectionSafety,
    Property::LeaseSafety,
    Property::LogMatching,
    Property::LeaderCompleteness,
    Property::StateMachineSafety,
    Property::Linearizability,
    Property::NodeInvariants,
];

/// The `sometimes` properties, in report order.
pub const SOMETIMES: [Property; 4] = [
    Property::LeaderElected,
    Property::WriteCommitted,
    Property::LeaderReplaced,
    Property::LeaseReadServed,
];

/// Whether `property` means anything for a variant with `capabilities`.
pub fn applies(property: Property, capabilities: Capabilities) -> bool {
    match property {
        Property::LogMatching | Property::LeaderCompleteness | Property::StateMachineSafety => {
            capabilities.log
        }
        Property::Linearizability | Property::WriteCommitted | Property::LeaseReadServed => {
            capabilities.clients
        }
        _ => true,
    }
}

/// The `always` properties a variant with `capabilities` is judged on.
pub fn always(capabilities: Capabilities) -> Vec<Property> {
    ALWAYS
        .into_iter()
        .filter(|&property| applies(property, capabilities))
        .collect()
}

/// The `sometimes` properties a variant with `capabilities` is judged on.
pub fn sometimes(capabilities: Capabilities) -> Vec<Property> {
    SOMETIMES
        .into_iter()
        .filter(|&property| applies(property, capabilities))
        .collect()
}

/// The `always` properties violated so far in a run, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Violations(u16);

impl Violations {
    fn bit(property: Property) -> u16 {
        assert!(
            ALWAYS.contains(&property),
            "{property} is not an always property of the model"
        );
        1 << property as u16
    }

    pub fn record(&mut self, property: Property) {
        self.0 |= Violations::bit(property);
    }

    pub fn contains(&self, property: Property) -> bool {
        self.0 & Violations::bit(property) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn properties(&self) -> Vec<Property> {
        ALWAYS
            .into_iter()
            .filter(|&property| self.contains(property))
            .collect()
    }
}

type Condition<V> = fn(&ClusterModel<V>, &StateOf<V>) -> bool;

/// The checker's view of the properties `V` is judged on.
pub fn checker_properties<V: ModelVariant>() -> Vec<CheckerProperty<ClusterModel<V>>> {
    // stateright takes plain function pointers, one per property: the
    // property is a const parameter, its position in `ALWAYS`.
    let holds: [Condition<V>; ALWAYS.len()] = [
        holds::<V, 0>,
        holds::<V, 1>,
        holds::<V, 2>,
        holds::<V, 3>,
        holds::<V, 4>,
        holds::<V, 5>,
        holds::<V, 6>,
    ];
    let reached: [Condition<V>; SOMETIMES.len()] = [
        |_, state| leader_elected(state),
        |_, state| write_committed(state),
        |_, state| leader_replaced(state),
        |_, state| lease_read_served(state),
    ];
    let capabilities = V::CAPABILITIES;
    let always = ALWAYS
        .into_iter()
        .zip(holds)
        .filter(|&(property, _)| applies(property, capabilities))
        .map(|(property, condition)| CheckerProperty::always(property.name(), condition));
    let sometimes = SOMETIMES
        .into_iter()
        .zip(reached)
        .filter(|&(property, _)| applies(property, capabilities))
        .map(|(property, condition)| CheckerProperty::sometimes(property.name(), condition));
    always.chain(sometimes).collect()
}

fn holds<V: ModelVariant, const POSITION: usize>(_: &ClusterModel<V>, state: &StateOf<V>) -> bool {
    !state.violations.contains(ALWAYS[POSITION])
}

fn leader_elected<N: Node, D, M>(state: &ClusterState<N, D, M>) -> bool {
    state.up_nodes().any(|node| node.role() == Role::Leader)
}

fn write_committed<N, D, M>(state: &ClusterState<N, D, M>) -> bool {
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
fn leader_replaced<N: Node, D, M>(state: &ClusterState<N, D, M>) -> bool {
    let Some(crashed) = state.crashed_leader_term else {
        return false;
    };
    state
        .up_nodes()
        .any(|node| node.role() == Role::Leader && node.term() > crashed)
}

fn lease_read_served<N, D, M>(state: &ClusterState<N, D, M>) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::algorithm::{Bully, Raft};

    #[test]
    fn each_variant_is_judged_on_what_its_capabilities_give_meaning_to() {
        let names = |properties: Vec<Property>| -> Vec<&str> {
            properties.into_iter().map(Property::name).collect()
        };
        assert_eq!(always(Raft::CAPABILITIES), ALWAYS.to_vec());
        assert_eq!(sometimes(Raft::CAPABILITIES), SOMETIMES.to_vec());
        assert_eq!(
            names(always(Bully::CAPABILITIES)),
            ["Election Safety", "Lease Safety", "Node Invariants"]
        );
        assert_eq!(
            names(sometimes(Bully::CAPABILITIES)),
            ["a leader is elected", "a leader is replaced after a crash"]
        );
        let checker: Vec<&str> = checker_properties::<Raft>()
            .iter()
            .map(|property| property.name)
            .collect();
        assert_eq!(
            checker,
            names([ALWAYS.to_vec(), SOMETIMES.to_vec()].concat())
        );
    }

    #[test]
    fn violations_are_recorded_per_property() {
        let mut violations = Violations::default();
        assert!(violations.is_empty());
        violations.record(Property::LeaseSafety);
        violations.record(Property::NodeInvariants);
        assert!(violations.contains(Property::LeaseSafety));
        assert!(!violations.contains(Property::ElectionSafety));
        assert_eq!(
            violations.properties(),
            [Property::LeaseSafety, Property::NodeInvariants]
        );
    }
}
