//! Running the core for real: threads, the monotonic clock, sockets and
//! disk. So far, the durable storage ([`storage`]); the node loop,
//! transports and `electorate node` / `cluster` are still to come.

pub mod storage;
