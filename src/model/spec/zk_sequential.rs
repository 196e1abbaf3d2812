//! The `[zk_sequential]` section of a model spec: zk-sequential's session
//! timeout, keep-alive interval, margin, first-session delay, request
//! timeout, jobs and fencing, in quanta of model time, checked here and by
//! the core ([`Config::validate`]) with every refusal naming its key.

use std::time::Duration;

use super::{at_most, drift_ppm, margin_below_drift, KeyError, TimeSpec, MAX_QUANTA};
use crate::core::zk_sequential::{Config, ConfigError};
use crate::harness::lock_service::ZkSequential;
use crate::model::spec_file::{Algorithm, SpecFile, ZkSequentialFile};

/// The zk-sequential variant of `[zk_sequential]` (its defaults if the
/// section is left out), timings scaled by `time.quantum_ms`. The core's
/// drift bound comes from `time.clock_drift` over one session timeout, as
/// lease-lock's does over one TTL; a margin below it is refused unless the
/// spec expects Exclusive Holding violated, which is what it shows. Other
/// algorithms get the core's defaults, unchecked against their clocks:
/// they ignore them, and a `[zk_sequential]` section in their spec is
/// refused on its own.
pub(super) fn zk_sequential_spec(
    file: &SpecFile,
    time: &TimeSpec,
) -> Result<ZkSequential, KeyError> {
    if file.algorithm != Algorithm::ZkSequential {
        return Ok(ZkSequential::default());
    }
    let default = ZkSequentialFile::default();
    let section = file.zk_sequential.as_ref().unwrap_or(&default);
    let quanta = |key: &'static str, value: u64| -> Result<Duration, KeyError> {
        let value = at_most(key, value, MAX_QUANTA)?;
        Ok(time.quantum * u32::try_from(value).expect("at most MAX_QUANTA"))
    };
    let timeout = at_most(
        "zk_sequential.session_timeout",
        section.session_timeout,
        MAX_QUANTA,
    )?;
    if timeout == 0 {
        return Err(("zk_sequential.session_timeout", "must be positive".into()));
    }
    let keep_alive = section.keep_alive;
    if keep_alive == 0 || keep_alive >= timeout {
        return Err((
            "zk_sequential.keep_alive",
            format!(
                "{keep_alive} quanta: a keep-alive must be due after a positive interval \
                 shorter than the session timeout ({timeout} quanta)"
            ),
        ));
    }
    let [retry_min, retry_max] = section.retry;
    let config = Config {
        ttl: quanta("zk_sequential.session_timeout", timeout)?,
        renew_permille: keep_alive_permille(keep_alive, timeout),
        safety_margin: quanta("zk_sequential.safety_margin", section.safety_margin)?,
        clock_drift_ppm: drift_ppm(time.clock_drift, timeout),
        retry_min: quanta("zk_sequential.retry", retry_min)?,
        retry_max: quanta("zk_sequential.retry", retry_max)?,
        request_timeout: quanta("zk_sequential.request_timeout", section.request_timeout)?,
        work_duration: quanta("zk_sequential.work_duration", section.work_duration)?,
        work_pause: quanta("zk_sequential.work_pause", section.work_pause)?,
        // Lease-lock's other settings (who expires a lease) mean nothing
        // to a session.
        ..Config::default()
    };
    match config.validate() {
        Ok(()) => {}
        Err(error @ ConfigError::MarginBelowDrift { .. }) => {
            margin_below_drift(file, "zk_sequential.safety_margin", &error)?
        }
        Err(error @ (ConfigError::RenewFraction(_) | ConfigError::RenewAfterStop { .. })) => {
            return Err(("zk_sequential.keep_alive", error.to_string()))
        }
        Err(error @ ConfigError::RetryRange) => {
            return Err(("zk_sequential.retry", error.to_string()))
        }
        Err(error @ ConfigError::ZeroRequestTimeout) => {
            return Err(("zk_sequential.request_timeout", error.to_string()))
        }
        Err(error) => return Err(("zk_sequential", error.to_string())),
    }
    Ok(ZkSequential {
        config,
        fencing: section.fencing,
    })
}

