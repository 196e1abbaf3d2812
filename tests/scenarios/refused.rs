//! One bad line for each kind of mistake a scenario can hold, with the
//! exact error it gets (file, line, message). A refused case changes
//! nothing: the cluster is compared before and after it. A file whose run
//! stops at a bad line is never rewritten, and the command line says so.

use std::process::Command;

use electorate::sim::cluster::Cluster;
use electorate::sim::scenario::algorithms::{AnyCluster, Scripted};
use electorate::sim::scenario::render::{render_kv, render_leases, render_logs, render_status};
use electorate::sim::scenario::replay::Replay;
use electorate::sim::scenario::script::Script;
use electorate::sim::scenario::Scenario;

const PATH: &str = "bad.txt";

/// Nothing before the bad line: it is line 1.
const NONE: &str = "";
/// A 3-node cluster; the bad line is line 4.
const CLUSTER: &str = "cluster nodes=3\n----\n\n";
/// A 3-node cluster where node 1 leads; the bad line is line 10.
const LEADER: &str = "cluster nodes=3\n----\n\ncampaign 1\n----\n\nstabilize\n----\n\n";
/// A 3-node cluster after 10 ms; the bad line is line 7.
const ELAPSED: &str = "cluster nodes=3\n----\n\nelapse 10ms\n----\n\n";
/// A 3-node Bully cluster where node 3 leads; the bad line is line 7.
const BULLY: &str = "cluster nodes=3 algo=bully\n----\n\ncampaign 3\n----\n\n";
/// A 3-node Ring cluster; the bad line is line 4.
const RING: &str = "cluster nodes=3 algo=ring\n----\n\n";
/// Two lease-lock candidates and the service (node 3); the bad line is
/// line 4.
const LEASE_LOCK: &str = "cluster nodes=2 algo=lease-lock\n----\n\n";
/// A 3-node raft-rs cluster (ReadIndex reads); the bad line is line 4.
#[cfg(feature = "raft-rs")]
const RAFT_RS: &str = "cluster nodes=3 algo=raft-rs\n----\n\n";

