//! `GET /metrics`: the node's metrics over HTTP, served by `tiny_http` on
//! a thread of its own, so a slow scraper never holds up the node loop
//! (encoding reads the metrics' atomics; it takes no lock the loop takes).
//! `POST /snapshot`, the operator's way to ask for a snapshot now, only
//! queues the request for the node loop and answers 202: the snapshot is
//! taken at the loop's next turn and shows in `electorate_snapshot_index`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tiny_http::{Header, Method, Response, Server};

use crate::driver::metrics::NodeMetrics;

/// The content type of the OpenMetrics text format that
/// `prometheus-client` encodes.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, thiserror::Error)]
#[error("cannot serve metrics on {address}: {reason}")]
pub struct ServeError {
    pub address: SocketAddr,
    pub reason: String,
}

/// Hands an operator's snapshot request to the node loop; an error says
/// why it could not be queued (the loop stopped, its inbox is full).
pub type SnapshotTrigger = Box<dyn Fn() -> Result<(), String> + Send>;

/// A running metrics endpoint; dropping it stops the server.
pub struct MetricsServer {
    server: Arc<Server>,
    address: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Listens on `address` (port 0 picks a free port; see
    /// [`MetricsServer::address`]). Without a `snapshot` trigger,
    /// `POST /snapshot` answers 404.
    pub fn start(
        address: SocketAddr,
        metrics: Arc<NodeMetrics>,
        snapshot: Option<SnapshotTrigger>,
    ) -> Result<MetricsServer, ServeError> {
        let error = |reason: String| ServeError { address, reason };
        let server = Arc::new(Server::http(address).map_err(|e| error(e.to_string()))?);
        let bound = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| error("not an IP listener".to_owned()))?;
        let serving = server.clone();
        let thread = std::thread::Builder::new()
            .name("metrics".to_owned())
            .spawn(move || serve(&serving, &metrics, snapshot.as_ref()))
            .map_err(|e| error(e.to_string()))?;
        Ok(MetricsServer {
            server,
            address: bound,
            thread: Some(thread),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(server: &Server, metrics: &NodeMetrics, snapshot: Option<&SnapshotTrigger>) {
    for request in server.incoming_requests() {
        let response = match (request.method(), request.url(), snapshot) {
            (Method::Get, "/metrics", _) => {
                let header = Header::from_bytes("Content-Type", CONTENT_TYPE)
                    .expect("a constant, valid header");
                Response::from_string(metrics.encode()).with_header(header)
            }
            (Method::Post, "/snapshot", Some(trigger)) => match trigger() {
                Ok(()) => Response::from_string(
                    "snapshot requested: taken at the node's next turn (see electorate_snapshot_index)\n",
                )
                .with_status_code(202),
                Err(reason) => {
                    Response::from_string(format!("snapshot not requested: {reason}\n"))
                        .with_status_code(503)
                }
            },
            _ => Response::from_string("served: GET /metrics, POST /snapshot\n")
                .with_status_code(404),
        };
        // A scraper that hung up loses its answer; nothing else to do.
        let _ = request.respond(response);
    }
}
