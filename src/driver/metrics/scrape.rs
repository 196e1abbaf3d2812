//! One scrape: `GET /metrics` of a node over HTTP, parsed into
//! [`Samples`].

use std::net::SocketAddr;
use std::time::Duration;

use crate::driver::metrics::exposition::{ParseError, Samples};

#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error("GET http://{address}/metrics: {source}")]
    Http {
        address: SocketAddr,
        source: minreq::Error,
    },
    #[error("GET http://{address}/metrics: status {status}")]
    Status { address: SocketAddr, status: u16 },
    #[error("GET http://{address}/metrics: not text: {source}")]
    NotText {
        address: SocketAddr,
        source: minreq::Error,
    },
    #[error("http://{address}/metrics: {source}")]
    Parse {
        address: SocketAddr,
        source: ParseError,
    },
}

/// Scrapes the node serving metrics on `address`, giving up after
/// `timeout`.
pub fn scrape(address: SocketAddr, timeout: Duration) -> Result<Samples, ScrapeError> {
    let response = minreq::get(format!("http://{address}/metrics"))
        .with_timeout(timeout.as_secs().max(1))
        .send()
        .map_err(|source| ScrapeError::Http { address, source })?;
    if response.status_code != 200 {
        return Err(ScrapeError::Status {
            address,
            status: response.status_code,
        });
    }
    let text = response
        .as_str()
        .map_err(|source| ScrapeError::NotText { address, source })?;
    Samples::parse(text).map_err(|source| ScrapeError::Parse { address, source })
}
