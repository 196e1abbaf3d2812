//! The scripted stale read of `tests/testdata/raft-rs/lease_stale_read.txt`
//! judged by the linearizability check, not by its `expect` lines: the
//! clients' operations of that script are recorded as a history and handed
//! to the same checker (and key-value model) that judges every simulated
//! run. raft-rs's lease-based reads give a history no order explains (a
//! finding about raft-rs); its ReadIndex reads, in the same script, give a
//! linearizable one.

use std::time::Duration;

use super::{RaftRs, Settings};
use crate::check::{check, Budget, History, KeyValue, Verdict};
use crate::core::client::{ClientRequest, Operation, RequestId};
use crate::core::node::NodeId;
use crate::sim::cluster::Cluster;
use crate::sim::workload::{jepsen_events, HistoryEvent, HistoryKind};

/// A scripted cluster whose client operations are recorded, one process
/// each, in the order the script sees them start and end.
struct Recorded {
    cluster: Cluster<RaftRs>,
    history: Vec<HistoryEvent>,
    open: Vec<(u64, ClientRequest)>,
}

impl Recorded {
    fn new(lease_reads: bool) -> Recorded {
        let settings = Settings {
            lease_reads,
            // As the scenario runner clocks raft-rs: whole ticks from 0.
            random_tick_phase: false,
            ..Settings::default()
        };
        Recorded {
            cluster: Cluster::start(RaftRs { settings }, 3, 1),
            history: Vec::new(),
            open: Vec::new(),
        }
    }

    fn invoke(&mut self, node: NodeId, operation: Operation) -> RequestId {
        let id = self.cluster.request(node, operation.clone());
        let process = self.history.len() as u64;
        let request = ClientRequest { id, operation };
        self.push(process, HistoryKind::Invoke, &request, None);
        self.open.push((process, request));
        self.settle();
        id
    }

    /// Records the completion of every open operation that got its reply.
    fn settle(&mut self) {
        let open = std::mem::take(&mut self.open);
        for (process, request) in open {
            let Some(reply) = self.cluster.reply_to(request.id).cloned() else {
                self.open.push((process, request));
                continue;
            };
            let (kind, outcome) = match reply.result {
                Ok(outcome) => (HistoryKind::Ok, Some(outcome)),
                Err(error) if error.is_indefinite() => (HistoryKind::Info, None),
                Err(_) => (HistoryKind::Fail, None),
            };
            self.push(process, kind, &request, outcome);
        }
    }

    fn push(
        &mut self,
        process: u64,
        kind: HistoryKind,
        request: &ClientRequest,
        outcome: Option<crate::core::client::Outcome>,
    ) {
        self.history.push(HistoryEvent {
            time: self.cluster.now(),
            process,
            kind,
            request: request.clone(),
            outcome,
        });
    }

    fn run(&mut self, duration: Duration) {
        self.cluster.run_for(duration);
        self.settle();
    }

    fn stabilize(&mut self) {
        self.cluster.stabilize(100);
        self.settle();
    }

    fn verdict(&self) -> Verdict {
        let history = History::from_events(jepsen_events(&self.history)).expect("well-formed");
        check(&history, &KeyValue::default(), Budget::steps(1_000_000))
            .expect("the checker takes the history")
            .verdict
    }
}

fn write(value: u64) -> Operation {
    Operation::Write {
        key: "x".to_owned(),
        value,
    }
}

/// lease_stale_read.txt's script: x=1 committed by node 1, node 1 cut
/// off, x=2 written at its successor and acknowledged, then a read at node
/// 1 while it still believes it leads. Returns the verdict on the history.
fn stale_read_script(lease_reads: bool) -> (Recorded, RequestId) {
    let mut run = Recorded::new(lease_reads);
    run.cluster.campaign(1);
    run.stabilize();
    let first = run.invoke(1, write(1));
    run.stabilize();
    assert!(run.cluster.reply_to(first).is_some(), "x=1 acknowledged");
    run.cluster.isolate(1);
    run.run(Duration::from_millis(250));
    assert_eq!(
        run.cluster.leaders(),
        vec![1, 3],
        "1 still believes it leads"
    );
    let second = run.invoke(3, write(2));
    run.run(Duration::from_millis(20));
    assert!(run.cluster.reply_to(second).is_some(), "x=2 acknowledged");
    let read = run.invoke(
        1,
        Operation::Read {
            key: "x".to_owned(),
        },
    );
    run.run(Duration::from_millis(110));
    (run, read)
}

#[test]
fn raft_rs_lease_reads_return_a_stale_value_the_checker_rejects() {
    let (run, read) = stale_read_script(true);
    assert!(
        run.cluster.reply_to(read).is_some(),
        "the read was answered"
    );
    assert!(
        matches!(run.verdict(), Verdict::NotLinearizable(_)),
        "{:?}",
        run.history
    );
}

#[test]
fn raft_rs_read_index_reads_stay_linearizable_in_the_same_script() {
    let (run, read) = stale_read_script(false);
    assert!(
        run.cluster.reply_to(read).is_some(),
        "the read was refused at step-down"
    );
    assert_eq!(run.verdict(), Verdict::Linearizable, "{:?}", run.history);
}
