//! Raft replication throughput: electorate's core beside raft-rs, on the
//! same workload in the same run.
//!
//! The workload, made equal in every way the two APIs allow:
//! - 3 nodes in one process; node 1 is elected first (not measured), then
//!   a client submits writes to it;
//! - messages are moved between nodes in memory, in FIFO order, never
//!   encoded; storage is in memory (electorate's `DurableState`, raft-rs's
//!   `MemStorage`), made "durable" before a step's messages are sent;
//! - each write sets one key (`k`) to a `u64`: electorate's `Write`
//!   command, a 9-byte entry for raft-rs; every node applies committed
//!   writes to an ordered map;
//! - a batch of B writes is submitted, then the cluster runs until quiet;
//!   a write counts as committed when the leader has applied it
//!   (electorate: the client reply; raft-rs: the leader's committed
//!   entries). B = 1 measures one round trip per write, B = 64 batching:
//!   each side takes the 64 writes as one input and sends each follower
//!   one append for them (electorate: one `Input::ClientBatch`, whose
//!   writes join one append; raft-rs: one `MsgPropose` carrying the 64
//!   entries, handled in one `Ready`, with `batch_append` on);
//! - flow control as electorate's defaults: up to 64 entries per append,
//!   256 appends in flight; followers learn a commit on the next append
//!   (raft-rs: `skip_bcast_commit`); PreVote and CheckQuorum on in both;
//!   no ticks, so neither sends heartbeats.
//!
//! Before criterion runs, the bench prints allocations and bytes per
//! committed write in steady state for both, counted by a global
//! allocator (`electorate::alloc_count`).
//!
//! `cargo bench --bench replication`; `-- --test` runs each benchmark once.

mod raft_rs;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use electorate::alloc_count::{allocated_bytes, allocations, CountingAllocator};
use electorate::core::raft::Config;
use electorate::sim::lockstep::{write_request, Lockstep};
use raft_rs::RaftRsCluster;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const BATCHES: [u64; 2] = [1, 64];
/// Writes per measured iteration.
const WRITES: u64 = 1_024;

/// electorate's cluster with its leader elected, and the next request id.
struct Electorate {
    cluster: Lockstep,
    next: u64,
}

impl Electorate {
    fn new() -> Electorate {
        let mut cluster = Lockstep::new(3, Config::default(), 1).expect("default config");
        assert!(cluster.elect(1), "node 1 leads");
        Electorate { cluster, next: 0 }
    }

    /// Commits `writes` writes in batches of `batch`.
    fn commit(&mut self, writes: u64, batch: u64) {
        for _ in 0..writes / batch {
            if batch == 1 {
                self.cluster.submit(1, write_request(self.next));
            } else {
                let requests = (self.next..self.next + batch).map(write_request);
                self.cluster.submit_batch(1, requests.collect());
            }
            self.next += batch;
            self.cluster.run();
            let committed = self.cluster.take_replies().count() as u64;
            debug_assert_eq!(committed, batch);
        }
    }
}

struct RaftRs {
    cluster: RaftRsCluster,
    next: u64,
}

impl RaftRs {
    fn new() -> RaftRs {
        let mut cluster = RaftRsCluster::new(3);
        assert!(cluster.elect(), "node 1 leads");
        RaftRs { cluster, next: 0 }
    }

    fn commit(&mut self, writes: u64, batch: u64) {
        for _ in 0..writes / batch {
            let before = self.cluster.committed_on_leader();
            if batch == 1 {
                self.cluster.submit(b"k", self.next);
            } else {
                self.cluster
                    .submit_batch(b"k", self.next..self.next + batch);
            }
            self.next += batch;
            self.cluster.run();
            debug_assert_eq!(self.cluster.committed_on_leader() - before, batch);
        }
    }
}

/// Allocations and bytes per committed write after a warm-up.
fn allocations_per_write(mut commit: impl FnMut(u64)) -> (f64, f64) {
    const MEASURED: u64 = 64 * 200;
    commit(MEASURED);
    let (count, bytes) = (allocations(), allocated_bytes());
    commit(MEASURED);
    (
        (allocations() - count) as f64 / MEASURED as f64,
        (allocated_bytes() - bytes) as f64 / MEASURED as f64,
    )
}

fn report_allocations() {
    for batch in BATCHES {
        let mut ours = Electorate::new();
        let (count, bytes) = allocations_per_write(|writes| ours.commit(writes, batch));
        let mut theirs = RaftRs::new();
        let (their_count, their_bytes) =
            allocations_per_write(|writes| theirs.commit(writes, batch));
        println!(
            "allocations per committed write, batches of {batch}: \
             electorate {count:.2} ({bytes:.0} bytes), raft-rs {their_count:.2} ({their_bytes:.0} bytes)"
        );
    }
}

fn replication(c: &mut Criterion) {
    report_allocations();
    let mut group = c.benchmark_group("replication");
    group.throughput(Throughput::Elements(WRITES));
    for batch in BATCHES {
        let mut ours = Electorate::new();
        group.bench_function(BenchmarkId::new("electorate", batch), |b| {
            b.iter(|| ours.commit(black_box(WRITES), batch))
        });
        let mut theirs = RaftRs::new();
        group.bench_function(BenchmarkId::new("raft-rs", batch), |b| {
            b.iter(|| theirs.commit(black_box(WRITES), batch))
        });
    }
    group.finish();
}

criterion_group!(benches, replication);
criterion_main!(benches);
