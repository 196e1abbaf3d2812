//! The logical ring: the members in ascending id order, each passing
//! messages to the next and the highest back to the lowest. Fixed for the
//! life of the cluster; failures are handled by skipping, not by rebuilding.

use crate::core::chassis::Membership;
use crate::core::node::NodeId;

/// The member after `id` round the ring of `membership`; `id` itself only in
/// a ring of one. Panics if `id` is not a member: callers pass members only.
pub fn successor_of(membership: &Membership, id: NodeId) -> NodeId {
    let members = membership.members();
    let position = members
        .binary_search(&id)
        .unwrap_or_else(|_| panic!("{id} is not on the ring"));
    members[(position + 1) % members.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_passes_to_the_lowest() {
        let ring = Membership::new(1, &[5, 1, 3]).unwrap();
        assert_eq!(successor_of(&ring, 1), 3);
        assert_eq!(successor_of(&ring, 3), 5);
        assert_eq!(successor_of(&ring, 5), 1);
    }

    #[test]
    fn a_ring_of_one_passes_to_itself() {
        let ring = Membership::new(7, &[7]).unwrap();
        assert_eq!(successor_of(&ring, 7), 7);
    }
}
