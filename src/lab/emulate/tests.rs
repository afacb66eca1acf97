//! End-to-end tests of command emulation through the public API, as the
//! WinRM endpoint calls it.

use super::*;
use crate::lab::spec::{Account, HostFault, OsInfo};
use std::net::Ipv4Addr;
use std::time::Duration;

pub(crate) fn host() -> HostSpec {
    HostSpec {
        name: "WS-001".into(),
        address: Ipv4Addr::new(127, 40, 0, 1),
        port: 5985,
        domain: "LAB".into(),
        os: OsInfo {
            caption: "Microsoft Windows 10 Enterprise".into(),
            build: "19045".into(),
            ps_version: "5.1.19041.1".into(),
        },
        accounts: vec![
            Account { domain: "LAB".into(), user: "cauterize".into(), password: "pw".into(), admin: true },
            Account { domain: "".into(), user: "Пётр".into(), password: "pw".into(), admin: false },
        ],
        allow_unencrypted: false,
        allow_basic: false,
        https: false,
        max_shells_per_user: 30,
        latency: Duration::ZERO,
        clock_skew_secs: 300,
        fault: HostFault::None,
    }
}

/// Run on the host with a fresh clean Windows state.
pub(crate) fn exec(host: &HostSpec, request: &CommandRequest<'_>) -> CommandResult {
    exec_scheduling(host, request, &mut None)
}

/// [`exec`] on a host with this shutdown scheduled (which the command may
/// change), at the lab's start.
pub(crate) fn exec_scheduling(host: &HostSpec, request: &CommandRequest<'_>, shutdown: &mut Option<Shutdown>) -> CommandResult {
    use crate::lab::spec::{HostWorld, LabSettings};
    let lab = LabSettings::default();
    let mut world = crate::lab::network::build::host_state(host, &HostWorld::derived(host, 0), &lab, lab.start);
    execute(&mut Target { host, world: &mut world, shutdown, now: lab.start }, request)
}

/// A script as `-EncodedCommand` takes it: base64 of its UTF-16LE.
pub(crate) fn encoded(script: &str) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn run_ps(script: &str) -> CommandResult {
    let args = vec!["-NoProfile".to_string(), "-EncodedCommand".to_string(), encoded(script)];
    exec(&host(), &CommandRequest { command: "powershell.exe", args: &args, user: "LAB\\cauterize", stdin: b"" })
}

fn run_cmd(command: &str, args: &[&str]) -> CommandResult {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    exec(&host(), &CommandRequest { command, args: &args, user: "LAB\\cauterize", stdin: b"" })
}

pub(crate) fn stdout(r: &CommandResult) -> String {
    String::from_utf8(r.stdout.clone()).unwrap_or_else(|e| panic!("stdout is not UTF-8: {e}"))
}

