//! Faults the simulator injects, and the schedules that say when.
//!
//! A schedule is plain data (`Vec<ScheduledFault>`), so it can be drawn from
//! a seed (swarm testing), written by hand, or generated and shrunk by
//! proptest.
//!
//! Each fault a schedule holds has a shape ([`Fault::shape`]); SWARM.md
//! lists every shape with the published bug it is drawn for.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::core::node::NodeId;
use crate::core::time::Time;
pub use crate::sim::partition::{
    draw_partition, leader_link_follower, partition_links, Partition, PartitionKind,
};

/// The kinds of fault, as named on the command line (`--faults`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Crash a node (volatile state lost) and restart it later.
    Crash,
    /// Stop a node for a while, as a long GC pause does; time goes on.
    Pause,
    /// Cut links: symmetric splits, one-way, bridge, majorities ring,
    /// isolate the leader (both ways or one way), cut the leader's link to
    /// one follower, and any of them flapping at election-timeout pace.
    Partition,
    /// Lose messages.
    Loss,
    /// Deliver messages twice.
    Duplicate,
    /// Let messages overtake each other.
    Reorder,
    /// Clock rates differ, within the configured drift bound.
    Drift,
    /// A clock leaps forward, beyond the drift bound: allowed to break Lease
    /// Safety, and reported as such.
    ClockJump,
    /// The disk fails under a node: power lost while a batch is being
    /// written, an fsync error, or synced data found damaged ([`DiskFault`]);
    /// or power lost on a majority at once ([`Fault::PowerOutage`]).
    Disk,
    /// An operator's input: a leadership transfer (alone or racing a crash
    /// or a partition), a forced election, a manual snapshot.
    Operator,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::Partition,
        FaultKind::Loss,
        FaultKind::Duplicate,
        FaultKind::Reorder,
        FaultKind::Drift,
        FaultKind::ClockJump,
        FaultKind::Disk,
        FaultKind::Operator,
    ];

    /// What `all` means: every fault of the network, the clocks and the
    /// processes that the algorithms promise to survive. Clock jumps (which
    /// may break leases) and disk faults (which cost the damaged nodes for
    /// good) are asked for by name: `all,disk`.
    pub fn default_set() -> Vec<FaultKind> {
        FaultKind::ALL
            .into_iter()
            .filter(|kind| !matches!(kind, FaultKind::ClockJump | FaultKind::Disk))
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
            FaultKind::Loss => "loss",
            FaultKind::Duplicate => "duplicate",
            FaultKind::Reorder => "reorder",
            FaultKind::Drift => "drift",
            FaultKind::ClockJump => "clock-jump",
            FaultKind::Disk => "disk",
            FaultKind::Operator => "operator",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = String;

    fn from_str(text: &str) -> Result<FaultKind, String> {
        FaultKind::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = FaultKind::ALL.iter().map(|kind| kind.name()).collect();
                format!(
                    "unknown fault {text:?} (one of: {}, all, none)",
                    names.join(", ")
                )
            })
    }
}

/// Parses a comma-separated list of kinds, in which `all` stands for
/// [`FaultKind::default_set`] (so `all,disk` adds disk faults to it), or
/// `none` on its own.
pub fn parse_fault_kinds(text: &str) -> Result<Vec<FaultKind>, String> {
    if text.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut kinds = Vec::new();
    for word in text.split(',').map(str::trim) {
        match word {
            "all" => kinds.extend(FaultKind::default_set()),
            "none" => return Err("`none` cannot be combined with other fault kinds".to_owned()),
            _ => kinds.push(word.parse()?),
        }
    }
    kinds.sort();
    kinds.dedup();
    Ok(kinds)
}

/// What goes wrong with a node's disk. Each is modelled by what the
/// project's log format makes of it (see `driver::storage`), which the
/// durability tests check on a simulated disk byte by byte:
///
/// - power lost while the node writes a batch of records: the format
///   acknowledges a batch only once the log and then the state file are
///   synced, and recovery cuts an unsynced tail, so the node comes back
///   with either the whole batch or none of it, and nothing of that step
///   has left the node;
/// - an fsync error: what is durable is unknown, so the node stops for good
///   without sending anything of that step;
/// - synced data found damaged (a flipped bit, a zeroed or misdirected
///   sector): recovery refuses to start the node, which stays down for the
///   rest of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskFault {
    /// Power fails during the node's next write of a batch; the batch
    /// reaches the disk whole if `batch_survives`, else not at all.
    PowerLoss { batch_survives: bool },
    /// The node's next fsync fails.
    FsyncError,
    /// The node crashes and its synced data is found damaged at restart.
    Corruption,
}

