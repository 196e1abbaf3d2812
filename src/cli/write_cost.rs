//! The exact cost of a committed Raft write, for `electorate compare`:
//! messages and wire bytes per write on an in-memory cluster
//! (`sim::lockstep`), one write at a time and in batches of 64 handed to
//! the leader as one input, with no heartbeats and nothing lost. These
//! counts do not vary from run to run, so they are computed once here
//! rather than measured by a bench.

use electorate::core::raft::Config;
use electorate::sim::lockstep::{write_request, Lockstep};
use serde::Serialize;

/// Writes per measurement.
const WRITES: u64 = 1_024;

#[derive(Clone, Debug, Serialize)]
pub struct WriteCost {
    pub nodes: u64,
    /// Writes handed to the leader together, as one input
    /// (`Input::ClientBatch`), before the cluster runs.
    pub batch: u64,
    pub messages_per_write: f64,
    pub bytes_per_write: f64,
}

pub fn write_costs(sizes: &[u64]) -> Vec<WriteCost> {
    let mut costs = Vec::new();
    for &nodes in sizes {
        for batch in [1, 64] {
            costs.push(measure(nodes, batch));
        }
    }
    costs
}

fn measure(nodes: u64, batch: u64) -> WriteCost {
    let mut cluster =
        Lockstep::new(nodes, Config::default(), 1).expect("the default config is valid");
    assert!(cluster.elect(1), "a lockstep election always succeeds");
    cluster.count_bytes();
    let messages_before = cluster.delivered();
    for first in (0..WRITES).step_by(batch as usize) {
        if batch == 1 {
            cluster.submit(1, write_request(first));
        } else {
            cluster.submit_batch(1, (first..first + batch).map(write_request).collect());
        }
        cluster.run();
    }
    let committed = cluster.take_replies().count() as f64;
    WriteCost {
        nodes,
        batch,
        messages_per_write: (cluster.delivered() - messages_before) as f64 / committed,
        bytes_per_write: cluster.delivered_bytes() as f64 / committed,
    }
}

pub fn print(costs: &[WriteCost]) {
    println!("\nraft, per committed write (in memory, no loss, no heartbeats):");
    println!(
        "{:>5} {:>6} {:>9} {:>8}",
        "nodes", "batch", "messages", "bytes"
    );
    for cost in costs {
        println!(
            "{:>5} {:>6} {:>9.2} {:>8.1}",
            cost.nodes, cost.batch, cost.messages_per_write, cost.bytes_per_write
        );
    }
}

#[cfg(test)]
mod tests {
    use super::measure;

    #[test]
    fn one_write_at_a_time_costs_an_append_and_a_response_per_follower() {
        let cost = measure(3, 1);
        assert_eq!(cost.messages_per_write, 4.0);
    }

    #[test]
    fn a_batch_of_64_writes_costs_one_append_and_one_response_per_follower() {
        // 2 appends and 2 responses carry 64 writes on 3 nodes.
        let cost = measure(3, 64);
        assert_eq!(cost.messages_per_write, 4.0 / 64.0);
        assert!(cost.messages_per_write <= 0.2, "{cost:?}");
    }
}
