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

use crate::check::properties::{Kind, Property};
use crate::core::node::{Node, Role};
use crate::model::cluster::ClusterModel;
use crate::model::register::RegisterRet;
use crate::model::state::{ClientStatus, ClusterState};
use crate::model::variant::{Capabilities, ModelVariant, StateOf};

/// The `always` properties of the model, in report order: every safety
/// property of the vocabulary, the lock-service properties
/// ([`Property::LOCK_SERVICE`]) among them.
pub const ALWAYS: &[Property] = &of_kind::<9>(Kind::Safety);

/// The `sometimes` properties, in report order: every reachability goal
/// of the vocabulary. (Liveness, a property of long runs, is the
/// simulator's to judge.)
pub const SOMETIMES: &[Property] = &of_kind::<8>(Kind::Reachability);

/// The `N` properties of `kind`, in the vocabulary's order; fails to
/// compile if there are not exactly `N`.
const fn of_kind<const N: usize>(kind: Kind) -> [Property; N] {
    let mut found = [Property::ElectionSafety; N];
    let (mut position, mut count) = (0, 0);
    while position < Property::ALL.len() {
        let property = Property::ALL[position];
        if property.kind() as u8 == kind as u8 {
            assert!(count < N, "more properties of this kind than N");
            found[count] = property;
            count += 1;
        }
        position += 1;
    }
    assert!(count == N, "fewer properties of this kind than N");
    found
}

/// Whether `property` means anything for a variant with `capabilities`.
pub fn applies(property: Property, capabilities: Capabilities) -> bool {
    match property {
        Property::LogMatching
        | Property::LeaderCompleteness
        | Property::StateMachineSafety
        | Property::SnapshotTaken
        | Property::SnapshotInstalled
        | Property::RestartBeforeCompaction
        | Property::LongTimeoutFollows => capabilities.log,
        Property::Linearizability | Property::WriteCommitted | Property::LeaseReadServed => {
            capabilities.clients
        }
        Property::FencedWrites | Property::ExclusiveHolding => capabilities.lock_service,
        _ => true,
    }
}

/// The `always` properties a variant with `capabilities` is judged on.
pub fn always(capabilities: Capabilities) -> Vec<Property> {
    applicable(ALWAYS, capabilities)
}

/// The `sometimes` properties a variant with `capabilities` is judged on.
pub fn sometimes(capabilities: Capabilities) -> Vec<Property> {
    applicable(SOMETIMES, capabilities)
}

fn applicable(properties: &[Property], capabilities: Capabilities) -> Vec<Property> {
    properties
        .iter()
        .copied()
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
            .iter()
            .copied()
            .filter(|&property| self.contains(property))
            .collect()
    }
}

type Condition<V> = fn(&ClusterModel<V>, &StateOf<V>) -> bool;

/// The checker's view of the properties `V` is judged on.
pub fn checker_properties<V: ModelVariant>() -> Vec<CheckerProperty<ClusterModel<V>>> {
    let capabilities = V::CAPABILITIES;
    let always = always(capabilities)
        .into_iter()
        .map(|property| CheckerProperty::always(property.name(), holds_condition::<V>(property)));
    let sometimes = sometimes(capabilities).into_iter().map(|property| {
        CheckerProperty::sometimes(property.name(), reached_condition::<V>(property))
    });
    always.chain(sometimes).collect()
}

/// "`property` was never violated", as the plain function pointer
/// stateright takes: one instance of [`holds`] per position in [`ALWAYS`].
fn holds_condition<V: ModelVariant>(property: Property) -> Condition<V> {
    let conditions: [Condition<V>; ALWAYS.len()] = [
        holds::<V, 0>,
        holds::<V, 1>,
        holds::<V, 2>,
        holds::<V, 3>,
        holds::<V, 4>,
        holds::<V, 5>,
        holds::<V, 6>,
        holds::<V, 7>,
        holds::<V, 8>,
    ];
    let position = ALWAYS
        .iter()
        .position(|&known| known == property)
        .expect("an always property");
    conditions[position]
}

fn holds<V: ModelVariant, const POSITION: usize>(_: &ClusterModel<V>, state: &StateOf<V>) -> bool {
    !state.violations.contains(ALWAYS[POSITION])
}

