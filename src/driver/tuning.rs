//! Every timing and limit of a node, settable by command-line flags and by
//! a TOML file (`--config FILE`); a flag wins over the file, the file over
//! the defaults of [`Config::default`] and the driver's constants.
//!
//! ```toml
//! heartbeat_interval_ms = 50
//! election_timeout_min_ms = 150
//! election_timeout_max_ms = 300
//! lease_duration_ms = 100
//! clock_drift_bound_ms = 50
//! entries_per_append_max = 64
//! appends_in_flight_max = 256
//! inbox_capacity = 4096
//! reply_capacity = 1024
//! fsync_p99_max_ms = 100
//! health_window_ms = 10000
//! health_samples_min = 20
//! time_in_office_min_ms = 10000
//! snapshot_every = 0
//! snapshot_bytes = 0
//! ```
//!
//! The defaults live in one place, [`Tuning::defaults`], built from the
//! core's and the driver's own defaults. The result is checked by
//! [`Config::validate`], which refuses a set under which Lease Safety
//! cannot hold and names the setting at fault, by the queue bounds' and by
//! [`HealthSettings::validate`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::core::node::NodeId;
use crate::core::raft::{Config, ConfigError};
use crate::driver::health::{HealthError, HealthSettings};
use crate::driver::node::{INBOX_CAPACITY, REPLY_CAPACITY};

/// The settings, each optional: flags and file fields alike.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    /// How often a leader sends a heartbeat round (ms; default 50).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_ms: Option<u64>,
    /// The shortest election timeout (ms; default 150).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub election_timeout_min_ms: Option<u64>,
    /// The election timeout is drawn below this (ms; default 300).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub election_timeout_max_ms: Option<u64>,
    /// How long a leader serves reads locally after a confirmed round (ms;
    /// default 100).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_duration_ms: Option<u64>,
    /// The most two nodes' clocks may disagree over an election timeout
    /// (ms; default 50).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_drift_bound_ms: Option<u64>,
    /// The most entries one append message carries (default 64).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries_per_append_max: Option<usize>,
    /// The most append messages in flight to one follower (default 256).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appends_in_flight_max: Option<usize>,
    /// Inputs a node queues before it drops more (default 4096).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbox_capacity: Option<usize>,
    /// Replies one client connection queues before it drops more (default
    /// 1024).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_capacity: Option<usize>,
    /// A leader whose fsync p99 over the health window exceeds this hands
    /// leadership over (ms; default 100).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsync_p99_max_ms: Option<u64>,
    /// How far back fsync latencies count for health (ms; default 10000).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_window_ms: Option<u64>,
    /// The fewest fsyncs in the window that make a p99 (default 20).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_samples_min: Option<usize>,
    /// The shortest time a leader serves before a slow disk makes it hand
    /// over (ms; default 10000; at least the longest election timeout).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_in_office_min_ms: Option<u64>,
    /// Take a snapshot of the state machine, and compact the log behind it,
    /// once this many entries were applied since the last one (default 0:
    /// never by count). An operator can also ask for one at any time:
    /// `POST /snapshot` on the node's metrics address.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_every: Option<u64>,
    /// Also take one once the entries applied since the last one carry this
    /// many payload bytes (default 0: never by size).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_bytes: Option<u64>,
    /// Test builds only (the `deliberate-bugs` feature; inert otherwise):
    /// start with a lease `Config::validate` would refuse, so the
    /// split-brain alert can be shown to fire. A file key, not a flag.
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deliberate_unchecked_lease: bool,
    /// Test builds only, with `deliberate_unchecked_lease`: turn CheckQuorum
    /// off, so an isolated leader keeps its lease to the end.
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deliberate_no_check_quorum: bool,
}

/// Bounds of the driver's queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub inbox_capacity: usize,
    pub reply_capacity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            inbox_capacity: INBOX_CAPACITY,
            reply_capacity: REPLY_CAPACITY,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TuningError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid settings: {source}")]
    Invalid { source: ConfigError },
    #[error("{setting} must be at least 1")]
    ZeroLimit { setting: &'static str },
    #[error("invalid health settings: {source}")]
    Health { source: HealthError },
}

/// Everything a node needs from its settings, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuned {
    pub config: Config,
    pub limits: Limits,
    pub health: HealthSettings,
}

/// A duration setting in milliseconds, once the defaults filled it.
fn millis(value: Option<u64>) -> Duration {
    Duration::from_millis(value.expect("every setting has a default"))
}

