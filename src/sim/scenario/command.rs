//! Reading one scenario case into a [`Command`]: every argument is read in
//! the order written and checked (its name, its type, that a node id names
//! a member, that the clock and the durations make sense) before anything
//! runs, so a case that fails here has changed nothing.
//!
//! The checks go from the outside in, so the first problem reported is the
//! real one: an unknown command, then a missing cluster, then each argument
//! in order (unknown names and extra words included), then what the input
//! lines say.

use std::str::FromStr;
use std::time::Duration;

use crate::check::properties::{Kind, Property};
use crate::core::chassis::ConfigError;
use crate::core::client::{Operation, Value};
use crate::core::node::NodeId;
use crate::core::raft::{Config, MAX_MEMBERS};
use crate::core::time::Time;
use crate::sim::cluster::Envelope;
use crate::sim::scenario::algorithms::{AnyCluster, Choice, NAMES};
use crate::sim::scenario::expect::{parse_outcome, parse_role, Expectation};
use crate::sim::scenario::script::{Arg, Case};
use crate::sim::units::{format_duration, parse_duration};

/// The longest `elapse` or `run`: the cluster keeps a trace of every
/// message until the case prints, so one case must stay small. Longer runs
/// are several cases.
pub const MAX_DURATION: Duration = Duration::from_secs(600);

/// A command whose arguments have all been checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Cluster {
        nodes: u64,
        seed: u64,
        algorithm: Choice,
        latency: Option<Duration>,
    },
    Campaign(NodeId),
    Tick(NodeId),
    Elapse(Duration),
    Run(Duration),
    Deliver(Filter),
    Drop(Filter),
    Stabilize,
    Partition(Vec<Vec<NodeId>>),
    Connect(Vec<(NodeId, NodeId)>),
    Cut {
        from: NodeId,
        to: NodeId,
    },
    Isolate(NodeId),
    Heal,
    Crash(NodeId),
    Restart(NodeId),
    Pause(NodeId),
    Resume(NodeId),
    Clock {
        node: NodeId,
        rate_ppm: i64,
    },
    Request {
        node: NodeId,
        operation: Operation,
    },
    Transfer {
        from: NodeId,
        to: NodeId,
    },
    /// An operator asks the node for a snapshot now (Raft).
    Snapshot(NodeId),
    Status,
    Logs,
    Leases,
    Kv(NodeId),
    /// Outcomes that must hold now, or the run stops here.
    Expect(Vec<Expectation>),
}

/// Which messages in flight a `deliver` or `drop` picks: those `from` and
/// `to` the given nodes, and of them only the `nth` (from 1) in send order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<NodeId>,
    pub to: Option<NodeId>,
    pub nth: Option<usize>,
}

impl Filter {
    /// A predicate for [`Cluster::deliver`](crate::sim::cluster::Cluster::deliver):
    /// it counts the matches it sees, so it is built anew for each use.
    pub fn select<M>(self) -> impl Fn(&Envelope<M>) -> bool {
        let seen = std::cell::Cell::new(0);
        move |envelope: &Envelope<M>| {
            let matches = self.from.is_none_or(|from| envelope.from == from)
                && self.to.is_none_or(|to| envelope.to == to);
            if !matches {
                return false;
            }
            seen.set(seen.get() + 1);
            self.nth.is_none_or(|nth| seen.get() == nth)
        }
    }
}

/// Why a case was refused, and at which line of the file (the command's, or
/// that of an input line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub message: String,
}

/// What a command accepts: the bare word it takes (if any), its named
/// arguments, and whether it reads an input line.
struct Grammar {
    name: &'static str,
    word: Option<&'static str>,
    named: &'static [&'static str],
    input: bool,
}

const NODE: Option<&str> = Some("a node id");
const DURATION: Option<&str> = Some("a duration such as 150ms");

const fn grammar(
    name: &'static str,
    word: Option<&'static str>,
    named: &'static [&'static str],
) -> Grammar {
    Grammar {
        name,
        word,
        named,
        input: false,
    }
}

