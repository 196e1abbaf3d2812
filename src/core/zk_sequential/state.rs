//! The zk-sequential candidate: open a session, create its ephemeral
//! sequential entry, ask the store for the entry just below and watch it,
//! lead once nothing is below, keep the session alive, and write to the
//! protected resource under the entry's number as fencing token.
//!
//! Safety argument (Exclusive Holding): the store refreshes a session on
//! every request of it, so a session answered for a request sent at `t`
//! (own clock) lives at the store until at least a timeout after `t`. The
//! leader leads until `t + timeout - margin` of its own time for the newest
//! such `t`, and [`Config::validate`] requires the margin to cover the
//! drift allowance, so by real time it stops before its session can end.
//! Its entry goes only with its session, and no other candidate leads
//! while that entry is below its own. An entry that is the lowest stays so
//! while its session lives: entries are only ever created above every
//! other. A reply is matched to its request by number, so a late or
//! duplicated reply never confirms the session from a later send.
//! Fencing covers the rest, as in lease-lock: a write checked while
//! leading can land after leading ended, and only the resource's token
//! check refuses it.

use rand::RngCore;

use crate::core::lock_service::{announce, refuse_clients, retry_at, LockMessage, Worker};
use crate::core::node::{Actions, DropReason, Input, Node, NodeId, Role};
use crate::core::store::{Revision, SessionId, StoreReply, StoreRequest};
use crate::core::time::Time;
use crate::core::zk_sequential::Config;

type LockActions = Actions<LockMessage, ()>;

/// The request a candidate waits an answer for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Pending {
    number: u64,
    sent_at: Time,
}

/// What the candidate knows of the entries below its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Below {
    /// Not asked yet, or the watched predecessor went: ask the store.
    Unknown,
    /// The predecessor, watched: its deletion is what wakes this candidate.
    Watching(Revision),
    /// Nothing: the entry is the lowest, for as long as the session lives.
    Nothing,
}

/// The candidate's session, as far as the store has answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Session {
    id: SessionId,
    entry: Option<Revision>,
    below: Below,
    /// The send time (own clock) of the newest request of this session the
    /// store answered: the session lives a timeout after it, store time.
    confirmed: Time,
}

/// Leadership: by entry `token`, until `until` of its own clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Held {
    token: Revision,
    until: Time,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ZkSequentialNode {
    id: NodeId,
    /// The service member: the store and the protected resource.
    service: NodeId,
    config: Config,
    session: Option<Session>,
    /// Invariant: `held` implies the session's entry is `held.token` and
    /// nothing is below it.
    held: Option<Held>,
    pending: Option<Pending>,
    next_request_number: u64,
    /// When a candidate without a session opens one.
    next_open_at: Time,
    /// The newest revision seen (entries, predecessors): its term.
    known: Revision,
    work: Worker,
}

