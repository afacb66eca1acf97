//! The lab's WinRM endpoint against real clients: winrm-rs 2.0.1 (NTLM with
//! sealing, Basic), raw HTTP for the listener's refusals, and pywinrm when
//! the project's `.venv` has it.
//!
//! Addresses: this file uses 127.30.0.0/16 .. 127.39.0.0/16 only (one /24
//! per test, listed at each test), so it runs in parallel with other suites.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use cauterize::lab::{HostFault, HostSpec, Lab, LabSpec, fixtures};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use winrm_rs::{EncryptionMode, WinrmClient, WinrmConfig, WinrmCredentials, WinrmError};
use common::winrm_retry::once_more_if_session_lost;

const PASSWORD: &str = "Passw0rd!";
const PORT: u16 = 5985;

/// A Windows Server with a local admin, a domain admin (`CORP\alice`) and
/// a local non-admin.
fn host(name: &str, address: [u8; 4]) -> HostSpec {
    fixtures::server(name, Ipv4Addr::from(address), PASSWORD)
}

/// A lab of one host at `address` whose commands never finish, and an
/// Administrator client with a 1 s OperationTimeout.
async fn hung(address: [u8; 4]) -> (Lab, WinrmClient) {
    let spec = fixtures::faulty(
        "WS-001",
        Ipv4Addr::from(address),
        PASSWORD,
        HostFault::HangReceive,
    );
    (
        start(vec![spec]).await,
        client("Administrator", PASSWORD, "", 1),
    )
}

/// Whether `c` is refused authentication by the host at `address`.
async fn refused(c: &WinrmClient, address: &str) -> bool {
    matches!(
        c.open_shell(address).await.err(),
        Some(WinrmError::AuthFailed(_))
    )
}

async fn start(hosts: Vec<HostSpec>) -> Lab {
    Lab::start(LabSpec { hosts }).await.expect("lab starts")
}

fn client(user: &str, password: &str, domain: &str, operation_timeout_secs: u64) -> WinrmClient {
    let config = WinrmConfig {
        operation_timeout_secs,
        ..WinrmConfig::http()
    };
    WinrmClient::new(config, WinrmCredentials::new(user, password, domain)).expect("client")
}

/// Run `command` in a new shell and poll it to the end.
async fn run(
    client: &WinrmClient,
    address: &str,
    command: &str,
) -> Result<(Vec<u8>, i32), WinrmError> {
    // Creating a shell is safe to ask twice (see `common::winrm_retry`).
    let shell = once_more_if_session_lost(|| client.open_shell(address)).await?;
    let id = shell.start_command(command, &[]).await?;
    let mut stdout = Vec::new();
    let code = loop {
        let out = shell.receive_next(&id).await?;
        stdout.extend(out.stdout);
        if out.done {
            break out.exit_code.unwrap_or(-1);
        }
    };
    shell.close().await?;
    Ok((stdout, code))
}

// 127.30.1.0/24
#[tokio::test]
async fn hostname_over_sealed_ntlm_returns_the_host_name_and_closes_the_shell() {
    let lab = start(vec![
        host("WS-001", [127, 30, 1, 1]),
        host("WS-002", [127, 30, 1, 2]),
    ])
    .await;
    let admin = client("Administrator", PASSWORD, "", 20);
    assert_eq!(
        run(&admin, "127.30.1.1", "hostname").await.unwrap(),
        (b"WS-001\r\n".to_vec(), 0)
    );
    // A domain account, on the other host.
    let alice = client("alice", PASSWORD, "CORP", 20);
    assert_eq!(
        run(&alice, "127.30.1.2", "hostname").await.unwrap(),
        (b"WS-002\r\n".to_vec(), 0)
    );
    assert_eq!(lab.open_shells("WS-001"), 0);
    assert_eq!(lab.open_shells("ws-002"), 0);
    let stats = lab.stats();
    assert_eq!(
        (
            stats.shells_created,
            stats.shells_deleted,
            stats.open_shells
        ),
        (2, 2, 0)
    );
    assert_eq!(stats.auth_failures, 0);
    lab.stop().await;
}

