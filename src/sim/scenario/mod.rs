//! The scenario language: commands that drive a [`Cluster`] of any
//! algorithm step by step and print what happened, in the style of etcd's
//! datadriven tests. Test files in `tests/testdata/<algorithm>/` pair each
//! command with its expected output;
//! `REWRITE=1 cargo test --test scenarios` rewrites the expectations when
//! behaviour changes on purpose.
//!
//! Commands (`N` is a node id; durations like `150ms`, `2s`; `elapse` and `run` take at most 600s):
//!
//! | command | effect |
//! |---|---|
//! | `cluster nodes=3 [algo=raft] [seed=1] [pre-vote=true] [check-quorum=true] [lease=true] [lease-duration=100ms] [drift=50ms] [max-entries=64] [snapshot-every=0] [latency=1ms]` | a new cluster of 1 to 9 nodes; `algo=bully` takes `seed`, `latency` and its timings `[heartbeat=50ms] [leader-timeout-min=150ms] [leader-timeout-max=300ms] [answer-timeout=50ms] [coordinator-timeout=100ms]`; `algo=ring` the same with `[ack-timeout=50ms]` for `answer-timeout` and a `coordinator-timeout` of 1s; `algo=lease-lock` and `algo=zk-sequential` take `seed`, `latency` and `[fencing=true]`, run the default timings, and add the lock service (store and fenced resource) as node `nodes+1`, which never crashes |
//! | `campaign N` | N starts an election now |
//! | `tick N` | N handles its due timers |
//! | `elapse 150ms` | time passes, timers fire, messages stay in flight |
//! | `run 2s` | time passes with a working network (messages arrive after `latency`) |
//! | `deliver [from=N] [to=N] [nth=K]` | deliver the messages in flight now (only the K-th match, with `nth`) |
//! | `drop [from=N] [to=N] [nth=K]` | lose the messages in flight now |
//! | `stabilize` | deliver until no message is left (time stands still) |
//! | `partition` + input `1 2 3 \| 4 5` | only links within a group are up (a node in no group is cut off) |
//! | `connect` + input `1-2 2-3` | only these links are up (both directions) |
//! | `cut from=N to=M`, `isolate N`, `heal` | link faults |
//! | `crash N`, `restart N` | lose volatile state; restart from durable state |
//! | `pause N`, `resume N` | N takes no step (timers, messages wait) until resumed, keeping its state while its clock runs on: a long GC pause |
//! | `clock N rate-ppm=R` | N's clock runs `R` parts per million fast (negative: slow, above -1000000); only before time passes |
//! | `write N key=x value=1`, `cas N key=x expected=1 new=2`, `read N key=x` | client operations |
//! | `transfer N to=M` | leader N hands over to M |
//! | `snapshot N` | an operator asks N (Raft) for a snapshot now, compacting its log through what it applied; `snapshot-every=K` takes one every K applied entries |
//! | `status`, `logs`, `leases`, `kv N` | print state |
//! | `expect leaders=3`, `expect N role=leader commit=2 snapshot=1`, `expect N key=x value=1`, `expect reply=2 outcome=read:1`, `expect violations=0` | the run stops here unless these hold ([`expect`]) |
//!
//! Bully and Ring keep no log, hold no lease and cannot transfer
//! leadership: `logs`, `leases` and `transfer` are refused on their
//! clusters ([`algorithms::Scripted::refuses`]).
//!
//! A case is read whole before it runs ([`command`]): arguments in the order
//! written, each checked, every node id a member. A bad case is refused
//! with its file and line and changes nothing; the file's run stops there
//! ([`replay`]).

pub mod algorithms;
pub mod command;
pub mod expect;
pub mod render;
pub mod replay;
pub mod script;

use algorithms::{with_cluster, AnyCluster, Scripted};
use command::{Command, Refusal};
use render::{render_kv, render_leases, render_logs, render_status, render_trace};
use script::Case;

use crate::sim::cluster::Cluster;

