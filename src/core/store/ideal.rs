//! The idealised store: one atomic object holding one key, whose lease the
//! store expires by its own clock (etcd's leases) or, granted by a
//! take-over, never expires (the challengers decide: Kubernetes' client-go),
//! and the sessions and
//! entries of ZooKeeper's recipe ([`super::sessions`]). It answers every
//! request at once and never fails; only the network between it and the
//! candidates does.

use std::time::Duration;

use crate::core::node::NodeId;
use crate::core::store::sessions::{Sessions, WatchCount};
use crate::core::store::{KeyState, Notice, Revision, Store, StoreReply, StoreRequest};
use crate::core::time::Time;

/// How the key's grant ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Ending {
    /// By the store's clock: the key is free from store time `expires_at`.
    Expires { expires_at: Time, ttl: Duration },
    /// Never by the store: only a challenger's take-over of the version
    /// (grant revision, `renewals`) ends it.
    TakenOver { renewals: u64 },
}

/// The key's last grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Lease {
    holder: NodeId,
    ending: Ending,
}

impl Lease {
    fn is_live(&self, now: Time) -> bool {
        match self.ending {
            Ending::Expires { expires_at, .. } => now < expires_at,
            Ending::TakenOver { .. } => true,
        }
    }

    fn renewals(&self) -> u64 {
        match self.ending {
            Ending::Expires { .. } => 0,
            Ending::TakenOver { renewals } => renewals,
        }
    }
}

/// One key, its revision and its lease; the sessions and their entries.
///
/// Invariant: `lease` is `Some` only after a grant, so `revision > 0`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IdealStore {
    revision: Revision,
    lease: Option<Lease>,
    sessions: Sessions,
}

impl IdealStore {
    pub fn new() -> IdealStore {
        IdealStore::default()
    }

    /// The lease, if it is still live at store time `now`.
    fn live(&self, now: Time) -> Option<Lease> {
        self.lease.filter(|lease| lease.is_live(now))
    }

    /// Grants the key to `client` as the next revision, ending as `ending`.
    fn grant(&mut self, client: NodeId, ending: Ending) -> StoreReply {
        self.revision = self.revision.next();
        self.lease = Some(Lease {
            holder: client,
            ending,
        });
        StoreReply::Granted {
            revision: self.revision,
        }
    }

    /// A take-over of version (`revision`, `renewals`): granted only if the
    /// record is still exactly that version and no TTL lease of it is live
    /// (a TTL lease is the store's to expire, not a challenger's).
    fn take_over(
        &mut self,
        now: Time,
        client: NodeId,
        revision: Revision,
        renewals: u64,
    ) -> StoreReply {
        let key = self.key(now);
        let timed_and_live = self
            .live(now)
            .is_some_and(|lease| matches!(lease.ending, Ending::Expires { .. }));
        if timed_and_live || key.revision != revision || key.renewals != renewals {
            return self.refused(now);
        }
        let granted = self.grant(client, Ending::TakenOver { renewals: 0 });
        debug_assert_eq!(self.revision, revision.next(), "one grant per take-over");
        granted
    }

    fn refused(&self, now: Time) -> StoreReply {
        StoreReply::Refused { key: self.key(now) }
    }

    /// What the deletions of entries have sent their watchers so far.
    pub fn watch_count(&self) -> WatchCount {
        self.sessions.watch_count()
    }
}

impl Store for IdealStore {
    fn apply(&mut self, now: Time, client: NodeId, request: &StoreRequest) -> StoreReply {
        match *request {
            StoreRequest::Acquire { expected, ttl } => {
                if self.live(now).is_some() || expected != self.revision {
                    return self.refused(now);
                }
                let expires_at = now.saturating_add(ttl);
                self.grant(client, Ending::Expires { expires_at, ttl })
            }
            StoreRequest::Renew { revision } => match self.live(now) {
                Some(lease) if lease.holder == client && revision == self.revision => {
                    let ending = match lease.ending {
                        Ending::Expires { ttl, .. } => Ending::Expires {
                            expires_at: now.saturating_add(ttl),
                            ttl,
                        },
                        Ending::TakenOver { renewals } => Ending::TakenOver {
                            renewals: renewals + 1,
                        },
                    };
                    self.lease = Some(Lease { ending, ..lease });
                    StoreReply::Renewed { revision }
                }
                _ => self.refused(now),
            },
            StoreRequest::TakeOver { revision, renewals } => {
                self.take_over(now, client, revision, renewals)
            }
            StoreRequest::Read => StoreReply::Record { key: self.key(now) },
            StoreRequest::OpenSession { timeout } => self.sessions.open(now, client, timeout),
            StoreRequest::KeepAlive { session } => self.sessions.keep_alive(now, client, session),
            StoreRequest::Create { session } => {
                self.sessions
                    .create(now, client, session, &mut self.revision)
            }
            StoreRequest::WatchBelow { session, entry } => {
                self.sessions.watch_below(now, client, session, entry)
            }
        }
    }

    fn expire(&mut self, now: Time, notices: &mut Vec<Notice>) {
        // A lease needs no action on expiry: it is judged when a request
        // arrives. A session's end deletes its entry and fires watches.
        self.sessions.expire(now, notices);
    }