/// (what comes before, the bad case, the error).
const BAD_LINES: &[(&str, &str, &str)] = &[
    // Snapshots: Raft's, of a member, with a count for a threshold.
    (
        BULLY,
        "snapshot 3\n----\n",
        "bad.txt:7: snapshot: a bully cluster keeps no log to compact",
    ),
    (
        LEASE_LOCK,
        "snapshot 1\n----\n",
        "bad.txt:4: snapshot: a lease-lock cluster keeps no log to compact",
    ),
    (CLUSTER, "snapshot 4\n----\n", "bad.txt:4: snapshot: no node 4 (the nodes are 1 to 3)"),
    (CLUSTER, "snapshot\n----\n", "bad.txt:4: snapshot needs a node id"),
    (
        NONE,
        "cluster nodes=3 snapshot-every=often\n----\n",
        "bad.txt:1: cluster: bad snapshot-every=often: invalid digit found in string",
    ),
    (
        NONE,
        "cluster nodes=3 algo=ring snapshot-every=2\n----\n",
        "bad.txt:1: cluster: snapshot-every=2 is not a ring setting; a ring cluster takes nodes= \
         algo= seed= latency= heartbeat= leader-timeout-min= leader-timeout-max= ack-timeout= \
         coordinator-timeout=",
    ),
    (
        CLUSTER,
        "expect 1 snapshot=two\n----\n",
        "bad.txt:4: expect: bad snapshot=two: invalid digit found in string",
    ),
    // Arguments are read in the order written: the second id is an error,
    // not another node that might be picked.
    (
        CLUSTER,
        "campaign 1 2\n----\n",
        "bad.txt:4: campaign takes one bare argument (a node id), but \"1\" is followed by \"2\"",
    ),
    (
        LEADER,
        "write 1 key=x value=1 extra=2\n----\n",
        "bad.txt:10: write has no argument extra=2 (it takes a node id and key= value=)",
    ),
    (
        LEADER,
        "write 1 key=x key=y value=1\n----\n",
        "bad.txt:10: write: key= given twice",
    ),
    (
        CLUSTER,
        "frobnicate 1\n----\n",
        "bad.txt:4: unknown command \"frobnicate\" (one of: cluster, campaign, tick, elapse, run, \
         deliver, drop, stabilize, partition, connect, cut, isolate, heal, crash, restart, pause, \
         resume, clock, \
         write, cas, read, transfer, snapshot, status, logs, leases, kv, expect)",
    ),
    (
        NONE,
        "campaign 1\n----\n",
        "bad.txt:1: campaign: no cluster yet: start with `cluster nodes=N`",
    ),
    (
        CLUSTER,
        "clock 9 rate-ppm=5\n----\n",
        "bad.txt:4: clock: no node 9 (the nodes are 1 to 3)",
    ),
    (
        CLUSTER,
        "read 4 key=x\n----\n",
        "bad.txt:4: read: no node 4 (the nodes are 1 to 3)",
    ),
    (
        CLUSTER,
        "elapse 5parsecs\n----\n",
        "bad.txt:4: elapse: bad duration unit in \"5parsecs\" (us, ms or s)",
    ),
    (
        LEADER,
        "cas 1 key=x expected=1 new=abc\n----\n",
        "bad.txt:10: cas: bad new=abc: invalid digit found in string",
    ),
    (
        LEADER,
        "cas 1 key=x expected=one new=2\n----\n",
        "bad.txt:10: cas: bad expected=one (a number or nil): invalid digit found in string",
    ),
    (
        ELAPSED,
        "clock 1 rate-ppm=5\n----\n",
        "bad.txt:7: clock: rates are set before time passes, and 10ms has passed",
    ),
    (
        CLUSTER,
        "clock 1 rate-ppm=-1000000\n----\n",
        "bad.txt:4: clock: rate-ppm=-1000000 stops or reverses the clock (it must exceed -1000000)",
    ),
    (
        CLUSTER,
        "run 1000000s\n----\n",
        "bad.txt:4: run: at most 600s at a time, not 1000000s: split it into several",
    ),
    (
        CLUSTER,
        "campaign (1,2)\n----\n",
        "bad.txt:4: campaign: \"(1,2)\" is not a node id (the nodes are 1 to 3)",
    ),
    (
        NONE,
        "cluster nodes=0\n----\n",
        "bad.txt:1: cluster: nodes must be 1 to 9, not 0",
    ),
    (
        CLUSTER,
        "cut from=1 to=7\n----\n",
        "bad.txt:4: cut: to=7: no node 7 (the nodes are 1 to 3)",
    ),
    (
        CLUSTER,
        "isolate 0\n----\n",
        "bad.txt:4: isolate: no node 0 (the nodes are 1 to 3)",
    ),
    (
        CLUSTER,
        "connect\n1-2 2-9\n----\n",
        "bad.txt:5: connect: 2-9: no node 9 (the nodes are 1 to 3)",
    ),
    (
        CLUSTER,
        "partition\n1 2 | 8\n----\n",
        "bad.txt:5: partition: no node 8 (the nodes are 1 to 3)",
    ),
    (
        CLUSTER,
        "partition\n----\n",
        "bad.txt:4: partition needs one input line below it, such as `1 2 | 3`",
    ),
    (
        CLUSTER,
        "partition\n1 2 | | 3\n----\n",
        "bad.txt:5: partition: an empty group in \"1 2 | | 3\"",
    ),
    (
        CLUSTER,
        "deliver nth=0\n----\n",
        "bad.txt:4: deliver: nth counts from 1",
    ),
    // A command missing its `----`: the next command would be its input.
    (
        CLUSTER,
        "campaign 1\nstabilize\n----\n",
        "bad.txt:5: campaign takes no input line: is the `----` after line 4 missing?",
    ),
    (
        CLUSTER,
        "campaign 1\n\nstatus\n----\n",
        "bad.txt:4: campaign: no `----` line after the command (and its input)",
    ),
    // Commands that make no sense for an algorithm are refused, not run.
    (
        BULLY,
        "logs\n----\n",
        "bad.txt:7: logs: a bully cluster keeps no log (a leader serves clients from its own store)",
    ),
    (
        BULLY,
        "leases\n----\n",
        "bad.txt:7: leases: a bully cluster holds no lease: every leader serves reads (`status` shows them)",
    ),
    (
        BULLY,
        "transfer 3 to=1\n----\n",
        "bad.txt:7: transfer: a bully cluster has no leadership transfer",
    ),
    (
        RING,
        "logs\n----\n",
        "bad.txt:4: logs: a ring cluster keeps no log (a leader serves clients from its own store)",
    ),
    (
        RING,
        "transfer 1 to=2\n----\n",
        "bad.txt:4: transfer: a ring cluster has no leadership transfer",
    ),
    (
        NONE,
        "cluster nodes=3 algo=ring lease=true\n----\n",
        "bad.txt:1: cluster: lease=true is not a ring setting; a ring cluster takes nodes= algo= \
         seed= latency= heartbeat= leader-timeout-min= leader-timeout-max= ack-timeout= \
         coordinator-timeout=",
    ),
    (
        LEASE_LOCK,
        "crash 3\n----\n",
        "bad.txt:4: crash: node 3 is the lock service, which never crashes (the idealised store)",
    ),
    (
        LEASE_LOCK,
        "write 1 key=x value=1\n----\n",
        "bad.txt:4: write: a lease-lock cluster serves no clients: its candidates hold a lock and \
         write to the fenced resource",
    ),
    (
        LEASE_LOCK,
        "expect violated=fenced-write\n----\n",
        "bad.txt:4: expect: violated=fenced-write is no safety property (one of: \
         election-safety, lease-safety, log-matching, leader-completeness, state-machine-safety, \
         linearizability, node-invariants, fenced-writes, exclusive-holding)",
    ),
    (
        NONE,
        "cluster nodes=2 algo=zk-sequential pre-vote=true\n----\n",
        "bad.txt:1: cluster: pre-vote=true is not a zk-sequential setting; a zk-sequential \
         cluster takes nodes= algo= seed= latency= fencing=",
    ),
    (
        NONE,
        "cluster nodes=3 fencing=false\n----\n",
        "bad.txt:1: cluster: fencing=false is a lease-lock or zk-sequential setting, and a raft \
         cluster has no fenced resource",
    ),
    (
        NONE,
        "cluster nodes=3 heartbeat=10ms\n----\n",
        "bad.txt:1: cluster: heartbeat=10ms is a Bully or Ring setting, and a raft cluster times \
         its elections by its own configuration",
    ),
    (
        NONE,
        "cluster nodes=3 algo=bully leader-timeout-min=300ms leader-timeout-max=200ms\n----\n",
        "bad.txt:1: cluster: leader timeout range [300ms, 200ms) is empty",
    ),
    #[cfg(not(feature = "raft-rs"))]
    (
        NONE,
        "cluster nodes=3 algo=paxos\n----\n",
        "bad.txt:1: cluster: no algorithm \"paxos\" (one of: raft, bully, ring, lease-lock, \
         zk-sequential)",
    ),
    #[cfg(feature = "raft-rs")]
    (
        NONE,
        "cluster nodes=3 algo=paxos\n----\n",
        "bad.txt:1: cluster: no algorithm \"paxos\" (one of: raft, bully, ring, lease-lock, \
         zk-sequential, raft-rs, raft-rs-lease)",
    ),
    #[cfg(feature = "raft-rs")]
    (
        RAFT_RS,
        "leases\n----\n",
        "bad.txt:4: leases: a raft-rs cluster holds no lease: reads go through ReadIndex (`algo=raft-rs-lease` serves lease reads)",
    ),
    #[cfg(feature = "raft-rs")]
    (
        NONE,
        "cluster nodes=3 algo=raft-rs check-quorum=false\n----\n",
        "bad.txt:1: cluster: check-quorum=false is a Raft setting, and a raft-rs cluster takes only nodes= seed= latency= (raft-rs runs with PreVote and CheckQuorum on; `algo=raft-rs-lease` serves lease reads)",
    ),
    // An outcome that does not hold stops the run at its line, like a
    // refusal, so no rewrite can record it.
    (
        LEADER,
        "expect leaders=2\n----\n",
        "bad.txt:10: expect: the set of leaders is 1, not 2",
    ),
    (
        LEADER,
        "expect 2 role=leader\n----\n",
        "bad.txt:10: expect: node 2's role is follower, not leader",
    ),
    (
        LEADER,
        "expect 2 leader=1 commit=1\n----\n",
        "bad.txt:10: expect: node 2's commit index is 0, not 1",
    ),
    (
        LEADER,
        "expect 1 key=x value=1\n----\n",
        "bad.txt:10: expect: x on node 1 is nil, not 1",
    ),
    (
        LEADER,
        "expect reply=1 outcome=written\n----\n",
        "bad.txt:10: expect: the answer to request c0#1 is none, not written",
    ),
    (
        LEADER,
        "expect violations=1\n----\n",
        "bad.txt:10: expect: 0 safety violations were recorded, not 1",
    ),
    (
        LEADER,
        "expect 1 key=x\n----\n",
        "bad.txt:10: expect: key= and value= go together",
    ),
    (
        LEADER,
        "expect role=leader\n----\n",
        "bad.txt:10: expect: role= needs a node id",
    ),
    (
        LEADER,
        "expect 1 leaders=1\n----\n",
        "bad.txt:10: expect: node 1 is named, but nothing of a node (one of role= term= leader= commit= snapshot= lease= key= value=) is expected",
    ),
    (
        LEADER,
        "expect leaders=3,1\n----\n",
        "bad.txt:10: expect: leaders=3,1: list each leader once, in id order",
    ),
    (
        LEADER,
        "expect reply=1 outcome=maybe\n----\n",
        "bad.txt:10: expect: bad outcome=maybe (one of: none, read:nil, written, cas-ok, cas-failed, not-leader, transfer-in-progress, leadership-lost, or read:V)",
    ),
    // A blank line missing after an output: the next case would be output.
    (
        CLUSTER,
        "heal\n----\nok\nstatus\n----\n",
        "bad.txt:8: `----` inside an expected output: is a blank line missing before the command above it?",
    ),
];

