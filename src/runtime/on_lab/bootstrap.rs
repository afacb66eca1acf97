//! cauterize's bootstrap and probe on a lab host, end to end through the
//! lab's command emulation as the WinRM endpoint calls it: the payload on
//! stdin, read and run by the real bootstrap text, its exit-code rule, and
//! the probe's output read by the tool's parser.

use crate::lab::emulate::tests::{decoded_stderr, exec, host, stdout};
use crate::lab::emulate::{CommandRequest, CommandResult, wants_stdin};
use crate::runtime::{bootstrap, probe};

fn run_payload(user: &str, stdin: &[u8]) -> CommandResult {
    let args = bootstrap::bootstrap_args();
    assert!(wants_stdin(bootstrap::POWERSHELL_EXE, &args));
    exec(&host(), &CommandRequest { command: bootstrap::POWERSHELL_EXE, args: &args, user, stdin })
}

#[test]
fn bootstrap_probe_round_trips_through_the_parser() {
    let r = run_payload("LAB\\cauterize", &bootstrap::encode_payload(probe::PROBE));
    assert_eq!(r.exit_code, 0, "{}", decoded_stderr(&r));
    assert!(r.stderr.is_empty());
    let facts = probe::parse(&stdout(&r)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(facts.hostname, "WS-001");
    assert_eq!(facts.user, "LAB\\cauterize");
    assert!(facts.is_admin);
    assert_eq!(facts.os_caption, "Microsoft Windows 10 Enterprise");
    assert_eq!(facts.os_build, "19045");
    assert_eq!(facts.ps_version, "5.1.19041.1");
    assert_eq!(facts.max_shells_per_user, Some(30));
    // The host's clock runs 300 s ahead.
    let host_clock = crate::lab::powershell::dates::parse(&facts.utc_now).unwrap_or_else(|| panic!("bad utc_now {}", facts.utc_now));
    let real = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0) + 62_135_596_800;
    let skew = host_clock.ticks / 10_000_000 - real;
    assert!((295..=300).contains(&skew), "skew {skew}");
}

#[test]
fn probe_reports_a_non_admin_local_account_in_its_own_name() {
    let r = run_payload("WS-001\\пётр", &bootstrap::encode_payload(probe::PROBE));
    let facts = probe::parse(&stdout(&r)).unwrap_or_else(|e| panic!("{e}"));
    assert!(!facts.is_admin);
    assert_eq!(facts.user, "WS-001\\пётр");
}

#[test]
fn wants_stdin_only_for_the_bootstrap() {
    assert!(wants_stdin(bootstrap::POWERSHELL_EXE, &bootstrap::bootstrap_args()));
    assert!(!wants_stdin("hostname", &[]));
    let other = vec!["-EncodedCommand".to_string(), bootstrap::encode_command("hostname")];
    assert!(!wants_stdin("powershell", &other));
    assert!(!wants_stdin("powershell", &["-enc".to_string(), "@@@".to_string()]));
}

#[test]
fn bootstrap_payload_runs_in_the_emulator() {
    let r = run_payload("LAB\\cauterize", &bootstrap::encode_payload("Write-Output 'Пётр 🦀'\nhostname\nwhoami\n"));
    assert_eq!(stdout(&r), "Пётр 🦀\r\nWS-001\r\nlab\\cauterize\r\n");
    assert_eq!(r.exit_code, 0);
}

#[test]
fn bootstrap_exits_1_when_the_last_statement_failed_and_honours_exit_and_throw() {
    let r = run_payload("LAB\\cauterize", &bootstrap::encode_payload("Write-Error 'x'"));
    assert_eq!(r.exit_code, 1);
    let r2 = run_payload("LAB\\cauterize", &bootstrap::encode_payload("Write-Error 'x'\nWrite-Output 'then fine'"));
    assert_eq!(r2.exit_code, 0, "a later successful statement resets $?");
    assert!(decoded_stderr(&r).contains(" : x"));
    assert_eq!(run_payload("LAB\\cauterize", &bootstrap::encode_payload("exit 7")).exit_code, 7);
    assert_eq!(run_payload("LAB\\cauterize", &bootstrap::encode_payload("throw 'no'")).exit_code, 1);
}

#[test]
fn garbage_stdin_is_a_powershell_error_with_exit_1() {
    let r = run_payload("LAB\\cauterize", b"this is not base64 !!!\r\n");
    assert_eq!(r.exit_code, 1);
    assert!(r.stdout.is_empty());
    let text = String::from_utf8_lossy(&r.stderr);
    assert!(text.starts_with("cauterize bootstrap: the payload could not be read:"), "{text}");
    assert!(text.contains("Exception calling \"FromBase64String\" with \"1\" argument(s)"), "{text}");
}

#[test]
fn unparsable_payload_is_reported_like_the_bootstrap_does() {
    let r = run_payload("LAB\\cauterize", &bootstrap::encode_payload("Write-Output 'oops"));
    let text = String::from_utf8_lossy(&r.stderr);
    assert!(text.contains("Exception calling \"Create\""), "{text}");
    assert!(text.contains("The string is missing the terminator: '."), "{text}");
    assert_eq!(r.exit_code, 1, "the bootstrap's catch exits 1");
}

/// A 100 kB payload with a long block comment runs whole. (How fast is a
/// benchmark's question, bench/lab-scan.sh, not a timed test's.)
#[test]
fn big_script_runs_whole() {
    let mut script = String::from("<#\n");
    script.push_str(&"a long block comment line that goes on and on\n".repeat(500));
    script.push_str("#>\n");
    for i in 0..4000 {
        script.push_str(&format!("# comment {i}\nWrite-Output 'line {i}'\n"));
    }
    assert!(script.len() > 100_000);
    let r = run_payload("LAB\\cauterize", &bootstrap::encode_payload(&script));
    assert_eq!(r.exit_code, 0);
    let out = stdout(&r);
    assert_eq!(out.lines().count(), 4000);
    assert!(out.ends_with("line 3999\r\n"));
}
