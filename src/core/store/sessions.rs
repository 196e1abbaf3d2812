//! ZooKeeper's election recipe inside the idealised store: sessions that
//! end when no request of theirs arrived for their timeout (store time),
//! one ephemeral sequential entry per session, removed with it, and
//! one-shot watches on an entry that notify the watcher when it goes.
//!
//! Entries are numbered by the store's revision counter, shared with the
//! lease key, so a later entry always has a larger number: the entry's
//! number is the fencing token of the candidate that leads by it. The
//! store lets any number of sessions watch one entry, as ZooKeeper does;
//! that a deletion wakes at most one of them (no herd effect) is the
//! candidates' doing, counted here in [`WatchCount`] so tests can state it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::core::node::NodeId;
use crate::core::store::{Notice, Revision, SessionId, StoreReply};
use crate::core::time::Time;

/// One open session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Session {
    client: NodeId,
    timeout: Duration,
    /// Store time at which the session ends unless a request of it comes.
    expires_at: Time,
    entry: Option<Revision>,
    /// The entry this session's one watch is set on.
    watch: Option<Revision>,
}

/// How many notifications the store's deletions sent: the herd effect is
/// a deletion that notifies more than one watcher.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WatchCount {
    /// Entries deleted (their sessions ended).
    pub deletions: u64,
    /// Notices sent, over all deletions.
    pub notifications: u64,
    /// The most notices one deletion sent.
    pub most_per_deletion: u64,
}

/// The open sessions, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct Sessions {
    open: BTreeMap<SessionId, Session>,
    last_session: SessionId,
    watches: WatchCount,
}

impl Sessions {
    pub(super) fn watch_count(&self) -> WatchCount {
        self.watches
    }

    pub(super) fn open(&mut self, now: Time, client: NodeId, timeout: Duration) -> StoreReply {
        let session = SessionId::new(self.last_session.get() + 1);
        self.last_session = session;
        let expires_at = now.saturating_add(timeout);
        self.open.insert(
            session,
            Session {
                client,
                timeout,
                expires_at,
                entry: None,
                watch: None,
            },
        );
        StoreReply::SessionOpened { session }
    }

    /// The sender's live session `id`, refreshed by the request that names
    /// it; `None` if it ended or is another client's.
    fn refresh(&mut self, now: Time, client: NodeId, id: SessionId) -> Option<&mut Session> {
        let session = self.open.get_mut(&id).filter(|s| s.client == client)?;
        debug_assert!(now < session.expires_at, "expire(now) runs before apply");
        session.expires_at = now.saturating_add(session.timeout);
        Some(session)
    }

    pub(super) fn keep_alive(&mut self, now: Time, client: NodeId, id: SessionId) -> StoreReply {
        match self.refresh(now, client, id) {
            Some(session) => StoreReply::KeptAlive {
                session: id,
                watching: session.watch,
            },
            None => StoreReply::SessionExpired { session: id },
        }
    }

    /// The session's entry, made now with the next revision if it has none.
    pub(super) fn create(
        &mut self,
        now: Time,
        client: NodeId,
        id: SessionId,
        revision: &mut Revision,
    ) -> StoreReply {
        let Some(session) = self.refresh(now, client, id) else {
            return StoreReply::SessionExpired { session: id };
        };
        let entry = *session.entry.get_or_insert_with(|| {
            *revision = revision.next();
            *revision
        });
        StoreReply::Created { entry }
    }

    /// Sets the session's watch on the live entry just below `entry`.
    pub(super) fn watch_below(
        &mut self,
        now: Time,
        client: NodeId,
        id: SessionId,
        entry: Revision,
    ) -> StoreReply {
        let owns_entry = self
            .refresh(now, client, id)
            .is_some_and(|session| session.entry == Some(entry));
        if !owns_entry {
            return StoreReply::SessionExpired { session: id };
        }
        let predecessor = self
            .open
            .values()
            .filter_map(|session| session.entry)
            .filter(|&other| other < entry)
            .max();
        let session = self.open.get_mut(&id).expect("refreshed above");
        session.watch = predecessor;
        StoreReply::Watching { entry, predecessor }
    }

    /// Ends every session past its end at `now`, lowest id first, and tells
    /// the watchers of each one's entry.
    pub(super) fn expire(&mut self, now: Time, notices: &mut Vec<Notice>) {
        while let Some((&id, _)) = self.open.iter().find(|(_, s)| now >= s.expires_at) {
            let ended = self.open.remove(&id).expect("found above");
            let Some(deleted) = ended.entry else {
                continue;
            };
            let mut sent = 0;
            for watcher in self.open.values_mut() {
                if watcher.watch == Some(deleted) {
                    watcher.watch = None;
                    notices.push(Notice {
                        watcher: watcher.client,
                        deleted,
                    });
                    sent += 1;
                }
            }
            self.watches.deletions += 1;
            self.watches.notifications += sent;
            self.watches.most_per_deletion = self.watches.most_per_deletion.max(sent);
        }
    }

    /// The first session end to come, in store time.
    pub(super) fn next_end(&self) -> Option<Time> {
        self.open.values().map(|session| session.expires_at).min()
    }

