//! Partitions: the shapes of cut links the simulator injects (a split, a
//! one-way link, a bridge, a majorities ring, an isolated leader, a leader
//! cut off one way, a leader that lost the link to one follower), which
//! cluster sizes each exists at, how one is drawn, and the links each
//! leaves up. SWARM.md names the published bug each shape is drawn for.
//!
//! Every partition cuts at least one link and has the shape it is named
//! for; the tests below check both over every kind at every size drawn.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::core::node::NodeId;

/// A shape of cut links. Each kind cuts at least one link, and exists only
/// at the cluster sizes [`PartitionKind::exists_at`] names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Partition {
    /// `side` cannot talk with the rest, in either direction. Neither side
    /// is empty.
    Split { side: Vec<NodeId> },
    /// `node` can send but not receive.
    OneWay { node: NodeId },
    /// Two halves, `half` and every other node but `bridge`, that reach
    /// each other only through `bridge`. Neither half is empty.
    Bridge { bridge: NodeId, half: Vec<NodeId> },
    /// Each node sees exactly a majority (itself included), but no two see
    /// the same one: the ring `order`, each node linked to its nearest
    /// neighbours on it (and, where a majority needs an odd number of
    /// neighbours, to the node opposite).
    MajoritiesRing { order: Vec<NodeId> },
    /// Cut off whichever node leads when the fault fires; with no leader
    /// then, the node of the highest term (an election is under way, and
    /// that node is its likeliest winner).
    IsolateLeader,
    /// Cut whichever node leads (as [`Partition::IsolateLeader`] picks it)
    /// off one way only: if `sends`, it can send but not receive (its
    /// heartbeats still hold the followers while no acknowledgement comes
    /// back), else it can receive but not send.
    LeaderOneWay { sends: bool },
    /// Cut the one link, both ways, between whichever node leads and one
    /// follower: the follower at `follower` (modulo their number) among the
    /// other nodes in id order. Every other link stays up, so the follower
    /// still reaches a majority: the smallest partial partition.
    LeaderLink { follower: usize },
}

/// The kinds of [`Partition`], for drawing one and for saying where each
/// exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartitionKind {
    Split,
    OneWay,
    Bridge,
    MajoritiesRing,
    IsolateLeader,
    LeaderOneWay,
    LeaderLink,
}

impl PartitionKind {
    pub const ALL: [PartitionKind; 7] = [
        PartitionKind::Split,
        PartitionKind::OneWay,
        PartitionKind::Bridge,
        PartitionKind::MajoritiesRing,
        PartitionKind::IsolateLeader,
        PartitionKind::LeaderOneWay,
        PartitionKind::LeaderLink,
    ];

