//! Whether a leader should hand leadership over, and to whom: a pure
//! function of the settings, the time, the leader's own disk measurements
//! and what it knows of its followers. No clock, no I/O, so a table of
//! cases pins it down.
//!
//! The rules, in order:
//! 1. A leader whose disk returned errors is unhealthy at once; one whose
//!    fsync p99 over the window exceeds the threshold is unhealthy too.
//!    A healthy leader stays.
//! 2. Hysteresis in time: a leader slow for less than its minimum time in
//!    office stays (a new leader is not handed on before it has served).
//!    Disk errors skip this wait: a failing disk does not recover by
//!    waiting, and the node stops on them.
//! 3. Hysteresis in place: the target is the most up-to-date follower not
//!    marked slow (ties go to the lowest id, so the choice is
//!    deterministic); with none, the leader stays. So when every disk is
//!    slow, leadership does not move.

use std::fmt;
use std::time::Duration;

use crate::core::node::NodeId;
use crate::core::raft::LogIndex;
use crate::core::time::Time;
use crate::driver::health::settings::HealthSettings;

/// What a node measured of its own disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measurements {
    /// The fsync p99 over the window; `None` while too few fsyncs were seen.
    pub fsync_p99: Option<Duration>,
    /// Disk operations that failed.
    pub disk_errors: u64,
}

/// A follower as the leader knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Follower {
    pub id: NodeId,
    /// The highest index known replicated on it.
    pub matched: LogIndex,
    /// Marked slow: it declined a hand-over recently.
    pub slow: bool,
}

/// Everything the decision reads.
#[derive(Clone, Copy, Debug)]
pub struct Situation<'a> {
    pub now: Time,
    /// When this node became leader (its current term's start, locally).
    pub leading_since: Time,
    pub own: Measurements,
    pub followers: &'a [Follower],
}

/// Why a leader is unhealthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unhealthy {
    SlowFsync { p99: Duration, max: Duration },
    DiskErrors { count: u64 },
}

/// Why a leader stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StayReason {
    Healthy,
    /// Unhealthy, but in office for less than the minimum.
    TooSoon {
        unhealthy: Unhealthy,
        in_office: Duration,
    },
    /// Unhealthy, but every follower is marked slow (or there is none).
    NoHealthyFollower {
        unhealthy: Unhealthy,
    },
}

/// The decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Stay(StayReason),
    /// Hand leadership to `to`, because of `unhealthy`.
    Abdicate {
        to: NodeId,
        unhealthy: Unhealthy,
    },
}

/// Decides, by the rules in this module's documentation.
pub fn decide(settings: &HealthSettings, situation: &Situation<'_>) -> Verdict {
    let unhealthy = if situation.own.disk_errors > 0 {
        Unhealthy::DiskErrors {
            count: situation.own.disk_errors,
        }
    } else {
        match situation.own.fsync_p99 {
            Some(p99) if p99 > settings.fsync_p99_max => Unhealthy::SlowFsync {
                p99,
                max: settings.fsync_p99_max,
            },
            _ => return Verdict::Stay(StayReason::Healthy),
        }
    };
    let in_office = situation.now.saturating_since(situation.leading_since);
    let waits = matches!(unhealthy, Unhealthy::SlowFsync { .. });
    if waits && in_office < settings.time_in_office_min {
        return Verdict::Stay(StayReason::TooSoon {
            unhealthy,
            in_office,
        });
    }
    let best = situation
        .followers
        .iter()
        .filter(|follower| !follower.slow)
        // Highest match first; among equals the lowest id.
        .max_by_key(|follower| (follower.matched, std::cmp::Reverse(follower.id)));
    match best {
        Some(follower) => Verdict::Abdicate {
            to: follower.id,
            unhealthy,
        },
        None => Verdict::Stay(StayReason::NoHealthyFollower { unhealthy }),
    }
}

