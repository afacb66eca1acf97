//! A benchmark, not a test (`cargo bench --bench evidence_large`, which
//! bench/evidence-large.sh runs alone so no other work's memory is
//! counted): a 600 MB file (EVIDENCE_BIG_MB to change it;
//! EVIDENCE_BIG_ZEROS=1 for zero padding, as loaders pad their DLLs past
//! sandbox upload limits) is pulled over SMB from a real Samba server into
//! the password-protected evidence ZIP. Prints the time, how much the
//! process's peak memory grew and the ZIP's size; exits 1 when the file
//! did not arrive intact or peak memory grew by 128 MB or more (the file
//! streams in chunks, never held whole). Needs samba (scripts/test
//! installs it); without it, says so and exits 0, or fails when CI=true.

#[path = "../tests/common/harness.rs"]
mod harness;
#[path = "../tests/common/peers.rs"]
mod peers;
#[path = "../tests/common/samba.rs"]
mod samba;
#[path = "../tests/common/targets.rs"]
mod targets;

use std::io::Write as _;
use std::time::Instant;

use cauterize::evidence::{EvidenceDest, EvidenceOptions, EvidenceRequest, FileFetcher, SmbFetcher, Verdict, collect_evidence};
use samba::{Samba, SambaOptions};
use sha2::{Digest, Sha256};

const GROWTH_LIMIT: u64 = 128 << 20;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Some(server) = Samba::start("evidence_large", &SambaOptions::default()) else {
        return;
    };
    let mb: u64 = std::env::var("EVIDENCE_BIG_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let path = r"C:\ProgramData\Big\payload.bin";
    // Written in pieces so the benchmark itself does not hold it either.
    server.write_file(path, b"");
    let mut hasher = Sha256::new();
    {
        let mut f = std::fs::OpenOptions::new().append(true).open(server.local_path(path)).expect("the share's file opens");
        let piece = if std::env::var_os("EVIDENCE_BIG_ZEROS").is_some() {
            vec![0; 1 << 20]
        } else {
            samba::incompressible(b"abc.dll", 1 << 20)
        };
        for _ in 0..mb {
            f.write_all(&piece).expect("written");
            hasher.update(&piece);
        }
    }
    let expected: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let before = harness::peak_rss();
    let engagement = tempfile::tempdir().expect("a temporary folder");
    let mut fetchers: Vec<Box<dyn FileFetcher>> = vec![Box::new(SmbFetcher::new(
        server.address,
        samba::credential(samba::PASSWORD),
        samba::smb_options(server.port),
    ))];
    let started = Instant::now();
    let report = collect_evidence(
        &targets::resolved("BIG", server.address),
        &[EvidenceRequest::new(path, Some(&expected))],
        &EvidenceDest { engagement_dir: engagement.path().to_path_buf(), run_id: "big".into() },
        &mut fetchers,
        &EvidenceOptions::default(),
    )
    .await
    .expect("collected");
    let grew = harness::peak_rss().saturating_sub(before);
    let zip = std::fs::metadata(&report.archive).map_or(0, |m| m.len());
    println!(
        "{mb} MB in {:.1} s, peak RSS grew {} MB, ZIP {} KB",
        started.elapsed().as_secs_f64(),
        grew >> 20,
        zip >> 10
    );
    let verdict = report.entry(path).map(|e| e.verdict);
    if verdict != Some(Verdict::Match) {
        eprintln!("FAILED: the file did not arrive intact: {report:#?}");
        std::process::exit(1);
    }
    if grew >= GROWTH_LIMIT {
        eprintln!("FAILED: peak memory grew by {} MB for a {mb} MB file", grew >> 20);
        std::process::exit(1);
    }
}
