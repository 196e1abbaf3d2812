//! CLOCK_MONOTONIC, the clock every process on one host shares: lease
//! intervals that nodes report on it can be compared with each other.
//!
//! The node loop's [`Time`] counts from the moment its clock started (an
//! `Instant`, which on Linux is CLOCK_MONOTONIC itself); reading
//! CLOCK_MONOTONIC at that moment gives the offset that maps one onto the
//! other.

use crate::core::time::Time;

/// Seconds on CLOCK_MONOTONIC now.
#[cfg(unix)]
pub fn monotonic_seconds_now() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_MONOTONIC exists on
    // every unix this crate builds for, so the call cannot fail.
    let result = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    assert_eq!(result, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

/// Without CLOCK_MONOTONIC: seconds since this process first asked, which
/// only compares within one process.
#[cfg(not(unix))]
pub fn monotonic_seconds_now() -> f64 {
    use std::sync::OnceLock;
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    ORIGIN
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// Maps the loop's [`Time`] onto CLOCK_MONOTONIC seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MonotonicOffset {
    /// CLOCK_MONOTONIC, in seconds, at the loop's `Time::ZERO`.
    pub origin_seconds: f64,
}

impl MonotonicOffset {
    pub fn seconds(&self, time: Time) -> f64 {
        self.origin_seconds + time.as_micros() as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monotonic_clock_does_not_run_backwards() {
        let first = monotonic_seconds_now();
        let second = monotonic_seconds_now();
        assert!(second >= first && first > 0.0);
    }

    #[test]
    fn loop_time_is_shifted_by_the_origin() {
        let offset = MonotonicOffset {
            origin_seconds: 100.0,
        };
        assert_eq!(offset.seconds(Time::from_millis(1_500)), 101.5);
    }
}
