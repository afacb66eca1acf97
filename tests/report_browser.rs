//! `cauterize report` as a person sees it: the real binary writes the page
//! from a journal built through the library's journal API (an operation
//! with a host purged, rebooted and verified, hosts named by an attacker,
//! and a late host that `watch` polled and took in), and headless Chromium (Debian's `chromium`) opens it:
//! `--dump-dom` gives the document after the browser ran whatever it would
//! run, `--screenshot` what is drawn. Without Chromium the tests skip with
//! a message, except under CI=true, where they fail. No network, no lab:
//! nothing is bound.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cauterize::detect::{ArtifactRef, Evidence, Family, Finding, Grounds};
use cauterize::engine::{Event, HostState, Phase};
use cauterize::journal::operation::{ActionStart, HostStateChange, NewOperation, OperationHostSeed};
use cauterize::journal::{Journal, ScanResult};
use cauterize::runtime::snapshot::Snapshot;

/// A host name that would run script if it were markup.
const EVIL_HOST: &str = "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">";
/// Task names that would run script if they were markup.
const ALERT_TASK: &str = "\\<script>alert(1)</script>";
const TITLE_TASK: &str = "\\<script>document.title='pwned'</script>";

/// Chromium, or `None` after saying why (a failure under CI=true).
fn chromium(test: &str) -> Option<PathBuf> {
    for candidate in ["chromium", "chromium-browser"] {
        if let Ok(out) = Command::new(candidate).arg("--version").stdin(Stdio::null()).output()
            && out.status.success()
        {
            return Some(PathBuf::from(candidate));
        }
    }
    common::peers::skip_or_fail(test, "no chromium on PATH (scripts/test installs Debian's `chromium`)")
}

/// This test's own folder under Cargo's temp folder for integration tests
/// (kept after the run, so the screenshot can be looked at).
fn work_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_browser").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test folder");
    dir
}

/// Run headless Chromium on `page` with `args` (bounded: 2 minutes);
/// returns stdout.
fn browse(chromium: &Path, profile: &Path, page: &Path, args: &[&str]) -> String {
    let url = format!("file://{}", page.canonicalize().expect("page exists").display());
    let mut child = Command::new(chromium)
        .args(["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions"])
        // Time for anything the page would run (an onerror, a timer).
        .arg("--virtual-time-budget=3000")
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 2 minutes on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().expect("reader").expect("chromium's output is UTF-8")
}

fn finding(host: &str, task: &str, reason: String) -> Finding {
    // A task's documented registry artifact and a launch of a known
    // payload: high by the standard.
    Finding::new(
        host,
        ArtifactRef::Task { path: task.into() },
        Family::Emotet,
        "EMO-TASK-TEST",
        Grounds::of(&[Evidence::RegistryArtifact, Evidence::PayloadLaunch]),
        vec![reason],
        vec![],
    )
}

fn moved(j: &mut Journal, (op, run): (i64, i64), host: &str, state: HostState, contained: bool) {
    let event = Event::HostState {
        host: host.into(),
        state,
        reason: None,
        round: 0,
        contained,
    };
    j.set_host_state(
        op,
        run,
        &HostStateChange {
            host,
            state: state.as_str(),
            reason: None,
            round: 0,
            contained,
            event: &event.to_json(),
        },
    )
    .expect("state recorded");
    // Moves a little apart, so the timeline has steps to draw.
    std::thread::sleep(Duration::from_millis(30));
}

fn action(j: &mut Journal, (op, run): (i64, i64), host: &str, key: &str, sent: &str, outcome: &str, detail: &str) {
    j.operation_action_begun(
        op,
        run,
        &ActionStart {
            host,
            phase: key.split('/').next().unwrap_or(key),
            key,
            plan_op: None,
            op: sent,
        },
    )
    .expect("action begun");
    j.operation_action_ended(op, host, key, outcome, detail).expect("action ended");
}

/// A poll of `host` by `watch`, as its run journals it.
fn polled(j: &mut Journal, (op, run): (i64, i64), host: &str, what: &str) {
    let event = Event::Observed { host: Some(host.into()), phase: Phase::Contain, what: what.into() };
    j.operation_event(op, run, Some(host), cauterize::journal::Level::Info, event.kind(), &event.to_json()).expect("poll recorded");
    std::thread::sleep(Duration::from_millis(30));
}

