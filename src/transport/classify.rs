//! Turns a winrm-rs error into a [`TransportError`], and says whether it is
//! safe to try again. Pure: no I/O.
//!
//! winrm-rs reports many different things as `AuthFailed(String)` (a 401,
//! but also "HTTP 503: ..."), so the message text decides here. The rules are
//! unit-tested below with the messages winrm-rs 2.0.1 produces.

use super::error::{Phase, TransportError};
use std::time::Duration;
use winrm_rs::{NtlmError, SoapError, WinrmError};

/// What the caller knows when an error happens.
#[derive(Debug, Clone)]
pub struct ErrorContext<'a> {
    pub address: &'a str,
    pub port: u16,
    /// Name of the inventory credential (never the password).
    pub credential: &'a str,
    pub phase: Phase,
    /// Time spent in the phase so far.
    pub elapsed: Duration,
}

/// The facts of a `reqwest` error that matter here (winrm-rs does not
/// re-export `reqwest`, so the real error is read into this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFacts {
    /// Failed while connecting: nothing was sent.
    pub is_connect: bool,
    pub is_timeout: bool,
    /// The error and its causes, joined with ": ".
    pub detail: String,
}

impl HttpFacts {
    /// Read the facts of a winrm-rs HTTP error.
    pub fn of(err: &WinrmError) -> Option<HttpFacts> {
        let WinrmError::Http(e) = err else {
            return None;
        };
        Some(HttpFacts {
            is_connect: e.is_connect(),
            is_timeout: e.is_timeout(),
            detail: cause_chain(e),
        })
    }
}

/// An error and all its sources, so "error sending request" is followed by
/// the useful "Connection refused (os error 111)".
pub fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// The WS-Management fault subcode without its prefix (`w:QuotaLimit` ->
/// `QuotaLimit`).
fn fault_name(code: &str) -> &str {
    code.rsplit([':', '/']).next().unwrap_or(code)
}

/// Does this text say "401" or "credentials rejected"?
fn says_auth_rejected(msg: &str) -> bool {
    let lower = msg.to_ascii_lowercase();
    lower.contains("http 401")
        || lower.contains("401 unauthorized")
        || lower.contains("rejected")
        || lower.contains("bad credentials")
        || lower.contains("access is denied")
        || lower.contains("access denied")
        || lower.contains("logon failure")
}

/// Does this text report that an authenticated connection lost its NTLM
/// session (winrm-rs: "HTTP 401 to a sealed ... request on an authenticated
/// connection")? That is a lost connection, not a rejected credential: the
/// credential had already been accepted on it, so it must not count toward
/// lock-out, and only a request that is safe to resend may be retried.
fn says_session_lost(msg: &str) -> bool {
    msg.contains("on an authenticated connection")
}

/// Did the request fail because its authenticated connection lost its
/// NTLM session ([`says_session_lost`])?
pub fn session_lost(err: &WinrmError) -> bool {
    match err {
        WinrmError::AuthFailed(msg) | WinrmError::Ntlm(NtlmError::InvalidMessage(msg)) => says_session_lost(msg),
        _ => false,
    }
}

/// Does this text report an HTTP 503 (service busy)?
fn says_503(msg: &str) -> bool {
    msg.contains("HTTP 503") || msg.contains("503 Service Unavailable")
}

/// A failed TLS handshake, as rustls words it: `Some(true)` when the
/// server certificate did not verify, `Some(false)` for other handshake
/// failures (no common version or cipher), `None` when it is no TLS error.
fn tls_failure(lower: &str) -> Option<bool> {
    let certificate = ["invalid peer certificate", "unknownissuer", "notvalidforname", "certificate"];
    let handshake = ["fatal alert", "peer is incompatible", "peerincompatible", "tls handshake"];
    if certificate.iter().any(|w| lower.contains(w)) {
        Some(true)
    } else if handshake.iter().any(|w| lower.contains(w)) {
        Some(false)
    } else {
        None
    }
}

/// What rustls said, without reqwest's wrapping (`error sending request
/// for url (...): client error (Connect): `).
fn tls_reason(chain: &str) -> String {
    match chain.rfind("(Connect): ") {
        Some(at) => chain[at + "(Connect): ".len()..].trim().to_string(),
        None => short_reason(chain),
    }
}

