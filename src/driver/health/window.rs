//! A sliding window of latency samples: the last `window` of them, at most
//! [`SAMPLES_MAX`], and their 99th percentile once there are enough.

use std::collections::VecDeque;
use std::time::Duration;

use crate::core::time::Time;

/// The most samples a window keeps (the oldest go first): a bound on memory
/// and on the cost of a percentile, whatever the fsync rate.
pub const SAMPLES_MAX: usize = 4096;

/// Latencies observed over the last `length` of time.
#[derive(Clone, Debug)]
pub struct LatencyWindow {
    length: Duration,
    /// (when, latency), oldest first. Invariant: `len() <= SAMPLES_MAX`.
    samples: VecDeque<(Time, Duration)>,
}

impl LatencyWindow {
    pub fn new(length: Duration) -> LatencyWindow {
        LatencyWindow {
            length,
            samples: VecDeque::new(),
        }
    }

    /// Records one latency observed at `now` (times never go backwards on
    /// one node's monotonic clock).
    pub fn observe(&mut self, now: Time, latency: Duration) {
        debug_assert!(self.samples.back().is_none_or(|&(last, _)| last <= now));
        if self.samples.len() == SAMPLES_MAX {
            self.samples.pop_front();
        }
        self.samples.push_back((now, latency));
        self.expire(now);
    }

    /// Forgets the samples older than the window at `now`.
    pub fn expire(&mut self, now: Time) {
        while self
            .samples
            .front()
            .is_some_and(|&(at, _)| now.saturating_since(at) > self.length)
        {
            self.samples.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The 99th percentile of the window at `now`, if it holds at least
    /// `samples_min` samples (fewer say too little to act on).
    pub fn p99(&mut self, now: Time, samples_min: usize) -> Option<Duration> {
        self.expire(now);
        if self.samples.len() < samples_min.max(1) {
            return None;
        }
        let mut latencies: Vec<Duration> = self.samples.iter().map(|&(_, d)| d).collect();
        latencies.sort_unstable();
        let rank = (0.99 * latencies.len() as f64).ceil() as usize;
        Some(latencies[rank.clamp(1, latencies.len()) - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn the_p99_is_the_sample_below_which_99_percent_lie() {
        let mut window = LatencyWindow::new(ms(10_000));
        for i in 1..=100 {
            window.observe(Time::from_millis(i), ms(i));
        }
        assert_eq!(window.p99(Time::from_millis(100), 20), Some(ms(99)));
    }

    #[test]
    fn too_few_samples_give_no_percentile() {
        let mut window = LatencyWindow::new(ms(10_000));
        for i in 0..19 {
            window.observe(Time::from_millis(i), ms(500));
        }
        assert_eq!(window.p99(Time::from_millis(19), 20), None);
    }

    #[test]
    fn samples_older_than_the_window_no_longer_count() {
        let mut window = LatencyWindow::new(ms(1_000));
        for i in 0..50 {
            window.observe(Time::from_millis(i), ms(900));
        }
        for i in 0..50 {
            window.observe(Time::from_millis(2_000 + i), ms(1));
        }
        assert_eq!(window.len(), 50);
        assert_eq!(window.p99(Time::from_millis(2_050), 20), Some(ms(1)));
        assert_eq!(window.p99(Time::from_millis(4_000), 1), None);
    }

    #[test]
    fn the_window_keeps_at_most_its_bound() {
        let mut window = LatencyWindow::new(ms(1_000_000));
        for i in 0..(SAMPLES_MAX as u64 + 10) {
            window.observe(Time::from_micros(i), ms(1));
        }
        assert_eq!(window.len(), SAMPLES_MAX);
    }
}