/// What a command could have changed: time, the messages in flight, the
/// links, every node's state, log and store, the leases, the violations
/// seen.
fn snapshot(cluster: Option<&AnyCluster>) -> String {
    match cluster {
        None => "no cluster".to_owned(),
        Some(AnyCluster::Raft(cluster)) => snapshot_of(cluster),
        Some(AnyCluster::Bully(cluster)) => snapshot_of(cluster),
        Some(AnyCluster::Ring(cluster)) => snapshot_of(cluster),
        Some(AnyCluster::LeaseLock(cluster)) => snapshot_of(cluster),
        Some(AnyCluster::ZkSequential(cluster)) => snapshot_of(cluster),
        #[cfg(feature = "raft-rs")]
        Some(AnyCluster::RaftRs(cluster)) => snapshot_of(cluster),
    }
}

fn snapshot_of<A: Scripted>(cluster: &Cluster<A>) -> String {
    let members = cluster.members();
    let stores: String = members.iter().map(|&id| render_kv(cluster, id)).collect();
    let links: Vec<(u64, u64)> = members
        .iter()
        .flat_map(|&from| members.iter().map(move |&to| (from, to)))
        .filter(|&(from, to)| cluster.link_is_up(from, to))
        .collect();
    format!(
        "{:?}\n{:?}\n{links:?}\n{}{}{}{stores}{:?}",
        cluster.now(),
        cluster.in_flight(),
        render_status(cluster),
        render_logs(cluster),
        render_leases(cluster),
        cluster.violations()
    )
}