/// Classify an HTTP-level failure.
pub fn classify_http(facts: &HttpFacts, ctx: &ErrorContext<'_>) -> TransportError {
    let lower = facts.detail.to_ascii_lowercase();
    if let Some(certificate) = tls_failure(&lower).filter(|_| !facts.is_timeout) {
        return TransportError::Tls {
            address: ctx.address.to_string(),
            port: ctx.port,
            certificate,
            detail: tls_reason(&facts.detail),
        };
    }
    if facts.is_timeout && !facts.is_connect {
        return TransportError::TimedOut {
            phase: ctx.phase,
            after: ctx.elapsed,
        };
    }
    let unreachable_words = [
        "refused",
        "no route",
        "unreachable",
        "dns",
        "resolve",
        "lookup",
    ];
    let looks_unreachable = unreachable_words.iter().any(|w| lower.contains(w));
    if facts.is_connect || (looks_unreachable && ctx.phase == Phase::OpeningShell) {
        let detail = if facts.is_timeout {
            format!(
                "no answer within the connect time-out ({})",
                short_reason(&facts.detail)
            )
        } else {
            short_reason(&facts.detail)
        };
        return TransportError::Unreachable {
            address: ctx.address.to_string(),
            port: ctx.port,
            detail,
        };
    }
    TransportError::Protocol {
        phase: ctx.phase,
        detail: facts.detail.clone(),
    }
}

/// The most useful part of a cause chain: its last cause ("Connection
/// refused (os error 111)"), which is what a user can act on.
fn short_reason(chain: &str) -> String {
    chain
        .rsplit(": ")
        .next()
        .unwrap_or(chain)
        .trim()
        .to_string()
}

/// Classify any winrm-rs error raised at run time (after the client was
/// built).
pub fn classify(err: &WinrmError, ctx: &ErrorContext<'_>) -> TransportError {
    let protocol = |detail: String| TransportError::Protocol {
        phase: ctx.phase,
        detail,
    };
    let auth = |detail: String| TransportError::AuthFailed {
        credential: ctx.credential.to_string(),
        detail,
    };
    match err {
        WinrmError::Http(_) => match HttpFacts::of(err) {
            Some(facts) => classify_http(&facts, ctx),
            None => protocol(err.to_string()),
        },
        WinrmError::AuthFailed(msg) if says_503(msg) => protocol(format!("service busy: {msg}")),
        WinrmError::AuthFailed(msg) | WinrmError::Ntlm(NtlmError::InvalidMessage(msg)) if says_session_lost(msg) => {
            protocol(format!("the connection lost its WinRM session mid-run: {msg}"))
        }
        WinrmError::AuthFailed(msg) if says_auth_rejected(msg) => auth(msg.clone()),
        WinrmError::AuthFailed(msg) => protocol(msg.clone()),
        WinrmError::Ntlm(NtlmError::InvalidMessage(msg)) if says_auth_rejected(msg) => {
            auth(msg.clone())
        }
        WinrmError::Ntlm(e) => protocol(e.to_string()),
        WinrmError::Soap(SoapError::Fault { code, reason }) => {
            let name = fault_name(code);
            let lower = reason.to_ascii_lowercase();
            if name.eq_ignore_ascii_case("QuotaLimit")
                || (lower.contains("maximum number of") && lower.contains("shell"))
            {
                TransportError::QuotaExceeded {
                    detail: reason.clone(),
                }
            } else if name.eq_ignore_ascii_case("AccessDenied") || says_auth_rejected(reason) {
                auth(format!("access denied ({reason})"))
            } else if name.eq_ignore_ascii_case("TimedOut") {
                TransportError::TimedOut {
                    phase: ctx.phase,
                    after: ctx.elapsed,
                }
            } else {
                protocol(format!("SOAP fault {code}: {reason}"))
            }
        }
        WinrmError::Soap(e) => protocol(e.to_string()),
        WinrmError::Timeout(_) => TransportError::TimedOut {
            phase: ctx.phase,
            after: ctx.elapsed,
        },
        WinrmError::Transfer(msg) if msg.contains("max_output_bytes") => {
            protocol(format!("output cap reached: {msg}"))
        }
        WinrmError::Transfer(msg) => protocol(msg.clone()),
        WinrmError::Cancelled => TransportError::Interrupted { phase: ctx.phase },
        WinrmError::CredSsp(e) => protocol(e.to_string()),
    }
}

/// Classify an error from building a client: everything there is a refusal
/// of the settings, made before anything was sent.
pub fn classify_build(err: &WinrmError) -> TransportError {
    let reason = match err {
        WinrmError::AuthFailed(msg) => msg.clone(),
        other => other.to_string(),
    };
    TransportError::Refused { reason }
}

/// May the request that failed with `err` be sent again?
///
/// Only transient network trouble qualifies, never an authentication
/// failure (lock-out) or a time-out. A connect failure counts only once the
/// host has answered before in this session (`reached_before`): a host that
/// is down fails fast instead of costing three tries.
pub fn is_transient(err: &WinrmError, reached_before: bool) -> bool {
    match err {
        WinrmError::Http(_) => match HttpFacts::of(err) {
            Some(f) => is_transient_http(&f, reached_before),
            None => false,
        },
        WinrmError::AuthFailed(msg) | WinrmError::Ntlm(NtlmError::InvalidMessage(msg)) => {
            says_503(msg) || says_session_lost(msg)
        }
        _ => false,
    }
}

