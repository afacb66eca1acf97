//! The lab's PowerShell engine through the real binary: `cauterize exec`
//! sends its bootstrap and script over WinRM, and each lab host answers
//! with its own PowerShell version's behaviour.
//! Loopback range used here: 127.97.0.0/16, one /24 per test.

mod common;

use cauterize::lab;
use common::harness::LabRun;
use std::net::Ipv4Addr;

/// Two hosts: WS-001 on Windows 7 (PowerShell 2.0), WS-002 on Windows 10
/// (Windows PowerShell 5.1), from `base`.
fn spec(base: Ipv4Addr) -> lab::LabSpec {
    let mut spec = lab::scenario::simple(2, base, 5985);
    for (host, preset) in spec.hosts.iter_mut().zip(["win7", "win10"]) {
        host.os = lab::scenario::presets::preset(preset).expect("preset");
        host.max_shells_per_user = lab::scenario::presets::default_max_shells(&host.os);
    }
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_gets_each_hosts_powershell_version() {
    let run = LabRun::start(spec(Ipv4Addr::new(127, 97, 1, 1))).await;
    // PowerShell 2.0 enters foreach once for $null; 3.0 and later do not.
    let out = run.cauterize("exec", &["--json", "--", "foreach ($x in $null) { 'ran' }"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.host("WS-001")["stdout"].as_str().map(str::trim), Some("ran"), "{}", out.stdout);
    assert_eq!(out.host("WS-002")["stdout"].as_str().map(str::trim), Some(""), "{}", out.stdout);
    // `.Count` of a scalar is 3.0's: nothing on 2.0, 1 on 5.1.
    let out = run.cauterize("exec", &["--json", "--", "(1).Count"]).await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.host("WS-001")["stdout"].as_str().map(str::trim), Some(""), "{}", out.stdout);
    assert_eq!(out.host("WS-002")["stdout"].as_str().map(str::trim), Some("1"), "{}", out.stdout);
}

/// A script whose last statement fails exits 1 through the bootstrap on
/// every version, and an unknown command comes back as Windows' record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_errors_come_back_as_windows_writes_them() {
    let run = LabRun::start(spec(Ipv4Addr::new(127, 97, 2, 1))).await;
    let out = run.cauterize("exec", &["--json", "--", "'before'; Get-Nothing"]).await;
    assert_eq!(out.code, cauterize::exit::ALL_FAILED, "stderr: {}", out.stderr);
    for host in ["WS-001", "WS-002"] {
        let line = out.host(host);
        assert_eq!(line["stdout"].as_str().map(str::trim), Some("before"), "{line}");
        let stderr = line["stderr"].as_str().unwrap_or_default();
        assert!(stderr.contains("The term 'Get-Nothing' is not recognized as the name of a cmdlet"), "{line}");
        assert!(stderr.contains("CommandNotFoundException"), "{line}");
    }
}
