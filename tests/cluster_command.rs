//! `electorate cluster` end to end, shortened: node processes on loopback,
//! the leader killed and partitioned, a whole-cluster crash at the end, and
//! the recorded history judged linearizable.

use std::path::PathBuf;
use std::time::Duration;

use electorate::driver::cluster::disruptions::DisruptionKind;
use electorate::driver::cluster::{run_cluster, ClusterOptions};

#[test]
fn a_cluster_survives_leader_kills_and_partitions_with_a_linearizable_history() {
    let data_dir =
        std::env::temp_dir().join(format!("electorate-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let options = ClusterOptions {
        nodes: 3,
        duration: Duration::from_secs(6),
        kill_leader_every: Some(Duration::from_secs(2)),
        restart_after: Duration::from_millis(500),
        partition_leader_every: Some(Duration::from_secs(2)),
        partition_for: Duration::from_millis(700),
        clients: 3,
        keys: 4,
        seed: 17,
        cluster_id: 3,
        data_dir: data_dir.clone(),
        executable: PathBuf::from(env!("CARGO_BIN_EXE_electorate")),
        log: Some("info".to_owned()),
        client_timeout: Duration::from_secs(2),
        check_timeout: Duration::from_secs(60),
        disk_faults: false,
    };
    let (report, recorder) = run_cluster(&options, |_| {}).unwrap();
    assert_eq!(report.linearizability, "linearizable", "{report:#?}");
    assert!(report.unexpected_exits.is_empty(), "{report:#?}");
    assert!(report.passed());
    let kinds: Vec<DisruptionKind> = report.disruptions.iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&DisruptionKind::Kill), "{kinds:?}");
    assert!(kinds.contains(&DisruptionKind::Partition), "{kinds:?}");
    assert!(
        report.disruptions.iter().all(|d| d.failover_ms.is_some()),
        "every fault was followed by a new leader: {report:#?}"
    );
    assert!(report.operations.acknowledged_writes > 100);
    assert_eq!(
        report.read_back.len(),
        4,
        "every key read back after the crash"
    );
    assert!(recorder.events().len() >= 2 * report.operations.ok as usize);
    let _ = std::fs::remove_dir_all(&data_dir);
}
