//! The client workload of `electorate cluster`: a few client threads, each
//! issuing reads, writes of unique values and compare-and-sets on a small
//! set of keys, one operation at a time, every call recorded.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::core::client::{Operation, Outcome, Value};
use crate::core::node::NodeId;
use crate::driver::client::recorder::{RecordedClient, Recorder};
use crate::driver::client::Client;

/// A write (or swapped compare-and-set) a leader acknowledged.
#[derive(Clone, Copy, Debug)]
pub struct Ack {
    pub at: Instant,
    pub by: NodeId,
}

/// What the client threads share with the runner.
#[derive(Default)]
pub struct Shared {
    pub stop: AtomicBool,
    pub acks: Mutex<Vec<Ack>>,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub indefinite: AtomicU64,
    /// Unique values for writes: no two writes ever write the same value,
    /// so a read names the write it saw.
    next_value: AtomicU64,
}

impl Shared {
    pub fn acks(&self) -> Vec<Ack> {
        self.with_acks(<[Ack]>::to_vec)
    }

    /// Runs `read` on the acknowledgements so far, under their lock.
    pub fn with_acks<R>(&self, read: impl FnOnce(&[Ack]) -> R) -> R {
        read(&self.acks.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The node that acknowledged the latest write: the leader, as far as
    /// the clients know.
    pub fn latest_acker(&self) -> Option<Ack> {
        self.acks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last()
            .copied()
    }

    fn unique_value(&self) -> Value {
        self.next_value.fetch_add(1, Ordering::Relaxed) + 1
    }
}

pub struct WorkloadSettings {
    pub cluster_id: u64,
    pub addresses: BTreeMap<NodeId, SocketAddr>,
    pub clients: usize,
    pub keys: usize,
    pub seed: u64,
    pub timeout: Duration,
}

pub fn key_name(index: usize) -> String {
    format!("k{index}")
}

/// Starts the client threads; they run until `shared.stop` is set.
pub fn start(
    settings: &WorkloadSettings,
    recorder: &Arc<Recorder>,
    shared: &Arc<Shared>,
) -> Vec<JoinHandle<()>> {
    (0..settings.clients)
        .map(|index| {
            let client = Client::new(
                settings.cluster_id,
                settings.addresses.clone(),
                index as u64 + 1,
                settings.timeout,
            );
            let process = index as u64 + 1;
            let recorded =
                RecordedClient::new(client, recorder.clone(), process, settings.clients as u64);
            let rng = ChaCha8Rng::seed_from_u64(settings.seed.wrapping_add(index as u64));
            let shared = shared.clone();
            let keys = settings.keys.max(1);
            std::thread::spawn(move || run_client(recorded, rng, keys, &shared))
        })
        .collect()
}

fn run_client(mut client: RecordedClient, mut rng: ChaCha8Rng, keys: usize, shared: &Shared) {
    // The last value this client saw for each key: its compare-and-sets
    // expect it, so many of them succeed.
    let mut seen: BTreeMap<String, Option<Value>> = BTreeMap::new();
    while !shared.stop.load(Ordering::Relaxed) {
        let key = key_name(rng.random_range(0..keys));
        let operation = match rng.random_range(0..10) {
            0..=4 => Operation::Write {
                key: key.clone(),
                value: shared.unique_value(),
            },
            5..=7 => Operation::Read { key: key.clone() },
            _ => Operation::CompareAndSet {
                key: key.clone(),
                expected: seen.get(&key).copied().flatten(),
                new: shared.unique_value(),
            },
        };
        match client.call(operation.clone()) {
            Ok(completed) => {
                shared.completed.fetch_add(1, Ordering::Relaxed);
                let written = match (&operation, &completed.outcome) {
                    (Operation::Write { value, .. }, Outcome::Written) => Some(Some(*value)),
                    (
                        Operation::CompareAndSet { new, .. },
                        Outcome::CompareAndSet { swapped: true },
                    ) => Some(Some(*new)),
                    (_, Outcome::Read(value)) => {
                        seen.insert(key, *value);
                        None
                    }
                    _ => None,
                };
                if let Some(value) = written {
                    seen.insert(operation.key().to_owned(), value);
                    let ack = Ack {
                        at: Instant::now(),
                        by: completed.by,
                    };
                    shared
                        .acks
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(ack);
                }
            }
            Err(error) if error.is_indefinite() => {
                shared.indefinite.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                shared.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// After the run: reads every key once (retrying until it succeeds or
/// `within` passes) as one more recorded process, so that a write the
/// cluster acknowledged and then lost shows up as a read the checker
/// cannot explain.
pub fn read_back(
    settings: &WorkloadSettings,
    recorder: &Arc<Recorder>,
    within: Duration,
) -> Result<BTreeMap<String, Option<Value>>, String> {
    let client = Client::new(
        settings.cluster_id,
        settings.addresses.clone(),
        settings.clients as u64 + 1_000,
        settings.timeout,
    );
    // Far above any id the workload's clients reach.
    let process = 1 << 40;
    let mut reader = RecordedClient::new(client, recorder.clone(), process, 1);
    let deadline = Instant::now() + within;
    let mut values = BTreeMap::new();
    for key in (0..settings.keys.max(1)).map(key_name) {
        loop {
            let read = reader.call(Operation::Read { key: key.clone() });
            match read {
                Ok(completed) => {
                    if let Outcome::Read(value) = completed.outcome {
                        values.insert(key.clone(), value);
                    }
                    break;
                }
                Err(error) if Instant::now() >= deadline => {
                    return Err(format!("cannot read {key} back: {error}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    Ok(values)
}
