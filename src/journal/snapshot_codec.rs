//! How snapshots and findings are stored: the JSON text deflated (raw
//! DEFLATE, RFC 1951). A host's snapshot is mostly repeated keys and
//! Windows paths; deflated it takes about a tenth of the space, a finding
//! about half. Rows written before this (snapshots: schema V1, findings:
//! V4 and before) hold the JSON text as is (`encoding = 'json'`) and are
//! read as such.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

/// The `encoding` of rows written now.
pub const ENCODING: &str = "json.deflate";

/// Largest snapshot text accepted when reading back (a bound against a
/// corrupt or hostile row).
const MAX_TEXT: u64 = 512 * 1024 * 1024;

/// The stored bytes of a snapshot's JSON.
pub fn encode(json: &str) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::with_capacity(json.len() / 6), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(json.as_bytes());
    e.finish().unwrap_or_default()
}

/// The JSON text of a stored snapshot.
pub fn decode(encoding: &str, body: &[u8]) -> Result<String, String> {
    match encoding {
        "json" => String::from_utf8(body.to_vec()).map_err(|e| e.to_string()),
        ENCODING => {
            let mut text = String::new();
            DeflateDecoder::new(body)
                .take(MAX_TEXT)
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot inflate: {e}"))?;
            Ok(text)
        }
        other => Err(format!("unknown snapshot encoding `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_old_rows() {
        let json = format!("{{\"paths\":[{}]}}", vec!["\"C:\\\\Users\\\\bob\\\\AppData\""; 200].join(","));
        let stored = encode(&json);
        assert!(stored.len() * 5 < json.len(), "{} of {}", stored.len(), json.len());
        assert_eq!(decode(ENCODING, &stored).unwrap(), json);
        assert_eq!(decode("json", json.as_bytes()).unwrap(), json);
        assert!(decode("zstd", &stored).is_err());
        assert!(decode(ENCODING, b"not deflate at all").is_err());
    }
}
