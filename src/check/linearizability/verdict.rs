//! What the checker concludes, and the budget it may spend concluding it.

use std::fmt;
use std::time::{Duration, Instant};

use crate::check::history::OperationId;
use crate::check::position::Position;
use crate::check::value::Value;

/// How much work the checker may do before it gives up with
/// [`Verdict::Unknown`]. Deciding linearizability is NP-complete, so some
/// histories need a bound. A step budget is deterministic (the same history
/// gives the same verdict on any machine), so tests and the simulator should
/// prefer it; a timeout suits interactive use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    /// Search steps (one per entry the search visits), over all partitions.
    pub max_steps: Option<u64>,
    /// Wall-clock time, over all partitions.
    pub timeout: Option<Duration>,
}

impl Budget {
    pub fn unlimited() -> Budget {
        Budget::default()
    }

    pub fn steps(max_steps: u64) -> Budget {
        Budget {
            max_steps: Some(max_steps),
            timeout: None,
        }
    }

    pub fn timeout(timeout: Duration) -> Budget {
        Budget {
            max_steps: None,
            timeout: Some(timeout),
        }
    }
}

/// Why the checker could not decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownReason {
    StepBudgetExhausted { max_steps: u64 },
    TimedOut { timeout: Duration },
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnknownReason::StepBudgetExhausted { max_steps } => {
                write!(
                    formatter,
                    "the search used up its budget of {max_steps} steps"
                )
            }
            UnknownReason::TimedOut { timeout } => {
                write!(
                    formatter,
                    "the search timed out after {:.3} s",
                    timeout.as_secs_f64()
                )
            }
        }
    }
}

/// A history that is not linearizable, explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The partition (key) whose operations cannot be linearized; `None`
    /// for operations without a key.
    pub partition_key: Option<Value>,
    /// The operation that cannot be linearized: the search found no order
    /// of the operations before its completion that lets it take effect.
    /// Of all such dead ends it is the one that completes last, i.e. the
    /// history is explained furthest before it.
    pub operation: OperationId,
    /// The longest order of operations that linearizes everything up to
    /// that dead end, as the search found it.
    pub linearized_prefix: Vec<OperationId>,
    /// The model state after `linearized_prefix`.
    pub state: String,
    /// Whether `operation` itself is impossible in `state` (rather than
    /// possible there, but a dead end for the operations after it).
    pub impossible_in_state: bool,
    /// The operations of the same key that overlap `operation` in real time
    /// and are not in the prefix: those the search tried in its place (with
    /// `operation`, Knossos's "final paths").
    pub concurrent: Vec<OperationId>,
    /// `operation` and each of `concurrent`, with what taking effect next
    /// in `state` would do.
    pub tried: Vec<Attempt>,
}

/// One operation the search could try after the longest prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub operation: OperationId,
    /// The state it leads to; `None`: it is impossible there.
    pub state_after: Option<String>,
}

/// The operations of one key, as the search took them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub key: Option<Value>,
    /// The operations searched (failed ones and reads of unknown outcome
    /// excluded), in invocation order.
    pub operations: Vec<OperationId>,
}

/// Whether a history is linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    NotLinearizable(Box<Violation>),
    Unknown {
        reason: UnknownReason,
        /// The partition the search was in when it gave up.
        partition_key: Option<Value>,
    },
}

impl Verdict {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable)
    }

    /// `linearizable`, `not linearizable` or `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Linearizable => "linearizable",
            Verdict::NotLinearizable(_) => "not linearizable",
            Verdict::Unknown { .. } => "unknown",
        }
    }
}

/// What the search did, for reports and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Operations the search had to place (fails and unknown reads excluded).
    pub operation_count: usize,
    pub partition_count: usize,
    pub steps: u64,
    /// Configurations remembered, summed over partitions.
    pub memo_entry_count: usize,
}

/// The verdict with what it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    pub verdict: Verdict,
    pub statistics: Statistics,
    /// The keys, in order, and their operations.
    pub partitions: Vec<Partition>,
}

/// Why a history cannot be checked against a model at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("{}operation {operation} cannot be checked: {reason}", at(position))]
    Unsupported {
        operation: OperationId,
        /// Where the event whose value the model rejected is in the file.
        position: Option<Position>,
        reason: String,
    },
}

fn at(position: &Option<Position>) -> String {
    position.map_or_else(String::new, |position| format!("{position}: "))
}

/// Counts steps against a [`Budget`].
pub(crate) struct Meter {
    pub(crate) steps: u64,
    max_steps: Option<u64>,
    deadline: Option<(Instant, Duration)>,
}

/// Reading the clock costs tens of nanoseconds, a search step a few: look
/// at the clock only every this many steps.
const STEPS_PER_CLOCK_READ: u64 = 1024;

impl Meter {
    pub(crate) fn new(budget: Budget) -> Meter {
        Meter {
            steps: 0,
            max_steps: budget.max_steps,
            deadline: budget
                .timeout
                .map(|timeout| (Instant::now() + timeout, timeout)),
        }
    }

    /// Counts one step; `Err` once the budget is spent.
    pub(crate) fn step(&mut self) -> Result<(), UnknownReason> {
        self.steps += 1;
        if let Some(max_steps) = self.max_steps {
            if self.steps > max_steps {
                return Err(UnknownReason::StepBudgetExhausted { max_steps });
            }
        }
        if let Some((deadline, timeout)) = self.deadline {
            if self.steps % STEPS_PER_CLOCK_READ == 0 && Instant::now() >= deadline {
                return Err(UnknownReason::TimedOut { timeout });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_budget_allows_exactly_that_many_steps() {
        let mut meter = Meter::new(Budget::steps(3));
        assert!((0..3).all(|_| meter.step().is_ok()));
        assert_eq!(
            meter.step(),
            Err(UnknownReason::StepBudgetExhausted { max_steps: 3 })
        );
    }

    #[test]
    fn a_timeout_is_noticed_within_one_clock_read_interval() {
        let mut meter = Meter::new(Budget::timeout(Duration::ZERO));
        let steps_until_noticed = (1..=2 * STEPS_PER_CLOCK_READ).find(|_| meter.step().is_err());
        assert_eq!(steps_until_noticed, Some(STEPS_PER_CLOCK_READ));
    }

    #[test]
    fn an_unlimited_budget_never_runs_out() {
        let mut meter = Meter::new(Budget::unlimited());
        assert!((0..10 * STEPS_PER_CLOCK_READ).all(|_| meter.step().is_ok()));
    }
}
