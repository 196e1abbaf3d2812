//! The node loop's side of abdication: it keeps the window of the node's
//! own fsync latencies and its disk errors, remembers which followers
//! declined a hand-over, and after each turn asks [`decide`] whether this
//! leader should hand over. It reads the core (role, term, followers'
//! progress) and answers with at most one target; the loop turns that into
//! the core's own leadership transfer (`Input::TransferLeadership`).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::core::node::{Node, NodeId, Role};
use crate::core::raft::{RaftNode, Term};
use crate::core::time::Time;
use crate::driver::health::decision::{
    decide, mark_declined, Declines, Follower, Measurements, Situation, StayReason, Unhealthy,
    Verdict,
};
use crate::driver::health::settings::HealthSettings;
use crate::driver::health::window::LatencyWindow;

/// How often a leader re-judges its health: the p99 sorts the window, so
/// not on every turn.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// A hand-over this leader asked for.
#[derive(Clone, Copy, Debug)]
struct Asked {
    to: NodeId,
    term: Term,
    /// If this node still leads in `term` by then, the target declined.
    lapses: Time,
}

/// The abdication policy of one node.
#[derive(Clone, Debug)]
pub struct HealthPolicy {
    settings: HealthSettings,
    fsyncs: LatencyWindow,
    disk_errors: u64,
    /// The term this node leads in, and when (locally) it began to.
    leading: Option<(Term, Time)>,
    asked: Option<Asked>,
    /// Followers that declined a hand-over, slow until the time given.
    declined: BTreeMap<NodeId, Time>,
    /// This term's hand-overs declined in a row, for the back-off.
    declines: Option<Declines>,
    next_check: Time,
    /// The last p99 computed, and when: the gauge reads it between checks.
    p99: Option<Duration>,
}

impl HealthPolicy {
    pub fn new(settings: HealthSettings) -> HealthPolicy {
        HealthPolicy {
            settings,
            fsyncs: LatencyWindow::new(settings.window),
            disk_errors: 0,
            leading: None,
            asked: None,
            declined: BTreeMap::new(),
            declines: None,
            next_check: Time::ZERO,
            p99: None,
        }
    }

    pub fn observe_fsync(&mut self, now: Time, latency: Duration) {
        self.fsyncs.observe(now, latency);
    }

    pub fn observe_disk_error(&mut self) {
        self.disk_errors += 1;
    }

    /// This node's own measurements at `now`.
    pub fn measurements(&mut self, now: Time) -> Measurements {
        self.p99 = self.fsyncs.p99(now, self.settings.samples_min);
        Measurements {
            fsync_p99: self.p99,
            disk_errors: self.disk_errors,
        }
    }

    /// The fsync p99 as of the last judgement (for the gauge).
    pub fn last_fsync_p99(&self) -> Option<Duration> {
        self.p99
    }

    /// Whether this leader marks `peer` slow (it declined a hand-over).
    pub fn marks_slow(&self, peer: NodeId) -> bool {
        self.declined.contains_key(&peer)
    }

    /// Why this node should not take leadership now, if it should not: the
    /// same test a leader applies to itself. A follower asked to take over
    /// (TimeoutNow) declines while this says it is slow.
    pub fn unfit_to_lead(&mut self, now: Time) -> Option<Unhealthy> {
        let situation = Situation {
            now,
            // A candidate has served no time; only the measurements count.
            leading_since: Time::ZERO,
            own: self.measurements(now),
            followers: &[],
            declines: None,
        };
        match decide(&self.settings, &situation) {
            Verdict::Stay(StayReason::Healthy) => None,
            Verdict::Stay(
                StayReason::NoHealthyFollower { unhealthy }
                | StayReason::TooSoon { unhealthy, .. }
                | StayReason::BackingOff { unhealthy, .. },
            )
            | Verdict::Abdicate { unhealthy, .. } => Some(unhealthy),
        }
    }