impl DiskFault {
    /// Whether the node is lost for the rest of the run.
    pub fn is_permanent(self) -> bool {
        !matches!(self, DiskFault::PowerLoss { .. })
    }

    pub fn name(self) -> &'static str {
        match self {
            DiskFault::PowerLoss { .. } => "power-loss",
            DiskFault::FsyncError => "fsync-error",
            DiskFault::Corruption => "corruption",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    Crash {
        node: NodeId,
    },
    /// Crash whichever node leads when the fault fires, and restart it
    /// `downtime` later.
    CrashLeader {
        downtime: Duration,
    },
    Restart {
        node: NodeId,
    },
    Pause {
        node: NodeId,
        duration: Duration,
    },
    Partition(Partition),
    Heal,
    /// For `duration`, every link loses `percent`% of its messages.
    Lossy {
        percent: u8,
        duration: Duration,
    },
    ClockJump {
        node: NodeId,
        by: Duration,
    },
    Disk {
        node: NodeId,
        fault: DiskFault,
    },
    /// `partition` struck `times` times, one every `period`, each healed
    /// half a period after it struck: a network flapping at the pace of
    /// the election timeout. A partition of the leader picks its target
    /// anew each time.
    Flap {
        partition: Partition,
        period: Duration,
        times: u8,
    },
    /// An operator asks whichever node leads to hand leadership to its
    /// follower number `follower` (modulo their number, among the other
    /// nodes in id order); `race`, if any, strikes that transfer while it
    /// is under way. Nothing happens without a leader.
    Transfer {
        follower: usize,
        race: Option<TransferRace>,
    },
    /// An operator asks `node` to start an election now.
    Campaign {
        node: NodeId,
    },
    /// An operator asks `node` to snapshot and compact its log now.
    Snapshot {
        node: NodeId,
    },
    /// An operator asks whichever node leads to snapshot now: followers
    /// behind its compaction point then need the snapshot while appends
    /// are in flight.
    SnapshotLeader,
    /// Power fails on every node of `nodes` at once: a node writing a batch
    /// within `window` loses that batch, the rest lose power at the end
    /// of the window, and all come back `downtime` later.
    PowerOutage {
        nodes: Vec<NodeId>,
        window: Duration,
        downtime: Duration,
    },
}

/// What strikes a leadership transfer `after` it was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TransferRace {
    pub after: Duration,
    pub strike: RaceStrike,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RaceStrike {
    /// The transfer's target crashes, and restarts `downtime` later.
    CrashTarget { downtime: Duration },
    /// The target is cut off both ways, healed `duration` later.
    IsolateTarget { duration: Duration },
    /// The leader that was asked crashes, and restarts `downtime` later.
    CrashLeader { downtime: Duration },
}

impl RaceStrike {
    fn name(self) -> &'static str {
        match self {
            RaceStrike::CrashTarget { .. } => "crash-target",
            RaceStrike::IsolateTarget { .. } => "isolate-target",
            RaceStrike::CrashLeader { .. } => "crash-leader",
        }
    }
}

/// Every shape [`Fault::shape`] names that a swarm draws, for counting
/// them across a sweep (SWARM.md says which bug each one is for).
pub const SHAPES: [&str; 22] = [
    "crash",
    "pause",
    "partition:split",
    "partition:one-way",
    "partition:bridge",
    "partition:majorities-ring",
    "partition:isolate-leader",
    "partition:leader-one-way",
    "partition:leader-link",
    "flap",
    "clock-jump",
    "disk:power-loss",
    "disk:fsync-error",
    "disk:corruption",
    "power-outage",
    "transfer",
    "transfer+crash-target",
    "transfer+isolate-target",
    "transfer+crash-leader",
    "campaign",
    "snapshot",
    "snapshot-leader",
];

