//! In-memory durable state as a [`Durability`] target: what survives a
//! crash in the simulator, the model checker and the fuzz target, where
//! "durable" means kept in the slot when the node is dropped.

use std::convert::Infallible;

use crate::harness::algorithm::{Algorithm, PersistOf};
use crate::harness::apply::Durability;

/// Persists into `A`'s durable state, record by record, in order.
pub struct Memory<'a, A: Algorithm>(pub &'a mut A::Durable);

impl<A: Algorithm> Durability<PersistOf<A>> for Memory<'_, A> {
    type Error = Infallible;

    fn persist(&mut self, records: &mut Vec<PersistOf<A>>) -> Result<(), Infallible> {
        for record in records.drain(..) {
            A::persist(self.0, record);
        }
        Ok(())
    }
}
