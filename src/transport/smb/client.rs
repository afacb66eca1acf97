//! One SMB session to one host, through the `smb2` crate: NTLM logon with
//! the host's credential, signing on every account session (and
//! encryption when the server or share asks for it, SMB 3.x), files
//! opened read-only (sharing reads, writes and deletes, so a file a loader
//! holds open can still be copied) and streamed in chunks, never whole
//! into memory.
//!
//! A path on drive `X:` is read through the share `X$`; a path under the
//! system root also through `ADMIN$` when `C$` is missing or refused.

use super::error::{SmbError, SmbErrorKind, Step, classify};
use super::path::RemotePath;
use smb2::{ClientConfig, SmbClient, Tree};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;
use zeroize::Zeroizing;

/// The account an SMB session logs on with.
#[derive(Clone)]
pub struct SmbCredential {
    pub user: String,
    /// NetBIOS or DNS domain; empty for a local account.
    pub domain: String,
    pub password: Zeroizing<String>,
}

impl SmbCredential {
    /// The inventory credential `spec` with its resolved `password` (the
    /// same account WinRM logs on with).
    pub fn from_spec(
        spec: &crate::inventory::CredentialSpec,
        password: Zeroizing<String>,
    ) -> SmbCredential {
        SmbCredential {
            user: spec.user.clone(),
            domain: spec.domain.clone(),
            password,
        }
    }
}

impl fmt::Debug for SmbCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmbCredential")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

/// How to reach a host's shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmbOptions {
    /// TCP port of the SMB server (445 on Windows).
    pub port: u16,
    /// Bound on the TCP connect.
    pub connect_timeout: Duration,
    /// Bound on one request without any answer.
    pub response_timeout: Duration,
    /// Share names for drive letters that are not `X$` (rarely needed:
    /// Windows names its administrative shares `C$`, `D$`, ...).
    pub drive_shares: BTreeMap<char, String>,
    /// The share that exposes the system root, and where that is on disk:
    /// tried for paths under it when the drive's share is unavailable.
    pub admin_share: Option<(String, String)>,
}

impl Default for SmbOptions {
    fn default() -> Self {
        SmbOptions {
            port: 445,
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(60),
            drive_shares: BTreeMap::new(),
            admin_share: Some(("ADMIN$".into(), r"C:\Windows".into())),
        }
    }
}

impl SmbOptions {
    /// The share of drive `letter`.
    pub fn drive_share(&self, letter: char) -> String {
        self.drive_shares
            .get(&letter.to_ascii_uppercase())
            .cloned()
            .unwrap_or_else(|| format!("{}$", letter.to_ascii_uppercase()))
    }

    /// Where `path` can be read: (share, path inside it), best first.
    pub fn locations(&self, path: &RemotePath) -> Vec<(String, String)> {
        let mut out = vec![(self.drive_share(path.drive()), path.share_relative())];
        if let Some((share, root)) = &self.admin_share
            && let Ok(root) = RemotePath::parse(root)
            && let Some(rest) = path.strip_prefix(&root)
        {
            out.push((share.clone(), rest.join("/")));
        }
        out
    }
}

/// What protects the session, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    /// Negotiated dialect, e.g. `Smb3_1_1`.
    pub dialect: String,
    pub signed: bool,
    pub encrypted: bool,
}

/// A logged-on SMB session to one host.
pub struct SmbSession {
    client: SmbClient,
    target: String,
    options: SmbOptions,
    /// Shares connected so far, or why they are unavailable.
    trees: HashMap<String, Result<Tree, SmbError>>,
}

/// `address:port`, with brackets for an IPv6 address.
pub fn socket_address(address: &str, port: u16) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        _ => format!("{address}:{port}"),
    }
}

