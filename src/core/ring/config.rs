//! Ring timing, validated at construction.

use std::time::Duration;

use crate::core::chassis::config::{validate_leader_timing, validate_longer, validate_positive};
use crate::core::chassis::{ConfigError, Membership};
use crate::core::node::NodeId;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// How often the coordinator sends HEARTBEAT to every other node.
    pub heartbeat_interval: Duration,
    /// A follower that hears nothing from its coordinator for a timeout drawn
    /// from `[leader_timeout_min, leader_timeout_max)` starts an election. A
    /// node that comes up listens this long before it elects.
    pub leader_timeout_min: Duration,
    pub leader_timeout_max: Duration,
    /// How long a node waits for its successor to acknowledge an ELECTION or
    /// COORDINATOR before it declares that successor dead and passes the
    /// message to the next one: about one round trip at the worst expected
    /// latency.
    pub ack_timeout: Duration,
    /// How long a node taking part in an election waits for COORDINATOR
    /// before it starts over. An election is up to three laps (to the
    /// highest live id, its lap, the coordinator's lap), each paying
    /// `ack_timeout` per dead node, so this must exceed three of them; when
    /// it fires early the restart is harmless, only wasteful.
    pub coordinator_timeout: Duration,
}

impl Default for Config {
    /// DESIGN.md's default timings: heartbeat 50 ms, leader timeout in [150, 300) ms,
    /// ack timeout 50 ms (2 × a 25 ms worst-case latency), coordinator
    /// timeout 1 s (three laps of a 9-node ring with 4 dead nodes skipped on
    /// each lap take 600 ms of ack timeouts, plus the hops themselves).
    fn default() -> Self {
        Config {
            heartbeat_interval: Duration::from_millis(50),
            leader_timeout_min: Duration::from_millis(150),
            leader_timeout_max: Duration::from_millis(300),
            ack_timeout: Duration::from_millis(50),
            coordinator_timeout: Duration::from_millis(1000),
        }
    }
}

impl Config {
    /// Checks the settings on their own and against the membership `members`
    /// that node `id` belongs to.
    pub fn validate(&self, id: NodeId, members: &[NodeId]) -> Result<(), ConfigError> {
        validate_leader_timing(
            self.heartbeat_interval,
            self.leader_timeout_min,
            self.leader_timeout_max,
        )?;
        validate_positive("ack_timeout", self.ack_timeout)?;
        validate_longer(
            ("3 × ack_timeout", self.ack_timeout.saturating_mul(3)),
            ("coordinator_timeout", self.coordinator_timeout),
        )?;
        Ok(Membership::validate(id, members)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coordinator_timeout_shorter_than_three_skips_is_rejected() {
        let config = Config {
            coordinator_timeout: Duration::from_millis(150),
            ..Config::default()
        };
        assert!(matches!(
            config.validate(1, &[1, 2]),
            Err(ConfigError::TimeoutOrder {
                longer: "coordinator_timeout",
                ..
            })
        ));
    }
}
