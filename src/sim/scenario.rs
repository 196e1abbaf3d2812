//! The scenario language: commands that drive a [`Cluster`] step by step and
//! print what happened, in the style of etcd's datadriven tests. Test files
//! in `tests/testdata/` pair each command with its expected output;
//! `REWRITE=1 cargo test --test scenarios` rewrites the expectations when
//! behaviour changes on purpose.
//!
//! Commands (`N` is a node id; durations like `150ms`, `2s`):
//!
//! | command | effect |
//! |---|---|
//! | `cluster nodes=3 [seed=1] [pre-vote=true] [check-quorum=true] [lease=true] [lease-duration=100ms] [drift=50ms] [max-entries=64] [latency=1ms]` | a new cluster |
//! | `campaign N` | N starts an election now |
//! | `tick N` | N handles its due timers |
//! | `elapse 150ms` | time passes, timers fire, messages stay in flight |
//! | `run 2s` | time passes with a working network (messages arrive after `latency`) |
//! | `deliver [from=N] [to=N] [nth=K]` | deliver the messages in flight now (only the K-th match, with `nth`) |
//! | `drop [from=N] [to=N] [nth=K]` | lose the messages in flight now |
//! | `stabilize` | deliver until no message is left (time stands still) |
//! | `partition` + input `1 2 3 \| 4 5` | only links within a group are up |
//! | `connect` + input `1-2 2-3` | only these links are up (both directions) |
//! | `cut from=N to=M`, `isolate N`, `heal` | link faults |
//! | `crash N`, `restart N` | lose volatile state; restart from durable state |
//! | `clock N rate-ppm=R` | N's clock runs `R` parts per million fast (negative: slow) |
//! | `write N key=x value=1`, `cas N key=x expected=1 new=2`, `read N key=x` | client operations |
//! | `transfer N to=M` | leader N hands over to M |
//! | `status`, `logs`, `leases`, `kv N` | print state |

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Duration;

use crate::core::client::{ClientError, Operation, Outcome};
use crate::core::node::{Event, Node, NodeId};
use crate::core::raft::Config;
use crate::sim::cluster::{Cluster, Envelope, Trace};
use crate::sim::units::parse_duration;

/// Arguments of one directive: `name=value` pairs, and bare words (like a
/// node id) as names without values.
pub type Args = HashMap<String, Vec<String>>;

/// Runs scenario commands against one cluster at a time.
#[derive(Default)]
pub struct Scenario {
    cluster: Option<Cluster>,
}

impl Scenario {
    pub fn new() -> Scenario {
        Scenario::default()
    }

    pub fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    /// Runs one command and returns its output (never empty: `ok` when the
    /// command printed nothing). Errors in the command itself are returned
    /// as output starting with `error:`, so a broken scenario fails loudly.
    pub fn execute(&mut self, directive: &str, args: &mut Args, input: &str) -> String {
        let mut output = match self.dispatch(directive, args, input) {
            Ok(output) => output,
            Err(error) => format!("error: {error}\n"),
        };
        if let Some(unused) = args.keys().next() {
            output = format!("error: unused argument {unused}\n");
        }
        if output.is_empty() {
            output.push_str("ok\n");
        }
        output
    }

