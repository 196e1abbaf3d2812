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
//! ```
//!
//! The result is checked by [`Config::validate`], which refuses a set under
//! which Lease Safety cannot hold and names the setting at fault.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::core::node::NodeId;
use crate::core::raft::{Config, ConfigError};
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
}

impl Tuning {
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

    /// These settings, with every one left unset taken from `under`.
    pub fn over(&self, under: &Tuning) -> Tuning {
        Tuning {
            heartbeat_interval_ms: self.heartbeat_interval_ms.or(under.heartbeat_interval_ms),
            election_timeout_min_ms: self
                .election_timeout_min_ms
                .or(under.election_timeout_min_ms),
            election_timeout_max_ms: self
                .election_timeout_max_ms
                .or(under.election_timeout_max_ms),
            lease_duration_ms: self.lease_duration_ms.or(under.lease_duration_ms),
            clock_drift_bound_ms: self.clock_drift_bound_ms.or(under.clock_drift_bound_ms),
            entries_per_append_max: self.entries_per_append_max.or(under.entries_per_append_max),
            appends_in_flight_max: self.appends_in_flight_max.or(under.appends_in_flight_max),
            inbox_capacity: self.inbox_capacity.or(under.inbox_capacity),
            reply_capacity: self.reply_capacity.or(under.reply_capacity),
            deliberate_unchecked_lease: self.deliberate_unchecked_lease
                || under.deliberate_unchecked_lease,
            deliberate_no_check_quorum: self.deliberate_no_check_quorum
                || under.deliberate_no_check_quorum,
        }
    }

    /// The core's configuration, validated for node `id` of `members`.
    pub fn config(&self, id: NodeId, members: &[NodeId]) -> Result<Config, TuningError> {
        let defaults = Config::default();
        let millis = |value: Option<u64>, default: Duration| {
            value.map(Duration::from_millis).unwrap_or(default)
        };
        let mut config = Config {
            heartbeat_interval: millis(self.heartbeat_interval_ms, defaults.heartbeat_interval),
            election_timeout_min: millis(
                self.election_timeout_min_ms,
                defaults.election_timeout_min,
            ),
            election_timeout_max: millis(
                self.election_timeout_max_ms,
                defaults.election_timeout_max,
            ),
            lease_duration: millis(self.lease_duration_ms, defaults.lease_duration),
            clock_drift_bound: millis(self.clock_drift_bound_ms, defaults.clock_drift_bound),
            max_entries_per_append: self
                .entries_per_append_max
                .unwrap_or(defaults.max_entries_per_append),
            max_inflight_appends: self
                .appends_in_flight_max
                .unwrap_or(defaults.max_inflight_appends),
            ..defaults
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
        let defaults = Limits::default();
        let limits = Limits {
            inbox_capacity: self.inbox_capacity.unwrap_or(defaults.inbox_capacity),
            reply_capacity: self.reply_capacity.unwrap_or(defaults.reply_capacity),
        };
        if limits.inbox_capacity == 0 {
            return Err(TuningError::ZeroLimit {
                setting: "inbox_capacity",
            });
        }
        if limits.reply_capacity == 0 {
            return Err(TuningError::ZeroLimit {
                setting: "reply_capacity",
            });
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
    fn the_file_text_reads_back_as_the_same_settings() {
        let tuning = Tuning {
            election_timeout_max_ms: Some(400),
            inbox_capacity: Some(10),
            ..Tuning::default()
        };
        assert_eq!(toml::from_str::<Tuning>(&tuning.to_toml()).unwrap(), tuning);
    }
}