/// "`property` is reached in this state".
fn reached_condition<V: ModelVariant>(property: Property) -> Condition<V> {
    match property {
        Property::LeaderElected => |_, state| leader_elected(state),
        Property::WriteCommitted => |_, state| write_committed(state),
        Property::LeaderReplaced => |_, state| leader_replaced(state),
        Property::LeaseReadServed => |_, state| lease_read_served(state),
        Property::SnapshotTaken => |_, state| state.goals.snapshot_taken,
        Property::SnapshotInstalled => |_, state| state.goals.snapshot_installed,
        Property::RestartBeforeCompaction => |_, state| state.goals.restarted_before_compaction,
        Property::LongTimeoutFollows => long_timeout_follows::<V>,
        other => panic!("{other} is not a reachability goal of the model"),
    }
}

fn leader_elected<N: Node, D, M>(state: &ClusterState<N, D, M>) -> bool {
    state.up_nodes().any(|node| node.role() == Role::Leader)
}

/// A node leads, and a follower in its term drew an election timeout
/// longer than the minimum: timeouts of unequal length, which only a spec
/// with `time.jitter = "extremes"` (or `"seeded"`) can reach.
fn long_timeout_follows<V: ModelVariant>(model: &ClusterModel<V>, state: &StateOf<V>) -> bool {
    let spec = model.spec();
    let minimum = spec.quanta(spec.raft.election_timeout_min);
    state
        .up_nodes()
        .filter(|node| node.role() == Role::Leader)
        .any(|leader| {
            state.up_nodes().any(|node| {
                node.role() == Role::Follower
                    && node.term() == leader.term()
                    && V::election_timeout(node).is_some_and(|drawn| drawn > minimum)
            })
        })
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
    use crate::harness::lock_service::{LeaseLock, ZkSequential};

    #[test]
    fn the_model_judges_every_safety_property_and_reachability_goal() {
        let kinds = |properties: &[Property]| -> Vec<Kind> {
            properties.iter().map(|property| property.kind()).collect()
        };
        assert_eq!(kinds(ALWAYS), [Kind::Safety; 9]);
        assert_eq!(kinds(SOMETIMES), [Kind::Reachability; 8]);
        let judged: Vec<Property> = [ALWAYS, SOMETIMES].concat();
        let safety_or_reachability: Vec<Property> = Property::ALL
            .into_iter()
            .filter(|property| property.kind() != Kind::Liveness)
            .collect();
        let sorted = |mut properties: Vec<Property>| {
            properties.sort();
            properties
        };
        assert_eq!(sorted(judged), sorted(safety_or_reachability));
    }

    #[test]
    fn each_variant_is_judged_on_what_its_capabilities_give_meaning_to() {
        let names = |properties: Vec<Property>| -> Vec<&str> {
            properties.into_iter().map(Property::name).collect()
        };
        assert_eq!(
            names(always(Raft::CAPABILITIES)),
            [
                "Election Safety",
                "Lease Safety",
                "Log Matching",
                "Leader Completeness",
                "State Machine Safety",
                "Linearizability",
                "Node Invariants"
            ]
        );
        assert_eq!(
            names(sometimes(Raft::CAPABILITIES)),
            [
                "a leader is elected",
                "a write is committed",
                "a leader is replaced after a crash",
                "a lease read is served",
                "a snapshot is taken",
                "a snapshot is installed",
                "a node restarts from a crash between a snapshot and the compaction",
                "a node follows a leader with an election timeout above the minimum"
            ]
        );
        assert_eq!(
            names(always(Bully::CAPABILITIES)),
            ["Election Safety", "Lease Safety", "Node Invariants"]
        );
        assert_eq!(
            names(sometimes(Bully::CAPABILITIES)),
            ["a leader is elected", "a leader is replaced after a crash"]
        );
        assert_eq!(
            names(always(LeaseLock::CAPABILITIES)),
            [
                "Election Safety",
                "Lease Safety",
                "Node Invariants",
                "Fenced Writes",
                "Exclusive Holding"
            ]
        );
        assert_eq!(
            always(ZkSequential::CAPABILITIES),
            always(LeaseLock::CAPABILITIES),
            "both lock services are judged alike"
        );
        let checker: Vec<&str> = checker_properties::<Raft>()
            .iter()
            .map(|property| property.name)
            .collect();
        let raft = [always(Raft::CAPABILITIES), sometimes(Raft::CAPABILITIES)].concat();
        assert_eq!(checker, names(raft));
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