    fn dispatch(
        &mut self,
        directive: &str,
        args: &mut Args,
        input: &str,
    ) -> Result<String, String> {
        if directive == "cluster" {
            return self.new_cluster(args);
        }
        let cluster = self
            .cluster
            .as_mut()
            .ok_or("no cluster: start with `cluster`")?;
        match directive {
            "campaign" => cluster.campaign(node_arg(args, cluster)?),
            "tick" => cluster.tick(node_arg(args, cluster)?),
            "elapse" => cluster.elapse(duration_arg(args)?),
            "run" => {
                cluster.run_for(duration_arg(args)?);
                return Ok(render_trace(cluster, false));
            }
            "deliver" => {
                let select = envelope_filter(args)?;
                cluster.deliver(select);
            }
            "drop" => {
                let select = envelope_filter(args)?;
                let count = cluster.drop_messages(select);
                return Ok(format!("dropped {count}\n"));
            }
            "stabilize" => cluster.stabilize(1_000),
            "partition" => cluster.partition(&parse_groups(input)?),
            "connect" => cluster.connect_only(&parse_pairs(input)?),
            "cut" => {
                let from = take(args, "from")?.ok_or("cut needs from=N")?;
                let to = take(args, "to")?.ok_or("cut needs to=N")?;
                cluster.cut(from, to);
            }
            "isolate" => cluster.isolate(node_arg(args, cluster)?),
            "heal" => cluster.heal(),
            "crash" => cluster.crash(node_arg(args, cluster)?),
            "restart" => cluster.restart(node_arg(args, cluster)?),
            "clock" => {
                let id = node_arg(args, cluster)?;
                let rate = take(args, "rate-ppm")?.ok_or("clock needs rate-ppm=R")?;
                cluster.set_clock_rate(id, rate);
            }
            "write" | "cas" | "read" => {
                let id = node_arg(args, cluster)?;
                cluster.request(id, operation(directive, args)?);
            }
            "transfer" => {
                let id = node_arg(args, cluster)?;
                let to = take(args, "to")?.ok_or("transfer needs to=N")?;
                cluster.transfer(id, to);
            }
            "status" => return Ok(render_status(cluster)),
            "logs" => return Ok(render_logs(cluster)),
            "leases" => return Ok(render_leases(cluster)),
            "kv" => return Ok(render_kv(cluster, node_arg(args, cluster)?)),
            other => return Err(format!("unknown command {other}")),
        }
        Ok(render_trace(cluster, true))
    }

    fn new_cluster(&mut self, args: &mut Args) -> Result<String, String> {
        let nodes: u64 = take(args, "nodes")?.ok_or("cluster needs nodes=N")?;
        let seed: u64 = take(args, "seed")?.unwrap_or(1);
        let defaults = Config::default();
        let config = Config {
            pre_vote: take(args, "pre-vote")?.unwrap_or(defaults.pre_vote),
            check_quorum: take(args, "check-quorum")?.unwrap_or(defaults.check_quorum),
            lease_reads: take(args, "lease")?.unwrap_or(defaults.lease_reads),
            lease_duration: take_duration(args, "lease-duration")?
                .unwrap_or(defaults.lease_duration),
            clock_drift_bound: take_duration(args, "drift")?.unwrap_or(defaults.clock_drift_bound),
            max_entries_per_append: take(args, "max-entries")?
                .unwrap_or(defaults.max_entries_per_append),
            ..defaults
        };
        let latency = take_duration(args, "latency")?;
        let mut cluster = Cluster::new(nodes, config, seed).map_err(|error| error.to_string())?;
        if let Some(latency) = latency {
            cluster.set_latency(latency);
        }
        cluster.take_trace();
        self.cluster = Some(cluster);
        Ok(String::new())
    }
}

fn take<T: FromStr>(args: &mut Args, name: &str) -> Result<Option<T>, String>
where
    T::Err: std::fmt::Display,
{
    let Some(values) = args.remove(name) else {
        return Ok(None);
    };
    let [value] = values.as_slice() else {
        return Err(format!("{name} takes one value"));
    };
    value
        .parse()
        .map(Some)
        .map_err(|error| format!("bad {name}={value}: {error}"))
}

fn take_duration(args: &mut Args, name: &str) -> Result<Option<Duration>, String> {
    take::<String>(args, name)?
        .map(|text| parse_duration(&text))
        .transpose()
}

