//! Configuration checks shared by Bully and Ring: the timings of leader
//! failure detection (the membership is [`Membership::validate`]'s). Each
//! variant's `Config::validate` calls these, so both reject a bad setting
//! with the same typed [`ConfigError`].
//!
//! [`Membership::validate`]: crate::core::chassis::Membership::validate

use std::time::Duration;

use rand::{Rng, RngCore};

use crate::core::chassis::membership::MembershipError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting} must be positive")]
    ZeroDuration { setting: &'static str },
    #[error("heartbeat interval {heartbeat:?} must be shorter than the minimum leader timeout {leader_timeout_min:?}")]
    HeartbeatTooSlow {
        heartbeat: Duration,
        leader_timeout_min: Duration,
    },
    #[error("leader timeout range [{min:?}, {max:?}) is empty")]
    EmptyLeaderTimeoutRange { min: Duration, max: Duration },
    #[error("{longer} ({longer_value:?}) must be longer than {shorter} ({shorter_value:?})")]
    TimeoutOrder {
        shorter: &'static str,
        shorter_value: Duration,
        longer: &'static str,
        longer_value: Duration,
    },
    #[error(transparent)]
    Membership(#[from] MembershipError),
}

pub(crate) fn validate_positive(setting: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() {
        return Err(ConfigError::ZeroDuration { setting });
    }
    Ok(())
}

/// A follower declares its leader dead after a leader timeout drawn from
/// `[leader_timeout_min, leader_timeout_max)` without a heartbeat; the leader
/// must beat faster than the shortest such timeout, or a live leader is
/// deposed between two of its heartbeats.
pub(crate) fn validate_leader_timing(
    heartbeat_interval: Duration,
    leader_timeout_min: Duration,
    leader_timeout_max: Duration,
) -> Result<(), ConfigError> {
    validate_positive("heartbeat_interval", heartbeat_interval)?;
    if heartbeat_interval >= leader_timeout_min {
        return Err(ConfigError::HeartbeatTooSlow {
            heartbeat: heartbeat_interval,
            leader_timeout_min,
        });
    }
    if leader_timeout_max <= leader_timeout_min {
        return Err(ConfigError::EmptyLeaderTimeoutRange {
            min: leader_timeout_min,
            max: leader_timeout_max,
        });
    }
    Ok(())
}

/// `longer` must be strictly longer than `shorter`; each is (name, value).
pub(crate) fn validate_longer(
    shorter: (&'static str, Duration),
    longer: (&'static str, Duration),
) -> Result<(), ConfigError> {
    if longer.1 <= shorter.1 {
        return Err(ConfigError::TimeoutOrder {
            shorter: shorter.0,
            shorter_value: shorter.1,
            longer: longer.0,
            longer_value: longer.1,
        });
    }
    Ok(())
}

/// A leader timeout drawn from the caller's RNG, so that followers which lost
/// the same leader at the same instant do not all start elections together.
pub(crate) fn random_timeout(rng: &mut dyn RngCore, min: Duration, max: Duration) -> Duration {
    assert!(
        min < max,
        "validated: the leader timeout range is not empty"
    );
    let min_micros = u64::try_from(min.as_micros()).unwrap_or(u64::MAX);
    let max_micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rng.random_range(min_micros..max_micros))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::node::NodeId;
    use crate::core::{bully, raft, ring};

    /// A protocol's default `Config::validate`, reduced to the membership
    /// error it reports (if any), so one test covers all three.
    type MembershipCheck = fn(NodeId, &[NodeId]) -> Option<MembershipError>;

    fn membership_checks() -> [(&'static str, MembershipCheck); 3] {
        [
            ("raft", |id, members| {
                match raft::Config::default().validate(id, members) {
                    Ok(()) => None,
                    Err(raft::ConfigError::Membership(error)) => Some(error),
                    Err(other) => panic!("raft's default config refused: {other}"),
                }
            }),
            ("bully", |id, members| {
                match bully::Config::default().validate(id, members) {
                    Ok(()) => None,
                    Err(ConfigError::Membership(error)) => Some(error),
                    Err(other) => panic!("bully's default config refused: {other}"),
                }
            }),
            ("ring", |id, members| {
                match ring::Config::default().validate(id, members) {
                    Ok(()) => None,
                    Err(ConfigError::Membership(error)) => Some(error),
                    Err(other) => panic!("ring's default config refused: {other}"),
                }
            }),
        ]
    }

    #[test]
    fn every_protocol_accepts_its_defaults_and_checks_membership() {
        let too_many: Vec<NodeId> = (1..=10).collect();
        for (name, check) in membership_checks() {
            assert_eq!(check(1, &[1, 2, 3]), None, "{name}");
            assert_eq!(check(1, &[1]), None, "{name}");
            let refusals = [
                (check(4, &[1, 2, 3]), MembershipError::NotAMember { id: 4 }),
                (
                    check(1, &[1, 2, 2]),
                    MembershipError::DuplicateMember { id: 2 },
                ),
                (check(1, &[]), MembershipError::MemberCount { count: 0 }),
                (
                    check(1, &too_many),
                    MembershipError::MemberCount { count: 10 },
                ),
            ];
            for (found, expected) in refusals {
                assert_eq!(found, Some(expected), "{name}");
            }
        }
    }

    #[test]
    fn leader_timing_is_checked() {
        let ms = Duration::from_millis;
        validate_leader_timing(ms(50), ms(150), ms(300)).unwrap();
        assert_eq!(
            validate_leader_timing(ms(0), ms(150), ms(300)),
            Err(ConfigError::ZeroDuration {
                setting: "heartbeat_interval"
            })
        );
        assert!(matches!(
            validate_leader_timing(ms(150), ms(150), ms(300)),
            Err(ConfigError::HeartbeatTooSlow { .. })
        ));
        assert!(matches!(
            validate_leader_timing(ms(50), ms(300), ms(300)),
            Err(ConfigError::EmptyLeaderTimeoutRange { .. })
        ));
    }
}
