//! Raft timing and feature configuration, validated at construction so that a
//! cluster never starts with settings under which Lease Safety cannot hold.

use std::time::Duration;

use crate::core::chassis::membership::{Membership, MembershipError};
use crate::core::node::NodeId;
use crate::core::raft::deliberate_bugs::DeliberateBugs;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// How often a leader sends a heartbeat round.
    pub heartbeat_interval: Duration,
    /// Election timeouts are drawn uniformly from
    /// `[election_timeout_min, election_timeout_max)`. The minimum is also the
    /// CheckQuorum period and how long a follower keeps faith in a leader it
    /// heard from (leader stickiness).
    pub election_timeout_min: Duration,
    pub election_timeout_max: Duration,
    /// How long a leader serves reads locally after the send time of a
    /// heartbeat round that a majority acknowledged.
    pub lease_duration: Duration,
    /// The most that two nodes' clocks may disagree when they measure the same
    /// interval of up to `election_timeout_min`. A lease is safe only if
    /// `lease_duration + clock_drift_bound <= election_timeout_min`.
    pub clock_drift_bound: Duration,
    /// Raft thesis §9.6: campaign in a pre-vote round first, without bumping
    /// the term, so a node that cannot win does not disrupt the cluster.
    pub pre_vote: bool,
    /// A leader steps down when it has not heard from a majority within an
    /// election timeout; a follower that heard from a live leader within the
    /// minimum election timeout ignores vote and pre-vote requests.
    pub check_quorum: bool,
    /// Serve reads from the leader's local state while its lease is valid
    /// (otherwise every read goes through a ReadIndex round).
    pub lease_reads: bool,
    /// The most entries one append message carries.
    pub max_entries_per_append: usize,
    /// The most entry payload bytes ([`Entry::payload_len`]) one append
    /// message carries. An append always carries at least one entry, so an
    /// entry larger than this still goes, alone.
    ///
    /// [`Entry::payload_len`]: crate::core::raft::Entry::payload_len
    pub max_bytes_per_append: usize,
    /// The most append messages in flight to one follower.
    pub max_inflight_appends: usize,
    /// Take a snapshot of the state machine (and compact the log through
    /// it) once this many entries were applied since the last one; 0 never
    /// does (an operator may still ask for one: `RaftNode::take_snapshot`).
    /// A snapshot travels to a follower in chunks within
    /// `max_entries_per_append` pairs and `max_bytes_per_append` bytes.
    pub snapshot_every: u64,
    /// Also take one once the entries applied since the last snapshot
    /// carry this many payload bytes ([`Entry::payload_len`]); 0 never
    /// does. Whichever of the two limits is reached first triggers it.
    ///
    /// [`Entry::payload_len`]: crate::core::raft::Entry::payload_len
    pub snapshot_bytes: u64,
    /// Deliberate deviations for the checkers to catch; inert (every switch
    /// answers "no bug") unless the `deliberate-bugs` feature is on.
    pub bugs: DeliberateBugs,
}

