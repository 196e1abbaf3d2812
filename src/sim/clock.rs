//! Simulated local clocks: each node's clock runs at its own rate relative to
//! real (simulated) time, so leases can be tested against clock drift.

use crate::core::time::Time;

const PPM: i128 = 1_000_000;

/// `local(real) = real * (1 + rate_ppm / 10^6)`. A rate of `-100_000` is a
/// clock running 10% slow. Rates are kept above -10^6 so time moves forward.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DriftingClock {
    rate_ppm: i64,
}

impl DriftingClock {
    pub fn with_rate_ppm(rate_ppm: i64) -> DriftingClock {
        assert!(rate_ppm > -1_000_000, "a clock must move forward");
        DriftingClock { rate_ppm }
    }

    pub fn rate_ppm(&self) -> i64 {
        self.rate_ppm
    }

    /// The local reading at real time `real`.
    pub fn local(&self, real: Time) -> Time {
        let real = i128::from(real.as_micros());
        let local = real * (PPM + i128::from(self.rate_ppm)) / PPM;
        Time::from_micros(u64::try_from(local).unwrap_or(u64::MAX))
    }

    /// The earliest real time at which the local clock reads at least
    /// `local`.
    pub fn real_time_of(&self, local: Time) -> Time {
        let target = i128::from(local.as_micros());
        let speed = PPM + i128::from(self.rate_ppm);
        let estimate = (target * PPM + speed - 1) / speed;
        let mut real = u64::try_from(estimate).unwrap_or(u64::MAX);
        while self.local(Time::from_micros(real)) < local {
            real += 1;
        }
        while real > 0 && self.local(Time::from_micros(real - 1)) >= local {
            real -= 1;
        }
        Time::from_micros(real)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_of_inverts_local() {
        for rate in [-500_000, -166_667, -1, 0, 1, 100_000, 250_000] {
            let clock = DriftingClock::with_rate_ppm(rate);
            for micros in [0, 1, 7, 999, 150_000, 123_456_789] {
                let local = Time::from_micros(micros);
                let real = clock.real_time_of(local);
                assert!(clock.local(real) >= local, "rate {rate}, {micros}");
                if real > Time::ZERO {
                    let before = Time::from_micros(real.as_micros() - 1);
                    assert!(clock.local(before) < local, "rate {rate}, {micros}");
                }
            }
        }
    }
}
