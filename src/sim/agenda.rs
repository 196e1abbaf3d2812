//! The simulator's agenda: what happens next, by simulated real time and,
//! at equal times, in the order it was scheduled, so a run is the same
//! every time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::core::time::Time;

/// A queue entry: when, a tie-breaking sequence number, and where the
/// action waits in the slab. Keeping actions (messages can be large) out of
/// the heap makes every sift move 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Scheduled {
    at: Time,
    sequence: u64,
    slot: usize,
}

/// Actions waiting in the queue, with a free list so slots are reused.
struct Slab<T> {
    entries: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Slab<T> {
    fn new() -> Slab<T> {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }

    fn insert(&mut self, value: T) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.entries[slot] = Some(value);
                slot
            }
            None => {
                self.entries.push(Some(value));
                self.entries.len() - 1
            }
        }
    }

    fn take(&mut self, slot: usize) -> T {
        self.free.push(slot);
        self.entries[slot].take().expect("each slot is taken once")
    }
}

/// The future: actions by (time, sequence number), earliest first; of
/// two at the same time, the one scheduled first.
pub struct Agenda<T> {
    queue: BinaryHeap<Reverse<Scheduled>>,
    pending: Slab<T>,
    next_sequence: u64,
}

impl<T> Default for Agenda<T> {
    fn default() -> Agenda<T> {
        Agenda {
            queue: BinaryHeap::new(),
            pending: Slab::new(),
            next_sequence: 0,
        }
    }
}

impl<T> Agenda<T> {
    /// Schedules `action` at `at`, or at `now` if that is in the past.
    pub fn schedule(&mut self, now: Time, at: Time, action: T) {
        self.next_sequence += 1;
        let slot = self.pending.insert(action);
        self.queue.push(Reverse(Scheduled {
            at: at.max(now),
            sequence: self.next_sequence,
            slot,
        }));
    }

    /// The earliest action and its time.
    pub fn pop(&mut self) -> Option<(Time, T)> {
        let Reverse(scheduled) = self.queue.pop()?;
        Some((scheduled.at, self.pending.take(scheduled.slot)))
    }
}
