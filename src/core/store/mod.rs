//! The linearizable store that lock-service candidates are clients of
//! (issue 16): one key, compare-and-set by revision, TTL leases that the
//! store itself expires (`lease-lock` with store expiry, etcd's leases) or
//! records it never expires, which a challenger takes over by
//! compare-and-set once it decided the holder's lease ran out (`lease-lock`
//! with challenger expiry, Kubernetes' client-go); and ZooKeeper's election recipe
//! (`zk-sequential`): sessions kept alive by keep-alives and ended by the
//! store's clock, one ephemeral sequential entry per session, removed with
//! it, and one-shot watches that notify the watcher when an entry goes.
//!
//! Candidates never talk to each other. They send [`StoreRequest`]s to the
//! store and act on its [`StoreReply`]s, and the store is a participant of
//! the run like any node: its messages are delayed, lost, duplicated and
//! cut by partitions, and it reads its own (drifting) clock. Everything the
//! candidates need from it is the [`Store`] trait, so the idealised store
//! here ([`IdealStore`]: one atomic object) can later be swapped for one
//! replicated on the project's own Raft cluster, as etcd's lessor runs
//! above its Raft log.
//!
//! Revisions are the store's global write counter (etcd's `mod_revision`):
//! every grant of the key bumps it, a renewal does not. The revision of the
//! grant a holder received is its fencing token: a later holder's token is
//! always larger. A record the store never expires also counts its
//! renewals, so that a challenger can tell a renewed record from one left
//! alone: the pair (revision, renewals) is the record's version, which
//! every write changes (Kubernetes' `resourceVersion`). An entry's sequence number is a revision of the same
//! counter, so it is the zk-sequential leader's fencing token.

mod ideal;
mod sessions;

pub use ideal::IdealStore;
pub use sessions::WatchCount;

use std::time::Duration;

use crate::core::counter::counter;
use crate::core::node::NodeId;
use crate::core::time::Time;

counter! {
    /// The store's write counter: 0 before the key was ever granted.
    Revision
}

counter! {
    /// A session of the store: 0 is never issued.
    SessionId
}

impl Revision {
    /// The revision of the write after this one.
    pub fn next(self) -> Revision {
        Revision(self.0 + 1)
    }
}

/// What a candidate asks of the store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum StoreRequest {
    /// Grant the key to the sender for `ttl` (store time) if it is free
    /// (never granted, or its lease expired) and its revision is still
    /// `expected`: compare-and-set on the revision the sender last saw, so
    /// two candidates racing on one free key cannot both win.
    Acquire { expected: Revision, ttl: Duration },
    /// Extend the sender's lease of grant `revision` by its TTL from now
    /// (store time), if that grant is still live; on a record without TTL,
    /// count one more renewal instead (its version changes, which is what
    /// challengers watch).
    Renew { revision: Revision },
    /// Grant the key to the sender as a record the store never expires, if
    /// the record is still exactly version (`revision`, `renewals`) and no
    /// TTL lease of it is live: compare-and-set on the version the sender
    /// observed, after it decided by its own clock that the holder's lease
    /// ran out. Comparing the renewals too is what makes that safe: a
    /// holder that renewed since the challenger looked has a newer version,
    /// and the take-over is refused.
    TakeOver { revision: Revision, renewals: u64 },
    /// How does the key stand? Answered with [`StoreReply::Record`]; changes
    /// nothing.
    Read,
    /// Open a session that ends once no request of it has arrived for
    /// `timeout` (store time).
    OpenSession { timeout: Duration },
    /// Keep `session` alive. Every session request below does as well.
    KeepAlive { session: SessionId },
    /// Create the session's ephemeral sequential entry in the election
    /// directory; a session has one, so a retried create (its reply lost)
    /// is answered with the entry it made (ZooKeeper's protected create).
    Create { session: SessionId },
    /// Watch the live entry just below the session's entry `entry`, the
    /// predecessor, if there is one (ZooKeeper's `getChildren` then
    /// `exists(predecessor, watch)`, as one atomic step).
    WatchBelow { session: SessionId, entry: Revision },
}

/// What the key looks like to the store at the moment it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct KeyState {
    /// The revision of the key's last grant.
    pub revision: Revision,
    /// Renewals of that grant, counted only on a record without TTL (0 on a
    /// TTL lease, whose expiry time is what a renewal changes).
    pub renewals: u64,
    /// The live holder, if the lease has not expired.
    pub holder: Option<NodeId>,
}

/// The store's answer to one request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum StoreReply {
    /// The key is the sender's, as grant `revision` (its fencing token).
    Granted { revision: Revision },
    /// The sender's lease of grant `revision` was extended.
    Renewed { revision: Revision },
    /// Nothing changed: the key is held by another, was granted again since
    /// the sender looked, or the sender's lease expired. `key` is how the
    /// key stands now, so the sender can retry with the right revision.
    Refused { key: KeyState },
    /// The answer to [`StoreRequest::Read`]: how the key stands.
    Record { key: KeyState },
    /// Session `session` is open.
    SessionOpened { session: SessionId },
    /// Session `session` is alive; `watching` is the entry its watch is set
    /// on, if one is (a watcher whose notification was lost learns here
    /// that its watch fired).
    KeptAlive {
        session: SessionId,
        watching: Option<Revision>,
    },
    /// The session's entry is `entry`: its sequence number.
    Created { entry: Revision },
    /// The session watches `predecessor`, the live entry just below
    /// `entry`; `None`: no entry is below, so `entry` is the lowest.
    Watching {
        entry: Revision,
        predecessor: Option<Revision>,
    },
    /// Session `session` has ended (or was never the sender's): its entry
    /// and watch are gone.
    SessionExpired { session: SessionId },
}

/// A watch that fired: `watcher`'s watched entry `deleted` is gone. Sent
/// by the store unasked, when the entry's session ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Notice {
    pub watcher: NodeId,
    pub deleted: Revision,
}

/// A linearizable store of one lock key, as candidates see it: each request
/// takes effect atomically at the store's local time `now`.
///
/// The simulator and the model run any `Store` as a participant beside the
/// candidates (`crate::core::lock_service::ServiceNode`), so an
/// implementation only decides what a request does, never how it travels.
pub trait Store {
    /// Applies `request` from `client` at store time `now` and answers it.
    fn apply(&mut self, now: Time, client: NodeId, request: &StoreRequest) -> StoreReply;

    /// Ends what expired by store time `now` (sessions, with their
    /// entries), and appends the notices of the watches that fired, in
    /// order. The caller runs it before every `apply` at `now`, so a
    /// request never sees a session past its end.
    fn expire(&mut self, now: Time, notices: &mut Vec<Notice>);

    /// How the key stands at store time `now`.
    fn key(&self, now: Time) -> KeyState;

    /// The latest store time at which the store must be ticked (a session
    /// ending, whose watchers are to be told); `None` if never.
    fn next_deadline(&self) -> Option<Time>;

    /// Panics if the store's own state is inconsistent.
    fn invariants(&self);
}