#[test]
fn each_bad_line_is_refused_with_its_file_line_and_message() {
    for &(before, bad, error) in BAD_LINES {
        let text = format!("{before}{bad}");
        let replay = Script::parse(PATH, &text).map(Replay::run);
        let found = match &replay {
            Err(parse_error) => parse_error.to_string(),
            Ok(replay) => {
                assert!(
                    replay.rewritten().is_none(),
                    "{bad:?}: a stopped run is rewritten"
                );
                let found = replay.error.as_ref().map(ToString::to_string);
                found.unwrap_or_else(|| format!("no error; outputs {:?}", replay.outputs))
            }
        };
        assert_eq!(found, error, "for {bad:?}");
    }
}

#[test]
fn a_refused_case_changes_nothing() {
    for &(before, bad, _) in BAD_LINES {
        let Ok(script) = Script::parse(PATH, &format!("{before}{bad}")) else {
            continue; // refused before anything ran
        };
        let cases: Vec<_> = script.cases().collect();
        let (bad_case, setup) = cases.split_last().expect("the bad case");
        let mut scenario = Scenario::new();
        for case in setup {
            scenario.execute(case).expect("the setup runs");
        }
        let state = snapshot(scenario.cluster());
        assert!(scenario.execute(bad_case).is_err(), "{bad:?} ran");
        assert_eq!(
            snapshot(scenario.cluster()),
            state,
            "{bad:?} changed the cluster"
        );
    }
}

