//! The lease-lock candidate: acquire the key by compare-and-set on its
//! revision, renew it, stop leading a safety margin before the lease ends
//! by the holder's own clock, and write to the protected resource under
//! the grant's revision as fencing token.
//!
//! Safety argument (Exclusive Holding): a lease is timed from the send time
//! of the request that obtained it, which is before the store granted it;
//! the holder leads for `ttl - margin` of its own time from then, and
//! [`Config::validate`] requires the margin to cover the drift allowance,
//! so by real time the holder stops before the store can expire the grant
//! and hand the key to anyone else. A reply is matched to its request by
//! number, so a late or duplicated reply never times a lease from a later
//! send. Fencing covers the rest: a write started while leading can land
//! after leading ended (a pause between the check and the write), and only
//! the resource's token check refuses it.
//!
//! With challenger expiry ([`Expiry::Challenger`]) the store never expires
//! the record; a candidate without a claim reads it, remembers since when
//! (its own clock, at the reply's arrival) it has seen it unchanged, and
//! takes it over by compare-and-set on that version once it has waited the
//! TTL. The same margin keeps Exclusive Holding: the reply that started
//! the wait left the store after the holder's latest version was made, so
//! after the holder sent the request its lease is timed from; the wait is
//! at least `ttl / (1 + ρ)` of real time and the holder leads at most
//! `lead_for / (1 - ρ)`. A renewal in between changes the version, and the
//! take-over is refused.

use std::time::Duration;

use rand::RngCore;

use crate::core::lease_lock::{Config, Expiry};
use crate::core::lock_service::{announce, refuse_clients, retry_at, LockMessage, Worker};
use crate::core::node::{Actions, DropReason, Input, Node, NodeId, Role};
use crate::core::store::{KeyState, Revision, StoreReply, StoreRequest};
use crate::core::time::Time;

type LockActions = Actions<LockMessage, ()>;

/// The request a candidate waits an answer for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Pending {
    number: u64,
    sent_at: Time,
}

/// What a challenger saw of the key (challenger expiry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Observed {
    key: KeyState,
    /// Local time at which a reply first showed `key` unchanged since:
    /// after the store made that version, so after its holder sent the
    /// request that made it.
    since: Time,
}

/// The lease the candidate acts on: it leads until `until`, its own time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Held {
    token: Revision,
    until: Time,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseLockNode {
    id: NodeId,
    /// The service member: the store and the protected resource.
    service: NodeId,
    config: Config,
    /// The newest revision of the key this candidate has seen: what its
    /// next compare-and-set expects.
    known: Revision,
    /// A grant the store may still hold for this candidate: renewed, not
    /// acquired again. Invariant: `held` implies `claim == Some(held.token)`.
    claim: Option<Revision>,
    held: Option<Held>,
    /// The record as this challenger last saw it, with challenger expiry
    /// only. Invariant: `None` while it leads (a holder watches no one).
    observed: Option<Observed>,
    pending: Option<Pending>,
    next_request_number: u64,
    next_request_at: Time,
    work: Worker,
}

impl LeaseLockNode {
    /// A candidate that reaches the store and the resource at `service`.
    /// Its first attempt waits a random retry delay, so candidates started
    /// together do not all race at once.
    pub fn new(
        id: NodeId,
        service: NodeId,
        config: Config,
        now: Time,
        rng: &mut dyn RngCore,
    ) -> LeaseLockNode {
        assert_ne!(id, service, "a candidate is not the service");
        let mut node = LeaseLockNode {
            id,
            service,
            config,
            known: Revision::ZERO,
            claim: None,
            held: None,
            observed: None,
            pending: None,
            next_request_number: 1,
            next_request_at: now,
            work: Worker::new(now),
        };
        node.next_request_at = node.retry_at(now, rng);
        node
    }

    /// The fencing token of the lease it leads under, if it leads.
    pub fn token(&self) -> Option<Revision> {
        self.held.map(|held| held.token)
    }