/// The core times keep-alives in thousandths of the session timeout.
/// Rounded down: the model's clocks advance in whole quanta, so a
/// keep-alive due a fraction of a quantum early is first sent at the same
/// instant as one due exactly `keep_alive` quanta after its confirmation.
fn keep_alive_permille(keep_alive: u64, timeout: u64) -> u32 {
    debug_assert!(0 < keep_alive && keep_alive < timeout, "checked above");
    u32::try_from(keep_alive * 1_000 / timeout).expect("below 1000")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::spec::tests::probe;
    use crate::model::spec::{ModelSpec, SpecError};

    /// A zk-sequential probe spec with `section` as its `[zk_sequential]`
    /// lines (none: the section left out) and `expect` as its `[expect]`.
    fn zk(section: Option<&str>, expect: &str) -> String {
        let mut more = vec![("bounds", "max_log = 0"), ("expect", expect)];
        if let Some(lines) = section {
            more.push(("zk_sequential", lines));
        }
        probe("default", &more)
            .replace("algorithm = \"raft\"", "algorithm = \"zk-sequential\"")
            .replace("max_log = 2\n", "")
    }

    fn parse(text: &str) -> Result<ModelSpec, SpecError> {
        ModelSpec::parse(Path::new("models/probe.toml"), text)
    }

    fn refused(text: &str, says: &[&str]) {
        let error = parse(text).expect_err("refused").to_string();
        assert!(error.starts_with("models/probe.toml"), "{error}");
        for needle in says {
            assert!(error.contains(needle), "no {needle:?} in {error}");
        }
    }

    #[test]
    fn a_zk_sequential_section_sets_the_candidates_timings_in_quanta() {
        let section = "session_timeout = 4\nkeep_alive = 2\nsafety_margin = 1\nfencing = false";
        let spec = parse(&zk(Some(section), "")).unwrap();
        assert_eq!(spec.algorithm, Algorithm::ZkSequential);
        let config = &spec.zk_sequential.config;
        assert_eq!(config.ttl, Duration::from_millis(200));
        assert_eq!(config.renew_after(), Duration::from_millis(100));
        assert_eq!(config.safety_margin, Duration::from_millis(50));
        assert!(!spec.zk_sequential.fencing);
        // Left out, the section takes its defaults: fencing on.
        let spec = parse(&zk(None, "")).unwrap();
        assert!(spec.zk_sequential.fencing);
        assert_eq!(spec.zk_sequential.config.ttl, Duration::from_millis(100));
    }

    #[test]
    fn bad_zk_sequential_timings_name_their_key() {
        for (lines, key) in [
            ("session_timeout = 0", "`zk_sequential.session_timeout`"),
            ("session_timeout = 5000", "`zk_sequential.session_timeout`"),
            ("keep_alive = 0", "`zk_sequential.keep_alive`"),
            ("keep_alive = 2", "`zk_sequential.keep_alive`"),
            // Due no earlier than the leader stops: it would never renew.
            ("safety_margin = 1", "`zk_sequential.keep_alive`"),
            ("retry = [2, 1]", "`zk_sequential.retry`"),
            ("request_timeout = 0", "`zk_sequential.request_timeout`"),
            ("keep_alive = -1", "keep_alive"),
            ("session_timout = 2", "session_timout"),
        ] {
            refused(&zk(Some(lines), ""), &[key]);
        }
    }

    #[test]
    fn a_margin_below_the_drift_is_refused_unless_the_spec_shows_the_overlap() {
        let drifting = |expect: &str| {
            zk(Some("session_timeout = 3"), expect).replace("[time]", "[time]\nclock_drift = 1")
        };
        refused(&drifting(""), &["`zk_sequential.safety_margin`", "drift"]);
        let shows = drifting("violated = [\"Exclusive Holding\"]");
        assert!(parse(&shows).is_ok());
    }

    #[test]
    fn the_section_belongs_to_zk_sequential_alone() {
        let raft = probe("default", &[("zk_sequential", "fencing = false")]);
        refused(&raft, &["`zk_sequential`", "Raft"]);
        let lease = zk(None, "").replace("[expect]", "[lease_lock]\nfencing = false\n\n[expect]");
        refused(&lease, &["`lease_lock`", "ZkSequential"]);
        let symmetric = zk(None, "").replace(
            "[expect]",
            "[check]\nstrategy = \"dfs\"\nsymmetry = true\n\n[expect]",
        );
        refused(&symmetric, &["`check.symmetry`", "zk-sequential"]);
    }
}
