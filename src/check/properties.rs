//! Safety property monitors, named as in DESIGN.md: Election Safety, Lease
//! Safety, Log Matching, Leader Completeness and State Machine Safety.
//!
//! A monitor is fed snapshots of every node ([`NodeView`]) after each step
//! and remembers what it must (the leader of each term, the committed log) to
//! judge the whole run, not just the current instant. It never looks inside
//! the protocol: the same monitor judges the simulator, the model checker and
//! the threaded driver.

use std::collections::BTreeMap;
use std::fmt;

use crate::core::node::{NodeId, Role};
use crate::core::raft::{Entry, LogIndex, Term};

/// The properties, by the names used everywhere in electorate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// At most one leader per term.
    ElectionSafety,
    /// At no instant of real time do two nodes both hold a valid lease.
    LeaseSafety,
    /// Two logs with an entry of the same index and term agree up to it.
    LogMatching,
    /// A leader's log holds every entry committed in earlier terms.
    LeaderCompleteness,
    /// No two nodes apply different entries at the same index.
    StateMachineSafety,
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Property::ElectionSafety => "Election Safety",
            Property::LeaseSafety => "Lease Safety",
            Property::LogMatching => "Log Matching",
            Property::LeaderCompleteness => "Leader Completeness",
            Property::StateMachineSafety => "State Machine Safety",
        };
        f.write_str(name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub property: Property,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violated: {}", self.property, self.detail)
    }
}

/// One node as the monitor sees it at one instant of real time. `log` is
/// `None` for algorithms without a replicated log (Bully, Ring).
#[derive(Clone, Copy, Debug)]
pub struct NodeView<'a> {
    pub id: NodeId,
    pub role: Role,
    pub term: Term,
    /// Whether the node holds a valid leader lease at this instant, judged on
    /// its own clock.
    pub holds_lease: bool,
    pub log: Option<&'a [Entry]>,
    pub commit_index: LogIndex,
}

/// A committed entry, with the earliest term in which some node was seen
/// treating it as committed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CommittedEntry {
    entry: Entry,
    seen_committed_in_term: Term,
}

/// Watches a run for safety violations. Feed it [`SafetyMonitor::observe`]
/// after every step; it returns the first violation it finds at that
/// instant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SafetyMonitor {
    leader_of_term: BTreeMap<Term, NodeId>,
    /// The committed log as far as any node has committed it.
    committed: Vec<CommittedEntry>,
    /// Per node, the commit index up to which its log was checked against
    /// `committed`.
    checked_commit: BTreeMap<NodeId, LogIndex>,
}

impl SafetyMonitor {
    pub fn new() -> SafetyMonitor {
        SafetyMonitor::default()
    }

    /// Judges one instant. `nodes` are the nodes that are up.
    pub fn observe(&mut self, nodes: &[NodeView]) -> Result<(), Violation> {
        self.check_election_safety(nodes)?;
        check_lease_safety(nodes)?;
        check_log_matching(nodes)?;
        self.check_state_machine_safety(nodes)?;
        self.check_leader_completeness(nodes)
    }

    /// The leader recorded for each term so far.
    pub fn leaders(&self) -> &BTreeMap<Term, NodeId> {
        &self.leader_of_term
    }

    /// How many entries are known committed.
    pub fn committed_len(&self) -> LogIndex {
        self.committed.len() as LogIndex
    }

    fn check_election_safety(&mut self, nodes: &[NodeView]) -> Result<(), Violation> {
        for node in nodes.iter().filter(|node| node.role == Role::Leader) {
            let leader = *self.leader_of_term.entry(node.term).or_insert(node.id);
            if leader != node.id {
                return Err(Violation {
                    property: Property::ElectionSafety,
                    detail: format!(
                        "nodes {leader} and {} were both leaders of term {}",
                        node.id, node.term
                    ),
                });
            }
        }
        Ok(())
    }

    /// Each node's newly committed entries must agree with what others
    /// committed at the same indexes.
    fn check_state_machine_safety(&mut self, nodes: &[NodeView]) -> Result<(), Violation> {
        for node in nodes {
            let Some(log) = node.log else { continue };
            let checked = self.checked_commit.entry(node.id).or_insert(0);
            // A restarted node forgets its commit index and learns it again.
            *checked = (*checked).min(node.commit_index);
            for index in *checked + 1..=node.commit_index {
                let entry = &log[(index - 1) as usize];
                match self.committed.get((index - 1) as usize) {
                    Some(known) if known.entry != *entry => {
                        return Err(Violation {
                            property: Property::StateMachineSafety,
                            detail: format!(
                                "node {} committed {} at index {index}, but {} was committed there before",
                                node.id, entry, known.entry
                            ),
                        })
                    }
                    Some(_) => {}
                    None => self.committed.push(CommittedEntry {
                        entry: entry.clone(),
                        seen_committed_in_term: node.term,
                    }),
                }
            }
            *checked = node.commit_index;
            for known in &mut self.committed[..node.commit_index as usize] {
                known.seen_committed_in_term = known.seen_committed_in_term.min(node.term);
            }
        }
        Ok(())
    }

