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
//! 4. Back-off: each declined hand-over costs the cluster its writes while
//!    the transfer is pending (the leader stops taking operations), so
//!    after `n` declines in a row the leader waits [`retry_wait`] —
//!    `time_in_office_min × 2^(n−1)`, at most [`BACKOFF_DOUBLINGS_MAX`]
//!    doublings — before it tries again. A leader every follower declined
//!    stops trying for a whole window: [`mark_declined`] keeps them all
//!    marked slow a window from the last decline.

use std::collections::BTreeMap;
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

/// Hand-overs of this term declined one after another, none since
/// succeeded or made moot by a healthy disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declines {
    /// How many in a row; at least 1.
    pub in_a_row: u32,
    /// When the last one was seen to lapse.
    pub last: Time,
}

/// Everything the decision reads.
#[derive(Clone, Copy, Debug)]
pub struct Situation<'a> {
    pub now: Time,
    /// When this node became leader (its current term's start, locally).
    pub leading_since: Time,
    pub own: Measurements,
    pub followers: &'a [Follower],
    /// The declines in a row so far, if the last hand-over was declined.
    pub declines: Option<Declines>,
}

/// The most times the wait between declined hand-overs doubles: with the
/// default 10 s in office, a leader whose followers keep declining retries
/// every 80 s at the slowest, so one that turns healthy is found soon.
pub const BACKOFF_DOUBLINGS_MAX: u32 = 3;

/// How long a leader waits after its `in_a_row`-th declined hand-over in a
/// row before it tries again: the minimum time in office (which already
/// outlasts an election, so the last try has settled), doubled for each
/// decline before the last, at most [`BACKOFF_DOUBLINGS_MAX`] times.
pub fn retry_wait(settings: &HealthSettings, in_a_row: u32) -> Duration {
    debug_assert!(in_a_row >= 1, "a wait follows a decline");
    let doublings = in_a_row.saturating_sub(1).min(BACKOFF_DOUBLINGS_MAX);
    settings
        .time_in_office_min
        .saturating_mul(1u32 << doublings)
}

