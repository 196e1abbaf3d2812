//! Recording what clients did as a Jepsen-style history, in real-time
//! order, and judging it with the linearizability checker.
//!
//! Events are appended under one lock at the moment of invocation and of
//! completion, so the order of the history is the real-time order the
//! checker relies on. A process whose operation ended indefinite never
//! invokes again (Jepsen's rule: the operation may still be in flight);
//! [`RecordedClient`] moves on to a fresh process id instead.

use std::sync::{Arc, Mutex};

use crate::check::{check, Budget, CheckOutcome, Command, Event, History, KeyValue, ProcessId};
use crate::core::client::Operation;
use crate::driver::client::{CallError, Client, Completed};

/// A history under construction, shared by every client of a run.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    pub fn invoke(&self, process: ProcessId, operation: &Operation) {
        let event = Event::invoke(process, Command::from(operation));
        self.lock().push(event);
    }

    pub fn complete(
        &self,
        process: ProcessId,
        operation: &Operation,
        result: &Result<Completed, CallError>,
    ) {
        let event = match result {
            Ok(completed) => Event::completion(process, operation, &Ok(completed.outcome.clone()))
                // A reply of the wrong kind is a broken node: record it as
                // unknown rather than invent a value.
                .unwrap_or_else(|_| Event::info(process, Command::from(operation))),
            Err(CallError::Failed(_)) => Event::fail(process, Command::from(operation)),
            Err(CallError::Indefinite(_)) => Event::info(process, Command::from(operation)),
        };
        self.lock().push(event);
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.lock().clone()
    }

    /// Judges the history against a key-value store that starts empty.
    pub fn check(&self, budget: Budget) -> Result<(History, CheckOutcome), String> {
        let history = History::from_events(self.events()).map_err(|error| error.to_string())?;
        let outcome =
            check(&history, &KeyValue::default(), budget).map_err(|error| error.to_string())?;
        Ok((history, outcome))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Event>> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A client whose every call is recorded.
pub struct RecordedClient {
    client: Client,
    recorder: Arc<Recorder>,
    process: ProcessId,
    /// Added to `process` after an indefinite outcome, so that clients that
    /// start at distinct ids below `stride` never share one.
    stride: ProcessId,
}

impl RecordedClient {
    pub fn new(
        client: Client,
        recorder: Arc<Recorder>,
        process: ProcessId,
        stride: ProcessId,
    ) -> RecordedClient {
        RecordedClient {
            client,
            recorder,
            process,
            stride: stride.max(1),
        }
    }

    pub fn call(&mut self, operation: Operation) -> Result<Completed, CallError> {
        self.recorder.invoke(self.process, &operation);
        let result = self.client.call(operation.clone());
        self.recorder.complete(self.process, &operation, &result);
        if matches!(result, Err(CallError::Indefinite(_))) {
            self.process += self.stride;
        }
        result
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}