/// An engagement folder whose journal holds one operation: WS-001 purged
/// (a file deleted, one queued for boot), rebooted and verified clean;
/// the hostile host's task could not be deleted; WS-003 unreached, and
/// polled by `watch` (not answered); WS-004 unreached, then polled by
/// `watch` until it answered, taken in and verified clean.
fn engagement(dir: &Path) {
    let mut j = Journal::open(dir).expect("journal");
    let run = j.begin_run("apply", &["cauterize".into(), "apply".into(), "plan.yml".into()]).expect("run");
    let lone = cauterize::runtime::host_text::from_units(&[0x61, 0xD800, 0x62]);
    let evil_findings = [
        finding(EVIL_HOST, ALERT_TASK, format!("runs \"regsvr32\" 'x'\nfrom a user folder {lone}")),
        finding(EVIL_HOST, TITLE_TASK, "hidden task".into()),
    ];
    let snapshot = Snapshot::default();
    j.record_scan(run, EVIL_HOST, "127.0.0.2", 5, ScanResult::Collected { snapshot: &snapshot, findings: &evil_findings })
        .expect("scan");
    let ws1 = [finding("WS-001", r"\Microsoft\Windows\Updater", "runs rundll32 on a DLL in AppData".into())];
    j.record_scan(run, "WS-001", "127.0.0.1", 5, ScanResult::Collected { snapshot: &snapshot, findings: &ws1 })
        .expect("scan");
    let seed = |host: &str, address: &str| OperationHostSeed {
        host: host.into(),
        address: address.into(),
        role: "workstation".into(),
        state: "pending".into(),
        reason: None,
    };
    let op = j
        .begin_operation(&NewOperation {
            command: "apply".into(),
            plan_id: None,
            plan_sha256: Some("12".repeat(32)),
            playbook_sha256: Some("34".repeat(32)),
            settings: "{}".into(),
            run,
            hosts: vec![seed("WS-001", "127.0.0.1"), seed(EVIL_HOST, "127.0.0.2"), seed("WS-003", "127.0.0.3"), seed("WS-004", "127.0.0.4")],
            ops: vec![],
        })
        .expect("operation");
    let ids = (op, run);
    action(&mut j, ids, "WS-001", "contain", "contain", "done", "");
    moved(&mut j, ids, "WS-001", HostState::Contained, true);
    action(&mut j, ids, EVIL_HOST, "contain", "contain", "done", "");
    moved(&mut j, ids, EVIL_HOST, HostState::Contained, true);
    moved(&mut j, ids, "WS-003", HostState::Unreached, false);
    moved(&mut j, ids, "WS-004", HostState::Unreached, false);
    let delete = serde_json::json!({"op": "delete_file", "path": r"C:\Users\bob\AppData\Local\x.dll", "expected_sha256": "ab".repeat(32)});
    let queue = serde_json::json!({"op": "queue_delete_on_reboot", "path": r"C:\Users\bob\AppData\Local\y.dll", "expected_sha256": "cd".repeat(32)});
    let evidence = serde_json::json!({"archive": "/case/evidence/WS-001/r0.zip", "secured": [r"c:\users\bob\appdata\local\x.dll"], "problems": []});
    action(&mut j, ids, "WS-001", "purge/r0/evidence", "[]", "done", &evidence.to_string());
    action(&mut j, ids, "WS-001", "purge/r0/op/1", &delete.to_string(), "done", "");
    action(&mut j, ids, "WS-001", "purge/r0/op/2", &queue.to_string(), "queued", "in use: goes at the next boot");
    moved(&mut j, ids, "WS-001", HostState::Purged, true);
    for (i, task) in [ALERT_TASK, TITLE_TASK].iter().enumerate() {
        let sent = serde_json::json!({"op": "delete_task", "path": task, "expected_actions": []});
        action(&mut j, ids, EVIL_HOST, &format!("purge/r0/op/{}", 10 + i), &sent.to_string(), "failed", &format!("access denied <b>{task}</b>"));
    }
    moved(&mut j, ids, EVIL_HOST, HostState::PurgeFailed, true);
    action(&mut j, ids, "WS-001", "reboot/r0/ask", "shutdown /r", "done", "");
    moved(&mut j, ids, "WS-001", HostState::RebootAsked, true);
    moved(&mut j, ids, "WS-001", HostState::Rebooted, true);
    action(&mut j, ids, "WS-001", "verify/r0/scan", "scan", "done", "nothing actionable found");
    moved(&mut j, ids, "WS-001", HostState::Clean, true);
    j.end_operation(op, "finished", 2, None).expect("end");
    j.end_run(run, 2).expect("end run");

    // Later, `watch`: WS-003 never answers (its error text is the host's
    // WinRM answer: hostile); WS-004 answers at its third poll and is
    // taken in.
    let watch = j.begin_run("watch", &["cauterize".into(), "watch".into()]).expect("watch run");
    j.attach_run(op, watch).expect("attached");
    let ids = (op, watch);
    for n in 1..=2 {
        polled(&mut j, ids, "WS-003", &format!("watch: poll {n} not answered (<b>refused</b> <script>alert(5)</script>); next poll in 1s"));
        polled(&mut j, ids, "WS-004", &format!("watch: poll {n} not answered (connection refused); next poll in 1s"));
    }
    polled(&mut j, ids, "WS-004", "watch: poll 3 answered (booted 2026-01-01T00:00:00Z): taking it into the operation");
    action(&mut j, ids, "WS-004", "contain", "contain", "done", "");
    moved(&mut j, ids, "WS-004", HostState::Contained, true);
    moved(&mut j, ids, "WS-004", HostState::Clean, true);
    j.end_run(watch, 2).expect("end watch run");
}

