//! The hand-off between threads: a bounded multi-producer queue that one
//! consumer drains, waiting at most until a deadline.
//!
//! Every node has one for its inputs (peer messages from the transport's
//! receive threads, client requests from connection threads); the node loop
//! waits on it until its next timer deadline, which is how timers wake it
//! up. Client connections and in-memory clients have one for their replies.
//!
//! Bounded on purpose: a peer that floods a node, or a node that falls
//! behind, makes [`Mailbox::push`] fail with [`PushError::Full`] and the
//! sender drops the message — for Raft that is message loss, which the
//! protocol tolerates — instead of growing the queue without limit.
//!
//! Items pushed before [`Mailbox::close`] are still delivered; after it, the
//! consumer sees [`Received::Closed`] once the queue is empty, and producers
//! get [`PushError::Closed`]. `tests/loom.rs` checks these hand-offs.

use std::collections::VecDeque;
use std::time::Duration;

use crate::driver::sync::{lock, wait_timeout, Condvar, Deadline, Mutex};

pub struct Mailbox<T> {
    state: Mutex<State<T>>,
    /// Notified on every push and on close: the consumer waits on it.
    ready: Condvar,
    capacity: usize,
}

struct State<T> {
    queue: VecDeque<T>,
    closed: bool,
}

impl<T> std::fmt::Debug for Mailbox<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Mailbox")
            .field("queued", &state.queue.len())
            .field("capacity", &self.capacity)
            .field("closed", &state.closed)
            .finish()
    }
}

/// Why an item was not queued; the item comes back to the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum PushError<T> {
    /// The queue holds `capacity` items already.
    Full(T),
    /// The consumer is gone.
    Closed(T),
}

/// What a wait for the next item ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<T> {
    Item(T),
    /// The deadline passed with the queue empty.
    TimedOut,
    /// The mailbox is closed and empty.
    Closed,
}

impl<T> Mailbox<T> {
    /// A mailbox that holds at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Mailbox<T> {
        Mailbox {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    /// Queues `item` without blocking.
    pub fn push(&self, item: T) -> Result<(), PushError<T>> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(PushError::Closed(item));
        }
        if state.queue.len() >= self.capacity {
            return Err(PushError::Full(item));
        }
        state.queue.push_back(item);
        // The item is in the queue under the lock the consumer checks it
        // under, so notifying after unlocking cannot be missed.
        drop(state);
        self.ready.notify_one();
        Ok(())
    }

    /// The next item, waiting at most `timeout` for one.
    pub fn recv_timeout(&self, timeout: Duration) -> Received<T> {
        let deadline = Deadline::after(timeout);
        let mut state = lock(&self.state);
        loop {
            if let Some(item) = state.queue.pop_front() {
                return Received::Item(item);
            }
            if state.closed {
                return Received::Closed;
            }
            let Some(remaining) = deadline.remaining() else {
                return Received::TimedOut;
            };
            state = wait_timeout(&self.ready, state, remaining);
        }
    }

    /// Moves up to `max` queued items into `out` without waiting; returns
    /// how many it moved. The node loop uses it to batch the inputs that
    /// queued while it was busy into one fsync.
    pub fn drain_into(&self, out: &mut Vec<T>, max: usize) -> usize {
        let mut state = lock(&self.state);
        let take = state.queue.len().min(max);
        out.extend(state.queue.drain(..take));
        take
    }

    /// Stops accepting items and wakes the consumer.
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.ready.notify_all();
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    pub fn len(&self) -> usize {
        lock(&self.state).queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lost wake-up `tests/loom.rs` must catch, reachable only from
    /// loom builds: it checks for an item in one critical section and waits
    /// in another, so a push that lands in between notifies nobody and the
    /// consumer sleeps with an item queued.
    #[cfg(loom)]
    pub fn recv_checking_outside_the_wait(&self) -> Received<T> {
        loop {
            {
                let mut state = lock(&self.state);
                if let Some(item) = state.queue.pop_front() {
                    return Received::Item(item);
                }
                if state.closed {
                    return Received::Closed;
                }
            }
            let state = lock(&self.state);
            drop(wait_timeout(&self.ready, state, Duration::from_secs(1)));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_full_mailbox_refuses_instead_of_growing() {
        let mailbox = Mailbox::new(2);
        assert_eq!(mailbox.push(1), Ok(()));
        assert_eq!(mailbox.push(2), Ok(()));
        assert_eq!(mailbox.push(3), Err(PushError::Full(3)));
        assert_eq!(mailbox.recv_timeout(Duration::ZERO), Received::Item(1));
        assert_eq!(mailbox.push(3), Ok(()));
    }

    #[test]
    fn items_queued_before_close_are_delivered_then_closed() {
        let mailbox = Mailbox::new(4);
        mailbox.push("a").unwrap();
        mailbox.close();
        assert_eq!(mailbox.push("b"), Err(PushError::Closed("b")));
        assert_eq!(mailbox.recv_timeout(Duration::ZERO), Received::Item("a"));
        assert_eq!(mailbox.recv_timeout(Duration::ZERO), Received::Closed);
    }

    #[test]
    fn an_empty_mailbox_times_out() {
        let mailbox: Mailbox<u8> = Mailbox::new(1);
        let started = std::time::Instant::now();
        assert_eq!(
            mailbox.recv_timeout(Duration::from_millis(20)),
            Received::TimedOut
        );
        assert!(started.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn drain_takes_at_most_max_in_order() {
        let mailbox = Mailbox::new(8);
        for item in 0..5 {
            mailbox.push(item).unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(mailbox.drain_into(&mut out, 3), 3);
        assert_eq!(out, [0, 1, 2]);
        assert_eq!(mailbox.len(), 2);
    }
}