impl Fault {
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Crash { .. } | Fault::CrashLeader { .. } | Fault::Restart { .. } => {
                FaultKind::Crash
            }
            Fault::Pause { .. } => FaultKind::Pause,
            Fault::Partition(_) | Fault::Heal | Fault::Flap { .. } => FaultKind::Partition,
            Fault::ClockJump { .. } => FaultKind::ClockJump,
            Fault::Lossy { .. } => FaultKind::Loss,
            Fault::Disk { .. } | Fault::PowerOutage { .. } => FaultKind::Disk,
            Fault::Transfer { .. }
            | Fault::Campaign { .. }
            | Fault::Snapshot { .. }
            | Fault::SnapshotLeader => FaultKind::Operator,
        }
    }

    /// The shape of this fault, as SWARM.md lists it; `None` for what only
    /// repairs a fault (a restart, a heal).
    pub fn shape(&self) -> Option<String> {
        let shape = match self {
            Fault::Crash { .. } => "crash".to_owned(),
            Fault::CrashLeader { .. } => "crash-leader".to_owned(),
            Fault::Restart { .. } | Fault::Heal => return None,
            Fault::Pause { .. } => "pause".to_owned(),
            Fault::Partition(partition) => format!("partition:{}", partition.kind().name()),
            Fault::Lossy { .. } => "lossy".to_owned(),
            Fault::ClockJump { .. } => "clock-jump".to_owned(),
            Fault::Disk { fault, .. } => format!("disk:{}", fault.name()),
            Fault::Flap { .. } => "flap".to_owned(),
            Fault::Transfer { race: None, .. } => "transfer".to_owned(),
            Fault::Transfer {
                race: Some(race), ..
            } => format!("transfer+{}", race.strike.name()),
            Fault::Campaign { .. } => "campaign".to_owned(),
            Fault::Snapshot { .. } => "snapshot".to_owned(),
            Fault::SnapshotLeader => "snapshot-leader".to_owned(),
            Fault::PowerOutage { .. } => "power-outage".to_owned(),
        };
        Some(shape)
    }

    /// The node this fault takes out for the rest of the run, if any.
    pub fn permanently_fails(&self) -> Option<NodeId> {
        match self {
            Fault::Disk { node, fault } if fault.is_permanent() => Some(*node),
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash { node } => write!(f, "crash {node}"),
            Fault::CrashLeader { downtime } => write!(f, "crash the leader for {downtime:?}"),
            Fault::Restart { node } => write!(f, "restart {node}"),
            Fault::Pause { node, duration } => write!(f, "pause {node} for {duration:?}"),
            Fault::Partition(partition) => write!(f, "partition{}", PartitionText(partition)),
            Fault::Flap {
                partition,
                period,
                times,
            } => write!(
                f,
                "flap {times} times every {period:?}: partition{}",
                PartitionText(partition)
            ),
            Fault::Transfer { follower, race } => {
                write!(f, "transfer leadership to follower #{follower}")?;
                match race {
                    None => Ok(()),
                    Some(TransferRace { after, strike }) => match strike {
                        RaceStrike::CrashTarget { downtime } => {
                            write!(f, ", {after:?} later crash the target for {downtime:?}")
                        }
                        RaceStrike::IsolateTarget { duration } => {
                            write!(f, ", {after:?} later isolate the target for {duration:?}")
                        }
                        RaceStrike::CrashLeader { downtime } => {
                            write!(f, ", {after:?} later crash the leader for {downtime:?}")
                        }
                    },
                }
            }
            Fault::Campaign { node } => write!(f, "operator: {node} campaigns"),
            Fault::Snapshot { node } => write!(f, "operator: {node} snapshots"),
            Fault::SnapshotLeader => write!(f, "operator: the leader snapshots"),
            Fault::PowerOutage {
                nodes,
                window,
                downtime,
            } => write!(
                f,
                "power outage on {nodes:?} within {window:?}, back {downtime:?} later"
            ),
            Fault::Heal => write!(f, "heal the network"),
            Fault::Lossy { percent, duration } => {
                write!(f, "lose {percent}% of messages for {duration:?}")
            }
            Fault::ClockJump { node, by } => write!(f, "clock of {node} jumps {by:?} ahead"),
            Fault::Disk {
                node,
                fault: DiskFault::PowerLoss { batch_survives },
            } => {
                let batch = if *batch_survives { "reaches" } else { "misses" };
                write!(
                    f,
                    "power loss at {node}'s next write (the batch {batch} the disk)"
                )
            }
            Fault::Disk {
                node,
                fault: DiskFault::FsyncError,
            } => write!(f, "fsync error at {node}'s next write"),
            Fault::Disk {
                node,
                fault: DiskFault::Corruption,
            } => write!(f, "crash {node}, its synced data damaged"),
        }
    }
}

/// A partition as the timeline prints it, after the word "partition".
struct PartitionText<'a>(&'a Partition);

