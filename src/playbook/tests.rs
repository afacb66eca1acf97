//! Playbook tests: the shipped default, settings, and located errors.

use super::*;

fn err(text: &str) -> LocatedError {
    parse(text, Path::new("pb.yml")).expect_err("expected an error")
}

#[test]
fn shipped_default_is_valid_and_conservative() {
    let p = Playbook::builtin();
    assert_eq!(p.activate, Confidence::High);
    assert_eq!(p.families.len(), FAMILY_NAMES.len());
    assert!(p.kill_processes && p.queue_locked_files && p.quarantine);
    assert!(p.exclude_hosts.is_empty() && p.exclude_paths.is_empty());
    assert_eq!(p.sha256.len(), 64);
}

#[test]
fn settings_are_read() {
    let p = parse(
        "playbook: 1\npurge:\n  activate: medium\n  families: [emotet, qakbot]\n  kill_processes: false\nexclude:\n  hosts: ['dc*']\n  paths: ['C:\\Tools\\**']\n",
        Path::new("pb.yml"),
    )
    .unwrap();
    assert_eq!(p.activate, Confidence::Medium);
    assert_eq!(
        p.families,
        [Family::Emotet, Family::Qakbot].into_iter().collect()
    );
    assert!(!p.kill_processes && p.queue_locked_files);
    assert_eq!(p.host_excluded("DC01"), Some("dc*"));
    assert_eq!(p.host_excluded("ws-001"), None);
    assert!(p.path_excluded(r"c:\tools\x\y.dll").is_some());
    assert!(p.path_excluded(r"C:\Users\bob\y.dll").is_none());
}

#[test]
fn errors_name_file_line_column_and_a_fix() {
    let e = err("playbook: 1\npurge:\n  activate: low\n");
    assert_eq!(e.at, Some((3, 13)), "{e}");
    assert!(
        e.to_string()
            .starts_with("pb.yml:3:13: `activate: low` is not accepted"),
        "{e}"
    );
    assert!(e.help.contains("activate: medium"));

    let e = err("playbook: 1\npurge:\n  families: [emotet, zeus]\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.message.contains("unknown family `zeus`"), "{e}");

    let e = err("playbook: 1\npurge:\n  kill_process: true\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.message.contains("unknown key `kill_process`"), "{e}");

    let e = err("playbook: 1\npurge:\n  kill_processes: yes\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.help.contains("true"), "{e}");

    let e = err("playbook: 2\n");
    assert!(e.message.contains("format 2"), "{e}");

    let e = err("purge:\n  activate: high\n");
    assert!(e.message.contains("missing key `playbook`"), "{e}");

    let e = err("# nothing\n");
    assert!(e.message.contains("empty"), "{e}");

    let e = err("playbook: 1\nexclude:\n  paths: ['**']\n");
    assert!(e.message.contains("excludes everything"), "{e}");
}

#[test]
fn later_phases_are_refused_not_ignored() {
    let e = err("playbook: 1\nreboot:\n  waves: [1, 10]\n");
    assert_eq!(e.line(), Some(2), "{e}");
    assert!(e.help.contains("later phase"), "{e}");
}

#[test]
fn anchors_are_refused() {
    let e = err("playbook: 1\npurge: &p\n  activate: high\nexclude: *p\n");
    assert!(
        e.message.contains("anchors") || e.message.contains("alias"),
        "{e}"
    );
}
