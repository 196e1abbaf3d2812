//! Deliberate deviations from the protocol, so the checkers can be shown to
//! catch them: the model checker's known-bug tests turn one on and expect a
//! counterexample.
//!
//! The type is always present, so `Config` has one shape and the handlers
//! ask it a question (`config.bugs.unpersisted_vote()`) instead of carrying
//! `cfg` pairs. The answer is "no bug" unless the `deliberate-bugs` feature
//! is on, which only the test build enables (through the crate's
//! dev-dependency on itself): setting a flag in any other build changes
//! nothing, and the compiler removes the check.

/// Each flag breaks one rule the correct core keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeliberateBugs {
    /// A granted vote is not made durable: after a crash the node may vote
    /// again in the same term (Election Safety).
    pub unpersisted_vote: bool,
    /// A vote is granted without the up-to-date check of paper §5.4.1: a
    /// node missing committed entries can lead (Leader Completeness, State
    /// Machine Safety, linearizability).
    pub vote_without_log_check: bool,
    /// The lease is measured from when a majority's acknowledgement arrived
    /// instead of from when the round was sent: it outlives the followers'
    /// promise by the round trip (Lease Safety).
    pub lease_from_ack: bool,
    /// `Config::validate` does not check the lease against the election
    /// timeout and CheckQuorum: a node runs with a lease that can outlive
    /// its followers' promise (Lease Safety; the split-brain alert's test).
    pub unchecked_lease: bool,
}

/// Whether deliberate bugs can be switched on in this build.
const ENABLED: bool = cfg!(feature = "deliberate-bugs");

impl DeliberateBugs {
    pub fn unpersisted_vote(&self) -> bool {
        ENABLED && self.unpersisted_vote
    }

    pub fn vote_without_log_check(&self) -> bool {
        ENABLED && self.vote_without_log_check
    }

    pub fn lease_from_ack(&self) -> bool {
        ENABLED && self.lease_from_ack
    }

    pub fn unchecked_lease(&self) -> bool {
        ENABLED && self.unchecked_lease
    }
}
