//! Bully timing, validated at construction.

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
    /// node that comes up listens this long before it elects, to learn the
    /// current epoch from a live coordinator's heartbeats first.
    pub leader_timeout_min: Duration,
    pub leader_timeout_max: Duration,
    /// How long an electing node waits for ANSWER from a higher id before it
    /// concludes that it is the highest live node and crowns itself: about
    /// one round trip at the worst expected latency.
    pub answer_timeout: Duration,
    /// How long a node that was answered waits for COORDINATOR before it
    /// starts over. The node that answered may itself wait `answer_timeout`
    /// before crowning itself, so this must be longer.
    pub coordinator_timeout: Duration,
}

impl Default for Config {
    /// DESIGN.md's default timings: heartbeat 50 ms, leader timeout in [150, 300) ms,
    /// answer timeout 50 ms (2 × a 25 ms worst-case latency), coordinator
    /// timeout 100 ms (the answer timeout plus a margin for the broadcast).
    fn default() -> Self {
        Config {
            heartbeat_interval: Duration::from_millis(50),
            leader_timeout_min: Duration::from_millis(150),
            leader_timeout_max: Duration::from_millis(300),
            answer_timeout: Duration::from_millis(50),
            coordinator_timeout: Duration::from_millis(100),
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
        validate_positive("answer_timeout", self.answer_timeout)?;
        validate_longer(
            ("answer_timeout", self.answer_timeout),
            ("coordinator_timeout", self.coordinator_timeout),
        )?;
        Ok(Membership::validate(id, members)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        Config::default().validate(1, &[1, 2, 3]).unwrap();
    }

    #[test]
    fn a_coordinator_timeout_within_the_answer_timeout_is_rejected() {
        let config = Config {
            coordinator_timeout: Duration::from_millis(50),
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

    #[test]
    fn a_zero_answer_timeout_is_rejected() {
        let config = Config {
            answer_timeout: Duration::ZERO,
            ..Config::default()
        };
        assert_eq!(
            config.validate(1, &[1]),
            Err(ConfigError::ZeroDuration {
                setting: "answer_timeout"
            })
        );
    }
}
