//! The sequential specification client histories are judged against: a
//! few compare-and-set registers, one per key of the spec, with read,
//! write and compare-and-set, for stateright's `LinearizabilityTester`.
//! Most specs name one key; a second lets a snapshot hold two pairs, so it
//! travels in two chunks (`raft.max_entries_per_append = 1`).
//!
//! A reply that says the operation certainly did not happen (a read refused
//! because the leader stepped down) is recorded as [`RegisterRet::Failed`],
//! which the specification accepts at any point without effect. A reply that
//! leaves the outcome unknown (`LeadershipLost`), or no reply at all (the
//! node crashed), leaves the operation in flight for ever: the tester may
//! then place it anywhere after its invocation, or nowhere.

use stateright::semantics::SequentialSpec;

use crate::core::client::{ClientError, Operation, Outcome, Value};

/// The most keys a spec's operations may name. A fixed array keeps the
/// registers a plain value, cloned with every model state without an
/// allocation.
pub const MAX_KEYS: usize = 3;

/// The value of each key, by the key's index in `ModelSpec::keys`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CasRegisters(pub [Option<Value>; MAX_KEYS]);

/// An operation on the register of key `key` (an index into
/// `ModelSpec::keys`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegisterOp {
    pub key: u8,
    pub kind: OpKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
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
    /// `operation` on its key, whose index in `keys` is its register.
    /// Precondition: `keys` names the key (the spec collected its keys
    /// from these operations).
    pub fn from_operation(operation: &Operation, keys: &[String]) -> RegisterOp {
        let key = keys
            .iter()
            .position(|key| key == operation.key())
            .expect("the spec's keys are those of its operations");
        assert!(
            key < MAX_KEYS,
            "validated by the spec: at most {MAX_KEYS} keys"
        );
        let kind = match operation {
            Operation::Read { .. } => OpKind::Read,
            Operation::Write { value, .. } => OpKind::Write(*value),
            Operation::CompareAndSet { expected, new, .. } => OpKind::CompareAndSet {
                expected: *expected,
                new: *new,
            },
        };
        RegisterOp {
            key: key as u8,
            kind,
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

impl SequentialSpec for CasRegisters {
    type Op = RegisterOp;
    type Ret = RegisterRet;

    fn invoke(&mut self, op: &RegisterOp) -> RegisterRet {
        let value = &mut self.0[usize::from(op.key)];
        match op.kind {
            OpKind::Read => RegisterRet::Read(*value),
            OpKind::Write(new) => {
                *value = Some(new);
                RegisterRet::Written
            }
            OpKind::CompareAndSet { expected, new } => {
                let swapped = *value == expected;
                if swapped {
                    *value = Some(new);
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

    fn on(key: u8, kind: OpKind) -> RegisterOp {
        RegisterOp { key, kind }
    }

    #[test]
    fn stale_read_after_a_completed_write_is_not_linearizable() {
        let mut tester = LinearizabilityTester::new(CasRegisters::default());
        tester.on_invoke(0, on(0, OpKind::Write(1))).unwrap();
        tester.on_return(0, RegisterRet::Written).unwrap();
        tester.on_invoke(1, on(0, OpKind::Read)).unwrap();
        tester.on_return(1, RegisterRet::Read(None)).unwrap();
        assert!(!tester.is_consistent());
    }

    #[test]
    fn an_operation_left_in_flight_may_or_may_not_take_effect() {
        let mut tester = LinearizabilityTester::new(CasRegisters::default());
        tester.on_invoke(0, on(0, OpKind::Write(1))).unwrap();
        tester.on_invoke(1, on(0, OpKind::Read)).unwrap();
        tester.on_return(1, RegisterRet::Read(Some(1))).unwrap();
        assert!(tester.is_consistent());
        tester.on_invoke(2, on(0, OpKind::Read)).unwrap();
        tester.on_return(2, RegisterRet::Read(None)).unwrap();
        assert!(!tester.is_consistent(), "1 was read, then not");
    }

    #[test]
    fn failed_operations_have_no_effect() {
        let mut tester = LinearizabilityTester::new(CasRegisters::default());
        let cas = OpKind::CompareAndSet {
            expected: None,
            new: 2,
        };
        tester.on_invoke(0, on(0, cas)).unwrap();
        tester.on_return(0, RegisterRet::Failed).unwrap();
        tester.on_invoke(1, on(0, OpKind::Read)).unwrap();
        tester.on_return(1, RegisterRet::Read(None)).unwrap();
        assert!(tester.is_consistent());
    }

    #[test]
    fn keys_are_registers_of_their_own() {
        let mut tester = LinearizabilityTester::new(CasRegisters::default());
        tester.on_invoke(0, on(1, OpKind::Write(1))).unwrap();
        tester.on_return(0, RegisterRet::Written).unwrap();
        tester.on_invoke(1, on(0, OpKind::Read)).unwrap();
        tester.on_return(1, RegisterRet::Read(None)).unwrap();
        assert!(tester.is_consistent(), "key 0 was never written");
        tester.on_invoke(2, on(1, OpKind::Read)).unwrap();
        tester.on_return(2, RegisterRet::Read(None)).unwrap();
        assert!(
            !tester.is_consistent(),
            "key 1 was written, then read unset"
        );
    }

    #[test]
    fn an_operation_is_placed_on_the_register_of_its_key() {
        let keys = ["x".to_owned(), "y".to_owned()];
        let write = Operation::Write {
            key: "y".into(),
            value: 3,
        };
        assert_eq!(
            RegisterOp::from_operation(&write, &keys),
            on(1, OpKind::Write(3))
        );
    }
}