    /// After a turn: the follower to hand leadership to, and why, if this
    /// node leads and should not. Also notes a hand-over that lapsed.
    pub fn after_turn(&mut self, now: Time, node: &RaftNode) -> Option<(NodeId, Unhealthy)> {
        if node.role() != Role::Leader {
            self.leading = None;
            self.asked = None;
            self.declined.clear();
            self.declines = None;
            return None;
        }
        let term = node.current_term();
        if self.leading.is_none_or(|(led, _)| led != term) {
            self.leading = Some((term, now));
            self.asked = None;
            self.declines = None;
        }
        if let Some(asked) = self.asked {
            if now < asked.lapses {
                return None;
            }
            // Still leading in the same term: the target did not take over.
            debug_assert_eq!(asked.term, term);
            let peers: Vec<NodeId> = node
                .members()
                .iter()
                .copied()
                .filter(|&peer| node.progress_of(peer).is_some())
                .collect();
            mark_declined(
                &mut self.declined,
                &peers,
                asked.to,
                now,
                self.settings.window,
            );
            self.declines = Some(Declines {
                in_a_row: self.declines.map_or(1, |d| d.in_a_row.saturating_add(1)),
                last: now,
            });
            self.asked = None;
        }
        if now < self.next_check {
            return None;
        }
        self.next_check = now.saturating_add(CHECK_EVERY);
        self.declined.retain(|_, until| *until > now);
        let followers: Vec<Follower> = node
            .members()
            .iter()
            .filter_map(|&peer| {
                let (matched, _) = node.progress_of(peer)?;
                Some(Follower {
                    id: peer,
                    matched,
                    slow: self.declined.contains_key(&peer),
                })
            })
            .collect();
        let (_, leading_since) = self.leading.expect("set above");
        let situation = Situation {
            now,
            leading_since,
            own: self.measurements(now),
            followers: &followers,
            declines: self.declines,
        };
        match decide(&self.settings, &situation) {
            Verdict::Abdicate { to, unhealthy } => {
                // The target campaigns at once on TimeoutNow; an election
                // it wins ends our term well within its longest timeout.
                let lapses = now.saturating_add(node.config().election_timeout_max);
                self.asked = Some(Asked { to, term, lapses });
                Some((to, unhealthy))
            }
            Verdict::Stay(StayReason::Healthy) => {
                // A disk that recovered starts the back-off afresh.
                self.declines = None;
                None
            }
            Verdict::Stay(_) => None,
        }
    }

    /// The follower a leader whose disk just failed should wake, and why:
    /// it cannot make anything more durable, so it skips the wait in
    /// office. `None` unless this node leads and has a follower not marked
    /// slow.
    pub fn after_disk_error(&mut self, now: Time, node: &RaftNode) -> Option<(NodeId, Unhealthy)> {
        self.observe_disk_error();
        self.next_check = Time::ZERO;
        self.asked = None;
        self.after_turn(now, node)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::HealthPolicy;
    use crate::core::node::{Input, Node, Role};
    use crate::core::raft::{Body, Config, Message, RaftActions, RaftNode, VoteResponse};
    use crate::core::time::Time;
    use crate::driver::health::HealthSettings;

    /// Node 1 of three, leading term 1 at 1 s, with an election timeout
    /// far from the default's, so that the policy must read this node's.
    fn leader(election_timeout_max: Duration) -> RaftNode {
        let config = Config {
            pre_vote: false,
            election_timeout_max,
            ..Config::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut node = RaftNode::new(1, &[1, 2, 3], config, Time::ZERO, &mut rng).unwrap();
        let mut actions = RaftActions::default();
        node.step(
            Time::from_millis(1_000),
            &mut rng,
            Input::Campaign,
            &mut actions,
        );
        let vote = Message {
            term: node.current_term(),
            body: Body::VoteResponse(VoteResponse {
                pre_vote: false,
                granted: true,
            }),
        };
        let input = Input::Message {
            from: 2,
            message: vote,
        };
        node.step(Time::from_millis(1_000), &mut rng, input, &mut actions);
        assert_eq!(node.role(), Role::Leader);
        node
    }

    #[test]
    fn a_hand_over_counts_as_declined_only_after_the_nodes_longest_election_timeout() {
        // The target campaigns at once on TimeoutNow, and an election it
        // wins ends this term within its longest election timeout; judged
        // earlier, a hand-over still under way would mark a good follower
        // slow and wake another one.
        let longest = Duration::from_secs(3);
        let node = leader(longest);
        let mut policy = HealthPolicy::new(HealthSettings::default());
        let asked_at = Time::from_millis(1_000);
        let (to, _) = policy
            .after_disk_error(asked_at, &node)
            .expect("hands over");
        assert_eq!(to, 2, "the lowest id among equally caught-up followers");
        let just_before = asked_at.saturating_add(longest - Duration::from_micros(1));
        assert_eq!(
            policy.after_turn(just_before, &node),
            None,
            "the hand-over to 2 is still under way"
        );
        let (next, _) = policy
            .after_turn(asked_at.saturating_add(longest), &node)
            .expect("2 declined: another follower is asked");
        assert_eq!(next, 3, "2 is marked slow");
    }
}
