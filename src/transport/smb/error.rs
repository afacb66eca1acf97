//! What can go wrong reading a file over SMB, sorted by what the caller
//! does next: fall back to another transport ([`SmbErrorKind::is_transport_down`]),
//! stop trying this credential ([`SmbErrorKind::AuthFailed`], never
//! retried: a domain account locks out), or record the file's fate
//! (not found, access denied, in use). Messages say what to check; they
//! never contain the password.

use std::fmt;

/// The class of an SMB failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmbErrorKind {
    /// Nothing answered on the SMB port (filtered, closed, host down).
    Unreachable,
    /// The server answered but the SMB handshake failed (not SMB, no
    /// common dialect, signature check failed).
    Protocol,
    /// The credential was rejected. Never retried.
    AuthFailed,
    /// The share (C$, ADMIN$) is missing or refused to this account.
    ShareUnavailable,
    /// The file exists but this account may not read it.
    AccessDenied,
    /// No such file or folder.
    NotFound,
    /// Another process holds the file open without sharing reads.
    InUse,
    /// The path names a folder.
    IsDirectory,
    /// The connection died during the transfer.
    ConnectionLost,
    /// The path cannot be expressed on SMB.
    InvalidPath,
}

impl SmbErrorKind {
    /// The SMB path to this host is unusable as a whole: a caller with
    /// another transport should switch to it for this and later files.
    pub fn is_transport_down(self) -> bool {
        matches!(
            self,
            SmbErrorKind::Unreachable
                | SmbErrorKind::Protocol
                | SmbErrorKind::ShareUnavailable
                | SmbErrorKind::ConnectionLost
        )
    }

    /// Short name for reports (`unreachable`, `auth_failed`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SmbErrorKind::Unreachable => "unreachable",
            SmbErrorKind::Protocol => "protocol",
            SmbErrorKind::AuthFailed => "auth_failed",
            SmbErrorKind::ShareUnavailable => "share_unavailable",
            SmbErrorKind::AccessDenied => "access_denied",
            SmbErrorKind::NotFound => "not_found",
            SmbErrorKind::InUse => "in_use",
            SmbErrorKind::IsDirectory => "is_directory",
            SmbErrorKind::ConnectionLost => "connection_lost",
            SmbErrorKind::InvalidPath => "invalid_path",
        }
    }
}

impl fmt::Display for SmbErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An SMB failure: its class and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SmbError {
    pub kind: SmbErrorKind,
    pub message: String,
}

impl SmbError {
    pub fn new(kind: SmbErrorKind, message: impl Into<String>) -> SmbError {
        SmbError {
            kind,
            message: message.into(),
        }
    }
}

/// Where in the exchange an smb2 error happened; the same NTSTATUS means
/// different things at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Connect,
    Share,
    Open,
    Read,
}

/// Classify an smb2 error. `what` names the target (`10.0.0.5:445`,
/// `share C$`, `C:\x\y.dll`) for the message.
pub(crate) fn classify(err: &smb2::Error, step: Step, what: &str) -> SmbError {
    use smb2::ErrorKind as K;
    let detail = err.to_string();
    let (kind, message) = match (step, err.kind()) {
        (_, K::AuthRequired | K::GuestSessionRefused) => (
            SmbErrorKind::AuthFailed,
            format!(
                "{what}: the SMB logon was refused ({detail}); check the user, domain and password \
                 of this host's credential (not retried, to avoid locking the account out)"
            ),
        ),
        (Step::Connect, K::ConnectionLost | K::TimedOut | K::Io) => (
            SmbErrorKind::Unreachable,
            format!(
                "{what}: SMB is not reachable ({detail}); TCP 445 may be filtered (a firewall, or \
                 containment rules that do not exempt this machine) or the Server service is stopped"
            ),
        ),
        (Step::Connect, _) => (
            SmbErrorKind::Protocol,
            format!("{what}: the SMB handshake failed ({detail})"),
        ),
        (Step::Share, K::NotFound) => (
            SmbErrorKind::ShareUnavailable,
            format!(
                "{what} does not exist on the host ({detail}); administrative shares may be disabled \
                 (AutoShareWks/AutoShareServer = 0)"
            ),
        ),
        (Step::Share, K::AccessDenied) => (
            SmbErrorKind::ShareUnavailable,
            format!(
                "{what} refused this account ({detail}); admin shares need an administrator, and a \
                 local administrator other than the built-in one is filtered by UAC remote \
                 restrictions (LocalAccountTokenFilterPolicy)"
            ),
        ),
        (Step::Open | Step::Read, K::NotFound) => (
            SmbErrorKind::NotFound,
            format!("{what}: not found ({detail})"),
        ),
        (Step::Open | Step::Read, K::AccessDenied) => (
            SmbErrorKind::AccessDenied,
            format!("{what}: access denied ({detail})"),
        ),
        (_, K::SharingViolation) => (
            SmbErrorKind::InUse,
            format!("{what}: held open by a process that does not share reads ({detail})"),
        ),
        (_, K::IsADirectory) => (
            SmbErrorKind::IsDirectory,
            format!("{what}: a folder, not a file"),
        ),
        (_, K::InvalidName) => (
            SmbErrorKind::InvalidPath,
            format!("{what}: the server refused the name ({detail})"),
        ),
        (_, K::ConnectionLost | K::TimedOut | K::SessionExpired | K::Io) => (
            SmbErrorKind::ConnectionLost,
            format!("{what}: the SMB connection was lost ({detail})"),
        ),
        (Step::Share, _) => (
            SmbErrorKind::ShareUnavailable,
            format!("{what}: cannot connect to the share ({detail})"),
        ),
        (_, _) => (
            SmbErrorKind::Protocol,
            format!("{what}: SMB error ({detail})"),
        ),
    };
    SmbError::new(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_transport_failures_mean_fall_back() {
        assert!(SmbErrorKind::Unreachable.is_transport_down());
        assert!(SmbErrorKind::ShareUnavailable.is_transport_down());
        assert!(!SmbErrorKind::AuthFailed.is_transport_down());
        assert!(!SmbErrorKind::NotFound.is_transport_down());
        assert!(!SmbErrorKind::AccessDenied.is_transport_down());
    }

    #[test]
    fn timeouts_while_connecting_are_unreachable() {
        let e = classify(&smb2::Error::Timeout, Step::Connect, "10.0.0.5:445");
        assert_eq!(e.kind, SmbErrorKind::Unreachable);
        assert!(e.message.contains("445"), "{}", e.message);
        let e = classify(&smb2::Error::Timeout, Step::Read, r"C:\a.dll");
        assert_eq!(e.kind, SmbErrorKind::ConnectionLost);
    }
}