    fn key(&self, now: Time) -> KeyState {
        KeyState {
            revision: self.revision,
            renewals: self.lease.map_or(0, |lease| lease.renewals()),
            holder: self.live(now).map(|lease| lease.holder),
        }
    }

    fn next_deadline(&self) -> Option<Time> {
        self.sessions.next_end()
    }

    fn invariants(&self) {
        assert!(
            self.lease.is_none() || self.revision > Revision::ZERO,
            "a lease exists only after a grant"
        );
        self.sessions.invariants(self.revision);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(1);

    fn acquire(expected: u64) -> StoreRequest {
        StoreRequest::Acquire {
            expected: Revision::new(expected),
            ttl: TTL,
        }
    }

    fn renew(revision: u64) -> StoreRequest {
        StoreRequest::Renew {
            revision: Revision::new(revision),
        }
    }

    fn at(millis: u64) -> Time {
        Time::from_millis(millis)
    }

    #[test]
    fn a_free_key_goes_to_the_first_acquirer_and_the_racer_is_refused() {
        let mut store = IdealStore::new();
        let granted = store.apply(at(0), 1, &acquire(0));
        assert_eq!(
            granted,
            StoreReply::Granted {
                revision: Revision::new(1)
            }
        );
        let key = KeyState {
            revision: Revision::new(1),
            renewals: 0,
            holder: Some(1),
        };
        assert_eq!(
            store.apply(at(1), 2, &acquire(0)),
            StoreReply::Refused { key }
        );
        store.invariants();
    }

    #[test]
    fn an_expired_lease_frees_the_key_only_for_the_current_revision() {
        let mut store = IdealStore::new();
        store.apply(at(0), 1, &acquire(0));
        // Expired by the store's clock: free, but a stale revision loses.
        assert!(matches!(
            store.apply(at(1_000), 2, &acquire(0)),
            StoreReply::Refused { key } if key.holder.is_none()
        ));
        assert_eq!(
            store.apply(at(1_000), 2, &acquire(1)),
            StoreReply::Granted {
                revision: Revision::new(2)
            }
        );
    }

    #[test]
    fn only_the_live_holder_renews_and_renewal_keeps_the_revision() {
        let mut store = IdealStore::new();
        store.apply(at(0), 1, &acquire(0));
        assert!(matches!(
            store.apply(at(500), 2, &renew(1)),
            StoreReply::Refused { .. }
        ));
        assert_eq!(
            store.apply(at(900), 1, &renew(1)),
            StoreReply::Renewed {
                revision: Revision::new(1)
            }
        );
        // Renewed at 900 for a TTL: still held at 1 800, free at 1 900.
        assert_eq!(store.key(at(1_800)).holder, Some(1));
        assert_eq!(store.key(at(1_900)).holder, None);
        assert!(matches!(
            store.apply(at(1_900), 1, &renew(1)),
            StoreReply::Refused { .. }
        ));
    }

    fn take_over(revision: u64, renewals: u64) -> StoreRequest {
        StoreRequest::TakeOver {
            revision: Revision::new(revision),
            renewals,
        }
    }

    /// A record granted by take-over never expires by the store's clock;
    /// each renewal changes its version, so a challenger that observed the
    /// version before a renewal is refused, and one that names the current
    /// version takes the key as the next revision.
    #[test]
    fn a_take_over_needs_the_exact_version_and_the_store_never_expires_it() {
        let mut store = IdealStore::new();
        let first = store.apply(at(0), 1, &take_over(0, 0));
        assert_eq!(
            first,
            StoreReply::Granted {
                revision: Revision::new(1)
            }
        );
        let renewed = store.apply(at(400), 1, &renew(1));
        assert!(matches!(renewed, StoreReply::Renewed { .. }), "{renewed:?}");
        let read = store.apply(at(60_000), 2, &StoreRequest::Read);
        let key = KeyState {
            revision: Revision::new(1),
            renewals: 1,
            holder: Some(1),
        };
        assert_eq!(read, StoreReply::Record { key });
        // The version seen before the renewal is stale: refused.
        assert_eq!(
            store.apply(at(60_000), 2, &take_over(1, 0)),
            StoreReply::Refused { key }
        );
        // A TTL acquisition cannot take a record the store never expires.
        assert!(matches!(
            store.apply(at(60_000), 2, &acquire(1)),
            StoreReply::Refused { .. }
        ));
        assert_eq!(
            store.apply(at(60_001), 2, &take_over(1, 1)),
            StoreReply::Granted {
                revision: Revision::new(2)
            }
        );
        assert!(matches!(
            store.apply(at(60_002), 1, &renew(1)),
            StoreReply::Refused { key } if key.holder == Some(2) && key.renewals == 0
        ));
        store.invariants();
    }

    /// A challenger may not take a TTL lease the store still holds live:
    /// that lease is the store's to expire.
    #[test]
    fn a_take_over_of_a_live_ttl_lease_is_refused() {
        let mut store = IdealStore::new();
        store.apply(at(0), 1, &acquire(0));
        assert!(matches!(
            store.apply(at(500), 2, &take_over(1, 0)),
            StoreReply::Refused { .. }
        ));
        assert!(matches!(
            store.apply(at(1_000), 2, &take_over(1, 0)),
            StoreReply::Granted { .. }
        ));
    }
}