/// Every command, as the module documentation lists them.
const GRAMMARS: &[Grammar] = &[
    grammar(
        "cluster",
        None,
        &[
            "nodes",
            "algo",
            "seed",
            "pre-vote",
            "check-quorum",
            "lease",
            "lease-duration",
            "drift",
            "max-entries",
            "snapshot-every",
            "latency",
            "heartbeat",
            "leader-timeout-min",
            "leader-timeout-max",
            "answer-timeout",
            "ack-timeout",
            "coordinator-timeout",
            "fencing",
        ],
    ),
    grammar("campaign", NODE, &[]),
    grammar("tick", NODE, &[]),
    grammar("elapse", DURATION, &[]),
    grammar("run", DURATION, &[]),
    grammar("deliver", None, &["from", "to", "nth"]),
    grammar("drop", None, &["from", "to", "nth"]),
    grammar("stabilize", None, &[]),
    Grammar {
        input: true,
        ..grammar("partition", None, &[])
    },
    Grammar {
        input: true,
        ..grammar("connect", None, &[])
    },
    grammar("cut", None, &["from", "to"]),
    grammar("isolate", NODE, &[]),
    grammar("heal", None, &[]),
    grammar("crash", NODE, &[]),
    grammar("restart", NODE, &[]),
    grammar("pause", NODE, &[]),
    grammar("resume", NODE, &[]),
    grammar("clock", NODE, &["rate-ppm"]),
    grammar("write", NODE, &["key", "value"]),
    grammar("cas", NODE, &["key", "expected", "new"]),
    grammar("read", NODE, &["key"]),
    grammar("transfer", NODE, &["to"]),
    grammar("snapshot", NODE, &[]),
    grammar("status", None, &[]),
    grammar("logs", None, &[]),
    grammar("leases", None, &[]),
    grammar("kv", NODE, &[]),
    grammar(
        "expect",
        Some("a node id (for its role, term, leader, commit, lease or values)"),
        &[
            "leaders",
            "role",
            "term",
            "leader",
            "commit",
            "snapshot",
            "lease",
            "key",
            "value",
            "reply",
            "outcome",
            "violations",
            "violated",
        ],
    ),
];

impl Command {
    /// Reads `case` against the current cluster (`None` before the first
    /// `cluster`).
    pub fn parse(case: &Case, cluster: Option<&AnyCluster>) -> Result<Command, Refusal> {
        let refuse = |message: String| Refusal {
            line: case.line,
            message,
        };
        let Some(grammar) = GRAMMARS.iter().find(|grammar| grammar.name == case.command) else {
            let names: Vec<&str> = GRAMMARS.iter().map(|grammar| grammar.name).collect();
            return Err(refuse(format!(
                "unknown command {:?} (one of: {})",
                case.command,
                names.join(", ")
            )));
        };
        let cluster = match (grammar.name, cluster) {
            ("cluster", _) => None,
            (_, Some(cluster)) => Some(cluster),
            (name, None) => {
                return Err(refuse(format!(
                    "{name}: no cluster yet: start with `cluster nodes=N`"
                )))
            }
        };
        if let Some(why) = cluster.and_then(|cluster| cluster.refuses(grammar.name)) {
            let algorithm = cluster.map_or("", AnyCluster::name);
            return Err(refuse(format!(
                "{}: a {algorithm} cluster {why}",
                grammar.name
            )));
        }
        let reader = Reader::new(grammar, &case.args).map_err(refuse)?;
        let Some(cluster) = cluster else {
            return reader.cluster().map_err(refuse);
        };
        let reader = Checked { reader, cluster };
        if grammar.input {
            return reader.with_input(case);
        }
        if !case.input.is_empty() {
            return Err(Refusal {
                line: case.line + 1,
                message: format!(
                    "{} takes no input line: is the `----` after line {} missing?",
                    grammar.name, case.line
                ),
            });
        }
        reader.command().map_err(refuse)
    }
}

