//! The sequential specification client histories are judged against: one
//! register with read, write and compare-and-set, for stateright's
//! `LinearizabilityTester`.
//!
//! A reply that says the operation certainly did not happen (a read refused
//! because the leader stepped down) is recorded as [`RegisterRet::Failed`],
//! which the specification accepts at any point without effect. A reply that
//! leaves the outcome unknown (`LeadershipLost`), or no reply at all (the
//! node crashed), leaves the operation in flight for ever: the tester may
//! then place it anywhere after its invocation, or nowhere.

use stateright::semantics::SequentialSpec;

use crate::core::client::{ClientError, Operation, Outcome, Value};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CasRegister(pub Option<Value>);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    Read,
    Write(Value),
    CompareAndSet { expected: Option<Value>, new: Value },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterRet {
    Read(Option<Value>),
    Written,
    CompareAndSet {
        swapped: bool,
    },
    /// The operation certainly had no effect.
    Failed,
}

impl RegisterOp {
    pub fn from_operation(operation: &Operation) -> RegisterOp {
        match operation {
            Operation::Read { .. } => RegisterOp::Read,
            Operation::Write { value, .. } => RegisterOp::Write(*value),
            Operation::CompareAndSet { expected, new, .. } => RegisterOp::CompareAndSet {
                expected: *expected,
                new: *new,
            },
        }
    }
}

impl RegisterRet {
    /// What a reply tells the history, or `None` when the outcome is unknown
    /// and the operation stays in flight.
    pub fn from_result(result: &Result<Outcome, ClientError>) -> Option<RegisterRet> {
        match result {
            Ok(Outcome::Read(value)) => Some(RegisterRet::Read(*value)),
            Ok(Outcome::Written) => Some(RegisterRet::Written),
            Ok(Outcome::CompareAndSet { swapped }) => {
                Some(RegisterRet::CompareAndSet { swapped: *swapped })
            }
            Err(error) if error.is_indefinite() => None,
            Err(_) => Some(RegisterRet::Failed),
        }
    }
}

impl SequentialSpec for CasRegister {
    type Op = RegisterOp;
    type Ret = RegisterRet;

    fn invoke(&mut self, op: &RegisterOp) -> RegisterRet {
        match *op {
            RegisterOp::Read => RegisterRet::Read(self.0),
            RegisterOp::Write(value) => {
                self.0 = Some(value);
                RegisterRet::Written
            }
            RegisterOp::CompareAndSet { expected, new } => {
                let swapped = self.0 == expected;
                if swapped {
                    self.0 = Some(new);
                }
                RegisterRet::CompareAndSet { swapped }
            }
        }
    }

    fn is_valid_step(&mut self, op: &RegisterOp, ret: &RegisterRet) -> bool {
        if *ret == RegisterRet::Failed {
            return true;
        }
        self.invoke(op) == *ret
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::semantics::{ConsistencyTester, LinearizabilityTester};

    #[test]
    fn stale_read_after_a_completed_write_is_not_linearizable() {
        let mut tester = LinearizabilityTester::new(CasRegister::default());
        tester.on_invoke(0, RegisterOp::Write(1)).unwrap();
        tester.on_return(0, RegisterRet::Written).unwrap();
        tester.on_invoke(1, RegisterOp::Read).unwrap();
        tester.on_return(1, RegisterRet::Read(None)).unwrap();
        assert!(!tester.is_consistent());
    }

    #[test]
    fn an_operation_left_in_flight_may_or_may_not_take_effect() {
        let mut tester = LinearizabilityTester::new(CasRegister::default());
        tester.on_invoke(0, RegisterOp::Write(1)).unwrap();
        tester.on_invoke(1, RegisterOp::Read).unwrap();
        tester.on_return(1, RegisterRet::Read(Some(1))).unwrap();
        assert!(tester.is_consistent());
        tester.on_invoke(2, RegisterOp::Read).unwrap();
        tester.on_return(2, RegisterRet::Read(None)).unwrap();
        assert!(!tester.is_consistent(), "1 was read, then not");
    }

    #[test]
    fn failed_operations_have_no_effect() {
        let mut tester = LinearizabilityTester::new(CasRegister::default());
        tester
            .on_invoke(
                0,
                RegisterOp::CompareAndSet {
                    expected: None,
                    new: 2,
                },
            )
            .unwrap();
        tester.on_return(0, RegisterRet::Failed).unwrap();
        tester.on_invoke(1, RegisterOp::Read).unwrap();
        tester.on_return(1, RegisterRet::Read(None)).unwrap();
        assert!(tester.is_consistent());
    }
}
