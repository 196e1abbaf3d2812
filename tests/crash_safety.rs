//! Crash safety of the driver with real processes: `electorate node`s are
//! killed with SIGKILL in the middle of a stream of writes — no destructor,
//! no flush — and must come back with every write they acknowledged; a log
//! whose tail is torn or corrupt on disk is cut back to its last valid
//! record and the node carries on from there.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use electorate::core::client::Outcome;
use electorate::driver::client::Client;
use electorate::driver::cluster::processes::{Launch, Processes};
use electorate::driver::storage::{FileStorage, LOG_FILE};

fn launch(name: &str, nodes: usize) -> Launch {
    let data_dir = std::env::temp_dir().join(format!("electorate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    Launch {
        executable: PathBuf::from(env!("CARGO_BIN_EXE_electorate")),
        cluster_id: 11,
        addresses: Launch::free_addresses(nodes).unwrap(),
        data_dir,
        seed: 5,
        log: Some("info".to_owned()),
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

/// Reads `key`, retrying while the restarted cluster elects a leader.
fn read(client: &mut Client, key: &str) -> Option<u64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match client.read(key) {
            Ok(done) => match done.outcome {
                Outcome::Read(value) => return value,
                other => panic!("a read returned {other:?}"),
            },
            Err(error) => {
                assert!(Instant::now() < deadline, "cannot read {key}: {error}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
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

/// Opens the log the way a restarting node does, and reports what it kept.
fn recover(directory: &Path) -> (usize, u64, u64) {
    let (_, recovered) = FileStorage::open(directory).unwrap();
    let last_index = recovered.state.log.last().map_or(0, |entry| entry.index);
    (recovered.records, recovered.dropped_bytes, last_index)
}

#[test]
fn a_torn_or_corrupt_log_tail_is_cut_back_to_the_last_valid_record() {
    let launch = launch("corrupt-tail", 1);
    let directory = launch.node_dir(1);
    let mut processes = Processes::start_all(launch.clone()).unwrap();
    write_keys(&launch, 0..20);
    processes.kill(1);
    let (records, dropped, last_index) = recover(&directory);
    assert_eq!(dropped, 0, "a clean log loses nothing");

    // A torn write: half a record header and some of a payload.
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

    // A flipped bit in the last record: its checksum fails, so recovery
    // stops at the record before it.
    let (records_before, _, last_before) = recover(&directory);
    assert!(records_before > records && last_before > last_index);
    let mut bytes = std::fs::read(log_file(&launch)).unwrap();
    let end = bytes.len() - 1;
    bytes[end] ^= 0x40;
    std::fs::write(log_file(&launch), &bytes).unwrap();
    let (records_after, dropped, last_after) = {
        let copy = launch.data_dir.join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::copy(log_file(&launch), copy.join(LOG_FILE)).unwrap();
        recover(&copy)
    };
    assert_eq!(records_after, records_before - 1);
    assert!(dropped > 0);
    assert!(last_after <= last_before);

    // The node starts from the valid prefix and serves it.
    processes.start(1).unwrap();
    let mut reader = client(&launch, 3);
    for value in 0..20 {
        assert_eq!(read(&mut reader, &format!("c{value}")), Some(value));
    }
    write_keys(&launch, 30..31);
    let log = std::fs::read_to_string(processes.log_path(1)).unwrap();
    assert!(
        log.contains("cut a damaged log tail"),
        "the cut is logged:\n{log}"
    );
    drop(processes);
    let _ = std::fs::remove_dir_all(&launch.data_dir);
}