/// Before the arguments were read in order, which id `campaign 1 2` took
/// (and which argument it called unused) changed from run to run.
#[test]
fn campaign_with_two_ids_gives_the_same_error_every_time() {
    let text = format!("{CLUSTER}campaign 1 2\n----\n");
    let errors: Vec<String> = (0..20)
        .map(|_| {
            let replay = Replay::run(Script::parse(PATH, &text).expect("parse"));
            replay.error.expect("refused").to_string()
        })
        .collect();
    assert!(errors.iter().all(|error| *error == errors[0]), "{errors:?}");
}

/// A case may expect its refusal (`error: ` and the message): then the run
/// goes on past it.
#[test]
fn an_expected_refusal_is_the_case_output() {
    let text = format!(
        "{CLUSTER}campaign 1 2\n----\nerror: campaign takes one bare argument (a node id), but \"1\" is followed by \"2\"\n\nstatus\n----\n"
    );
    let replay = Replay::run(Script::parse(PATH, &text).expect("parse"));
    assert_eq!(replay.error, None);
    assert_eq!(
        replay.mismatches().len(),
        2,
        "the cluster and status outputs only"
    );
    assert_eq!(replay.outputs.len(), 3);
}

#[test]
fn the_command_line_leaves_a_broken_file_unwritten_and_says_so() {
    let directory = std::env::temp_dir().join(format!("electorate-refused-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let file = directory.join("bad.txt");
    let text = format!("{CLUSTER}status\n----\nstale\n\ncampaign 1 2\n----\n");
    std::fs::write(&file, &text).expect("write the file");
    let output = Command::new(env!("CARGO_BIN_EXE_electorate"))
        .args(["scenario", "--rewrite", "--quiet"])
        .arg(&file)
        .output()
        .expect("run electorate scenario");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    let path = file.display();
    assert!(
        stdout.contains(&format!("{path}:8: campaign takes one bare argument")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{path}: not rewritten: the run stopped at line 8")),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read back"), text);
    std::fs::remove_dir_all(&directory).expect("clean up");
}
