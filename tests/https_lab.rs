//! WinRM over HTTPS against lab hosts' port-5986 listeners, whose
//! certificates come from the lab's private CA: `cert_validation: {ca_file}`
//! works (NTLM over TLS with channel binding, plaintext SOAP inside TLS),
//! default `verify` fails once with an error that names the certificate
//! and says what to write, `ignore` works (sealed NTLM) with a warning, and
//! Basic works over a verified certificate.
//! Loopback range used here: 127.69.0.0/16.

mod common;

use cauterize::lab::{self, LabSpec};
use common::harness::LabRun;
use std::net::Ipv4Addr;

/// `count` HTTPS hosts from `base`, reached through the inventory `lab
/// serve` writes for them, with the lab CA in `<inventory>.ca.pem`.
async fn https_lab(count: u32, base: Ipv4Addr, tweak: impl Fn(&mut LabSpec)) -> LabRun {
    let mut spec = lab::scenario::simple(count, base, 5985);
    for h in &mut spec.hosts {
        h.https = true;
    }
    tweak(&mut spec);
    let run = LabRun::start(spec).await;
    // What `lab serve` writes: the inventory, and the CA beside it.
    let ca = cauterize::commands::lab::write_lab_inventory(&run.lab, &run.inventory).unwrap();
    assert_eq!(ca, Some(lab::inventory_out::ca_file_for(&run.inventory)));
    assert_eq!(
        std::fs::read_to_string(ca.unwrap()).unwrap(),
        run.lab.ca_pem()
    );
    run
}

/// Rewrite the inventory: every `from` becomes `to`.
fn edit_inventory(run: &LabRun, from: &str, to: &str) {
    let text = std::fs::read_to_string(&run.inventory).unwrap();
    assert!(text.contains(from), "{from} not in\n{text}");
    std::fs::write(&run.inventory, text.replace(from, to)).unwrap();
}

fn ok_names(out: &common::harness::Run, count: u32) {
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    for i in 1..=count {
        let name = format!("WS-00{i}");
        assert_eq!(
            out.host(&name)["stdout"].as_str().map(str::trim),
            Some(name.as_str()),
            "{}",
            out.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_ca_file_verifies_every_host() {
    let run = https_lab(3, Ipv4Addr::new(127, 69, 0, 1), |_| {}).await;
    let text = std::fs::read_to_string(&run.inventory).unwrap();
    assert!(
        text.contains("transport: https") && text.contains("port: 5986"),
        "{text}"
    );
    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    ok_names(&out, 3);
    assert!(!out.stderr.contains("not checked"), "{}", out.stderr);
    assert_eq!(run.lab.stats().auth_failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_verify_fails_once_naming_the_certificate_and_the_fix() {
    let run = https_lab(1, Ipv4Addr::new(127, 69, 1, 1), |_| {}).await;
    let text = std::fs::read_to_string(&run.inventory).unwrap();
    let start = text.find(", cert_validation:").unwrap();
    let end = start + text[start..].find(" }").unwrap() + 2;
    std::fs::write(
        &run.inventory,
        format!("{}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    assert_eq!(
        out.code,
        cauterize::exit::ALL_FAILED,
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    let host = out.host("WS-001");
    assert_eq!(host["kind"], "tls", "{}", out.stdout);
    let error = host["error"].as_str().unwrap_or_default().to_string();
    for word in ["certificate", "ca_file", "127.69.1.1", "5986"] {
        assert!(error.contains(word), "`{word}` missing from: {error}");
    }
    // Not retried: the lock-out gate's port probe and one TLS handshake,
    // no request, so no logon attempt either.
    assert!(run.lab.stats().connections <= 2, "{:?}", run.lab.stats());
    assert_eq!(run.lab.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_works_and_warns() {
    let run = https_lab(2, Ipv4Addr::new(127, 69, 2, 1), |_| {}).await;
    let text = std::fs::read_to_string(&run.inventory).unwrap();
    let ca = text
        .split("cert_validation: { ca_file: ")
        .nth(1)
        .unwrap()
        .split(" }")
        .next()
        .unwrap()
        .to_string();
    edit_inventory(&run, &format!("{{ ca_file: {ca} }}"), "ignore");
    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    ok_names(&out, 2);
    assert!(
        out.stderr.contains("certificate is not checked"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_over_verified_https_needs_no_force() {
    // Windows takes Basic for local accounts only.
    let run = https_lab(2, Ipv4Addr::new(127, 69, 3, 1), |spec| {
        for h in &mut spec.hosts {
            h.allow_basic = true;
            h.accounts = vec![lab::Account {
                domain: String::new(),
                user: "Administrator".into(),
                password: "Basic-0ver-TLS!".into(),
                admin: true,
            }];
        }
    })
    .await;
    edit_inventory(&run, "auth: ntlm", "auth: basic");
    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    ok_names(&out, 2);
    assert!(!out.stderr.contains("clear text"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_hosts_still_answer_on_http() {
    let run = https_lab(1, Ipv4Addr::new(127, 69, 4, 1), |_| {}).await;
    std::fs::write(
        &run.inventory,
        lab::inventory_out::inventory_yaml(run.lab.spec()),
    )
    .unwrap();
    let out = run.cauterize("exec", &["--json", "--", "hostname"]).await;
    ok_names(&out, 1);
}

/// pywinrm over HTTPS, as `tests/peers/pywinrm_https.py` runs it.
async fn pywinrm_https(url: &str, ca: &std::path::Path, encryption: &str) -> serde_json::Value {
    let Some(python) = common::peers::python("pywinrm over HTTPS against the lab", &["winrm"])
    else {
        return serde_json::Value::Null;
    };
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new(python)
            .arg(common::peers::peer_script("pywinrm_https.py"))
            .args([
                url,
                "LAB\\cauterize",
                lab::scenario::LAB_PASSWORD,
                &ca.display().to_string(),
                encryption,
            ])
            .output(),
    )
    .await
    .expect("pywinrm finished within 60 s")
    .expect("python starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "pywinrm printed no JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// An independent client (its own TLS stack and NTLM channel binding)
/// verifies the lab's certificates against the lab CA and logs on, with
/// plaintext and with sealed bodies inside TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pywinrm_verifies_the_lab_ca_and_binds_ntlm_to_the_channel() {
    let run = https_lab(1, Ipv4Addr::new(127, 69, 5, 1), |_| {}).await;
    let ca = lab::inventory_out::ca_file_for(&run.inventory);
    let url = "https://127.69.5.1:5986/wsman";
    for encryption in ["auto", "always"] {
        let result = pywinrm_https(url, &ca, encryption).await;
        if result.is_null() {
            return; // skipped, reason printed
        }
        assert_eq!(
            result["std_out"].as_str().map(str::trim),
            Some("WS-001"),
            "{encryption}: {result}"
        );
    }
    assert_eq!(run.lab.stats().auth_failures, 0, "{:?}", run.lab.stats());
    // Another CA: pywinrm refuses the certificate before logging on.
    let other = run.write(
        "other-ca.pem",
        &cauterize::lab::tls::LabCa::generate().unwrap().pem(),
    );
    let result = pywinrm_https(url, &other, "auto").await;
    assert!(
        result["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{result}"
    );
    assert!(
        result["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("CERTIFICATE_VERIFY_FAILED"),
        "{result}"
    );
}
