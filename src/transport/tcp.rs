//! Plain TCP reachability of a port, for `cauterize check`: is anything
//! listening, before any WinRM is spoken.

use serde::Serialize;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// What a TCP connect to one port found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum PortState {
    /// Something accepted the connection.
    Open,
    /// Actively refused (host up, nothing listening).
    Closed,
    /// No answer within the connect time-out (firewall drop, host down).
    Filtered,
    /// The name did not resolve, or another error; the text says which.
    Error(String),
}

impl PortState {
    pub fn is_open(&self) -> bool {
        matches!(self, PortState::Open)
    }

    /// A short word for tables.
    pub fn label(&self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "no answer",
            PortState::Error(_) => "error",
        }
    }
}

/// Try a TCP connect to `address:port` within `connect_timeout`.
pub async fn probe_port(address: &str, port: u16, connect_timeout: Duration) -> PortState {
    let attempt = timeout(connect_timeout, async {
        let addrs = tokio::net::lookup_host((address, port)).await?;
        let mut last = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the name resolved to no address",
        );
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(_) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(last)
    })
    .await;
    match attempt {
        Ok(Ok(())) => PortState::Open,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => PortState::Closed,
        Ok(Err(e)) => PortState::Error(e.to_string()),
        Err(_) => PortState::Filtered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_and_closed_ports() {
        let listener = tokio::net::TcpListener::bind("127.50.0.201:0")
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(
            probe_port("127.50.0.201", port, Duration::from_secs(2)).await,
            PortState::Open
        );
        drop(listener);
        assert_eq!(
            probe_port("127.50.0.201", port, Duration::from_secs(2)).await,
            PortState::Closed
        );
    }

    #[tokio::test]
    async fn unresolvable_name_is_an_error() {
        let state = probe_port("no-such-host.invalid", 5985, Duration::from_secs(5)).await;
        assert!(
            matches!(state, PortState::Error(_) | PortState::Filtered),
            "{state:?}"
        );
    }
}
