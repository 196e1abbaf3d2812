//! The abdication thresholds, with their defaults and the checks that
//! refuse a set under which leadership could flap.

use std::time::Duration;

use crate::core::raft::Config;

/// When a leader counts as unhealthy, and the hysteresis around handing
/// over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthSettings {
    /// A leader whose fsync p99 over the window exceeds this hands over.
    pub fsync_p99_max: Duration,
    /// How far back the fsync latencies count.
    pub window: Duration,
    /// The fewest fsyncs in the window that make a p99 worth acting on.
    pub samples_min: usize,
    /// The shortest time a leader serves before a slow disk makes it hand
    /// over; it must outlast an election, so a hand-over cannot follow one
    /// before it settled.
    pub time_in_office_min: Duration,
}

impl Default for HealthSettings {
    /// The seed's write-latency target is a p99 under 50 ms with
    /// replication; a disk whose fsyncs alone take twice that is slow.
    fn default() -> Self {
        HealthSettings {
            fsync_p99_max: Duration::from_millis(100),
            window: Duration::from_secs(10),
            samples_min: 20,
            time_in_office_min: Duration::from_secs(10),
        }
    }
}

/// A refused set of health settings, naming the setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HealthError {
    #[error("{setting} must be at least 1")]
    Zero { setting: &'static str },
    #[error(
        "time_in_office_min_ms {in_office:?} is shorter than election_timeout_max_ms \
         {election:?}: a leader could hand over again before the last election settled"
    )]
    ShorterThanAnElection {
        in_office: Duration,
        election: Duration,
    },
}

impl HealthSettings {
    /// Refuses zero thresholds and a minimum time in office shorter than an
    /// election under `config`.
    pub fn validate(&self, config: &Config) -> Result<(), HealthError> {
        let zero = [
            ("fsync_p99_max_ms", self.fsync_p99_max.is_zero()),
            ("health_window_ms", self.window.is_zero()),
            ("health_samples_min", self.samples_min == 0),
        ];
        if let Some((setting, _)) = zero.into_iter().find(|&(_, is_zero)| is_zero) {
            return Err(HealthError::Zero { setting });
        }
        if self.time_in_office_min < config.election_timeout_max {
            return Err(HealthError::ShorterThanAnElection {
                in_office: self.time_in_office_min,
                election: config.election_timeout_max,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(
            HealthSettings::default().validate(&Config::default()),
            Ok(())
        );
    }

    #[test]
    fn a_bad_setting_is_refused_by_name() {
        let config = Config::default();
        let cases = [
            (
                HealthSettings {
                    fsync_p99_max: Duration::ZERO,
                    ..HealthSettings::default()
                },
                "fsync_p99_max_ms",
            ),
            (
                HealthSettings {
                    window: Duration::ZERO,
                    ..HealthSettings::default()
                },
                "health_window_ms",
            ),
            (
                HealthSettings {
                    samples_min: 0,
                    ..HealthSettings::default()
                },
                "health_samples_min",
            ),
            (
                HealthSettings {
                    time_in_office_min: Duration::from_millis(299),
                    ..HealthSettings::default()
                },
                "time_in_office_min_ms",
            ),
        ];
        for (settings, name) in cases {
            let error = settings.validate(&config).unwrap_err().to_string();
            assert!(error.contains(name), "{name}: {error}");
        }
    }
}
