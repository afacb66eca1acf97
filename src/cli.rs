//! Every command and flag of cauterize, defined and documented in one place.
//!
//! `cauterize help <command>` prints what is written here. Exit codes are
//! defined in [`crate::exit`].

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Remove worming loaders (Emotet, TrickBot, Qakbot) from a whole Windows
/// network at once, agentless, over WinRM and SMB.
#[derive(Debug, Parser)]
#[command(name = "cauterize", version, propagate_version = true, max_term_width = 100)]
#[command(after_help = "Exit codes: 0 every host succeeded (apply, run: every in-scope host \
verified clean and released by policy); 1 usage or input error; 2 some hosts failed (partial); \
3 every host failed (nothing succeeded); 130 interrupted (the operation's commands print the \
command that resumes them).")]
pub struct Cli {
    /// More log output on stderr (-v: info, -vv: debug). Never prints secrets.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the hosts an inventory resolves to, with their connection
    /// settings (never secrets).
    Inventory(InventoryArgs),
    /// Run one PowerShell command or script on many hosts and show the output
    /// grouped by identical result.
    Exec(ExecArgs),
    /// Preflight: reachability, authentication, admin rights, OS, PowerShell
    /// version, shell quota and clock skew of every host.
    Check(CheckArgs),
    /// Read-only sweep: collect every host's autostarts, services, tasks, WMI
    /// subscriptions, processes and the files they start; detect loaders;
    /// store snapshots and findings in the engagement's journal; show the
    /// findings per host with confidence and reasons, then the lateral
    /// movement the hosts' event logs show (which infected host reached
    /// which, and sources the inventory does not list; with --json one
    /// `"record": "lateral"` line). Findings are not failures: the exit
    /// code counts hosts that could not be scanned.
    Scan(ScanArgs),
    /// Write the plan: per host, every step the operation would take
    /// (containment, the purge's kills and compare-and-deletes, writes
    /// denied, Defender exclusions reverted, the reboot in its wave, folders
    /// removed after it), each carrying what the scan saw, grouped under the
    /// finding that calls for it, and what is listed but not done (and
    /// why); a summary first. Plans from the latest scan in the journal;
    /// hosts without one are scanned first. Review the file; delete a line
    /// to skip a step.
    Plan(PlanArgs),
    /// Carry out a reviewed plan, exactly: contain every reachable host,
    /// purge (evidence first, then the plan's operations), reboot in waves,
    /// verify after boot, release by policy. A host scanned again after the
    /// plan was made is refused (plan again). Every action is in the
    /// journal before it happens; `--resume` continues an interrupted
    /// operation. Steps whose host operation this build does not have yet
    /// (writes denied, Defender exclusions reverted) are reported as not
    /// carried out.
    Apply(ApplyArgs),
    /// Scan, plan and apply in one go: on a terminal the plan's summary is
    /// shown and you are asked; `--yes` for runbooks; `--plan-only` stops
    /// after writing the plan.
    Run(RunCmdArgs),
    /// Contain the inventory's hosts (SMB blocked by host firewall rules
    /// with a dead-man) on their own, for the operator who works phase by
    /// phase.
    Contain(ContainArgs),
    /// Lift containment: by the release policy, or `--all`, `--group G`,
    /// `--host H`; `--accept-unreached H` stops a set-aside host from
    /// holding the release.
    Release(ReleaseArgs),
    /// Keep the engagement's operation open for hosts it never reached (a
    /// laptop that comes back tomorrow): poll them with a bounded
    /// exponential back-off; each that answers is contained, scanned,
    /// purged, rebooted and verified by the same playbook and plan rules,
    /// then the release policy runs as the operation's own would
    /// (`all_clean`: the network is released once the last held host is
    /// clean; `manual`: nothing, use `release`). Every poll and step is in
    /// the journal. Stops when no host is left to watch, or on Ctrl-C (run
    /// it again to pick up where it stopped).
    Watch(WatchArgs),
    /// The engagement at a glance, from its journal only (read-only: works
    /// while an operation runs in another process): the operation's
    /// phases, and per host its state, contained, findings, operations
    /// done, files queued for boot, reboots, verified, whether it holds
    /// the release, and why.
    Status(StatusArgs),
    /// What the operation did, as one self-contained HTML page (inline CSS
    /// and SVG, no script, nothing fetched) or JSON, from the journal alone
    /// (read-only: works during an operation, after a resume, and on
    /// another machine with a copy of the engagement folder): the summary,
    /// a timeline of hosts contained, infected, rebooting and verified,
    /// per host what was found and why, the evidence kept, what was
    /// removed, queued for boot, rebooted and verified, and what failed and
    /// why; the plan and playbook hashes, who ran it and when.
    Report(ReportArgs),
    /// Stack the fleet's autostarts (Kansa's frequency analysis, on the
    /// journal; no host is contacted): every host's latest autostarts
    /// grouped across hosts and counted, unsigned entries in user-writable
    /// places first, then the least frequent first, each with its hosts
    /// and what findings explain it.
    Stack(StackArgs),
    /// The simulated Windows network used for tests, benchmarks and rehearsal.
    Lab(LabArgs),
    /// Start an embedded lab of 24 simulated hosts (six infected, two
    /// unreachable) and run the whole operation against it (`run --yes`,
    /// release, report), then show the lab's ground truth beside the
    /// tool's view. Exit 0 when every infected host reached is clean per
    /// the lab and no benign file was removed; 2, saying why, when not.
    Demo(DemoArgs),
}

/// Which hosts to act on.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Inventory file (YAML).
    #[arg(short = 'i', long = "inventory", value_name = "FILE")]
    pub inventory: PathBuf,
    /// Limit to hosts matching a pattern, Ansible-style: comma-separated
    /// names, groups or globs; `!x` excludes, `&x` intersects
    /// (e.g. `workstations:!ws-013`, `critical,dc01`).
    #[arg(short = 'l', long = "limit", value_name = "PATTERN")]
    pub limit: Option<String>,
}

