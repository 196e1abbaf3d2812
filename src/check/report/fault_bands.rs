//! Jepsen's `:nemesis` events as faults in force over spans of the history,
//! for drawing them as bands behind the operations they may explain.
//!
//! A nemesis op names what it does in `:f`, and Jepsen's nemeses pair an
//! opening function with a closing one: a partition `:start` with `:stop`,
//! `:kill` with `:start` (the node is started again), `:pause` with
//! `:resume`, `:start-partition` with `:stop-partition`. A band opens at the
//! first event of an opening function and closes at the first event after
//! it of a function that ends it; one never closed lasts to the end.

use crate::check::read::NemesisEvent;

/// A fault in force from client event `start` up to `end` (exclusive;
/// `None`: the end of the history), with what the nemesis did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultBand {
    pub start: usize,
    pub end: Option<usize>,
    /// The opening event's function and value, and the closing one's.
    pub description: String,
}

fn starts_with_any(name: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|prefix| name.starts_with(prefix))
}

/// Whether `closing` ends a fault opened by `opening`.
fn ends(opening: &str, closing: &str) -> bool {
    if starts_with_any(opening, &["kill", "crash", "pause", "stop-node"]) {
        starts_with_any(closing, &["start", "resume", "restart", "recover"])
    } else {
        starts_with_any(
            closing,
            &["stop", "heal", "resume", "recover", "restart", "reset"],
        )
    }
}

/// Whether `function` can open a fault at all.
fn opens(function: &str) -> bool {
    !starts_with_any(
        function,
        &["stop", "heal", "resume", "recover", "restart", "reset"],
    )
}

/// The bands of `events`, in order.
pub fn fault_bands(events: &[NemesisEvent]) -> Vec<FaultBand> {
    let mut bands = Vec::new();
    let mut open: Option<&NemesisEvent> = None;
    for event in events {
        match open {
            None if opens(&event.function) => open = Some(event),
            Some(opening) if ends(&opening.function, &event.function) => {
                bands.push(FaultBand {
                    start: opening.before_event,
                    end: Some(event.before_event),
                    description: format!("{} … {}", opening.summary(), event.summary()),
                });
                open = None;
            }
            _ => {}
        }
    }
    if let Some(opening) = open {
        bands.push(FaultBand {
            start: opening.before_event,
            end: None,
            description: format!("{} (never ended)", opening.summary()),
        });
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::history::EventKind;

    fn event(before_event: usize, function: &str) -> NemesisEvent {
        NemesisEvent {
            before_event,
            kind: EventKind::Info,
            function: function.to_string(),
            value: "nil".to_string(),
            position: None,
        }
    }

    #[test]
    fn pairs_openings_with_the_functions_that_end_them() {
        let events = [
            event(2, "start"),
            event(3, "start"),
            event(9, "stop"),
            event(12, "kill"),
            event(15, "start"),
            event(20, "partition-random-halves"),
        ];
        let spans: Vec<(usize, Option<usize>)> = fault_bands(&events)
            .iter()
            .map(|band| (band.start, band.end))
            .collect();
        assert_eq!(spans, [(2, Some(9)), (12, Some(15)), (20, None)]);
    }
}
