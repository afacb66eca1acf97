//! Listening: one TCP listener per host, one task accepting on it, one task
//! per connection running hyper's HTTP/1 server with that connection's own
//! [`Connection`] state. Stopping cancels one token: accept loops end,
//! connections finish the request in hand, and stragglers are aborted after
//! a grace period.

use std::convert::Infallible;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::http::Connection;
use super::shells::HostState;
use super::stats::Counters;

/// How long open connections get to finish when the lab stops.
const GRACE: Duration = Duration::from_secs(2);
/// HTTP.sys closes a connection idle this long (`IdleConnectionTimeout`).
const IDLE_CONNECTION: Duration = Duration::from_secs(120);
const BACKLOG: u32 = 1024;

/// Listen on `address` (with `SO_REUSEADDR`, so a lab restarted on the same
/// addresses binds despite connections in TIME_WAIT).
pub fn bind(address: SocketAddrV4) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::V4(address))?;
    socket.listen(BACKLOG)
}

/// Serve `host` on `listener` until the host's shutdown token is cancelled.
pub fn spawn(listener: TcpListener, host: Arc<HostState>) -> JoinHandle<()> {
    tokio::spawn(accept_loop(listener, host))
}

async fn accept_loop(listener: TcpListener, host: Arc<HostState>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = host.shutdown.cancelled() => break,
            // Reap finished connections so the set stays small.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    Counters::bump(&host.counters.connections);
                    connections.spawn(serve_connection(stream, peer, Arc::clone(&host)));
                }
                Err(e) => {
                    // Out of descriptors or a reset before accept: wait a
                    // little rather than spin.
                    tracing::debug!(host = %host.spec.name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
}

/// Run HTTP/1 on one connection; its authentication state lives here.
async fn serve_connection(stream: TcpStream, peer: SocketAddr, host: Arc<HostState>) {
    let _ = stream.set_nodelay(true);
    let shutdown = host.shutdown.clone();
    // HTTP/1 serves one request at a time per connection, so this lock is
    // never contended; it only lets the per-request futures share the state.
    let conn = Arc::new(tokio::sync::Mutex::new(Connection::new(host, peer)));
    let service = service_fn(move |req| {
        let conn = Arc::clone(&conn);
        async move { Ok::<_, Infallible>(conn.lock().await.serve(req).await) }
    });
    let http = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_CONNECTION)
        .keep_alive(true)
        // HTTP.sys writes `WWW-Authenticate`, `Content-Type`, ...
        .title_case_headers(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(http);
    tokio::select! {
        _ = http.as_mut() => {}
        _ = shutdown.cancelled() => {
            http.as_mut().graceful_shutdown();
            let _ = http.await;
        }
    }
}
