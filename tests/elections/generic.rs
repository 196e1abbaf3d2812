//! The tests every election algorithm shares, written once over
//! [`Algorithm`] and run on a simulated cluster of five nodes: liveness (a
//! leader is elected within the algorithm's own election bound, after a
//! start, a leader's crash or random faults, and terms stop growing) and
//! the two split brains of a partition (before the first election, and
//! around a coordinator cut off with a minority).
//!
//! What an algorithm is known to do differs (Bully and Ring split, Raft
//! does not; Bully hands leadership back to the highest id, Ring does
//! not): [`Known`] states it per algorithm, and the tests check it.

use electorate::check::properties::Property;
use electorate::core::client::Outcome;
use electorate::core::node::{Node, NodeId};
use electorate::harness::algorithm::{Algorithm, Bully, Raft, Ring};
use electorate::sim::cluster::Cluster;

use crate::support::{all_follow, cluster, run_ms, run_random_faults, term_of, violated};

const SIZE: u64 = 5;
const HIGHEST: NodeId = 5;

/// What each algorithm is known to do.
pub trait Known: Algorithm + Default {
    /// Whether the highest id always wins (Bully and Ring compare ids;
    /// Raft elects whoever times out first with an up-to-date log).
    const HIGHEST_ID_WINS: bool;
    /// Whether a partition gives each side its own leader.
    const SPLITS: bool;
    /// Whether the highest id leads again once it is back and connected.
    const HIGHEST_ID_RETURNS: bool;
}

impl Known for Raft {
    const HIGHEST_ID_WINS: bool = false;
    const SPLITS: bool = false;
    const HIGHEST_ID_RETURNS: bool = false;
}

impl Known for Bully {
    const HIGHEST_ID_WINS: bool = true;
    const SPLITS: bool = true;
    const HIGHEST_ID_RETURNS: bool = true;
}

impl Known for Ring {
    const HIGHEST_ID_WINS: bool = true;
    const SPLITS: bool = true;
    const HIGHEST_ID_RETURNS: bool = false;
}

/// How long a cluster is given to elect: the algorithm's bound on an
/// election, plus the listening a node does when it starts (a leader
/// timeout, which the bound includes once), plus a margin of one bound.
fn settle_ms<A: Algorithm>(algorithm: &A) -> u64 {
    3 * algorithm.election_bound().as_millis() as u64
}

/// The one leader of a settled cluster: exactly one node up leads, every
/// node up follows it in one term. Panics with the state otherwise.
fn sole_leader<A: Algorithm>(cluster: &Cluster<A>, context: &str) -> NodeId {
    let leaders = cluster.leaders();
    assert_eq!(leaders.len(), 1, "{context}: leaders {leaders:?}");
    assert!(all_follow(cluster, leaders[0]), "{context}: not all follow");
    leaders[0]
}

fn stable<A: Known>(seed: u64) -> (Cluster<A>, NodeId) {
    let algorithm = A::default();
    let wait = settle_ms(&algorithm);
    let mut cluster = cluster(algorithm, SIZE, seed);
    run_ms(&mut cluster, wait);
    let leader = sole_leader(&cluster, &format!("seed {seed}"));
    (cluster, leader)
}

/// Liveness from a cold start, and Election and Lease Safety without
/// faults.
pub fn a_fault_free_start_elects_one_leader<A: Known>() {
    for seed in 1..=10 {
        let (cluster, leader) = stable::<A>(seed);
        if A::HIGHEST_ID_WINS {
            assert_eq!(leader, HIGHEST, "seed {seed}");
            assert_eq!(term_of(&cluster, 1), 1, "one coronation, seed {seed}");
        }
        assert!(
            cluster.violations().is_empty(),
            "seed {seed}: {:?}",
            cluster.violations()
        );
    }
}

/// Liveness after the leader crashes: the survivors elect within the
/// bound, in a newer term, and the terms then stop growing.
pub fn a_crashed_leader_is_replaced_within_the_election_bound<A: Known>() {
    for seed in 1..=5 {
        let (mut cluster, leader) = stable::<A>(seed);
        let term = term_of(&cluster, leader);
        cluster.crash(leader);
        let bound = cluster.algorithm().election_bound().as_millis() as u64;
        run_ms(&mut cluster, bound);
        let context = format!("seed {seed}, {leader} crashed");
        let successor = sole_leader(&cluster, &context);
        let new_term = term_of(&cluster, successor);
        assert!(new_term > term, "{context}");
        if A::HIGHEST_ID_WINS {
            assert_eq!(successor, HIGHEST - 1, "{context}");
            assert_eq!(new_term, term + 1, "one coronation, {context}");
        }
        run_ms(&mut cluster, 2 * bound);
        assert_eq!(sole_leader(&cluster, &context), successor);
        assert_eq!(term_of(&cluster, successor), new_term, "terms stop growing");
        assert!(
            cluster.violations().is_empty(),
            "{context}: {:?}",
            cluster.violations()
        );
    }
}

/// Liveness after random crashes, restarts, partitions and campaigns:
/// healed and all up again, the cluster settles on one leader (the
/// highest id, where it takes leadership back).
pub fn after_random_faults_the_healed_cluster_settles_on_one_leader<A: Known>() {
    for seed in 0..100 {
        let algorithm = A::default();
        let settle = 2 * settle_ms(&algorithm);
        let mut cluster = cluster(algorithm, SIZE, seed);
        run_random_faults(&mut cluster, seed, 40, settle);
        let leader = sole_leader(&cluster, &format!("seed {seed}"));
        if A::HIGHEST_ID_RETURNS {
            assert_eq!(leader, HIGHEST, "seed {seed}");
        }
    }
}