/// How many hosts at once and how to report.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Hosts worked on at the same time.
    #[arg(short = 'f', long = "forks", default_value_t = 64, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub forks: u32,
    /// One JSON object per host on stdout, for runbooks.
    #[arg(long)]
    pub json: bool,
    /// No progress at all. On a terminal progress is bars; when stderr is
    /// not a terminal (a log, a file) it is a plain line every
    /// `--progress-every` seconds: done, failed, still running, and the
    /// slowest hosts.
    #[arg(long)]
    pub no_progress: bool,
    /// Seconds between two plain progress lines when stderr is not a
    /// terminal.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub progress_every: u64,
    /// Override the inventory's command time-out for every host, in seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

/// Where the engagement's state lives.
#[derive(Debug, Args, Clone)]
pub struct EngagementArgs {
    /// Engagement folder: its journal (`cauterize.db`, SQLite) records every
    /// run, snapshot, finding, plan and action. Created when missing.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub engagement: PathBuf,
}

/// What detection is told besides the hosts' facts.
#[derive(Debug, Args, Clone, Default)]
pub struct DetectArgs {
    /// Known-bad SHA-256 list (one hash a line, optional label after it, or
    /// a threat-feed CSV with a `sha256` column): a matching file makes its
    /// findings high and certain.
    #[arg(long, value_name = "FILE")]
    pub hashes: Option<PathBuf>,
    /// Your allow-list, added to the built-in one (`sha256:<hex>`,
    /// `path:<glob>`, `signer:<name>` lines): matches are shown and never
    /// planned for removal.
    #[arg(long, value_name = "FILE")]
    pub allowlist: Option<PathBuf>,
}

