//! Listening: one TCP listener per host while it is powered on, one task
//! accepting on it, one task per connection running hyper's HTTP/1 server with that connection's own
//! [`Connection`] state. Stopping cancels one token: accept loops end,
//! connections finish the request in hand, and stragglers are aborted after
//! a grace period. A host with HTTPS has a second listener (port 5986)
//! whose connections run the same HTTP server inside TLS.

use std::convert::Infallible;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::http::Connection;
use super::shells::HostState;
use super::stats::Counters;
use crate::lab::tls::HostTls;

/// How long open connections get to finish when the lab stops.
const GRACE: Duration = Duration::from_secs(2);
/// A TLS handshake not done by then is dropped.
const TLS_HANDSHAKE: Duration = Duration::from_secs(10);
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

/// Serve `host` on `address` until the host's shutdown token is
/// cancelled, listening only while the host is powered on: `listener` is
/// the socket bound at start (`None` for a host off at start). A host that
/// goes down (or shut down and came back between two looks) stops
/// listening (connections are refused) and drops its connections and
/// shells, as a machine that reboots does; it listens again when up.
pub fn spawn(listener: Option<TcpListener>, address: SocketAddrV4, host: Arc<HostState>) -> JoinHandle<()> {
    tokio::spawn(accept_loop(listener, address, host, None))
}

/// [`spawn`] for the host's HTTPS listener: every connection is TLS,
/// presenting `tls`'s certificate.
pub fn spawn_https(
    listener: Option<TcpListener>,
    address: SocketAddrV4,
    host: Arc<HostState>,
    tls: HostTls,
) -> JoinHandle<()> {
    tokio::spawn(accept_loop(listener, address, host, Some(Arc::new(tls))))
}

async fn accept_loop(
    mut listener: Option<TcpListener>,
    address: SocketAddrV4,
    host: Arc<HostState>,
    tls: Option<Arc<HostTls>>,
) {
    let mut power = host.world.power();
    let mut shutdowns = power.borrow().shutdowns;
    let mut connections = JoinSet::new();
    loop {
        let signal = *power.borrow_and_update();
        if signal.shutdowns != shutdowns || !signal.up {
            shutdowns = signal.shutdowns;
            listener = None;
            connections.abort_all();
            host.drop_all_shells();
        }
        if !signal.up {
            tokio::select! {
                _ = host.shutdown.cancelled() => break,
                changed = power.changed() => if changed.is_err() { break },
            }
            continue;
        }
        let Some(l) = &listener else {
            match bind(address) {
                Ok(l) => listener = Some(l),
                Err(e) => {
                    tracing::warn!(host = %host.spec.name, %address, error = %e, "host is up but cannot listen; retrying");
                    tokio::select! {
                        _ = host.shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
            continue;
        };
        tokio::select! {
            biased;
            _ = host.shutdown.cancelled() => break,
            changed = power.changed() => if changed.is_err() { break },
            // Reap finished connections so the set stays small.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = l.accept() => match accepted {
                Ok((stream, peer)) => {
                    Counters::bump(&host.counters.connections);
                    connections.spawn(serve_stream(stream, peer, Arc::clone(&host), tls.clone()));
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

/// One accepted connection: in clear, or after a TLS handshake (a failed or
/// slow handshake just drops the connection, as HTTP.sys does).
async fn serve_stream(stream: TcpStream, peer: SocketAddr, host: Arc<HostState>, tls: Option<Arc<HostTls>>) {
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        let conn = Connection::new(Arc::clone(&host), peer);
        return serve_connection(stream, conn, host).await;
    };
    let handshake = tokio::select! {
        _ = host.shutdown.cancelled() => return,
        done = tokio::time::timeout(TLS_HANDSHAKE, tls.acceptor.accept(stream)) => done,
    };
    match handshake {
        Ok(Ok(stream)) => {
            let conn = Connection::new(Arc::clone(&host), peer).over_tls(tls.channel_binding);
            serve_connection(stream, conn, host).await;
        }
        Ok(Err(e)) => tracing::debug!(host = %host.spec.name, %peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(host = %host.spec.name, %peer, "TLS handshake timed out"),
    }
}

/// Run HTTP/1 on one connection; its authentication state lives in `conn`.
async fn serve_connection<S>(stream: S, conn: Connection, host: Arc<HostState>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shutdown = host.shutdown.clone();
    // HTTP/1 serves one request at a time per connection, so this lock is
    // never contended; it only lets the per-request futures share the state.
    let conn = Arc::new(tokio::sync::Mutex::new(conn));
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
