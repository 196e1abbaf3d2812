//! Local time as the core sees it: an opaque monotonic instant in microseconds
//! that the caller passes in. The core never reads a clock.

use std::fmt;
use std::time::Duration;

/// A point on one node's local monotonic clock, in microseconds since an
/// arbitrary origin chosen by the caller. Two nodes' `Time`s are not
/// comparable: their clocks may drift apart (within the configured bound).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Time(u64);

impl Time {
    pub const ZERO: Time = Time(0);

    pub const fn from_micros(micros: u64) -> Time {
        Time(micros)
    }

    pub const fn from_millis(millis: u64) -> Time {
        Time(millis * 1_000)
    }

    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// `self + duration`, saturating at the end of time rather than wrapping,
    /// so a deadline far in the future never becomes one in the past.
    pub fn saturating_add(self, duration: Duration) -> Time {
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        Time(self.0.saturating_add(micros))
    }

    /// The time elapsed since `earlier`, or zero when `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0 / 1_000;
        let micros = self.0 % 1_000;
        if micros == 0 {
            write!(f, "{millis}ms")
        } else {
            write!(f, "{millis}.{micros:03}ms")
        }
    }
}
