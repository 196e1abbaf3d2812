//! raft-rs's randomized election timeout, drawn from electorate's seeded RNG.
//!
//! raft-rs redraws the timeout from its thread-local RNG whenever its
//! election timer is reset (`Raft::reset`, which every `become_follower`,
//! `become_candidate` and `become_leader` calls), which would make every
//! run irreproducible. The adapter overwrites each such draw with one of
//! its own, from the same uniform range `[min_election_tick,
//! max_election_tick)`, through the public (if doc-hidden)
//! `Raft::set_randomized_election_timeout`.
//!
//! A reset cannot be observed directly, so [`ResetWatch`] infers it after
//! every call into raft-rs: every reset either changes the (term, role)
//! pair (each `become_*` that resets does, from any state it is reached
//! from) or leaves a timeout other than the one last set. Several resets
//! within one call leave only the last draw in force, so one seeded draw
//! stands for them: the timeout in force is uniform on the same range,
//! independent of the past, as raft-rs's own is.

use std::ops::Range;

use raft::{Config, Raft, StateRole, Storage};
use rand::{Rng, RngCore};

/// What the adapter last saw of a node's election timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetWatch {
    /// raft-rs's own range, in ticks (`Config::min_election_tick` up to
    /// `Config::max_election_tick`, exclusive).
    range: Range<usize>,
    term: u64,
    role: StateRole,
    timeout: usize,
}

impl ResetWatch {
    /// Watches `raft`, whose timer was last reset as it stands (a node just
    /// built: its constructor reset the timer, so [`ResetWatch::draw`]
    /// follows unless the timeout is copied from another node).
    pub fn observe<S: Storage>(config: &Config, raft: &Raft<S>) -> ResetWatch {
        ResetWatch {
            range: config.min_election_tick()..config.max_election_tick(),
            term: raft.term,
            role: raft.state,
            timeout: raft.randomized_election_timeout(),
        }
    }

    /// After a call into raft-rs: if it reset the election timer, replaces
    /// raft-rs's draw with a seeded one. Returns whether it did.
    pub fn after_call<S: Storage>(&mut self, raft: &mut Raft<S>, rng: &mut dyn RngCore) -> bool {
        let reset = raft.term != self.term
            || raft.state != self.role
            || raft.randomized_election_timeout() != self.timeout;
        if reset {
            self.draw(raft, rng);
        }
        reset
    }

    /// Replaces the timeout in force with a seeded draw.
    pub fn draw<S: Storage>(&mut self, raft: &mut Raft<S>, rng: &mut dyn RngCore) {
        let timeout = rng.random_range(self.range.clone());
        raft.set_randomized_election_timeout(timeout);
        self.term = raft.term;
        self.role = raft.state;
        self.timeout = timeout;
    }
}
