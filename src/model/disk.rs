//! Disk faults in the model (`[disk]` in a spec), built from the
//! simulator's: a step taken on a disk whose write fails
//! ([`FailingStep`], `crate::harness::disk`) and the recovery rule for
//! damaged synced data ([`recover_damaged`]).
//!
//! - **Power loss during a write** (`disk.max_power_losses`): any step of a
//!   node that has records to persist may instead lose power while they are
//!   written. The log format makes a batch reach the disk whole or not at
//!   all (a torn unsynced tail is cut on recovery), so the model offers both
//!   outcomes; either way nothing of the step is sent and the node is down,
//!   to restart later from what survived. A step with nothing to persist
//!   has no write to fail, so no power-loss variant of it exists.
//! - **Damaged storage on restart** (`disk.max_damaged_nodes`): a crashed
//!   node finds its synced data damaged when it restarts. Recovery refuses
//!   such data, so the node stays down for the rest of the run and counts
//!   as failed; the spec keeps at most a minority so a majority can still
//!   elect and commit.
//! - **A crash between a snapshot and the compaction**
//!   (`cluster.crash_before_compaction`, counted against
//!   `cluster.max_crashes`): a step that takes or installs a snapshot may
//!   crash after the snapshot's record is durable and before the log is
//!   rewritten without the entries it covers. The disk then holds the new
//!   snapshot beside the old log; a restart recovers from both as
//!   `DurableState::recovered` says
//!   ([`ModelVariant::durable_before_compaction`]), and the records of the
//!   batch after the snapshot's are lost.
//!
//! All are off unless a spec asks for them, so every other spec explores
//! exactly the states it did before.

use std::sync::Arc;

use crate::core::node::NodeId;
use crate::harness::disk::{recover_damaged, FailingStep, FailingWrite};
use crate::model::action::Action;
use crate::model::cluster::{ActionOf, ClusterModel};
use crate::model::rng::Draw;
use crate::model::spec::DiskSpec;
use crate::model::step::{Fault, WentDown};
use crate::model::variant::{ModelVariant, StateOf};

/// Adds, while the budget lasts, every step of a node among `actions` once
/// more for each outcome of a power loss during its write.
pub fn power_loss_actions<M: Clone>(
    disk: &DiskSpec,
    power_losses: u32,
    actions: &mut Vec<Action<M>>,
) {
    if power_losses >= disk.max_power_losses {
        return;
    }
    let steps = node_steps(actions);
    for step in steps {
        for batch_survives in [false, true] {
            actions.push(Action::PowerLoss {
                step: Box::new(step.clone()),
                batch_survives,
            });
        }
    }
}

/// Adds every step of a node among `actions` once more with a crash
/// between the snapshot record of its batch and the log's compaction
/// (`cluster.crash_before_compaction`; the caller checks the crash budget).
/// Only steps that take or install a snapshot have that crash point; the
/// others give no state (`ClusterModel::next_state` returns `None`).
pub fn crash_before_compaction_actions<M: Clone>(actions: &mut Vec<Action<M>>) {
    let steps = node_steps(actions);
    for step in steps {
        actions.push(Action::CrashBeforeCompaction(Box::new(step)));
    }
}

/// The steps of a node among `actions` (ticks and deliveries), the ones a
/// disk fault can strike.
fn node_steps<M: Clone>(actions: &[Action<M>]) -> Vec<Action<M>> {
    actions
        .iter()
        .filter(|action| action.stepped_node().is_some())
        .cloned()
        .collect()
}

/// Whether a crashed node may yet be found on damaged storage when it
/// restarts: fewer nodes than the budget are down for good. (A deliberate
/// bug that restarts such a node blank leaves none down for good; the
/// crash budgets still bound how often it happens.)
pub fn may_be_damaged<V: ModelVariant>(disk: &DiskSpec, state: &StateOf<V>) -> bool {
    state.lost_for_good() < disk.max_damaged_nodes
}

impl<V: ModelVariant> ClusterModel<V> {
    /// `step` with power lost during its write. `None` if the step had
    /// nothing to write: then it is the plain step, offered on its own.
    pub(crate) fn power_loss(
        &self,
        state: &mut StateOf<V>,
        step: ActionOf<V>,
        batch_survives: bool,
    ) -> Option<()> {
        let id = step.stepped_node().expect("power is lost during a step");
        let failing = FailingStep {
            write: FailingWrite::PowerLoss { batch_survives },
            bugs: self.disk_bugs(),
        };
        match self.take_step(state, step, Some(Fault::Write(failing)), Draw::Shortest) {
            Ok(_) => None,
            Err(WentDown) => {
                state.power_losses += 1;
                self.take_down(state, id);
                Some(())
            }
        }
    }