/// [`is_transient`] for HTTP failures.
pub fn is_transient_http(facts: &HttpFacts, reached_before: bool) -> bool {
    if facts.is_timeout || tls_failure(&facts.detail.to_ascii_lowercase()).is_some() {
        return false;
    }
    if facts.is_connect {
        return reached_before;
    }
    let lower = facts.detail.to_ascii_lowercase();
    [
        "reset",
        "broken pipe",
        "connection closed",
        "closed before",
        "incomplete message",
        "eof",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Did the host accept the login before failing? A SOAP fault (access
/// denied to a non-admin included) comes from an authenticated exchange.
pub fn login_worked(err: &WinrmError) -> bool {
    matches!(err, WinrmError::Soap(SoapError::Fault { .. }))
}

/// Was nothing sent? Then even a command start may be retried.
pub fn nothing_was_sent(err: &WinrmError) -> bool {
    HttpFacts::of(err).is_some_and(|f| f.is_connect)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::error::ErrorKind;

    fn ctx(phase: Phase) -> ErrorContext<'static> {
        ErrorContext {
            address: "127.50.0.1",
            port: 5985,
            credential: "ir",
            phase,
            elapsed: Duration::from_secs(3),
        }
    }

    #[test]
    fn ntlm_rejection_is_auth_failed_and_names_the_credential() {
        let e = WinrmError::AuthFailed(
            "NTLM authentication rejected (bad credentials or CBT mismatch)".into(),
        );
        let t = classify(&e, &ctx(Phase::OpeningShell));
        assert_eq!(t.kind(), ErrorKind::AuthFailed);
        assert!(t.to_string().contains("'ir'"), "{t}");
        assert!(
            !is_transient(&e, true),
            "auth failures must never be retried"
        );
    }

    #[test]
    fn http_503_is_protocol_and_transient() {
        let e = WinrmError::AuthFailed("HTTP 503 Service Unavailable: busy".into());
        assert_eq!(
            classify(&e, &ctx(Phase::OpeningShell)).kind(),
            ErrorKind::Protocol
        );
        assert!(is_transient(&e, false));
        let other = WinrmError::AuthFailed("HTTP 400 Bad Request: x".into());
        assert!(!is_transient(&other, true));
        assert_eq!(
            classify(&other, &ctx(Phase::Running)).kind(),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn quota_fault_is_quota_exceeded() {
        let e = WinrmError::Soap(SoapError::Fault {
            code: "w:QuotaLimit".into(),
            reason: "This user is allowed a maximum number of 5 concurrent shells, which has been exceeded.".into(),
        });
        let t = classify(&e, &ctx(Phase::OpeningShell));
        assert_eq!(t.kind(), ErrorKind::QuotaExceeded);
        assert!(t.to_string().contains("maximum number of 5"), "{t}");
        let by_text = WinrmError::Soap(SoapError::Fault {
            code: "s:Receiver".into(),
            reason: "The server is already executing the maximum number of concurrent shells a user can remotely open".into(),
        });
        assert_eq!(
            classify(&by_text, &ctx(Phase::OpeningShell)).kind(),
            ErrorKind::QuotaExceeded
        );
    }

    #[test]
    fn access_denied_fault_is_auth() {
        let e = WinrmError::Soap(SoapError::Fault {
            code: "w:AccessDenied".into(),
            reason: "Access is denied.".into(),
        });
        assert_eq!(
            classify(&e, &ctx(Phase::OpeningShell)).kind(),
            ErrorKind::AuthFailed
        );
    }

    #[test]
    fn other_faults_timeouts_and_cancel() {
        let e = WinrmError::Soap(SoapError::Fault {
            code: "w:InvalidSelectors".into(),
            reason: "bad shell".into(),
        });
        let t = classify(&e, &ctx(Phase::Running));
        assert_eq!(t.kind(), ErrorKind::Protocol);
        assert!(t.to_string().contains("InvalidSelectors"));
        assert_eq!(
            classify(&WinrmError::Timeout(20), &ctx(Phase::Starting)).kind(),
            ErrorKind::TimedOut
        );
        assert_eq!(
            classify(&WinrmError::Cancelled, &ctx(Phase::Running)).kind(),
            ErrorKind::Interrupted
        );
    }

    #[test]
    fn connect_failures_are_unreachable_with_the_port() {
        let facts = HttpFacts {
            is_connect: true,
            is_timeout: false,
            detail: "error sending request for url (http://127.50.0.1:5985/wsman): client error (Connect): tcp connect error: Connection refused (os error 111)".into(),
        };
        let t = classify_http(&facts, &ctx(Phase::OpeningShell));
        assert_eq!(t.kind(), ErrorKind::Unreachable);
        let text = t.to_string();
        assert!(text.contains("Connection refused (os error 111)"), "{text}");
        assert!(text.contains("port 5985"), "{text}");
        // A host that never answered is not retried; one that did is.
        assert!(!is_transient_http(&facts, false));
        assert!(is_transient_http(&facts, true));
    }

    #[test]
    fn certificate_failures_are_tls_and_never_retried() {
        let facts = HttpFacts {
            is_connect: true,
            is_timeout: false,
            detail: "error sending request for url (https://127.69.1.1:5986/wsman): client error (Connect): invalid peer certificate: UnknownIssuer".into(),
        };
        let t = classify_http(&facts, &ErrorContext { port: 5986, ..ctx(Phase::OpeningShell) });
        assert_eq!(t.kind(), ErrorKind::Tls);
        let text = t.to_string();
        assert!(text.contains("failed: invalid peer certificate: UnknownIssuer;"), "{text}");
        assert!(text.contains("ca_file") && text.contains("port 5986"), "{text}");
        assert!(!is_transient_http(&facts, true), "a bad certificate stays bad");
        let old = HttpFacts {
            detail: "client error (Connect): received fatal alert: ProtocolVersion".into(),
            ..facts
        };
        let t = classify_http(&old, &ctx(Phase::OpeningShell));
        assert!(matches!(t, TransportError::Tls { certificate: false, .. }), "{t}");
        assert!(!is_transient_http(&old, true));
    }

    #[test]
    fn reset_is_transient_timeout_is_not() {
        let reset = HttpFacts {
            is_connect: false,
            is_timeout: false,
            detail: "connection reset by peer".into(),
        };
        assert!(is_transient_http(&reset, false));
        assert_eq!(
            classify_http(&reset, &ctx(Phase::Running)).kind(),
            ErrorKind::Protocol
        );
        let slow = HttpFacts {
            is_connect: false,
            is_timeout: true,
            detail: "operation timed out".into(),
        };
        assert!(!is_transient_http(&slow, true));
        assert_eq!(
            classify_http(&slow, &ctx(Phase::Running)).kind(),
            ErrorKind::TimedOut
        );
    }

    #[test]
    fn a_lost_session_is_not_a_rejected_credential_and_may_be_retried() {
        let lost = WinrmError::Ntlm(NtlmError::InvalidMessage(
            "HTTP 401 to a sealed NTLM request on an authenticated connection: the connection no longer \
             carries the NTLM session"
                .into(),
        ));
        assert!(is_transient(&lost, true));
        assert!(session_lost(&lost));
        let ctx = ErrorContext { address: "127.0.0.1", port: 5985, credential: "lab", phase: Phase::OpeningShell, elapsed: Duration::ZERO };
        assert_eq!(classify(&lost, &ctx).kind(), ErrorKind::Protocol);
        let rejected = WinrmError::AuthFailed("HTTP 401 Unauthorized".into());
        assert_eq!(classify(&rejected, &ctx).kind(), ErrorKind::AuthFailed);
        assert!(!is_transient(&rejected, true));
        assert!(!session_lost(&rejected), "a refused logon is not a lost session");
        let busy = WinrmError::AuthFailed("HTTP 503 Service Unavailable".into());
        assert!(!session_lost(&busy));
    }

    #[test]
    fn unsealed_answers_are_classified_by_their_status_not_their_size() {
        let busy = WinrmError::Ntlm(NtlmError::InvalidMessage(
            "server answered a sealed NTLM request without sealing: HTTP 503 Service Unavailable (401 bytes)".into(),
        ));
        assert_eq!(
            classify(&busy, &ctx(Phase::OpeningShell)).kind(),
            ErrorKind::Protocol
        );
        assert!(is_transient(&busy, false));
        let denied = WinrmError::Ntlm(NtlmError::InvalidMessage(
            "server answered a sealed NTLM request without sealing: HTTP 401 Unauthorized (0 bytes)".into(),
        ));
        assert_eq!(
            classify(&denied, &ctx(Phase::Running)).kind(),
            ErrorKind::AuthFailed
        );
        assert!(!is_transient(&denied, true));
    }

    #[test]
    fn build_errors_are_refusals() {
        let e = WinrmError::AuthFailed("invalid proxy URL".into());
        assert_eq!(classify_build(&e).kind(), ErrorKind::Refused);
    }

    #[test]
    fn cause_chain_keeps_the_root_cause() {
        let inner =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let outer = std::io::Error::other(inner);
        assert!(cause_chain(&outer).contains("Connection refused"));
    }
}
