//! The timings of a lease-lock candidate, and the check that they keep
//! Exclusive Holding under the configured drift bound.

use std::time::Duration;

/// Who decides that a lease has expired. The two fail differently: with
/// store expiry, Exclusive Holding rests on the store's clock not running
/// fast against the holder's; with challenger expiry the store's clock
/// plays no part, and it rests on each challenger's clock not running fast
/// against the holder's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// The store, by its own clock (etcd's leases): a grant asks for the
    /// TTL and the store frees the key when it runs out.
    #[default]
    Store,
    /// The challengers (Kubernetes' client-go): the store never expires
    /// the record; a challenger that has seen it unchanged (holder,
    /// revision, renewals) for the TTL by its own clock takes it over by
    /// compare-and-set on the version it saw.
    Challenger,
}

impl Expiry {
    /// The name the command line and the model specs use.
    pub fn name(self) -> &'static str {
        match self {
            Expiry::Store => "store",
            Expiry::Challenger => "challenger",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// The lease duration: asked of the store, in store time (store
    /// expiry), or waited out by a challenger on its own clock (challenger
    /// expiry).
    pub ttl: Duration,
    /// The holder renews this many thousandths of the TTL after the send
    /// time of its last grant or renewal (the seeds suggest 1/3 to 1/2).
    pub renew_permille: u32,
    /// The holder stops acting as leader this long before its lease ends by
    /// its own clock (Chubby: 5 s early on a 12 s lease).
    pub safety_margin: Duration,
    /// The largest rate, in parts per million, at which any clock in the
    /// run (candidates' and the store's) may run fast or slow.
    pub clock_drift_ppm: u32,
    /// A candidate whose acquisition was refused tries again after a delay
    /// drawn uniformly from `[retry_min, retry_max)`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// A request unanswered this long is given up, and may be sent again.
    pub request_timeout: Duration,
    /// A holder's job: it checks that it leads, works this long, then
    /// writes to the protected resource without checking again (the gap
    /// a pause can fall into, which fencing closes).
    pub work_duration: Duration,
    /// The pause between one write and the next job.
    pub work_pause: Duration,
    pub expiry: Expiry,
}

impl Default for Config {
    /// A 1 s lease renewed every third of it; a margin of 150 ms covers
    /// clocks within 5% of real time (the allowance is 2ρ/(1+ρ) of the TTL,
    /// about 95 ms) with room to spare.
    fn default() -> Config {
        Config {
            ttl: Duration::from_secs(1),
            renew_permille: 333,
            safety_margin: Duration::from_millis(150),
            clock_drift_ppm: 50_000,
            retry_min: Duration::from_millis(50),
            retry_max: Duration::from_millis(150),
            request_timeout: Duration::from_millis(100),
            work_duration: Duration::from_millis(30),
            work_pause: Duration::from_millis(70),
            expiry: Expiry::Store,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the TTL must be positive")]
    ZeroTtl,
    #[error("renew_permille must be 1 to 999, not {0}")]
    RenewFraction(u32),
    #[error("clock_drift_ppm must be below 1 000 000, not {0}")]
    DriftBound(u32),
    #[error(
        "the safety margin {margin:?} is smaller than the drift allowance {allowance:?} of a \
         {ttl:?} lease at {drift_ppm} ppm: a holder's clock could outlast the expiry \
         (by the store's or a challenger's clock)"
    )]
    MarginBelowDrift {
        margin: Duration,
        allowance: Duration,
        ttl: Duration,
        drift_ppm: u32,
    },
    #[error("the holder must renew ({renew:?} after a grant) before it stops leading ({lead:?})")]
    RenewAfterStop { renew: Duration, lead: Duration },
    #[error("retry_min must be positive and below retry_max")]
    RetryRange,
    #[error("the request timeout must be positive")]
    ZeroRequestTimeout,
}

impl Config {
    /// How long after the grant's send time the holder renews.
    pub fn renew_after(&self) -> Duration {
        self.ttl * self.renew_permille / 1_000
    }

    /// How long after the grant's send time the holder stops leading, by
    /// its own clock.
    pub fn lead_for(&self) -> Duration {
        self.ttl.saturating_sub(self.safety_margin)
    }

    /// The least margin that keeps Exclusive Holding: the holder's lease
    /// is timed from its request's send time, before the store granted
    /// it, so only the clocks' rates can make it outlast the store's
    /// expiry. With the holder's clock slow and the store's fast (rate ρ
    /// each), `lead_for` of holder time is `lead_for / (1 - ρ)` of real
    /// time and the store's TTL is `ttl / (1 + ρ)`; leading ends first iff
    /// `margin >= ttl · 2ρ / (1 + ρ)`.
    ///
    /// Challenger expiry needs the same margin, with the challenger's clock
    /// in the store's place: a challenger starts its wait when a reply
    /// showing the holder's latest version arrives, after the store made
    /// that version and so after the holder sent the request that made it;
    /// its TTL of waiting on a fast clock is `ttl / (1 + ρ)` of real time.
    pub fn drift_allowance(&self) -> Duration {
        let rate = u128::from(self.clock_drift_ppm);
        let ttl = self.ttl.as_micros();
        let micros = (ttl * 2 * rate).div_ceil(1_000_000 + rate);
        Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// Checks the timings; every node of a run is started only after this
    /// passed, except in experiments that break a bound on purpose.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.ttl.is_zero() {
            return Err(ConfigError::ZeroTtl);
        }
        if !(1..1_000).contains(&self.renew_permille) {
            return Err(ConfigError::RenewFraction(self.renew_permille));
        }
        if self.clock_drift_ppm >= 1_000_000 {
            return Err(ConfigError::DriftBound(self.clock_drift_ppm));
        }
        let allowance = self.drift_allowance();
        if self.safety_margin < allowance {
            return Err(ConfigError::MarginBelowDrift {
                margin: self.safety_margin,
                allowance,
                ttl: self.ttl,
                drift_ppm: self.clock_drift_ppm,
            });
        }
        if self.renew_after() >= self.lead_for() {
            return Err(ConfigError::RenewAfterStop {
                renew: self.renew_after(),
                lead: self.lead_for(),
            });
        }
        if self.retry_min.is_zero() || self.retry_min >= self.retry_max {
            return Err(ConfigError::RetryRange);
        }
        if self.request_timeout.is_zero() {
            return Err(ConfigError::ZeroRequestTimeout);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_timings_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
        assert_eq!(
            Config::default().drift_allowance(),
            Duration::from_micros(95_239)
        );
    }

    #[test]
    fn a_margin_below_the_drift_allowance_is_refused() {
        let config = Config {
            safety_margin: Duration::from_millis(90),
            ..Config::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::MarginBelowDrift { .. })
        ));
    }

    #[test]
    fn a_renewal_after_the_stop_is_refused() {
        let config = Config {
            renew_permille: 900,
            ..Config::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::RenewAfterStop { .. })
        ));
    }
}