    /// The kind's name in a swarm's shape counts (see SWARM.md).
    pub fn name(self) -> &'static str {
        match self {
            PartitionKind::Split => "split",
            PartitionKind::OneWay => "one-way",
            PartitionKind::Bridge => "bridge",
            PartitionKind::MajoritiesRing => "majorities-ring",
            PartitionKind::IsolateLeader => "isolate-leader",
            PartitionKind::LeaderOneWay => "leader-one-way",
            PartitionKind::LeaderLink => "leader-link",
        }
    }

    /// Whether a partition of this kind, cutting at least one link, exists
    /// on `size` nodes. One node has no link to cut; a bridge needs a node
    /// and two non-empty halves. In a majorities ring every node reaches
    /// `size / 2` others: on 2 nodes that is everyone, so nothing is cut;
    /// and where `size` is odd that number must be even, because no graph
    /// has an odd number of nodes of odd degree, which rules out 3 and 7
    /// nodes. Within the simulator's 1 to 9 nodes, a ring exists on 4, 5,
    /// 6, 8 and 9. Cutting the leader's link to one follower leaves it
    /// reaching another only from 3 nodes on (on 2 it is an isolated
    /// leader).
    pub fn exists_at(self, size: u64) -> bool {
        match self {
            PartitionKind::Split
            | PartitionKind::OneWay
            | PartitionKind::IsolateLeader
            | PartitionKind::LeaderOneWay => size >= 2,
            PartitionKind::Bridge | PartitionKind::LeaderLink => size >= 3,
            PartitionKind::MajoritiesRing => size >= 4 && (size % 2 == 0 || (size / 2) % 2 == 0),
        }
    }

    /// The kinds that exist on `size` nodes, the ones a schedule draws from.
    pub fn existing_at(size: u64) -> Vec<PartitionKind> {
        PartitionKind::ALL
            .into_iter()
            .filter(|kind| kind.exists_at(size))
            .collect()
    }

    /// The partition of this kind on the nodes of `order` (every node once,
    /// shuffled by the caller), `cut` choosing where a split or a bridge
    /// divides them (any value: it is reduced to a valid place).
    ///
    /// Precondition: the kind exists at `order.len()` nodes.
    pub fn build(self, order: Vec<NodeId>, cut: usize) -> Partition {
        let size = order.len();
        assert!(self.exists_at(size as u64), "{self:?} on {size} nodes");
        let sorted = |nodes: &[NodeId]| {
            let mut nodes = nodes.to_vec();
            nodes.sort_unstable();
            nodes
        };
        match self {
            PartitionKind::Split => Partition::Split {
                side: sorted(&order[..1 + cut % (size - 1)]),
            },
            PartitionKind::OneWay => Partition::OneWay { node: order[0] },
            PartitionKind::Bridge => Partition::Bridge {
                bridge: order[0],
                half: sorted(&order[1..2 + cut % (size - 2)]),
            },
            PartitionKind::MajoritiesRing => Partition::MajoritiesRing { order },
            PartitionKind::IsolateLeader => Partition::IsolateLeader,
            PartitionKind::LeaderOneWay => Partition::LeaderOneWay {
                sends: cut % 2 == 0,
            },
            PartitionKind::LeaderLink => Partition::LeaderLink {
                follower: cut % (size - 1),
            },
        }
    }
}

impl Partition {
    pub fn kind(&self) -> PartitionKind {
        match self {
            Partition::Split { .. } => PartitionKind::Split,
            Partition::OneWay { .. } => PartitionKind::OneWay,
            Partition::Bridge { .. } => PartitionKind::Bridge,
            Partition::MajoritiesRing { .. } => PartitionKind::MajoritiesRing,
            Partition::IsolateLeader => PartitionKind::IsolateLeader,
            Partition::LeaderOneWay { .. } => PartitionKind::LeaderOneWay,
            Partition::LeaderLink { .. } => PartitionKind::LeaderLink,
        }
    }
}

/// A partition of a kind that exists on `size` nodes, drawn uniformly
/// among those kinds; `None` on one node, which has no link to cut.
pub fn draw_partition(size: u64, rng: &mut ChaCha8Rng) -> Option<Partition> {
    let kinds = PartitionKind::existing_at(size);
    let kind = *kinds.choose(rng)?;
    let mut order: Vec<NodeId> = (1..=size).collect();
    order.shuffle(rng);
    let cut = rng.random_range(0..size as usize);
    Some(kind.build(order, cut))
}

