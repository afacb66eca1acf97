//! A real Samba server (smbd) for SMB tests: a scratch folder with its
//! own `smb.conf`, a share named `C$` (Samba accepts Windows' admin share
//! name as-is) whose folder stands for a host's C: drive, one SMB account
//! mapped to the Unix user `nobody`, on 127.0.0.1:<free port in
//! 44500-44599>. Stopped by PID when dropped; never by name.
//!
//! Needs `smbd` and `smbpasswd` (Debian: `samba`, installed by
//! `scripts/test`) and root (smbd insists). Without them the test is
//! skipped with a message, except under CI=true, where it fails.
#![allow(dead_code)]

use super::peers::skip_or_fail;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// The SMB account the server accepts (mapped to Unix `nobody`).
pub const USER: &str = "labadmin";
/// Its password (given to smbpasswd on stdin, never in argv).
pub const PASSWORD: &str = "Smb-Passw0rd!";
/// The server's workgroup (the domain a client may name).
pub const WORKGROUP: &str = "WINSIM";
/// The share standing for drive C:.
pub const SHARE: &str = "C$";

/// How to configure the server.
#[derive(Debug, Clone, Default)]
pub struct SambaOptions {
    /// `server smb encrypt = required`: every session is encrypted.
    pub require_encryption: bool,
}