/// The bare word that names a node.
fn node_arg(args: &mut Args, cluster: &Cluster) -> Result<NodeId, String> {
    let word = args
        .iter()
        .find(|(name, values)| values.is_empty() && name.parse::<NodeId>().is_ok())
        .map(|(name, _)| name.clone())
        .ok_or("missing node id")?;
    args.remove(&word);
    let id: NodeId = word.parse().expect("checked numeric");
    if !cluster.members().contains(&id) {
        return Err(format!("no node {id}"));
    }
    Ok(id)
}

fn duration_arg(args: &mut Args) -> Result<Duration, String> {
    let word = args
        .iter()
        .find(|(name, values)| values.is_empty() && parse_duration(name).is_ok())
        .map(|(name, _)| name.clone())
        .ok_or("missing duration")?;
    args.remove(&word);
    parse_duration(&word)
}

/// `from=N`, `to=N`, and `nth=K` to pick only the K-th (from 1) of the
/// matching messages in send order, so a scenario can reorder a link.
fn envelope_filter(args: &mut Args) -> Result<impl Fn(&Envelope) -> bool, String> {
    let from: Option<NodeId> = take(args, "from")?;
    let to: Option<NodeId> = take(args, "to")?;
    let nth: Option<usize> = take(args, "nth")?;
    let seen = std::cell::Cell::new(0);
    Ok(move |envelope: &Envelope| {
        let matches =
            from.is_none_or(|from| envelope.from == from) && to.is_none_or(|to| envelope.to == to);
        if !matches {
            return false;
        }
        seen.set(seen.get() + 1);
        nth.is_none_or(|nth| seen.get() == nth)
    })
}

fn operation(directive: &str, args: &mut Args) -> Result<Operation, String> {
    let key: String = take(args, "key")?.ok_or("needs key=K")?;
    match directive {
        "read" => Ok(Operation::Read { key }),
        "write" => {
            let value = take(args, "value")?.ok_or("write needs value=V")?;
            Ok(Operation::Write { key, value })
        }
        _ => {
            let expected: String = take(args, "expected")?.ok_or("cas needs expected=V|nil")?;
            let expected = match expected.as_str() {
                "nil" => None,
                text => Some(text.parse().map_err(|_| format!("bad expected={text}"))?),
            };
            let new = take(args, "new")?.ok_or("cas needs new=V")?;
            Ok(Operation::CompareAndSet { key, expected, new })
        }
    }
}

fn parse_ids(text: &str) -> Result<Vec<NodeId>, String> {
    text.split_whitespace()
        .map(|word| word.parse().map_err(|_| format!("bad node id {word}")))
        .collect()
}

fn parse_groups(input: &str) -> Result<Vec<Vec<NodeId>>, String> {
    input.split('|').map(parse_ids).collect()
}

fn parse_pairs(input: &str) -> Result<Vec<(NodeId, NodeId)>, String> {
    input
        .split_whitespace()
        .map(|pair| {
            let (a, b) = pair.split_once('-').ok_or(format!("bad link {pair}"))?;
            let parse = |id: &str| id.parse().map_err(|_| format!("bad link {pair}"));
            Ok((parse(a)?, parse(b)?))
        })
        .collect()
}

/// Renders the trace since the last command. `messages`: show every
/// delivered and lost message (manual delivery) or only what the nodes did
/// (`run`, where messages are too many to read).
fn render_trace(cluster: &mut Cluster, messages: bool) -> String {
    let mut output = String::new();
    for (time, trace) in cluster.take_trace() {
        let line = match &trace {
            Trace::Delivered(envelope) if messages => {
                format!("{}->{} {}", envelope.from, envelope.to, envelope.message)
            }
            Trace::Lost { envelope, why } if messages => format!(
                "{}->{} {} LOST ({why})",
                envelope.from, envelope.to, envelope.message
            ),
            Trace::Delivered(_) | Trace::Lost { .. } => continue,
            Trace::Node { id, event } => match render_event(*id, event, messages) {
                Some(line) => line,
                None => continue,
            },
            Trace::Reply { node, reply } => {
                let result = match &reply.result {
                    Ok(outcome) => render_outcome(outcome),
                    Err(error) => render_error(error),
                };
                format!("  {node}: reply {}: {result}", reply.id)
            }
            Trace::Crashed(id) => format!("{id} crashed"),
            Trace::Restarted(id) => format!("{id} restarted"),
            Trace::Violation(violation) => format!("VIOLATION {violation}"),
        };
        if messages {
            writeln!(output, "{line}").expect("write to string");
        } else {
            writeln!(output, "[{time}] {}", line.trim_start()).expect("write to string");
        }
    }
    output
}

