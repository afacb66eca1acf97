//! Collection of issue 11's facts end to end: the real `cauterize scan`
//! against a lab host (WinRM, the lab's PowerShell engine running
//! runtime.ps1, both collection passes) on which a renamed copy of a
//! Windows program and a registry-stored stage were planted through the
//! lab's library. Loopback range: 127.131.0.0/16.

mod common;

use std::net::Ipv4Addr;

use cauterize::lab::world::registry::RegData;
use cauterize::lab::{self, LabSettings, WorldSpec};
use common::harness::LabRun;

/// The lab admin's profile folder and SID on `host`.
fn admin(run: &LabRun, host: &str) -> (String, String) {
    run.lab.with_host(host, |h| {
        let p = h
            .profile_by_name(lab::scenario::LAB_USER)
            .or_else(|| h.profiles.first())
            .expect("a profile");
        (p.profile_path.clone(), p.sid.clone())
    })
}

/// A copy of Windows' rundll32 renamed `wincfg.exe` in the user's Temp
/// folder, started by a Run value, is found with the original name its
/// version information gives; a Run value whose PowerShell runs a
/// base64 stage it reads from `HKCU\Software\Qzfhwk` has that value
/// collected (its data in the journal's snapshot) and flagged High; a
/// product's short setting under Software is not collected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_finds_a_renamed_windows_program_and_a_registry_stage() {
    common::harness::raise_fd_limit();
    let spec = lab::scenario::simple(1, Ipv4Addr::new(127, 131, 0, 1), 5985);
    let world = WorldSpec::derived(&spec, LabSettings::default());
    let run = LabRun::start_world(spec, world).await;
    let host = "WS-001";
    let (home, sid) = admin(&run, host);
    let copy = format!(r"{home}\AppData\Local\Temp\wincfg.exe");
    let stage = "QUJD".repeat(200);
    run.lab.with_host(host, |h| {
        let now = LabSettings::default().start;
        let rundll = h.files.get(r"C:\Windows\System32\rundll32.exe").expect("rundll32").clone();
        h.files.plant(&copy, rundll, now).expect("the copy");
        h.files
            .plant_file(&format!(r"{home}\AppData\Local\Temp\kq7.bin"), cauterize::lab::world::files::Content::text("MZ stage"), None, now)
            .expect("the DLL");
        let hive = h.registry.user_hive_mut(&sid).expect("the admin's hive");
        let run_key = hive.root.create(r"Software\Microsoft\Windows\CurrentVersion\Run");
        run_key.set("WinCfgSync", RegData::sz(format!(r"{copy} {home}\AppData\Local\Temp\kq7.bin,Start")));
        run_key.set(
            "Updater",
            RegData::sz(r"powershell.exe -w hidden -c iex ([Text.Encoding]::ASCII.GetString([Convert]::FromBase64String((gp 'HKCU:\Software\Qzfhwk').blob)))"),
        );
        hive.root.create(r"Software\Qzfhwk").set("blob", RegData::sz(stage.clone()));
        hive.root.create(r"Software\Vendor").set("Path", RegData::sz(r"C:\Program Files\Vendor\app.exe"));
    });
    let engagement = run.dir.path().join("e");
    let eng = engagement.display().to_string();
    let out = run.cauterize("scan", &["--engagement", &eng, "--json"]).await;
    assert_eq!(out.code, cauterize::exit::OK, "{}\n{}", out.stdout, out.stderr);
    let line = out.host(host);
    let findings = line["findings"].as_array().expect("findings").clone();
    let on = |needle: &str| -> Vec<serde_json::Value> {
        findings
            .iter()
            .filter(|f| f.to_string().to_lowercase().contains(&needle.to_lowercase()))
            .cloned()
            .collect()
    };
    let copy_findings = on(r"wincfg.exe");
    assert!(
        copy_findings.iter().any(|f| f["reasons"].to_string().contains("renamed copy of Windows' rundll32.exe")
            && f["confidence"] == "high"),
        "the copy is known by its original name: {copy_findings:#?}"
    );
    let stage_findings: Vec<_> = findings
        .iter()
        .filter(|f| f["artifact"]["value"] == "blob")
        .collect();
    assert!(
        stage_findings.iter().any(|f| f["rule_id"] == "GEN-REGISTRY-PAYLOAD" && f["confidence"] == "high"
            && f["reasons"].to_string().contains("800 characters of base64")),
        "the stage is collected and flagged: {findings:#?}"
    );
    // The snapshot in the journal holds the stage's data; not the setting.
    let j = cauterize::journal::Journal::open(&engagement).expect("journal");
    let mut latest = None;
    j.each_latest_scan(Some(&[host.to_string()]), |s| {
        latest = Some(s.snapshot);
        Ok(())
    })
    .expect("read the journal");
    let snap = latest.expect("a snapshot");
    let blob = snap.registry.iter().find(|r| r.hive == sid && r.key == r"Software\Qzfhwk" && r.value == "blob").expect("the stage in the snapshot");
    assert_eq!(blob.data, stage);
    assert!(!snap.registry.iter().any(|r| r.key == r"Software\Vendor"), "a short product setting is not collected");
    let facts = snap.files.iter().find(|f| f.path.eq_ignore_ascii_case(&copy)).expect("the copy's facts");
    assert_eq!(facts.original_name, "RUNDLL32.EXE");
}
