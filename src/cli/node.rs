//! `electorate node`: one Raft node as its own process, on TCP, with its
//! data in a directory — so a cluster can span processes and machines.
//!
//! ```sh
//! electorate node --id 1 --listen 127.0.0.1:7001 --data-dir data/1 \
//!     --peer 2=127.0.0.1:7002 --peer 3=127.0.0.1:7003 \
//!     --metrics-listen 127.0.0.1:9101 --config node.toml
//! ```
//!
//! Timings and limits come from the flags, then the `--config` file, then
//! the defaults (see [`electorate::driver::tuning`]).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use electorate::driver::mailbox::{Mailbox, PushError};
use electorate::driver::metrics::server::{MetricsServer, SnapshotTrigger};
use electorate::driver::node::{NodeInput, NodeSettings};
// The driver's `Arc` (loom's under `--cfg loom`), as its inbox is shared.
use electorate::driver::sync::Arc;
use electorate::driver::tcp::{TcpCluster, TcpNode};
use electorate::driver::tuning::{Tuned, Tuning};

use super::logging;

#[derive(clap::Args)]
pub struct Args {
    /// This node's id (a positive integer, unique in the cluster).
    #[arg(long)]
    id: u64,
    /// Where to listen for peers and clients.
    #[arg(long)]
    listen: SocketAddr,
    /// Every other member, as `ID=HOST:PORT`; repeat for each.
    #[arg(long = "peer", value_parser = parse_peer)]
    peers: Vec<(u64, SocketAddr)>,
    /// The node's durable state (created if missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// Frames of another cluster id are refused, and so is a data
    /// directory of another cluster.
    #[arg(long, default_value_t = 1)]
    cluster_id: u64,
    /// Keep writes in memory until they are fsynced, so that a SIGKILL
    /// loses every unsynced write as a power loss could (lazyfs-style; for
    /// crash tests).
    #[arg(long)]
    lazy_disk: bool,
    /// Fault injection, for testing: delay each fsync of the node's data
    /// files by this many milliseconds, as a slow disk would (a leader on
    /// it should hand over; see the health settings).
    #[arg(long, value_name = "MS")]
    slow_fsync_ms: Option<u64>,
    /// Seeds the election jitter (printed when drawn).
    #[arg(long)]
    seed: Option<u64>,
    /// Log through `tracing` with this filter (`info`, `debug`, ...);
    /// otherwise `ELECTORATE_LOG` decides.
    #[arg(long, num_args = 0..=1, default_missing_value = "info")]
    log: Option<String>,
    /// Take control lines on stdin (`block ID...` cuts this node off from
    /// those peers, `heal` reconnects) and exit when stdin closes:
    /// `electorate cluster` partitions nodes this way, and no node outlives
    /// it.
    #[arg(long)]
    control_stdin: bool,
    /// Serve `GET /metrics` (Prometheus text format) on this address.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// A TOML file of timings and limits; flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    tuning: Tuning,
}

fn parse_peer(text: &str) -> Result<(u64, SocketAddr), String> {
    let (id, address) = text
        .split_once('=')
        .ok_or_else(|| format!("expected ID=HOST:PORT, got {text:?}"))?;
    let id = id
        .parse()
        .map_err(|_| format!("bad node id {id:?} in {text:?}"))?;
    let address = address
        .parse()
        .map_err(|error| format!("bad address {address:?}: {error}"))?;
    Ok((id, address))
}

pub fn run(args: Args) -> ExitCode {
    logging::init(args.log.as_deref());
    let seed = args.seed.unwrap_or_else(logging::fresh_seed);
    let mut addresses: BTreeMap<u64, SocketAddr> = args.peers.iter().copied().collect();
    if addresses.len() != args.peers.len() || addresses.contains_key(&args.id) {
        eprintln!("error: each --peer must name a distinct node other than --id");
        return ExitCode::from(2);
    }
    addresses.insert(args.id, args.listen);
    let members: Vec<u64> = addresses.keys().copied().collect();
    let tuned = match &args.config {
        Some(path) => Tuning::from_file(path).map(|file| args.tuning.over(&file)),
        None => Ok(args.tuning.clone()),
    }
    .and_then(|tuning| tuning.resolve(args.id, &members));
    let Tuned {
        config,
        limits,
        health,
    } = match tuned {
        Ok(tuned) => tuned,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let settings = NodeSettings {
        id: args.id,
        members,
        config,
        data_dir: args.data_dir.clone(),
        seed,
        cluster_id: args.cluster_id,
        lazy_disk: args.lazy_disk,
        health,
        slow_fsync: Duration::from_millis(args.slow_fsync_ms.unwrap_or(0)),
    };
    let listener = match TcpListener::bind(args.listen) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {}: {error}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let cluster = TcpCluster {
        cluster_id: args.cluster_id,
        addresses,
    };
    let node = match TcpNode::start_with(settings, listener, &cluster, limits) {
        Ok(node) => node,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "node {} listening on {} (cluster {}, {} members, seed {seed}, data {})",
        args.id,
        node.address(),
        args.cluster_id,
        cluster.addresses.len(),
        args.data_dir.display()
    );
    // Kept alive until the node stops; dropping it stops the endpoint.
    let _metrics_server = match args.metrics_listen {
        Some(address) => match MetricsServer::start(
            address,
            node.node.metrics.clone(),
            Some(snapshot_trigger(&node.node.inbox)),
        ) {
            Ok(server) => {
                println!("metrics on http://{}/metrics", server.address());
                Some(server)
            }
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let _ = std::io::stdout().flush();
    if args.control_stdin {
        let partition = node.partition.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if let Err(error) = partition.apply_command(&line) {
                    eprintln!("error: {error}");
                }
            }
            std::process::exit(0);
        });
    }
    while !node.node.has_stopped() {
        std::thread::sleep(Duration::from_millis(200));
    }
    // The loop only stops by itself on a storage failure.
    match node.stop() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `POST /snapshot`: queues the operator's request in the node's inbox.
fn snapshot_trigger(inbox: &Arc<Mailbox<NodeInput>>) -> SnapshotTrigger {
    let inbox = Arc::clone(inbox);
    Box::new(move || {
        inbox
            .push(NodeInput::Snapshot)
            .map_err(|error| match error {
                PushError::Full(_) => "the node's inbox is full; try again".to_owned(),
                PushError::Closed(_) => "the node has stopped".to_owned(),
            })
    })
}