/// The links a partition leaves up on nodes `1..=size`, as a predicate
/// over (from, to). `target` is the node a partition of the leader cuts off
/// ([`Partition::IsolateLeader`], [`Partition::LeaderOneWay`],
/// [`Partition::LeaderLink`]): the leader, or the node of the highest term;
/// `None` if every node is down, and then such a partition cuts nothing.
pub fn partition_links(
    partition: &Partition,
    target: Option<NodeId>,
    size: u64,
) -> Box<dyn Fn(NodeId, NodeId) -> bool> {
    match partition.clone() {
        Partition::Split { side } => {
            Box::new(move |from, to| side.contains(&from) == side.contains(&to))
        }
        Partition::OneWay { node } => Box::new(move |_, to| to != node),
        Partition::Bridge { bridge, half } => Box::new(move |from, to| {
            from == bridge || to == bridge || half.contains(&from) == half.contains(&to)
        }),
        Partition::MajoritiesRing { order } => {
            let length = order.len().max(1);
            // A majority (self included) is `length / 2 + 1` nodes:
            // `length / 2` neighbours, the nearest `reach` on each side and,
            // when that number is odd, the one opposite (which needs
            // `length` even).
            let neighbours = length / 2;
            let reach = neighbours / 2;
            let opposite = neighbours % 2 == 1;
            let position =
                move |id: NodeId| order.iter().position(|&other| other == id).unwrap_or(0);
            Box::new(move |from, to| {
                let distance = position(from).abs_diff(position(to));
                let distance = distance.min(length - distance);
                distance <= reach || (opposite && 2 * distance == length)
            })
        }
        Partition::IsolateLeader => match target {
            Some(target) => Box::new(move |from, to| from != target && to != target),
            None => Box::new(|_, _| true),
        },
        Partition::LeaderOneWay { sends } => match target {
            Some(target) if sends => Box::new(move |_, to| to != target),
            Some(target) => Box::new(move |from, _| from != target),
            None => Box::new(|_, _| true),
        },
        Partition::LeaderLink { follower } => {
            let others: Vec<NodeId> = (1..=size).filter(|&id| Some(id) != target).collect();
            match (target, others.get(follower % others.len().max(1))) {
                (Some(target), Some(&other)) if others.len() < size as usize => {
                    Box::new(move |from, to| {
                        !((from, to) == (target, other) || (from, to) == (other, target))
                    })
                }
                _ => Box::new(|_, _| true),
            }
        }
    }
}

