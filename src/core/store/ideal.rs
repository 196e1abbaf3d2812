//! The idealised store: one atomic object holding one key, whose lease the
//! store expires by its own clock (etcd's leases), and the sessions and
//! entries of ZooKeeper's recipe ([`super::sessions`]). It answers every
//! request at once and never fails; only the network between it and the
//! candidates does.

use std::time::Duration;

use crate::core::node::NodeId;
use crate::core::store::sessions::{Sessions, WatchCount};
use crate::core::store::{KeyState, Notice, Revision, Store, StoreReply, StoreRequest};
use crate::core::time::Time;

/// The live grant of the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Lease {
    holder: NodeId,
    /// Store time at which the lease ends: the key is free from then on.
    expires_at: Time,
    ttl: Duration,
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
        self.lease.filter(|lease| now < lease.expires_at)
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
                self.revision = self.revision.next();
                self.lease = Some(Lease {
                    holder: client,
                    expires_at: now.saturating_add(ttl),
                    ttl,
                });
                StoreReply::Granted {
                    revision: self.revision,
                }
            }
            StoreRequest::Renew { revision } => match self.live(now) {
                Some(lease) if lease.holder == client && revision == self.revision => {
                    let expires_at = now.saturating_add(lease.ttl);
                    self.lease = Some(Lease {
                        expires_at,
                        ..lease
                    });
                    StoreReply::Renewed { revision }
                }
                _ => self.refused(now),
            },
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
}
