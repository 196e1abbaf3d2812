//! The threaded driver on real threads and the real clock: clusters wired
//! in memory and over TCP on loopback elect a leader, commit writes, fail
//! over, and shrug off bad input on their sockets; `electorate node`
//! processes serve metrics that follow what the cluster does.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use electorate::codec::{Codec, Frame, Payload};
use electorate::core::client::{ClientRequest, Operation, Outcome, RequestId};
use electorate::core::raft::{Body, Config, HeartbeatResponse, Message, Round, Term};
use electorate::core::Role;
use electorate::driver::client::Client;
use electorate::driver::health::HealthSettings;
use electorate::driver::mailbox::Mailbox;
use electorate::driver::memory::{request, MemoryNetwork};
use electorate::driver::metrics::exposition::Samples;
use electorate::driver::metrics::scrape::scrape;
use electorate::driver::node::{
    spawn_node, spawn_node_on, DriverError, NodeHandle, NodeSettings, INBOX_CAPACITY,
};
use electorate::driver::storage::simulated::{SimDisk, SimFaults};
use electorate::driver::storage::Log;
use electorate::driver::tcp::{TcpCluster, TcpNode};

#[path = "driver/abdication.rs"]
mod abdication;
mod support;

use support::driver::temp_dir;

const MEMBERS: [u64; 3] = [1, 2, 3];

fn settings(id: u64, data: &Path) -> NodeSettings {
    NodeSettings {
        id,
        members: MEMBERS.to_vec(),
        config: Config::default(),
        data_dir: data.join(format!("node-{id}")),
        seed: id,
        cluster_id: 1,
        lazy_disk: false,
        health: HealthSettings::default(),
        slow_fsync: Duration::ZERO,
    }
}

fn start_memory_node(network: &Arc<MemoryNetwork>, id: u64, data: &Path) -> NodeHandle {
    let inbox = Arc::new(Mailbox::new(INBOX_CAPACITY));
    network.attach(id, inbox.clone());
    spawn_node(
        settings(id, data),
        inbox,
        MemoryNetwork::transport(network, id),
    )
    .unwrap()
}