/// The follower a [`Partition::LeaderLink`] cuts off from `leader` on
/// nodes `1..=size`, for the run's timeline.
pub fn leader_link_follower(follower: usize, leader: NodeId, size: u64) -> Option<NodeId> {
    let others: Vec<NodeId> = (1..=size).filter(|&id| id != leader).collect();
    others.get(follower % others.len().max(1)).copied()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use rand::SeedableRng;

    use super::*;

    /// The cluster sizes the simulator takes (`SimulationOptions::validate`).
    const SIZES: std::ops::RangeInclusive<u64> = 1..=9;

    macro_rules! ensure {
        ($condition:expr, $($message:tt)+) => {
            if !$condition {
                return Err(format!($($message)+));
            }
        };
    }

    /// The directed links a partition cuts on nodes `1..=size`.
    fn cut_links(partition: &Partition, size: u64, target: NodeId) -> BTreeSet<(u64, u64)> {
        let up = partition_links(partition, Some(target), size);
        let nodes = 1..=size;
        nodes
            .clone()
            .flat_map(|from| nodes.clone().map(move |to| (from, to)))
            .filter(|&(from, to)| from != to && !up(from, to))
            .collect()
    }

    /// The nodes `node` exchanges messages with both ways, itself included.
    fn reach(cut: &BTreeSet<(u64, u64)>, size: u64, node: NodeId) -> BTreeSet<NodeId> {
        (1..=size)
            .filter(|&other| {
                other == node || !(cut.contains(&(node, other)) || cut.contains(&(other, node)))
            })
            .collect()
    }

    /// Every link between `a` and `b` is cut both ways, and every link
    /// within each is up.
    fn apart(
        cut: &BTreeSet<(u64, u64)>,
        a: &BTreeSet<NodeId>,
        b: &BTreeSet<NodeId>,
    ) -> Result<(), String> {
        for &x in a {
            for &y in b {
                ensure!(
                    cut.contains(&(x, y)) && cut.contains(&(y, x)),
                    "{x}-{y} is up"
                );
            }
        }
        for group in [a, b] {
            for &x in group {
                for &y in group {
                    ensure!(!cut.contains(&(x, y)), "{x}->{y} is cut within {group:?}");
                }
            }
        }
        Ok(())
    }

    /// Whether `partition` on `size` nodes cuts something and has the shape
    /// its kind names, judged from the links it leaves up alone. `target`
    /// is the node an isolate-leader partition cuts off.
    fn check_shape(partition: &Partition, size: u64, target: NodeId) -> Result<(), String> {
        let cut = cut_links(partition, size, target);
        ensure!(!cut.is_empty(), "nothing is cut");
        let everyone: BTreeSet<NodeId> = (1..=size).collect();
        match partition {
            Partition::Split { side } => {
                let side: BTreeSet<NodeId> = side.iter().copied().collect();
                let rest: BTreeSet<NodeId> = everyone.difference(&side).copied().collect();
                ensure!(!side.is_empty() && !rest.is_empty(), "{side:?} | {rest:?}");
                apart(&cut, &side, &rest)
            }
            Partition::OneWay { node } => {
                let into_node: BTreeSet<(u64, u64)> = (1..=size)
                    .filter(|other| other != node)
                    .map(|other| (other, *node))
                    .collect();
                ensure!(
                    cut == into_node,
                    "cut {cut:?}, not just the links into {node}"
                );
                Ok(())
            }
            Partition::Bridge { bridge, .. } => {
                ensure!(
                    cut.iter()
                        .all(|&(from, to)| from != *bridge && to != *bridge),
                    "a link of the bridge is cut"
                );
                // The halves are read off the links: the nodes other than
                // the bridge, grouped by whom they reach.
                let halves: BTreeSet<BTreeSet<NodeId>> = everyone
                    .iter()
                    .filter(|&node| node != bridge)
                    .map(|&node| {
                        let mut seen = reach(&cut, size, node);
                        seen.remove(bridge);
                        seen
                    })
                    .collect();
                let halves: Vec<&BTreeSet<NodeId>> = halves.iter().collect();
                let [a, b] = halves.as_slice() else {
                    return Err(format!("not two halves but {halves:?}"));
                };
                ensure!(a.is_disjoint(b), "halves {a:?} and {b:?} overlap");
                apart(&cut, a, b)
            }
            Partition::MajoritiesRing { .. } => {
                let majority = size as usize / 2 + 1;
                ensure!(
                    cut.iter().all(|&(from, to)| cut.contains(&(to, from))),
                    "a link is cut one way only"
                );
                let mut majorities = BTreeSet::new();
                for node in 1..=size {
                    let seen = reach(&cut, size, node);
                    ensure!(seen.len() == majority, "{node} reaches {seen:?}");
                    majorities.insert(seen);
                }
                ensure!(
                    majorities.len() == size as usize,
                    "two nodes share a majority"
                );
                Ok(())
            }
            Partition::IsolateLeader => {
                let alone = BTreeSet::from([target]);
                let rest: BTreeSet<NodeId> = everyone.difference(&alone).copied().collect();
                apart(&cut, &alone, &rest)
            }
            Partition::LeaderOneWay { sends } => {
                let others = (1..=size).filter(|&other| other != target);
                let expected: BTreeSet<(u64, u64)> = if *sends {
                    others.map(|other| (other, target)).collect()
                } else {
                    others.map(|other| (target, other)).collect()
                };
                ensure!(
                    cut == expected,
                    "cut {cut:?}, not just the links {} {target}",
                    if *sends { "into" } else { "out of" }
                );
                Ok(())
            }
            Partition::LeaderLink { .. } => {
                let [(a, b), (c, d)] = cut.iter().copied().collect::<Vec<_>>()[..] else {
                    return Err(format!("cut {cut:?}, not one link both ways"));
                };
                ensure!((a, b) == (d, c), "cut {cut:?}, not one link both ways");
                ensure!(a == target || b == target, "cut {cut:?} misses {target}");
                ensure!(
                    reach(&cut, size, target).len() > 1,
                    "{target} reaches nobody"
                );
                Ok(())
            }
        }
    }

    proptest! {
        /// Every draw, at every size the simulator takes, is of a kind that
        /// exists there, cuts something and has the named shape; one node
        /// draws nothing. Each case draws at every size.
        #[test]
        fn every_drawn_partition_cuts_links_of_its_named_shape(
            seed in any::<u64>(),
            target in any::<u64>(),
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for size in SIZES {
                let Some(partition) = draw_partition(size, &mut rng) else {
                    prop_assert_eq!(size, 1);
                    continue;
                };
                prop_assert!(partition.kind().exists_at(size));
                let shape = check_shape(&partition, size, 1 + target % size);
                prop_assert!(shape.is_ok(), "{:?} on {} nodes: {:?}", partition, size, shape);
            }
        }

        /// Every kind, built at every size it exists at from any order and
        /// any cut, has its shape: no kind hides behind a rare draw. Each
        /// case builds every kind at every size.
        #[test]
        fn every_kind_has_its_shape_at_every_size_it_exists_at(
            order_seed in any::<u64>(),
            cut in any::<usize>(),
            target in any::<u64>(),
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(order_seed);
            for size in SIZES {
                for kind in PartitionKind::existing_at(size) {
                    let mut order: Vec<NodeId> = (1..=size).collect();
                    order.shuffle(&mut rng);
                    let partition = kind.build(order, cut);
                    let shape = check_shape(&partition, size, 1 + target % size);
                    prop_assert!(shape.is_ok(), "{:?} on {} nodes: {:?}", partition, size, shape);
                }
            }
        }
    }

    /// Every partition of `kind` on `size` nodes that the data type can
    /// state: every side, node, half and ring order.
    fn every_partition(kind: PartitionKind, size: u64) -> Vec<Partition> {
        let subsets = |nodes: Vec<NodeId>| -> Vec<Vec<NodeId>> {
            (0..1u32 << nodes.len())
                .map(|mask| {
                    let picked = nodes
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| mask & (1 << i) != 0);
                    picked.map(|(_, &node)| node).collect()
                })
                .collect()
        };
        let nodes: Vec<NodeId> = (1..=size).collect();
        match kind {
            PartitionKind::Split => subsets(nodes)
                .into_iter()
                .map(|side| Partition::Split { side })
                .collect(),
            PartitionKind::OneWay => nodes
                .into_iter()
                .map(|node| Partition::OneWay { node })
                .collect(),
            PartitionKind::Bridge => nodes
                .iter()
                .flat_map(|&bridge| {
                    let others = nodes
                        .iter()
                        .copied()
                        .filter(|&node| node != bridge)
                        .collect();
                    subsets(others)
                        .into_iter()
                        .map(move |half| Partition::Bridge { bridge, half })
                })
                .collect(),
            PartitionKind::MajoritiesRing => permutations(nodes)
                .into_iter()
                .map(|order| Partition::MajoritiesRing { order })
                .collect(),
            PartitionKind::IsolateLeader => vec![Partition::IsolateLeader],
            PartitionKind::LeaderOneWay => [true, false]
                .map(|sends| Partition::LeaderOneWay { sends })
                .into(),
            PartitionKind::LeaderLink => (0..size as usize)
                .map(|follower| Partition::LeaderLink { follower })
                .collect(),
        }
    }

    fn permutations(nodes: Vec<NodeId>) -> Vec<Vec<NodeId>> {
        if nodes.len() <= 1 {
            return vec![nodes];
        }
        (0..nodes.len())
            .flat_map(|first| {
                let mut rest = nodes.clone();
                let head = rest.remove(first);
                permutations(rest).into_iter().map(move |mut tail| {
                    tail.insert(0, head);
                    tail
                })
            })
            .collect()
    }

    /// Where a kind is said not to exist, no partition of that kind has its
    /// shape, whatever its sides, nodes or order: `exists_at` is exact, not
    /// just cautious.
    #[test]
    fn kinds_exist_exactly_where_their_shape_can() {
        for size in SIZES {
            for kind in PartitionKind::ALL {
                if kind.exists_at(size) {
                    continue;
                }
                for partition in every_partition(kind, size) {
                    for target in 1..=size {
                        assert!(
                            check_shape(&partition, size, target).is_err(),
                            "{partition:?} has its shape on {size} nodes"
                        );
                    }
                }
            }
        }
        let ring_sizes: Vec<u64> = SIZES
            .filter(|&size| PartitionKind::MajoritiesRing.exists_at(size))
            .collect();
        assert_eq!(ring_sizes, vec![4, 5, 6, 8, 9]);
    }
}
