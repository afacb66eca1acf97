//! A minimal SOCKS5 server (RFC 1928: no authentication, or a user name and
//! password (RFC 1929) when started with a login; CONNECT to an IPv4
//! address or a name) for proving that cauterize reaches hosts through a
//! jump host. It counts the tunnels it opened and the logons it refused.
//! Its own connections to the hosts leave from the loopback address it
//! listens on, as a jump host's leave from its own address: the hosts see
//! that address, not the operator's (a lab stand-in for a network behind a
//! jump host or NAT). It connects to loopback addresses only.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running SOCKS5 server on a loopback port.
pub struct Socks5 {
    pub port: u16,
    tunnels: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

/// The user name and password a server asks for.
type Login = Option<(String, String)>;

impl Socks5 {
    pub async fn start(address: &str) -> Socks5 {
        Self::start_with(address, None).await
    }

    /// A server that takes only this user name and password (RFC 1929).
    pub async fn start_with_login(address: &str, user: &str, password: &str) -> Socks5 {
        Self::start_with(address, Some((user.into(), password.into()))).await
    }

    async fn start_with(address: &str, login: Login) -> Socks5 {
        let listener = TcpListener::bind(format!("{address}:0")).await.expect("bind socks");
        let port = listener.local_addr().expect("addr").port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (counter, no) = (tunnels.clone(), refused.clone());
        let login = Arc::new(login);
        let own: std::net::IpAddr = listener.local_addr().expect("addr").ip();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (counter, no, login) = (counter.clone(), no.clone(), login.clone());
                tokio::spawn(async move {
                    let _ = serve(client, counter, no, &login, own).await;
                });
            }
        });
        Socks5 { port, tunnels, refused, task }
    }

    /// Logons refused so far (wrong user or password, or none offered).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Tunnels opened so far.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

impl Drop for Socks5 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut client: TcpStream,
    tunnels: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    login: &Login,
    own: std::net::IpAddr,
) -> std::io::Result<()> {
    // Greeting: VER NMETHODS METHODS...; answer "no authentication", or
    // "user name and password" when a login is required.
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; head[1] as usize];
    client.read_exact(&mut methods).await?;
    match login {
        None => client.write_all(&[5, 0]).await?,
        Some(_) if !methods.contains(&2) => {
            refused.fetch_add(1, Ordering::SeqCst);
            client.write_all(&[5, 0xFF]).await?;
            return Ok(());
        }
        Some((user, password)) => {
            client.write_all(&[5, 2]).await?;
            // RFC 1929: VER ULEN UNAME PLEN PASSWD; answer VER STATUS.
            let mut v = [0u8; 2];
            client.read_exact(&mut v).await?;
            let mut u = vec![0u8; v[1] as usize];
            client.read_exact(&mut u).await?;
            let mut plen = [0u8; 1];
            client.read_exact(&mut plen).await?;
            let mut p = vec![0u8; plen[0] as usize];
            client.read_exact(&mut p).await?;
            if u != user.as_bytes() || p != password.as_bytes() {
                refused.fetch_add(1, Ordering::SeqCst);
                client.write_all(&[1, 1]).await?;
                return Ok(());
            }
            client.write_all(&[1, 0]).await?;
        }
    }
    // Request: VER CMD RSV ATYP DST.ADDR DST.PORT
    let mut req = [0u8; 4];
    client.read_exact(&mut req).await?;
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await?;
            let mut name = vec![0u8; len[0] as usize];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return Ok(()),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    if req[1] != 1 {
        client.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Ok(());
    }
    let upstream = match connect_from(own, &host, port).await {
        Ok(s) => s,
        Err(_) => {
            client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            return Ok(());
        }
    };
    tunnels.fetch_add(1, Ordering::SeqCst);
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    let (mut a, mut b) = (client, upstream);
    tokio::io::copy_bidirectional(&mut a, &mut b).await?;
    Ok(())
}

/// A connection to `host:port` (loopback only) leaving from `own`.
async fn connect_from(own: std::net::IpAddr, host: &str, port: u16) -> std::io::Result<TcpStream> {
    let target = tokio::net::lookup_host((host, port))
        .await?
        .find(|a| a.ip().is_loopback() && a.is_ipv4() == own.is_ipv4())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::PermissionDenied, "the test proxy connects to loopback only"))?;
    let socket = if own.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.bind(std::net::SocketAddr::new(own, 0))?;
    socket.connect(target).await
}
