//! Handshake, refusal, hostile-input and sealing tests against the
//! test-only client.

use super::test_client::Client;
use super::{Acceptor, NtlmError, Session, avpairs, flags, nt_hash};

const PASSWORD: &str = "Passw0rd!";

fn lookup(domain: &str, user: &str) -> Option<[u8; 16]> {
    (domain.eq_ignore_ascii_case("CORP") && user.eq_ignore_ascii_case("alice"))
        .then(|| nt_hash(PASSWORD))
}

fn run(client: &mut Client) -> Result<Session, NtlmError> {
    let mut acceptor = Acceptor::new("WS-001", "CORP");
    let challenge = acceptor.challenge(&client.negotiate())?;
    let auth = client.authenticate(&challenge);
    acceptor.authenticate(&auth, &lookup)
}

/// A valid (acceptor with challenge issued, AUTHENTICATE) pair.
fn issued_pair() -> (Acceptor, Vec<u8>) {
    let mut client = Client::new("CORP", "alice", PASSWORD);
    let mut acceptor = Acceptor::new("WS-001", "CORP");
    let challenge = acceptor.challenge(&client.negotiate()).expect("challenge");
    let auth = client.authenticate(&challenge);
    (acceptor, auth)
}

#[test]
fn handshake_and_sealing_round_trip() {
    let mut client = Client::new("CORP", "Alice", PASSWORD);
    let mut session = run(&mut client).expect("handshake");
    assert_eq!(
        (session.user.as_str(), session.domain.as_str()),
        ("Alice", "CORP")
    );
    assert_eq!(session.workstation(), "CLIENTPC");
    let (mut c2s, mut s2c) = client.sealing();
    for round in 0..3u8 {
        let request = format!("<s:Envelope>request {round}</s:Envelope>");
        let (sig, ct) = c2s.wrap(request.as_bytes());
        assert_ne!(ct, request.as_bytes(), "sealed text must not be plaintext");
        assert_eq!(
            session.unseal(&sig, &ct).expect("unseal"),
            request.as_bytes()
        );

        let reply = vec![round; 1000];
        let (sig, ct) = session.seal(&reply);
        assert_eq!(s2c.unwrap(&sig, &ct).expect("client unwrap"), reply);
    }
}

#[test]
fn sequence_numbers_advance_per_direction() {
    let mut client = Client::new("CORP", "alice", PASSWORD);
    let mut session = run(&mut client).expect("handshake");
    let (mut c2s, _) = client.sealing();
    assert_eq!(session.sequence_numbers(), (0, 0));
    for n in 0..3u32 {
        let (sig, _) = session.seal(b"out");
        assert_eq!(sig[12..], n.to_le_bytes());
        assert_eq!(sig[..4], [1, 0, 0, 0]);
    }
    let (sig, ct) = c2s.wrap(b"in");
    session.unseal(&sig, &ct).expect("unseal");
    assert_eq!(session.sequence_numbers(), (3, 1));
}

#[test]
fn replayed_or_skipped_sequence_is_bad_signature() {
    let mut client = Client::new("CORP", "alice", PASSWORD);
    let mut session = run(&mut client).expect("handshake");
    let (mut c2s, _) = client.sealing();
    let (_sig0, _ct0) = c2s.wrap(b"first"); // never delivered
    let (sig1, ct1) = c2s.wrap(b"second");
    assert_eq!(session.unseal(&sig1, &ct1), Err(NtlmError::BadSignature));
}

#[test]
fn tampered_ciphertext_or_signature_is_bad_signature() {
    for target in ["ciphertext", "checksum", "seq", "version"] {
        let mut client = Client::new("CORP", "alice", PASSWORD);
        let mut session = run(&mut client).expect("handshake");
        let (mut c2s, _) = client.sealing();
        let (mut sig, mut ct) = c2s.wrap(b"<s:Envelope>whoami</s:Envelope>");
        match target {
            "ciphertext" => ct[5] ^= 0x01,
            "checksum" => sig[6] ^= 0x80,
            "seq" => sig[12] = 1,
            _ => sig[0] = 2,
        }
        assert_eq!(
            session.unseal(&sig, &ct),
            Err(NtlmError::BadSignature),
            "tampered {target}"
        );
    }
}

#[test]
fn wrong_password_is_bad_proof() {
    let err = run(&mut Client::new("CORP", "alice", "wrong")).err();
    assert_eq!(
        err,
        Some(NtlmError::BadProof {
            domain: "CORP".into(),
            user: "alice".into()
        })
    );
}