/// The arguments of one case, their names and count checked against the
/// command's grammar.
struct Reader<'a> {
    grammar: &'a Grammar,
    word: Option<&'a str>,
    named: Vec<(&'a str, &'a str)>,
}

impl<'a> Reader<'a> {
    /// Checks each argument in the order written: an extra bare word or an
    /// unknown name is refused at the first one.
    fn new(grammar: &'a Grammar, args: &'a [Arg]) -> Result<Reader<'a>, String> {
        let name = grammar.name;
        let mut reader = Reader {
            grammar,
            word: None,
            named: Vec::new(),
        };
        for arg in args {
            match arg {
                Arg::Word(word) => match (grammar.word, reader.word) {
                    (Some(_), None) => reader.word = Some(word),
                    (Some(what), Some(first)) => {
                        return Err(format!(
                        "{name} takes one bare argument ({what}), but {first:?} is followed by {word:?}"
                    ))
                    }
                    (None, _) => {
                        return Err(format!(
                            "{name} takes no bare argument like {word:?}{}",
                            reader.expected_names()
                        ))
                    }
                },
                Arg::Named {
                    name: arg_name,
                    value,
                } => {
                    if !grammar.named.contains(&arg_name.as_str()) {
                        return Err(format!(
                            "{name} has no argument {arg_name}={value}{}",
                            reader.expected_names()
                        ));
                    }
                    reader.named.push((arg_name, value));
                }
            }
        }
        Ok(reader)
    }

    fn expected_names(&self) -> String {
        let names: Vec<String> = self
            .grammar
            .named
            .iter()
            .map(|name| format!("{name}="))
            .collect();
        match (self.grammar.word, names.is_empty()) {
            (None, true) => " (it takes no argument)".to_owned(),
            (Some(what), true) => format!(" (it takes {what})"),
            (None, false) => format!(" (it takes {})", names.join(" ")),
            (Some(what), false) => format!(" (it takes {what} and {})", names.join(" ")),
        }
    }

    fn name(&self) -> &'static str {
        self.grammar.name
    }

    /// The bare word, which the grammar requires.
    fn word(&self) -> Result<&'a str, String> {
        let what = self.grammar.word.expect("the grammar takes a word");
        self.word
            .ok_or_else(|| format!("{} needs {what}", self.name()))
    }

    /// The value of `name=`, parsed, if given.
    fn optional<T: FromStr>(&self, name: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        let Some(&(_, value)) = self.named.iter().find(|(given, _)| *given == name) else {
            return Ok(None);
        };
        value
            .parse()
            .map(Some)
            .map_err(|error| format!("{}: bad {name}={value}: {error}", self.name()))
    }

    /// The value of `name=`, parsed; an error if missing.
    fn required<T: FromStr>(&self, name: &str) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        self.optional(name)?
            .ok_or_else(|| format!("{} needs {name}=", self.name()))
    }

    fn optional_duration(&self, name: &str) -> Result<Option<Duration>, String> {
        self.optional::<String>(name)?
            .map(|text| {
                parse_duration(&text).map_err(|error| format!("{}: {name}: {error}", self.name()))
            })
            .transpose()
    }

    fn cluster(&self) -> Result<Command, String> {
        let nodes: u64 = self.required("nodes")?;
        if !(1..=MAX_MEMBERS as u64).contains(&nodes) {
            return Err(format!(
                "cluster: nodes must be 1 to {MAX_MEMBERS}, not {nodes}"
            ));
        }
        let seed: u64 = self.optional("seed")?.unwrap_or(1);
        let latency = self.optional_duration("latency")?;
        let members: Vec<NodeId> = (1..=nodes).collect();
        let algorithm = match self.optional::<String>("algo")?.as_deref() {
            None | Some("raft") => {
                self.refuse_timings()?;
                if let Some(value) = self.optional::<String>("fencing")? {
                    return Err(format!(
                        "cluster: fencing={value} is a lease-lock or zk-sequential setting, and a raft cluster has no fenced resource"
                    ));
                }
                Choice::Raft(self.raft_config(&members)?)
            }
            #[cfg(feature = "raft-rs")]
            Some(name @ ("raft-rs" | "raft-rs-lease")) => {
                self.refuse_raft_rs_settings(name)?;
                Choice::RaftRs(crate::adapters::raft_rs::Settings {
                    lease_reads: name == "raft-rs-lease",
                    ..Default::default()
                })
            }
            Some(name @ "lease-lock") => {
                let fencing = self.lock_service_settings(name)?;
                Choice::LeaseLock(crate::harness::lock_service::LeaseLock {
                    fencing,
                    ..Default::default()
                })
            }
            Some(name @ "zk-sequential") => {
                let fencing = self.lock_service_settings(name)?;
                Choice::ZkSequential(crate::harness::lock_service::ZkSequential {
                    fencing,
                    ..Default::default()
                })
            }
            Some(name @ "bully") => Choice::Bully(self.timed_config(name, &members)?),
            Some(name @ "ring") => Choice::Ring(self.timed_config(name, &members)?),
            Some(other) => {
                return Err(format!(
                    "cluster: no algorithm {other:?} (one of: {})",
                    NAMES.join(", ")
                ))
            }
        };
        Ok(Command::Cluster {
            nodes,
            seed,
            algorithm,
            latency,
        })
    }

    /// What `cluster` takes for every algorithm; each takes its own
    /// settings besides.
    const EVERY_ALGORITHM: &'static [&'static str] = &["nodes", "algo", "seed", "latency"];

    /// The names of the Bully and Ring timings.
    fn timing_names() -> Vec<&'static str> {
        let bully = crate::core::bully::Config::default()
            .settings()
            .map(|(name, _)| name);
        let ring = crate::core::ring::Config::default()
            .settings()
            .map(|(name, _)| name);
        let mut names: Vec<&'static str> = bully.into_iter().chain(ring).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Raft times its elections by its own configuration: a Bully or Ring
    /// timing given to it would silently mean nothing.
    fn refuse_timings(&self) -> Result<(), String> {
        let timings = Self::timing_names();
        match self.named.iter().find(|(name, _)| timings.contains(name)) {
            Some((name, value)) => Err(format!(
                "cluster: {name}={value} is a Bully or Ring setting, and a raft cluster times its elections by its own configuration"
            )),
            None => Ok(()),
        }
    }

    /// raft-rs runs with its adapter's timings (PreVote and CheckQuorum
    /// on, its reads chosen by the name): a setting of electorate's Raft
    /// given to it would silently mean nothing.
    #[cfg(feature = "raft-rs")]
    fn refuse_raft_rs_settings(&self, algorithm: &str) -> Result<(), String> {
        match self.foreign_setting(&[]) {
            Some((name, value)) => {
                let owner = if Self::timing_names().contains(name) {
                    "Bully or Ring"
                } else {
                    "Raft"
                };
                Err(format!(
                    "cluster: {name}={value} is a {owner} setting, and a {algorithm} cluster takes only nodes= seed= latency= (raft-rs runs with PreVote and CheckQuorum on; `algo=raft-rs-lease` serves lease reads)"
                ))
            }
            None => Ok(()),
        }
    }

    /// A lock-service cluster takes `fencing=true|false` (default true: the
    /// resource refuses tokens older than the newest it accepted) and runs
    /// the default timings; any other algorithm's setting is refused.
    fn lock_service_settings(&self, algorithm: &str) -> Result<bool, String> {
        self.refuse_foreign_settings(algorithm, &["fencing"])?;
        Ok(self.optional("fencing")?.unwrap_or(true))
    }

    /// The first setting given that is neither one every algorithm takes
    /// nor one of `own`.
    fn foreign_setting(&self, own: &[&str]) -> Option<&(&'a str, &'a str)> {
        self.named
            .iter()
            .find(|(name, _)| !Self::EVERY_ALGORITHM.contains(name) && !own.contains(name))
    }

    /// Refuses every setting but those every algorithm takes and `own`:
    /// another algorithm's setting would silently mean nothing.
    fn refuse_foreign_settings(&self, algorithm: &str, own: &[&str]) -> Result<(), String> {
        let mut takes: Vec<&str> = Self::EVERY_ALGORITHM.to_vec();
        takes.extend(own);
        match self.foreign_setting(own) {
            Some((name, value)) => {
                let takes: Vec<String> = takes.iter().map(|name| format!("{name}=")).collect();
                Err(format!(
                    "cluster: {name}={value} is not a {algorithm} setting; a {algorithm} cluster takes {}",
                    takes.join(" ")
                ))
            }
            None => Ok(()),
        }
    }

    /// A Bully or Ring configuration: its timings as given, the defaults
    /// where none is; any other setting refused, and timings that
    /// contradict each other too.
    fn timed_config<C: Timings>(&self, algorithm: &str, members: &[NodeId]) -> Result<C, String> {
        let mut config = C::default();
        let names = config.settings().map(|(name, _)| name);
        self.refuse_foreign_settings(algorithm, &names)?;
        for (name, field) in config.settings() {
            if let Some(duration) = self.optional_duration(name)? {
                *field = duration;
            }
        }
        config
            .check(1, members)
            .map_err(|error| format!("cluster: {error}"))?;
        Ok(config)
    }

    fn raft_config(&self, members: &[NodeId]) -> Result<Config, String> {
        let defaults = Config::default();
        let config = Config {
            pre_vote: self.optional("pre-vote")?.unwrap_or(defaults.pre_vote),
            check_quorum: self
                .optional("check-quorum")?
                .unwrap_or(defaults.check_quorum),
            lease_reads: self.optional("lease")?.unwrap_or(defaults.lease_reads),
            lease_duration: self
                .optional_duration("lease-duration")?
                .unwrap_or(defaults.lease_duration),
            clock_drift_bound: self
                .optional_duration("drift")?
                .unwrap_or(defaults.clock_drift_bound),
            max_entries_per_append: self
                .optional("max-entries")?
                .unwrap_or(defaults.max_entries_per_append),
            snapshot_every: self
                .optional("snapshot-every")?
                .unwrap_or(defaults.snapshot_every),
            ..defaults
        };
        config
            .validate(1, members)
            .map_err(|error| format!("cluster: {error}"))?;
        Ok(config)
    }
}

