//! Random fault schedules over the router, for the randomized runs of both
//! variants: crashes, restarts, partitions, heals and spurious campaigns at
//! random times, then everything healed and restarted.

use electorate::core::chassis::{DurableState, Persist};
use electorate::core::node::{Input, Node, NodeId};
use electorate::core::time::Time;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Router;

/// Runs `faults` random faults on `router`, then heals the network, brings
/// every node back with `restart` and lets the cluster settle for
/// `settle_ms`.
pub fn run_random_faults<N>(
    router: &mut Router<N>,
    members: &[NodeId],
    seed: u64,
    faults: usize,
    settle_ms: u64,
    restart: impl Fn(NodeId, DurableState, Time, &mut ChaCha8Rng) -> N,
) where
    N: Node<Persist = Persist>,
    N::Message: std::fmt::Display,
{
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..faults {
        let id = members[rng.random_range(0..members.len())];
        match rng.random_range(0..6) {
            0 if router.is_up(id) => router.crash(id),
            1 if !router.is_up(id) => {
                router.restart(id, |durable, now, rng| restart(id, durable, now, rng))
            }
            2 => {
                let (left, right): (Vec<NodeId>, Vec<NodeId>) =
                    members.iter().partition(|_| rng.random_bool(0.5));
                router.partition(&[&left, &right]);
            }
            3 => router.heal(),
            4 if router.is_up(id) => router.step(id, Input::Campaign),
            _ => {}
        }
        router.run_for_ms(rng.random_range(1..400));
    }
    router.heal();
    for &id in members {
        if !router.is_up(id) {
            router.restart(id, |durable, now, rng| restart(id, durable, now, rng));
        }
    }
    router.run_for_ms(settle_ms);
}
