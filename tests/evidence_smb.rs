//! Evidence over SMB against a real Samba server: files from a lab host's
//! C: drive are pulled through the `C$` share into the host's evidence
//! ZIP, and the ZIP is opened by tools nobody here wrote (`unzip -P
//! infected`, Python's `zipfile`). Also: a refused password stops the host
//! without a retry, a missing file is recorded as missing, and an
//! unreachable SMB port falls back to the next fetcher (WinRM).

mod common;

use cauterize::evidence::{
    EvidenceDest, EvidenceError, EvidenceOptions, EvidenceReport, EvidenceRequest, FetchError,
    FetchErrorKind, FileFetcher, FileStream, SmbFetcher, Verdict, Via, collect_evidence,
};
use cauterize::lab::world::{BaselineSpec, Content, HostState, Os, Role, UserSpec};
use cauterize::transport::smb::{RemotePath, SmbSession};
use common::peers::skip_or_fail;
use common::targets::{resolved, winrm_target};
use common::samba::{self, Samba, SambaOptions, credential, smb_options};
use futures::FutureExt;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const DLL: &str = r"C:\Users\bob\AppData\Local\Xyzabc\abc.dll";
const NON_ASCII: &str = r"C:\Users\bob\AppData\Roaming\Пример\naïve 😀.exe";
const ABSENT: &str = r"C:\Users\bob\AppData\Local\Xyzabc\gone.dll";

/// The loader DLL's stand-in bytes.
fn dll_bytes(len: usize) -> Vec<u8> {
    samba::incompressible(b"abc.dll", len)
}

fn sha_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A lab workstation with the loader's DLL and a non-ASCII file planted.
fn lab_host() -> (HostState, Vec<u8>, Vec<u8>) {
    let spec = BaselineSpec::new(
        "WS01",
        Os::win10_22h2(),
        Role::Workstation,
        vec![UserSpec::domain("bob", true)],
    );
    let mut host = HostState::baseline(&spec);
    let dll = dll_bytes(3 * 1024 * 1024 + 17);
    let other = "ünïcödé payload ✓".repeat(1000).into_bytes();
    host.files
        .plant_file(DLL, Content::bytes(dll.clone()), None, spec.now)
        .expect("plant dll");
    host.files
        .plant_file(NON_ASCII, Content::bytes(other.clone()), None, spec.now)
        .expect("plant non-ascii");
    (host, dll, other)
}

/// A stand-in for the WinRM fetcher: serves files from a map and counts
/// how often it is asked.
#[derive(Clone, Default)]
struct FakeWinrm {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    opens: Arc<AtomicUsize>,
}

impl FakeWinrm {
    fn with(files: &[(&str, &[u8])]) -> FakeWinrm {
        let f = FakeWinrm::default();
        for (path, bytes) in files {
            f.files
                .lock()
                .unwrap()
                .insert(path.to_lowercase(), bytes.to_vec());
        }
        f
    }
    fn opens(&self) -> usize {
        self.opens.load(Ordering::SeqCst)
    }
}

struct FakeStream(Vec<u8>, usize);

impl FileStream for FakeStream {
    fn size(&self) -> Option<u64> {
        Some(self.0.len() as u64)
    }
    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, FetchError>> {
        let end = (self.1 + 65_536).min(self.0.len());
        let chunk = (self.1 < end).then(|| self.0[self.1..end].to_vec());
        self.1 = end;
        async move { Ok(chunk) }.boxed()
    }
}

impl FileFetcher for FakeWinrm {
    fn via(&self) -> Via {
        Via::Winrm
    }
    fn open<'a>(
        &'a mut self,
        path: &'a RemotePath,
    ) -> BoxFuture<'a, Result<Box<dyn FileStream + 'a>, FetchError>> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        let found = self
            .files
            .lock()
            .unwrap()
            .get(&path.to_string().to_lowercase())
            .cloned();
        async move {
            match found {
                Some(bytes) => Ok(Box::new(FakeStream(bytes, 0)) as Box<dyn FileStream>),
                None => Err(FetchError::new(
                    FetchErrorKind::NotFound,
                    format!("{path}: not found"),
                )),
            }
        }
        .boxed()
    }
}

