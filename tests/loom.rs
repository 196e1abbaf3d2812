//! loom explores every interleaving (up to a preemption bound) of the
//! driver's hand-offs between threads: receive side to node loop, node
//! loop to a waiting client, and shutdown while items are in flight. The
//! mailbox under test is the production one, built over the `sync` shim.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --test loom --target-dir target/loom`
//! (`.ci/run` does, with its own target directory).
#![cfg(loom)]

use std::time::Duration;

use electorate::driver::mailbox::{Mailbox, PushError, Received};
use electorate::driver::sync::{thread, Arc};

/// Waits with a timeout that loom ignores: a wait ends only when notified.
const WAIT: Duration = Duration::from_secs(1);

/// Receives until the mailbox reports closed; returns what it got.
fn receive_all<T>(mailbox: &Mailbox<T>) -> Vec<T> {
    let mut received = Vec::new();
    loop {
        match mailbox.recv_timeout(WAIT) {
            Received::Item(item) => received.push(item),
            Received::Closed => return received,
            Received::TimedOut => unreachable!("loom has no time"),
        }
    }
}

#[test]
fn a_waiting_node_loop_wakes_for_a_message() {
    loom::model(|| {
        let inbox = Arc::new(Mailbox::new(4));
        let sender = inbox.clone();
        let receive_side = thread::spawn(move || sender.push(7).unwrap());
        // The node loop waits for its next input or timer; the push must
        // wake it whenever it lands.
        assert_eq!(inbox.recv_timeout(WAIT), Received::Item(7));
        receive_side.join().unwrap();
    });
}

#[test]
fn inputs_from_two_senders_all_arrive_before_close() {
    loom::model(|| {
        let inbox = Arc::new(Mailbox::new(4));
        let senders: Vec<_> = [1, 2]
            .into_iter()
            .map(|item| {
                let inbox = inbox.clone();
                thread::spawn(move || inbox.push(item).unwrap())
            })
            .collect();
        let consumer = {
            let inbox = inbox.clone();
            thread::spawn(move || receive_all(&inbox))
        };
        for sender in senders {
            sender.join().unwrap();
        }
        inbox.close();
        let mut received = consumer.join().unwrap();
        received.sort();
        assert_eq!(received, [1, 2]);
    });
}

#[test]
fn shutdown_while_inputs_are_in_flight_loses_nothing_it_accepted() {
    loom::model(|| {
        let inbox = Arc::new(Mailbox::new(1));
        let sender = {
            let inbox = inbox.clone();
            thread::spawn(move || {
                // Capacity 1: the second push may find the queue full or
                // closed. Whatever was accepted must be delivered.
                [10, 20]
                    .into_iter()
                    .filter(|&item| match inbox.push(item) {
                        Ok(()) => true,
                        Err(PushError::Full(back) | PushError::Closed(back)) => {
                            assert_eq!(back, item, "a refused item comes back");
                            false
                        }
                    })
                    .count()
            })
        };
        let closer = {
            let inbox = inbox.clone();
            thread::spawn(move || inbox.close())
        };
        // The node loop batches: one wait, then a drain.
        let mut received = Vec::new();
        loop {
            match inbox.recv_timeout(WAIT) {
                Received::Item(item) => {
                    received.push(item);
                    inbox.drain_into(&mut received, 8);
                }
                Received::Closed => break,
                Received::TimedOut => unreachable!("loom has no time"),
            }
        }
        let accepted = sender.join().unwrap();
        closer.join().unwrap();
        assert_eq!(received.len(), accepted);
        assert!(
            received.windows(2).all(|pair| pair[0] < pair[1]),
            "in order"
        );
    });
}

#[test]
fn a_client_gets_the_reply_the_node_loop_publishes() {
    loom::model(|| {
        // The client's request carries its reply mailbox, as a TCP
        // connection's does.
        let inbox: Arc<Mailbox<(u64, Arc<Mailbox<u64>>)>> = Arc::new(Mailbox::new(2));
        let node_loop = {
            let inbox = inbox.clone();
            thread::spawn(move || {
                if let Received::Item((request, reply_to)) = inbox.recv_timeout(WAIT) {
                    let _ = reply_to.push(request * 2);
                }
            })
        };
        let replies = Arc::new(Mailbox::new(1));
        inbox.push((21, replies.clone())).unwrap();
        assert_eq!(replies.recv_timeout(WAIT), Received::Item(42));
        node_loop.join().unwrap();
    });
}

/// The deliberately wrong ordering: checking for input and waiting in two
/// critical sections. loom finds the schedule where the push lands between
/// them, its notification wakes nobody, and the consumer sleeps forever
/// with the item queued — a lost wake-up, which loom reports as a deadlock.
///
/// loom aborts the process after reporting a deadlock (its clean-up panics
/// again), so `#[should_panic]` cannot catch it: the model runs in a child
/// process, and the test asserts that the child died reporting the deadlock.
#[test]
fn loom_catches_a_lost_wake_up() {
    const CHILD: &str = "ELECTORATE_LOOM_LOST_WAKE_UP_CHILD";
    if std::env::var_os(CHILD).is_some() {
        loom::model(|| {
            let inbox = Arc::new(Mailbox::new(4));
            let sender = inbox.clone();
            let receive_side = thread::spawn(move || sender.push(7).unwrap());
            assert_eq!(inbox.recv_checking_outside_the_wait(), Received::Item(7));
            receive_side.join().unwrap();
        });
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "loom_catches_a_lost_wake_up",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "loom missed the lost wake-up");
    assert!(
        stderr.contains("deadlock"),
        "the child failed for another reason:\n{stderr}"
    );
}