    /// A leader of term `t` must hold every entry committed in a term before
    /// `t` (paper §5.4.1).
    fn check_leader_completeness(&self, nodes: &[NodeView]) -> Result<(), Violation> {
        for node in nodes.iter().filter(|node| node.role == Role::Leader) {
            let Some(log) = node.log else { continue };
            for known in &self.committed {
                if known.seen_committed_in_term >= node.term {
                    continue;
                }
                let index = known.entry.index;
                if log.get((index - 1) as usize) != Some(&known.entry) {
                    return Err(Violation {
                        property: Property::LeaderCompleteness,
                        detail: format!(
                            "leader {} of term {} lacks {}, committed in term {}",
                            node.id, node.term, known.entry, known.seen_committed_in_term
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

fn check_lease_safety(nodes: &[NodeView]) -> Result<(), Violation> {
    let holders: Vec<NodeId> = nodes
        .iter()
        .filter(|node| node.holds_lease)
        .map(|node| node.id)
        .collect();
    if holders.len() > 1 {
        return Err(Violation {
            property: Property::LeaseSafety,
            detail: format!("nodes {holders:?} hold valid leases at the same instant"),
        });
    }
    Ok(())
}

/// Paper §5.3: if two logs contain an entry with the same index and term,
/// the logs are identical in all entries up through that index.
fn check_log_matching(nodes: &[NodeView]) -> Result<(), Violation> {
    let logs: Vec<(NodeId, &[Entry])> = nodes
        .iter()
        .filter_map(|node| node.log.map(|log| (node.id, log)))
        .collect();
    for (position, &(first_id, first)) in logs.iter().enumerate() {
        for &(second_id, second) in &logs[position + 1..] {
            let Some(agreed) = highest_common_entry(first, second) else {
                continue;
            };
            if first[..agreed] != second[..agreed] {
                return Err(Violation {
                    property: Property::LogMatching,
                    detail: format!(
                        "nodes {first_id} and {second_id} share entry {} but differ before it",
                        first[agreed - 1]
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The length of the longest prefix ending in an entry of equal index and
/// term in both logs.
fn highest_common_entry(first: &[Entry], second: &[Entry]) -> Option<usize> {
    let shorter = first.len().min(second.len());
    (1..=shorter)
        .rev()
        .find(|&length| first[length - 1].term == second[length - 1].term)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::raft::Command;

    fn entry(term: Term, index: LogIndex, value: u64) -> Entry {
        Entry {
            term,
            index,
            command: Command::Write {
                key: "x".into(),
                value,
            },
        }
    }

    fn view<'a>(
        id: NodeId,
        role: Role,
        term: Term,
        log: &'a [Entry],
        commit: LogIndex,
    ) -> NodeView<'a> {
        NodeView {
            id,
            role,
            term,
            holds_lease: false,
            log: Some(log),
            commit_index: commit,
        }
    }

    #[test]
    fn two_leaders_of_one_term_break_election_safety() {
        let mut monitor = SafetyMonitor::new();
        monitor
            .observe(&[view(1, Role::Leader, 2, &[], 0)])
            .unwrap();
        let violation = monitor
            .observe(&[view(2, Role::Leader, 2, &[], 0)])
            .unwrap_err();
        assert_eq!(violation.property, Property::ElectionSafety);
    }

    #[test]
    fn two_lease_holders_break_lease_safety() {
        let mut monitor = SafetyMonitor::new();
        let mut first = view(1, Role::Leader, 2, &[], 0);
        let mut second = view(2, Role::Leader, 3, &[], 0);
        first.holds_lease = true;
        second.holds_lease = true;
        let violation = monitor.observe(&[first, second]).unwrap_err();
        assert_eq!(violation.property, Property::LeaseSafety);
    }

    #[test]
    fn diverging_prefix_breaks_log_matching() {
        let first = [entry(1, 1, 1), entry(2, 2, 2)];
        let second = [entry(1, 1, 9), entry(2, 2, 2)];
        let mut monitor = SafetyMonitor::new();
        let violation = monitor
            .observe(&[
                view(1, Role::Follower, 2, &first, 0),
                view(2, Role::Follower, 2, &second, 0),
            ])
            .unwrap_err();
        assert_eq!(violation.property, Property::LogMatching);
    }

    #[test]
    fn different_committed_entries_break_state_machine_safety() {
        let first = [entry(1, 1, 1)];
        let second = [entry(2, 1, 2)];
        let mut monitor = SafetyMonitor::new();
        monitor
            .observe(&[view(1, Role::Follower, 1, &first, 1)])
            .unwrap();
        let violation = monitor
            .observe(&[view(2, Role::Follower, 2, &second, 1)])
            .unwrap_err();
        assert_eq!(violation.property, Property::StateMachineSafety);
    }

    #[test]
    fn leader_missing_a_committed_entry_breaks_leader_completeness() {
        let full = [entry(1, 1, 1)];
        let mut monitor = SafetyMonitor::new();
        monitor
            .observe(&[view(1, Role::Leader, 1, &full, 1)])
            .unwrap();
        let violation = monitor
            .observe(&[view(2, Role::Leader, 2, &[], 0)])
            .unwrap_err();
        assert_eq!(violation.property, Property::LeaderCompleteness);
    }

    #[test]
    fn consistent_run_passes() {
        let log = [entry(1, 1, 1), entry(1, 2, 2)];
        let mut monitor = SafetyMonitor::new();
        monitor
            .observe(&[
                view(1, Role::Leader, 1, &log, 2),
                view(2, Role::Follower, 1, &log[..1], 1),
            ])
            .unwrap();
        monitor
            .observe(&[
                view(2, Role::Leader, 2, &log, 2),
                view(1, Role::Follower, 2, &log, 2),
            ])
            .unwrap();
        assert_eq!(monitor.committed_len(), 2);
    }
}