#[test]
fn wrong_password_without_mic_is_still_refused() {
    let mut client = Client::new("CORP", "alice", "wrong");
    client.mic = false;
    assert!(matches!(run(&mut client), Err(NtlmError::BadProof { .. })));
    // ...while the right password without a MIC is accepted.
    let mut client = Client::new("CORP", "alice", PASSWORD);
    client.mic = false;
    assert!(run(&mut client).is_ok());
}

#[test]
fn unknown_user_is_unknown_account() {
    let err = run(&mut Client::new("CORP", "mallory", PASSWORD)).err();
    assert_eq!(
        err,
        Some(NtlmError::UnknownAccount {
            domain: "CORP".into(),
            user: "mallory".into()
        })
    );
}

#[test]
fn lookup_sees_exactly_what_the_client_sent() {
    let mut client = Client::new("corp", "ALICE", PASSWORD);
    let mut acceptor = Acceptor::new("WS-001", "CORP");
    let challenge = acceptor.challenge(&client.negotiate()).expect("challenge");
    let seen = std::cell::RefCell::new(Vec::new());
    let record = |d: &str, u: &str| {
        seen.borrow_mut().push((d.to_string(), u.to_string()));
        lookup(d, u)
    };
    let session = acceptor
        .authenticate(&client.authenticate(&challenge), &record)
        .expect("auth");
    assert_eq!(
        seen.into_inner(),
        vec![("corp".to_string(), "ALICE".to_string())]
    );
    assert_eq!(session.user, "ALICE");
}

#[test]
fn tampered_mic_is_bad_proof() {
    let (acceptor, mut auth) = issued_pair();
    auth[80] ^= 0xFF;
    assert!(matches!(
        acceptor.authenticate(&auth, &lookup),
        Err(NtlmError::BadProof { .. })
    ));
}

#[test]
fn tampered_blob_is_bad_proof() {
    // Stripping the MIC flag from the blob breaks the NTLMv2 proof.
    let (acceptor, mut auth) = issued_pair();
    let at = auth
        .windows(8)
        .position(|w| w == [6, 0, 4, 0, 2, 0, 0, 0])
        .expect("MsvAvFlags");
    auth[at + 4] = 0;
    assert!(matches!(
        acceptor.authenticate(&auth, &lookup),
        Err(NtlmError::BadProof { .. })
    ));
}

#[test]
fn ntlmv1_response_is_refused() {
    let mut client = Client::new("CORP", "alice", PASSWORD);
    client.ntlmv1 = true;
    client.mic = false;
    assert!(matches!(run(&mut client), Err(NtlmError::BadProof { .. })));
}

#[test]
fn authenticate_without_challenge_is_malformed() {
    let (_, auth) = issued_pair();
    let fresh = Acceptor::new("WS-001", "CORP");
    assert!(matches!(
        fresh.authenticate(&auth, &lookup),
        Err(NtlmError::Malformed(_))
    ));
}

#[test]
fn every_truncation_of_authenticate_is_malformed() {
    let (_, auth) = issued_pair();
    for len in 0..auth.len() {
        let (acceptor, _) = issued_pair();
        let got = acceptor.authenticate(&auth[..len], &lookup);
        assert!(
            matches!(got, Err(NtlmError::Malformed(_))),
            "prefix of {len} bytes gave {:?}",
            got.err()
        );
    }
}

#[test]
fn hostile_field_headers_are_malformed() {
    let (_, auth) = issued_pair();
    // Every field header: huge offset, huge length, offset into the header.
    for field in (12..60).step_by(8) {
        for (len, off) in [(0xFFFFu16, 88u32), (4, u32::MAX), (4, 0xFFFF_FFF0), (16, 8)] {
            let mut bad = auth.clone();
            bad[field..field + 2].copy_from_slice(&len.to_le_bytes());
            bad[field + 4..field + 8].copy_from_slice(&off.to_le_bytes());
            let (acceptor, _) = issued_pair();
            let got = acceptor.authenticate(&bad, &lookup);
            assert!(
                matches!(got, Err(NtlmError::Malformed(_))),
                "field {field} len {len} off {off}: {:?}",
                got.err()
            );
        }
    }
}

