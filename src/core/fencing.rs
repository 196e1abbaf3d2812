//! The protected resource of a lock service (Chubby's sequencers;
//! Kleppmann, "How to do distributed locking", 2016): every write carries
//! its writer's fencing token, and with fencing on the resource refuses any
//! token older than the newest it has accepted. A holder that was paused
//! or whose clock ran slow, and so writes after its successor, is refused
//! instead of corrupting the resource.
//!
//! With fencing off the resource accepts everything, which is what the
//! Fenced Writes property (`crate::check::lock_service`) is shown to catch.

use crate::core::node::NodeId;
use crate::core::store::Revision;

/// A write the resource accepted: by whom, under which token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AcceptedWrite {
    pub writer: NodeId,
    pub token: Revision,
    /// The value written (the writer's own write counter): distinguishes
    /// the writes in a trace.
    pub value: u64,
}

/// The resource's state: the newest token accepted and the last write.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FencedResource {
    fencing: bool,
    /// The newest token of any accepted write.
    newest: Revision,
    /// How many writes were accepted, and the last of them: the monitor
    /// looks after every step, so it sees each accepted write.
    accepted: u64,
    last: Option<AcceptedWrite>,
    refused: u64,
}

impl FencedResource {
    /// A resource that checks tokens (`fencing`) or accepts everything.
    pub fn new(fencing: bool) -> FencedResource {
        FencedResource {
            fencing,
            ..FencedResource::default()
        }
    }

    /// Applies one write; returns whether it was accepted.
    pub fn write(&mut self, writer: NodeId, token: Revision, value: u64) -> bool {
        if self.fencing && token < self.newest {
            self.refused += 1;
            return false;
        }
        self.newest = self.newest.max(token);
        self.accepted += 1;
        self.last = Some(AcceptedWrite {
            writer,
            token,
            value,
        });
        true
    }

    pub fn fencing(&self) -> bool {
        self.fencing
    }

    /// The number of writes accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// The number of writes refused for a stale token.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The write accepted last, if any.
    pub fn last_accepted(&self) -> Option<AcceptedWrite> {
        self.last
    }

    /// Panics if the resource's own state is inconsistent.
    pub fn invariants(&self) {
        assert_eq!(self.last.is_some(), self.accepted > 0);
        if let Some(last) = self.last {
            assert!(last.token <= self.newest, "the newest token is the maximum");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_fencing_an_older_token_is_refused_after_a_newer_one() {
        let mut resource = FencedResource::new(true);
        assert!(resource.write(1, Revision::new(3), 1));
        assert!(resource.write(2, Revision::new(4), 1));
        assert!(!resource.write(1, Revision::new(3), 2));
        assert!(resource.write(2, Revision::new(4), 2), "equal tokens pass");
        assert_eq!((resource.accepted(), resource.refused()), (3, 1));
        resource.invariants();
    }

    #[test]
    fn without_fencing_everything_is_accepted() {
        let mut resource = FencedResource::new(false);
        assert!(resource.write(2, Revision::new(4), 1));
        assert!(resource.write(1, Revision::new(3), 2));
        let last = resource.last_accepted().unwrap();
        assert_eq!((last.writer, last.token), (1, Revision::new(3)));
        resource.invariants();
    }
}
