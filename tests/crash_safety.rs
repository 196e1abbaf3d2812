//! Crash safety of the driver with real processes: `electorate node`s on
//! lazy disks (unsynced writes vanish with the process) are killed with
//! SIGKILL in the middle of a stream of writes — no destructor, no flush —
//! and must come back with every write they acknowledged; an unsynced tail
//! left on disk is cut, and damage to synced data makes the node refuse to
//! start.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use electorate::core::client::Outcome;
use electorate::driver::client::Client;
use electorate::driver::cluster::processes::{Launch, Processes};
use electorate::driver::storage::format::Identity;
use electorate::driver::storage::{open_directory, Recovered, StorageError, LOG_FILE, STATE_FILE};

mod support;

use support::driver::temp_dir;

fn launch(name: &str, nodes: usize) -> Launch {
    let data_dir = temp_dir(name);
    Launch {
        executable: PathBuf::from(env!("CARGO_BIN_EXE_electorate")),
        cluster_id: 11,
        addresses: Launch::free_addresses(nodes).unwrap(),
        data_dir,
        seed: 5,
        log: Some("info".to_owned()),
        // Unsynced writes vanish with the process, as in a power loss.
        lazy_disk: true,
    }
}

fn client(launch: &Launch, id: u64) -> Client {
    Client::new(
        launch.cluster_id,
        launch.addresses.clone(),
        id,
        Duration::from_secs(5),
    )
}

/// Waits up to 20 s for `attempt`; see [`support::driver::poll`].
fn poll<T, E: std::fmt::Display>(what: &str, attempt: impl FnMut() -> Result<T, E>) -> T {
    support::driver::poll(what, Duration::from_secs(20), attempt)
}

/// Reads `key`, retrying while the restarted cluster elects a leader.
fn read(client: &mut Client, key: &str) -> Option<u64> {
    let done = poll(&format!("cannot read {key}"), || client.read(key));
    match done.outcome {
        Outcome::Read(value) => value,
        other => panic!("a read returned {other:?}"),
    }
}

#[test]
fn every_acknowledged_write_survives_sigkill_of_the_whole_cluster() {
    let launch = launch("crash-all", 3);
    let mut processes = Processes::start_all(launch.clone()).unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acknowledged, stop, mut client) =
            (acknowledged.clone(), stop.clone(), client(&launch, 1));
        std::thread::spawn(move || {
            for value in 0u64.. {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let key = format!("w{value}");
                if client.write(&key, value).is_ok() {
                    acknowledged.lock().unwrap().push((key, value));
                }
            }
        })
    };
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 200 {
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Mid-stream: the writer has a write in flight right now.
    processes.kill_all();
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();

    for id in 1..=3 {
        processes.start(id).unwrap();
    }
    let mut reader = client(&launch, 2);
    for (key, value) in &acknowledged {
        assert_eq!(
            read(&mut reader, key),
            Some(*value),
            "{key} was acknowledged"
        );
    }
    drop(processes);
    let _ = std::fs::remove_dir_all(&launch.data_dir);
}

fn log_file(launch: &Launch) -> PathBuf {
    launch.node_dir(1).join(LOG_FILE)
}

fn write_keys(launch: &Launch, keys: std::ops::Range<u64>) {
    let mut client = client(launch, 1);
    for value in keys {
        client.write(&format!("c{value}"), value).unwrap();
    }
}

const NODE_1: Identity = Identity {
    cluster_id: 11,
    node_id: 1,
};

/// Opens a copy of node 1's data the way a restarting node does.
fn recover_copy(launch: &Launch, name: &str) -> Result<Recovered, StorageError> {
    let copy = launch.data_dir.join(name);
    std::fs::create_dir_all(&copy).unwrap();
    for file in [LOG_FILE, STATE_FILE] {
        std::fs::copy(launch.node_dir(1).join(file), copy.join(file)).unwrap();
    }
    open_directory(&copy, NODE_1, false).map(|(_, recovered)| recovered)
}

/// Waits for node 1 to exit by itself and returns how.
fn exit_of_node_1(processes: &mut Processes) -> String {
    poll("node 1 kept running", || {
        let exit = processes.exited().into_iter().find(|(id, _)| *id == 1);
        exit.map(|(_, status)| status).ok_or("no exit yet")
    })
}

#[test]
fn an_unsynced_tail_is_cut_and_damage_to_synced_data_refuses_to_start() {
    let launch = launch("corrupt-tail", 1);
    let mut processes = Processes::start_all(launch.clone()).unwrap();
    write_keys(&launch, 0..20);
    processes.kill(1);
    let clean = recover_copy(&launch, "clean").unwrap();
    assert_eq!(clean.cut_tail_bytes, 0, "a clean log loses nothing");

    // What a power loss can leave after the synced length: half a record
    // header and some of a payload. Never acknowledged: cut, and logged.
    let mut bytes = std::fs::read(log_file(&launch)).unwrap();
    bytes.extend_from_slice(&[0x21, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe]);
    std::fs::write(log_file(&launch), &bytes).unwrap();
    processes.start(1).unwrap();
    let mut reader = client(&launch, 2);
    for value in 0..20 {
        assert_eq!(read(&mut reader, &format!("c{value}")), Some(value));
    }
    write_keys(&launch, 20..21);
    processes.kill(1);
    let log = std::fs::read_to_string(processes.log_path(1)).unwrap();
    assert!(
        log.contains("cut an unsynced log tail"),
        "the cut is logged:\n{log}"
    );

    // A flipped bit in the last record, which was synced and acknowledged:
    // the node must not start, and must say where and what to do.
    let before = recover_copy(&launch, "before").unwrap();
    assert!(before.records > clean.records);
    let mut bytes = std::fs::read(log_file(&launch)).unwrap();
    let end = bytes.len() - 1;
    bytes[end] ^= 0x40;
    std::fs::write(log_file(&launch), &bytes).unwrap();
    let error = recover_copy(&launch, "after").unwrap_err();
    assert!(matches!(error, StorageError::Damaged { .. }), "{error}");
    processes.start(1).unwrap();
    let status = exit_of_node_1(&mut processes);
    assert!(!status.contains("exit status: 0"), "{status}");
    let log = std::fs::read_to_string(processes.log_path(1)).unwrap();
    assert!(
        log.contains("refusing to start") && log.contains(LOG_FILE) && log.contains("at byte"),
        "the refusal names the file and the place:\n{log}"
    );
    // The file is untouched: nothing was truncated.
    assert_eq!(std::fs::read(log_file(&launch)).unwrap(), bytes);
    drop(processes);
    let _ = std::fs::remove_dir_all(&launch.data_dir);
}
