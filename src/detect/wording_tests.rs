//! Reasons describe the host as it is: tests of the words findings use
//! (issue 11's list of wrong texts, each made into a test).

use super::builder::SnapshotBuilder;
use super::{ArtifactRef, DetectContext, Finding, detect};

fn all_reasons(out: &[Finding]) -> Vec<String> {
    out.iter().flat_map(|f| f.reasons.iter().cloned()).collect()
}

#[test]
fn lenovos_unquoted_rundll32_entry_is_not_a_finding() {
    let dll = r"C:\Program Files\Lenovo\Spectrum\Spectrum_Core.dll";
    let s = SnapshotBuilder::new("WS1")
        .run(
            "HKLM",
            "LenovoSpectrum",
            &format!(r"C:\Windows\system32\rundll32.exe {dll},RunDLL"),
        )
        .signed_file(dll, "Lenovo")
        .build();
    let out = detect(&s, &DetectContext::default());
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn a_command_keys_values_are_named_and_an_empty_one_is_said_to_be_empty() {
    let key = r"Software\Classes\AppX82a6gwre4fdg3bt635tn5ctqjf8msdd2\Shell\open\command";
    let s = SnapshotBuilder::new("WS1")
        .user("bob")
        .reg(
            "bob",
            key,
            "",
            "REG_SZ",
            r"C:\Users\bob\AppData\Roaming\x\y.exe",
        )
        .reg("bob", key, "DelegateExecute", "REG_SZ", "")
        .build();
    let out = detect(&s, &DetectContext::default());
    assert_eq!(out.len(), 1, "one finding on the whole class key: {out:#?}");
    for r in all_reasons(&out) {
        assert!(
            !r.trim_end().ends_with(" is") && !r.ends_with("is "),
            "dangling: {r}"
        );
    }
    let reasons = all_reasons(&out).join("\n");
    assert!(
        reasons.contains(r"its value (default) runs C:\Users\bob\AppData\Roaming\x\y.exe"),
        "{reasons}"
    );
    assert!(
        reasons.contains("its value DelegateExecute is empty"),
        "{reasons}"
    );
    // The unnamed value is called (default) where a value is described.
    let s = SnapshotBuilder::new("WS1")
        .user("bob")
        .reg(
            "bob",
            r"Software\Classes\ms-settings\Shell\Open\command",
            "",
            "REG_SZ",
            r"C:\Users\Public\x.exe",
        )
        .build();
    let out = detect(&s, &DetectContext::default());
    assert!(
        out.iter()
            .any(|f| f.artifact.describe().ends_with(r"\command\(default)")),
        "{:?}",
        out.iter()
            .map(|f| f.artifact.describe())
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_spared_product_entry_is_not_also_called_unexplained() {
    // Lenovo's add-in under ProgramData: user-writable, so the generic
    // rule looks at it; the allow-list spares it. No reason may claim no
    // product is behind it.
    let dll = r"C:\ProgramData\Lenovo\Vantage\Addins\LenovoSpectrum\Spectrum_Core.dll";
    let s = SnapshotBuilder::new("WS1")
        .run(
            "HKLM",
            "LenovoVantage",
            &format!(r#"rundll32.exe "{dll}",RunDLL"#),
        )
        .signed_file(dll, "Lenovo")
        .build();
    let out = detect(&s, &DetectContext::default());
    assert!(
        !out.is_empty() && out.iter().all(|f| f.allowlisted.is_some()),
        "{out:#?}"
    );
    for r in all_reasons(&out) {
        assert!(!r.contains("no known product"), "{r}");
    }
}

#[test]
fn a_folder_in_a_loaders_folder_is_never_called_a_file() {
    let dir = r"C:\Users\bob\AppData\Local\Snirakw";
    let s = SnapshotBuilder::new("WS1")
        .user("bob")
        .run(
            "bob",
            "pzgi.por",
            &format!(r#"regsvr32.exe /s "{dir}\pzgi.por""#),
        )
        .file(&format!(r"{dir}\pzgi.por"))
        .dir(dir, &["pzgi.por", "cache", "unseen.bin", "cs.exe"])
        .dir(&format!(r"{dir}\cache"), &[])
        .file(&format!(r"{dir}\cs.exe"))
        .build();
    let out = detect(&s, &DetectContext::default());
    let files: Vec<String> = out
        .iter()
        .filter_map(|f| match &f.artifact {
            ArtifactRef::File { path } => Some(path.clone()),
            _ => None,
        })
        .collect();
    assert!(files.iter().any(|p| p.ends_with(r"\cs.exe")), "{files:?}");
    assert!(
        !files
            .iter()
            .any(|p| p.ends_with(r"\cache") || p.ends_with(r"\unseen.bin")),
        "{files:?}"
    );
    let folder = out
        .iter()
        .find(|f| matches!(&f.artifact, ArtifactRef::Folder { path } if path.eq_ignore_ascii_case(dir)))
        .unwrap_or_else(|| panic!("{out:#?}"));
    let words = folder.reasons.join("\n");
    assert!(words.contains("subfolder(s) cache"), "{words}");
    assert!(words.contains("unseen.bin (no facts collected"), "{words}");
}

/// A server whose service runs rundll32 on `sys32`'s DLL (the command
/// names System32), with these file facts.
fn wow64_host(sys32: &str, files: &[crate::runtime::snapshot::FileFacts]) -> Vec<Finding> {
    let mut b = SnapshotBuilder::new("SRV1").service(
        "bdkqwlr.vke",
        "bdkqwlr.vke",
        &format!(r#"C:\Windows\system32\rundll32.exe "{sys32}",Control_RunDLL"#),
        "LocalSystem",
    );
    for f in files {
        b = b.file_full(f.clone());
    }
    detect(&b.build(), &DetectContext::default())
}

fn facts(path: &str, exists: bool) -> crate::runtime::snapshot::FileFacts {
    crate::runtime::snapshot::FileFacts {
        path: path.into(),
        exists,
        signature: "unsigned".into(),
        ..Default::default()
    }
}

fn service_targets(out: &[Finding]) -> &Finding {
    out.iter()
        .find(|f| matches!(f.artifact, ArtifactRef::Service { .. }))
        .unwrap_or_else(|| panic!("{out:#?}"))
}

#[test]
fn a_system32_path_is_not_shown_as_syswow64_on_a_host_without_it() {
    // 32-bit Windows: nothing under SysWOW64 (collection asked, nothing
    // there); the service's DLL is where the command says.
    let sys32 = r"C:\Windows\System32\Gpxqfnt\bdkqwlr.vke";
    let out = wow64_host(
        sys32,
        &[
            facts(sys32, true),
            facts(r"C:\Windows\SysWOW64\Gpxqfnt\bdkqwlr.vke", false),
            facts(r"C:\Windows\SysWOW64\rundll32.exe", false),
        ],
    );
    assert_eq!(service_targets(&out).target_files, vec![sys32.to_string()]);
    for f in &out {
        for t in &f.target_files {
            assert!(!t.to_ascii_lowercase().contains("syswow64"), "{f:?}");
        }
        for r in &f.reasons {
            assert!(!r.contains("SysWOW64"), "{r}");
        }
    }
    // On 64-bit Windows with the file in SysWOW64, the reason says so.
    let wow = r"C:\Windows\SysWOW64\Gpxqfnt\bdkqwlr.vke";
    let out = wow64_host(sys32, &[facts(wow, true)]);
    let svc = service_targets(&out);
    assert_eq!(svc.target_files, vec![wow.to_string()]);
    assert!(
        svc.reasons
            .iter()
            .any(|r| r.contains(&format!("the command names {sys32}; the file is {wow}"))),
        "{:?}",
        svc.reasons
    );
}