/// A Bully or Ring configuration as `cluster` sets it: each timing by the
/// name of its setting.
trait Timings: Default {
    /// Each setting, with the field it sets.
    fn settings(&mut self) -> [(&'static str, &mut Duration); 5];

    /// The configuration's own validation.
    fn check(&self, id: NodeId, members: &[NodeId]) -> Result<(), ConfigError>;
}

/// Bully and Ring share four timings; each names its own fifth (the
/// timeout of its election's messages).
macro_rules! timings {
    ($config:ty, $own:literal => $field:ident) => {
        impl Timings for $config {
            fn settings(&mut self) -> [(&'static str, &mut Duration); 5] {
                [
                    ("heartbeat", &mut self.heartbeat_interval),
                    ("leader-timeout-min", &mut self.leader_timeout_min),
                    ("leader-timeout-max", &mut self.leader_timeout_max),
                    ($own, &mut self.$field),
                    ("coordinator-timeout", &mut self.coordinator_timeout),
                ]
            }

            fn check(&self, id: NodeId, members: &[NodeId]) -> Result<(), ConfigError> {
                self.validate(id, members)
            }
        }
    };
}

timings!(crate::core::bully::Config, "answer-timeout" => answer_timeout);
timings!(crate::core::ring::Config, "ack-timeout" => ack_timeout);

/// A [`Reader`] with the cluster the command will run on, for checking
/// node ids and the clock.
struct Checked<'a> {
    reader: Reader<'a>,
    cluster: &'a AnyCluster,
}

impl Checked<'_> {
    fn name(&self) -> &'static str {
        self.reader.name()
    }