#[test]
fn garbage_never_panics() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (_, auth) = issued_pair();
    for i in 0..3000 {
        let mut msg = if i % 2 == 0 {
            let mut m = auth.clone();
            for _ in 0..rng.gen_range(1..8) {
                let at = rng.gen_range(0..m.len());
                m[at] = rng.r#gen();
            }
            m
        } else {
            let mut m = b"NTLMSSP\0\x03\0\0\0".to_vec();
            m.extend((0..rng.gen_range(0..200)).map(|_| rng.r#gen::<u8>()));
            m
        };
        if i % 7 == 0 {
            msg.truncate(rng.gen_range(0..msg.len()));
        }
        let (acceptor, _) = issued_pair();
        let _ = acceptor.authenticate(&msg, &lookup);
        let _ = Acceptor::new("A", "B").challenge(&msg);
    }
}

#[test]
fn negotiate_garbage_is_malformed() {
    let mut acceptor = Acceptor::new("WS-001", "CORP");
    for bad in [
        &b""[..],
        b"NTLMSSP\0",
        b"NTLMSSP\0\x02\0\0\0\x37\x82\x08\xE2",
        b"XXXXXXXX\x01\0\0\0\x37\x82\x08\xE2",
    ] {
        assert!(matches!(
            acceptor.challenge(bad),
            Err(NtlmError::Malformed(_))
        ));
    }
    // No extended session security: refused (NTLMv1 session security).
    let mut m = b"NTLMSSP\0\x01\0\0\0".to_vec();
    m.extend_from_slice(&0xE200_8237u32.to_le_bytes());
    assert!(matches!(
        acceptor.challenge(&m),
        Err(NtlmError::Malformed(_))
    ));
}

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

#[test]
fn challenge_looks_like_windows() {
    let mut client = Client::new("WS-001", "alice", PASSWORD);
    let neg = client.negotiate();
    let mut workgroup = Acceptor::new("WS-001", "WS-001");
    let c = workgroup.challenge(&neg).expect("challenge");
    assert_eq!(&c[..12], b"NTLMSSP\0\x02\0\0\0");
    assert_eq!(
        u32::from_le_bytes(c[20..24].try_into().unwrap()),
        0xE28A_8235
    );
    assert_eq!(c[48..56], super::SERVER_VERSION);

    let mut member = Acceptor::new("WS-001", "CORP");
    let c = member.challenge(&neg).expect("challenge");
    let flags = u32::from_le_bytes(c[20..24].try_into().unwrap());
    assert_eq!(flags, 0xE289_8235);
    let (tn_len, tn_off) = (u16_at(&c, 12), u16_at(&c, 16));
    assert_eq!(c[tn_off..tn_off + tn_len], super::wire::utf16le("CORP"));
    let (ti_len, ti_off) = (u16_at(&c, 40), u16_at(&c, 44));
    assert_eq!(ti_off + ti_len, c.len());
    let pairs = avpairs::AvPairs::parse(&c[ti_off..]).expect("target info");
    let ids: Vec<u16> = pairs.pairs.iter().map(|p| p.0).collect();
    assert_eq!(ids, [2, 1, 4, 3, 7]);
    let text = |id| {
        String::from_utf16(
            &pairs
                .get(id)
                .unwrap()
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    };
    assert_eq!(text(avpairs::NB_DOMAIN_NAME), "CORP");
    assert_eq!(text(avpairs::NB_COMPUTER_NAME), "WS-001");
    assert_eq!(text(avpairs::DNS_DOMAIN_NAME), "corp");
    assert_eq!(text(avpairs::DNS_COMPUTER_NAME), "ws-001.corp");
    assert_eq!(pairs.get(avpairs::TIMESTAMP).map(<[u8]>::len), Some(8));

    // Only what the client asked for is echoed: no SEAL/KEY_EXCH/56.
    let mut m = b"NTLMSSP\0\x01\0\0\0".to_vec();
    m.extend_from_slice(
        &(flags::UNICODE | flags::EXTENDED_SESSION_SECURITY | flags::KEY_128 | flags::SIGN)
            .to_le_bytes(),
    );
    let c = member.challenge(&m).expect("challenge");
    let f = u32::from_le_bytes(c[20..24].try_into().unwrap());
    assert_eq!(
        f & (flags::SEAL | flags::KEY_EXCH | flags::KEY_56 | flags::VERSION),
        0
    );
    assert_eq!(f & flags::SIGN, flags::SIGN);
    // Server challenges are random.
    assert_ne!(
        member.challenge(&neg).unwrap()[24..32],
        member.challenge(&neg).unwrap()[24..32]
    );
}

#[test]
fn handshake_state_can_move_between_threads() {
    fn send<T: Send + 'static>() {}
    send::<Acceptor>();
    send::<Session>();
}