/// What counts as rare across the fleet.
#[derive(Debug, Args, Clone)]
pub struct RareArgs {
    /// An autostart on at most this share of the scanned hosts (and on
    /// at least one) is rare; rare unsigned autostarts that no finding
    /// explains are listed in the plan for review (never acted on).
    #[arg(long = "rare-percent", value_name = "PERCENT",
          default_value_t = crate::fleet::stack::DEFAULT_RARE_PERCENT,
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub rare_percent: u32,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
    /// Show the details (every finding with its reasons) of this host only;
    /// repeat for more. The summary at the top still covers every host,
    /// and --json is always complete.
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StackArgs {
    #[command(flatten)]
    pub engagement: EngagementArgs,
    /// Group entries by the autostart itself (where it is and what it
    /// runs), its launcher and entry point, the payload's folder, its
    /// SHA-256, or its signer.
    #[arg(long, value_name = "WHAT", default_value = "autostart",
          value_parser = crate::fleet::stack::By::NAMES)]
    pub by: String,
    /// Show at most this many groups, the most suspicious first (0: all).
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub top: usize,
    /// One JSON object per group on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub rare: RareArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Used only when hosts are scanned now (--rescan, or no scan yet).
    #[command(flatten)]
    pub detect: DetectArgs,
    /// Playbook (YAML): what the operation may do, phase by phase
    /// (contain, purge, reboot, verify, release). Default: the built-in
    /// playbooks/default.yml, which documents every setting.
    #[arg(short = 'p', long = "playbook", value_name = "FILE")]
    pub playbook: Option<PathBuf>,
    /// Where to write the plan (YAML, for review and `apply`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Lowest confidence acted on, over the playbook's `activate`:
    /// `medium` also acts on medium-confidence findings.
    #[arg(long, value_name = "LEVEL", value_parser = ["high", "medium"])]
    pub activate: Option<String>,
    /// Scan every host now instead of planning from the journal's latest
    /// scan.
    #[arg(long)]
    pub rescan: bool,
    /// Overwrite the output file if it exists (it may hold your edits).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub rare: RareArgs,
}

/// The hosts a command of the engagement works on (inventory and limit),
/// how it reaches them (forks, views), and the engagement it belongs to:
/// `scan`, `plan` and the operation's commands.
#[derive(Debug, Args, Clone)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub engagement: EngagementArgs,
}

/// How an operation goes on.
#[derive(Debug, Args, Clone)]
pub struct OperationArgs {
    /// Continue the engagement's latest operation from its journal: what
    /// was done is not done again; what the journal cannot know (a reboot
    /// asked for but not confirmed) is read again from the host.
    #[arg(long)]
    pub resume: bool,
    /// Answer yes to every question (the canary's go-ahead; `run`'s
    /// confirmation): for runbooks.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The reviewed plan file (`cauterize plan -o`); not needed with
    /// --resume.
    #[arg(value_name = "PLAN", required_unless_present = "resume")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub operation: OperationArgs,
    /// Used by the verifying scans after boot.
    #[command(flatten)]
    pub detect: DetectArgs,
    /// The playbook verifying scans are planned with. Default: the one the
    /// plan was made with (refused if that file changed since).
    #[arg(short = 'p', long = "playbook", value_name = "FILE")]
    pub playbook: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunCmdArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub operation: OperationArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
    /// Playbook (YAML). Default: the built-in playbooks/default.yml.
    #[arg(short = 'p', long = "playbook", value_name = "FILE")]
    pub playbook: Option<PathBuf>,
    /// Lowest confidence acted on, over the playbook's `activate`.
    #[arg(long, value_name = "LEVEL", value_parser = ["high", "medium"])]
    pub activate: Option<String>,
    /// Stop after writing the plan (review it, then `cauterize apply`).
    #[arg(long)]
    pub plan_only: bool,
    #[command(flatten)]
    pub rare: RareArgs,
    /// Where to write the plan. Default: `plan-<run>.yml` in the
    /// engagement folder.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ContainArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Playbook (YAML) whose `contain:` section says what is blocked and
    /// what keeps SMB. Default: the one the engagement's newest plan was
    /// made with, else the built-in playbooks/default.yml.
    #[arg(short = 'p', long = "playbook", value_name = "FILE")]
    pub playbook: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Release every host of the operation, whatever its state.
    #[arg(long, conflicts_with_all = ["group", "host"])]
    pub all: bool,
    /// Release the hosts of this inventory group (repeatable).
    #[arg(long, value_name = "GROUP", conflicts_with = "host")]
    pub group: Vec<String>,
    /// Release this host (repeatable).
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,
    /// Accept a set-aside host (unreached, needing a person) as handled:
    /// it no longer holds the release (repeatable; kept in the journal).
    #[arg(long, value_name = "HOST")]
    pub accept_unreached: Vec<String>,
    /// Accept an unlisted source of lateral movement (an address that
    /// logged on to hosts and installed something, not in the inventory)
    /// as known: it no longer holds the release (repeatable; the exact
    /// address `status` shows; needs --reason). The other way to resolve
    /// it: add the machine to the inventory and scan it.
    #[arg(long, value_name = "ADDRESS", requires = "reason")]
    pub accept_source: Vec<String>,
    /// Why the sources given with --accept-source may be left as they are
    /// (kept in the journal with who and when; the report shows it).
    #[arg(long, value_name = "TEXT", requires = "accept_source")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Used by the scans of hosts that answer.
    #[command(flatten)]
    pub detect: DetectArgs,
    /// The playbook late hosts are planned with. Default: the one the
    /// operation's plan was made with (refused if that file changed since).
    #[arg(short = 'p', long = "playbook", value_name = "FILE")]
    pub playbook: Option<PathBuf>,
    /// Answer yes to the canary's go-ahead, for runbooks.
    #[arg(long)]
    pub yes: bool,
    /// Pause after a host's first unanswered poll (`30s`, `5m`, `1h`); it
    /// doubles after each unanswered poll up to --poll-max. Default: the
    /// playbook's `watch.poll_every` (30s in the built-in one).
    #[arg(long, value_name = "DURATION", value_parser = parse_poll_pause)]
    pub poll_every: Option<std::time::Duration>,
    /// Longest pause between two polls of a host. Default: the playbook's
    /// `watch.poll_max` (15m in the built-in one).
    #[arg(long, value_name = "DURATION", value_parser = parse_poll_pause)]
    pub poll_max: Option<std::time::Duration>,
}