/// A running smbd.
pub struct Samba {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    pub address: &'static str,
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A free port in 44500-44599 (distinct per call within this process).
fn free_port() -> Option<u16> {
    let start = u16::try_from(std::process::id() % 100).unwrap_or(0);
    for _ in 0..100 {
        let n = NEXT_PORT.fetch_add(1, Ordering::Relaxed);
        let port = 44_500 + (start + n) % 100;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Some(port);
        }
    }
    None
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Samba {
    /// Start a server, or skip (None) / fail under CI when it cannot run.
    pub fn start(test: &str, options: &SambaOptions) -> Option<Samba> {
        let Some(smbd) = find_program("smbd") else {
            return skip_or_fail(
                test,
                "smbd not found (Debian package `samba`; scripts/test installs it)",
            );
        };
        let Some(smbpasswd) = find_program("smbpasswd") else {
            return skip_or_fail(test, "smbpasswd not found (Debian package `samba`)");
        };
        if !is_root() {
            return skip_or_fail(test, "smbd must run as root");
        }
        let Some(port) = free_port() else {
            return skip_or_fail(test, "no free port in 44500-44599");
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let s = dir.path();
        for sub in [
            "private", "lock", "state", "cache", "pid", "ncalrpc", "log", "C",
        ] {
            std::fs::create_dir_all(s.join(sub)).expect("samba folder");
        }
        // smbd serves the share as `nobody`, who must traverse to it.
        std::fs::set_permissions(s, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let conf = s.join("smb.conf");
        std::fs::write(&conf, smb_conf(s, port, options)).expect("smb.conf");
        std::fs::write(s.join("usermap"), format!("nobody = {USER}\n")).expect("usermap");

        let mut passwd = Command::new(&smbpasswd)
            .arg("-c")
            .arg(&conf)
            .args(["-s", "-a", "nobody"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("smbpasswd starts");
        passwd
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{PASSWORD}\n{PASSWORD}\n").as_bytes())
            .expect("password to smbpasswd");
        let out = passwd.wait_with_output().expect("smbpasswd runs");
        assert!(
            out.status.success(),
            "smbpasswd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        // A process group of its own (what `setsid smbd` gives): smbd
        // signals its process group when it stops, which must not be ours
        // (research/peers-and-fixtures.md §3). Spawned directly, so the PID
        // we stop is smbd's.
        let log = std::fs::File::create(s.join("log/smbd.out")).expect("log file");
        let child = Command::new(&smbd)
            .process_group(0)
            .arg("-s")
            .arg(&conf)
            .args(["-F", "--no-process-group", "--debug-stdout", "-d", "1"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("smbd starts");
        let samba = Samba {
            child,
            dir,
            port,
            address: "127.0.0.1",
        };
        samba.wait_ready();
        Some(samba)
    }

    fn wait_ready(&self) {
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "smbd did not listen on {addr} within 20 s; log:\n{}",
            self.log()
        );
    }

    /// smbd's own output (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/smbd.out")).unwrap_or_default()
    }

    /// The folder standing for the host's `C:\`.
    pub fn drive_root(&self) -> PathBuf {
        self.dir.path().join("C")
    }

    /// Where `C:\a\b` is on this machine.
    pub fn local_path(&self, windows_path: &str) -> PathBuf {
        let rest = windows_path
            .strip_prefix("C:\\")
            .or_else(|| windows_path.strip_prefix("c:\\"))
            .unwrap_or_else(|| panic!("{windows_path} is not on C:"));
        let mut p = self.drive_root();
        for c in rest.split('\\') {
            p.push(c);
        }
        p
    }

    /// Write a file under `C:\`, readable by the share's user.
    pub fn write_file(&self, windows_path: &str, bytes: &[u8]) {
        let p = self.local_path(windows_path);
        let root = self.drive_root();
        let parent = p.parent().expect("parent");
        std::fs::create_dir_all(parent).expect("folders");
        let mut d = parent;
        while d.starts_with(&root) {
            let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755));
            d = d.parent().expect("parent");
        }
        std::fs::write(&p, bytes).expect("write file");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }

    /// Materialise a lab host's C: drive: every folder, and every file whose
    /// bytes the model holds (opaque stand-ins for system binaries have
    /// only a size and hash, so they are left out). Returns the files
    /// written.
    pub fn materialise(&self, host: &cauterize::lab::world::HostState) -> usize {
        let mut written = 0;
        for (path, entry) in host.files.iter() {
            if !path.to_ascii_uppercase().starts_with("C:\\") {
                continue;
            }
            if entry.is_dir() {
                let p = self.local_path(path);
                std::fs::create_dir_all(&p).expect("folder");
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755));
            } else if let Some(bytes) = entry.file().and_then(|f| f.content.as_bytes()) {
                self.write_file(path, bytes);
                written += 1;
            }
        }
        written
    }

    /// Stop smbd (SIGTERM by PID, then SIGKILL if it lingers).
    fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Samba {
    fn drop(&mut self) {
        self.stop();
    }
}

fn smb_conf(s: &Path, port: u16, options: &SambaOptions) -> String {
    let s = s.display();
    let encrypt = if options.require_encryption {
        "   server smb encrypt = required\n"
    } else {
        ""
    };
    format!(
        "[global]
   server role = standalone server
   workgroup = {WORKGROUP}
   netbios name = SMBSIM
   security = user
   passdb backend = tdbsam:{s}/private/passdb.tdb
   private dir = {s}/private
   lock directory = {s}/lock
   state directory = {s}/state
   cache directory = {s}/cache
   pid directory = {s}/pid
   ncalrpc dir = {s}/ncalrpc
   log file = {s}/log/log.%m
   interfaces = 127.0.0.1
   bind interfaces only = yes
   smb ports = {port}
   disable netbios = yes
   server min protocol = SMB2_02
   ntlm auth = ntlmv2-only
   map to guest = never
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   username map = {s}/usermap
{encrypt}
[{SHARE}]
   path = {s}/C
   read only = yes
   valid users = nobody
   force user = nobody
"
    )
}

/// The credential of the server's share user with `password`.
pub fn credential(password: &str) -> cauterize::transport::smb::SmbCredential {
    cauterize::transport::smb::SmbCredential {
        user: USER.into(),
        domain: WORKGROUP.into(),
        password: zeroize::Zeroizing::new(password.into()),
    }
}

/// SMB options for a server on `port`, with a short connect timeout.
pub fn smb_options(port: u16) -> cauterize::transport::smb::SmbOptions {
    cauterize::transport::smb::SmbOptions {
        port,
        connect_timeout: Duration::from_secs(3),
        ..cauterize::transport::smb::SmbOptions::default()
    }
}

/// Deterministic bytes that do not compress away (a stand-in for a DLL):
/// `MZ`, then a chain of SHA-256 blocks from `seed`.
pub fn incompressible(seed: &[u8], len: usize) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::with_capacity(len + 32);
    let mut block = Sha256::digest(seed).to_vec();
    out.extend_from_slice(b"MZ");
    while out.len() < len {
        block = Sha256::digest(&block).to_vec();
        out.extend_from_slice(&block);
    }
    out.truncate(len);
    out
}
