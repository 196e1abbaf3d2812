//! Jepsen histories in EDN: a vector (or list) of event maps, as Knossos's
//! test data and Jepsen's reports print them, or one map after another, as
//! Jepsen's store writes `history.edn`.

use crate::check::position::LineIndex;
use crate::check::read::edn::{parse_all, Edn, EdnValue};
use crate::check::read::jepsen_event::decode_event;
use crate::check::read::{EventsRead, ReadError};

/// Reads the events of an EDN history.
pub fn read_edn(text: &str) -> Result<EventsRead, ReadError> {
    let lines = LineIndex::new(text);
    let malformed = |offset: usize, reason: String| ReadError::Malformed {
        position: lines.position(offset),
        reason,
    };
    let forms = parse_all(text).map_err(|error| malformed(error.offset, error.reason))?;
    let events: &[Edn] = match forms.as_slice() {
        [Edn {
            value: EdnValue::Vector(events) | EdnValue::List(events),
            ..
        }] => events,
        maps => maps,
    };
    let mut read = EventsRead::default();
    for event in events {
        let decoded = decode_event(event).map_err(|error| malformed(error.offset, error.reason))?;
        read.push(decoded, lines.position(event.offset));
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::history::{Command, Event};
    use crate::check::position::Position;
    use crate::check::read::assert_malformed_at;

    #[test]
    fn reads_a_vector_of_events_and_skips_the_nemesis() {
        let text = "[{:process 0, :type :invoke, :f :read, :value nil}\n \
                    {:process :nemesis, :type :info, :f :start, :value nil}\n \
                    {:process 0, :type :ok, :f :read, :value 3}]";
        let read = read_edn(text).unwrap();
        assert_eq!(read.skipped_event_count, 1);
        assert_eq!(read.nemesis[0].before_event, 1);
        assert_eq!(read.nemesis[0].summary(), "info start nil");
        assert_eq!(read.events.len(), 2);
        assert_eq!(
            read.events[1],
            Event::ok(0, Command::read_returning(3)).at(Position { line: 3, column: 2 })
        );
    }

    #[test]
    fn reads_one_map_per_line() {
        let text = "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n";
        let read = read_edn(text).unwrap();
        assert_eq!(read.events.len(), 2);
        assert_eq!(
            read.events[1].position,
            Some(Position { line: 2, column: 1 })
        );
    }

    #[test]
    fn an_empty_history_has_no_events() {
        assert!(read_edn("[]").unwrap().events.is_empty());
        assert!(read_edn("  ; nothing\n").unwrap().events.is_empty());
    }

    #[test]
    fn errors_carry_line_and_column() {
        let cases = [
            ("[{:process 0, :type :invoke, :f :read}\n {:process 0 :type :ok :f :read", 2, 2, "closing"),
            ("[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :ok, :f :frob}]", 2, 29, "`f` must be one of"),
            ("[{:process 0, :type :invoke, :f :read}\n 42]", 2, 2, "must be a map"),
            ("[{:process 0, :type :invoke, :f :read} {:process 1, :type :ok, :f :write, :value 2.5}]", 1, 82, "found a float"),
        ];
        assert_malformed_at(read_edn, &cases);
    }
}
