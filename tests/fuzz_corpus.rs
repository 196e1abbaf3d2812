//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`)
//! through the body of its target, on stable, as part of `cargo test`: a
//! crash once found and committed as a corpus file stays fixed.
//!
//! `cargo test --test fuzz_corpus -- --ignored` rewrites the hand-made seeds
//! of `decode_frame` (one valid frame of every message kind, whole and as a
//! sealed body), of `replay_log` (logs and state files the real log
//! wrote) and of `snapshot_file` (snapshot files the real log wrote); the
//! other files are inputs the fuzzer found, minimised with `cargo fuzz cmin`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use electorate::codec::fuzzing::{
    decode_frame, decode_then_step, decode_then_step_lock, fuzz_codec, roundtrip, SEALED_FAMILIES,
    SEALED_FAMILY_BITS,
};
use electorate::codec::{Frame, Payload, HEADER_LEN};
use electorate::core::chassis::Epoch;
use electorate::core::kv::KvStore;
use electorate::core::lock_service::LockMessage;
use electorate::core::node::NodeId;
use electorate::core::raft::{
    Append, AppendResponse, AppendResult, Body, Command, Entry, HardState, Heartbeat,
    HeartbeatResponse, LogIndex, Message, Persist, Round, Snapshot, Term, VoteRequest,
    VoteResponse,
};
use electorate::core::store::{KeyState, Revision, SessionId, StoreReply, StoreRequest};
use electorate::core::{bully, ring};
use electorate::core::{ClientError, ClientReply, ClientRequest, Operation, Outcome, RequestId};
use electorate::driver::storage::disk::Disk;
use electorate::driver::storage::format::{
    fuzz_replay, Identity, LOG_HEADER_LEN, RECORD_HEADER_LEN, STATE_COPY_STRIDE,
};
use electorate::driver::storage::simulated::SimDisk;
use electorate::driver::storage::snapshot_file::{fuzz_snapshot, SNAPSHOT_HEADER_LEN};
use electorate::driver::storage::{Log, Storage, LOG_FILE, SNAPSHOT_FILE, STATE_FILE};

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 6] = [
    ("decode_frame", decode_frame),
    ("roundtrip", roundtrip),
    ("decode_then_step", decode_then_step),
    ("decode_then_step_lock", decode_then_step_lock),
    ("replay_log", fuzz_replay),
    ("snapshot_file", fuzz_snapshot),
];

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(corpus_dir(target))
        .unwrap_or_else(|error| panic!("corpus of {target}: {error}"))
        .map(|entry| entry.expect("readable corpus directory").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_replays_through_every_target() {
    for (name, _) in TARGETS {
        assert!(
            !corpus(name).is_empty(),
            "target {name} has no committed corpus"
        );
    }
    // Each target also gets the others' files: any bytes are valid input.
    let files: Vec<PathBuf> = TARGETS.iter().flat_map(|(name, _)| corpus(name)).collect();
    for (name, target) in TARGETS {
        for file in &files {
            println!("{name} <- {}", file.display());
            target(&fs::read(file).expect("readable corpus file"));
        }
    }
}

fn seed_frames() -> Vec<(&'static str, Frame)> {
    let raft = |name, term, body| {
        let term = Term::new(term);
        seed(name, 2, Payload::Raft(Message { term, body }))
    };
    let id = RequestId {
        client: 9,
        sequence: 4,
    };
    let entries = vec![
        Entry {
            term: Term::new(2),
            index: LogIndex::new(5),
            command: Command::Noop.into(),
        },
        Entry {
            term: Term::new(3),
            index: LogIndex::new(6),
            command: Command::Write {
                key: "x".into(),
                value: 1,
            }
            .into(),
        },
        Entry {
            term: Term::new(3),
            index: LogIndex::new(7),
            command: Command::CompareAndSet {
                key: "x".into(),
                expected: Some(1),
                new: 2,
            }
            .into(),
        },
    ];
    vec![
        raft(
            "vote",
            3,
            Body::VoteRequest(VoteRequest {
                pre_vote: true,
                last_log_index: LogIndex::new(4),
                last_log_term: Term::new(2),
                transfer: false,
            }),
        ),
        raft(
            "vote_response",
            3,
            Body::VoteResponse(VoteResponse {
                pre_vote: false,
                granted: true,
            }),
        ),
        raft(
            "append",
            3,
            Body::Append(Append {
                prev_log_index: LogIndex::new(4),
                prev_log_term: Term::new(2),
                entries,
                leader_commit: LogIndex::new(4),
                round: Round::new(17),
            }),
        ),
        raft(
            "append_accepted",
            3,
            Body::AppendResponse(AppendResponse {
                result: AppendResult::Accepted {
                    match_index: LogIndex::new(7),
                },
                round: Round::new(17),
            }),
        ),
        raft(
            "append_rejected",
            3,
            Body::AppendResponse(AppendResponse {
                result: AppendResult::Rejected {
                    rejected_index: LogIndex::new(4),
                    conflict_term: Some(Term::new(1)),
                    conflict_index: LogIndex::new(2),
                },
                round: Round::new(17),
            }),
        ),
        raft(
            "heartbeat",
            3,
            Body::Heartbeat(Heartbeat {
                leader_commit: LogIndex::new(7),
                round: Round::new(200),
            }),
        ),
        raft(
            "heartbeat_response",
            3,
            Body::HeartbeatResponse(HeartbeatResponse {
                round: Round::new(200),
            }),
        ),
        raft("timeout_now", u64::MAX, Body::TimeoutNow),
        seed(
            "client_request",
            0,
            Payload::ClientRequest(ClientRequest {
                id,
                operation: Operation::CompareAndSet {
                    key: "k".into(),
                    expected: None,
                    new: 3,
                },
            }),
        ),
        seed(
            "client_reply",
            1,
            Payload::ClientReply(ClientReply {
                id,
                result: Ok(Outcome::Read(Some(3))),
            }),
        ),
        seed(
            "client_error",
            1,
            Payload::ClientReply(ClientReply {
                id,
                result: Err(ClientError::NotLeader {
                    leader_hint: Some(2),
                }),
            }),
        ),
        bully_frame("bully_election", bully::Body::Election),
        bully_frame("bully_answer", bully::Body::Answer),
        bully_frame("bully_coordinator", bully::Body::Coordinator),
        bully_frame("bully_heartbeat", bully::Body::Heartbeat),
        ring_frame(
            "ring_election",
            ring::Body::Election {
                candidate: 3,
                hop: 130,
            },
        ),
        ring_frame(
            "ring_coordinator",
            ring::Body::Coordinator { leader: 3, hop: 1 },
        ),
        ring_frame("ring_ack", ring::Body::Ack { hop: 130 }),
        ring_frame("ring_heartbeat", ring::Body::Heartbeat),
    ]
    .into_iter()
    .chain(lock_frames())
    .collect()
}

/// One frame of every lock-service message: every store request and
/// reply, a fenced write, its acknowledgement and a watch notice.
fn lock_frames() -> Vec<(&'static str, Frame)> {
    let revision = Revision::new(5);
    let session = SessionId::new(2);
    let request = |name, number, request| {
        seed(
            name,
            1,
            Payload::Lock(LockMessage::Request { number, request }),
        )
    };
    let reply =
        |name, number, reply| seed(name, 3, Payload::Lock(LockMessage::Reply { number, reply }));
    let ttl = std::time::Duration::from_millis(1_500);
    vec![
        request(
            "lock_acquire",
            1,
            StoreRequest::Acquire {
                expected: revision,
                ttl,
            },
        ),
        request("lock_renew", 2, StoreRequest::Renew { revision }),
        request(
            "lock_take_over",
            7,
            StoreRequest::TakeOver {
                revision,
                renewals: 3,
            },
        ),
        request("lock_read", 8, StoreRequest::Read),
        request(
            "lock_open_session",
            3,
            StoreRequest::OpenSession { timeout: ttl },
        ),
        request("lock_keep_alive", 4, StoreRequest::KeepAlive { session }),
        request("lock_create", 5, StoreRequest::Create { session }),
        request(
            "lock_watch_below",
            6,
            StoreRequest::WatchBelow {
                session,
                entry: revision,
            },
        ),
        reply("lock_granted", 1, StoreReply::Granted { revision }),
        reply("lock_renewed", 2, StoreReply::Renewed { revision }),
        reply(
            "lock_refused",
            1,
            StoreReply::Refused {
                key: KeyState {
                    revision,
                    renewals: 0,
                    holder: Some(2),
                },
            },
        ),
        reply(
            "lock_record",
            8,
            StoreReply::Record {
                key: KeyState {
                    revision,
                    renewals: 3,
                    holder: Some(1),
                },
            },
        ),
        reply(
            "lock_session_opened",
            3,
            StoreReply::SessionOpened { session },
        ),
        reply(
            "lock_kept_alive",
            4,
            StoreReply::KeptAlive {
                session,
                watching: Some(Revision::new(4)),
            },
        ),
        reply("lock_created", 5, StoreReply::Created { entry: revision }),
        reply(
            "lock_watching",
            6,
            StoreReply::Watching {
                entry: revision,
                predecessor: None,
            },
        ),
        reply(
            "lock_session_expired",
            4,
            StoreReply::SessionExpired { session },
        ),
        seed(
            "lock_write",
            1,
            Payload::Lock(LockMessage::Write {
                token: revision,
                value: 7,
            }),
        ),
        seed(
            "lock_write_ack",
            3,
            Payload::Lock(LockMessage::WriteAck {
                token: revision,
                accepted: false,
            }),
        ),
        seed(
            "lock_notify",
            3,
            Payload::Lock(LockMessage::Notify {
                deleted: Revision::new(4),
            }),
        ),
    ]
}

/// A seed file's name and the frame it holds: `payload` from `sender`.
fn seed(name: &'static str, sender: NodeId, payload: Payload) -> (&'static str, Frame) {
    (name, Frame { sender, payload })
}

fn bully_frame(name: &'static str, body: bully::Body) -> (&'static str, Frame) {
    let epoch = Epoch::new(4);
    seed(name, 3, Payload::Bully(bully::Message { epoch, body }))
}

fn ring_frame(name: &'static str, body: ring::Body) -> (&'static str, Frame) {
    let epoch = Epoch::new(300);
    seed(name, 2, Payload::Ring(ring::Message { epoch, body }))
}

#[test]
#[ignore = "rewrites the hand-made seeds of fuzz/corpus/decode_frame"]
fn write_decode_frame_seeds() {
    let dir = corpus_dir("decode_frame");
    fs::create_dir_all(&dir).unwrap();
    for (name, frame) in seed_frames() {
        let bytes = fuzz_codec().encode_to_vec(&frame).unwrap();
        fs::write(dir.join(format!("seed-{name}")), &bytes).unwrap();
        // The sealed-body form `decode_frame` also tries: selector byte
        // (family in the low SEALED_FAMILY_BITS bits, sender in the rest),
        // then the body.
        let family = SEALED_FAMILIES
            .iter()
            .position(|&family| family == frame.payload.family())
            .expect("every family can be sealed") as u8;
        let selector = family | (frame.sender as u8) << SEALED_FAMILY_BITS;
        let mut sealed = vec![selector];
        sealed.extend_from_slice(&bytes[HEADER_LEN..]);
        fs::write(dir.join(format!("seed-{name}-body")), &sealed).unwrap();
    }
}

/// The core bug `decode_then_step` found: one vote request carrying term
/// `u64::MAX` from a peer, then an election timeout, and the node computed
/// `u64::MAX + 1` (a panic in debug builds, term 0 in release builds). The
/// core now drops terms beyond `MAX_TERM`, and a node that reached it stays
/// there instead of campaigning.
#[test]
fn terms_that_cannot_be_incremented_are_refused() {
    use electorate::core::raft::{Config, RaftActions, RaftNode, MAX_TERM};
    use electorate::core::{DropReason, Event, Input, Node, Time};
    use rand::SeedableRng;

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    // Without PreVote a timeout moves straight to the next term.
    let config = Config {
        pre_vote: false,
        ..Config::default()
    };
    let mut node = RaftNode::new(1, &[1, 2, 3], config, Time::ZERO, &mut rng).unwrap();
    let mut actions = RaftActions::default();
    let vote = |term| Message {
        term: Term::new(term),
        body: Body::VoteRequest(VoteRequest {
            pre_vote: false,
            last_log_index: LogIndex::ZERO,
            last_log_term: Term::ZERO,
            transfer: false,
        }),
    };
    let mut deliver = |node: &mut RaftNode, actions: &mut RaftActions, term| {
        node.step(
            Time::ZERO,
            &mut rng,
            Input::Message {
                from: 2,
                message: vote(term),
            },
            actions,
        )
    };
    deliver(&mut node, &mut actions, u64::MAX);
    assert_eq!(node.term(), 0, "a forged term was adopted");
    assert!(actions.events.contains(&Event::Dropped {
        from: Some(2),
        reason: DropReason::TermOutOfRange { term: u64::MAX },
    }));

    // The highest accepted term is adopted; timeouts then leave it there.
    deliver(&mut node, &mut actions, MAX_TERM.get());
    assert_eq!(node.term(), MAX_TERM.get());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    for second in 1..=5 {
        node.step(
            Time::from_millis(second * 1_000),
            &mut rng,
            Input::Tick,
            &mut actions,
        );
        node.invariants();
    }
    assert_eq!(
        node.term(),
        MAX_TERM.get(),
        "the term moved past MAX_TERM or wrapped"
    );
}

/// The folder of `target`'s seeds, made if missing, and a fresh log of
/// cluster 1 node 1 on an empty simulated disk, to write seeds with.
fn seed_writer(target: &str) -> (PathBuf, SimDisk, Log<SimDisk>) {
    let dir = corpus_dir(target);
    fs::create_dir_all(&dir).unwrap();
    let identity = Identity {
        cluster_id: 1,
        node_id: 1,
    };
    let disk = SimDisk::new();
    let (log, _) = Log::open(disk.clone(), identity).unwrap();
    (dir, disk, log)
}

/// `replay_log` reads its first 4 bytes as the synced length (big endian)
/// and the rest as `raft.log`; the whole input is also tried as
/// `raft.state`.
#[test]
#[ignore = "rewrites the hand-made seeds of fuzz/corpus/replay_log"]
fn write_replay_log_seeds() {
    let (dir, mut disk, mut log) = seed_writer("replay_log");
    let entry = |index, term, command: Command| {
        Persist::AppendEntry(Entry {
            term: Term::new(term),
            index: LogIndex::new(index),
            command: command.into(),
        })
    };
    let batches = [
        vec![Persist::HardState(HardState {
            term: Term::new(1),
            voted_for: Some(1),
        })],
        vec![
            entry(1, 1, Command::Noop),
            entry(
                2,
                1,
                Command::Write {
                    key: "x".into(),
                    value: 5,
                },
            ),
        ],
        vec![
            Persist::TruncateLog {
                from: LogIndex::new(2),
            },
            entry(
                2,
                2,
                Command::CompareAndSet {
                    key: "x".into(),
                    expected: None,
                    new: 7,
                },
            ),
        ],
    ];
    let mut batch_ends = Vec::new();
    for (number, batch) in batches.iter().enumerate() {
        log.append(batch).unwrap();
        log.sync().unwrap();
        let bytes = disk.read(LOG_FILE).unwrap().unwrap();
        batch_ends.push(bytes.len());
        let mut seed = (bytes.len() as u32).to_be_bytes().to_vec();
        seed.extend_from_slice(&bytes);
        fs::write(dir.join(format!("seed-log-{number}")), &seed).unwrap();
        let mut records = ((bytes.len() - LOG_HEADER_LEN) as u32)
            .to_be_bytes()
            .to_vec();
        records.extend_from_slice(&bytes[LOG_HEADER_LEN..]);
        fs::write(dir.join(format!("seed-records-{number}")), &records).unwrap();
    }
    let synced = disk.read(LOG_FILE).unwrap().unwrap().len();
    log.append(&[entry(3, 2, Command::Noop)]).unwrap();
    let torn = disk.read(LOG_FILE).unwrap().unwrap();
    let mut seed = (synced as u32).to_be_bytes().to_vec();
    seed.extend_from_slice(&torn[..torn.len() - 2]);
    fs::write(dir.join("seed-log-unsynced-tail"), &seed).unwrap();
    let state = disk.read(STATE_FILE).unwrap().unwrap();
    fs::write(dir.join("seed-state"), &state).unwrap();

    // Damage to synced data, each kind recovery must refuse: a byte of the
    // header (past the magic, so the target keeps it), of the first
    // record, of a middle record; and of one or both state copies.
    let synced_log = &torn[..synced];
    let damaged = [
        ("seed-log-damaged-header", 12),
        (
            "seed-log-damaged-first",
            LOG_HEADER_LEN + RECORD_HEADER_LEN + 1,
        ),
        (
            "seed-log-damaged-middle",
            batch_ends[1] + RECORD_HEADER_LEN + 1,
        ),
    ];
    for (name, offset) in damaged {
        let mut bytes = synced_log.to_vec();
        bytes[offset] ^= 0x10;
        let mut seed = (synced as u32).to_be_bytes().to_vec();
        seed.extend_from_slice(&bytes);
        fs::write(dir.join(name), &seed).unwrap();
    }
    let mut one_copy = state.clone();
    one_copy[20] ^= 0x01;
    fs::write(dir.join("seed-state-damaged-copy"), &one_copy).unwrap();
    let mut both_copies = one_copy;
    both_copies[STATE_COPY_STRIDE + 20] ^= 0x01;
    fs::write(dir.join("seed-state-damaged-both"), &both_copies).unwrap();
}

/// `snapshot_file` takes the input as `raft.snapshot` of cluster 1 node 1,
/// and again with a checksum put after it: the seeds are files the real
/// log wrote (an empty state machine, a few pairs, enough pairs to span
/// sectors), the same without their checksum (so the fuzzer mutates bodies
/// that the checksum does not stop), and damaged ones.
#[test]
#[ignore = "rewrites the hand-made seeds of fuzz/corpus/snapshot_file"]
fn write_snapshot_file_seeds() {
    let (dir, mut disk, mut log) = seed_writer("snapshot_file");
    let entries: Vec<Persist> = (1..=3)
        .map(|index| {
            Persist::AppendEntry(Entry {
                term: Term::new(1),
                index: LogIndex::new(index),
                command: Command::Noop.into(),
            })
        })
        .collect();
    log.append(&entries).unwrap();
    log.sync().unwrap();
    for (index, pairs) in [(1u64, 0u64), (2, 3), (3, 60)] {
        let mut kv = KvStore::default();
        for i in 0..pairs {
            kv.write(&format!("k{i}"), i * 77);
        }
        let snapshot = Snapshot {
            index: LogIndex::new(index),
            term: Term::new(1),
            members: vec![1, 2, 3],
            kv,
        };
        log.append(&[Persist::Snapshot(Arc::new(snapshot))])
            .unwrap();
        log.sync().unwrap();
        let bytes = disk.read(SNAPSHOT_FILE).unwrap().unwrap();
        fs::write(dir.join(format!("seed-snapshot-{pairs}-pairs")), &bytes).unwrap();
        let unsealed = &bytes[..bytes.len() - 4];
        fs::write(dir.join(format!("seed-body-{pairs}-pairs")), unsealed).unwrap();
        if pairs == 3 {
            let mut flipped = bytes.clone();
            flipped[SNAPSHOT_HEADER_LEN + 4] ^= 0x04;
            fs::write(dir.join("seed-snapshot-damaged-body"), &flipped).unwrap();
            fs::write(dir.join("seed-snapshot-cut"), &bytes[..bytes.len() / 2]).unwrap();
        }
    }
}