impl Default for Config {
    /// DESIGN.md's default timings: heartbeat 50 ms, election timeout in [150, 300)
    /// ms, lease 100 ms plus a 50 ms drift margin, all features on.
    fn default() -> Self {
        Config {
            heartbeat_interval: Duration::from_millis(50),
            election_timeout_min: Duration::from_millis(150),
            election_timeout_max: Duration::from_millis(300),
            lease_duration: Duration::from_millis(100),
            clock_drift_bound: Duration::from_millis(50),
            pre_vote: true,
            check_quorum: true,
            lease_reads: true,
            max_entries_per_append: 64,
            max_bytes_per_append: 1 << 20,
            max_inflight_appends: 256,
            snapshot_every: 0,
            snapshot_bytes: 0,
            bugs: DeliberateBugs::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("heartbeat interval {heartbeat:?} must be shorter than the minimum election timeout {election_timeout_min:?}")]
    HeartbeatTooSlow {
        heartbeat: Duration,
        election_timeout_min: Duration,
    },
    #[error("heartbeat interval must be positive")]
    ZeroHeartbeat,
    #[error("election timeout range [{min:?}, {max:?}) is empty")]
    EmptyElectionTimeoutRange { min: Duration, max: Duration },
    #[error(
        "lease {lease:?} + clock drift bound {drift:?} exceeds the minimum election timeout \
         {election_timeout_min:?}: a new leader could be elected while the old lease is still valid"
    )]
    LeaseOutlivesElectionTimeout {
        lease: Duration,
        drift: Duration,
        election_timeout_min: Duration,
    },
    #[error("lease reads need check_quorum: followers must ignore votes while a leader's lease may be valid")]
    LeaseWithoutCheckQuorum,
    #[error("lease reads need a positive lease duration")]
    ZeroLease,
    #[error(
        "max_entries_per_append, max_bytes_per_append and max_inflight_appends must be at least 1"
    )]
    ZeroFlowControl,
    #[error(transparent)]
    Membership(#[from] MembershipError),
    #[error("durable state is inconsistent: {reason}")]
    InconsistentDurableState { reason: &'static str },
}

impl Config {
    /// Checks the settings on their own and against the membership `members`
    /// that node `id` belongs to.
    pub fn validate(&self, id: NodeId, members: &[NodeId]) -> Result<(), ConfigError> {
        self.validate_timings()?;
        Ok(Membership::validate(id, members)?)
    }

    fn validate_timings(&self) -> Result<(), ConfigError> {
        if self.heartbeat_interval.is_zero() {
            return Err(ConfigError::ZeroHeartbeat);
        }
        if self.heartbeat_interval >= self.election_timeout_min {
            return Err(ConfigError::HeartbeatTooSlow {
                heartbeat: self.heartbeat_interval,
                election_timeout_min: self.election_timeout_min,
            });
        }
        if self.election_timeout_max <= self.election_timeout_min {
            return Err(ConfigError::EmptyElectionTimeoutRange {
                min: self.election_timeout_min,
                max: self.election_timeout_max,
            });
        }
        if self.max_entries_per_append == 0
            || self.max_bytes_per_append == 0
            || self.max_inflight_appends == 0
        {
            return Err(ConfigError::ZeroFlowControl);
        }
        if self.lease_reads && !self.bugs.unchecked_lease() {
            self.validate_lease()?;
        }
        Ok(())
    }

    /// A follower that acknowledged the leader's round refuses to vote for
    /// `election_timeout_min` by its own clock after it heard from the
    /// leader. The leader's lease, measured on the leader's clock from the
    /// round's send time, must end before that even when the two clocks
    /// disagree by the whole drift bound.
    fn validate_lease(&self) -> Result<(), ConfigError> {
        if !self.check_quorum {
            return Err(ConfigError::LeaseWithoutCheckQuorum);
        }
        if self.lease_duration.is_zero() {
            return Err(ConfigError::ZeroLease);
        }
        if self.lease_duration + self.clock_drift_bound > self.election_timeout_min {
            return Err(ConfigError::LeaseOutlivesElectionTimeout {
                lease: self.lease_duration,
                drift: self.clock_drift_bound,
                election_timeout_min: self.election_timeout_min,
            });
        }
        Ok(())
    }

    /// Whether followers ignore vote requests while they hear from a leader.
    pub(crate) fn leader_stickiness(&self) -> bool {
        self.check_quorum || self.lease_reads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_without_drift_margin_is_rejected() {
        // 120 ms of lease fits in a 150 ms election timeout only if clocks
        // agree to within 30 ms; the default bound is 50 ms.
        let config = Config {
            lease_duration: std::time::Duration::from_millis(120),
            ..Config::default()
        };
        assert!(matches!(
            config.validate(1, &[1, 2, 3]),
            Err(ConfigError::LeaseOutlivesElectionTimeout { .. })
        ));
    }

    #[test]
    fn lease_exactly_filling_the_election_timeout_is_accepted() {
        let config = Config {
            lease_duration: std::time::Duration::from_millis(100),
            clock_drift_bound: std::time::Duration::from_millis(50),
            ..Config::default()
        };
        config.validate(1, &[1, 2, 3]).unwrap();
    }

    #[test]
    fn lease_needs_check_quorum() {
        let config = Config {
            check_quorum: false,
            ..Config::default()
        };
        assert_eq!(
            config.validate(1, &[1]),
            Err(ConfigError::LeaseWithoutCheckQuorum)
        );
    }
}
