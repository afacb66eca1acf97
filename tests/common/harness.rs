//! The integration-test harness (ripgrep-style): start a lab in the test
#![allow(dead_code)] // each test crate uses part of the harness
//! process, write its inventory, run the real `cauterize` binary against it,
//! and read what it printed. Ground truth comes from the lab's library API.

use cauterize::lab::{self, Lab, LabSpec, WorldSpec};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A running lab plus the inventory file that reaches it.
pub struct LabRun {
    pub lab: Lab,
    pub dir: tempfile::TempDir,
    pub inventory: PathBuf,
}

impl LabRun {
    /// Start `spec` and write its inventory into a fresh temporary folder.
    pub async fn start(spec: LabSpec) -> LabRun {
        let inventory_spec = spec.clone();
        Self::start_with_inventory(spec, &inventory_spec).await
    }

    /// Start `spec`, but write the inventory the operator believes in:
    /// `inventory_spec` (so a host whose password was changed in the lab
    /// is reached with the old one and fails authentication).
    pub async fn start_with_inventory(spec: LabSpec, inventory_spec: &LabSpec) -> LabRun {
        raise_fd_limit();
        let lab = Lab::start(spec).await.expect("lab starts");
        Self::around(lab, inventory_spec)
    }

    /// Start `spec` as the simulated network `world` describes (reboot
    /// times, infections, lab speed), and write its inventory.
    pub async fn start_world(spec: LabSpec, world: WorldSpec) -> LabRun {
        raise_fd_limit();
        let inventory_spec = spec.clone();
        let lab = Lab::start_world(spec, world).await.expect("lab starts");
        Self::around(lab, &inventory_spec)
    }

    /// A fresh temporary folder with the inventory of `inventory_spec`,
    /// around a running `lab`.
    fn around(lab: Lab, inventory_spec: &LabSpec) -> LabRun {
        let dir = tempfile::tempdir().expect("temp dir");
        let inventory = dir.path().join("inventory.yml");
        std::fs::write(&inventory, lab::inventory_out::inventory_yaml(inventory_spec)).expect("write inventory");
        LabRun { lab, dir, inventory }
    }

    /// Write another file next to the inventory and return its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// `cauterize <args>` with `-i <inventory>` inserted after the command.
    pub async fn cauterize(&self, command: &str, args: &[&str]) -> Run {
        self.cauterize_within(RUN_LIMIT, command, args).await
    }

    /// [`LabRun::cauterize`], bounded by `limit` instead of [`RUN_LIMIT`].
    pub async fn cauterize_within(&self, limit: Duration, command: &str, args: &[&str]) -> Run {
        let inv = self.inventory.display().to_string();
        let mut all = vec![command, "-i", inv.as_str()];
        all.extend_from_slice(args);
        run_within(limit, &all).await
    }

    /// `cauterize plan` of engagement `eng` with a playbook of this text,
    /// written to `plan.yml` in the run's folder: the run (exit 0 or 2
    /// asserted) and the plan file's text.
    pub async fn plan_with_playbook(&self, eng: &str, playbook: &str) -> (Run, String) {
        let plan_path = self.dir.path().join("plan.yml");
        let playbook_path = self.dir.path().join("playbook.yml");
        std::fs::write(&playbook_path, playbook).expect("playbook");
        let out = self
            .cauterize(
                "plan",
                &["--engagement", eng, "-o", &plan_path.display().to_string(), "-p", &playbook_path.display().to_string(), "--no-progress"],
            )
            .await;
        assert!(matches!(out.code, 0 | 2), "plan: {}\n{}", out.code, out.stderr);
        let text = std::fs::read_to_string(&plan_path).expect("plan written");
        (out, text)
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// stdout parsed as JSON lines (one object per host).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nstderr: {}", self.stderr)))
            .collect()
    }

    /// The phases an `apply --json` finished without carrying out (their
    /// `phase_finished` event says `not_available`).
    pub fn phases_not_available(&self) -> Vec<String> {
        self.json_lines()
            .iter()
            .filter(|e| e["event"] == "phase_finished" && !e["not_available"].is_null())
            .map(|e| e["phase"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The JSON line of one host, by inventory name.
    pub fn host(&self, name: &str) -> serde_json::Value {
        self.json_lines()
            .into_iter()
            .find(|v| v["host"] == name)
            .unwrap_or_else(|| panic!("no JSON line for {name}\nstdout: {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Path of the binary under test.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cauterize"))
}

/// How long one run of the binary may take in a test.
pub const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Run `cauterize args...` to completion (bounded: [`RUN_LIMIT`]).
pub async fn run(args: &[&str]) -> Run {
    run_within(RUN_LIMIT, args).await
}

/// Run `cauterize args...` to completion, bounded by `limit`.
pub async fn run_within(limit: Duration, args: &[&str]) -> Run {
    let started = Instant::now();
    let child = tokio::process::Command::new(bin())
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(limit, child)
        .await
        .unwrap_or_else(|_| panic!("cauterize {} did not finish within {limit:?}", args.first().copied().unwrap_or_default()))
        .expect("cauterize started");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// `cauterize args...` started in the background (stdin and stdout
/// closed), its progress (plain lines on stderr) read until a line holds
/// `needle`, within `within`: the running child (killed when dropped), the
/// rest of its stderr, and the lines read so far.
pub async fn start_until(
    args: &[&str],
    needle: &str,
    within: Duration,
) -> (tokio::process::Child, tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>, Vec<String>) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(bin())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cauterize starts");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut said = Vec::new();
    let started = Instant::now();
    loop {
        let line = tokio::time::timeout(within.saturating_sub(started.elapsed()), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("never said `{needle}`:\n{}", said.join("\n")))
            .expect("stderr reads")
            .unwrap_or_else(|| panic!("ended without saying `{needle}`:\n{}", said.join("\n")));
        said.push(line.clone());
        if line.contains(needle) {
            return (child, lines, said);
        }
    }
}

/// A family's documented profile, spreading off, and unpadded: Emotet's
/// 500 MB padded DLL can only be kept as evidence over SMB (a Samba peer,
/// `tests/evidence_smb.rs`), and without its evidence copy the purge
/// rightly leaves the file in place; with this, evidence travels over
/// WinRM.
pub fn quiet(f: cauterize::lab::malware::Family) -> cauterize::lab::malware::FamilyProfile {
    let mut p = cauterize::lab::malware::FamilyProfile::documented(f).without_spread();
    p.padding = false;
    p
}

/// The lab needs one descriptor per host; tests may start hundreds.
pub fn raise_fd_limit() {
    let _ = rlimit::increase_nofile_limit(65_536);
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in bytes;
/// 0 where it cannot be read.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
