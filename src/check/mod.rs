//! Checkers that judge runs from the outside: property monitors over node
//! states, shared by the scenario harness, the simulator, the model checker
//! and the tests.

pub mod properties;
