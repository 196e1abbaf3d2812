//! Configuration checks shared by Bully and Ring: the membership (1–9
//! distinct nonzero ids, this node among them) and the timings of leader
//! failure detection. Each variant's `Config::validate` calls these, so both
//! reject a bad setting with the same typed [`ConfigError`].

use std::time::Duration;

use rand::{Rng, RngCore};

use crate::core::node::NodeId;

/// The largest cluster the core supports (a fixed membership of 1–9 nodes).
pub const MAX_MEMBERS: usize = 9;

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
    #[error("a cluster has 1 to {MAX_MEMBERS} members, not {count}")]
    MemberCount { count: usize },
    #[error("member id 0 is reserved")]
    ZeroMemberId,
    #[error("member {id} is listed twice")]
    DuplicateMember { id: NodeId },
    #[error("node {id} is not in the member list")]
    NotAMember { id: NodeId },
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

/// Checks that `members` is 1–9 distinct nonzero ids including `id`.
pub fn validate_members(id: NodeId, members: &[NodeId]) -> Result<(), ConfigError> {
    if members.is_empty() || members.len() > MAX_MEMBERS {
        return Err(ConfigError::MemberCount {
            count: members.len(),
        });
    }
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(ConfigError::DuplicateMember { id: pair[0] });
    }
    if sorted[0] == 0 {
        return Err(ConfigError::ZeroMemberId);
    }
    if !sorted.contains(&id) {
        return Err(ConfigError::NotAMember { id });
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

    #[test]
    fn membership_is_checked() {
        validate_members(1, &[3, 1, 2]).unwrap();
        validate_members(1, &[1]).unwrap();
        assert_eq!(
            validate_members(4, &[1, 2, 3]),
            Err(ConfigError::NotAMember { id: 4 })
        );
        assert_eq!(
            validate_members(1, &[1, 2, 2]),
            Err(ConfigError::DuplicateMember { id: 2 })
        );
        assert_eq!(validate_members(1, &[0, 1]), Err(ConfigError::ZeroMemberId));
        assert_eq!(
            validate_members(1, &[]),
            Err(ConfigError::MemberCount { count: 0 })
        );
        assert_eq!(
            validate_members(1, &(1..=10).collect::<Vec<_>>()),
            Err(ConfigError::MemberCount { count: 10 })
        );
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