/// Writes 1 through node 3 and 2 through node 5, then reads through each:
/// what each side's clients see.
fn reads_after_writes_on_each_side<A: Algorithm>(cluster: &mut Cluster<A>) -> Vec<Option<Outcome>> {
    cluster.write(3, "x", 1);
    cluster.write(5, "x", 2);
    let reads = [cluster.read(3, "x"), cluster.read(5, "x")];
    // Raft needs the network to commit: give it a heartbeat round.
    run_ms(cluster, 100);
    reads
        .iter()
        .map(|&id| {
            cluster
                .reply_to(id)
                .and_then(|reply| reply.result.clone().ok())
        })
        .collect()
}

/// Partitioned before any election into {1, 2, 3} and {4, 5}: Bully and
/// Ring crown the highest id of each side, both in epoch 1, and each side's
/// clients see their own register. Raft elects only on the majority side.
pub fn a_partition_before_the_first_election<A: Known>() {
    let algorithm = A::default();
    let wait = settle_ms(&algorithm);
    let mut cluster = cluster(algorithm, SIZE, 5);
    cluster.partition(&[vec![1, 2, 3], vec![4, 5]]);
    run_ms(&mut cluster, wait);
    let reads = reads_after_writes_on_each_side(&mut cluster);
    if A::SPLITS {
        assert_eq!(cluster.leaders(), vec![3, 5]);
        assert_eq!((term_of(&cluster, 3), term_of(&cluster, 5)), (1, 1));
        assert!(violated(&cluster, Property::ElectionSafety));
        // Lease Safety is broken too (both serve reads), though the monitor
        // reports only the first property broken at an instant.
        let now = cluster.now();
        assert!(cluster
            .leaders()
            .iter()
            .all(|&id| cluster.node(id).unwrap().holds_lease(now)));
        assert_eq!(
            reads,
            vec![Some(Outcome::Read(Some(1))), Some(Outcome::Read(Some(2)))],
            "the register diverges"
        );
    } else {
        let leaders = cluster.leaders();
        assert!(matches!(leaders.as_slice(), [1..=3]), "leaders {leaders:?}");
        assert!(
            cluster.violations().is_empty(),
            "{:?}",
            cluster.violations()
        );
        assert!(reads[1].is_none(), "the minority serves no read");
    }
    // Healed, one leader is left.
    cluster.heal();
    run_ms(&mut cluster, 2 * wait);
    let leader = sole_leader(&cluster, "healed");
    if A::SPLITS {
        assert_eq!(leader, HIGHEST, "same epoch: the higher id is believed");
    }
}

/// A settled cluster whose leader, 5, is cut off with node 4: the majority
/// elects a new leader in a newer term. Bully's and Ring's old coordinator
/// never learns and keeps leading beside it (Lease Safety broken, Election
/// Safety kept: distinct epochs); Raft's steps down (CheckQuorum).
pub fn a_leader_cut_off_with_a_minority<A: Known>() {
    let (mut cluster, leader) = stable::<A>(6);
    let majority: Vec<NodeId> = (1..=SIZE).filter(|&id| id != leader).take(3).collect();
    let minority: Vec<NodeId> = (1..=SIZE).filter(|id| !majority.contains(id)).collect();
    cluster.partition(&[majority.clone(), minority]);
    let wait = settle_ms(cluster.algorithm());
    run_ms(&mut cluster, wait);
    let leaders = cluster.leaders();
    let new_leader = *leaders
        .iter()
        .find(|id| majority.contains(id))
        .expect("the majority elects");
    let (old_term, new_term) = (term_of(&cluster, leader), term_of(&cluster, new_leader));
    assert!(new_term > old_term);
    if A::HIGHEST_ID_WINS {
        assert_eq!(
            (new_leader, new_term),
            (3, old_term + 1),
            "the majority's highest id"
        );
    }
    assert!(
        !violated(&cluster, Property::ElectionSafety),
        "distinct epochs"
    );
    if A::SPLITS {
        assert_eq!(
            leaders,
            vec![new_leader, leader],
            "the old one keeps leading"
        );
        assert!(violated(&cluster, Property::LeaseSafety));
    } else {
        assert_eq!(leaders, vec![new_leader], "the old one stepped down");
        assert!(
            cluster.violations().is_empty(),
            "{:?}",
            cluster.violations()
        );
    }
    cluster.heal();
    run_ms(&mut cluster, 2 * wait);
    let after = sole_leader(&cluster, "healed");
    if A::HIGHEST_ID_RETURNS {
        assert_eq!(after, HIGHEST, "it bullies its way back");
    } else {
        assert_eq!(after, new_leader, "the newer term wins");
    }
}

/// One module of tests per algorithm, each calling the generic test of
/// the same name.
macro_rules! for_algorithm {
    ($module:ident, $algorithm:ty) => {
        mod $module {
            for_algorithm!(@tests $algorithm:
                a_fault_free_start_elects_one_leader,
                a_crashed_leader_is_replaced_within_the_election_bound,
                after_random_faults_the_healed_cluster_settles_on_one_leader,
                a_partition_before_the_first_election,
                a_leader_cut_off_with_a_minority
            );
        }
    };
    (@tests $algorithm:ty: $($test:ident),*) => {
        $(
            #[test]
            fn $test() {
                super::$test::<$algorithm>();
            }
        )*
    };
}

for_algorithm!(raft, electorate::harness::algorithm::Raft);
for_algorithm!(bully, electorate::harness::algorithm::Bully);
for_algorithm!(ring, electorate::harness::algorithm::Ring);