    pub(super) fn invariants(&self, revision: Revision) {
        let mut entries: Vec<Revision> = self.open.values().filter_map(|s| s.entry).collect();
        let count = entries.len();
        entries.sort_unstable();
        entries.dedup();
        assert_eq!(entries.len(), count, "each entry belongs to one session");
        for (id, session) in &self.open {
            assert!(*id <= self.last_session, "a session id was issued");
            assert!(
                session.entry.is_none_or(|entry| entry <= revision),
                "an entry is a revision of the store"
            );
            if let (Some(watch), Some(entry)) = (session.watch, session.entry) {
                assert!(watch < entry, "a session watches below its own entry");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::{IdealStore, Store, StoreRequest};

    const TIMEOUT: Duration = Duration::from_secs(1);

    fn at(millis: u64) -> Time {
        Time::from_millis(millis)
    }

    /// Applies `request` from `client` at `now` the way the service does:
    /// expiry first, its notices returned beside the reply.
    fn apply(
        store: &mut IdealStore,
        now: Time,
        client: NodeId,
        request: StoreRequest,
    ) -> (StoreReply, Vec<Notice>) {
        let mut notices = Vec::new();
        store.expire(now, &mut notices);
        let reply = store.apply(now, client, &request);
        store.invariants();
        (reply, notices)
    }

    /// Opens a session for `client` at `now` and creates its entry.
    fn join(store: &mut IdealStore, now: Time, client: NodeId) -> (SessionId, Revision) {
        let (opened, _) = apply(
            store,
            now,
            client,
            StoreRequest::OpenSession { timeout: TIMEOUT },
        );
        let StoreReply::SessionOpened { session } = opened else {
            panic!("{opened:?}");
        };
        let (created, _) = apply(store, now, client, StoreRequest::Create { session });
        let StoreReply::Created { entry } = created else {
            panic!("{created:?}");
        };
        (session, entry)
    }

    fn watch_below(
        store: &mut IdealStore,
        now: Time,
        client: NodeId,
        session: SessionId,
        entry: Revision,
    ) -> StoreReply {
        apply(
            store,
            now,
            client,
            StoreRequest::WatchBelow { session, entry },
        )
        .0
    }

    #[test]
    fn each_entry_sees_its_predecessor_and_a_retried_create_makes_no_second_entry() {
        let mut store = IdealStore::new();
        let (one, first) = join(&mut store, at(0), 1);
        let (two, second) = join(&mut store, at(1), 2);
        assert!(first < second);
        let again = apply(&mut store, at(2), 2, StoreRequest::Create { session: two }).0;
        assert_eq!(again, StoreReply::Created { entry: second });
        let lowest = watch_below(&mut store, at(3), 1, one, first);
        let expected = StoreReply::Watching {
            entry: first,
            predecessor: None,
        };
        assert_eq!(lowest, expected);
        let watching = watch_below(&mut store, at(3), 2, two, second);
        let expected = StoreReply::Watching {
            entry: second,
            predecessor: Some(first),
        };
        assert_eq!(watching, expected);
        // Another client's session is not the sender's.
        let stolen = apply(
            &mut store,
            at(4),
            2,
            StoreRequest::KeepAlive { session: one },
        )
        .0;
        assert_eq!(stolen, StoreReply::SessionExpired { session: one });
    }

    /// A session kept alive lives on; one that falls silent ends a timeout
    /// after its last request, by the store's clock, and its entry's one
    /// watcher is told, once.
    #[test]
    fn a_silent_session_ends_with_its_entry_and_only_its_watcher_is_told() {
        let mut store = IdealStore::new();
        let (one, first) = join(&mut store, at(0), 1);
        let (two, second) = join(&mut store, at(0), 2);
        let (three, third) = join(&mut store, at(0), 3);
        watch_below(&mut store, at(0), 2, two, second);
        watch_below(&mut store, at(0), 3, three, third);
        for (client, session) in [(2, two), (3, three)] {
            let kept = apply(
                &mut store,
                at(600),
                client,
                StoreRequest::KeepAlive { session },
            );
            assert!(matches!(kept.0, StoreReply::KeptAlive { .. }), "{kept:?}");
        }
        assert_eq!(store.next_deadline(), Some(at(1_000)), "session 1's end");
        let mut notices = Vec::new();
        store.expire(at(999), &mut notices);
        assert!(notices.is_empty());
        store.expire(at(1_000), &mut notices);
        let told = Notice {
            watcher: 2,
            deleted: first,
        };
        assert_eq!(notices, [told]);
        let count = store.watch_count();
        assert_eq!(
            (
                count.deletions,
                count.notifications,
                count.most_per_deletion
            ),
            (1, 1, 1)
        );
        let ended = apply(
            &mut store,
            at(1_001),
            1,
            StoreRequest::KeepAlive { session: one },
        )
        .0;
        assert_eq!(ended, StoreReply::SessionExpired { session: one });
        // The watch fired: the keep-alive shows it gone, and node 2 is now
        // the lowest.
        let kept = apply(
            &mut store,
            at(1_300),
            2,
            StoreRequest::KeepAlive { session: two },
        )
        .0;
        let expected = StoreReply::KeptAlive {
            session: two,
            watching: None,
        };
        assert_eq!(kept, expected);
        let lowest = watch_below(&mut store, at(1_300), 2, two, second);
        let expected = StoreReply::Watching {
            entry: second,
            predecessor: None,
        };
        assert_eq!(lowest, expected);
    }
}
