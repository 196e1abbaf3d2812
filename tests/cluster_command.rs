//! `electorate cluster` end to end, shortened: node processes on loopback,
//! the leader killed and partitioned, a whole-cluster crash at the end, and
//! the recorded history judged linearizable; the KPIs scraped from the
//! nodes' metrics, and the split-brain alert firing on an unsafe lease.

use std::path::PathBuf;
use std::time::Duration;

use electorate::driver::cluster::disruptions::DisruptionKind;
use electorate::driver::cluster::{run_cluster, ClusterOptions};
use electorate::driver::tuning::Tuning;

/// A three-node run of this test binary's `electorate`, with seed `seed`
/// (which also names the cluster) in `data_dir`; each test sets its own
/// schedule of faults and workload over these.
fn options(seed: u64, data_dir: &std::path::Path) -> ClusterOptions {
    ClusterOptions {
        nodes: 3,
        duration: Duration::from_secs(3),
        kill_leader_every: None,
        restart_after: Duration::from_millis(500),
        partition_leader_every: None,
        partition_for: Duration::from_millis(500),
        clients: 2,
        keys: 2,
        seed,
        cluster_id: seed,
        data_dir: data_dir.to_owned(),
        executable: PathBuf::from(env!("CARGO_BIN_EXE_electorate")),
        log: Some("info".to_owned()),
        client_timeout: Duration::from_secs(1),
        check_timeout: Duration::from_secs(20),
        disk_faults: false,
        tuning: Tuning::default(),
        scrape_every: Duration::from_millis(100),
    }
}

#[test]
fn a_cluster_survives_leader_kills_and_partitions_with_a_linearizable_history() {
    let data_dir =
        std::env::temp_dir().join(format!("electorate-cluster-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let options = ClusterOptions {
        duration: Duration::from_secs(6),
        kill_leader_every: Some(Duration::from_secs(2)),
        partition_leader_every: Some(Duration::from_secs(2)),
        partition_for: Duration::from_millis(700),
        clients: 3,
        keys: 4,
        client_timeout: Duration::from_secs(2),
        check_timeout: Duration::from_secs(60),
        scrape_every: Duration::from_millis(100),
        ..options(17, &data_dir)
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
    let kpis = &report.kpis;
    assert_eq!(kpis.split_brain_alerts, 0, "{kpis:#?}");
    assert!(
        kpis.lease_claims >= 2,
        "every new leader claims a lease: {kpis:#?}"
    );
    // Each kill and each partition of the leader is followed by a new one.
    assert!(
        kpis.leader_changes as usize > report.disruptions.len(),
        "{kpis:#?}"
    );
    assert!(kpis.elections >= kpis.leader_changes, "{kpis:#?}");
    let latency = kpis
        .write_latency_ms
        .as_ref()
        .expect("writes were acknowledged");
    assert!(latency.count as usize >= report.operations.acknowledged_writes / 2);
    assert!(
        latency.p50 > 0.0 && latency.p50 <= latency.p99,
        "{latency:?}"
    );
    assert!(!kpis.heartbeat_success.is_empty(), "{kpis:#?}");
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// With a snapshot every 20 entries, leader kills and restarts from disk
/// leave the history linearizable, and what a restart costs stays bounded
/// by the interval rather than by the run: each restart replays at most a
/// couple of intervals' worth of records, and no log file grows past a few
/// intervals' worth of bytes (without snapshots this run writes thousands
/// of records).
#[test]
fn with_snapshots_restarts_and_log_files_stay_bounded_under_leader_kills() {
    let data_dir = std::env::temp_dir().join(format!(
        "electorate-cluster-snapshot-test-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&data_dir);
    let options = ClusterOptions {
        duration: Duration::from_secs(5),
        kill_leader_every: Some(Duration::from_millis(1_500)),
        clients: 3,
        keys: 4,
        client_timeout: Duration::from_secs(2),
        check_timeout: Duration::from_secs(60),
        tuning: Tuning {
            snapshot_every: Some(20),
            ..Tuning::default()
        },
        ..options(23, &data_dir)
    };
    let (report, _) = run_cluster(&options, |_| {}).unwrap();
    assert!(report.passed(), "{report:#?}");
    let storage = &report.kpis.storage;
    assert!(
        report.operations.acknowledged_writes > 200,
        "enough writes for many snapshots: {report:#?}"
    );
    assert!(storage.snapshots_taken >= 10, "{storage:?}");
    assert!(storage.restarts >= 1, "{storage:?}");
    let replayed = storage
        .most_records_replayed
        .expect("a restart was scraped");
    assert!(
        replayed <= 200,
        "a restart replayed {replayed} records: {storage:?}"
    );
    assert!(
        storage.largest_log_bytes <= 16 * 1024,
        "a log file grew to {} bytes: {storage:?}",
        storage.largest_log_bytes
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// A lease that outlives the followers' promise, and an isolated leader
/// that keeps it (no CheckQuorum): `Config::validate` refuses this set, so
/// it is forced past it through a test-only switch. The old leader's claim
/// must overlap its successor's, and the alert must say so.
#[test]
fn an_unsafe_lease_configuration_raises_the_split_brain_alert() {
    let data_dir = std::env::temp_dir().join(format!(
        "electorate-split-brain-test-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&data_dir);
    let tuning = Tuning {
        lease_duration_ms: Some(1_500),
        deliberate_unchecked_lease: true,
        deliberate_no_check_quorum: true,
        ..Tuning::default()
    };
    assert!(
        Tuning {
            deliberate_unchecked_lease: false,
            ..tuning.clone()
        }
        .config(1, &[1, 2, 3])
        .is_err(),
        "the set is one that validation refuses"
    );
    let options = ClusterOptions {
        duration: Duration::from_secs(3),
        kill_leader_every: None,
        partition_leader_every: Some(Duration::from_secs(1)),
        partition_for: Duration::from_millis(1_200),
        clients: 2,
        keys: 2,
        client_timeout: Duration::from_secs(1),
        check_timeout: Duration::from_secs(20),
        tuning,
        scrape_every: Duration::from_millis(50),
        ..options(23, &data_dir)
    };
    let (report, _) = run_cluster(&options, |_| {}).unwrap();
    assert!(
        report.kpis.split_brain_alerts > 0,
        "the isolated leader's lease overlaps its successor's: {:#?}",
        report.kpis
    );
    assert!(!report.passed(), "a split brain fails the run");
    let _ = std::fs::remove_dir_all(&data_dir);
}
