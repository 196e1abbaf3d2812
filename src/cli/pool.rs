//! A pool of threads that works through a list of jobs: each thread takes
//! the next index from a shared counter, so long jobs do not hold up short
//! ones, and results come back in the order of the jobs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The number of threads to use when the user does not say: one per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |count| count.get())
}

/// `job(i)` for every `i` in `0..count`, on `threads` threads; `on_done` is
/// called (from the worker) after each job, e.g. to advance a progress bar.
pub fn map_in_parallel<R: Send>(
    count: usize,
    threads: usize,
    job: impl Fn(usize) -> R + Sync,
    on_done: impl Fn(&R) + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(count));
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, count.max(1)) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let result = job(index);
                on_done(&result);
                results
                    .lock()
                    .expect("no worker panicked")
                    .push((index, result));
            });
        }
    });
    let mut results = results.into_inner().expect("no worker panicked");
    results.sort_by_key(|(index, _)| *index);
    assert_eq!(results.len(), count, "every job ran once");
    results.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order() {
        let done = AtomicUsize::new(0);
        let squares = map_in_parallel(
            100,
            4,
            |index| index * index,
            |_| {
                done.fetch_add(1, Ordering::Relaxed);
            },
        );
        assert_eq!(
            squares,
            (0..100).map(|index| index * index).collect::<Vec<_>>()
        );
        assert_eq!(done.into_inner(), 100);
        assert!(map_in_parallel(0, 4, |index| index, |_| {}).is_empty());
    }
}