    /// The member `text` names, or why it names none.
    fn member(&self, text: &str) -> Result<NodeId, String> {
        let members = self.cluster.members();
        let last = members.last().copied().unwrap_or(0);
        match text.parse::<NodeId>() {
            Ok(id) if members.contains(&id) => Ok(id),
            Ok(id) => Err(format!("no node {id} (the nodes are 1 to {last})")),
            Err(_) => Err(format!(
                "{text:?} is not a node id (the nodes are 1 to {last})"
            )),
        }
    }

    /// The node named by the bare word.
    fn node(&self) -> Result<NodeId, String> {
        self.member(self.reader.word()?)
            .map_err(|error| format!("{}: {error}", self.name()))
    }

    /// The node named by the bare word, which must not be a service member:
    /// the idealised lock service never crashes (a store that forgot its
    /// revisions would hand out old fencing tokens again).
    fn candidate(&self) -> Result<NodeId, String> {
        let id = self.node()?;
        if self.cluster.is_service(id) {
            return Err(format!(
                "{}: node {id} is the lock service, which never crashes (the idealised store)",
                self.name()
            ));
        }
        Ok(id)
    }

    fn named_node(&self, name: &str) -> Result<Option<NodeId>, String> {
        let Some(text) = self.reader.optional::<String>(name)? else {
            return Ok(None);
        };
        self.member(&text)
            .map(Some)
            .map_err(|error| format!("{}: {name}={text}: {error}", self.name()))
    }

