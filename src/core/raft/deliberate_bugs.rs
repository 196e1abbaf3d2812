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
    /// A coalesced append claims a commit up to its last entry instead of
    /// the leader's commit index: followers apply writes no majority holds
    /// (State Machine Safety, Leader Completeness).
    pub coalesced_commit_ahead: bool,
    /// Coalescing drops the first entry it adds to a waiting append, which
    /// the leader's no-gap assertion catches (Node Invariants). Without the
    /// assertion no property breaks: followers answer with what arrived
    /// and drop an append with a gap, and the catch-up resends.
    pub coalesce_loses_entry: bool,
    /// Coalescing joins a waiting append of an earlier term.
    pub coalesce_across_terms: bool,
    /// Coalescing joins the first waiting append to the follower, whatever
    /// follows it and wherever it ends (no last-message and no gap check).
    pub coalesce_anywhere: bool,
    /// A follower installs a snapshot older than its commit index instead
    /// of ignoring it (paper §7), and replaces its whole log with it: it
    /// forgets committed entries it had acknowledged (Leader Completeness,
    /// State Machine Safety).
    pub install_older_snapshot: bool,
}

/// Whether deliberate bugs can be switched on in this build.
const ENABLED: bool = cfg!(feature = "deliberate-bugs");

impl DeliberateBugs {
    /// Whether this build can switch deliberate bugs on (a test-profile
    /// build can; a release build answers "no bug" to every switch).
    pub const AVAILABLE: bool = ENABLED;

    /// The bug named `name` for a sweep's experiments: a coalescing bug
    /// ([`DeliberateBugs::coalescing`]) or `install-older-snapshot`.
    pub fn named(name: &str) -> Option<DeliberateBugs> {
        match name {
            "install-older-snapshot" => Some(DeliberateBugs {
                install_older_snapshot: true,
                ..DeliberateBugs::default()
            }),
            _ => DeliberateBugs::coalescing(name),
        }
    }

    /// The coalescing bug named `name` (`commit-ahead`, `loses-entry`,
    /// `across-terms`, `anywhere`), for the experiments that run a checker
    /// with one of them on.
    pub fn coalescing(name: &str) -> Option<DeliberateBugs> {
        let mut bugs = DeliberateBugs::default();
        match name {
            "commit-ahead" => bugs.coalesced_commit_ahead = true,
            "loses-entry" => bugs.coalesce_loses_entry = true,
            "across-terms" => bugs.coalesce_across_terms = true,
            "anywhere" => bugs.coalesce_anywhere = true,
            _ => return None,
        }
        Some(bugs)
    }

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

    pub fn coalesced_commit_ahead(&self) -> bool {
        ENABLED && self.coalesced_commit_ahead
    }

    pub fn coalesce_loses_entry(&self) -> bool {
        ENABLED && self.coalesce_loses_entry
    }

    pub fn coalesce_across_terms(&self) -> bool {
        ENABLED && self.coalesce_across_terms
    }

    pub fn coalesce_anywhere(&self) -> bool {
        ENABLED && self.coalesce_anywhere
    }

    pub fn install_older_snapshot(&self) -> bool {
        ENABLED && self.install_older_snapshot
    }
}