impl fmt::Display for PartitionText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Partition::Split { side } => write!(f, " {side:?} from the rest"),
            Partition::OneWay { node } => write!(f, ": {node} can send but not receive"),
            Partition::Bridge { bridge, half } => {
                write!(f, ": {half:?} and the rest bridged by {bridge}")
            }
            Partition::MajoritiesRing { order } => write!(f, ": majorities ring {order:?}"),
            Partition::IsolateLeader => write!(f, ": isolate the leader"),
            Partition::LeaderOneWay { sends: true } => {
                write!(f, ": the leader can send but not receive")
            }
            Partition::LeaderOneWay { sends: false } => {
                write!(f, ": the leader can receive but not send")
            }
            Partition::LeaderLink { follower } => {
                write!(f, ": cut the leader's link to follower #{follower}")
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledFault {
    pub at: Time,
    pub fault: Fault,
}

/// How often faults strike, for drawing a schedule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultRates {
    /// Mean time between two faults.
    pub mean_interval: Duration,
    /// Relative weight of each scheduled kind (crash, pause, partition,
    /// clock jump, disk, operator); kinds that are network-wide settings (loss, duplicate,
    /// reorder, drift) are not scheduled.
    pub weights: Vec<(FaultKind, u32)>,
}

/// Draws a schedule of faults in `[0, until)` for nodes `1..=size`. Every
/// crash is followed by a restart and every partition by a heal, so the
/// faults come and go. A partition is of a kind that exists at `size`
/// ([`PartitionKind::exists_at`]); one node has no links, so no partition
/// is drawn for it.
pub fn draw_schedule(
    rates: &FaultRates,
    size: u64,
    until: Time,
    rng: &mut ChaCha8Rng,
) -> Vec<ScheduledFault> {
    let total: u32 = rates.weights.iter().map(|(_, weight)| weight).sum();
    let mut schedule = Vec::new();
    if total == 0 || size == 0 {
        return schedule;
    }
    let mean = rates.mean_interval.as_micros().max(1) as f64;
    let mut at = Time::ZERO;
    loop {
        // Exponential inter-arrival times: faults strike at random.
        let gap = -mean * (1.0 - rng.random::<f64>()).ln();
        at = at.saturating_add(Duration::from_micros(gap as u64));
        if at >= until {
            break;
        }
        let mut pick = rng.random_range(0..total);
        let kind = rates
            .weights
            .iter()
            .find(|(_, weight)| {
                let chosen = pick < *weight;
                pick = pick.saturating_sub(*weight);
                chosen
            })
            .map(|(kind, _)| *kind)
            .expect("a weight was picked");
        push_fault(&mut schedule, kind, at, size, rng);
    }
    schedule.sort_by_key(|fault| fault.at);
    schedule
}

fn push_fault(
    schedule: &mut Vec<ScheduledFault>,
    kind: FaultKind,
    at: Time,
    size: u64,
    rng: &mut ChaCha8Rng,
) {
    let node = rng.random_range(1..=size);
    // The fault, and what repairs it (if anything does) after a delay drawn
    // from the range, in milliseconds. The draws from `rng` come in a fixed
    // order: the node, the fault's own parameters, then the delay.
    let restart = Some((Fault::Restart { node }, 50..=3_000));
    let (fault, repair) = match kind {
        FaultKind::Crash => (Fault::Crash { node }, restart),
        FaultKind::Pause => {
            let duration = Duration::from_millis(rng.random_range(10..=1_000));
            (Fault::Pause { node, duration }, None)
        }
        FaultKind::Partition => {
            let Some(partition) = draw_partition(size, rng) else {
                return;
            };
            // One partition in four flaps: struck and healed every 100 to
            // 400 ms, around the election timeout's 150 to 300 ms, so
            // elections start and are cut short over and over.
            if rng.random_range(0..4) == 0 {
                let period = Duration::from_millis(rng.random_range(100..=400));
                let times = rng.random_range(3..=8);
                let flap = Fault::Flap {
                    partition,
                    period,
                    times,
                };
                (flap, None)
            } else {
                let heal = Some((Fault::Heal, 100..=5_000));
                (Fault::Partition(partition), heal)
            }
        }
        FaultKind::ClockJump => {
            let by = Duration::from_millis(rng.random_range(50..=500));
            (Fault::ClockJump { node, by }, None)
        }
        FaultKind::Disk => {
            let fault = match rng.random_range(0..5) {
                0 | 1 => DiskFault::PowerLoss {
                    batch_survives: rng.random_bool(0.5),
                },
                2 => DiskFault::FsyncError,
                3 => DiskFault::Corruption,
                _ => {
                    // A majority or more, at once: what one node's power
                    // loss cannot show, that a write acknowledged by
                    // nodes that all lose it is gone.
                    let mut nodes: Vec<NodeId> = (1..=size).collect();
                    nodes.shuffle(rng);
                    nodes.truncate(rng.random_range(size / 2 + 1..=size) as usize);
                    nodes.sort_unstable();
                    let outage = Fault::PowerOutage {
                        nodes,
                        window: Duration::from_millis(rng.random_range(0..=20)),
                        downtime: Duration::from_millis(rng.random_range(50..=2_000)),
                    };
                    schedule.push(ScheduledFault { at, fault: outage });
                    return;
                }
            };
            let repair = if fault.is_permanent() { None } else { restart };
            (Fault::Disk { node, fault }, repair)
        }
        FaultKind::Operator => (draw_operator(node, size, rng), None),
        FaultKind::Loss | FaultKind::Duplicate | FaultKind::Reorder | FaultKind::Drift => return,
    };
    schedule.push(ScheduledFault { at, fault });
    if let Some((repair, delay_ms)) = repair {
        let delay = Duration::from_millis(rng.random_range(delay_ms));
        schedule.push(ScheduledFault {
            at: at.saturating_add(delay),
            fault: repair,
        });
    }
}

