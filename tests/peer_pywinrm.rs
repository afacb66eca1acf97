//! A real peer: pywinrm 0.5.0 (with requests-ntlm and pyspnego), which
//! nobody here wrote, runs commands against the lab over NTLM with message
//! encryption. This is what shows the lab speaks WinRM as Windows does.
//! Skips without the Python peers on a developer machine; fails under CI=true.
//! Loopback range used here: 127.67.0.0/16.

mod common;

use cauterize::lab::{self, HostFault};
use common::harness::LabRun;
use common::peers::{peer_script, python};
use std::net::Ipv4Addr;
use std::time::Duration;

async fn pywinrm(url: &str, password: &str, encryption: &str, kind: &str, command: &str) -> serde_json::Value {
    let Some(python) = python("pywinrm against the lab", &["winrm"]) else {
        return serde_json::Value::Null;
    };
    let script = peer_script("pywinrm_run.py");
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(python)
            .arg(script)
            .args([url, "LAB\\cauterize", password, encryption, kind, command])
            .output(),
    )
    .await
    .expect("pywinrm finished within 60 s")
    .expect("python starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("pywinrm printed no JSON ({e}): {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pywinrm_runs_commands_over_sealed_ntlm() {
    let mut spec = lab::scenario::simple(3, Ipv4Addr::new(127, 67, 0, 1), 5985);
    spec.hosts[2].fault = HostFault::HangReceive;
    let run = LabRun::start(spec).await;
    let url = |i: usize| format!("http://{}:5985/wsman", run.lab.spec().hosts[i].address);
    let password = lab::scenario::LAB_PASSWORD;

    let result = pywinrm(&url(0), password, "always", "cmd", "hostname").await;
    if result.is_null() {
        return; // skipped, reason printed
    }
    assert_eq!(result["status_code"], 0, "{result}");
    assert_eq!(result["std_out"].as_str().map(str::trim), Some("WS-001"), "{result}");

    // PowerShell through pywinrm's own -EncodedCommand path, non-ASCII both ways.
    let result = pywinrm(&url(1), password, "always", "ps", "Write-Output 'Grüße, Пётр'").await;
    assert_eq!(result["std_out"].as_str().map(str::trim), Some("Grüße, Пётр"), "{result}");

    // An unknown command is an honest failure, not a fake success.
    let result = pywinrm(&url(0), password, "always", "cmd", "format c:").await;
    assert_ne!(result["status_code"], 0, "{result}");

    // Wrong password: rejected at authentication.
    let result = pywinrm(&url(0), "wrong-password", "always", "cmd", "hostname").await;
    assert_eq!(result["error"], "invalid_credentials", "{result}");

    // Unencrypted messages while AllowUnencrypted=false: HTTP 500, as Windows.
    let result = pywinrm(&url(0), password, "never", "cmd", "hostname").await;
    assert_eq!(result["error"], "transport", "{result}");
    assert_eq!(result["code"], 500, "{result}");

    for host in &run.lab.spec().hosts[..2] {
        assert_eq!(run.lab.open_shells(&host.name), 0, "pywinrm's shells were deleted");
    }
}
