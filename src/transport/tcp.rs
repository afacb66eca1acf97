//! Plain TCP to a host's port: reachability, for `cauterize check` (is
//! anything listening, before any WinRM is spoken), and the operator's
//! address as the host sees it (the local end of a connection to it), which
//! containment exempts.

use serde::Serialize;
use std::net::IpAddr;
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

/// A TCP connection to `address:port` (each address the name resolves to
/// in turn); `None` when `connect_timeout` passed first.
async fn connect(address: &str, port: u16, connect_timeout: Duration) -> Option<std::io::Result<TcpStream>> {
    timeout(connect_timeout, async {
        let addrs = tokio::net::lookup_host((address, port)).await?;
        let mut last = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the name resolved to no address",
        );
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    })
    .await
    .ok()
}

/// Try a TCP connect to `address:port` within `connect_timeout`.
pub async fn probe_port(address: &str, port: u16, connect_timeout: Duration) -> PortState {
    match connect(address, port, connect_timeout).await {
        Some(Ok(_)) => PortState::Open,
        Some(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => PortState::Closed,
        Some(Err(e)) => PortState::Error(e.to_string()),
        None => PortState::Filtered,
    }
}

/// The local address of a TCP connection to `address:port` (the host's
/// WinRM port): the operator's address as that host sees it, unless
/// something between them translates addresses (NAT, a proxy). The
/// connection is closed at once; nothing is sent on it.
pub async fn local_address_toward(address: &str, port: u16, connect_timeout: Duration) -> std::io::Result<IpAddr> {
    match connect(address, port, connect_timeout).await {
        Some(Ok(s)) => Ok(s.local_addr()?.ip().to_canonical()),
        Some(Err(e)) => Err(e),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {}s", connect_timeout.as_secs()),
        )),
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

    /// The loopback peer sees us from 127.0.0.1 (Linux's source for
    /// any 127/8 destination); a closed port is an error, not an address.
    #[tokio::test]
    async fn the_local_address_is_the_one_the_peer_sees() {
        let listener = tokio::net::TcpListener::bind("127.50.0.202:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (local, accepted) = tokio::join!(
            local_address_toward("127.50.0.202", port, Duration::from_secs(2)),
            listener.accept()
        );
        assert_eq!(local.unwrap(), accepted.unwrap().1.ip());
        drop(listener);
        assert!(local_address_toward("127.50.0.202", port, Duration::from_secs(2)).await.is_err());
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