/// Marks `declined` slow in `marks` (follower → slow until) after it
/// declined at `now`, for a window. When that leaves every one of
/// `followers` marked, all of them stay marked a window from now: a leader
/// that has seen every follower decline stops trying for a window, instead
/// of retrying each as its own mark runs out.
pub fn mark_declined(
    marks: &mut BTreeMap<NodeId, Time>,
    followers: &[NodeId],
    declined: NodeId,
    now: Time,
    window: Duration,
) {
    let until = now.saturating_add(window);
    marks.insert(declined, until);
    let every = followers
        .iter()
        .all(|peer| marks.get(peer).is_some_and(|&slow_until| slow_until > now));
    if every {
        for peer in followers {
            marks.insert(*peer, until);
        }
    }
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
    /// Unhealthy, but the last hand-over was declined and the back-off
    /// runs until `until`.
    BackingOff {
        unhealthy: Unhealthy,
        until: Time,
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
    // Disk errors skip the back-off too: the node is stopping.
    if let (true, Some(declines)) = (waits, situation.declines) {
        let until = declines
            .last
            .saturating_add(retry_wait(settings, declines.in_a_row));
        if situation.now < until {
            return Verdict::Stay(StayReason::BackingOff { unhealthy, until });
        }
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
        /// Declines in a row, and how long ago the last one lapsed (ms).
        declines: Option<(u32, u64)>,
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
                declines: None,
                expected: Verdict::Stay(StayReason::Healthy),
            },
            Case {
                name: "exactly the threshold is not over it",
                p99_ms: Some(50),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                declines: None,
                expected: Verdict::Stay(StayReason::Healthy),
            },
            Case {
                name: "too few samples say nothing",
                p99_ms: None,
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                declines: None,
                expected: Verdict::Stay(StayReason::Healthy),
            },
            Case {
                name: "a slow disk hands over to the most up-to-date follower",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                declines: None,
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
                declines: None,
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
                declines: None,
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
                declines: None,
                expected: Verdict::Stay(StayReason::NoHealthyFollower { unhealthy: slow }),
            },
            Case {
                name: "a lone node stays",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: vec![],
                declines: None,
                expected: Verdict::Stay(StayReason::NoHealthyFollower { unhealthy: slow }),
            },
            Case {
                name: "equal followers: the lowest id",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: vec![follower(4, 9, false), follower(2, 9, false)],
                declines: None,
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
                declines: None,
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
                declines: None,
                expected: Verdict::Stay(StayReason::NoHealthyFollower { unhealthy: errors }),
            },
            Case {
                name: "one decline: the next try waits the time in office",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                declines: Some((1, 999)),
                expected: Verdict::Stay(StayReason::BackingOff {
                    unhealthy: slow,
                    until: Time::from_millis(100_000 - 999 + 1_000),
                }),
            },
            Case {
                name: "one decline, the wait over: it tries again",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                declines: Some((1, 1_000)),
                expected: Verdict::Abdicate {
                    to: 3,
                    unhealthy: slow,
                },
            },
            Case {
                name: "three declines in a row: the wait has doubled twice",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 10_000,
                followers: two_healthy.clone(),
                declines: Some((3, 3_999)),
                expected: Verdict::Stay(StayReason::BackingOff {
                    unhealthy: slow,
                    until: Time::from_millis(100_000 - 3_999 + 4_000),
                }),
            },
            Case {
                name: "many declines: the wait stops doubling",
                p99_ms: Some(80),
                disk_errors: 0,
                in_office_ms: 50_000,
                followers: two_healthy.clone(),
                declines: Some((40, 8_000)),
                expected: Verdict::Abdicate {
                    to: 3,
                    unhealthy: slow,
                },
            },
            Case {
                name: "declines do not hold back a healthy verdict",
                p99_ms: Some(10),
                disk_errors: 0,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                declines: Some((2, 0)),
                expected: Verdict::Stay(StayReason::Healthy),
            },
            Case {
                name: "disk errors skip the back-off",
                p99_ms: None,
                disk_errors: 1,
                in_office_ms: 5_000,
                followers: two_healthy.clone(),
                declines: Some((5, 0)),
                expected: Verdict::Abdicate {
                    to: 3,
                    unhealthy: errors,
                },
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
                declines: case.declines.map(|(in_a_row, ago_ms)| Declines {
                    in_a_row,
                    last: Time::from_millis(100_000 - ago_ms),
                }),
            };
            assert_eq!(
                decide(&settings, &situation),
                case.expected,
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn a_decline_marks_for_a_window_and_the_last_follower_renews_every_mark() {
        let window = ms(1_000);
        let followers = [2, 3, 4];
        // (already marked: peer → until ms, who declines at 5000 ms, marks after)
        /// Follower → marked slow until (ms).
        type Marks = Vec<(NodeId, u64)>;
        let cases: [(&str, Marks, NodeId, Marks); 3] = [
            (
                "a first decline marks one follower for a window",
                vec![],
                3,
                vec![(3, 6_000)],
            ),
            (
                "a follower still unmarked keeps the others' marks as they were",
                vec![(2, 5_400)],
                3,
                vec![(2, 5_400), (3, 6_000)],
            ),
            (
                "the last to decline renews every mark: a window of quiet",
                vec![(2, 5_400), (3, 5_800)],
                4,
                vec![(2, 6_000), (3, 6_000), (4, 6_000)],
            ),
        ];
        for (name, before, declined, after) in cases {
            let mut marks: BTreeMap<NodeId, Time> = before
                .into_iter()
                .map(|(peer, until)| (peer, Time::from_millis(until)))
                .collect();
            mark_declined(
                &mut marks,
                &followers,
                declined,
                Time::from_millis(5_000),
                window,
            );
            let expected: BTreeMap<NodeId, Time> = after
                .into_iter()
                .map(|(peer, until)| (peer, Time::from_millis(until)))
                .collect();
            assert_eq!(marks, expected, "{name}");
        }
    }
}
