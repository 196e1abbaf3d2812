//! The monitors of the lock-service properties, Fenced Writes and
//! Exclusive Holding ([`Property::LOCK_SERVICE`]), fed like the other
//! safety monitors: a snapshot of every member after each step, judged
//! from the outside.
//!
//! - **Exclusive Holding**: at every instant of real time at most one
//!   candidate's own clock says it holds the lease. A candidate starts
//!   holding only in a step, so judging after every step judges every
//!   instant: a paused holder is judged by its clock at the instant its
//!   successor acquires.
//! - **Fenced Writes**: the resource never accepts a write from a
//!   superseded holder, one whose token is older than a token the
//!   resource already accepted a write under. The monitor keeps the
//!   newest accepted token itself rather than trust the resource's check,
//!   so a resource with fencing off (or broken) is caught.

use crate::check::properties::{Property, Violation};
use crate::core::fencing::AcceptedWrite;
use crate::core::node::NodeId;
use crate::core::store::Revision;

/// One member of a lock-service run as the monitor sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockView {
    /// A candidate, and the token it holds by its own clock at this
    /// instant, if any.
    Candidate {
        id: NodeId,
        holding: Option<Revision>,
    },
    /// The protected resource: how many writes it accepted, and the last.
    Resource {
        accepted: u64,
        last: Option<AcceptedWrite>,
    },
}

/// What the monitor remembers of a run: the writes the resource accepted
/// so far, and the newest token among them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LockMonitor {
    accepted_seen: u64,
    newest: Option<AcceptedWrite>,
}

impl LockMonitor {
    pub fn new() -> LockMonitor {
        LockMonitor::default()
    }

    /// Judges one instant; `members` are the members that are up. Returns
    /// the first violation found.
    pub fn observe(&mut self, members: &[LockView]) -> Result<(), Violation> {
        match self.observe_all(members).into_iter().next() {
            Some(violation) => Err(violation),
            None => Ok(()),
        }
    }

    /// Judges one instant and returns every violation found, Exclusive
    /// Holding first. The resource is looked at whatever the holders show,
    /// so the monitor counts each accepted write even at an instant that
    /// also breaks Exclusive Holding.
    pub fn observe_all(&mut self, members: &[LockView]) -> Vec<Violation> {
        let mut violations: Vec<Violation> =
            check_exclusive_holding(members).err().into_iter().collect();
        for member in members {
            if let LockView::Resource { accepted, last } = *member {
                violations.extend(self.check_fenced_write(accepted, last).err());
            }
        }
        violations
    }

    fn check_fenced_write(
        &mut self,
        accepted: u64,
        last: Option<AcceptedWrite>,
    ) -> Result<(), Violation> {
        if accepted == self.accepted_seen {
            return Ok(());
        }
        assert_eq!(
            accepted,
            self.accepted_seen + 1,
            "the monitor looks after every step, so it sees each accepted write"
        );
        self.accepted_seen = accepted;
        let write = last.expect("a resource that accepted a write knows its last");
        match self.newest {
            Some(newest) if write.token < newest.token => Err(Violation {
                property: Property::FencedWrites,
                detail: format!(
                    "the resource accepted node {}'s write {} under token {} after node {}'s \
                     write {} under the newer token {}",
                    write.writer,
                    write.value,
                    write.token,
                    newest.writer,
                    newest.value,
                    newest.token
                ),
            }),
            _ => {
                self.newest = Some(write);
                Ok(())
            }
        }
    }
}

fn check_exclusive_holding(members: &[LockView]) -> Result<(), Violation> {
    let holders: Vec<(NodeId, Revision)> = members
        .iter()
        .filter_map(|member| match *member {
            LockView::Candidate { id, holding } => holding.map(|token| (id, token)),
            LockView::Resource { .. } => None,
        })
        .collect();
    if holders.len() > 1 {
        return Err(Violation {
            property: Property::ExclusiveHolding,
            detail: format!(
                "candidates (id, token) {holders:?} all hold the lease by their own clocks at \
                 the same instant"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(id: NodeId, token: Option<u64>) -> LockView {
        LockView::Candidate {
            id,
            holding: token.map(Revision::new),
        }
    }

    fn resource(accepted: u64, writer: NodeId, token: u64) -> LockView {
        let last = AcceptedWrite {
            writer,
            token: Revision::new(token),
            value: accepted,
        };
        LockView::Resource {
            accepted,
            last: Some(last),
        }
    }

    #[test]
    fn two_holders_at_one_instant_break_exclusive_holding() {
        let mut monitor = LockMonitor::new();
        assert_eq!(
            monitor.observe(&[holding(1, Some(1)), holding(2, None)]),
            Ok(())
        );
        let violation = monitor
            .observe(&[holding(1, Some(1)), holding(2, Some(2))])
            .unwrap_err();
        assert_eq!(violation.property, Property::ExclusiveHolding);
    }

    #[test]
    fn a_write_under_an_older_token_after_a_newer_one_breaks_fenced_writes() {
        let mut monitor = LockMonitor::new();
        assert_eq!(monitor.observe(&[resource(1, 1, 3)]), Ok(()));
        assert_eq!(monitor.observe(&[resource(2, 2, 4)]), Ok(()));
        assert_eq!(monitor.observe(&[resource(3, 2, 4)]), Ok(()), "same token");
        let violation = monitor.observe(&[resource(4, 1, 3)]).unwrap_err();
        assert_eq!(violation.property, Property::FencedWrites);
        assert!(violation.detail.contains("token 3"), "{}", violation.detail);
    }

    /// An instant that breaks both properties reports both, and the
    /// resource's write is counted, so the next instant is judged on it.
    #[test]
    fn an_instant_breaking_both_properties_reports_both() {
        let mut monitor = LockMonitor::new();
        assert_eq!(monitor.observe(&[resource(1, 2, 4)]), Ok(()));
        let both = [holding(1, Some(3)), holding(2, Some(4)), resource(2, 1, 3)];
        let broken: Vec<Property> = monitor
            .observe_all(&both)
            .into_iter()
            .map(|violation| violation.property)
            .collect();
        assert_eq!(broken, [Property::ExclusiveHolding, Property::FencedWrites]);
        assert_eq!(monitor.observe(&[resource(3, 2, 4)]), Ok(()));
    }
}
