//! What a caught panic said. A node panics only on a broken invariant of
//! its own, and the checkers that catch the panic (the model, the swarm,
//! the sweep, the scenario replay, the invariant checks' own tests) report
//! it by its message.

use std::any::Any;

/// The message of a panic's payload: the text `panic!` was given, whether
/// formatted (a `String`) or literal (a `&str`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
        })
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::panic::catch_unwind;

    use super::panic_message;

    #[test]
    fn a_panics_message_is_read_whether_formatted_or_literal() {
        let formatted = catch_unwind(|| panic!("term {} went backwards", 3)).unwrap_err();
        assert_eq!(panic_message(&*formatted), "term 3 went backwards");
        let literal = catch_unwind(|| panic!("log index gap")).unwrap_err();
        assert_eq!(panic_message(&*literal), "log index gap");
        let other = catch_unwind(|| std::panic::panic_any(7_u32)).unwrap_err();
        assert_eq!(panic_message(&*other), "a panic without a message");
    }
}
