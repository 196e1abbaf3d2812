//! The threading primitives of the driver's concurrent parts: `std`'s in a
//! normal build, loom's under `RUSTFLAGS="--cfg loom"`, so `tests/loom.rs`
//! explores every interleaving of the very code the node runs.
//!
//! Only the hand-off structures ([`crate::driver::mailbox`]) go through this
//! module; threads that own sockets and files use `std` directly, since loom
//! cannot model I/O.

use std::time::Duration;

#[cfg(loom)]
pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub use loom::thread;

#[cfg(not(loom))]
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub use std::thread;

/// Locks `mutex`, ignoring poisoning: the driver's shared state stays valid
/// across a panic in another thread (every critical section is a single
/// queue operation), and the panic itself is reported where it happened.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits on `condvar` for at most `timeout`. Under loom, time does not
/// exist: the wait ends only when notified (loom reports a deadlock if
/// nothing ever notifies), which is what a test of lost wake-ups wants.
pub fn wait_timeout<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Duration,
) -> MutexGuard<'a, T> {
    match condvar.wait_timeout(guard, timeout) {
        Ok((guard, _)) => guard,
        Err(poisoned) => poisoned.into_inner().0,
    }
}

/// A point in time a wait must not pass. Under loom it never arrives.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    #[cfg(not(loom))]
    at: std::time::Instant,
}

impl Deadline {
    pub fn after(timeout: Duration) -> Deadline {
        #[cfg(not(loom))]
        {
            let now = std::time::Instant::now();
            Deadline {
                at: now
                    .checked_add(timeout)
                    .unwrap_or(now + Duration::from_secs(86_400)),
            }
        }
        #[cfg(loom)]
        {
            let _ = timeout;
            Deadline {}
        }
    }

    /// The time left, or `None` once the deadline has passed.
    pub fn remaining(&self) -> Option<Duration> {
        #[cfg(not(loom))]
        {
            let left = self.at.saturating_duration_since(std::time::Instant::now());
            (!left.is_zero()).then_some(left)
        }
        #[cfg(loom)]
        {
            Some(Duration::from_secs(1))
        }
    }
}