/// A poll pause: a duration from 1 second to 24 hours.
fn parse_poll_pause(text: &str) -> Result<std::time::Duration, String> {
    let d = crate::inventory::parse_duration(text)?;
    if d < std::time::Duration::from_secs(1) || d > std::time::Duration::from_secs(24 * 3600) {
        return Err(format!("{text} is out of range (1s to 24h)"));
    }
    Ok(d)
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub engagement: EngagementArgs,
    /// Only this host (a name or a glob, case-insensitive).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Only hosts in this state (pending, refused, unreached, contained,
    /// not_contained, purged, purge_failed, reboot_asked, rebooted,
    /// reboot_failed, clean, dirty, needs_person, released).
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// One JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// What `cauterize report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained page.
    Html,
    /// The same content as one JSON object.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub engagement: EngagementArgs,
    /// Where to write the report (`-` for stdout). Default:
    /// `report.html` (or `report.json`) in the engagement folder.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Read the PowerShell script from this file instead of the command line
    /// (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with = "script")]
    pub script_file: Option<PathBuf>,
    /// The PowerShell to run, after `--`.
    #[arg(last = true, value_name = "POWERSHELL")]
    pub script: Vec<String>,
}

/// Default of `check --step-timeout`, in seconds.
pub const DEFAULT_CHECK_STEP_SECS: u64 = 15;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Longest wait for each step of the preflight on a host, in seconds:
    /// the TCP probes, opening a shell (connect, log on), and the probe
    /// command. A host that takes longer is reported as hung (`hung: the
    /// command did not finish in 15 s`) and the others are not held up.
    /// The inventory's (or --timeout's) command time-out still applies when
    /// it is shorter.
    #[arg(long = "step-timeout", value_name = "SECS", default_value_t = DEFAULT_CHECK_STEP_SECS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub step_timeout: u64,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Run the simulated network in the foreground until Ctrl-C, and write an
    /// inventory that reaches it.
    Serve(LabServeArgs),
}

