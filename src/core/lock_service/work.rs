//! What a lock holder does with its lock, the same in every lock-service
//! variant: jobs that check the holder still holds, work a while, then
//! write to the protected resource under the token they checked, without
//! checking again. The gap between check and write is where a pause falls,
//! and what the resource's fencing closes.

use std::time::Duration;

use rand::{Rng, RngCore};

use crate::core::lock_service::LockMessage;
use crate::core::node::{Actions, NodeId};
use crate::core::store::Revision;
use crate::core::time::Time;

/// A job: started while holding under `token`, it writes at `write_at`
/// whatever has happened since.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Job {
    token: Revision,
    write_at: Time,
}

/// A holder's work loop: one job at a time, a pause between jobs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Worker {
    job: Option<Job>,
    next_job_at: Time,
    /// Writes sent so far: the value of each write, so a trace tells them
    /// apart.
    writes: u64,
}

impl Worker {
    pub fn new(now: Time) -> Worker {
        Worker {
            job: None,
            next_job_at: now,
            writes: 0,
        }
    }

    /// The write of a job that is due goes out to `resource`, checked or
    /// not: that the holder may have lost its lock since the job began is
    /// exactly what the resource's fencing is for. The next job may start
    /// `pause` later.
    pub fn finish<P>(
        &mut self,
        now: Time,
        resource: NodeId,
        pause: Duration,
        actions: &mut Actions<LockMessage, P>,
    ) {
        let Some(job) = self.job.filter(|job| now >= job.write_at) else {
            return;
        };
        self.job = None;
        self.writes += 1;
        let write = LockMessage::Write {
            token: job.token,
            value: self.writes,
        };
        actions.send(resource, write);
        self.next_job_at = now.saturating_add(pause);
    }

    /// Begins the next job if one is due and the holder holds (`holding`,
    /// by its own clock at `now`): the check happens here. The job writes
    /// `duration` later.
    pub fn start(&mut self, now: Time, holding: Option<Revision>, duration: Duration) {
        if self.job.is_some() || now < self.next_job_at {
            return;
        }
        if let Some(token) = holding {
            let write_at = now.saturating_add(duration);
            self.job = Some(Job { token, write_at });
        }
    }

    /// A new holder starts work at once rather than after an old pause.
    pub fn start_now(&mut self, now: Time, holding: Option<Revision>, duration: Duration) {
        self.next_job_at = now;
        self.start(now, holding, duration);
    }

    /// When the loop next needs the holder's attention: a job's write, or
    /// (while `leading`) the next job's start.
    pub fn deadline(&self, leading: bool) -> Option<Time> {
        match self.job {
            Some(job) => Some(job.write_at),
            None if leading => Some(self.next_job_at),
            None => None,
        }
    }
}

/// A retry's time: `now` plus a delay drawn uniformly from `[min, max)`, so
/// candidates refused together do not all race again at once.
pub fn retry_at(now: Time, min: Duration, max: Duration, rng: &mut dyn RngCore) -> Time {
    let spread = max.saturating_sub(min).as_micros() as u64;
    let jitter = if spread == 0 {
        0
    } else {
        rng.random_range(0..spread)
    };
    now.saturating_add(min + Duration::from_micros(jitter))
}