impl ZkSequentialNode {
    /// A candidate that reaches the store and the resource at `service`.
    /// Its first session waits a random retry delay, so candidates started
    /// together do not all ask at once.
    pub fn new(
        id: NodeId,
        service: NodeId,
        config: Config,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> ZkSequentialNode {
        assert_ne!(id, service, "a candidate is not the service");
        let next_open_at = retry_at(now, config.retry_min, config.retry_max, rng);
        ZkSequentialNode {
            id,
            service,
            config,
            session: None,
            held: None,
            pending: None,
            next_request_number: 1,
            next_open_at,
            known: Revision::ZERO,
            work: Worker::new(now),
        }
    }

    /// The fencing token it leads under (its entry's number), if it leads.
    pub fn token(&self) -> Option<Revision> {
        self.held.map(|held| held.token)
    }

    /// The token it would write under at local time `now`: its entry's,
    /// while its own clock says its session still outlives the margin.
    pub fn holding_at(&self, now: Time) -> Option<Revision> {
        self.held
            .filter(|held| now < held.until)
            .map(|held| held.token)
    }

    /// Its session's entry, once the store created it.
    pub fn entry(&self) -> Option<Revision> {
        self.session?.entry
    }

    /// The predecessor it watches, if it watches one.
    pub fn watching(&self) -> Option<Revision> {
        match self.session?.below {
            Below::Watching(predecessor) => Some(predecessor),
            Below::Unknown | Below::Nothing => None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn on_tick(&mut self, now: Time, actions: &mut LockActions) {
        let pause = self.config.work_pause;
        self.work.finish(now, self.service, pause, actions);
        if self.held.is_some_and(|held| now >= held.until) {
            self.stop_leading(actions);
        }
        self.work
            .start(now, self.holding_at(now), self.config.work_duration);
        if self
            .pending
            .is_some_and(|p| now >= p.sent_at.saturating_add(self.config.request_timeout))
        {
            self.pending = None;
        }
        self.send_next(now, actions);
    }

    /// When the next request is due: a session's first steps at once, a
    /// keep-alive `renew_after` past the last confirmation.
    fn request_due(&self) -> Time {
        match self.session {
            None => self.next_open_at,
            Some(Session {
                entry: Some(_),
                below: Below::Watching(_) | Below::Nothing,
                confirmed,
                ..
            }) => confirmed.saturating_add(self.config.renew_after()),
            Some(Session { confirmed, .. }) => confirmed,
        }
    }

    /// The request the candidate's state calls for.
    fn next_request(&self) -> StoreRequest {
        match self.session {
            None => StoreRequest::OpenSession {
                timeout: self.config.ttl,
            },
            Some(Session {
                id, entry: None, ..
            }) => StoreRequest::Create { session: id },
            Some(Session {
                id,
                entry: Some(entry),
                below: Below::Unknown,
                ..
            }) => StoreRequest::WatchBelow { session: id, entry },
            Some(Session { id, .. }) => StoreRequest::KeepAlive { session: id },
        }
    }

    /// Sends the request that is due, unless one is still unanswered.
    fn send_next(&mut self, now: Time, actions: &mut LockActions) {
        if self.pending.is_some() || now < self.request_due() {
            return;
        }
        let request = self.next_request();
        let number = self.next_request_number;
        self.next_request_number += 1;
        self.pending = Some(Pending {
            number,
            sent_at: now,
        });
        actions.send(self.service, LockMessage::Request { number, request });
    }

    fn on_store_reply(
        &mut self,
        now: Time,
        number: u64,
        reply: StoreReply,
        actions: &mut LockActions,
    ) {
        let Some(pending) = self.pending.filter(|p| p.number == number) else {
            actions.drop_input(Some(self.service), DropReason::Stale);
            return;
        };
        self.pending = None;
        match reply {
            StoreReply::SessionOpened { session } => {
                debug_assert!(self.session.is_none(), "only a candidate without one opens");
                self.session = Some(Session {
                    id: session,
                    entry: None,
                    below: Below::Unknown,
                    confirmed: pending.sent_at,
                });
            }
            StoreReply::Created { entry } => {
                self.known = self.known.max(entry);
                if let Some(session) = self.confirm(pending.sent_at) {
                    session.entry = Some(entry);
                }
            }
            StoreReply::Watching { entry, predecessor } => {
                self.known = self.known.max(entry);
                if let Some(session) = self.confirm(pending.sent_at) {
                    session.below = predecessor.map_or(Below::Nothing, Below::Watching);
                }
                self.lead_if_lowest(now, actions);
            }
            StoreReply::KeptAlive { watching, .. } => {
                if let Some(session) = self.confirm(pending.sent_at) {
                    // A watch the store no longer has fired, and its notice
                    // was lost on the way: ask again.
                    if matches!(session.below, Below::Watching(p) if watching != Some(p)) {
                        session.below = Below::Unknown;
                    }
                }
                self.lead_if_lowest(now, actions);
            }
            StoreReply::SessionExpired { .. } => self.end_session(now, actions),
            // The answers of the lease key (lease-lock) never come to a
            // session request.
            StoreReply::Granted { .. }
            | StoreReply::Renewed { .. }
            | StoreReply::Refused { .. }
            | StoreReply::Record { .. } => {
                let role = self.role();
                actions.drop_input(Some(self.service), DropReason::UnexpectedForRole { role });
            }
        }
        self.send_next(now, actions);
    }

    /// The session lives a timeout past `sent_at`: the send time of the
    /// request the store just answered for it.
    fn confirm(&mut self, sent_at: Time) -> Option<&mut Session> {
        let session = self.session.as_mut()?;
        session.confirmed = session.confirmed.max(sent_at);
        Some(session)
    }

    /// Leads, or leads longer, if the entry is the lowest: until the margin
    /// before the session could end by its own clock.
    fn lead_if_lowest(&mut self, now: Time, actions: &mut LockActions) {
        let Some(Session {
            entry: Some(token),
            below: Below::Nothing,
            confirmed,
            ..
        }) = self.session
        else {
            return;
        };
        let until = confirmed.saturating_add(self.config.lead_for());
        if now >= until {
            return;
        }
        let was_leading = self.held.is_some();
        let until = self.held.map_or(until, |held| held.until.max(until));
        self.held = Some(Held { token, until });
        if !was_leading {
            let holding = self.holding_at(now);
            self.work.start_now(now, holding, self.config.work_duration);
            self.announce(Role::Leader, Some(self.id), actions);
        }
    }

    /// The session is over (the store said so, or a newer token wrote): a
    /// new one is opened at once, with an entry above every other.
    fn end_session(&mut self, now: Time, actions: &mut LockActions) {
        if self.held.is_some() {
            self.stop_leading(actions);
        }
        self.session = None;
        // A late answer to the old session's request is stale by number.
        self.pending = None;
        self.next_open_at = now;
    }

    fn on_notify(&mut self, now: Time, deleted: Revision, actions: &mut LockActions) {
        match self.session.as_mut() {
            Some(session) if session.below == Below::Watching(deleted) => {
                session.below = Below::Unknown;
                self.send_next(now, actions);
            }
            _ => actions.drop_input(Some(self.service), DropReason::Stale),
        }
    }

    fn on_write_ack(
        &mut self,
        now: Time,
        token: Revision,
        accepted: bool,
        actions: &mut LockActions,
    ) {
        // A refused write means a newer entry's holder wrote: this entry,
        // and so its session, is gone, whatever the clock says.
        let ours = self.session.is_some_and(|s| s.entry == Some(token));
        if !accepted && ours {
            self.end_session(now, actions);
            self.send_next(now, actions);
        }
    }

    fn stop_leading(&mut self, actions: &mut LockActions) {
        self.held = None;
        self.announce(Role::Follower, None, actions);
    }

    fn announce(&self, role: Role, leader: Option<NodeId>, actions: &mut LockActions) {
        announce(role, leader, self.known.get(), actions);
    }
}

impl Node for ZkSequentialNode {
    type Message = LockMessage;
    type Persist = ();

    fn id(&self) -> NodeId {
        self.id
    }

    fn step(
        &mut self,
        now: Time,
        _rng: &mut dyn RngCore,
        input: Input<LockMessage>,
        actions: &mut LockActions,
    ) {
        match input {
            Input::Tick => self.on_tick(now, actions),
            Input::Message { from, .. } if from != self.service => {
                actions.drop_input(Some(from), DropReason::UnknownSender);
            }
            Input::Message { from, message } => match message {
                LockMessage::Reply { number, reply } => {
                    self.on_store_reply(now, number, reply, actions)
                }
                LockMessage::Notify { deleted } => self.on_notify(now, deleted, actions),
                LockMessage::WriteAck { token, accepted } => {
                    self.on_write_ack(now, token, accepted, actions)
                }
                LockMessage::Request { .. } | LockMessage::Write { .. } => {
                    let role = self.role();
                    actions.drop_input(Some(from), DropReason::UnexpectedForRole { role });
                }
            },
            // A candidate serves no key-value clients: each request, alone
            // or in a batch, is pointed at no one.
            clients @ (Input::Client(_) | Input::ClientBatch(_)) => {
                refuse_clients(clients, self.leader(), actions);
            }
            Input::Campaign => {
                if self.session.is_none() {
                    self.next_open_at = now;
                    self.send_next(now, actions);
                }
            }
            Input::TransferLeadership { to } => {
                actions.drop_input(None, DropReason::InvalidTarget { target: to });
            }
            Input::Snapshot => actions.drop_input(None, DropReason::NoSnapshots),
        }
    }

    fn next_deadline(&self) -> Time {
        let mut deadline = match self.pending {
            Some(pending) => pending.sent_at.saturating_add(self.config.request_timeout),
            None => self.request_due(),
        };
        if let Some(held) = self.held {
            deadline = deadline.min(held.until);
        }
        if let Some(work) = self.work.deadline(self.held.is_some()) {
            deadline = deadline.min(work);
        }
        deadline
    }

    crate::lock_candidate_queries!();

    fn invariants(&self) {
        if let Some(held) = self.held {
            let session = self.session.expect("a leader has a session");
            assert_eq!(session.entry, Some(held.token), "it leads by its entry");
            assert_eq!(session.below, Below::Nothing, "a leader's entry is lowest");
            assert!(held.token <= self.known, "a token is a seen revision");
        }
        if let Some(Session {
            entry: Some(entry),
            below: Below::Watching(predecessor),
            ..
        }) = self.session
        {
            assert!(predecessor < entry, "it watches below its own entry");
        }
        if let Some(pending) = self.pending {
            assert!(pending.number < self.next_request_number);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::core::fencing::FencedResource;
    use crate::core::lock_service::ServiceNode;
    use crate::core::store::IdealStore;

    const SERVICE: NodeId = 9;

    /// Candidates and the service exchanging messages over a perfect
    /// network, every clock exact: the recipe's message flow, step by step.
    struct Bench {
        candidates: Vec<ZkSequentialNode>,
        service: ServiceNode,
        rng: StdRng,
        now: Time,
        /// Notices the service sent: the deleted entry, the watcher.
        notified: Vec<(Revision, NodeId)>,
        /// Whether the network loses every notice.
        lose_notices: bool,
    }

    impl Bench {
        fn new(ids: &[NodeId]) -> Bench {
            let mut rng = StdRng::seed_from_u64(3);
            let candidates = ids
                .iter()
                .map(|&id| {
                    ZkSequentialNode::new(id, SERVICE, Config::default(), Time::ZERO, &mut rng)
                })
                .collect();
            let service = ServiceNode::new(SERVICE, IdealStore::new(), FencedResource::new(true));
            Bench {
                candidates,
                service,
                rng,
                now: Time::ZERO,
                notified: Vec::new(),
                lose_notices: false,
            }
        }

        fn candidate(&mut self, id: NodeId) -> &mut ZkSequentialNode {
            self.candidates
                .iter_mut()
                .find(|c| c.id() == id)
                .expect("a candidate of the bench")
        }

        /// Delivers `input` to member `to`, then everything it causes,
        /// at once, except to the members in `down`.
        fn deliver(&mut self, to: NodeId, input: Input<LockMessage>, down: &[NodeId]) {
            let mut queue = vec![(to, input)];
            while let Some((to, input)) = queue.pop() {
                if down.contains(&to) {
                    continue;
                }
                let mut actions = Actions::<LockMessage, ()>::default();
                let (now, rng) = (self.now, &mut self.rng);
                if to == SERVICE {
                    self.service.handle(now, input, &mut actions);
                } else {
                    let candidate = self
                        .candidates
                        .iter_mut()
                        .find(|c| c.id() == to)
                        .expect("a candidate of the bench");
                    candidate.step(now, rng, input, &mut actions);
                    candidate.invariants();
                }
                self.service.invariants();
                for out in actions.messages {
                    if let LockMessage::Notify { deleted } = out.message {
                        self.notified.push((deleted, out.to));
                        if self.lose_notices {
                            continue;
                        }
                    }
                    let message = Input::Message {
                        from: to,
                        message: out.message,
                    };
                    queue.insert(0, (out.to, message));
                }
            }
        }

        /// Runs until `until`, ticking every member whose deadline came,
        /// the members in `down` excepted (paused: they neither tick nor
        /// receive); at most one candidate holds at every millisecond.
        fn run(&mut self, until: Time, down: &[NodeId]) {
            while self.now < until {
                self.now = self.now.saturating_add(Duration::from_millis(1));
                let ids: Vec<NodeId> = self.candidates.iter().map(|c| c.id()).collect();
                for id in ids {
                    if self.candidate(id).next_deadline() <= self.now {
                        self.deliver(id, Input::Tick, down);
                    }
                }
                if self.service.next_deadline() <= self.now {
                    self.deliver(SERVICE, Input::Tick, down);
                }
                assert!(
                    self.leaders().len() <= 1,
                    "{:?} at {:?}",
                    self.leaders(),
                    self.now
                );
            }
        }

        fn leaders(&self) -> Vec<NodeId> {
            let now = self.now;
            self.candidates
                .iter()
                .filter(|c| c.holding_at(now).is_some())
                .map(|c| c.id())
                .collect()
        }
    }

    fn at(millis: u64) -> Time {
        Time::from_millis(millis)
    }

    /// The lowest entry leads, each other candidate watches exactly its
    /// predecessor, and the leader's loss notifies one candidate: its
    /// successor, which leads under a larger token.
    #[test]
    fn the_lowest_entry_leads_and_a_leaders_loss_wakes_only_its_successor() {
        let mut bench = Bench::new(&[1, 2, 3, 4]);
        bench.run(at(500), &[]);
        let leader = bench.leaders();
        assert_eq!(leader.len(), 1, "one leader: {leader:?}");
        let leader = leader[0];
        let token = bench.candidate(leader).token().unwrap();
        let mut watched: Vec<Revision> = bench
            .candidates
            .iter()
            .filter_map(|c| c.watching())
            .collect();
        watched.sort_unstable();
        watched.dedup();
        assert_eq!(
            watched.len(),
            3,
            "each follower watches its own predecessor"
        );
        assert!(
            watched.contains(&token),
            "the leader's entry is watched once"
        );
        // The leader stops answering: its session ends by the store's clock.
        bench.run(at(2_500), &[leader]);
        let next = bench.leaders();
        assert_eq!(next.len(), 1, "{next:?}");
        assert_ne!(next[0], leader);
        assert!(bench.candidate(next[0]).token().unwrap() > token);
        let wakes: Vec<_> = bench.notified.iter().filter(|(d, _)| *d == token).collect();
        assert_eq!(
            wakes.len(),
            1,
            "one notice for the leader's entry: {wakes:?}"
        );
        let count = bench.service.store().watch_count();
        assert_eq!(count.deletions, 1);
        assert_eq!(count.most_per_deletion, 1);
    }

    /// A follower's notice lost on the way: the next keep-alive's answer
    /// shows the watch gone, and the follower asks again and leads.
    #[test]
    fn a_lost_notice_is_made_up_by_the_next_keep_alive() {
        let mut bench = Bench::new(&[1, 2]);
        bench.run(at(500), &[]);
        let leader = bench.leaders()[0];
        let follower = 3 - leader;
        let token = bench.candidate(leader).token().unwrap();
        bench.lose_notices = true;
        bench.run(at(2_500), &[leader]);
        assert_eq!(bench.notified, [(token, follower)], "sent, and lost");
        assert_eq!(bench.leaders(), [follower]);
        assert_eq!(bench.candidate(follower).watching(), None);
    }

    /// An answer to an older request (duplicated or late) confirms nothing.
    #[test]
    fn a_reply_to_another_request_is_stale() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut node = ZkSequentialNode::new(1, SERVICE, Config::default(), Time::ZERO, &mut rng);
        let mut actions = LockActions::default();
        let message = LockMessage::Reply {
            number: 7,
            reply: StoreReply::SessionOpened {
                session: SessionId::new(1),
            },
        };
        node.step(
            Time::ZERO,
            &mut rng,
            Input::Message {
                from: SERVICE,
                message,
            },
            &mut actions,
        );
        let drops = actions
            .events
            .iter()
            .filter(|e| matches!(e, crate::core::node::Event::Dropped { .. }));
        assert_eq!(drops.count(), 1);
        assert!(node.session.is_none());
    }
}