fn render_event(id: NodeId, event: &Event, verbose: bool) -> Option<String> {
    match event {
        Event::RoleChanged { role, term } => Some(format!("  {id}: became {role} term={term}")),
        Event::LeaderChanged { leader, term } => {
            let leader = leader.map_or("none".to_owned(), |leader| leader.to_string());
            Some(format!("  {id}: leader={leader} term={term}"))
        }
        Event::Dropped { from, reason } if verbose => {
            let from = from.map_or(String::new(), |from| format!(" from {from}"));
            Some(format!("  {id}: dropped{from}: {reason}"))
        }
        Event::Dropped { .. } => None,
    }
}

fn render_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Read(Some(value)) => format!("read {value}"),
        Outcome::Read(None) => "read nil".to_owned(),
        Outcome::Written => "written".to_owned(),
        Outcome::CompareAndSet { swapped: true } => "cas ok".to_owned(),
        Outcome::CompareAndSet { swapped: false } => "cas failed".to_owned(),
    }
}

fn render_error(error: &ClientError) -> String {
    match error {
        ClientError::NotLeader { leader_hint } => {
            let hint = leader_hint.map_or("none".to_owned(), |hint| hint.to_string());
            format!("not leader (hint {hint})")
        }
        ClientError::TransferInProgress => "transfer in progress".to_owned(),
        ClientError::LeadershipLost => "leadership lost (outcome unknown)".to_owned(),
    }
}

fn render_status(cluster: &Cluster) -> String {
    let mut output = String::new();
    for &id in cluster.members() {
        let Some(node) = cluster.node(id) else {
            writeln!(output, "{id}: down").expect("write to string");
            continue;
        };
        let leader = node
            .leader()
            .map_or("none".to_owned(), |leader| leader.to_string());
        let log = node.log();
        write!(
            output,
            "{id}: {} term={} leader={leader} commit={} last={}/{}",
            node.role(),
            node.term(),
            node.commit_index(),
            log.last_term(),
            log.last_index()
        )
        .expect("write to string");
        if node.holds_lease(cluster.local_time(id)) {
            output.push_str(" lease");
        }
        output.push('\n');
    }
    output
}

fn render_logs(cluster: &Cluster) -> String {
    let mut output = String::new();
    for &id in cluster.members() {
        let entries = match cluster.node(id) {
            Some(node) => node.log().entries().to_vec(),
            None => cluster
                .durable(id)
                .map(|durable| durable.log.clone())
                .unwrap_or_default(),
        };
        let rendered: Vec<String> = entries.iter().map(ToString::to_string).collect();
        writeln!(output, "{id}: [{}]", rendered.join(", ")).expect("write to string");
    }
    output
}

fn render_leases(cluster: &Cluster) -> String {
    let holders: Vec<String> = cluster
        .members()
        .iter()
        .filter(|&&id| {
            cluster
                .node(id)
                .is_some_and(|node| node.holds_lease(cluster.local_time(id)))
        })
        .map(ToString::to_string)
        .collect();
    if holders.is_empty() {
        "no lease\n".to_owned()
    } else {
        format!("lease held by {}\n", holders.join(", "))
    }
}

fn render_kv(cluster: &Cluster, id: NodeId) -> String {
    let Some(node) = cluster.node(id) else {
        return format!("{id}: down\n");
    };
    let pairs: Vec<String> = node
        .kv()
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    format!("{{{}}}\n", pairs.join(", "))
}
