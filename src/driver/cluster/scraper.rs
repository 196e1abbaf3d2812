//! Scrapes every node's `/metrics` on an interval, on a thread of its own,
//! into the [`Scrapes`] the KPIs are computed from. A node that is down
//! (killed, not yet restarted) fails its scrape, which is counted and
//! otherwise ignored.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::core::node::NodeId;
use crate::driver::cluster::kpis::Scrapes;
use crate::driver::metrics::scrape::scrape;

pub struct Scraper {
    stop: Arc<AtomicBool>,
    scrapes: Arc<Mutex<Scrapes>>,
    thread: Option<JoinHandle<()>>,
}

impl Scraper {
    /// Scrapes the nodes at `metrics` every `every`.
    pub fn start(
        metrics: BTreeMap<NodeId, SocketAddr>,
        every: Duration,
    ) -> std::io::Result<Scraper> {
        let stop = Arc::new(AtomicBool::new(false));
        let scrapes = Arc::new(Mutex::new(Scrapes::default()));
        let thread = std::thread::Builder::new()
            .name("scraper".to_owned())
            .spawn({
                let (stop, scrapes) = (stop.clone(), scrapes.clone());
                move || {
                    while !stop.load(Ordering::SeqCst) {
                        scrape_all(&metrics, every, &scrapes);
                        std::thread::sleep(every);
                    }
                    // One last round, so the KPIs end where the run ended.
                    scrape_all(&metrics, every, &scrapes);
                }
            })?;
        Ok(Scraper {
            stop,
            scrapes,
            thread: Some(thread),
        })
    }

    /// Stops after a last round of scrapes and hands over what was seen.
    pub fn finish(&mut self) -> Scrapes {
        self.stop_and_join();
        let scrapes = self
            .scrapes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        scrapes.clone()
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

fn scrape_all(metrics: &BTreeMap<NodeId, SocketAddr>, timeout: Duration, scrapes: &Mutex<Scrapes>) {
    for (&node, &address) in metrics {
        let scraped = scrape(address, timeout);
        let mut scrapes = scrapes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match scraped {
            Ok(samples) => scrapes.record(node, samples),
            Err(_) => scrapes.record_failure(),
        }
    }
}