impl fmt::Display for Unhealthy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unhealthy::SlowFsync { p99, max } => {
                write!(f, "fsync p99 {p99:?} over the window exceeds {max:?}")
            }
            Unhealthy::DiskErrors { count } => write!(f, "the disk returned {count} error(s)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn follower(id: NodeId, matched: u64, slow: bool) -> Follower {
        Follower {
            id,
            matched: LogIndex::new(matched),
            slow,
        }
    }

    /// One row: the leader's p99 and disk errors, its time in office, its
    /// followers, and the verdict.
    struct Case {
        name: &'static str,
        p99_ms: Option<u64>,
        disk_errors: u64,
        in_office_ms: u64,
        followers: Vec<Follower>,
        expected: Verdict,
    }

    #[test]
    fn the_decision_follows_its_table() {
        let settings = HealthSettings {
            fsync_p99_max: ms(50),
            time_in_office_min: ms(1_000),
            ..HealthSettings::default()
        };
        let slow = Unhealthy::SlowFsync {
            p99: ms(80),
            max: ms(50),
        };
        let errors = Unhealthy::DiskErrors { count: 1 };
        let two_healthy = vec![follower(2, 7, false), follower(3, 9, false)];
        let cases = [
            Case {
                name: "a fast disk stays",
                p99_ms: Some(10),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                expected: Verdict::Stay(StayReason::Healthy),
            },
            Case {
                name: "exactly the threshold is not over it",
                p99_ms: Some(50),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                expected: Verdict::Stay(StayReason::Healthy),
            },
            Case {
                name: "too few samples say nothing",
                p99_ms: None,
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                expected: Verdict::Stay(StayReason::Healthy),
            },
            Case {
                name: "a slow disk hands over to the most up-to-date follower",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                expected: Verdict::Abdicate {
                    to: 3,
                    unhealthy: slow,
                },
            },
            Case {
                name: "a slow disk new in office waits",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 999,
                followers: two_healthy.clone(),
                expected: Verdict::Stay(StayReason::TooSoon {
                    unhealthy: slow,
                    in_office: ms(999),
                }),
            },
            Case {
                name: "a slow follower is passed over even when ahead",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: vec![follower(2, 7, false), follower(3, 9, true)],
                expected: Verdict::Abdicate {
                    to: 2,
                    unhealthy: slow,
                },
            },
            Case {
                name: "every follower slow: the leader stays",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: vec![follower(2, 7, true), follower(3, 9, true)],
                expected: Verdict::Stay(StayReason::NoHealthyFollower { unhealthy: slow }),
            },
            Case {
                name: "a lone node stays",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: vec![],
                expected: Verdict::Stay(StayReason::NoHealthyFollower { unhealthy: slow }),
            },
            Case {
                name: "equal followers: the lowest id",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: vec![follower(4, 9, false), follower(2, 9, false)],
                expected: Verdict::Abdicate {
                    to: 2,
                    unhealthy: slow,
                },
            },
            Case {
                name: "disk errors hand over at once, with a fast p99",
                p99_ms: Some(1),
                disk_errors: 1,
                in_office_ms: 0,
                followers: two_healthy.clone(),
                expected: Verdict::Abdicate {
                    to: 3,
                    unhealthy: errors,
                },
            },
            Case {
                name: "disk errors still never hand over to a slow follower",
                p99_ms: None,
                disk_errors: 1,
                in_office_ms: 0,
                followers: vec![follower(2, 9, true)],
                expected: Verdict::Stay(StayReason::NoHealthyFollower { unhealthy: errors }),
            },
        ];
        for case in cases {
            let situation = Situation {
                now: Time::from_millis(100_000),
                leading_since: Time::from_millis(100_000 - case.in_office_ms),
                own: Measurements {
                    fsync_p99: case.p99_ms.map(ms),
                    disk_errors: case.disk_errors,
                },
                followers: &case.followers,
            };
            assert_eq!(
                decide(&settings, &situation),
                case.expected,
                "{}",
                case.name
            );
        }
    }
}