fn whole_millis(duration: Duration) -> Option<u64> {
    Some(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

impl Tuning {
    /// Every setting at its default: the core's [`Config::default`], the
    /// driver's queue bounds and [`HealthSettings::default`].
    pub fn defaults() -> Tuning {
        let config = Config::default();
        let limits = Limits::default();
        let health = HealthSettings::default();
        Tuning {
            heartbeat_interval_ms: whole_millis(config.heartbeat_interval),
            election_timeout_min_ms: whole_millis(config.election_timeout_min),
            election_timeout_max_ms: whole_millis(config.election_timeout_max),
            lease_duration_ms: whole_millis(config.lease_duration),
            clock_drift_bound_ms: whole_millis(config.clock_drift_bound),
            entries_per_append_max: Some(config.max_entries_per_append),
            appends_in_flight_max: Some(config.max_inflight_appends),
            inbox_capacity: Some(limits.inbox_capacity),
            reply_capacity: Some(limits.reply_capacity),
            fsync_p99_max_ms: whole_millis(health.fsync_p99_max),
            health_window_ms: whole_millis(health.window),
            health_samples_min: Some(health.samples_min),
            time_in_office_min_ms: whole_millis(health.time_in_office_min),
            snapshot_every: Some(config.snapshot_every),
            snapshot_bytes: Some(config.snapshot_bytes),
            deliberate_unchecked_lease: false,
            deliberate_no_check_quorum: false,
        }
    }

    /// Reads a config file.
    pub fn from_file(path: &Path) -> Result<Tuning, TuningError> {
        let text = std::fs::read_to_string(path).map_err(|source| TuningError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| TuningError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The file's text of these settings (what `electorate cluster` hands
    /// its nodes).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("plain numbers and flags always serialize")
    }

    /// These settings, with every one left unset taken from `under`: the
    /// keys set here replace those of `under` (an unset setting and a false
    /// test flag are not serialized, so they never replace anything).
    pub fn over(&self, under: &Tuning) -> Tuning {
        // JSON rather than TOML as the go-between: it holds any u64, where
        // TOML's integers stop at i64::MAX.
        let object = |tuning: &Tuning| match serde_json::to_value(tuning) {
            Ok(serde_json::Value::Object(object)) => object,
            _ => unreachable!("a struct of numbers and flags is a JSON object"),
        };
        let mut merged = object(under);
        merged.extend(object(self));
        serde_json::from_value(serde_json::Value::Object(merged))
            .expect("the keys of two settings read back as settings")
    }

    /// The core's configuration, the queue bounds and the health settings
    /// for node `id` of `members`, each validated.
    pub fn resolve(&self, id: NodeId, members: &[NodeId]) -> Result<Tuned, TuningError> {
        let config = self.config(id, members)?;
        let limits = self.limits()?;
        let all = self.over(&Tuning::defaults());
        let health = HealthSettings {
            fsync_p99_max: millis(all.fsync_p99_max_ms),
            window: millis(all.health_window_ms),
            samples_min: all.health_samples_min.expect("defaulted"),
            time_in_office_min: millis(all.time_in_office_min_ms),
        };
        // Checked here, not in the core's `Config::validate`: abdication is
        // the driver's policy (the core only offers leadership transfer and
        // knows nothing of disks), and no safety property rests on these
        // settings — a bad set makes leadership flap, it cannot break Lease
        // Safety — so the pure core stays free of driver concerns. The
        // check reads the core's config only for its election timeout.
        health
            .validate(&config)
            .map_err(|source| TuningError::Health { source })?;
        Ok(Tuned {
            config,
            limits,
            health,
        })
    }

    /// The core's configuration, validated for node `id` of `members`.
    pub fn config(&self, id: NodeId, members: &[NodeId]) -> Result<Config, TuningError> {
        let all = self.over(&Tuning::defaults());
        let mut config = Config {
            heartbeat_interval: millis(all.heartbeat_interval_ms),
            election_timeout_min: millis(all.election_timeout_min_ms),
            election_timeout_max: millis(all.election_timeout_max_ms),
            lease_duration: millis(all.lease_duration_ms),
            clock_drift_bound: millis(all.clock_drift_bound_ms),
            max_entries_per_append: all.entries_per_append_max.expect("defaulted"),
            max_inflight_appends: all.appends_in_flight_max.expect("defaulted"),
            snapshot_every: all.snapshot_every.expect("defaulted"),
            snapshot_bytes: all.snapshot_bytes.expect("defaulted"),
            ..Config::default()
        };
        config.bugs.unchecked_lease = self.deliberate_unchecked_lease;
        if self.deliberate_unchecked_lease && self.deliberate_no_check_quorum {
            config.check_quorum = false;
        }
        config
            .validate(id, members)
            .map_err(|source| TuningError::Invalid { source })?;
        Ok(config)
    }

    /// The driver's queue bounds.
    pub fn limits(&self) -> Result<Limits, TuningError> {
        let all = self.over(&Tuning::defaults());
        let limits = Limits {
            inbox_capacity: all.inbox_capacity.expect("defaulted"),
            reply_capacity: all.reply_capacity.expect("defaulted"),
        };
        let zero = [
            ("inbox_capacity", limits.inbox_capacity),
            ("reply_capacity", limits.reply_capacity),
        ];
        if let Some((setting, _)) = zero.into_iter().find(|&(_, bound)| bound == 0) {
            return Err(TuningError::ZeroLimit { setting });
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_wins_over_the_file_and_the_file_over_the_default() {
        let file: Tuning =
            toml::from_str("lease_duration_ms = 80\nheartbeat_interval_ms = 40").unwrap();
        let flags = Tuning {
            heartbeat_interval_ms: Some(30),
            ..Tuning::default()
        };
        let config = flags.over(&file).config(1, &[1, 2, 3]).unwrap();
        assert_eq!(config.heartbeat_interval, Duration::from_millis(30));
        assert_eq!(config.lease_duration, Duration::from_millis(80));
        assert_eq!(config.election_timeout_min, Duration::from_millis(150));
    }

    /// The snapshot policy reaches the core from the file and the flags
    /// (`electorate cluster --snapshot-every N` hands it to every node).
    #[test]
    fn the_snapshot_policy_reaches_the_core() {
        let file: Tuning = toml::from_str("snapshot_every = 1000\nsnapshot_bytes = 4096").unwrap();
        let config = file.config(1, &[1, 2, 3]).unwrap();
        assert_eq!((config.snapshot_every, config.snapshot_bytes), (1000, 4096));
        let flags = Tuning {
            snapshot_every: Some(20),
            ..Tuning::default()
        };
        let config = flags.over(&file).config(1, &[1, 2, 3]).unwrap();
        assert_eq!((config.snapshot_every, config.snapshot_bytes), (20, 4096));
        let defaults = Tuning::default().config(1, &[1, 2, 3]).unwrap();
        assert_eq!((defaults.snapshot_every, defaults.snapshot_bytes), (0, 0));
    }

    #[test]
    fn an_unsafe_lease_is_refused_naming_the_lease() {
        let tuning = Tuning {
            lease_duration_ms: Some(140),
            ..Tuning::default()
        };
        let error = tuning.config(1, &[1, 2, 3]).unwrap_err().to_string();
        assert!(error.contains("lease 140ms"), "{error}");
    }

    #[test]
    fn an_unknown_key_or_a_bad_value_names_the_file_and_the_key() {
        let dir = std::env::temp_dir().join(format!("electorate-tuning-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        for (text, key) in [
            ("lease_ms = 3\n", "lease_ms"),
            (
                "heartbeat_interval_ms = \"fast\"\n",
                "heartbeat_interval_ms",
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = Tuning::from_file(&path).unwrap_err();
            let message = error.to_string();
            assert!(matches!(error, TuningError::Parse { .. }), "{message}");
            assert!(
                message.contains("bad.toml") && message.contains(key),
                "{message}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_defaults_resolve_to_the_core_driver_and_health_defaults() {
        let tuned = Tuning::default().resolve(1, &[1, 2, 3]).unwrap();
        assert_eq!(tuned.config, Config::default());
        assert_eq!(tuned.limits, Limits::default());
        assert_eq!(tuned.health, HealthSettings::default());
    }

    #[test]
    fn health_settings_come_from_the_file_and_bad_ones_are_refused_by_name() {
        let file: Tuning =
            toml::from_str("fsync_p99_max_ms = 30\ntime_in_office_min_ms = 2000").unwrap();
        let health = file.resolve(1, &[1, 2, 3]).unwrap().health;
        assert_eq!(health.fsync_p99_max, Duration::from_millis(30));
        assert_eq!(health.time_in_office_min, Duration::from_secs(2));
        for (text, key) in [
            ("time_in_office_min_ms = 100", "time_in_office_min_ms"),
            ("health_samples_min = 0", "health_samples_min"),
            ("reply_capacity = 0", "reply_capacity"),
        ] {
            let tuning: Tuning = toml::from_str(text).unwrap();
            let error = tuning.resolve(1, &[1, 2, 3]).unwrap_err().to_string();
            assert!(error.contains(key), "{key}: {error}");
        }
    }

    #[test]
    fn a_bad_health_setting_is_refused_with_the_health_error() {
        let refused = |text: &str| match toml::from_str::<Tuning>(text)
            .unwrap()
            .resolve(1, &[1, 2, 3])
        {
            Err(TuningError::Health { source }) => source,
            other => panic!("{text}: {other:?}"),
        };
        assert!(matches!(
            refused("time_in_office_min_ms = 100"),
            HealthError::ShorterThanAnElection { .. }
        ));
        assert_eq!(
            refused("health_window_ms = 0"),
            HealthError::Zero {
                setting: "health_window_ms"
            }
        );
    }

    #[test]
    fn a_test_flag_set_under_survives_a_merge() {
        let under = Tuning {
            deliberate_unchecked_lease: true,
            ..Tuning::default()
        };
        assert!(Tuning::default().over(&under).deliberate_unchecked_lease);
    }

    #[test]
    fn the_file_text_reads_back_as_the_same_settings() {
        let tuning = Tuning {
            election_timeout_max_ms: Some(400),
            inbox_capacity: Some(10),
            ..Tuning::default()
        };
        assert_eq!(toml::from_str::<Tuning>(&tuning.to_toml()).unwrap(), tuning);
    }
}
