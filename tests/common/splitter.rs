//! A loopback relay in front of a lab host that makes winrm-rs's NTLM
//! connection race happen on demand: the first `strand` NTLM AUTHENTICATE
//! messages it sees go to the host over a fresh TCP connection instead of
//! the one that carried their CHALLENGE, which is what `hyper`'s pool does
//! when a new connect beats the return of the old connection. Everything
//! else is relayed unchanged, one HTTP message at a time.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// `Authorization: Negotiate` + base64 of `NTLMSSP\0` and message type 3.
const TYPE3_PREFIX: &str = "TlRMTVNTUAADAAAA";

/// The running relay.
pub struct Splitter {
    pub address: SocketAddr,
    to_strand: Arc<AtomicU32>,
    stranded: Arc<AtomicU32>,
    task: JoinHandle<()>,
}

impl Splitter {
    /// Listen on `listen`, relay to `upstream`, strand the first `strand`
    /// AUTHENTICATE messages.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr, strand: u32) -> Splitter {
        let listener = TcpListener::bind(listen).await.expect("splitter binds");
        let to_strand = Arc::new(AtomicU32::new(strand));
        let stranded = Arc::new(AtomicU32::new(0));
        let (left, done) = (Arc::clone(&to_strand), Arc::clone(&stranded));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (left, done) = (Arc::clone(&left), Arc::clone(&done));
                tokio::spawn(async move {
                    let _ = relay(client, upstream, &left, &done).await;
                });
            }
        });
        Splitter {
            address: listen,
            to_strand,
            stranded,
            task,
        }
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
    left: &AtomicU32,
    stranded: &AtomicU32,
) -> std::io::Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    loop {
        let Some(request) = read_message(&mut client).await? else {
            return Ok(());
        };
        let is_type3 = head_of(&request).contains(TYPE3_PREFIX);
        if is_type3
            && left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            stranded.fetch_add(1, Ordering::SeqCst);
            server = TcpStream::connect(upstream).await?;
        }
        server.write_all(&request).await?;
        let Some(response) = read_message(&mut server).await? else {
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