/// Stderr as a person reads it, decoded by winrm-rs's CLIXML decoder.
pub(crate) fn decoded_stderr(r: &CommandResult) -> String {
    let mut decoder = winrm_rs::StderrDecoder::new();
    let mut out = decoder.push(&r.stderr);
    out.extend(decoder.finish());
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn non_ascii_output_round_trips() {
    let r = run_ps("Write-Output 'Пётр 🦀'");
    assert_eq!(stdout(&r), "Пётр 🦀\r\n");
    assert_eq!(r.exit_code, 0);
    assert!(r.stderr.is_empty());
}

#[test]
fn unknown_command_is_clixml_that_decodes_to_the_real_message_and_the_script_goes_on() {
    let r = run_ps("Get-Nothing -Now\nWrite-Output 'after'");
    assert_eq!(stdout(&r), "after\r\n");
    assert_eq!(r.exit_code, 0, "the last statement succeeded");
    let raw = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(raw.starts_with("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">"), "{raw}");
    assert!(raw.ends_with("</Objs>"));
    let text = decoded_stderr(&r);
    let joined = text.replace("\r\n", "\n");
    assert!(
        joined.contains(
            "Get-Nothing : The term 'Get-Nothing' is not recognized as the name of a cmdlet, function, script file, or \
             operable \nprogram. Check the spelling"
        ) || text.contains("Get-Nothing : The term 'Get-Nothing' is not recognized"),
        "{text}"
    );
    assert!(text.contains("verify that the path is correct and try again."), "{text}");
    assert!(text.contains("At line:1 char:1\r\n+ Get-Nothing -Now\r\n+ ~~~~~~~~~~~\r\n"), "{text}");
    assert!(text.contains("    + CategoryInfo          : ObjectNotFound: (Get-Nothing:String) [], CommandNotFoundException"), "{text}");
    assert!(text.contains("    + FullyQualifiedErrorId : CommandNotFoundException"), "{text}");
    assert!(!text.contains("_x000D_") && !text.contains("<S"), "{text}");
}

#[test]
fn exit_code_follows_the_last_statement_and_explicit_exit() {
    assert_eq!(run_ps("Write-Output 1; nope").exit_code, 1);
    assert_eq!(run_ps("nope; Write-Output 1").exit_code, 0);
    assert_eq!(run_ps("Write-Error 'bad'").exit_code, 1);
    assert_eq!(run_ps("exit 3").exit_code, 3);
    assert_eq!(run_ps("exit -2").exit_code, -2);
    assert_eq!(run_ps("nope; exit 0").exit_code, 0);
    assert_eq!(run_ps("exit").exit_code, 0);
    let r = run_ps("Write-Output a; exit 4; Write-Output b");
    assert_eq!((stdout(&r).as_str(), r.exit_code), ("a\r\n", 4));
}

#[test]
fn throw_stops_the_script_with_exit_1() {
    let r = run_ps("Write-Output before\nthrow 'it broke'\nWrite-Output after");
    assert_eq!(stdout(&r), "before\r\n");
    assert_eq!(r.exit_code, 1);
    let text = decoded_stderr(&r);
    assert!(text.starts_with("it broke\r\nAt line:2 char:1\r\n+ throw 'it broke'\r\n"), "{text}");
    assert!(text.contains("OperationStopped: (it broke:String) [], RuntimeException"), "{text}");
}

#[test]
fn write_error_is_prefixed_with_the_script_text_like_powershell() {
    let r = run_ps("Write-Error 'boom'; 'after'");
    assert_eq!(stdout(&r), "after\r\n");
    let text = decoded_stderr(&r);
    assert!(text.starts_with("Write-Error 'boom'; 'after' : boom\r\n"), "{text}");
    assert!(text.contains("NotSpecified: (:) [Write-Error], WriteErrorException"));
}

#[test]
fn console_error_is_raw_stderr() {
    let r = run_ps("[Console]::Error.WriteLine('raw é'); [Console]::Out.WriteLine('out')");
    assert_eq!(r.stderr, "raw é\r\n".as_bytes());
    assert_eq!(stdout(&r), "out\r\n");
    assert_eq!(r.exit_code, 0);
}

#[test]
fn raw_stderr_between_records_keeps_powershell_5_order() {
    let r = run_ps("nope\n[Console]::Error.WriteLine('raw')");
    let raw = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(raw.starts_with("#< CLIXML\r\nraw\r\n<Objs"), "{raw}");
    let text = decoded_stderr(&r);
    assert!(text.starts_with("raw\r\nnope : The term"), "{text}");
}

#[test]
fn comments_are_ignored() {
    let r = run_ps("# a comment; Write-Output no\n<# block\nWrite-Output no\n#>\nWrite-Output yes # trailing\nWrite-Output 'a # b' <# inline #> 'c'");
    assert_eq!(stdout(&r), "yes\r\na # b\r\nc\r\n");
    assert!(r.stderr.is_empty(), "{}", decoded_stderr(&r));
}

#[test]
fn quoting_edge_cases() {
    let r = run_ps(concat!(
        "'it''s'\n",
        "\"say \"\"hi\"\"\"\n",
        "\"tab`tx `\"q`\" `$env:USERNAME\"\n",
        "\"me: $env:USERNAME@$env:COMPUTERNAME\"\n",
        "'no $env:USERNAME `n here'\n",
        "Write-Output a'b'\"c\"\n",
        "echo x,y\n",
        "Write-Host 'p' 'q' -Separator '-'\n",
        "Write-Host -NoNewline 'r'; Write-Host 's'\n",
        "Write-Output -5 0x10 1.50 007\n",
        "Write-Output `\n  'continued'\n",
        "''\n",
    ));
    assert_eq!(
        stdout(&r),
        concat!(
            "it's\r\n",
            "say \"hi\"\r\n",
            "tab\tx \"q\" $env:USERNAME\r\n",
            "me: cauterize@WS-001\r\n",
            "no $env:USERNAME `n here\r\n",
            "abc\r\n",
            "x\r\ny\r\n",
            "p-q\r\n",
            "rs\r\n",
            "-5\r\n16\r\n1.5\r\n7\r\n",
            "continued\r\n",
            "\r\n",
        )
    );
    assert!(r.stderr.is_empty(), "{}", decoded_stderr(&r));
}

#[test]
fn unterminated_string_is_a_parse_error_and_nothing_runs() {
    let r = run_ps("Write-Output 'first'\nWrite-Output 'oops");
    assert!(r.stdout.is_empty());
    assert_eq!(r.exit_code, 1);
    let text = decoded_stderr(&r);
    assert!(text.contains("At line:2 char:14"), "{text}");
    assert!(text.contains("The string is missing the terminator: '."), "{text}");
    assert!(text.contains("FullyQualifiedErrorId : TerminatorExpectedAtEndOfString"), "{text}");
}

#[test]
fn host_facts_and_versions() {
    let r = run_ps(concat!(
        "hostname; whoami; $env:COMPUTERNAME; $env:USERNAME; [Environment]::MachineName\n",
        "$PSVersionTable.PSVersion.ToString(); $PSVersionTable.PSVersion.Major\n",
        "$PSVersionTable.PSVersion\n",
    ));
    assert_eq!(
        stdout(&r),
        concat!(
            "WS-001\r\nlab\\cauterize\r\nWS-001\r\ncauterize\r\nWS-001\r\n",
            "5.1.19041.1\r\n5\r\n",
            "\r\nMajor  Minor  Build  Revision\r\n-----  -----  -----  --------\r\n5      1      19041  1\r\n\r\n\r\n",
        )
    );
    assert!(r.stderr.is_empty(), "{}", decoded_stderr(&r));
}

#[test]
fn start_sleep_is_accepted_without_waiting() {
    let started = std::time::Instant::now();
    let r = run_ps("Start-Sleep -Seconds 30; Start-Sleep 5; Start-Sleep -m 100; Write-Output done");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stdout(&r), "done\r\n");
    assert!(r.stderr.is_empty(), "{}", decoded_stderr(&r));
    let bad = run_ps("Start-Sleep -Seconds soon");
    assert_eq!(bad.exit_code, 1);
    assert!(decoded_stderr(&bad).contains("Cannot bind parameter 'Seconds'"));
}

#[test]
fn what_the_engine_does_not_do_it_says_so_instead_of_pretending() {
    for script in ["class Foo { }", "'x' > C:\\out.txt", "workflow W { }"] {
        let r = run_ps(script);
        assert_eq!(r.exit_code, 1, "{script}");
        assert!(r.stdout.is_empty(), "{script}");
        assert!(decoded_stderr(&r).contains("does not support"), "{script}: {}", decoded_stderr(&r));
    }
}

#[test]
fn unknown_parameter_is_a_binding_error() {
    let r = run_ps("Write-Output -Bogus 1");
    assert_eq!(r.exit_code, 1);
    let text = decoded_stderr(&r);
    assert!(text.contains("Write-Output : A parameter cannot be found that matches parameter name 'Bogus'."), "{text}");
}

#[test]
fn cmd_level_commands_as_pywinrm_sends_them() {
    assert_eq!(stdout(&run_cmd("hostname", &[])), "WS-001\r\n");
    assert_eq!(stdout(&run_cmd("whoami", &[])), "lab\\cauterize\r\n");
    assert_eq!(stdout(&run_cmd("echo", &["hi"])), "hi\r\n");
    assert_eq!(stdout(&run_cmd("echo hi", &[])), "hi\r\n");
    assert_eq!(run_cmd("exit", &["/b", "3"]).exit_code, 3);
    assert_eq!(run_cmd("cmd", &["/c", "exit", "5"]).exit_code, 5);
    let r = run_cmd("ipconfig", &[]);
    assert_eq!(r.exit_code, 1);
    assert!(r.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&r.stderr),
        "'ipconfig' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"
    );
    // cmd /c into PowerShell.
    let b64 = encoded("Write-Output ok");
    assert_eq!(stdout(&run_cmd("cmd", &["/c", "powershell", "-enc", &b64])), "ok\r\n");
}

#[test]
fn bad_encoded_command_is_refused() {
    let r = run_cmd("powershell", &["-EncodedCommand", "not-base64!"]);
    assert_eq!(r.exit_code, 1);
    assert!(String::from_utf8_lossy(&r.stderr).contains("EncodedCommand"));
}

/// A tiny deterministic generator, so the hostile-input test needs no
/// extra crate and fails the same way every time.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn hostile_scripts_never_panic() {
    let alphabet: Vec<char> = "$`'\"#<>(){}[];,.:|&=-_ \n\raZ0x9é🦀\u{2018}\u{201C}@".chars().collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..3000 {
        let len = (next(&mut seed) % 40) as usize;
        let script: String = (0..len).map(|_| alphabet[(next(&mut seed) % alphabet.len() as u64) as usize]).collect();
        let r = run_ps(&script);
        assert!(String::from_utf8(r.stdout).is_ok());
    }
    for line in ["cmd /c", "cmd /c cmd /c cmd /c cmd /c cmd /c cmd /c cmd /c cmd /c cmd /c cmd /c exit 3", "\"", "", "   ", "echo.", "exit /b x"] {
        let _ = run_cmd(line, &[]);
    }
}