// 127.30.13.0/24
#[tokio::test]
async fn output_bytes_pass_through_whatever_the_shell_code_page() {
    // WinRS carries the bytes the process wrote; the code page only tells
    // the process what its console uses. (winrm-rs 2.0.1 writes its Create
    // OptionSet outside the SOAP header, so this shell gets the default 437.)
    let lab = start(vec![host("ПК-01", [127, 30, 13, 1])]).await;
    let c = client("Administrator", PASSWORD, "", 20);
    let (stdout, code) = run(&c, "127.30.13.1", "hostname").await.unwrap();
    assert_eq!(
        (String::from_utf8(stdout).unwrap(), code),
        ("ПК-01\r\n".to_string(), 0)
    );
    lab.stop().await;
}

// 127.30.2.0/24
#[tokio::test]
async fn a_wrong_password_and_a_non_admin_are_refused() {
    let lab = start(vec![host("WS-001", [127, 30, 2, 1])]).await;
    for (user, password, domain) in [
        ("Administrator", "nope", ""),
        ("mallory", PASSWORD, ""),
        ("guest", PASSWORD, ""),
        // A local account is not a CORP account.
        ("Administrator", PASSWORD, "CORP"),
    ] {
        let c = client(user, password, domain, 20);
        assert!(refused(&c, "127.30.2.1").await, "{domain}\\{user}");
    }
    assert!(lab.stats().auth_failures >= 4);
    assert_eq!(lab.open_shells("WS-001"), 0);
    lab.stop().await;
}

