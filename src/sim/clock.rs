//! Simulated local clocks: each node's clock runs at its own rate relative to
//! real (simulated) time, and may jump forward, so leases can be tested
//! against clock drift and against clocks that break their drift bound.

use std::time::Duration;

use crate::core::time::Time;
use crate::harness::clock::LocalClock;

const PPM: i128 = 1_000_000;

/// `local(real) = offset + real * (1 + rate_ppm / 10^6)`. A rate of
/// `-100_000` is a clock running 10% slow. Rates stay above -10^6 and the
/// offset only grows, so local time never runs backwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DriftingClock {
    rate_ppm: i64,
    offset_micros: u64,
}

impl DriftingClock {
    pub fn with_rate_ppm(rate_ppm: i64) -> DriftingClock {
        assert!(rate_ppm > -1_000_000, "a clock must move forward");
        DriftingClock {
            rate_ppm,
            offset_micros: 0,
        }
    }

    pub fn rate_ppm(&self) -> i64 {
        self.rate_ppm
    }

    /// The clock leaps ahead by `by` (an NTP step, a VM resumed on another
    /// host): beyond any drift bound, which is what makes it a named fault.
    pub fn jump_forward(&mut self, by: Duration) {
        let micros = u64::try_from(by.as_micros()).unwrap_or(u64::MAX);
        self.offset_micros = self.offset_micros.saturating_add(micros);
    }

    /// The local reading at real time `real`.
    pub fn local(&self, real: Time) -> Time {
        // The common cases in 64-bit arithmetic (128-bit division is slow
        // and this runs for every node at every simulated step).
        if self.rate_ppm == 0 {
            return Time::from_micros(real.as_micros().saturating_add(self.offset_micros));
        }
        let speed = (1_000_000 + self.rate_ppm) as u64;
        if let Some(scaled) = real.as_micros().checked_mul(speed) {
            return Time::from_micros((scaled / 1_000_000).saturating_add(self.offset_micros));
        }
        let real = i128::from(real.as_micros());
        let local = real * (PPM + i128::from(self.rate_ppm)) / PPM + i128::from(self.offset_micros);
        Time::from_micros(u64::try_from(local).unwrap_or(u64::MAX))
    }

    /// The earliest real time at which the local clock reads at least
    /// `local`.
    pub fn real_time_of(&self, local: Time) -> Time {
        let Some(target) = local.as_micros().checked_sub(self.offset_micros) else {
            return Time::ZERO;
        };
        let speed = PPM + i128::from(self.rate_ppm);
        let estimate = (i128::from(target) * PPM + speed - 1) / speed;
        let mut real = u64::try_from(estimate).unwrap_or(u64::MAX);
        while real < u64::MAX && self.local(Time::from_micros(real)) < local {
            real += 1;
        }
        while real > 0 && self.local(Time::from_micros(real - 1)) >= local {
            real -= 1;
        }
        Time::from_micros(real)
    }
}

impl LocalClock for DriftingClock {
    fn local(&self, real: Time) -> Time {
        DriftingClock::local(self, real)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_of_inverts_local() {
        for rate in [-500_000, -166_667, -1, 0, 1, 100_000, 250_000] {
            for jump in [0, 1, 250_000] {
                let mut clock = DriftingClock::with_rate_ppm(rate);
                clock.jump_forward(Duration::from_micros(jump));
                for micros in [0, 1, 7, 999, 150_000, 123_456_789] {
                    let local = Time::from_micros(micros);
                    let real = clock.real_time_of(local);
                    assert!(
                        clock.local(real) >= local,
                        "rate {rate}, jump {jump}, {micros}"
                    );
                    if real > Time::ZERO {
                        let before = Time::from_micros(real.as_micros() - 1);
                        assert!(clock.local(before) < local, "rate {rate}, {micros}");
                    }
                }
            }
        }
    }
}
