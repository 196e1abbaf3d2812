//! Helpers for the tests of real nodes (threads or processes): a scratch
//! directory per test, and waiting for something that takes a while.

use std::fmt::Display;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// An empty scratch directory for the test `name`, unique to this test
/// process (left over from an earlier run: removed first).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("electorate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Calls `attempt` every 20 ms until it gives a value; after `within`,
/// fails with `what` and the reason `attempt` last gave.
pub fn poll<T, E: Display>(
    what: &str,
    within: Duration,
    mut attempt: impl FnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        match attempt() {
            Ok(value) => return value,
            Err(reason) => {
                assert!(Instant::now() < deadline, "{what}: {reason}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