/// How many delivery rounds `stabilize` runs at most.
const STABILIZE_ROUNDS: usize = 1_000;

/// Runs scenario cases against one cluster at a time.
#[derive(Default)]
pub struct Scenario {
    cluster: Option<AnyCluster>,
}

impl Scenario {
    pub fn new() -> Scenario {
        Scenario::default()
    }

    pub fn cluster(&self) -> Option<&AnyCluster> {
        self.cluster.as_ref()
    }

    /// Runs one case and returns its output (never empty: `ok` when the
    /// command printed nothing). A refused case has changed nothing.
    pub fn execute(&mut self, case: &Case) -> Result<String, Refusal> {
        let command = Command::parse(case, self.cluster.as_ref())?;
        if let (Command::Expect(expectations), Some(cluster)) = (&command, &self.cluster) {
            // An outcome that does not hold stops the run like a refusal,
            // so no rewrite can record it as the expected output.
            with_cluster!(cluster, cluster => expect::check(cluster, expectations)).map_err(
                |message| Refusal {
                    line: case.line,
                    message,
                },
            )?;
            return Ok("ok\n".to_owned());
        }
        let mut output = self.run(command);
        if output.is_empty() {
            output.push_str("ok\n");
        }
        Ok(output)
    }

    /// Runs a checked command. Precondition: `Command::parse` accepted it
    /// against the current cluster, so a cluster exists unless it is
    /// `cluster`.
    fn run(&mut self, command: Command) -> String {
        if let Command::Cluster {
            nodes,
            seed,
            algorithm,
            latency,
        } = command
        {
            self.cluster = Some(AnyCluster::start(algorithm, nodes, seed, latency));
            return String::new();
        }
        let cluster = self
            .cluster
            .as_mut()
            .expect("parse refuses a command before `cluster`");
        with_cluster!(cluster, cluster => run_on(cluster, command))
    }
}

/// Runs a checked command other than `cluster` on `cluster`.
/// Precondition: `Command::parse` accepted it for this algorithm.
fn run_on<A: Scripted>(cluster: &mut Cluster<A>, command: Command) -> String {
    match command {
        Command::Cluster { .. } => unreachable!("handled by the caller"),
        Command::Campaign(id) => cluster.campaign(id),
        Command::Tick(id) => cluster.tick(id),
        Command::Elapse(duration) => cluster.elapse(duration),
        Command::Run(duration) => {
            cluster.run_for(duration);
            return render_trace(cluster, false);
        }
        Command::Deliver(filter) => {
            cluster.deliver(filter.select());
        }
        Command::Drop(filter) => {
            let count = cluster.drop_messages(filter.select());
            return format!("dropped {count}\n");
        }
        Command::Stabilize => cluster.stabilize(STABILIZE_ROUNDS),
        Command::Partition(groups) => cluster.partition(&groups),
        Command::Connect(pairs) => cluster.connect_only(&pairs),
        Command::Cut { from, to } => cluster.cut(from, to),
        Command::Isolate(id) => cluster.isolate(id),
        Command::Heal => cluster.heal(),
        Command::Crash(id) => cluster.crash(id),
        Command::Restart(id) => cluster.restart(id),
        Command::Pause(id) => cluster.pause(id),
        Command::Resume(id) => cluster.resume(id),
        Command::Clock { node, rate_ppm } => cluster.set_clock_rate(node, rate_ppm),
        Command::Request { node, operation } => {
            cluster.request(node, operation);
        }
        Command::Transfer { from, to } => cluster.transfer(from, to),
        Command::Snapshot(id) => {
            let said = A::snapshot_now(cluster, id);
            return render_trace(cluster, true) + &said;
        }
        Command::Status => return render_status(cluster),
        Command::Logs => return render_logs(cluster),
        Command::Leases => return render_leases(cluster),
        Command::Kv(id) => return render_kv(cluster, id),
        Command::Expect(_) => unreachable!("checked by the caller"),
    }
    render_trace(cluster, true)
}
