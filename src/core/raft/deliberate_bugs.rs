//! Deliberate deviations from the protocol, so the checkers can be shown to
//! catch them: the model checker's known-bug tests turn one on and expect a
//! counterexample. They exist only with the `deliberate-bugs` feature, which
//! only the test build enables (through the crate's dev-dependency on
//! itself): no production build can reach them.

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
}
