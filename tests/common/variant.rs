//! A loader build no rule knows, for the fleet's tests: an Emotet DLL under
//! a persistence the family rules were not written from (a SYSTEM task in a
//! made-up folder under `\Microsoft\Windows`, starting a DLL under
//! ProgramData with rundll32 and an export), placed on a lab host as a case
//! (`lab::cases::place`) with the hash and size given.
#![allow(dead_code)]

use cauterize::lab::cases::spec::{self, Case};

/// The variant's files and task for one drawn folder name.
pub struct Variant {
    pub folder: String,
    pub dll: String,
    pub task: String,
}

impl Variant {
    pub fn new(folder: &str) -> Variant {
        Variant {
            folder: folder.to_string(),
            dll: format!(r"C:\ProgramData\{folder}\{}.dat", folder.to_lowercase()),
            task: format!(r"\Microsoft\Windows\{folder}\{folder}Sync"),
        }
    }

    /// The case that places it, its DLL holding `sha256` (hex) in `size` bytes.
    pub fn case(&self, sha256: &str, size: u64) -> Case {
        let text = format!(
            "cases:\n- id: VARIANT\n  family: emotet\n  kind: task\n  source: 'test: an Emotet build whose persistence no rule knows'\n  host:\n    tasks: [{{path: '{task}', exe: 'C:\\Windows\\System32\\rundll32.exe', args: '\"{dll}\",Sbsu', principal: 'NT AUTHORITY\\SYSTEM', triggers: [boot]}}]\n    files: [{{path: '{dll}', size: {size}, sha256: '{sha256}'}}]\n",
            task = self.task,
            dll = self.dll,
        );
        spec::parse(&text).expect("variant case").cases.remove(0)
    }
}

/// A random-looking folder name for host number `i` (the same for the same `i`).
pub fn folder(i: usize) -> String {
    const CONSONANTS: &[u8] = b"bcdfghjklmnpqrstvwxz";
    let mut x = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..6)
        .map(|n| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let c = CONSONANTS[(x % CONSONANTS.len() as u64) as usize] as char;
            if n == 0 { c.to_ascii_uppercase() } else { c }
        })
        .collect()
}

/// Lower-case hex of 32 bytes.
pub fn hex(bytes: [u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
