//! The one error type of the transport, [`TransportError`], and its coarse
//! [`ErrorKind`] for reports and exit codes.
//!
//! Every message says what happened and what to check. None carries a
//! password: messages are built from host names, ports, credential *names*
//! and server replies (which never echo a password back).

use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// What the transport was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// TCP connect, authentication and shell creation.
    OpeningShell,
    /// Starting the command in the shell.
    Starting,
    /// Pushing the script on stdin.
    SendingInput,
    /// Waiting for the command's output.
    Running,
    /// Terminating the command and deleting the shell.
    Closing,
    /// Before anything was started (Ctrl-C before the host's turn).
    Queued,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::OpeningShell => "while opening a shell",
            Phase::Starting => "while starting the command",
            Phase::SendingInput => "while sending the script",
            Phase::Running => "while the command ran",
            Phase::Closing => "while closing the shell",
            Phase::Queued => "before the host's turn",
        })
    }
}

/// Coarse class of a failure, as reports count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Unreachable,
    AuthFailed,
    TimedOut,
    QuotaExceeded,
    Refused,
    Protocol,
    OutputTooLarge,
    Interrupted,
    Tls,
}

impl ErrorKind {
    /// The name used in JSON output and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::AuthFailed => "auth_failed",
            ErrorKind::TimedOut => "timed_out",
            ErrorKind::QuotaExceeded => "quota_exceeded",
            ErrorKind::Refused => "refused",
            ErrorKind::Protocol => "protocol",
            ErrorKind::OutputTooLarge => "output_too_large",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Tls => "tls",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seconds with one decimal, for messages.
fn secs(d: &Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// What to do about a time-out in `phase`.
fn timeout_hint(phase: Phase) -> &'static str {
    match phase {
        Phase::Running => {
            "; if the command needs longer, raise command_timeout in the inventory or pass --timeout"
        }
        Phase::OpeningShell => "; the host answered too slowly: check its load and the network",
        _ => "",
    }
}

/// What to do about a failed TLS handshake.
fn tls_hint(certificate: bool) -> &'static str {
    if certificate {
        "the host's HTTPS certificate is not one this machine trusts for that address: if your \
         organisation's CA signed it, add `cert_validation: { ca_file: <that CA's PEM file> }` to \
         the host or its group in the inventory (`cert_validation: ignore` skips the check, and \
         lets whoever answers on that address take the login)"
    } else {
        "the host's HTTPS listener and cauterize share no TLS version or cipher (TLS 1.2 or later \
         is needed: Windows 7 and 2008 R2 need the TLS 1.2 update); or reach it over \
         transport: http"
    }
}

/// Why running something on a host failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Nothing answered: connection refused, no route, name not resolved,
    /// connect time-out.
    #[error(
        "cannot reach {address} on port {port}: {detail}; check that the host is up and that \
         WinRM listens on port {port}"
    )]
    Unreachable {
        address: String,
        port: u16,
        detail: String,
    },

    /// The TLS handshake failed before anything was sent: the certificate
    /// does not verify (`certificate`), or no common TLS version. Never
    /// retried: trying again changes nothing.
    #[error(
        "{} with {address} on port {port} failed: {detail}; {}",
        if *.certificate { "certificate verification" } else { "the TLS handshake" },
        tls_hint(*.certificate)
    )]
    Tls {
        address: String,
        port: u16,
        certificate: bool,
        detail: String,
    },

    /// The host refused the credential (HTTP 401, access denied). Never
    /// retried: retries lock accounts out.
    #[error(
        "authentication failed: {detail}; check the credential '{credential}' and that the \
         account is a local administrator"
    )]
    AuthFailed { credential: String, detail: String },

    /// A deadline passed.
    #[error("timed out {phase} after {}{}", secs(.after), timeout_hint(*.phase))]
    TimedOut { phase: Phase, after: Duration },

    /// WinRM's shell quota (MaxShellsPerUser, 5 on Windows 7 / 2008 R2).
    #[error(
        "WinRM shell quota exceeded: {detail}; close this account's other WinRM shells on the \
         host (or wait for them to time out), or raise MaxShellsPerUser \
         (winrm set winrm/config/winrs @{{MaxShellsPerUser=\"30\"}})"
    )]
    QuotaExceeded { detail: String },

    /// The connection settings were refused before anything was sent.
    #[error("refused before connecting: {reason}")]
    Refused { reason: String },

    /// Anything else the WinRM exchange did wrong.
    #[error("WinRM error {phase}: {detail}")]
    Protocol { phase: Phase, detail: String },

    /// The command printed more than the cap; it was stopped.
    #[error("output exceeded {limit} bytes; the command was stopped and its output discarded")]
    OutputTooLarge { limit: usize },

    /// Ctrl-C: the command was told to stop and the shell closed.
    #[error("interrupted (Ctrl-C) {phase}")]
    Interrupted { phase: Phase },
}