/// Waits for exactly one node to lead, and returns it.
fn await_leader(nodes: impl Fn() -> Vec<(u64, Role)>, within: Duration) -> u64 {
    let started = Instant::now();
    loop {
        let leaders: Vec<u64> = nodes()
            .into_iter()
            .filter(|&(_, role)| role == Role::Leader)
            .map(|(id, _)| id)
            .collect();
        if let [leader] = leaders[..] {
            return leader;
        }
        assert!(
            started.elapsed() < within,
            "no single leader within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn write(key: &str, value: u64, sequence: u64) -> ClientRequest {
    ClientRequest {
        id: RequestId {
            client: 1,
            sequence,
        },
        operation: Operation::Write {
            key: key.to_owned(),
            value,
        },
    }
}

#[test]
fn an_in_memory_cluster_elects_commits_and_fails_over() {
    let data = temp_dir("memory");
    let network = MemoryNetwork::new();
    let mut nodes: BTreeMap<u64, NodeHandle> = MEMBERS
        .iter()
        .map(|&id| (id, start_memory_node(&network, id, &data)))
        .collect();
    let roles = |nodes: &BTreeMap<u64, NodeHandle>| {
        nodes
            .iter()
            .filter_map(|(&id, node)| node.status().role.map(|role| (id, role)))
            .collect::<Vec<_>>()
    };
    let leader = await_leader(|| roles(&nodes), Duration::from_secs(5));
    let reply = request(
        &nodes[&leader].inbox,
        write("x", 1, 1),
        Duration::from_secs(2),
    )
    .expect("the leader replies");
    assert_eq!(reply.result, Ok(Outcome::Written));
    // A follower refuses writes and names the leader.
    let follower = *MEMBERS.iter().find(|&&id| id != leader).unwrap();
    let reply = request(
        &nodes[&follower].inbox,
        write("x", 2, 2),
        Duration::from_secs(2),
    )
    .expect("a follower replies");
    assert_eq!(
        reply.result,
        Err(electorate::core::ClientError::NotLeader {
            leader_hint: Some(leader)
        })
    );

    // Stop the leader: the others elect a new one that still has the write.
    network.detach(leader);
    nodes.remove(&leader).unwrap().stop().unwrap();
    let new_leader = await_leader(|| roles(&nodes), Duration::from_secs(5));
    assert_ne!(new_leader, leader);
    let read = ClientRequest {
        id: RequestId {
            client: 1,
            sequence: 3,
        },
        operation: Operation::Read { key: "x".into() },
    };
    let reply = request(&nodes[&new_leader].inbox, read, Duration::from_secs(2)).unwrap();
    assert_eq!(reply.result, Ok(Outcome::Read(Some(1))));

    // The old leader restarts from its disk and catches up as a follower.
    let restarted = start_memory_node(&network, leader, &data);
    nodes.insert(leader, restarted);
    let started = Instant::now();
    while nodes[&leader].status().commit_index < nodes[&new_leader].status().commit_index {
        assert!(started.elapsed() < Duration::from_secs(5), "no catch-up");
        std::thread::sleep(Duration::from_millis(5));
    }
    for node in nodes.into_values() {
        node.stop().unwrap();
    }
    let _ = std::fs::remove_dir_all(&data);
}

/// Polls `condition` every few milliseconds until it holds, for `within`.
fn eventually(within: Duration, condition: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while !condition() {
        if started.elapsed() > within {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// A loop that cannot persist must stop, and say so: the `electorate node`
/// command waits on `has_stopped` to exit with the loop's error, and a loop
/// that carried on after a failed fsync would acknowledge what is not on disk.
#[test]
fn a_node_whose_fsync_fails_stops_and_reports_the_storage_error() {
    let disk = SimDisk::new();
    let mut settings = settings(1, Path::new("unused: the disk is simulated"));
    settings.members = vec![1];
    let (storage, recovered) = Log::open(disk.clone(), settings.identity()).unwrap();
    let network = MemoryNetwork::new();
    let inbox = Arc::new(Mailbox::new(INBOX_CAPACITY));
    network.attach(1, inbox.clone());
    let node = spawn_node_on(
        settings,
        storage,
        recovered,
        Instant::now(),
        inbox,
        MemoryNetwork::transport(&network, 1),
    )
    .unwrap();
    await_leader(
        || {
            node.status()
                .role
                .map(|role| (1, role))
                .into_iter()
                .collect()
        },
        Duration::from_secs(5),
    );
    let reply = request(&node.inbox, write("x", 1, 1), Duration::from_secs(2));
    assert_eq!(
        reply.expect("the leader replies").result,
        Ok(Outcome::Written)
    );
    assert!(
        !node.has_stopped(),
        "a healthy loop that serves writes runs on"
    );

    disk.set_faults(SimFaults {
        fail_next_sync: true,
        ..SimFaults::default()
    });
    let reply = request(&node.inbox, write("x", 2, 2), Duration::from_secs(2));
    assert!(
        reply.is_none_or(|reply| reply.result != Ok(Outcome::Written)),
        "a write whose fsync failed is never acknowledged"
    );
    assert!(
        eventually(Duration::from_secs(5), || node.has_stopped()),
        "the loop stops once its fsync fails"
    );
    match node.stop() {
        Err(DriverError::Storage { id: 1, .. }) => {}
        other => panic!("the loop's storage error is what stop returns, got {other:?}"),
    }
}

struct TcpTestCluster {
    nodes: BTreeMap<u64, TcpNode>,
    cluster: TcpCluster,
    data: std::path::PathBuf,
}

fn start_tcp_cluster(name: &str) -> TcpTestCluster {
    let data = temp_dir(name);
    let listeners: BTreeMap<u64, TcpListener> = MEMBERS
        .iter()
        .map(|&id| (id, TcpListener::bind("127.0.0.1:0").unwrap()))
        .collect();
    let cluster = TcpCluster {
        cluster_id: 42,
        addresses: listeners
            .iter()
            .map(|(&id, listener)| (id, listener.local_addr().unwrap()))
            .collect(),
    };
    let nodes = listeners
        .into_iter()
        .map(|(id, listener)| {
            let node = TcpNode::start(settings(id, &data), listener, &cluster).unwrap();
            (id, node)
        })
        .collect();
    TcpTestCluster {
        nodes,
        cluster,
        data,
    }
}

impl TcpTestCluster {
    fn leader(&self) -> u64 {
        await_leader(
            || {
                self.nodes
                    .iter()
                    .filter_map(|(&id, node)| node.node.status().role.map(|role| (id, role)))
                    .collect()
            },
            Duration::from_secs(5),
        )
    }

    fn client(&self, id: u64) -> Client {
        Client::new(
            self.cluster.cluster_id,
            self.cluster.addresses.clone(),
            id,
            Duration::from_secs(3),
        )
    }

    fn stop(self) {
        for node in self.nodes.into_values() {
            node.stop().unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[test]
fn a_tcp_cluster_serves_a_client_that_follows_leader_hints() {
    let cluster = start_tcp_cluster("tcp");
    let leader = cluster.leader();
    let mut client = cluster.client(7);
    for value in 1..=20 {
        let written = client.write("k", value).unwrap();
        assert_eq!(written.by, leader);
    }
    let read = client.read("k").unwrap();
    assert_eq!(read.outcome, Outcome::Read(Some(20)));
    let swapped = client.compare_and_set("k", Some(20), 21).unwrap();
    assert_eq!(swapped.outcome, Outcome::CompareAndSet { swapped: true });
    let refused = client.compare_and_set("k", Some(20), 22).unwrap();
    assert_eq!(refused.outcome, Outcome::CompareAndSet { swapped: false });
    cluster.stop();
}

/// Sends `bytes` on a fresh connection to `node` and reports whether the
/// node closed it (end of stream or reset) within a second.
fn closes_connection_after(node: &TcpNode, bytes: &[u8]) -> bool {
    let mut stream = TcpStream::connect(node.address()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let _ = stream.write_all(bytes);
    let mut buffer = [0u8; 64];
    match stream.read(&mut buffer) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => matches!(
            error.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
        ),
    }
}

#[test]
fn bad_input_on_a_socket_closes_that_connection_and_nothing_else() {
    let cluster = start_tcp_cluster("bad-input");
    let leader = cluster.leader();
    let node = &cluster.nodes[&leader];
    let heartbeat = |sender| Frame {
        sender,
        payload: Payload::Raft(Message {
            term: Term::new(1),
            body: Body::HeartbeatResponse(HeartbeatResponse {
                round: Round::new(1),
            }),
        }),
    };
    let ours = Codec::new(cluster.cluster.cluster_id);
    let refused_before = node.inbound.refused.load(Ordering::Relaxed);

    let garbage = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n-------".to_vec();
    assert!(closes_connection_after(node, &garbage), "garbage");
    let stranger = ours.encode_to_vec(&heartbeat(99)).unwrap();
    assert!(closes_connection_after(node, &stranger), "non-member");
    let itself = ours.encode_to_vec(&heartbeat(leader)).unwrap();
    assert!(closes_connection_after(node, &itself), "own id");
    let other_cluster = Codec::new(7).encode_to_vec(&heartbeat(2)).unwrap();
    assert!(
        closes_connection_after(node, &other_cluster),
        "other cluster"
    );
    // A header announcing a body larger than the codec accepts: refused
    // before a byte of the body is read or allocated.
    let mut oversize = ours.encode_to_vec(&heartbeat(2)).unwrap();
    oversize[22..26].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(closes_connection_after(node, &oversize), "oversize");
    // A client that then claims to be a member.
    let mut switching = ours
        .encode_to_vec(&Frame {
            sender: 0,
            payload: Payload::ClientRequest(write("k", 1, 1)),
        })
        .unwrap();
    switching.extend(ours.encode_to_vec(&heartbeat(2)).unwrap());
    assert!(closes_connection_after(node, &switching), "identity change");

    let started = Instant::now();
    while node.inbound.refused.load(Ordering::Relaxed) < refused_before + 6 {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "refusals not counted"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The node never noticed: still the leader, still serving.
    assert_eq!(cluster.leader(), leader);
    let mut client = cluster.client(8);
    assert_eq!(client.write("k", 5).unwrap().by, leader);
    cluster.stop();
}

#[test]
fn a_restarted_tcp_node_is_redialled_and_catches_up() {
    let mut cluster = start_tcp_cluster("redial");
    let leader = cluster.leader();
    let follower = *MEMBERS.iter().find(|&&id| id != leader).unwrap();
    let address = cluster.cluster.addresses[&follower];
    cluster.nodes.remove(&follower).unwrap().stop().unwrap();

    // While it is down the leader's link to it fails and backs off.
    let mut client = cluster.client(9);
    for value in 1..=30 {
        client.write("r", value).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));

    let listener = TcpListener::bind(address).unwrap();
    let restarted = TcpNode::start(
        settings(follower, &cluster.data),
        listener,
        &cluster.cluster,
    )
    .unwrap();
    cluster.nodes.insert(follower, restarted);
    let target = cluster.nodes[&leader].node.status().commit_index;
    let started = Instant::now();
    while cluster.nodes[&follower].node.status().commit_index < target {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the restarted node was not redialled"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    cluster.stop();
}

/// Real `electorate node` processes with `--metrics-listen`, killed when
/// dropped.
struct NodeProcesses {
    children: Vec<std::process::Child>,
    metrics: BTreeMap<u64, std::net::SocketAddr>,
    addresses: BTreeMap<u64, std::net::SocketAddr>,
    data: std::path::PathBuf,
}

impl Drop for NodeProcesses {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn start_node_processes(name: &str) -> NodeProcesses {
    start_node_processes_with(name, |_| Vec::new())
}

/// [`start_node_processes`], each node with the flags `extra` gives it.
fn start_node_processes_with(name: &str, extra: impl Fn(u64) -> Vec<String>) -> NodeProcesses {
    use electorate::driver::cluster::processes::Launch;
    let data = temp_dir(name);
    let addresses = Launch::free_addresses(MEMBERS.len()).unwrap();
    let metrics = Launch::free_addresses(MEMBERS.len()).unwrap();
    let children = MEMBERS
        .iter()
        .map(|&id| {
            node_command(&data, &addresses, &metrics, id)
                .args(extra(id))
                .spawn()
                .unwrap()
        })
        .collect();
    NodeProcesses {
        children,
        metrics,
        addresses,
        data,
    }
}

/// The command that runs node `id` of the processes' cluster.
fn node_command(
    data: &Path,
    addresses: &BTreeMap<u64, std::net::SocketAddr>,
    metrics: &BTreeMap<u64, std::net::SocketAddr>,
    id: u64,
) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_electorate"));
    command
        .args(["node", "--id", &id.to_string()])
        .args(["--listen", &addresses[&id].to_string()])
        .args(["--metrics-listen", &metrics[&id].to_string()])
        .arg("--data-dir")
        .arg(data.join(format!("node-{id}")))
        .args(["--seed", &id.to_string()])
        .stdout(std::process::Stdio::null());
    for (&peer, address) in addresses.iter().filter(|(&peer, _)| peer != id) {
        command.arg("--peer").arg(format!("{peer}={address}"));
    }
    command
}

/// Node `id` started again on its data directory, with default flags.
fn restart_node_process(nodes: &NodeProcesses, id: u64) -> std::process::Child {
    node_command(&nodes.data, &nodes.addresses, &nodes.metrics, id)
        .spawn()
        .unwrap()
}

impl NodeProcesses {
    /// Every node's scrape, waiting for each endpoint to come up.
    fn scrape_all(&self) -> BTreeMap<u64, Samples> {
        self.metrics
            .iter()
            .map(|(&id, &address)| {
                let started = Instant::now();
                loop {
                    match scrape(address, Duration::from_secs(2)) {
                        Ok(samples) => return (id, samples),
                        Err(error) if started.elapsed() > Duration::from_secs(10) => {
                            panic!("node {id}: {error}")
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
            })
            .collect()
    }
}

fn value(samples: &Samples, name: &str) -> f64 {
    samples
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"))
}

fn peer_value(samples: &Samples, name: &str, peer: u64) -> f64 {
    samples
        .all(name)
        .find(|(key, _)| key.label("peer") == Some(&peer.to_string()))
        .map_or(0.0, |(_, value)| value)
}

#[test]
fn a_node_process_serves_metrics_that_move_as_the_cluster_elects_and_commits() {
    let nodes = start_node_processes("metrics");
    let mut client = Client::new(1, nodes.addresses.clone(), 5, Duration::from_secs(5));
    // The first write waits for the election.
    client.write("m", 0).unwrap();
    let before = nodes.scrape_all();
    let leaders: Vec<u64> = before
        .iter()
        .filter(|(_, samples)| value(samples, "electorate_is_leader") == 1.0)
        .map(|(&id, _)| id)
        .collect();
    let [leader] = leaders[..] else {
        panic!("one leader expected, the nodes say {leaders:?}")
    };
    let won: f64 = before
        .values()
        .map(|samples| value(samples, "electorate_elections_won_total"))
        .sum();
    assert_eq!(won, 1.0, "one election won so far");
    assert!(value(&before[&leader], "electorate_elections_total") >= 1.0);
    for samples in before.values() {
        assert!(value(samples, "electorate_term") >= 1.0);
        assert_eq!(value(samples, "electorate_leader_changes_total"), 1.0);
    }
    for value in 1..=20 {
        client.write("m", value).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let after = nodes.scrape_all();
    let (then, now) = (&before[&leader], &after[&leader]);
    for name in [
        "electorate_commit_index",
        "electorate_applied_index",
        "electorate_write_latency_seconds_count",
        "electorate_fsync_latency_seconds_count",
    ] {
        assert!(
            value(now, name) >= value(then, name) + 20.0,
            "{name}: {} then, {} now",
            value(then, name),
            value(now, name)
        );
    }
    assert_eq!(value(now, "electorate_lease_valid"), 1.0);
    let expiry = value(now, "electorate_lease_expiry_seconds");
    assert!(value(now, "electorate_lease_start_seconds") < expiry);
    assert!(
        expiry > value(now, "electorate_start_time_seconds"),
        "the lease is on the same clock as the start"
    );
    for &peer in MEMBERS.iter().filter(|&&peer| peer != leader) {
        let sent = peer_value(now, "electorate_heartbeats_sent_total", peer);
        let acked = peer_value(now, "electorate_heartbeat_acks_total", peer);
        assert!(
            sent > peer_value(then, "electorate_heartbeats_sent_total", peer),
            "heartbeats to {peer} keep going"
        );
        assert!(
            acked > 0.0 && acked <= sent,
            "{acked} acks of {sent} to {peer}"
        );
        assert!(value(&after[&peer], "electorate_commit_index") >= 21.0 - 1.0);
    }
}

/// Waits until `done` holds for node `id`'s scrape, or panics with `what`.
fn await_scrape(
    nodes: &NodeProcesses,
    id: u64,
    what: &str,
    done: impl Fn(&Samples) -> bool,
) -> Samples {
    let started = Instant::now();
    loop {
        if let Ok(samples) = scrape(nodes.metrics[&id], Duration::from_secs(2)) {
            if done(&samples) {
                return samples;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "node {id}: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `POST /snapshot` asks a node for a snapshot now: it answers 202, takes
/// the snapshot at the applied index, and its log file shrinks to what
/// came after. A policy of `--snapshot-every 10` compacts by itself, and a
/// node restarted from disk replays only the records after its snapshot.
#[test]
fn an_operator_snapshot_and_the_policy_compact_the_log_and_bound_the_replay() {
    let nodes = start_node_processes_with("snapshot", |id| {
        if id == 3 {
            vec!["--snapshot-every".into(), "10".into()]
        } else {
            Vec::new()
        }
    });
    let mut client = Client::new(1, nodes.addresses.clone(), 5, Duration::from_secs(5));
    for value in 0..=40 {
        client.write(&format!("s{}", value % 7), value).unwrap();
    }
    // Node 1 takes none by itself: its log holds every record so far.
    let before = await_scrape(&nodes, 1, "applies the writes", |samples| {
        value(samples, "electorate_applied_index") >= 41.0
    });
    assert_eq!(value(&before, "electorate_snapshots_taken_total"), 0.0);
    let log_before = value(&before, "electorate_log_size_bytes");
    let applied = value(&before, "electorate_applied_index");

    let url = format!("http://{}/snapshot", nodes.metrics[&1]);
    let response = minreq::post(&url).with_timeout(5).send().unwrap();
    assert_eq!(
        response.status_code,
        202,
        "{}",
        response.as_str().unwrap_or("")
    );
    let after = await_scrape(&nodes, 1, "takes the snapshot", |samples| {
        value(samples, "electorate_snapshots_taken_total") == 1.0
    });
    assert!(value(&after, "electorate_snapshot_index") >= applied);
    let log_after = value(&after, "electorate_log_size_bytes");
    assert!(
        log_after < log_before / 2.0,
        "the log is compacted: {log_before} bytes before, {log_after} after"
    );
    let unknown = minreq::get(format!("http://{}/nothing", nodes.metrics[&1]))
        .with_timeout(5)
        .send()
        .unwrap();
    assert_eq!(unknown.status_code, 404);

    // Node 3 snapshots every 10 applied entries by itself.
    let policy = await_scrape(&nodes, 3, "takes snapshots by policy", |samples| {
        value(samples, "electorate_snapshots_taken_total") >= 4.0
    });
    assert!(value(&policy, "electorate_snapshot_index") >= 40.0);

    // Node 1, restarted, replays only what followed its snapshot.
    let mut nodes = nodes;
    nodes.children[0].kill().unwrap();
    nodes.children[0].wait().unwrap();
    nodes.children[0] = restart_node_process(&nodes, 1);
    let restarted = await_scrape(&nodes, 1, "restarts", |_| true);
    let replayed = value(&restarted, "electorate_recovered_records");
    assert!(
        replayed < 10.0,
        "{replayed} records replayed after a snapshot at {applied}"
    );
    assert!(value(&restarted, "electorate_recovery_seconds") > 0.0);
}
