//! Known answers from MS-NLMP 4.2.1 and 4.2.4 (NTLMv2): User "User",
//! Domain "Domain", Password "Password", server challenge 0123456789abcdef,
//! client challenge aa*8, time 0, random session key 55*16.

use super::crypto::{Direction, nt_proof, ntowfv2, rc4k, seal_key, session_base_key, sign_key};
use super::session::Stream;
use super::{Acceptor, flags, nt_hash};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
const RANDOM_SESSION_KEY: [u8; 16] = [0x55; 16];
/// ESS, 128-bit keys, KEY_EXCH, SEAL, SIGN (pyspnego's test_seal_ntlmv2 set).
const SEAL_FLAGS: u32 =
    flags::EXTENDED_SESSION_SECURITY | flags::KEY_128 | flags::KEY_EXCH | flags::SEAL | flags::SIGN;

/// 4.2.4.2.2 temp: 0101, Z(6), time 0, client challenge, Z(4),
/// AV pairs (NbDomainName "Domain", NbComputerName "Server", EOL), Z(4).
fn temp() -> Vec<u8> {
    hex(
        "01 01 00 00 00 00 00 00  00 00 00 00 00 00 00 00  aa aa aa aa aa aa aa aa  00 00 00 00
         02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00
         01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00
         00 00 00 00  00 00 00 00",
    )
}

#[test]
fn nt_hash_known_answer() {
    // MS-NLMP 4.2.2.1.2 NTOWFv1("Password").
    assert_eq!(
        nt_hash("Password").to_vec(),
        hex("a4 f4 9c 40 65 10 bd ca b6 82 4e e7 c3 0f d8 52")
    );
}

#[test]
fn ntlmv2_known_answers() {
    let key = ntowfv2(&nt_hash("Password"), "User", "Domain");
    assert_eq!(
        key.to_vec(),
        hex("0c 86 8a 40 3b fd 7a 93 a3 00 1e f2 2e f0 2e 3f")
    );
    let proof = nt_proof(&key, &SERVER_CHALLENGE, &temp());
    assert_eq!(
        proof.to_vec(),
        hex("68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c")
    );
    let base = session_base_key(&key, &proof);
    assert_eq!(
        base.to_vec(),
        hex("8d e4 0c ca db c1 4a 82 f1 5c b0 ad 0d e9 5c a3")
    );
    let encrypted = rc4k(&base, &RANDOM_SESSION_KEY);
    assert_eq!(
        encrypted.to_vec(),
        hex("c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e")
    );
    assert_eq!(rc4k(&base, &encrypted), RANDOM_SESSION_KEY);
}

const SEALED_PLAINTEXT: &str = "54 e5 01 65 bf 19 36 dc 99 60 20 c1 81 1b 0f 06 fb 5f";
const SEALED_SIGNATURE: &str = "01 00 00 00 7f b3 8e c5 c5 5d 49 76 00 00 00 00";

fn plaintext() -> Vec<u8> {
    super::wire::utf16le("Plaintext")
}

#[test]
fn sealing_known_answer_4_2_4_4() {
    // Keys differ per direction; sealing of the client's message is the vector.
    assert_ne!(
        sign_key(&RANDOM_SESSION_KEY, Direction::ClientToServer),
        sign_key(&RANDOM_SESSION_KEY, Direction::ServerToClient)
    );
    assert_ne!(
        seal_key(&RANDOM_SESSION_KEY, SEAL_FLAGS, Direction::ClientToServer),
        seal_key(&RANDOM_SESSION_KEY, SEAL_FLAGS, Direction::ServerToClient)
    );
    let mut c2s = Stream::new(&RANDOM_SESSION_KEY, SEAL_FLAGS, Direction::ClientToServer);
    let (sig, ct) = c2s.seal(&plaintext());
    assert_eq!(ct, hex(SEALED_PLAINTEXT));
    assert_eq!(sig.to_vec(), hex(SEALED_SIGNATURE));
}

/// The whole 4.2.4 exchange through the Acceptor: the spec's NTLMv2
/// response and encrypted session key, then the 4.2.4.4 sealed message.
#[test]
fn acceptor_accepts_the_spec_exchange_and_unseals_its_message() {
    let mut acceptor = Acceptor::new("Server", "Domain");
    let mut negotiate = b"NTLMSSP\0\x01\0\0\0".to_vec();
    negotiate.extend_from_slice(&(SEAL_FLAGS | flags::UNICODE | flags::NTLM).to_le_bytes());
    acceptor
        .challenge_with(&negotiate, SERVER_CHALLENGE, 0)
        .expect("challenge");

    let nt = [
        hex("68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c"),
        temp(),
    ]
    .concat();
    let enc_key = hex("c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e");
    let lm = hex("86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa");
    let fields = [
        lm,
        nt,
        super::wire::utf16le("Domain"),
        super::wire::utf16le("User"),
        super::wire::utf16le("COMPUTER"),
        enc_key,
    ];
    let mut msg = b"NTLMSSP\0\x03\0\0\0".to_vec();
    let mut payload = Vec::new();
    for f in &fields {
        super::wire::push_field(&mut msg, f.len(), 72 + payload.len());
        payload.extend_from_slice(f);
    }
    msg.extend_from_slice(&(SEAL_FLAGS | flags::UNICODE | flags::NTLM).to_le_bytes());
    msg.extend_from_slice(&[6, 0, 0x70, 0x17, 0, 0, 0, 15]);
    msg.extend_from_slice(&payload);

    let lookup = |d: &str, u: &str| (d == "Domain" && u == "User").then(|| nt_hash("Password"));
    let mut session = acceptor
        .authenticate(&msg, &lookup)
        .expect("spec exchange accepted");
    let sig: [u8; 16] = hex(SEALED_SIGNATURE).try_into().unwrap();
    assert_eq!(
        session
            .unseal(&sig, &hex(SEALED_PLAINTEXT))
            .expect("unseal"),
        plaintext()
    );

    let wrong = |_: &str, _: &str| Some(nt_hash("password"));
    let mut acceptor = Acceptor::new("Server", "Domain");
    acceptor
        .challenge_with(&negotiate, SERVER_CHALLENGE, 0)
        .expect("challenge");
    assert!(matches!(
        acceptor.authenticate(&msg, &wrong),
        Err(super::NtlmError::BadProof { .. })
    ));
}
