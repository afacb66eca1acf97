//! Tests of every password source, the cache, and that no secret leaks.

use super::*;
use crate::inventory::model::*;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

fn spec(source: SecretSource) -> CredentialSpec {
    CredentialSpec { name: "ir".into(), user: "ir-admin".into(), domain: "CORP".into(), source }
}

fn host(name: &str, address: &str) -> ResolvedHost {
    ResolvedHost {
        name: name.into(),
        address: address.into(),
        groups: vec![],
        settings: ConnectionSettings::defaults_with("ir"),
    }
}

fn resolver() -> SecretResolver {
    SecretResolver::new(&Inventory::default())
}

fn h() -> ResolvedHost {
    host("ws-001", "10.0.0.1")
}

#[test]
fn env_source() {
    let r = resolver();
    let path = std::env::var("PATH").unwrap_or_default();
    if !path.is_empty() {
        let p = r.password(&spec(SecretSource::Env { var: "PATH".into() }), &h()).unwrap();
        assert_eq!(p.as_str(), path);
    }
    let e = resolver()
        .password(&spec(SecretSource::Env { var: "CAUTERIZE_TEST_SURELY_UNSET_4711".into() }), &h())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "credential `ir`: environment variable CAUTERIZE_TEST_SURELY_UNSET_4711 is not set; export it before running cauterize"
    );
}

#[test]
fn file_source_takes_first_line() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"\xEF\xBB\xBFs3cret pass\r\nsecond line\n").unwrap();
    let r = resolver();
    let p = r.password(&spec(SecretSource::File { path: f.path().into() }), &h()).unwrap();
    assert_eq!(p.as_str(), "s3cret pass");

    let empty = tempfile::NamedTempFile::new().unwrap();
    let e = resolver().password(&spec(SecretSource::File { path: empty.path().into() }), &h()).unwrap_err();
    assert!(matches!(e, SecretError::FileEmpty { .. }), "{e}");

    let e = resolver()
        .password(&spec(SecretSource::File { path: "/nonexistent/cauterize/pw".into() }), &h())
        .unwrap_err();
    assert!(e.to_string().starts_with("credential `ir`: cannot read password file /nonexistent/cauterize/pw: "), "{e}");
}

#[cfg(unix)]
#[test]
fn command_source_first_line_no_shell() {
    let argv = |v: &[&str]| SecretSource::Command { argv: v.iter().map(|s| s.to_string()).collect() };
    let r = resolver();
    let p = r.password(&spec(argv(&["printf", "s3cret;$(x)\\nline2\\n"])), &h()).unwrap();
    assert_eq!(p.as_str(), "s3cret;$(x)", "arguments reach the program verbatim, no shell expansion");

    let e = resolver().password(&spec(argv(&["sh", "-c", "echo vault is locked >&2; exit 3"])), &h()).unwrap_err();
    assert_eq!(e.to_string(), "credential `ir`: password command `sh` exited with status 3: vault is locked");

    let e = resolver().password(&spec(argv(&["/nonexistent/pass-tool"])), &h()).unwrap_err();
    assert!(matches!(e, SecretError::CommandSpawn { .. }), "{e}");

    let e = resolver().password(&spec(argv(&["true"])), &h()).unwrap_err();
    assert!(matches!(e, SecretError::CommandEmpty { .. }), "{e}");
}

#[cfg(unix)]
#[test]
fn command_source_times_out() {
    let r = resolver().with_command_timeout(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let src = SecretSource::Command { argv: vec!["sleep".into(), "5".into()] };
    let e = r.password(&spec(src), &h()).unwrap_err();
    assert!(matches!(e, SecretError::CommandTimeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

struct Counting {
    calls: AtomicUsize,
    answer: Result<&'static str, PromptError>,
}

impl Prompter for Counting {
    fn prompt(&self, message: &str) -> Result<Zeroizing<String>, PromptError> {
        assert_eq!(message, "Password for CORP\\ir-admin (credential `ir`): ");
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        self.answer.clone().map(|s| Zeroizing::new(s.to_string()))
    }
}

#[test]
fn prompt_asks_once_even_from_many_threads() {
    let prompter = Arc::new(Counting { calls: AtomicUsize::new(0), answer: Ok("typed") });
    let r = Arc::new(resolver().with_prompter(prompter.clone()));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let r = r.clone();
            std::thread::spawn(move || r.password(&spec(SecretSource::Prompt), &host(&format!("h{i}"), "a")).unwrap())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().as_str(), "typed");
    }
    assert_eq!(prompter.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn prompt_without_terminal_says_what_to_use() {
    let prompter = Arc::new(Counting { calls: AtomicUsize::new(0), answer: Err(PromptError::NoTerminal) });
    let r = resolver().with_prompter(prompter.clone());
    let e = r.password(&spec(SecretSource::Prompt), &h()).unwrap_err();
    assert!(e.to_string().contains("needs a terminal"), "{e}");
    assert!(e.to_string().contains("use password_env, password_file or password_command"), "{e}");
    // The failure is cached: no second prompt.
    let _ = r.password(&spec(SecretSource::Prompt), &h());
    assert_eq!(prompter.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn laps_csv_by_name_short_name_or_address() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"ComputerName,Password\r\nWS-001,laps-1\r\nws-002.corp.example,laps-2\r\n10.0.0.9,laps-9\r\n").unwrap();
    let s = spec(SecretSource::Laps { csv: f.path().into() });
    let r = resolver();
    assert_eq!(r.password(&s, &host("ws-001.corp.example", "x")).unwrap().as_str(), "laps-1");
    assert_eq!(r.password(&s, &host("WS-002.CORP.EXAMPLE", "x")).unwrap().as_str(), "laps-2");
    assert_eq!(r.password(&s, &host("kiosk", "10.0.0.9")).unwrap().as_str(), "laps-9");
    let e = r.password(&s, &host("ws-404", "10.0.0.4")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("host ws-404 is not in LAPS export") && msg.contains(&f.path().display().to_string()), "{msg}");
    assert!(!msg.contains("laps-"), "no password in the message: {msg}");
}

#[test]
fn laps_csv_without_password_column() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"Name,LastLogon\nws-001,yesterday\n").unwrap();
    let e = resolver().password(&spec(SecretSource::Laps { csv: f.path().into() }), &h()).unwrap_err();
    assert!(e.to_string().contains("has no password column (its columns: Name, LastLogon)"), "{e}");
}

#[test]
fn inline_from_inventory_and_no_leaks() {
    let mut inv = Inventory::default();
    inv.inline_passwords.insert("ir", Zeroizing::new("hunter2".into()));
    let r = SecretResolver::new(&inv);
    let p = r.password(&spec(SecretSource::Inline), &h()).unwrap();
    assert_eq!(p.as_str(), "hunter2");
    assert!(!format!("{r:?}").contains("hunter2"));
    let e = resolver().password(&spec(SecretSource::Inline), &h()).unwrap_err();
    assert!(matches!(e, SecretError::InlineMissing { .. }));
}

#[test]
fn preload_reads_each_used_credential_once() {
    let prompter = Arc::new(Counting { calls: AtomicUsize::new(0), answer: Ok("typed") });
    let inv = Inventory {
        hosts: vec![h(), host("ws-002", "b")],
        credentials: vec![spec(SecretSource::Prompt)],
        ..Default::default()
    };
    let r = SecretResolver::new(&inv).with_prompter(prompter.clone());
    r.preload(&inv).unwrap();
    r.password(&inv.credentials[0], &inv.hosts[1]).unwrap();
    assert_eq!(prompter.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn resolver_is_shareable_across_tasks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SecretResolver>();
}
