//! The step context: what every handler of every protocol receives.

use rand::RngCore;

use crate::core::node::Actions;
use crate::core::time::Time;

/// The step's local time, the caller's RNG and the actions being collected.
/// Handlers take it as `ctx` and append to `ctx.out`; they never read a
/// clock or draw randomness from anywhere else.
pub struct Context<'a, M, P> {
    pub now: Time,
    pub rng: &'a mut dyn RngCore,
    pub out: &'a mut Actions<M, P>,
}
