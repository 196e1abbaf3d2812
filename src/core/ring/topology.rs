//! The logical ring: the members in ascending id order, each passing
//! messages to the next and the highest back to the lowest. Fixed for the
//! life of the cluster; failures are handled by skipping, not by rebuilding.

use crate::core::node::NodeId;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RingOrder {
    /// Sorted ascending, distinct, nonempty.
    members: Vec<NodeId>,
}

impl RingOrder {
    /// `members` must be validated already (distinct, nonempty).
    pub fn new(members: &[NodeId]) -> RingOrder {
        let mut members = members.to_vec();
        members.sort_unstable();
        assert!(!members.is_empty(), "validated: a ring has a member");
        assert!(
            members.windows(2).all(|pair| pair[0] < pair[1]),
            "validated: members are distinct"
        );
        RingOrder { members }
    }

    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, id: NodeId) -> bool {
        self.members.binary_search(&id).is_ok()
    }

    /// The member after `id` round the ring; `id` itself only in a ring of
    /// one. Panics if `id` is not a member: callers pass members only.
    pub fn successor_of(&self, id: NodeId) -> NodeId {
        let position = self
            .members
            .binary_search(&id)
            .unwrap_or_else(|_| panic!("{id} is not on the ring"));
        self.members[(position + 1) % self.members.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_passes_to_the_lowest() {
        let ring = RingOrder::new(&[5, 1, 3]);
        assert_eq!(ring.members(), &[1, 3, 5]);
        assert_eq!(ring.successor_of(1), 3);
        assert_eq!(ring.successor_of(3), 5);
        assert_eq!(ring.successor_of(5), 1);
    }

    #[test]
    fn a_ring_of_one_passes_to_itself() {
        let ring = RingOrder::new(&[7]);
        assert_eq!(ring.successor_of(7), 7);
    }
}