    fn required_node(&self, name: &str) -> Result<NodeId, String> {
        self.named_node(name)?
            .ok_or_else(|| format!("{} needs {name}=N", self.name()))
    }

    fn duration(&self) -> Result<Duration, String> {
        let duration = parse_duration(self.reader.word()?)
            .map_err(|error| format!("{}: {error}", self.name()))?;
        if duration > MAX_DURATION {
            return Err(format!(
                "{}: at most {} at a time, not {}: split it into several",
                self.name(),
                format_duration(MAX_DURATION),
                format_duration(duration)
            ));
        }
        Ok(duration)
    }

    fn filter(&self) -> Result<Filter, String> {
        let filter = Filter {
            from: self.named_node("from")?,
            to: self.named_node("to")?,
            nth: self.reader.optional("nth")?,
        };
        if filter.nth == Some(0) {
            return Err(format!("{}: nth counts from 1", self.name()));
        }
        Ok(filter)
    }

    fn command(&self) -> Result<Command, String> {
        Ok(match self.name() {
            "campaign" => Command::Campaign(self.node()?),
            "tick" => Command::Tick(self.node()?),
            "elapse" => Command::Elapse(self.duration()?),
            "run" => Command::Run(self.duration()?),
            "deliver" => Command::Deliver(self.filter()?),
            "drop" => Command::Drop(self.filter()?),
            "stabilize" => Command::Stabilize,
            "cut" => {
                let from = self.required_node("from")?;
                let to = self.required_node("to")?;
                if from == to {
                    return Err(format!("cut: from= and to= are both {from}"));
                }
                Command::Cut { from, to }
            }
            "isolate" => Command::Isolate(self.node()?),
            "heal" => Command::Heal,
            "crash" => Command::Crash(self.candidate()?),
            "restart" => Command::Restart(self.candidate()?),
            "pause" => Command::Pause(self.node()?),
            "resume" => Command::Resume(self.node()?),
            "clock" => self.clock()?,
            "write" | "cas" | "read" => Command::Request {
                node: self.node()?,
                operation: self.operation()?,
            },
            "transfer" => Command::Transfer {
                from: self.node()?,
                to: self.required_node("to")?,
            },
            "snapshot" => Command::Snapshot(self.node()?),
            "status" => Command::Status,
            "logs" => Command::Logs,
            "leases" => Command::Leases,
            "kv" => Command::Kv(self.node()?),
            "expect" => Command::Expect(self.expectations()?),
            other => unreachable!("{other} is in GRAMMARS without a reader"),
        })
    }

