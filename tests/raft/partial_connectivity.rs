//! Partial-connectivity failures that caused real outages, asserted
//! directly (the scenario files show the same runs step by step).
//! Reference: thesis §9.6 (PreVote) and §6.2 (CheckQuorum).

use std::time::Duration;

use electorate::core::node::{Node, NodeId};
use electorate::core::raft::Config;
use electorate::sim::cluster::Cluster;

fn max_term(cluster: &Cluster) -> u64 {
    cluster
        .members()
        .iter()
        .filter_map(|&id| cluster.node(id).map(|node| node.term()))
        .max()
        .unwrap_or(0)
}

fn elected(size: u64, leader: NodeId, seed: u64) -> Cluster {
    let mut cluster = Cluster::new(size, Config::default(), seed).unwrap();
    cluster.campaign(leader);
    cluster.stabilize(100);
    assert_eq!(cluster.leader(), Some(leader));
    cluster
}

#[test]
fn with_prevote_nodes_cut_off_from_the_leader_do_not_grow_terms() {
    // 1, 2, 3 fully connected; 4 linked only to 2; 5 linked only to 3; 3
    // leads. 4 times out again and again, but its pre-votes fail.
    for seed in 0..10 {
        let mut cluster = elected(5, 3, seed);
        let term = max_term(&cluster);
        cluster.connect_only(&[(1, 2), (1, 3), (2, 3), (2, 4), (3, 5)]);
        cluster.run_for(Duration::from_secs(5));
        assert_eq!(cluster.leader(), Some(3), "seed {seed}: leadership moved");
        assert_eq!(max_term(&cluster), term, "seed {seed}: terms grew");
        assert!(cluster.violations().is_empty());
    }
}

#[test]
fn with_check_quorum_a_leader_reaching_no_majority_steps_down() {
    // 1, 2, 3 fully connected; 4 linked only to 2; 5 down; 4 leads.
    for seed in 0..10 {
        let mut cluster = elected(5, 4, seed);
        cluster.crash(5);
        cluster.connect_only(&[(1, 2), (1, 3), (2, 3), (2, 4)]);
        cluster.run_for(Duration::from_secs(2));
        let leader = cluster.leader().expect("a leader emerges");
        assert!([1, 2, 3].contains(&leader), "seed {seed}: leader {leader}");
        let request = cluster.write(leader, "x", seed);
        cluster.run_for(Duration::from_millis(200));
        assert!(
            cluster
                .reply_to(request)
                .is_some_and(|reply| reply.result.is_ok()),
            "seed {seed}: the new leader commits"
        );
        assert_ne!(
            cluster.node(4).unwrap().role(),
            electorate::core::node::Role::Leader
        );
    }
}

#[test]
fn an_isolated_node_rejoins_without_disrupting_the_leader() {
    for seed in 0..10 {
        let mut cluster = elected(3, 1, seed);
        let term = max_term(&cluster);
        cluster.isolate(3);
        cluster.run_for(Duration::from_secs(2));
        cluster.heal();
        cluster.run_for(Duration::from_millis(500));
        assert_eq!(cluster.leader(), Some(1), "seed {seed}");
        assert_eq!(
            max_term(&cluster),
            term,
            "seed {seed}: the rejoining node bumped the term"
        );
    }
}
