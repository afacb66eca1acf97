//! Cross-check of the lab's NTLM acceptor against a real initiator,
//! pyspnego (what requests-ntlm and pywinrm use): its NEGOTIATE and
//! AUTHENTICATE must be accepted (MIC included), a wrong password or
//! unknown user refused, and sealed messages must open on the other side
//! in both directions. Skipped if the venv is missing, failed under CI=true.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cauterize::lab::ntlm::{Acceptor, NtlmError, Session, nt_hash};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const PASSWORD: &str = "Passw0rd!";

/// Accounts as the lab would hold them: WINSIM\alice, matched
/// case-insensitively.
fn lookup(domain: &str, user: &str) -> Option<[u8; 16]> {
    (domain.eq_ignore_ascii_case("WINSIM") && user.eq_ignore_ascii_case("alice"))
        .then(|| nt_hash(PASSWORD))
}

/// A running `tests/peers/ntlm_initiator.py`.
struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    fn start(test: &str, user: &str, password: &str) -> Option<(Self, Vec<u8>)> {
        let python = common::peers::python(test, &["spnego"])?;
        let mut child = Command::new(python)
            .arg(common::peers::peer_script("ntlm_initiator.py"))
            .args([user, password, "WS-001"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the pyspnego initiator");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut peer = Peer {
            child,
            stdin,
            stdout,
        };
        let t1 = peer.read("T1");
        Some((peer, t1))
    }

    fn read_line(&mut self) -> (String, Vec<u8>) {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("read from the initiator");
        let (verb, arg) = line
            .trim_end()
            .split_once(' ')
            .unwrap_or((line.trim_end(), ""));
        if verb == "ERR" || verb.is_empty() {
            return ("ERR".into(), arg.as_bytes().to_vec());
        }
        (
            verb.to_string(),
            B64.decode(arg).expect("base64 from the initiator"),
        )
    }

    fn read(&mut self, want: &str) -> Vec<u8> {
        let (verb, data) = self.read_line();
        assert_eq!(
            verb,
            want,
            "initiator said {verb} {}",
            String::from_utf8_lossy(&data)
        );
        data
    }

    fn ask(&mut self, verb: &str, data: &[u8]) -> (String, Vec<u8>) {
        writeln!(self.stdin, "{verb} {}", B64.encode(data)).expect("write to the initiator");
        self.stdin.flush().expect("flush");
        self.read_line()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "QUIT");
        let _ = self.stdin.flush();
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.wait();
        }
    }
}

/// Runs the handshake; returns the peer, the acceptor's verdict and the
/// AUTHENTICATE pyspnego sent.
fn handshake(
    test: &str,
    user: &str,
    password: &str,
    tamper: impl FnOnce(&mut Vec<u8>),
) -> Option<(Peer, Result<Session, NtlmError>, Vec<u8>)> {
    let (mut peer, t1) = Peer::start(test, user, password)?;
    let mut acceptor = Acceptor::new("WS-001", "WINSIM");
    let t2 = acceptor
        .challenge(&t1)
        .expect("pyspnego's NEGOTIATE accepted");
    assert_eq!(
        u32::from_le_bytes(t2[20..24].try_into().unwrap()),
        0xE289_8235,
        "CHALLENGE flags"
    );
    let mut t3 = {
        let (verb, t3) = peer.ask("T2", &t2);
        assert_eq!(
            verb,
            "T3",
            "pyspnego refused our CHALLENGE: {}",
            String::from_utf8_lossy(&t3)
        );
        t3
    };
    tamper(&mut t3);
    let result = acceptor.authenticate(&t3, &lookup);
    Some((peer, result, t3))
}

#[test]
fn pyspnego_handshake_then_sealed_messages_both_ways() {
    let Some((mut peer, result, t3)) =
        handshake("pyspnego_handshake", "WINSIM\\Alice", PASSWORD, |_| {})
    else {
        return;
    };
    let mut session = result.expect("pyspnego's AUTHENTICATE accepted");
    assert_eq!(
        (session.user.as_str(), session.domain.as_str()),
        ("Alice", "WINSIM")
    );
    assert_ne!(
        t3[72..88],
        [0; 16],
        "pyspnego sends a MIC, so the MIC path was exercised"
    );

    for n in 0..2u32 {
        // client -> server
        let request = format!("<s:Envelope>request {n}: whoami /all</s:Envelope>");
        let (verb, wrapped) = peer.ask("WRAP", request.as_bytes());
        assert_eq!(verb, "WRAPPED");
        let (sig, ct) = wrapped.split_at(16);
        assert_eq!(sig[12..], n.to_le_bytes(), "pyspnego's sequence number");
        let plain = session
            .unseal(sig.try_into().unwrap(), ct)
            .expect("our unseal of pyspnego's wrap");
        assert_eq!(plain, request.as_bytes());

        // server -> client
        let reply: Vec<u8> = format!("<s:Envelope>reply {n}</s:Envelope>")
            .bytes()
            .cycle()
            .take(3000)
            .collect();
        let (sig, ct) = session.seal(&reply);
        assert_eq!(sig[12..], n.to_le_bytes(), "our sequence number");
        let (verb, unwrapped) = peer.ask("UNWRAP", &[&sig[..], &ct].concat());
        assert_eq!(
            verb,
            "UNWRAPPED",
            "pyspnego's unwrap of our seal: {}",
            String::from_utf8_lossy(&unwrapped)
        );
        assert_eq!(unwrapped, reply);
    }

    // A tampered server message is refused by pyspnego, a tampered client
    // message by us.
    let (sig, mut ct) = session.seal(b"<s:Envelope>tampered</s:Envelope>");
    ct[3] ^= 1;
    let (verb, _) = peer.ask("UNWRAP", &[&sig[..], &ct].concat());
    assert_eq!(
        verb, "ERR",
        "pyspnego must reject a tampered server message"
    );
    let (_, mut wrapped) = peer.ask("WRAP", b"<s:Envelope>tampered</s:Envelope>");
    wrapped[20] ^= 1;
    let (sig, ct) = wrapped.split_at(16);
    assert_eq!(
        session.unseal(sig.try_into().unwrap(), ct),
        Err(NtlmError::BadSignature)
    );
}

#[test]
fn pyspnego_wrong_password_is_refused() {
    let Some((_peer, result, _)) = handshake(
        "pyspnego_wrong_password",
        "WINSIM\\alice",
        "not-the-password",
        |_| {},
    ) else {
        return;
    };
    assert_eq!(
        result.err(),
        Some(NtlmError::BadProof {
            domain: "WINSIM".into(),
            user: "alice".into()
        })
    );
}

#[test]
fn pyspnego_unknown_user_is_refused() {
    let Some((_peer, result, _)) =
        handshake("pyspnego_unknown_user", "WINSIM\\mallory", PASSWORD, |_| {})
    else {
        return;
    };
    assert_eq!(
        result.err(),
        Some(NtlmError::UnknownAccount {
            domain: "WINSIM".into(),
            user: "mallory".into()
        })
    );
}

#[test]
fn pyspnego_tampered_mic_is_refused() {
    let Some((_peer, result, _)) =
        handshake("pyspnego_tampered_mic", "WINSIM\\alice", PASSWORD, |t3| {
            t3[75] ^= 0x40
        })
    else {
        return;
    };
    assert!(
        matches!(result, Err(NtlmError::BadProof { .. })),
        "{:?}",
        result.err()
    );
}
