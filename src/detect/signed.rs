//! What a finding may do to a validly signed program: the last pass of
//! detection, after every rule, tie and hash, so nothing can raise a
//! finding past it.
//!
//! 1. **A kill is an action.** A process whose image is a Windows program
//!    signed by Microsoft in System32 or SysWOW64 is never ended unless
//!    the evidence is injected code (Qakbot's hollowed wermgr, msra,
//!    mobsync; TrickBot's svchost) or a launch of a confirmed payload
//!    (rundll32 running a high finding's DLL). Anything else on such a
//!    process is listed only (low).
//! 2. **Signed files need evidence of abuse.** A finding whose every file
//!    is validly signed - a Windows or vendor program in its install
//!    location, or one copied elsewhere - rests on where it sits and what
//!    it is called unless it has a strong line of evidence (what it loads,
//!    how it was started, a tie to a confirmed finding). Without one it is
//!    listed only: names and folders never delete a signed program.

use super::evidence::Evidence;
use super::facts::Facts;
use super::paths::{self, Area};
use super::{ArtifactRef, Confidence, Finding};

/// Is `path` in System32 or SysWOW64 (at any depth)?
fn in_system_folder(f: &Facts, path: &str) -> bool {
    f.place(path).area == Area::System
}

/// The Microsoft signer of a file, when it is validly signed by Microsoft.
fn microsoft_signed<'a>(f: &Facts<'a>, path: &str) -> Option<&'a str> {
    f.valid_signer(path)
        .filter(|s| s.to_ascii_lowercase().starts_with("microsoft"))
}

/// The files a finding would act on: its targets and, for a file or
/// folder finding, the artifact itself.
fn files_of(fd: &Finding) -> Vec<String> {
    let mut v = fd.target_files.clone();
    if let ArtifactRef::File { path } = &fd.artifact {
        v.push(path.clone());
    }
    v
}

pub(crate) fn apply(f: &Facts, out: &mut [Finding]) {
    for fd in out.iter_mut() {
        if fd.confidence() == Confidence::Low {
            continue;
        }
        // 1. Never end a signed Windows process on anything but injected
        //    code or a launch of a confirmed payload.
        let image = match &fd.artifact {
            ArtifactRef::Process { image, .. } => Some(image.clone()),
            _ => None,
        };
        if let Some(image) = image.as_deref()
            && in_system_folder(f, image)
            && let Some(signer) = microsoft_signed(f, image)
            && !fd.grounds().has(Evidence::InjectedCode)
            && !fd.grounds().has(Evidence::PayloadLaunch)
        {
            fd.cap_at(Confidence::Low);
            fd.reasons.push(format!(
                "listed only: {} is a Windows program signed by {signer} in {}, never ended without injected code or a launch of a confirmed payload (evidence: {})",
                paths::file_name(image),
                paths::parent(&paths::normalize(image)),
                fd.grounds().words()
            ));
            continue;
        }
        // 2. Signed files need a strong line of evidence.
        let files = files_of(fd);
        let strong = fd.grounds().evidence.iter().any(|e| e.is_strong());
        if strong || files.is_empty() {
            continue;
        }
        let signers: Vec<&str> = files.iter().filter_map(|p| f.valid_signer(p)).collect();
        if signers.len() == files.len() {
            fd.cap_at(Confidence::Low);
            fd.reasons.push(format!(
                "listed only: every file it names is validly signed ({}); a signed program is never removed on its name or folder alone (evidence: {})",
                {
                    let mut s = signers.clone();
                    s.dedup();
                    s.join(", ")
                },
                fd.grounds().words()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::builder::SnapshotBuilder;
    use super::super::{ArtifactRef, Confidence, DetectContext, Finding, HashList, detect};
    use crate::runtime::snapshot::Snapshot;

    const BAD: &str = "9d3f5a7c1e2b4d6f8a0c2e4f6a8b0d2f4e6a8c0e2f4a6b8d0f2e4a6c8e0b2d4f";
    const DLL: &str = r"C:\Users\bob\AppData\Local\Tools\helper.dll";

    /// A Run value making the signed System32 rundll32 load a DLL from a
    /// user folder, and that rundll32 running.
    fn host() -> Snapshot {
        SnapshotBuilder::new("WS1")
            .user("bob")
            .run("bob", "Updater", &format!("rundll32.exe {DLL},Start"))
            .file(DLL)
            .with_file(DLL, |f| f.sha256 = BAD.into())
            .process(77, 1, r"C:\Windows\System32\rundll32.exe", &format!("rundll32.exe {DLL},Start"), "bob")
            .signed_file(r"C:\Windows\System32\rundll32.exe", "Microsoft Windows")
            .build()
    }

    fn process(out: &[Finding]) -> &Finding {
        out.iter()
            .find(|f| matches!(f.artifact, ArtifactRef::Process { pid: 77, .. }))
            .expect("the process is listed")
    }

    #[test]
    fn a_signed_system_process_is_ended_only_for_a_confirmed_payload() {
        // The DLL's finding rests on shapes (medium): its rundll32 is
        // listed, never ended.
        let out = detect(&host(), &DetectContext::default());
        let p = process(&out);
        assert_eq!(p.confidence(), Confidence::Low, "{p:#?}");
        // The same DLL on the hash list is a confirmed payload: ending the
        // rundll32 that runs it is a launch of a confirmed payload.
        let ctx = DetectContext {
            hashes: HashList::parse(&format!("{BAD} Heodo\n")).unwrap(),
            ..Default::default()
        };
        let out = detect(&host(), &ctx);
        assert_eq!(process(&out).confidence(), Confidence::High, "{out:#?}");
    }

    #[test]
    fn a_signed_file_is_never_removed_on_its_shape() {
        // A signed vendor DLL a SYSTEM task registers once: the Qakbot
        // task shape, and every file it names is validly signed.
        let dll = r"C:\ProgramData\Vendor\Addin\VendorAddin.dll";
        let s = SnapshotBuilder::new("WS1")
            .task(r"\Vendor Addin", r"C:\Windows\System32\regsvr32.exe", &format!("/s \"{dll}\""), "NT AUTHORITY\\SYSTEM", &["once"])
            .signed_file(dll, "Vendor Ltd")
            .build();
        let out = detect(&s, &DetectContext::default());
        let task = out.iter().find(|f| matches!(f.artifact, ArtifactRef::Task { .. })).expect("listed");
        assert_eq!(task.confidence(), Confidence::Low, "{task:#?}");
        assert!(task.reasons.iter().any(|r| r.contains("validly signed (Vendor Ltd)")), "{:?}", task.reasons);
        // Unsigned, the same shape is listed at medium: never high.
        let s = SnapshotBuilder::new("WS1")
            .task(r"\Vendor Addin", r"C:\Windows\System32\regsvr32.exe", &format!("/s \"{dll}\""), "NT AUTHORITY\\SYSTEM", &["once"])
            .file(dll)
            .build();
        let out = detect(&s, &DetectContext::default());
        assert!(out.iter().all(|f| f.confidence() <= Confidence::Medium), "{out:#?}");
        assert!(out.iter().any(|f| f.confidence() == Confidence::Medium), "{out:#?}");
    }
}
