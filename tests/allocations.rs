//! Allocations per committed write in steady state, on a 3-node in-memory
//! cluster (`sim::lockstep`), counted by a global allocator. The bound is
//! the measured figure with a little room; a change that adds allocations
//! to the write path fails here and should say why in its commit.
//!
//! `cargo test --test allocations -- --nocapture` prints the figures.

use electorate::alloc_count::{allocated_bytes, allocations, CountingAllocator};
use electorate::core::raft::Config;
use electorate::sim::lockstep::{write_request, Lockstep};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Writes per batch (one append can carry 64 entries by default).
const BATCH: u64 = 64;

/// Allocations and bytes per committed write over `batches` batches,
/// after as many batches of warm-up.
fn per_write(cluster: &mut Lockstep, batches: u64, next: &mut u64) -> (f64, f64) {
    let mut commit = |cluster: &mut Lockstep| {
        for _ in 0..BATCH {
            cluster.submit(1, write_request(*next));
            *next += 1;
        }
        cluster.run();
        let replies = cluster.take_replies().count() as u64;
        assert_eq!(replies, BATCH, "every write of the batch committed");
    };
    for _ in 0..batches {
        commit(cluster);
    }
    let (before, bytes_before) = (allocations(), allocated_bytes());
    for _ in 0..batches {
        commit(cluster);
    }
    let writes = (batches * BATCH) as f64;
    (
        (allocations() - before) as f64 / writes,
        (allocated_bytes() - bytes_before) as f64 / writes,
    )
}

#[test]
fn a_committed_write_costs_a_handful_of_allocations() {
    let mut cluster = Lockstep::new(3, Config::default(), 1).unwrap();
    assert!(cluster.elect(1));
    let mut next = 0;
    let (allocations, bytes) = per_write(&mut cluster, 40, &mut next);
    println!("steady state, batches of {BATCH}: {allocations:.2} allocations and {bytes:.0} bytes per committed write");
    assert!(
        allocations <= 8.0,
        "{allocations:.2} allocations per committed write"
    );
}