// 127.30.3.0/24
#[tokio::test]
async fn a_timed_out_receive_is_an_empty_poll_for_the_client_and_ctrl_c_ends_the_command() {
    let (lab, c) = hung([127, 30, 3, 1]).await;
    let shell = c.open_shell("127.30.3.1").await.unwrap();
    let id = shell.start_command("hostname", &[]).await.unwrap();
    let started = Instant::now();
    // The sealed w:TimedOut fault comes back after OperationTimeout (1 s);
    // winrm-rs recognises it and reports an empty poll, twice.
    for _ in 0..2 {
        let out = shell
            .receive_next(&id)
            .await
            .expect("TimedOut is retried, not an error");
        assert!(!out.done && out.stdout.is_empty());
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    shell.signal_ctrl_c(&id).await.unwrap();
    let out = shell.receive_next(&id).await.unwrap();
    assert!(out.done);
    assert_eq!(out.exit_code, Some(0xC000_013A_u32 as i32));
    shell.close().await.unwrap();
    assert_eq!(lab.open_shells("WS-001"), 0);
    lab.stop().await;
}

// 127.30.4.0/24
#[tokio::test]
async fn on_a_hung_host_the_clients_own_deadline_fires_and_the_shell_still_closes() {
    let (lab, c) = hung([127, 30, 4, 1]).await;
    let shell = c.open_shell("127.30.4.1").await.unwrap();
    // Shell::run_command gives up after 2 x OperationTimeout and terminates.
    let err = shell
        .run_command("hostname", &[])
        .await
        .expect_err("times out");
    assert!(matches!(err, WinrmError::Timeout(_)), "{err:?}");
    assert_eq!(lab.open_shells("WS-001"), 1);
    shell.close().await.unwrap();
    assert_eq!(lab.open_shells("WS-001"), 0);
    lab.stop().await;
}

// 127.30.5.0/24
#[tokio::test]
async fn latency_slows_every_answer_but_the_command_still_runs() {
    let mut slow = host("WS-SLOW", [127, 30, 5, 1]);
    slow.latency = Duration::from_millis(150);
    let lab = start(vec![slow]).await;
    let c = client("Administrator", PASSWORD, "", 5);
    let started = Instant::now();
    assert_eq!(
        run(&c, "127.30.5.1", "hostname").await.unwrap().0,
        b"WS-SLOW\r\n"
    );
    // Type 1, Type 3, Create, Command, Receive, Delete at least.
    assert!(
        started.elapsed() >= Duration::from_millis(6 * 150),
        "{:?}",
        started.elapsed()
    );
    lab.stop().await;
}

// 127.30.6.0/24
#[tokio::test]
async fn the_shell_quota_is_enforced_per_user_and_freed_by_delete() {
    let mut h = host("WS-001", [127, 30, 6, 1]);
    h.max_shells_per_user = 3;
    let lab = start(vec![h]).await;
    let c = client("Administrator", PASSWORD, "", 20);
    let mut shells = Vec::new();
    for _ in 0..3 {
        shells.push(c.open_shell("127.30.6.1").await.unwrap());
    }
    let err = c.open_shell("127.30.6.1").await.err().expect("over quota");
    match &err {
        WinrmError::Soap(winrm_rs::SoapError::Fault { code, .. }) => {
            assert_eq!(code, "w:QuotaLimit")
        }
        other => panic!("expected the quota fault, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("maximum number of 3 concurrent shells"),
        "{err}"
    );
    // Another user has a quota of their own.
    let alice = client("alice", PASSWORD, "CORP", 20);
    let hers = alice.open_shell("127.30.6.1").await.unwrap();
    assert_eq!(lab.open_shells("WS-001"), 4);
    hers.close().await.unwrap();
    for shell in shells {
        shell.close().await.unwrap();
    }
    assert_eq!(lab.open_shells("WS-001"), 0);
    // Freed: a new shell opens again.
    c.open_shell("127.30.6.1")
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    lab.stop().await;
}

// 127.30.7.0/24
#[tokio::test]
async fn plaintext_is_refused_with_an_empty_500_while_allow_unencrypted_is_false() {
    let mut h = host("WS-001", [127, 30, 7, 1]);
    h.allow_basic = true;
    let lab = start(vec![h]).await;
    // winrm-rs with sealing off: its Type 3 carries the plaintext Create.
    let config = WinrmConfig {
        encryption: EncryptionMode::Never,
        operation_timeout_secs: 5,
        ..WinrmConfig::http()
    };
    let c = WinrmClient::new(config, WinrmCredentials::new("Administrator", PASSWORD, "")).unwrap();
    let err = c.open_shell("127.30.7.1").await.err().expect("refused");
    assert!(err.to_string().contains("500"), "{err}");
    // Basic with the right password, plaintext: 500 and an empty body.
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("Administrator:{PASSWORD}"));
    let (status, headers, body) = raw_post(
        "127.30.7.1",
        &[("Authorization", &format!("Basic {basic}"))],
        "application/soap+xml;charset=UTF-8",
        b"<x/>",
    )
    .await;
    assert_eq!(status, 500, "{headers}");
    assert!(body.is_empty());
    assert_eq!(lab.open_shells("WS-001"), 0);
    lab.stop().await;
}

// 127.30.8.0/24
#[tokio::test]
async fn basic_over_http_works_where_the_host_allows_it() {
    let mut h = host("WS-BASIC", [127, 30, 8, 1]);
    h.allow_basic = true;
    h.allow_unencrypted = true;
    let lab = start(vec![h, host("WS-NOBASIC", [127, 30, 8, 2])]).await;
    let config = WinrmConfig {
        auth_method: winrm_rs::AuthMethod::Basic,
        encryption: EncryptionMode::Never,
        operation_timeout_secs: 5,
        ..WinrmConfig::http()
    };
    let c = WinrmClient::new(
        config.clone(),
        WinrmCredentials::new("Administrator", PASSWORD, ""),
    )
    .unwrap();
    assert_eq!(
        run(&c, "127.30.8.1", "hostname").await.unwrap(),
        (b"WS-BASIC\r\n".to_vec(), 0)
    );
    let wrong = WinrmClient::new(
        config.clone(),
        WinrmCredentials::new("Administrator", "nope", ""),
    )
    .unwrap();
    assert!(refused(&wrong, "127.30.8.1").await);
    // Basic is off on the default host: 401.
    assert!(refused(&c, "127.30.8.2").await);
    assert_eq!(lab.open_shells("WS-BASIC"), 0);
    lab.stop().await;
}

// 127.30.9.0/24
#[tokio::test]
async fn the_listener_answers_like_http_sys() {
    let mut h = host("WS-001", [127, 30, 9, 1]);
    h.allow_basic = true;
    let lab = start(vec![h, host("WS-002", [127, 30, 9, 2])]).await;
    // Nothing authenticated yet: 401 offering Negotiate (and Basic where on).
    let (status, headers, body) =
        raw_post("127.30.9.1", &[], "application/soap+xml;charset=UTF-8", b"").await;
    assert_eq!(status, 401);
    // (Header names compare case-insensitively; hyper writes `Www-Authenticate`.)
    let lower = headers.to_ascii_lowercase();
    assert!(
        lower.contains("www-authenticate: negotiate\r\n"),
        "{headers}"
    );
    assert!(
        lower.contains("www-authenticate: basic realm=\"wsman\""),
        "{headers}"
    );
    assert!(
        lower.find("negotiate") < lower.find("basic"),
        "Negotiate is offered first: {headers}"
    );
    assert!(body.is_empty());
    let (_, headers, _) =
        raw_post("127.30.9.2", &[], "application/soap+xml;charset=UTF-8", b"").await;
    assert!(!headers.contains("Basic"), "{headers}");
    // A sealed body on a connection that never authenticated: 401.
    let sealed =
        b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\
                   \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=1\r\n\
                   --Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\x10\0\0\0\
                   0123456789abcdefX--Encrypted Boundary--\r\n";
    let ct = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";
    assert_eq!(raw_post("127.30.9.2", &[], ct, sealed).await.0, 401);
    // Garbage tokens are refused, not a crash.
    assert_eq!(
        raw_post("127.30.9.2", &[("Authorization", "Negotiate %%%")], ct, b"")
            .await
            .0,
        401
    );
    assert_eq!(
        raw_post(
            "127.30.9.2",
            &[("Authorization", "Negotiate TlRMTVNTUAADAAAA")],
            ct,
            b""
        )
        .await
        .0,
        401
    );
    // Only POST /wsman.
    assert_eq!(
        raw_request(
            "127.30.9.2",
            "POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        )
        .await
        .0,
        404
    );
    assert_eq!(
        raw_request("127.30.9.2", "GET /wsman HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .0,
        405
    );
    lab.stop().await;
}

// 127.31.0.0/16 (1,000 hosts: 127.31.0.1 .. 127.31.3.232)
#[tokio::test]
async fn a_thousand_hosts_listen_and_stop_cleanly() {
    let hosts: Vec<HostSpec> = (1..=1000u32)
        .map(|i| {
            let mut h = host(
                &format!("WS-{i:04}"),
                [127, 31, (i / 256) as u8, (i % 256) as u8],
            );
            if i % 100 == 0 {
                h.fault = HostFault::Down;
            }
            h
        })
        .collect();
    let lab = start(hosts).await;
    // A listening host answers; a Down one refuses the connection.
    assert_eq!(
        raw_post("127.31.3.231", &[], "application/soap+xml", b"")
            .await
            .0,
        401
    );
    assert!(TcpStream::connect("127.31.0.100:5985").await.is_err());
    let c = client("Administrator", PASSWORD, "", 20);
    assert_eq!(
        run(&c, "127.31.1.45", "hostname").await.unwrap().0,
        b"WS-0301\r\n"
    );
    lab.stop().await;
    assert!(
        TcpStream::connect("127.31.3.231:5985").await.is_err(),
        "stopped labs stop listening"
    );
    // The addresses are free again at once.
    let again = start(vec![host("WS-0001", [127, 31, 0, 1])]).await;
    again.stop().await;
}

// 127.32.0.0/16 (10,000 hosts: 127.32.0.1 .. 127.32.39.16)
#[tokio::test]
async fn ten_thousand_hosts_listen_in_one_process() {
    let hosts: Vec<HostSpec> = (1..=10_000u32)
        .map(|i| {
            host(
                &format!("H{i:05}"),
                [127, 32, (i / 256) as u8, (i % 256) as u8],
            )
        })
        .collect();
    let rss_before = resident_kib();
    let started = Instant::now();
    let lab = start(hosts).await;
    let bound = started.elapsed();
    // Each host carries its simulated Windows state (about 40 KB) besides
    // its listener; the figure is measured by bench/lab-scale.sh. This is
    // only a sanity bound (other tests share the process): the 10,000-host
    // lab must stay under the 1.5 GB the lab is designed for.
    let grown_mib = resident_kib().saturating_sub(rss_before) / 1024;
    eprintln!("10,000 hosts: bound in {bound:?}, resident memory +{grown_mib} MiB");
    assert!(grown_mib < 1536, "10,000 idle hosts took {grown_mib} MiB");
    // Connections to hosts across the range are answered.
    for last in ["127.32.0.1", "127.32.19.136", "127.32.39.16"] {
        assert_eq!(
            raw_post(last, &[], "application/soap+xml", b"").await.0,
            401,
            "{last}"
        );
    }
    let c = client("Administrator", PASSWORD, "", 20);
    assert_eq!(
        run(&c, "127.32.39.16", "hostname").await.unwrap().0,
        b"H10000\r\n"
    );
    assert!(bound < Duration::from_secs(30), "binding took {bound:?}");
    lab.stop().await;
}

// 127.30.10.0/24
#[tokio::test]
async fn a_busy_address_is_named_in_the_error() {
    let _squatter = std::net::TcpListener::bind("127.30.10.1:5985").unwrap();
    let err = Lab::start(LabSpec {
        hosts: vec![
            host("WS-001", [127, 30, 10, 2]),
            host("WS-002", [127, 30, 10, 1]),
        ],
    })
    .await
    .expect_err("bind fails");
    assert!(format!("{err:#}").contains("127.30.10.1:5985"), "{err:#}");
    // Nothing stays listening after a failed start.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect("127.30.10.2:5985").await.is_err());
}

// 127.30.11.0/24
#[tokio::test]
async fn pywinrm_runs_a_command_over_sealed_ntlm() {
    let Some(python) = venv_python("pywinrm") else {
        return;
    };
    let lab = start(vec![host("WS-PY", [127, 30, 11, 1])]).await;
    let script = r#"
import sys, json, winrm
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
url, user, pw = sys.argv[1:4]
s = winrm.Session(url, auth=(user, pw), transport="ntlm", message_encryption="always", operation_timeout_sec=2, read_timeout_sec=5)
r = s.run_cmd("hostname")
out = {"rc": r.status_code, "stdout": r.std_out.decode()}
try:
    winrm.Session(url, auth=(user, "wrong"), transport="ntlm", message_encryption="always").run_cmd("hostname")
    out["bad"] = "accepted"
except InvalidCredentialsError:
    out["bad"] = "refused"
try:
    winrm.Session(url, auth=(user, pw), transport="ntlm", message_encryption="never").run_cmd("hostname")
    out["plaintext"] = "accepted"
except WinRMTransportError as e:
    out["plaintext"] = e.code
print(json.dumps(out))
"#;
    let stdout = python_stdout(
        python,
        script,
        &[
            "http://127.30.11.1:5985/wsman",
            "WS-PY\\Administrator",
            PASSWORD,
        ],
    )
    .await;
    assert!(
        stdout.contains(r#""rc": 0"#) && stdout.contains(r#""stdout": "WS-PY\r\n""#),
        "{stdout}"
    );
    assert!(stdout.contains(r#""bad": "refused""#), "{stdout}");
    // message_encryption="never" with AllowUnencrypted=false: HTTP 500.
    assert!(stdout.contains(r#""plaintext": 500"#), "{stdout}");
    assert_eq!(lab.open_shells("WS-PY"), 0);
    lab.stop().await;
}

// 127.30.12.0/24
#[tokio::test]
async fn sealed_framing_is_strict_and_faults_are_sealed_as_pyspnego_sees_them() {
    let Some(python) = venv_python("pyspnego") else {
        return;
    };
    let lab = start(vec![host("WS-RAW", [127, 30, 12, 1])]).await;
    // One keep-alive connection, driven by pyspnego (the NTLM initiator
    // requests-ntlm uses) with hand-made frames.
    let script = r#"
import sys, struct, http.client, base64, json, spnego
host, user, pw = sys.argv[1:4]
c = spnego.client(user, pw, hostname=host, service="http", protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
conn = http.client.HTTPConnection(host, 5985, timeout=10)
CT = 'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"'
def post(body=b"", auth=None, ct="application/soap+xml;charset=UTF-8"):
    h = {"Content-Type": ct}
    if auth: h["Authorization"] = auth
    conn.request("POST", "/wsman", body=body, headers=h)
    r = conn.getresponse()
    return r.status, r.getheader("WWW-Authenticate"), r.getheader("Content-Type") or "", r.read()
def frame(msg, crlf=False, length=None):
    w = c.wrap(msg, encrypt=True).data
    n = len(msg) if length is None else length
    head = b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n" % n
    return head + struct.pack("<I", 16) + w[:16] + w[16:] + (b"\r\n" if crlf else b"") + b"--Encrypted Boundary--\r\n"
def unframe(data):
    marker = b"\tContent-Type: application/octet-stream\r\n"
    payload = data[data.index(marker) + len(marker):]
    assert payload.endswith(b"--Encrypted Boundary--\r\n")
    payload = payload[:-len(b"--Encrypted Boundary--\r\n")]
    n = struct.unpack("<I", payload[:4])[0]
    return c.unwrap(payload[4:4 + n] + payload[4 + n:]).data.decode()
def envelope(action, body, selector=""):
    return ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">'
        '<s:Header><a:Action>' + action + '</a:Action><a:MessageID>uuid:0A0A0A0A-0000-4000-8000-000000000001</a:MessageID>'
        '<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI><w:OperationTimeout>PT5S</w:OperationTimeout>'
        + selector + '</s:Header><s:Body>' + body + '</s:Body></s:Envelope>').encode()
out = {}
st, www, _, _ = post()
out["anonymous"] = [st, www]
st, www, _, _ = post(auth="Negotiate " + base64.b64encode(c.step()).decode())
out["type1"] = [st, www.split(" ")[0]]
st, _, _, body = post(auth="Negotiate " + base64.b64encode(c.step(base64.b64decode(www.split(" ", 1)[1]))).decode())
out["type3"] = [st, len(body)]
st, _, ct, body = post(frame(envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>")), ct=CT)
xml = unframe(body)
out["create"] = [st, ct == CT, "<rsp:ShellId>" in xml and 'Name="ShellId"' in xml, "uuid:0A0A0A0A-0000-4000-8000-000000000001" in xml]
st, _, ct, body = post(frame(envelope("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive", '<rsp:Receive><rsp:DesiredStream CommandId="11111111-1111-1111-1111-111111111111">stdout stderr</rsp:DesiredStream></rsp:Receive>', '<w:SelectorSet><w:Selector Name="ShellId">22222222-2222-2222-2222-222222222222</w:Selector></w:SelectorSet>')), ct=CT)
xml = unframe(body)
out["fault"] = [st, ct == CT, "w:InvalidSelectors" in xml and 'Code="2150858843"' in xml]
st, _, _, body = post(frame(b"<x/>", crlf=True), ct=CT)
out["crlf"] = [st, len(body)]
st, _, _, body = post(frame(b"<x/>", length=5), ct=CT)
out["length"] = [st, len(body)]
st, _, _, body = post(b"<s:Envelope/>")
out["plaintext"] = [st, len(body)]
# The NTLM scheme works too, and is answered in kind.
conn = http.client.HTTPConnection(host, 5985, timeout=10)
c = spnego.client(user, pw, hostname=host, service="http", protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
st, www, _, _ = post(auth="NTLM " + base64.b64encode(c.step()).decode())
out["ntlm_type1"] = [st, www.split(" ")[0]]
st, _, _, _ = post(auth="NTLM " + base64.b64encode(c.step(base64.b64decode(www.split(" ", 1)[1]))).decode())
out["ntlm_type3"] = st
print(json.dumps(out))
"#;
    let stdout = python_stdout(python, script, &["127.30.12.1", "Administrator", PASSWORD]).await;
    let got: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let expected = serde_json::json!({
        "anonymous": [401, "Negotiate"],
        "type1": [401, "Negotiate"],
        "type3": [200, 0],
        "create": [200, true, true, true],
        "fault": [500, true, true],
        "crlf": [400, 0],
        "length": [400, 0],
        "plaintext": [500, 0],
        "ntlm_type1": [401, "NTLM"],
        "ntlm_type3": 200,
    });
    assert_eq!(got, expected);
    assert_eq!(lab.open_shells("WS-RAW"), 1);
    lab.stop().await;
}

/// The project's `.venv` Python, which has `module`; `None` (the test is
/// skipped, saying so) where there is none.
fn venv_python(module: &str) -> Option<&'static str> {
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
    if std::path::Path::new(python).exists() {
        return Some(python);
    }
    eprintln!("skipped: no {python} with {module}");
    None
}

/// What the Python `script` run with `args` printed; it must succeed.
async fn python_stdout(python: &str, script: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// This process's resident set size in KiB (0 where /proc is missing).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .map(|v| v.trim().trim_end_matches(" kB").parse().ok())
            })?
        })
        .unwrap_or(0)
}

/// POST /wsman on a fresh connection: (status, raw headers, body).
async fn raw_post(
    address: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut head = format!(
        "POST /wsman HTTP/1.1\r\nHost: {address}:{PORT}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    raw_bytes(address, &request).await
}

async fn raw_request(address: &str, request: &str) -> (u16, String, Vec<u8>) {
    raw_bytes(address, request.as_bytes()).await
}

/// Send one request, read one response (Content-Length framed).
async fn raw_bytes(address: &str, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect((address, PORT)).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end + 2]).into_owned();
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length || n == 0 {
                let status = head[9..12].parse().unwrap();
                return (status, head, buf[end + 4..].to_vec());
            }
        }
        assert!(n != 0, "connection closed early");
    }
}