#[test]
fn command_dash_reads_the_script_from_stdin_as_ansible_pipelining_does() {
    let args: Vec<String> = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Unrestricted", "-Command", "-"]
        .iter().map(|s| s.to_string()).collect();
    assert!(super::wants_stdin("PowerShell", &args));
    let host = crate::lab::scenario::simple(1, std::net::Ipv4Addr::new(127, 0, 0, 9), 5985).hosts.remove(0);
    let request = super::CommandRequest { command: "PowerShell", args: &args, user: "LAB\\cauterize", stdin: b"hostname\r\n" };
    let r = exec(&host, &request);
    assert_eq!(String::from_utf8_lossy(&r.stdout), "WS-001\r\n");
    assert_eq!(r.exit_code, 0);
}

#[test]
fn ansible_raw_command_line_is_recognised_with_arguments_in_one_element() {
    // pywinrm (under Ansible) sends every argument joined in one rsp:Arguments.
    let args = vec!["-NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand aABvAHMAdABuAGEAbQBlAA==".to_string()];
    let host = crate::lab::scenario::simple(1, std::net::Ipv4Addr::new(127, 0, 0, 9), 5985).hosts.remove(0);
    let request = super::CommandRequest { command: "PowerShell", args: &args, user: "LAB\\cauterize", stdin: b"" };
    let r = exec(&host, &request);
    assert_eq!(String::from_utf8_lossy(&r.stdout), "WS-001\r\n", "{}", String::from_utf8_lossy(&r.stderr));
}
