//! A minimal NTLMv2 initiator for tests only: builds NEGOTIATE and
//! AUTHENTICATE and seals/unseals as the client, with its own message
//! layout and key derivation (only MD5/HMAC/RC4 are shared).

use super::crypto::{Rc4Stream, hmac_md5, md5, nt_hash, rc4_stream, rc4k};
use rc4::StreamCipher;

pub const CLIENT_FLAGS: u32 = 0xE208_8237; // pyspnego's NEGOTIATE flags

pub struct Client {
    pub user: String,
    pub domain: String,
    pub password: String,
    pub workstation: String,
    pub flags: u32,
    /// Put MsvAvFlags=MIC in the blob and a MIC in the message.
    pub mic: bool,
    /// Send a 24-byte NTLMv1-shaped NT response instead of NTLMv2.
    pub ntlmv1: bool,
    /// MsvAvChannelBindings to send (none when `None`).
    pub cbt: Option<[u8; 16]>,
    pub negotiate: Vec<u8>,
    pub exported_key: [u8; 16],
}

fn le16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn rd32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn rd16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes(b[at..at + 2].try_into().unwrap()))
}

impl Client {
    pub fn new(domain: &str, user: &str, password: &str) -> Self {
        Self {
            user: user.into(),
            domain: domain.into(),
            password: password.into(),
            workstation: "CLIENTPC".into(),
            flags: CLIENT_FLAGS,
            mic: true,
            ntlmv1: false,
            cbt: None,
            negotiate: Vec::new(),
            exported_key: [0; 16],
        }
    }

    pub fn negotiate(&mut self) -> Vec<u8> {
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&self.flags.to_le_bytes());
        m.extend_from_slice(&[0; 16]); // empty domain and workstation fields
        m.extend_from_slice(&[10, 0, 0x61, 0x58, 0, 0, 0, 15]);
        self.negotiate = m.clone();
        m
    }

    /// Builds the AUTHENTICATE for `challenge`, with this fixed
    /// client challenge and random session key.
    pub fn authenticate(&mut self, challenge: &[u8]) -> Vec<u8> {
        let server_challenge: [u8; 8] = challenge[24..32].try_into().unwrap();
        let flags = rd32(challenge, 20);
        let (ti_len, ti_off) = (rd16(challenge, 40), rd32(challenge, 44) as usize);
        let target_info = &challenge[ti_off..ti_off + ti_len];

        // Copy the server's AV pairs, note its timestamp, drop EOL, add ours.
        let (mut avs, mut time, mut at) = (Vec::new(), [0u8; 8], 0);
        while rd16(target_info, at) != 0 {
            let (id, len) = (rd16(target_info, at), rd16(target_info, at + 2));
            if id == 7 {
                time.copy_from_slice(&target_info[at + 4..at + 12]);
            }
            avs.extend_from_slice(&target_info[at..at + 4 + len]);
            at += 4 + len;
        }
        if self.mic {
            avs.extend_from_slice(&[6, 0, 4, 0, 2, 0, 0, 0]);
        }
        if let Some(cbt) = self.cbt {
            avs.extend_from_slice(&[10, 0, 16, 0]);
            avs.extend_from_slice(&cbt);
        }
        avs.extend_from_slice(&[0; 4]);

        let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
        blob.extend_from_slice(&time);
        blob.extend_from_slice(&[0xC1; 8]);
        blob.extend_from_slice(&[0; 4]);
        blob.extend_from_slice(&avs);
        blob.extend_from_slice(&[0; 4]);

        let identity = le16(&(self.user.to_uppercase() + &self.domain));
        let key = hmac_md5(&nt_hash(&self.password), &[&identity]);
        let proof = hmac_md5(&key, &[&server_challenge, &blob]);
        let nt = if self.ntlmv1 {
            vec![0x11; 24]
        } else {
            [&proof[..], &blob].concat()
        };
        let base_key = hmac_md5(&key, &[&proof]);
        let random_key = [0x5A; 16];
        self.exported_key = random_key;
        let enc_key = rc4k(&base_key, &random_key);

        let fields: [Vec<u8>; 6] = [
            vec![0; 24],
            nt,
            le16(&self.domain),
            le16(&self.user),
            le16(&self.workstation),
            enc_key.to_vec(),
        ];
        let mut header = b"NTLMSSP\0".to_vec();
        header.extend_from_slice(&3u32.to_le_bytes());
        let mut payload = Vec::new();
        for f in &fields {
            let len = (f.len() as u16).to_le_bytes();
            header.extend_from_slice(&len);
            header.extend_from_slice(&len);
            header.extend_from_slice(&((88 + payload.len()) as u32).to_le_bytes());
            payload.extend_from_slice(f);
        }
        header.extend_from_slice(&flags.to_le_bytes());
        header.extend_from_slice(&[10, 0, 0x61, 0x58, 0, 0, 0, 15]);
        header.extend_from_slice(&[0; 16]); // MIC, filled below
        let mut msg = [header, payload].concat();
        if self.mic {
            let mic = hmac_md5(&random_key, &[&self.negotiate, challenge, &msg]);
            msg[72..88].copy_from_slice(&mic);
        }
        msg
    }

    /// Client-side sealing state: (outbound c2s, inbound s2c).
    pub fn sealing(&self) -> (ClientStream, ClientStream) {
        (
            ClientStream::new(&self.exported_key, "client-to-server"),
            ClientStream::new(&self.exported_key, "server-to-client"),
        )
    }
}

pub struct ClientStream {
    sign: [u8; 16],
    rc4: Rc4Stream,
    pub seq: u32,
}

impl ClientStream {
    pub fn new(key: &[u8; 16], dir: &str) -> Self {
        let sign = md5(&[
            key,
            format!("session key to {dir} signing key magic constant\0").as_bytes(),
        ]);
        let seal = md5(&[
            key,
            format!("session key to {dir} sealing key magic constant\0").as_bytes(),
        ]);
        Self {
            sign,
            rc4: rc4_stream(&seal),
            seq: 0,
        }
    }

    pub fn wrap(&mut self, plain: &[u8]) -> ([u8; 16], Vec<u8>) {
        let mut ct = plain.to_vec();
        self.rc4.apply_keystream(&mut ct);
        let mut sum: [u8; 8] = hmac_md5(&self.sign, &[&self.seq.to_le_bytes(), plain])[..8]
            .try_into()
            .unwrap();
        self.rc4.apply_keystream(&mut sum);
        let mut sig = [0u8; 16];
        sig[0] = 1;
        sig[4..12].copy_from_slice(&sum);
        sig[12..].copy_from_slice(&self.seq.to_le_bytes());
        self.seq += 1;
        (sig, ct)
    }

    /// Decrypts and checks the signature; `None` if it does not verify.
    pub fn unwrap(&mut self, sig: &[u8; 16], ct: &[u8]) -> Option<Vec<u8>> {
        let mut plain = ct.to_vec();
        self.rc4.apply_keystream(&mut plain);
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&sig[4..12]);
        self.rc4.apply_keystream(&mut sum);
        let mac = hmac_md5(&self.sign, &[&self.seq.to_le_bytes(), &plain]);
        let ok = sig[..4] == [1, 0, 0, 0] && sum == mac[..8] && sig[12..] == self.seq.to_le_bytes();
        self.seq += 1;
        ok.then_some(plain)
    }
}