    /// Crashed node `id` restarts on damaged storage: it refuses to start
    /// and is down for good, its data of no more use (cleared, so states
    /// that differ only in what it held are one) and the messages to it
    /// lost (now and later: they would only fill the network). A
    /// deliberate bug may restart it blank instead.
    pub(crate) fn restart_on_damaged_storage(&self, state: &mut StateOf<V>, id: NodeId) {
        let recovered = recover_damaged::<V>(self.disk_bugs());
        let slot = state.slot_mut(id);
        assert!(slot.node.is_none(), "only a crashed node restarts");
        match recovered {
            None => {
                slot.lost_for_good = true;
                slot.durable = Arc::new(V::Durable::default());
                state.network.discard_to(id);
            }
            Some(blank) => {
                slot.durable = Arc::new(blank);
                self.restart(state, id, Draw::Shortest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use stateright::Model;

    use super::*;
    use crate::core::node::Node;
    use crate::harness::algorithm::Raft;
    use crate::model::cluster::tests::{actions, before_timeout};
    use crate::model::spec::tests::probe;
    use crate::model::spec::ModelSpec;
    use crate::model::RaftModel;

    /// A 3-node model with `pre_vote` as given (off, the first timeout is a
    /// campaign that persists the new term and the vote for itself before
    /// the vote requests may leave; on, it is a pre-vote that writes
    /// nothing) and the `[disk]` budgets `disk` (none if empty).
    fn model(pre_vote: bool, disk: &str) -> RaftModel {
        let raft = format!("pre_vote = {pre_vote}");
        let mut tables = vec![("raft", raft.as_str())];
        if !disk.is_empty() {
            tables.push(("disk", disk));
        }
        let text = probe("explicit", &tables);
        let spec = ModelSpec::parse(Path::new("probe.toml"), &text).expect("the probe parses");
        RaftModel::new(spec)
    }

    fn power_loss(step: ActionOf<Raft>, batch_survives: bool) -> ActionOf<Raft> {
        Action::PowerLoss {
            step: Box::new(step),
            batch_survives,
        }
    }

    fn is_disk_fault<M>(action: &Action<M>) -> bool {
        matches!(
            action,
            Action::PowerLoss { .. } | Action::RestartOnDamagedStorage(_)
        )
    }

    #[test]
    fn without_a_disk_budget_no_disk_fault_is_offered() {
        let model = model(false, "");
        let state = before_timeout(&model);
        let campaigned = model.next_state(&state, Action::Tick(1)).unwrap();
        assert_eq!(campaigned.network.len(), 2, "a vote request to each peer");
        let crashed = model.next_state(&campaigned, Action::Crash(1));
        for state in [Some(state), Some(campaigned), crashed]
            .into_iter()
            .flatten()
        {
            let offered = actions(&model, &state);
            assert!(!offered.iter().any(is_disk_fault), "{offered:?}");
        }
    }

    #[test]
    fn power_lost_during_a_campaign_sends_nothing_and_keeps_the_batch_whole_or_not_at_all() {
        let model = model(false, "max_power_losses = 1");
        let state = before_timeout(&model);
        let offered = actions(&model, &state);
        for batch_survives in [false, true] {
            let action = power_loss(Action::Tick(1), batch_survives);
            assert!(offered.contains(&action), "{offered:?}");
            let next = model
                .next_state(&state, action)
                .expect("the campaign writes");
            assert!(next.node(1).is_none(), "the node is down");
            assert_eq!(next.network.len(), 0, "nothing of the step is sent");
            assert_eq!(next.power_losses, 1);
            let hard_state = next.slot(1).durable.hard_state;
            let expected = if batch_survives {
                (1, Some(1))
            } else {
                (0, None)
            };
            assert_eq!((hard_state.term.get(), hard_state.voted_for), expected);
            let offered = actions(&model, &next);
            assert!(
                !offered
                    .iter()
                    .any(|action| matches!(action, Action::PowerLoss { .. })),
                "the budget is spent: {offered:?}"
            );
            let restarted = model.next_state(&next, Action::Restart(1)).unwrap();
            assert_eq!(restarted.node(1).unwrap().term(), expected.0);
        }
    }

    #[test]
    fn a_step_with_nothing_to_write_has_no_power_loss() {
        let model = model(true, "max_power_losses = 1");
        let state = before_timeout(&model);
        let pre_vote = model.next_state(&state, Action::Tick(1)).unwrap();
        assert_eq!(pre_vote.network.len(), 2, "a pre-vote request to each peer");
        for batch_survives in [false, true] {
            let action = power_loss(Action::Tick(1), batch_survives);
            assert!(model.next_state(&state, action).is_none());
        }
    }

    #[test]
    fn a_node_on_damaged_storage_stays_down_for_good() {
        let model = model(false, "max_power_losses = 1\nmax_damaged_nodes = 1");
        let state = before_timeout(&model);
        let down = model
            .next_state(&state, power_loss(Action::Tick(1), true))
            .unwrap();
        let offered = actions(&model, &down);
        assert!(offered.contains(&Action::Restart(1)), "{offered:?}");
        assert!(offered.contains(&Action::RestartOnDamagedStorage(1)));
        let lost = model
            .next_state(&down, Action::RestartOnDamagedStorage(1))
            .unwrap();
        assert!(lost.slot(1).lost_for_good && lost.node(1).is_none());
        assert_eq!(lost.lost_for_good(), 1);
        assert_eq!(
            *lost.slot(1).durable,
            Default::default(),
            "its data is dropped"
        );
        let offered = actions(&model, &lost);
        let about_node_1 = |action: &&ActionOf<Raft>| {
            action.stepped_node() == Some(1)
                || matches!(action, Action::Restart(1) | Action::ClockJump(1))
                || is_disk_fault(action)
        };
        assert!(!offered.iter().any(|a| about_node_1(&a)), "{offered:?}");
    }
}