impl SmbSession {
    /// Connect, negotiate and log on. One logon attempt: an
    /// [`SmbErrorKind::AuthFailed`] must not be retried with the same
    /// credential.
    pub async fn connect(
        address: &str,
        credential: &SmbCredential,
        options: &SmbOptions,
    ) -> Result<SmbSession, SmbError> {
        let target = socket_address(address, options.port);
        let config = ClientConfig {
            addr: target.clone(),
            timeout: options.connect_timeout,
            username: credential.user.clone(),
            // smb2 keeps its own plain copy for reconnects (off here); it
            // is dropped with the client.
            password: credential.password.to_string(),
            domain: credential.domain.clone(),
            auto_reconnect: false,
            // Evidence is mostly executables: not worth compressing twice.
            compression: false,
            // A referral could send the credential elsewhere.
            dfs_enabled: false,
            response_timeout: Some(options.response_timeout),
            ..ClientConfig::default()
        };
        if credential.user.is_empty() {
            return Err(SmbError::new(
                SmbErrorKind::AuthFailed,
                format!("{target}: no user name; admin shares need an administrator account"),
            ));
        }
        let client = SmbClient::connect(config)
            .await
            .map_err(|e| classify(&e, Step::Connect, &target))?;
        Ok(SmbSession {
            client,
            target,
            options: options.clone(),
            trees: HashMap::new(),
        })
    }

    /// `address:port` this session reaches.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Dialect, signing and encryption in force.
    pub fn protection(&self) -> Protection {
        let dialect = self
            .client
            .params()
            .map(|p| format!("{:?}", p.dialect))
            .unwrap_or_default();
        Protection {
            dialect,
            signed: self.client.session().should_sign,
            encrypted: self.client.connection().should_encrypt(),
        }
    }

    async fn tree(&mut self, share: &str) -> Result<&Tree, SmbError> {
        if !self.trees.contains_key(share) {
            let what = format!(r"share \\{}\{share}", self.target);
            let tree = self
                .client
                .connect_share(share)
                .await
                .map_err(|e| classify(&e, Step::Share, &what));
            self.trees.insert(share.to_string(), tree);
        }
        match &self.trees[share] {
            Ok(tree) => Ok(tree),
            Err(e) => Err(e.clone()),
        }
    }

    /// Open `path` for reading. Tries the drive's share, then `ADMIN$`
    /// for paths under the system root.
    pub async fn open(&mut self, path: &RemotePath) -> Result<SmbFile, SmbError> {
        let what = path.to_string();
        let mut last = None;
        for (share, inside) in self.options.locations(path) {
            let tree = match self.tree(&share).await {
                Ok(tree) => tree.clone(),
                Err(e) if e.kind == SmbErrorKind::ShareUnavailable => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let download = self
                .client
                .open_file_download(&tree, &inside)
                .await
                .map_err(|e| classify(&e, Step::Open, &what))?;
            return Ok(SmbFile {
                size: download.size(),
                download,
                what,
            });
        }
        Err(last.unwrap_or_else(|| {
            SmbError::new(SmbErrorKind::ShareUnavailable, format!("{what}: no share"))
        }))
    }
}

/// A file open for reading; chunks arrive in order.
pub struct SmbFile {
    download: smb2::FileDownload<'static>,
    size: u64,
    what: String,
}

impl SmbFile {
    /// Size the server reported when the file was opened.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The next chunk, or `None` at the end (the handle is closed then).
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, SmbError> {
        match self.download.next_chunk().await {
            None => Ok(None),
            Some(Ok(bytes)) => Ok(Some(bytes)),
            Some(Err(e)) => Err(classify(&e, Step::Read, &self.what)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_shares_and_admin_share() {
        let o = SmbOptions::default();
        let p = RemotePath::parse(r"c:\Windows\System32\evil.dll").unwrap();
        assert_eq!(
            o.locations(&p),
            [
                ("C$".to_string(), "Windows/System32/evil.dll".to_string()),
                ("ADMIN$".to_string(), "System32/evil.dll".to_string())
            ]
        );
        let d = RemotePath::parse(r"d:\x.exe").unwrap();
        assert_eq!(o.locations(&d), [("D$".to_string(), "x.exe".to_string())]);
        let mut o = o;
        o.drive_shares.insert('D', "data".into());
        assert_eq!(o.locations(&d)[0].0, "data");
    }

    #[test]
    fn addresses_with_ports() {
        assert_eq!(socket_address("10.0.0.5", 445), "10.0.0.5:445");
        assert_eq!(
            socket_address("ws01.corp.local", 4450),
            "ws01.corp.local:4450"
        );
        assert_eq!(socket_address("fe80::1", 445), "[fe80::1]:445");
    }

    #[test]
    fn credentials_never_print_the_password() {
        let c = SmbCredential {
            user: "admin".into(),
            domain: "CORP".into(),
            password: Zeroizing::new("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