#[derive(Debug, Args)]
pub struct LabServeArgs {
    /// Number of plain workstation hosts (ignored with --scenario).
    #[arg(long, default_value_t = 10, conflicts_with = "scenario")]
    pub hosts: u32,
    /// Scenario file (YAML) describing hosts, accounts and faults.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Where to write the inventory for the lab.
    #[arg(long, value_name = "FILE")]
    pub inventory_out: PathBuf,
    /// First loopback address; hosts take consecutive addresses from it.
    #[arg(long, default_value = "127.10.0.1", value_name = "IPV4")]
    pub base_address: std::net::Ipv4Addr,
    /// Port every lab host listens on.
    #[arg(long, default_value_t = 5985)]
    pub port: u16,
    /// Every host also listens for HTTPS on port 5986, with a certificate
    /// from the lab's own CA, written beside the inventory as
    /// `<inventory>.ca.pem` (with --scenario: `https: true` in the file).
    #[arg(long, conflicts_with = "scenario")]
    pub https: bool,
    /// Lab seconds per wall second: every lab interval (reboot down time,
    /// WinRM delay after boot, `shutdown /t`, loaders' spread intervals and
    /// watchdogs) passes this much faster than wall time; 60 runs an hour
    /// in a minute. Overrides the scenario's `lab: {speed}` (default 1).
    #[arg(long, value_name = "FACTOR", value_parser = parse_speed)]
    pub speed: Option<f64>,
    /// Seed of every random choice (names a loader draws, whom it tries to
    /// spread to, when): the same scenario and seed give the same outbreak.
    /// Overrides the scenario's `lab: {seed}` (default 1).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// Lowest `--speed` taken (a lab second every 1,000 wall seconds).
pub const MIN_LAB_SPEED: f64 = 0.001;
/// Highest `--speed` taken (a lab day in under a second).
pub const MAX_LAB_SPEED: f64 = 1_000_000.0;

/// `--speed`: a number of lab seconds per wall second, within
/// [`MIN_LAB_SPEED`]..=[`MAX_LAB_SPEED`].
fn parse_speed(text: &str) -> Result<f64, String> {
    let speed: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number; give lab seconds per wall second, e.g. 60 (an hour a minute)"))?;
    if !(MIN_LAB_SPEED..=MAX_LAB_SPEED).contains(&speed) {
        return Err(format!("{speed} is out of range: the lab runs from {MIN_LAB_SPEED} to {MAX_LAB_SPEED} times wall time"));
    }
    Ok(speed)
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder the demo writes its inventory, playbook, engagement (journal,
    /// evidence, plan) and HTML report to, and keeps. Created when
    /// missing; refused if it already holds a demo's engagement. Default:
    /// a new `cauterize-demo-<time>-<pid>` folder in the system's temporary
    /// folder.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// First loopback address of the embedded lab.
    #[arg(long, default_value = "127.20.0.1", value_name = "IPV4")]
    pub base_address: std::net::Ipv4Addr,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cauterize").chain(args.iter().copied()))
    }

    #[test]
    fn every_flag_is_defined_consistently() {
        // Unique names and short flags, conflicts and requirements naming
        // flags that exist (flattened groups included).
        Cli::command().debug_assert();
    }

    #[test]
    fn the_operation_commands_share_one_scope() {
        let cli = parse(&["apply", "--resume", "-i", "inv.yml", "-l", "ws-*", "--forks", "7", "--engagement", "eng"]).unwrap();
        let Command::Apply(a) = cli.command else { panic!("apply") };
        assert_eq!(a.scope.target.inventory, PathBuf::from("inv.yml"));
        assert_eq!(a.scope.target.limit.as_deref(), Some("ws-*"));
        assert_eq!(a.scope.run.forks, 7);
        assert_eq!(a.scope.engagement.engagement, PathBuf::from("eng"));
        assert!(a.operation.resume && a.plan.is_none());
        let cli = parse(&["release", "-i", "inv.yml", "--host", "WS-001"]).unwrap();
        let Command::Release(r) = cli.command else { panic!("release") };
        assert_eq!(r.scope.engagement.engagement, PathBuf::from("."), "the engagement defaults to the current folder");
        assert_eq!(r.host, vec!["WS-001".to_string()]);
    }

    #[test]
    fn flags_that_cannot_go_together_are_refused() {
        // A plan or --resume: apply needs one.
        assert!(parse(&["apply", "-i", "inv.yml"]).is_err());
        // Every host, or a selection: not both.
        assert!(parse(&["release", "-i", "inv.yml", "--all", "--host", "WS-001"]).is_err());
        assert!(parse(&["release", "-i", "inv.yml", "--group", "ws", "--host", "WS-001"]).is_err());
        // An accepted source needs its reason.
        assert!(parse(&["release", "-i", "inv.yml", "--accept-source", "10.0.0.9"]).is_err());
        assert!(parse(&["release", "-i", "inv.yml", "--accept-source", "10.0.0.9", "--reason", "the backup server"]).is_ok());
        // The inventory is required wherever hosts are reached.
        assert!(parse(&["contain"]).is_err());
    }
}