/// An operator's input at `node` (drawn by the caller) on `size` nodes.
fn draw_operator(node: NodeId, size: u64, rng: &mut ChaCha8Rng) -> Fault {
    match rng.random_range(0..6) {
        0..=2 => {
            let follower = rng.random_range(0..size.max(2) as usize - 1);
            // Two transfers in three race a fault, struck within the
            // transfer's own window (an election timeout or so), where
            // the target is campaigning or the leader has stopped taking
            // writes.
            let race = (rng.random_range(0..3) != 0).then(|| {
                let after = Duration::from_millis(rng.random_range(0..=300));
                let down = Duration::from_millis(rng.random_range(50..=2_000));
                let strike = match rng.random_range(0..3) {
                    0 => RaceStrike::CrashTarget { downtime: down },
                    1 => RaceStrike::IsolateTarget { duration: down },
                    _ => RaceStrike::CrashLeader { downtime: down },
                };
                TransferRace { after, strike }
            });
            Fault::Transfer { follower, race }
        }
        3 => Fault::Campaign { node },
        4 => Fault::Snapshot { node },
        _ => Fault::SnapshotLeader,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn schedules_pair_faults_with_their_repair() {
        let rates = FaultRates {
            mean_interval: Duration::from_millis(200),
            weights: vec![(FaultKind::Crash, 1), (FaultKind::Partition, 1)],
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let schedule = draw_schedule(&rates, 5, Time::from_millis(10_000), &mut rng);
        let crashes = schedule
            .iter()
            .filter(|f| matches!(f.fault, Fault::Crash { .. }))
            .count();
        let restarts = schedule
            .iter()
            .filter(|f| matches!(f.fault, Fault::Restart { .. }))
            .count();
        let partitions = schedule
            .iter()
            .filter(|f| matches!(f.fault, Fault::Partition(_)))
            .count();
        let heals = schedule
            .iter()
            .filter(|f| matches!(f.fault, Fault::Heal))
            .count();
        assert!(crashes > 5 && partitions > 5);
        assert_eq!((crashes, partitions), (restarts, heals));
        assert!(schedule.windows(2).all(|pair| pair[0].at <= pair[1].at));
    }

    #[test]
    fn fault_kinds_parse() {
        assert_eq!(parse_fault_kinds("none").unwrap(), vec![]);
        assert_eq!(parse_fault_kinds("all").unwrap().len(), 8);
        let mut with_disk = FaultKind::default_set();
        with_disk.push(FaultKind::Disk);
        with_disk.sort();
        assert_eq!(parse_fault_kinds("all,disk").unwrap(), with_disk);
        assert_eq!(parse_fault_kinds("disk, all").unwrap(), with_disk);
        assert!(parse_fault_kinds("all,none").is_err());
        assert_eq!(
            parse_fault_kinds("partition,crash").unwrap(),
            vec![FaultKind::Crash, FaultKind::Partition]
        );
        assert!(parse_fault_kinds("meteor").is_err());
    }
}
