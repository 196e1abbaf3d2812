//! The history as Wing and Gong's doubly linked list of call and return
//! entries, in real-time order.
//!
//! Linearizing an operation *lifts* its call and return out of the list;
//! backtracking *unlifts* them back in the reverse order, in O(1). The
//! search scans from the head: a call may be linearized next, a return ends
//! the scan (its operation must come before anything after that point).
//!
//! An operation whose outcome is unknown (`info`, or pending at the end)
//! returns "at infinity": after every other entry.

/// Index of an entry; `HEAD` and the last index (the tail) are sentinels.
pub(crate) type Node = u32;

pub(crate) const HEAD: Node = 0;

/// Which operation an entry belongs to and whether it is its call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) operation: u32,
    pub(crate) is_call: bool,
}

pub(crate) struct EntryList {
    next: Vec<Node>,
    previous: Vec<Node>,
    entries: Vec<Entry>,
    /// For each operation, its return entry.
    return_of: Vec<Node>,
    /// For each node, the event index of the entry (`u64::MAX`: infinity).
    time: Vec<u64>,
}

impl EntryList {
    /// Builds the list of `intervals`: each operation's (call time, return
    /// time), with `None` for a return at infinity. Times must be distinct.
    pub(crate) fn new(intervals: &[(u64, Option<u64>)]) -> EntryList {
        let operation_count = u32::try_from(intervals.len()).expect("fewer than 2^31 operations");
        let mut timed: Vec<(u64, u32, Entry)> = Vec::with_capacity(intervals.len() * 2);
        for (operation, &(call, ret)) in (0..operation_count).zip(intervals) {
            assert!(
                ret.is_none_or(|ret| call < ret),
                "an operation returns after its call"
            );
            timed.push((
                call,
                operation,
                Entry {
                    operation,
                    is_call: true,
                },
            ));
            timed.push((
                ret.unwrap_or(u64::MAX),
                operation,
                Entry {
                    operation,
                    is_call: false,
                },
            ));
        }
        // Returns at infinity tie; the operation index orders them.
        timed.sort_unstable_by_key(|&(time, operation, entry)| (time, operation, entry.is_call));
        let node_count = timed.len() + 2;
        let sentinel = Entry {
            operation: u32::MAX,
            is_call: false,
        };
        let mut entries = vec![sentinel; node_count];
        let mut time = vec![0; node_count];
        let mut return_of = vec![0; intervals.len()];
        for (index, &(at, operation, entry)) in timed.iter().enumerate() {
            let node = index + 1;
            entries[node] = entry;
            time[node] = at;
            if !entry.is_call {
                return_of[operation as usize] = node as Node;
            }
        }
        let last = (node_count - 1) as Node;
        EntryList {
            next: (1..=last).chain([last]).collect(),
            previous: [HEAD].into_iter().chain(0..last).collect(),
            entries,
            return_of,
            time,
        }
    }

    pub(crate) fn first(&self) -> Node {
        self.next[HEAD as usize]
    }

    pub(crate) fn next(&self, node: Node) -> Node {
        self.next[node as usize]
    }

    pub(crate) fn is_tail(&self, node: Node) -> bool {
        node as usize == self.entries.len() - 1
    }

    pub(crate) fn entry(&self, node: Node) -> Entry {
        self.entries[node as usize]
    }

    pub(crate) fn time(&self, node: Node) -> u64 {
        self.time[node as usize]
    }

    fn unlink(&mut self, node: Node) {
        let (previous, next) = (self.previous[node as usize], self.next[node as usize]);
        self.next[previous as usize] = next;
        self.previous[next as usize] = previous;
    }

    fn relink(&mut self, node: Node) {
        let (previous, next) = (self.previous[node as usize], self.next[node as usize]);
        self.next[previous as usize] = node;
        self.previous[next as usize] = node;
    }

    /// Removes the call entry `call` and its operation's return.
    pub(crate) fn lift(&mut self, call: Node) {
        debug_assert!(self.entries[call as usize].is_call);
        self.unlink(call);
        self.unlink(self.return_of[self.entries[call as usize].operation as usize]);
    }

    /// Undoes [`EntryList::lift`] of `call`; lifts must be undone in reverse
    /// order, as the search's stack does.
    pub(crate) fn unlift(&mut self, call: Node) {
        self.relink(self.return_of[self.entries[call as usize].operation as usize]);
        self.relink(call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(list: &EntryList) -> Vec<(u32, bool)> {
        let mut seen = Vec::new();
        let mut node = list.first();
        while !list.is_tail(node) {
            let entry = list.entry(node);
            seen.push((entry.operation, entry.is_call));
            node = list.next(node);
        }
        seen
    }

    #[test]
    fn orders_entries_by_time_with_unknown_returns_last() {
        let list = EntryList::new(&[(0, Some(3)), (1, None), (2, Some(4))]);
        assert_eq!(
            walk(&list),
            vec![
                (0, true),
                (1, true),
                (2, true),
                (0, false),
                (2, false),
                (1, false)
            ]
        );
    }

    #[test]
    fn lift_and_unlift_restore_the_list() {
        let mut list = EntryList::new(&[(0, Some(3)), (1, None), (2, Some(4))]);
        let before = walk(&list);
        let first_call = list.first();
        list.lift(first_call);
        assert_eq!(
            walk(&list),
            vec![(1, true), (2, true), (2, false), (1, false)]
        );
        let second_call = list.first();
        list.lift(second_call);
        assert_eq!(walk(&list), vec![(2, true), (2, false)]);
        list.unlift(second_call);
        list.unlift(first_call);
        assert_eq!(walk(&list), before);
    }
}