    /// The token it would write under at local time `now`: its lease's,
    /// while its own clock says it still holds.
    pub fn holding_at(&self, now: Time) -> Option<Revision> {
        self.held
            .filter(|held| now < held.until)
            .map(|held| held.token)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn retry_at(&self, now: Time, rng: &mut dyn RngCore) -> Time {
        retry_at(now, self.config.retry_min, self.config.retry_max, rng)
    }

    fn on_tick(&mut self, now: Time, rng: &mut dyn RngCore, actions: &mut LockActions) {
        let pause = self.config.work_pause;
        self.work.finish(now, self.service, pause, actions);
        if self.held.is_some_and(|held| now >= held.until) {
            self.stop_leading(actions);
        }
        let holding = self.holding_at(now);
        self.work.start(now, holding, self.config.work_duration);
        if self
            .pending
            .is_some_and(|p| now >= p.sent_at.saturating_add(self.config.request_timeout))
        {
            self.pending = None;
        }
        if self.pending.is_none() && now >= self.next_request_at {
            self.send_request(now, rng, actions);
        }
    }

    fn send_request(&mut self, now: Time, rng: &mut dyn RngCore, actions: &mut LockActions) {
        let request = match self.claim {
            Some(revision) => StoreRequest::Renew { revision },
            None => self.claim_request(now),
        };
        let number = self.next_request_number;
        self.next_request_number += 1;
        self.pending = Some(Pending {
            number,
            sent_at: now,
        });
        self.next_request_at = match self.claim {
            Some(_) => now.saturating_add(self.config.renew_after()),
            None => self.retry_at(now, rng),
        };
        actions.send(self.service, LockMessage::Request { number, request });
    }

    /// What a candidate without a claim asks: the key for a TTL if it is
    /// free (store expiry); a take-over of the record once it may, else a
    /// read to keep watching it (challenger expiry).
    fn claim_request(&self, now: Time) -> StoreRequest {
        match (self.config.expiry, self.observed) {
            (Expiry::Store, _) => StoreRequest::Acquire {
                expected: self.known,
                ttl: self.config.ttl,
            },
            (Expiry::Challenger, Some(observed)) if now >= self.take_over_at(observed) => {
                self.take_over(now, observed)
            }
            (Expiry::Challenger, _) => StoreRequest::Read,
        }
    }

    /// The compare-and-set on the version observed. Precondition (the safety
    /// of challenger expiry rests on it): the record was never granted, or
    /// this challenger saw it unchanged for the whole wait.
    fn take_over(&self, now: Time, observed: Observed) -> StoreRequest {
        assert!(
            observed.key.holder.is_none() || now.saturating_since(observed.since) >= self.wait(),
            "a challenger takes over only a record it saw unchanged for the lease duration"
        );
        StoreRequest::TakeOver {
            revision: observed.key.revision,
            renewals: observed.key.renewals,
        }
    }

    /// How long a challenger waits, by its own clock, on a record it sees
    /// unchanged before it takes it over: the lease duration.
    fn wait(&self) -> Duration {
        self.config.ttl
    }

    /// When `observed` may be taken over: at once if it was never granted,
    /// else a wait after it was first seen.
    fn take_over_at(&self, observed: Observed) -> Time {
        match observed.key.holder {
            None => observed.since,
            Some(_) => observed.since.saturating_add(self.wait()),
        }
    }

    /// Notes `key` as seen at local time `now` (challenger expiry): any
    /// change (holder, grant, renewal) starts a new wait.
    fn observe(&mut self, now: Time, key: KeyState) {
        if self.config.expiry != Expiry::Challenger {
            return;
        }
        if self.observed.is_none_or(|observed| observed.key != key) {
            self.observed = Some(Observed { key, since: now });
        }
    }

    /// When a refused candidate tries again: after a retry delay; a
    /// challenger also no later than the moment it may take over.
    fn next_try_at(&self, now: Time, rng: &mut dyn RngCore) -> Time {
        let retry = self.retry_at(now, rng);
        match self.observed {
            Some(observed) => retry.min(self.take_over_at(observed)),
            None => retry,
        }
    }

    fn on_store_reply(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        number: u64,
        reply: StoreReply,
        actions: &mut LockActions,
    ) {
        if let StoreReply::Refused { key } | StoreReply::Record { key } = &reply {
            self.known = self.known.max(key.revision);
        }
        let Some(pending) = self.pending.filter(|p| p.number == number) else {
            actions.drop_input(Some(self.service), DropReason::Stale);
            return;
        };
        self.pending = None;
        match reply {
            StoreReply::Granted { revision } | StoreReply::Renewed { revision } => {
                self.on_granted(now, pending.sent_at, revision, actions)
            }
            StoreReply::Refused { key } | StoreReply::Record { key } => {
                self.on_key(now, rng, key, actions)
            }
            // The answers of the session recipe (zk-sequential) never come
            // to a lease request.
            StoreReply::SessionOpened { .. }
            | StoreReply::KeptAlive { .. }
            | StoreReply::Created { .. }
            | StoreReply::Watching { .. }
            | StoreReply::SessionExpired { .. } => {
                let role = self.role();
                actions.drop_input(Some(self.service), DropReason::UnexpectedForRole { role });
            }
        }
    }

    /// The store holds `revision` for us from after `sent_at`: lead until
    /// `sent_at + ttl - margin` by our clock.
    fn on_granted(
        &mut self,
        now: Time,
        sent_at: Time,
        revision: Revision,
        actions: &mut LockActions,
    ) {
        if self.claim.is_some_and(|claim| claim != revision) {
            // A renewal of a grant we no longer claim: nothing to time.
            actions.drop_input(Some(self.service), DropReason::Stale);
            return;
        }
        self.known = self.known.max(revision);
        self.claim = Some(revision);
        self.observed = None;
        self.next_request_at = sent_at.saturating_add(self.config.renew_after());
        let until = sent_at.saturating_add(self.config.lead_for());
        if now >= until {
            return;
        }
        let was_leading = self.held.is_some();
        let until = self.held.map_or(until, |held| held.until.max(until));
        self.held = Some(Held {
            token: revision,
            until,
        });
        if !was_leading {
            let holding = self.holding_at(now);
            self.work.start_now(now, holding, self.config.work_duration);
            self.announce(Role::Leader, Some(self.id), actions);
        }
    }

    /// The key as it stands, after a refusal or a read: whatever this
    /// candidate claimed is not (or no longer) granted to it as it thought.
    fn on_key(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        key: KeyState,
        actions: &mut LockActions,
    ) {
        self.claim = None;
        if self.held.is_some() {
            self.stop_leading(actions);
        }
        self.observe(now, key);
        if key.holder == Some(self.id) {
            // A grant whose reply we lost: renew it (the renewal's reply
            // times the lease) rather than wait for it to expire.
            self.claim = Some(key.revision);
            self.next_request_at = now;
        } else if key.holder.is_none() {
            // Free, and we now know its revision: try again at once.
            self.next_request_at = now;
        } else {
            self.next_request_at = self.next_try_at(now, rng);
        }
        if now >= self.next_request_at {
            self.send_request(now, rng, actions);
        }
    }

    fn on_write_ack(&mut self, token: Revision, accepted: bool, actions: &mut LockActions) {
        // A refused write means a newer holder wrote: this lease is over,
        // whatever the clock says.
        if !accepted && self.claim == Some(token) {
            self.claim = None;
            if self.held.is_some() {
                self.stop_leading(actions);
            }
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

impl Node for LeaseLockNode {
    type Message = LockMessage;
    type Persist = ();

    fn id(&self) -> NodeId {
        self.id
    }

    fn step(
        &mut self,
        now: Time,
        rng: &mut dyn RngCore,
        input: Input<LockMessage>,
        actions: &mut LockActions,
    ) {
        match input {
            Input::Tick => self.on_tick(now, rng, actions),
            Input::Message { from, .. } if from != self.service => {
                actions.drop_input(Some(from), DropReason::UnknownSender);
            }
            Input::Message { from, message } => match message {
                LockMessage::Reply { number, reply } => {
                    self.on_store_reply(now, rng, number, reply, actions)
                }
                LockMessage::WriteAck { token, accepted } => {
                    self.on_write_ack(token, accepted, actions)
                }
                LockMessage::Request { .. }
                | LockMessage::Write { .. }
                | LockMessage::Notify { .. } => {
                    let role = self.role();
                    actions.drop_input(Some(from), DropReason::UnexpectedForRole { role });
                }
            },
            // A lock holder serves no key-value clients: each request, alone
            // or in a batch, is pointed at no one.
            clients @ (Input::Client(_) | Input::ClientBatch(_)) => {
                refuse_clients(clients, self.leader(), actions);
            }
            Input::Campaign => {
                if self.held.is_none() && self.pending.is_none() {
                    self.next_request_at = now;
                    self.send_request(now, rng, actions);
                }
            }
            Input::TransferLeadership { to } => {
                actions.drop_input(None, DropReason::InvalidTarget { target: to });
            }
            Input::Snapshot => actions.drop_input(None, DropReason::NoSnapshots),
        }
    }

    fn next_deadline(&self) -> Time {
        let mut deadline = self.next_request_at;
        if let Some(pending) = self.pending {
            deadline = pending.sent_at.saturating_add(self.config.request_timeout);
        }
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
            assert_eq!(self.claim, Some(held.token), "a lease led is claimed");
            assert!(held.token <= self.known, "a token is a seen revision");
        }
        if let Some(pending) = self.pending {
            assert!(pending.number < self.next_request_number);
        }
        if let Some(observed) = self.observed {
            assert_eq!(
                self.config.expiry,
                Expiry::Challenger,
                "only challengers watch"
            );
            assert!(self.held.is_none(), "a holder watches no one");
            assert!(
                observed.key.revision <= self.known,
                "an observed revision is seen"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    const SERVICE: NodeId = 9;

    fn at(millis: u64) -> Time {
        Time::from_millis(millis)
    }

    /// A challenger-expiry candidate (1 s TTL) and the requests it sends.
    struct Challenger {
        node: LeaseLockNode,
        rng: ChaCha8Rng,
    }

    impl Challenger {
        fn new() -> Challenger {
            let config = Config {
                expiry: Expiry::Challenger,
                ..Config::default()
            };
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let node = LeaseLockNode::new(1, SERVICE, config, Time::ZERO, &mut rng);
            Challenger { node, rng }
        }

        /// Steps `input` at `now` and returns the store requests sent.
        fn step(&mut self, now: Time, input: Input<LockMessage>) -> Vec<StoreRequest> {
            let mut actions = LockActions::default();
            self.node.step(now, &mut self.rng, input, &mut actions);
            self.node.invariants();
            actions
                .messages
                .into_iter()
                .filter_map(|out| match out.message {
                    LockMessage::Request { request, .. } => Some(request),
                    _ => None,
                })
                .collect()
        }

        /// The store's answer to request `number`: the key held by node 2.
        fn record(&mut self, now: Time, number: u64, renewals: u64) -> Vec<StoreRequest> {
            let key = KeyState {
                revision: Revision::new(1),
                renewals,
                holder: Some(2),
            };
            let reply = StoreReply::Record { key };
            let message = LockMessage::Reply { number, reply };
            let from = SERVICE;
            self.step(now, Input::Message { from, message })
        }
    }

    /// The wait runs from the first reply that showed the record as it now
    /// is: a renewal (a new version) restarts it, an unchanged record does
    /// not; only once the record was seen unchanged for the whole TTL does
    /// the challenger take it over, on exactly the version it saw, and it
    /// then leads for the TTL less the margin from the take-over's send.
    #[test]
    fn a_challenger_takes_over_only_a_version_it_saw_unchanged_for_the_ttl() {
        let mut challenger = Challenger::new();
        assert_eq!(
            challenger.step(at(0), Input::Campaign),
            [StoreRequest::Read]
        );
        assert!(challenger.record(at(10), 1, 0).is_empty());
        assert_eq!(challenger.step(at(500), Input::Tick), [StoreRequest::Read]);
        // Renewed since: the wait starts again, at 500 ms.
        assert!(challenger.record(at(500), 2, 1).is_empty());
        assert_eq!(
            challenger.step(at(1_200), Input::Tick),
            [StoreRequest::Read]
        );
        assert!(challenger.record(at(1_200), 3, 1).is_empty());
        assert_eq!(
            challenger.step(at(1_499), Input::Tick),
            [StoreRequest::Read]
        );
        assert!(challenger.record(at(1_499), 4, 1).is_empty());
        assert_eq!(challenger.node.next_deadline(), at(1_500));
        let take_over = StoreRequest::TakeOver {
            revision: Revision::new(1),
            renewals: 1,
        };
        assert_eq!(challenger.step(at(1_500), Input::Tick), [take_over]);
        let reply = StoreReply::Granted {
            revision: Revision::new(2),
        };
        let message = LockMessage::Reply { number: 5, reply };
        let from = SERVICE;
        challenger.step(at(1_510), Input::Message { from, message });
        assert_eq!(
            challenger.node.holding_at(at(1_510)),
            Some(Revision::new(2))
        );
        assert_eq!(
            challenger.node.holding_at(at(2_349)),
            Some(Revision::new(2))
        );
        assert_eq!(challenger.node.holding_at(at(2_350)), None);
    }
}