impl TransportError {
    /// The phase it happened in, when known. Errors in a phase after
    /// [`Phase::OpeningShell`] mean the login itself worked.
    pub fn phase(&self) -> Option<Phase> {
        match self {
            TransportError::TimedOut { phase, .. }
            | TransportError::Protocol { phase, .. }
            | TransportError::Interrupted { phase } => Some(*phase),
            TransportError::Unreachable { .. }
            | TransportError::AuthFailed { .. }
            | TransportError::Tls { .. } => Some(Phase::OpeningShell),
            TransportError::QuotaExceeded { .. } => Some(Phase::OpeningShell),
            TransportError::OutputTooLarge { .. } => Some(Phase::Running),
            TransportError::Refused { .. } => None,
        }
    }

    /// Did authentication succeed before this error (a shell was open)?
    pub fn after_login(&self) -> bool {
        matches!(
            self.phase(),
            Some(Phase::Starting | Phase::SendingInput | Phase::Running | Phase::Closing)
        )
    }

    /// The coarse class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransportError::Unreachable { .. } => ErrorKind::Unreachable,
            TransportError::AuthFailed { .. } => ErrorKind::AuthFailed,
            TransportError::TimedOut { .. } => ErrorKind::TimedOut,
            TransportError::QuotaExceeded { .. } => ErrorKind::QuotaExceeded,
            TransportError::Refused { .. } => ErrorKind::Refused,
            TransportError::Protocol { .. } => ErrorKind::Protocol,
            TransportError::OutputTooLarge { .. } => ErrorKind::OutputTooLarge,
            TransportError::Interrupted { .. } => ErrorKind::Interrupted,
            TransportError::Tls { .. } => ErrorKind::Tls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_check() {
        let e = TransportError::Unreachable {
            address: "10.0.0.5".into(),
            port: 5985,
            detail: "connection refused".into(),
        };
        assert_eq!(e.kind(), ErrorKind::Unreachable);
        let text = e.to_string();
        assert!(
            text.contains("10.0.0.5") && text.contains("port 5985"),
            "{text}"
        );
        assert!(text.contains("WinRM listens on port 5985"), "{text}");

        let e = TransportError::AuthFailed {
            credential: "ir".into(),
            detail: "HTTP 401".into(),
        };
        assert!(e.to_string().contains("check the credential 'ir'"));
        assert!(e.to_string().contains("local administrator"));

        let e = TransportError::TimedOut {
            phase: Phase::Running,
            after: Duration::from_millis(2500),
        };
        assert!(
            e.to_string()
                .starts_with("timed out while the command ran after 2.5s; "),
            "{e}"
        );
        assert!(e.to_string().contains("--timeout"), "{e}");
        assert!(e.after_login());
        let before = TransportError::TimedOut {
            phase: Phase::OpeningShell,
            after: Duration::from_secs(1),
        };
        assert!(!before.after_login());

        let e = TransportError::QuotaExceeded {
            detail: "max 5".into(),
        };
        assert!(e.to_string().contains("MaxShellsPerUser"));
    }

    #[test]
    fn tls_failures_say_what_to_write() {
        let e = TransportError::Tls {
            address: "10.0.0.5".into(),
            port: 5986,
            certificate: true,
            detail: "invalid peer certificate: UnknownIssuer".into(),
        };
        assert_eq!(e.kind().as_str(), "tls");
        let text = e.to_string();
        assert!(text.starts_with("certificate verification with 10.0.0.5 on port 5986 failed"), "{text}");
        assert!(text.contains("cert_validation: { ca_file:"), "{text}");
        let e = TransportError::Tls {
            address: "10.0.0.5".into(),
            port: 5986,
            certificate: false,
            detail: "received fatal alert: ProtocolVersion".into(),
        };
        assert!(e.to_string().contains("TLS 1.2"), "{e}");
    }

    #[test]
    fn kind_names_are_stable() {
        assert_eq!(ErrorKind::AuthFailed.as_str(), "auth_failed");
        assert_eq!(
            serde_json::to_string(&ErrorKind::TimedOut).unwrap(),
            "\"timed_out\""
        );
        assert_eq!(
            TransportError::Interrupted {
                phase: Phase::Queued
            }
            .kind(),
            ErrorKind::Interrupted
        );
    }
}