/// Counts opens of the fetcher it wraps.
struct Counting(Box<dyn FileFetcher>, Arc<AtomicUsize>);

impl FileFetcher for Counting {
    fn via(&self) -> Via {
        self.0.via()
    }
    fn open<'a>(
        &'a mut self,
        path: &'a RemotePath,
    ) -> BoxFuture<'a, Result<Box<dyn FileStream + 'a>, FetchError>> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.open(path)
    }
}

fn dest(dir: &Path, run: &str) -> EvidenceDest {
    EvidenceDest {
        engagement_dir: dir.to_path_buf(),
        run_id: run.into(),
    }
}

/// `unzip -P <password> -p <zip> <entry>`: the entry's bytes, or None
/// when unzip refuses.
fn unzip_entry(zip: &Path, entry: &str, password: Option<&str>) -> Option<Vec<u8>> {
    let mut cmd = Command::new("unzip");
    if let Some(p) = password {
        cmd.args(["-P", p]);
    }
    // unzip treats [ ] * ? as wildcards in entry names; none are used here.
    let out = cmd
        .arg("-p")
        .arg(zip)
        .arg(entry)
        .output()
        .expect("unzip runs");
    (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
}

fn have_unzip(test: &str) -> bool {
    if Command::new("unzip")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        true
    } else {
        skip_or_fail::<()>(
            test,
            "unzip not found (Debian package `unzip`; scripts/test installs it)",
        );
        false
    }
}

