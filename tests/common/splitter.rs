//! A loopback relay in front of a lab host that makes winrm-rs's NTLM
//! connection race happen on demand: the first `strand` NTLM AUTHENTICATE
//! messages it sees go to the host over a fresh TCP connection instead of
//! the one that carried their CHALLENGE, which is what `hyper`'s pool does
//! when a new connect beats the return of the old connection. Everything
//! else is relayed unchanged, one HTTP message at a time.
//!
//! winrm-rs 2.0.1 also makes that race happen by itself, at random, under
//! load: the AUTHENTICATE (or the first sealed request after it) goes out
//! on a new connection. The relay mends those, so that a test sees only
//! the races it asks for: a client connection whose first message is not
//! a NEGOTIATE continues on the host connection of the latest NEGOTIATE,
//! where its handshake is.
//!
//! It can also answer one sealed request itself with a bare 401 and close
//! the connection ([`Splitter::refusing`]), which is what the client sees
//! when its authenticated connection has lost its NTLM session: the host
//! never reads that request.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// `Authorization: Negotiate` + base64 of `NTLMSSP\0` and message type 3.
const TYPE3_PREFIX: &str = "TlRMTVNTUAADAAAA";
/// The same for message type 1 (NEGOTIATE).
const TYPE1_PREFIX: &str = "TlRMTVNTUAABAAAA";

/// A connection to the host, shared by the client connections that
/// continue one handshake (one message and its answer at a time).
type Upstream = Arc<tokio::sync::Mutex<TcpStream>>;

/// The host connection of the latest NEGOTIATE.
type Latest = Arc<std::sync::Mutex<Option<Upstream>>>;

/// The running relay.
pub struct Splitter {
    pub address: SocketAddr,
    to_strand: Arc<AtomicU32>,
    stranded: Arc<AtomicU32>,
    refuse: Arc<Refuse>,
    task: JoinHandle<()>,
}

/// Which sealed request the relay refuses (counted from 1 over every
/// connection; 0: none), and how many it has seen and refused.
#[derive(Default)]
struct Refuse {
    nth: u32,
    seen: AtomicU32,
    refused: AtomicU32,
}

/// What a connection that lost its session gets back.
const BARE_401: &[u8] = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

impl Splitter {
    /// Listen on `listen`, relay to `upstream`, strand the first `strand`
    /// AUTHENTICATE messages.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr, strand: u32) -> Splitter {
        Self::with(listen, upstream, strand, Refuse::default()).await
    }

    /// Listen on `listen`, relay to `upstream`, and answer the `nth`
    /// sealed request (from 1, over every connection) with a bare 401,
    /// closing its connection, without sending it on.
    pub async fn refusing(listen: SocketAddr, upstream: SocketAddr, nth: u32) -> Splitter {
        Self::with(listen, upstream, 0, Refuse { nth, ..Refuse::default() }).await
    }

    async fn with(listen: SocketAddr, upstream: SocketAddr, strand: u32, refuse: Refuse) -> Splitter {
        let listener = TcpListener::bind(listen).await.expect("splitter binds");
        let to_strand = Arc::new(AtomicU32::new(strand));
        let stranded = Arc::new(AtomicU32::new(0));
        let refuse = Arc::new(refuse);
        let (left, done, rf) = (Arc::clone(&to_strand), Arc::clone(&stranded), Arc::clone(&refuse));
        let latest: Latest = Arc::default();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (left, done, rf, latest) = (Arc::clone(&left), Arc::clone(&done), Arc::clone(&rf), Arc::clone(&latest));
                tokio::spawn(async move {
                    let _ = relay(client, upstream, (&left, &done), &rf, &latest).await;
                });
            }
        });
        Splitter {
            address: listen,
            to_strand,
            stranded,
            refuse,
            task,
        }
    }

    /// Sealed requests refused so far.
    pub fn refused(&self) -> u32 {
        self.refuse.refused.load(Ordering::SeqCst)
    }

    /// Sealed requests seen so far (refused ones included).
    pub fn sealed_seen(&self) -> u32 {
        self.refuse.seen.load(Ordering::SeqCst)
    }

    /// AUTHENTICATE messages sent over a fresh connection so far.
    pub fn stranded(&self) -> u32 {
        self.stranded.load(Ordering::SeqCst)
    }

    /// Still to strand.
    pub fn left(&self) -> u32 {
        self.to_strand.load(Ordering::SeqCst)
    }
}

impl Drop for Splitter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Relay one client connection, message by message.
async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    (left, stranded): (&AtomicU32, &AtomicU32),
    refuse: &Refuse,
    latest: &Latest,
) -> std::io::Result<()> {
    let fresh = || async move { Ok::<Upstream, std::io::Error>(Arc::new(tokio::sync::Mutex::new(TcpStream::connect(upstream).await?))) };
    let mut server: Option<Upstream> = None;
    loop {
        let Some(request) = read_message(&mut client).await? else {
            return Ok(());
        };
        let head = head_of(&request);
        if head.to_ascii_lowercase().contains("content-type: multipart/encrypted") {
            let n = refuse.seen.fetch_add(1, Ordering::SeqCst) + 1;
            if n == refuse.nth {
                refuse.refused.fetch_add(1, Ordering::SeqCst);
                client.write_all(BARE_401).await?;
                return Ok(());
            }
        }
        let is_type1 = head.contains(TYPE1_PREFIX);
        if head.contains(TYPE3_PREFIX)
            && left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            stranded.fetch_add(1, Ordering::SeqCst);
            server = Some(fresh().await?);
        } else if server.is_none() || is_type1 {
            // A NEGOTIATE starts a handshake on a host connection of its
            // own; any other first message continues the latest one.
            let continued = if is_type1 { None } else { latest.lock().unwrap_or_else(|e| e.into_inner()).clone() };
            server = Some(match continued {
                Some(up) => up,
                None => fresh().await?,
            });
        }
        let up = server.clone().expect("chosen above");
        if is_type1 {
            *latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&up));
        }
        let response = {
            let mut host = up.lock().await;
            host.write_all(&request).await?;
            read_message(&mut host).await?
        };
        let Some(response) = response else {
            return Ok(());
        };
        client.write_all(&response).await?;
    }
}

fn head_of(message: &[u8]) -> String {
    let end = find(message, b"\r\n\r\n").unwrap_or(message.len());
    String::from_utf8_lossy(&message[..end]).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One HTTP/1.1 message (head and `Content-Length` body), or `None` at a
/// clean end of stream. winrm-rs and the lab both send `Content-Length`.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let length = head_of(&buf)
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(buf))
}