    fn clock(&self) -> Result<Command, String> {
        let node = self.node()?;
        let rate_ppm: i64 = self.reader.required("rate-ppm")?;
        if rate_ppm <= -1_000_000 {
            return Err(format!(
                "clock: rate-ppm={rate_ppm} stops or reverses the clock (it must exceed -1000000)"
            ));
        }
        // A clock's rate applies from real time 0: changed later, the
        // clock would leap, backwards if it slowed down.
        let now = self.cluster.now();
        if now > Time::ZERO {
            return Err(format!(
                "clock: rates are set before time passes, and {} has passed",
                format_duration(Duration::from_micros(now.as_micros()))
            ));
        }
        Ok(Command::Clock { node, rate_ppm })
    }

    /// `expect`: each named outcome, checked; those about a node need the
    /// node's id, and the others refuse one.
    fn expectations(&self) -> Result<Vec<Expectation>, String> {
        const OF_A_NODE: &[&str] = &[
            "role", "term", "leader", "commit", "snapshot", "lease", "key", "value",
        ];
        let reader = &self.reader;
        let named: Vec<&str> = reader.named.iter().map(|(name, _)| *name).collect();
        let node = match (
            reader.word,
            named.iter().find(|name| OF_A_NODE.contains(name)),
        ) {
            (Some(_), Some(_)) => Some(self.node()?),
            (None, Some(name)) => return Err(format!("expect: {name}= needs a node id")),
            (Some(word), None) => {
                return Err(format!(
                    "expect: node {word} is named, but nothing of a node (one of {}=) is expected",
                    OF_A_NODE.join("= ")
                ))
            }
            (None, None) => None,
        };
        let mut expectations = Vec::new();
        if let Some(text) = reader.optional::<String>("leaders")? {
            let leaders = match text.as_str() {
                "none" => Vec::new(),
                list => list
                    .split(',')
                    .map(|id| self.member(id))
                    .collect::<Result<Vec<NodeId>, String>>()
                    .map_err(|error| format!("expect: leaders={text}: {error}"))?,
            };
            let mut sorted = leaders.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted != leaders {
                return Err(format!(
                    "expect: leaders={text}: list each leader once, in id order"
                ));
            }
            expectations.push(Expectation::Leaders(leaders));
        }
        if let Some(node) = node {
            if let Some(role) = reader.optional::<String>("role")? {
                expectations.push(Expectation::Role(node, parse_role(&role)?));
            }
            if let Some(term) = reader.optional("term")? {
                expectations.push(Expectation::Term(node, term));
            }
            if let Some(leader) = reader.optional::<String>("leader")? {
                let leader = match leader.as_str() {
                    "none" => None,
                    id => Some(
                        self.member(id)
                            .map_err(|error| format!("expect: leader={id}: {error}"))?,
                    ),
                };
                expectations.push(Expectation::Leader(node, leader));
            }
            if let Some(commit) = reader.optional("commit")? {
                expectations.push(Expectation::Commit(node, commit));
            }
            if let Some(index) = reader.optional("snapshot")? {
                expectations.push(Expectation::Snapshot(node, index));
            }
            if let Some(held) = reader.optional("lease")? {
                expectations.push(Expectation::Lease(node, held));
            }
            match (
                reader.optional::<String>("key")?,
                reader.optional::<String>("value")?,
            ) {
                (Some(key), Some(value)) => {
                    let value = match value.as_str() {
                        "nil" => None,
                        text => Some(text.parse::<Value>().map_err(|error| {
                            format!("expect: bad value={text} (a number or nil): {error}")
                        })?),
                    };
                    expectations.push(Expectation::Value { node, key, value });
                }
                (None, None) => {}
                _ => return Err("expect: key= and value= go together".to_owned()),
            }
        }
        match (
            reader.optional::<u64>("reply")?,
            reader.optional::<String>("outcome")?,
        ) {
            (Some(sequence), Some(outcome)) => expectations.push(Expectation::Reply {
                sequence,
                outcome: parse_outcome(&outcome)?,
            }),
            (None, None) => {}
            _ => return Err("expect: reply= and outcome= go together".to_owned()),
        }
        if let Some(count) = reader.optional("violations")? {
            expectations.push(Expectation::Violations(count));
        }
        if let Some(name) = reader.optional::<String>("violated")? {
            // One word on the line: `fenced-writes` for "Fenced Writes".
            // Only safety properties: the monitors judge those after each step.
            let safety = || {
                Property::ALL
                    .into_iter()
                    .filter(|property| property.kind() == Kind::Safety)
            };
            let spaced = name.replace('-', " ");
            let property = safety()
                .find(|property| property.name().eq_ignore_ascii_case(&spaced))
                .ok_or_else(|| {
                    let names: Vec<String> = safety()
                        .map(|property| property.name().to_lowercase().replace(' ', "-"))
                        .collect();
                    format!(
                        "expect: violated={name} is no safety property (one of: {})",
                        names.join(", ")
                    )
                })?;
            expectations.push(Expectation::Violated(property));
        }
        if expectations.is_empty() {
            return Err(format!(
                "expect needs something to check{}",
                reader.expected_names()
            ));
        }
        Ok(expectations)
    }