/// Python's zipfile with pwd=b"infected": {entry name: sha256}.
fn python_hashes(test: &str, zip: &Path) -> Option<HashMap<String, String>> {
    let script = r#"
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
out = {}
for i in z.infolist():
    pwd = b"infected" if i.flag_bits & 1 else None
    out[i.filename] = hashlib.sha256(z.read(i, pwd=pwd)).hexdigest()
print(json.dumps(out))
"#;
    let python = std::env::var("CAUTERIZE_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = match Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(zip)
        .output()
    {
        Ok(o) => o,
        Err(e) => return skip_or_fail(test, &format!("{python} not runnable: {e}")),
    };
    assert!(
        out.status.success(),
        "python zipfile failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("python JSON"))
}

fn manifest_of(zip: &Path) -> serde_json::Value {
    let bytes = unzip_entry(zip, "manifest.json", None)
        .expect("manifest.json is readable without the password");
    serde_json::from_slice(&bytes).expect("manifest is JSON")
}

fn verdict(report: &EvidenceReport, path: &str) -> Verdict {
    report
        .entry(path)
        .unwrap_or_else(|| panic!("no entry for {path}: {report:#?}"))
        .verdict
}

#[tokio::test(flavor = "multi_thread")]
async fn files_come_over_smb_into_a_zip_that_opens_with_infected() {
    let test = "files_come_over_smb_into_a_zip_that_opens_with_infected";
    let Some(server) = Samba::start(test, &SambaOptions::default()) else {
        return;
    };
    if !have_unzip(test) {
        return;
    }
    let (host_state, dll, other) = lab_host();
    assert!(server.materialise(&host_state) >= 2);
    let host = resolved("WS01", server.address);
    let engagement = tempfile::tempdir().unwrap();
    let fallback = FakeWinrm::default();
    let mut fetchers: Vec<Box<dyn FileFetcher>> = vec![
        Box::new(SmbFetcher::new(
            server.address,
            credential(samba::PASSWORD),
            smb_options(server.port),
        )),
        Box::new(fallback.clone()),
    ];
    let progress_seen = Arc::new(Mutex::new(Vec::new()));
    let seen = progress_seen.clone();
    let options = EvidenceOptions {
        max_file_bytes: None,
        progress: Some(Arc::new(move |p| {
            seen.lock()
                .unwrap()
                .push((p.path.to_string(), p.bytes, p.total))
        })),
    };
    let requests = [
        EvidenceRequest::new(DLL, Some(&sha_hex(&dll).to_uppercase())),
        EvidenceRequest::new(NON_ASCII, Some(&sha_hex(b"what the scan saw"))),
        EvidenceRequest::new(ABSENT, None),
        EvidenceRequest::new(&DLL.to_lowercase(), None),
        EvidenceRequest::new(r"C:\Users\..\Windows\x.dll", None),
    ];
    let report = collect_evidence(
        &host,
        &requests,
        &dest(engagement.path(), "run-1"),
        &mut fetchers,
        &options,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\nsmbd log:\n{}", server.log()));

    // The archive and the verdicts.
    let zip = engagement.path().join("evidence/WS01/run-1.zip");
    assert_eq!(report.archive, zip);
    assert_eq!(
        report.files.len(),
        4,
        "the duplicate (other case) is fetched once: {report:#?}"
    );
    assert_eq!(verdict(&report, DLL), Verdict::Match);
    assert_eq!(verdict(&report, NON_ASCII), Verdict::Drift);
    assert_eq!(verdict(&report, ABSENT), Verdict::Missing);
    assert_eq!(
        verdict(&report, r"C:\Users\..\Windows\x.dll"),
        Verdict::Failed
    );
    let d = report.entry(DLL).unwrap();
    assert_eq!(
        (d.via, d.size, d.sha256.as_deref()),
        (
            Some(Via::Smb),
            Some(dll.len() as u64),
            Some(sha_hex(&dll).as_str())
        )
    );
    assert_eq!(
        d.entry.as_deref(),
        Some("C/Users/bob/AppData/Local/Xyzabc/abc.dll")
    );
    assert!(report.secured(DLL) && report.secured(ABSENT) && !report.all_secured());
    assert_eq!(
        fallback.opens(),
        0,
        "SMB worked, WinRM was not asked: {report:#?}"
    );
    assert!(report.fallbacks.is_empty());
    let last = progress_seen
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(p, ..)| p == DLL)
        .cloned();
    assert_eq!(
        last,
        Some((DLL.to_string(), dll.len() as u64, Some(dll.len() as u64)))
    );

    // unzip -P infected gives back the same bytes; a wrong password does not.
    assert_eq!(
        unzip_entry(
            &zip,
            "C/Users/bob/AppData/Local/Xyzabc/abc.dll",
            Some("infected")
        ),
        Some(dll.clone())
    );
    assert_eq!(
        unzip_entry(
            &zip,
            "C/Users/bob/AppData/Roaming/Пример/naïve 😀.exe",
            Some("infected")
        ),
        Some(other.clone())
    );
    assert_eq!(
        unzip_entry(
            &zip,
            "C/Users/bob/AppData/Local/Xyzabc/abc.dll",
            Some("wrong")
        ),
        None
    );

    // So does Python's zipfile with pwd=b"infected".
    if let Some(hashes) = python_hashes(test, &zip) {
        assert_eq!(
            hashes["C/Users/bob/AppData/Local/Xyzabc/abc.dll"],
            sha_hex(&dll)
        );
        assert_eq!(
            hashes["C/Users/bob/AppData/Roaming/Пример/naïve 😀.exe"],
            sha_hex(&other)
        );
        assert_eq!(hashes.len(), 3, "two files and the manifest: {hashes:?}");
    }

    // The manifest inside the ZIP, readable without the password.
    let m = manifest_of(&zip);
    assert_eq!(m["format"], "cauterize-evidence/1");
    assert_eq!(m["host"], "WS01");
    assert_eq!(m["run_id"], "run-1");
    let files = m["files"].as_array().unwrap();
    let row = |p: &str| {
        files
            .iter()
            .find(|f| f["original_path"] == p)
            .unwrap_or_else(|| panic!("{p} in {m:#}"))
    };
    let r = row(DLL);
    assert_eq!(r["sha256"], sha_hex(&dll));
    assert_eq!(r["expected_sha256"], sha_hex(&dll));
    assert_eq!(r["verdict"], "match");
    assert_eq!(r["via"], "smb");
    assert_eq!(r["host"], "WS01");
    assert_eq!(r["size"], dll.len() as u64);
    let at = r["fetched_at"].as_str().unwrap();
    assert!(
        at.len() == 24 && at.ends_with('Z') && at.starts_with("20"),
        "{at}"
    );
    assert_eq!(row(NON_ASCII)["verdict"], "drift");
    assert_eq!(row(NON_ASCII)["sha256"], sha_hex(&other));
    assert_eq!(row(ABSENT)["verdict"], "missing");
    assert!(row(ABSENT)["entry"].is_null());

    // A second collection in the same run never overwrites the first;
    // a cap keeps a large file out (and says so).
    let capped = EvidenceOptions {
        max_file_bytes: Some(1024 * 1024),
        progress: None,
    };
    let again = collect_evidence(
        &host,
        &requests[..2],
        &dest(engagement.path(), "run-1"),
        &mut fetchers,
        &capped,
    )
    .await
    .expect("second collection");
    assert_eq!(
        again.archive,
        engagement.path().join("evidence/WS01/run-1-2.zip")
    );
    assert_eq!(verdict(&again, DLL), Verdict::TooLarge);
    assert_eq!(verdict(&again, NON_ASCII), Verdict::Drift);
    assert_eq!(
        unzip_entry(
            &zip,
            "C/Users/bob/AppData/Local/Xyzabc/abc.dll",
            Some("infected")
        ),
        Some(dll)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_password_stops_the_host_without_retry_or_fallback() {
    let test = "a_refused_password_stops_the_host_without_retry_or_fallback";
    let Some(server) = Samba::start(test, &SambaOptions::default()) else {
        return;
    };
    let (host_state, _, _) = lab_host();
    server.materialise(&host_state);
    let host = resolved("WS01", server.address);
    let engagement = tempfile::tempdir().unwrap();
    let smb_opens = Arc::new(AtomicUsize::new(0));
    let fallback = FakeWinrm::with(&[(DLL, b"MZ")]);
    let mut fetchers: Vec<Box<dyn FileFetcher>> = vec![
        Box::new(Counting(
            Box::new(SmbFetcher::new(
                server.address,
                credential("not-the-password"),
                smb_options(server.port),
            )),
            smb_opens.clone(),
        )),
        Box::new(fallback.clone()),
    ];
    let requests = [
        EvidenceRequest::new(DLL, None),
        EvidenceRequest::new(NON_ASCII, None),
    ];
    let err = collect_evidence(
        &host,
        &requests,
        &dest(engagement.path(), "run-1"),
        &mut fetchers,
        &EvidenceOptions::default(),
    )
    .await
    .expect_err("a wrong password fails the host");
    match &err {
        EvidenceError::AuthFailed { host, via, message } => {
            assert_eq!((host.as_str(), *via), ("WS01", Via::Smb));
            assert!(message.contains("not retried"), "{message}");
            assert!(
                !message.contains("not-the-password"),
                "the password leaked: {message}"
            );
        }
        other => panic!("expected an auth failure, got {other:?}"),
    }
    assert_eq!(
        smb_opens.load(Ordering::SeqCst),
        1,
        "one logon attempt, then stop"
    );
    assert_eq!(
        fallback.opens(),
        0,
        "the refused credential is not tried over WinRM"
    );
    let left: Vec<_> = walk(engagement.path());
    assert!(
        left.iter()
            .all(|p| !p.ends_with(".zip") && !p.ends_with(".partial")),
        "{left:?}"
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_smb_falls_back_to_winrm() {
    // Nothing listens on this port: SMB is "blocked".
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_, dll, _) = lab_host();
    let host = resolved("WS02", "127.0.0.1");
    let engagement = tempfile::tempdir().unwrap();
    let smb_opens = Arc::new(AtomicUsize::new(0));
    let winrm = FakeWinrm::with(&[(DLL, &dll)]);
    let mut fetchers: Vec<Box<dyn FileFetcher>> = vec![
        Box::new(Counting(
            Box::new(SmbFetcher::new(
                "127.0.0.1",
                credential(samba::PASSWORD),
                smb_options(port),
            )),
            smb_opens.clone(),
        )),
        Box::new(winrm.clone()),
    ];
    let requests = [
        EvidenceRequest::new(DLL, Some(&sha_hex(&dll))),
        EvidenceRequest::new(ABSENT, None),
    ];
    let report = collect_evidence(
        &host,
        &requests,
        &dest(engagement.path(), "r2"),
        &mut fetchers,
        &EvidenceOptions::default(),
    )
    .await
    .expect("collected through the fallback");
    assert_eq!(verdict(&report, DLL), Verdict::Match);
    assert_eq!(report.entry(DLL).unwrap().via, Some(Via::Winrm));
    assert_eq!(verdict(&report, ABSENT), Verdict::Missing);
    assert_eq!(
        smb_opens.load(Ordering::SeqCst),
        1,
        "SMB is given up after the first failure: {report:#?}"
    );
    assert_eq!(report.fallbacks.len(), 1);
    assert!(
        report.fallbacks[0].starts_with("smb: ") && report.fallbacks[0].contains("not reachable"),
        "{:?}",
        report.fallbacks
    );
    assert!(report.archive.ends_with("evidence/WS02/r2.zip") && report.archive.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_file_comes_through_the_next_fetcher_alone() {
    let test = "an_unreadable_file_comes_through_the_next_fetcher_alone";
    let Some(server) = Samba::start(test, &SambaOptions::default()) else {
        return;
    };
    let (host_state, dll, other) = lab_host();
    server.materialise(&host_state);
    // Readable by root only: the share's user gets access denied.
    let locked = server.local_path(NON_ASCII);
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let host = resolved("WS01", server.address);
    let engagement = tempfile::tempdir().unwrap();
    let winrm = FakeWinrm::with(&[(NON_ASCII, &other)]);
    let mut fetchers: Vec<Box<dyn FileFetcher>> = vec![
        Box::new(SmbFetcher::new(
            server.address,
            credential(samba::PASSWORD),
            smb_options(server.port),
        )),
        Box::new(winrm.clone()),
    ];
    let requests = [
        EvidenceRequest::new(NON_ASCII, None),
        EvidenceRequest::new(DLL, None),
    ];
    let report = collect_evidence(
        &host,
        &requests,
        &dest(engagement.path(), "r3"),
        &mut fetchers,
        &EvidenceOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let n = report.entry(NON_ASCII).unwrap();
    assert_eq!(
        (n.verdict, n.via),
        (Verdict::Unverified, Some(Via::Winrm)),
        "{report:#?}"
    );
    assert!(
        n.errors
            .iter()
            .any(|e| e.starts_with("smb: ") && e.contains("access denied")),
        "{:?}",
        n.errors
    );
    let d = report.entry(DLL).unwrap();
    assert_eq!(
        (d.via, d.sha256.clone()),
        (Some(Via::Smb), Some(sha_hex(&dll))),
        "SMB stays in use for other files"
    );
    assert!(report.fallbacks.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_signed_smb3_and_files_stream_in_chunks() {
    let test = "sessions_are_signed_smb3_and_files_stream_in_chunks";
    let Some(server) = Samba::start(test, &SambaOptions::default()) else {
        return;
    };
    let (host_state, dll, _) = lab_host();
    server.materialise(&host_state);
    let mut session = SmbSession::connect(
        server.address,
        &credential(samba::PASSWORD),
        &smb_options(server.port),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let p = session.protection();
    assert!(p.signed, "{p:?}");
    assert_eq!(p.dialect, "Smb3_1_1", "{p:?}");
    let mut file = session
        .open(&RemotePath::parse(DLL).unwrap())
        .await
        .expect("open");
    assert_eq!(file.size(), dll.len() as u64);
    let mut got = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = file.next_chunk().await.expect("chunk") {
        got.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert_eq!(got, dll);
    assert!(chunks > 1, "streamed in chunks, not one read");
    let missing = session
        .open(&RemotePath::parse(ABSENT).unwrap())
        .await
        .err()
        .expect("absent");
    assert_eq!(
        missing.kind,
        cauterize::transport::smb::SmbErrorKind::NotFound,
        "{missing}"
    );
}

/// smb2 0.39 does not announce SMB2_GLOBAL_CAP_ENCRYPTION, so Samba
/// negotiates no cipher and refuses the session when encryption is
/// required ("reject session ... as encryption is required"). Evidence
/// must then come through the next fetcher, and say why.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_requiring_encryption_falls_back_cleanly() {
    let test = "a_server_requiring_encryption_falls_back_cleanly";
    let Some(server) = Samba::start(
        test,
        &SambaOptions {
            require_encryption: true,
        },
    ) else {
        return;
    };
    let (host_state, dll, _) = lab_host();
    server.materialise(&host_state);
    let host = resolved("WS03", server.address);
    let engagement = tempfile::tempdir().unwrap();
    let mut fetchers: Vec<Box<dyn FileFetcher>> = vec![
        Box::new(SmbFetcher::new(
            server.address,
            credential(samba::PASSWORD),
            smb_options(server.port),
        )),
        Box::new(FakeWinrm::with(&[(DLL, &dll)])),
    ];
    let report = collect_evidence(
        &host,
        &[EvidenceRequest::new(DLL, Some(&sha_hex(&dll)))],
        &dest(engagement.path(), "r4"),
        &mut fetchers,
        &EvidenceOptions::default(),
    )
    .await
    .expect("collected");
    let d = report.entry(DLL).unwrap();
    match (d.verdict, d.via) {
        // If a future smb2 negotiates encryption, SMB itself succeeds.
        (Verdict::Match, Some(Via::Smb)) => {}
        (Verdict::Match, Some(Via::Winrm)) => {
            assert!(
                report.fallbacks.len() == 1 && report.fallbacks[0].starts_with("smb: "),
                "{:?}",
                report.fallbacks
            );
        }
        other => panic!("unexpected {other:?}: {report:#?}"),
    }
}

// ---- the real WinRM fallback, against the lab ----

/// SMB filtered, so the files come through the host runtime's ReadFile
/// over real WinRM (NTLM, sealing) from a lab host, chunk by chunk.
#[tokio::test(flavor = "multi_thread")]
async fn with_smb_filtered_files_come_over_winrm_from_the_lab() {
    use cauterize::evidence::WinrmFetcher;
    use cauterize::lab::{self, Lab};
    let spec = lab::scenario::simple(1, std::net::Ipv4Addr::new(127, 88, 1, 1), 5985);
    let name = spec.hosts[0].name.clone();
    let address = spec.hosts[0].address.to_string();
    let lab = Lab::start(spec).await.expect("lab starts");
    let (dll, other) = (
        dll_bytes(3 * 1024 * 1024 + 17),
        "ünïcödé ✓".repeat(100).into_bytes(),
    );
    lab.with_host(&name, |h| {
        let now = cauterize::lab::world::LabTime::EPOCH;
        h.files
            .plant_file(DLL, Content::bytes(dll.clone()), None, now)
            .unwrap();
        h.files
            .plant_file(NON_ASCII, Content::bytes(other.clone()), None, now)
            .unwrap();
    });
    // Nothing listens on this address's SMB port.
    let smb = SmbFetcher::new(&address, credential(samba::PASSWORD), smb_options(44_599));
    let winrm = WinrmFetcher::new(
        winrm_target(&name, &address, lab::scenario::LAB_PASSWORD),
        Default::default(),
    )
    .with_chunk_bytes(1024 * 1024);
    let mut fetchers: Vec<Box<dyn FileFetcher>> = vec![Box::new(smb), Box::new(winrm)];
    let engagement = tempfile::tempdir().unwrap();
    let requests = [
        EvidenceRequest::new(DLL, Some(&sha_hex(&dll))),
        EvidenceRequest::new(NON_ASCII, Some(&sha_hex(&other))),
        EvidenceRequest::new(ABSENT, None),
    ];
    let report = collect_evidence(
        &resolved(&name, &address),
        &requests,
        &dest(engagement.path(), "w1"),
        &mut fetchers,
        &EvidenceOptions::default(),
    )
    .await
    .expect("collected over WinRM");
    for p in [DLL, NON_ASCII] {
        let e = report.entry(p).unwrap();
        assert_eq!(
            (e.verdict, e.via),
            (Verdict::Match, Some(Via::Winrm)),
            "{report:#?}"
        );
    }
    assert_eq!(report.entry(DLL).unwrap().size, Some(dll.len() as u64));
    assert_eq!(verdict(&report, ABSENT), Verdict::Missing, "{report:#?}");
    assert!(
        report.fallbacks.len() == 1 && report.fallbacks[0].starts_with("smb: "),
        "{:?}",
        report.fallbacks
    );
    if have_unzip("with_smb_filtered_files_come_over_winrm_from_the_lab") {
        assert_eq!(
            unzip_entry(
                &report.archive,
                "C/Users/bob/AppData/Local/Xyzabc/abc.dll",
                Some("infected")
            ),
            Some(dll)
        );
    }
    lab.stop().await;
}