/// The text of the element with `id` in a dumped DOM (`<... id="x" ...>TEXT<`).
fn element_text<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let after = dom.split(&format!("id=\"{id}\"")).nth(1)?;
    after.split_once('>')?.1.split('<').next()
}

fn report(dir: &Path, extra: &[&str]) -> common::harness::Run {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let engagement = dir.display().to_string();
    let mut args = vec!["report", "--engagement", engagement.as_str()];
    args.extend_from_slice(extra);
    rt.block_on(common::harness::run(&args))
}

#[test]
fn a_person_sees_the_counts_the_timeline_and_each_host() {
    let test = "a_person_sees_the_counts_the_timeline_and_each_host";
    let Some(chromium) = chromium(test) else { return };
    let dir = work_dir(test);
    engagement(&dir);
    let page = dir.join("report.html");
    let r = report(&dir, &["-o", page.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("4 host(s)"), "{}", r.stderr);

    let dom = browse(&chromium, &dir.join("profile"), &page, &["--dump-dom"]);
    assert!(dom.contains("<svg id=\"timeline-chart\""), "the timeline is in the document:\n{dom}");
    for series in ["contained", "infected", "rebooting", "verified"] {
        assert!(dom.contains(&format!("id=\"series-{series}\"")), "{series} drawn");
    }
    for (id, n) in [("hosts", "4"), ("infected", "2"), ("contained", "3"), ("removed", "2"), ("queued", "1"), ("rebooted", "1"), ("verified", "2"), ("held", "2"), ("not-done", "2")] {
        assert_eq!(element_text(&dom, &format!("count-{id}")), Some(n), "count {id}");
    }
    assert_eq!(dom.matches("<details id=\"host-").count(), 4, "one detail per host");
    // Hosts are in name order: `<img...` sorts first; it holds the
    // release, so its detail is open; WS-001's is closed, with a summary.
    assert!(dom.contains("<details id=\"host-1\" class=\"host held\" open=\"\">"), "{dom}");
    assert!(dom.contains("<details id=\"host-2\" class=\"host\"><summary>WS-001"), "{dom}");
    assert!(dom.contains("ZIP <span class=\"mono\">/case/evidence/WS-001/r0.zip</span>"));

    // watch's polls: listed in each watched host's detail, and drawn in
    // the picture (a row per watched host, a mark per poll, the moment
    // WS-004 was taken in).
    assert!(dom.contains("<h3>Polled by watch (3, 1 answered)</h3>"), "WS-004's polls:\n{dom}");
    assert!(dom.contains("<h3>Polled by watch (2, 0 answered)</h3>"), "WS-003's polls:\n{dom}");
    let svg = dom.split("<svg id=\"timeline-chart\"").nth(1).expect("the picture").split("</svg>").next().unwrap();
    assert_eq!(svg.matches("class=\"poll-missed\"").count(), 4, "{svg}");
    assert_eq!(svg.matches("class=\"poll-answered\"").count(), 1, "{svg}");
    assert_eq!(svg.matches("class=\"taken-in\"").count(), 1, "{svg}");
    assert!(svg.contains(">WS-003</text>") && svg.contains(">WS-004</text>"), "a row per watched host:\n{svg}");
    assert!(svg.contains("hollow: not answered, 4; filled: answered and taken in, 1"), "{svg}");

    let shot = dir.join("report.png");
    browse(&chromium, &dir.join("profile"), &page, &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2000"]);
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "a PNG of the page ({} bytes)", png.len());
    println!("screenshot of the report: {}", shot.display());
}

#[test]
fn hostile_names_show_as_text_and_run_nothing() {
    let test = "hostile_names_show_as_text_and_run_nothing";
    let Some(chromium) = chromium(test) else { return };
    let dir = work_dir(test);
    let profile = dir.join("profile");

    // The control: this browser, run this way, does run a page's script
    // (so a page that ran nothing is not a browser that runs nothing).
    let control = dir.join("control.html");
    std::fs::write(&control, "<!DOCTYPE html><html><head><title>before</title></head><body><script>document.title='ran';document.body.setAttribute('data-pwned','control')</script></body></html>").unwrap();
    let dom = browse(&chromium, &profile, &control, &["--dump-dom"]);
    assert!(dom.contains("<title>ran</title>") && dom.contains("data-pwned=\"control\""), "{dom}");

    engagement(&dir);
    let page = dir.join("report.html");
    let r = report(&dir, &["-o", page.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dom = browse(&chromium, &profile, &page, &["--dump-dom"]);
    assert!(dom.contains("<title>cauterize report: operation 1 (apply)</title>"), "the title is the page's own:\n{dom}");
    assert!(!dom.contains("data-pwned=\""), "no hostile handler ran:\n{dom}");
    assert!(!dom.to_lowercase().contains("<script"), "no script element:\n{dom}");
    assert!(!dom.contains("<img"), "no image element:\n{dom}");
    assert!(!dom.contains("<b>"), "no markup from a host's error text:\n{dom}");
    // What the attacker wrote is shown, as text.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{dom}");
    assert!(dom.contains("&lt;img src=x onerror=\"document.body.setAttribute('data-pwned','img')\"&gt;"), "{dom}");
    assert!(dom.contains("access denied &lt;b&gt;"), "{dom}");
    assert!(dom.contains("not answered (&lt;b&gt;refused&lt;/b&gt; &lt;script&gt;alert(5)&lt;/script&gt;)"), "a poll's error text:\n{dom}");
    assert!(dom.contains("runs \"regsvr32\" 'x'\nfrom a user folder a\\u{D800}b"), "{dom}");

    // Even markup that slipped through would not run: the page's
    // Content-Security-Policy allows no script.
    let html = std::fs::read_to_string(&page).unwrap();
    let injected = dir.join("injected.html");
    std::fs::write(
        &injected,
        html.replacen("<body>", "<body><script>document.title='pwned'</script><img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">", 1),
    )
    .unwrap();
    let dom = browse(&chromium, &profile, &injected, &["--dump-dom"]);
    assert!(dom.contains("<script>document.title='pwned'</script>"), "the injection is in the document");
    assert!(dom.contains("<title>cauterize report: operation 1 (apply)</title>"), "its script did not run:\n{dom}");
    assert!(!dom.contains("data-pwned=\""), "its handler did not run:\n{dom}");
}

#[test]
fn json_carries_the_same_content() {
    let dir = work_dir("json_carries_the_same_content");
    engagement(&dir);
    let r = report(&dir, &["--format", "json", "-o", "-"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON object");
    assert_eq!(v["summary"]["hosts"], 4);
    assert_eq!(v["summary"]["verified"], 2);
    assert_eq!(v["timeline"]["polls"].as_array().unwrap().len(), 5, "{}", v["timeline"]);
    let late = v["hosts"].as_array().unwrap().iter().find(|h| h["status"]["host"] == "WS-004").expect("the late host");
    assert_eq!(late["polls"][2]["answered"], true);
    assert_eq!(late["polls"][2]["number"], 3);
    assert_eq!(v["status"]["operation"]["playbook_sha256"], "34".repeat(32));
    assert_eq!(v["runs"][0]["command"], "apply");
    let evil = v["hosts"].as_array().unwrap().iter().find(|h| h["status"]["host"] == EVIL_HOST).expect("the hostile host");
    assert_eq!(evil["found"][0]["what"], format!("scheduled task {ALERT_TASK}"));
    assert!(v["timeline"]["points"].as_array().unwrap().len() >= 5, "{}", v["timeline"]);
    // The default file is in the engagement folder.
    let r = report(&dir, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::read_to_string(dir.join("report.html")).unwrap().starts_with("<!DOCTYPE html>"));
}

#[test]
fn an_engagement_without_an_operation_is_refused_with_what_to_do() {
    let dir = work_dir("an_engagement_without_an_operation_is_refused_with_what_to_do");
    let r = report(&dir, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("holds no journal"), "{}", r.stderr);
    {
        let mut j = Journal::open(&dir).expect("journal");
        j.begin_run("scan", &[]).expect("run");
    }
    let r = report(&dir, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("holds no operation yet") && r.stderr.contains("cauterize run"), "{}", r.stderr);
}