    fn operation(&self) -> Result<Operation, String> {
        let key: String = self.reader.required("key")?;
        Ok(match self.name() {
            "read" => Operation::Read { key },
            "write" => Operation::Write {
                key,
                value: self.reader.required("value")?,
            },
            _ => {
                let expected: String = self.reader.required("expected")?;
                let expected = match expected.as_str() {
                    "nil" => None,
                    text => Some(text.parse::<Value>().map_err(|error| {
                        format!("cas: bad expected={text} (a number or nil): {error}")
                    })?),
                };
                let new = self.reader.required("new")?;
                Operation::CompareAndSet { key, expected, new }
            }
        })
    }

    /// `partition` and `connect`: one input line, every id a member.
    fn with_input(&self, case: &Case) -> Result<Command, Refusal> {
        let refuse = |line: usize, message: String| Refusal { line, message };
        let name = self.name();
        let example = if name == "partition" {
            "1 2 | 3"
        } else {
            "1-2 2-3"
        };
        let line = match case.input.as_slice() {
            [line] => line,
            [] => {
                return Err(refuse(
                    case.line,
                    format!("{name} needs one input line below it, such as `{example}`"),
                ))
            }
            [_, extra, ..] => {
                return Err(refuse(
                    case.line + 2,
                    format!(
                        "{name} takes one input line, but {extra:?} follows it: is the `----` after line {} missing?",
                        case.line + 1
                    ),
                ))
            }
        };
        let input_line = case.line + 1;
        let command = if name == "partition" {
            self.groups(line).map(Command::Partition)
        } else {
            self.pairs(line).map(Command::Connect)
        };
        command.map_err(|message| refuse(input_line, message))
    }

    fn groups(&self, line: &str) -> Result<Vec<Vec<NodeId>>, String> {
        let mut seen = Vec::new();
        let mut groups = Vec::new();
        for group in line.split('|') {
            let ids = group
                .split_whitespace()
                .map(|word| self.member(word))
                .collect::<Result<Vec<NodeId>, String>>()
                .map_err(|error| format!("partition: {error}"))?;
            if ids.is_empty() {
                return Err(format!("partition: an empty group in {line:?}"));
            }
            if let Some(id) = ids.iter().find(|id| seen.contains(*id)) {
                return Err(format!("partition: node {id} is in two groups"));
            }
            seen.extend(&ids);
            groups.push(ids);
        }
        Ok(groups)
    }

    fn pairs(&self, line: &str) -> Result<Vec<(NodeId, NodeId)>, String> {
        line.split_whitespace()
            .map(|pair| {
                let (a, b) = pair
                    .split_once('-')
                    .ok_or(format!("connect: bad link {pair:?} (such as 1-2)"))?;
                let member = |id| {
                    self.member(id)
                        .map_err(|error| format!("connect: {pair}: {error}"))
                };
                let (a, b) = (member(a)?, member(b)?);
                if a == b {
                    return Err(format!("connect: a link from {a} to itself"));
                }
                Ok((a, b))
            })
            .collect()
    }
}
