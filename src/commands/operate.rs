//! The operation's commands: `apply`, `run`, `contain`, `release`,
//! `watch`, and `--resume`. Each parses its flags, prepares the hosts (passwords asked
//! once), opens the engagement's journal (its lock held), picks the views
//! (bars, plain lines, JSON lines) and the operator's answers (a prompt on
//! a terminal, `--yes`), and lets the engine run the operation
//! ([`crate::engine::apply::operate`]); then it prints the summary.
//!
//! Exit codes: 0 every in-scope host verified clean and released by
//! policy; 2 partial; 3 nothing succeeded; 1 usage or input error (nothing
//! was done); 130 interrupted (the command that resumes is printed).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::cli::{ApplyArgs, ContainArgs, ReleaseArgs, RunArgs, RunCmdArgs, ScopeArgs, WatchArgs};
use crate::engine::apply::{Hosts, OperationRequest, Source, operate};
use crate::engine::watch::{Backoff, WatchRequest};
use crate::engine::event::{Phase, Sink};
use crate::engine::operation::Approver;
use crate::engine::planning::{PlanJob, make_plan};
use crate::engine::{OperationSettings, ReleaseSelection};
use crate::journal::{self, Journal};
use crate::playbook::Playbook;
use crate::report::{live, operation_view, plan_view};

/// Every phase, in order.
const ALL_PHASES: [Phase; 5] = [Phase::Contain, Phase::Purge, Phase::Reboot, Phase::Verify, Phase::Release];

/// `cauterize apply PLAN` (or `--resume`).
pub async fn apply(args: &ApplyArgs) -> anyhow::Result<i32> {
    let source = if args.operation.resume {
        Source::Journal
    } else {
        match &args.plan {
            Some(p) => Source::Plan(p.clone()),
            None => bail!("give the plan file to apply (`cauterize apply plan.yml`), or --resume"),
        }
    };
    let journal = Journal::open(&args.scope.engagement.engagement)?;
    let (playbook, flags) = playbook_for(&journal, args.playbook.as_deref(), &source)?;
    let detect = super::scan::detect_context(&args.detect)?;
    let resume = resume_command("apply", &args.scope);
    operation(
        journal,
        "apply",
        source,
        &args.scope,
        args.operation.yes,
        (playbook, flags, detect),
        ALL_PHASES.to_vec(),
        ReleaseSelection::Policy,
        Accepting::default(),
        resume,
    )
    .await
}

/// `cauterize run`: scan, plan, (ask), apply.
pub async fn run(args: &RunCmdArgs) -> anyhow::Result<i32> {
    let engagement = &args.scope.engagement.engagement;
    let resume = resume_command("apply", &args.scope);
    if args.operation.resume {
        let journal = Journal::open(engagement)?;
        let (playbook, flags) = playbook_for(&journal, args.playbook.as_deref(), &Source::Journal)?;
        let detect = super::scan::detect_context(&args.detect)?;
        return operation(
            journal,
            "run",
            Source::Journal,
            &args.scope,
            args.operation.yes,
            (playbook, flags, detect),
            ALL_PHASES.to_vec(),
            ReleaseSelection::Policy,
            Accepting::default(),
            resume,
        )
        .await;
    }
    let asking = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.plan_only && !args.operation.yes && !asking {
        bail!(
            "`cauterize run` asks before it changes any host, and there is no terminal to ask on: add --yes to apply the plan without asking, or --plan-only to stop after writing it"
        );
    }
    let playbook = crate::playbook::load_or_default(args.playbook.as_ref())?;
    let flags = super::plan::flags(args.activate.as_deref());
    let inventory = crate::inventory::load(&args.scope.target.inventory, args.scope.target.limit.as_deref())?;
    let names: Vec<String> = inventory.hosts.iter().map(|h| h.name.clone()).collect();
    if names.is_empty() {
        bail!("the inventory {} has no hosts", args.scope.target.inventory.display());
    }
    let mut journal = Journal::open(engagement)?;
    let run = journal.begin_run("run", &journal::argv::current())?;
    let output = match &args.output {
        Some(p) => p.clone(),
        None => default_plan_path(engagement, run),
    };
    if output.exists() {
        bail!("{} exists and may hold a reviewed plan; choose another -o FILE", output.display());
    }
    let emitter = super::exec::progress_emitter(&args.scope.run, &[]);
    let ticker = emitter.start_ticker();
    let (target, run_args, detect_args) = (args.scope.target.clone(), args.scope.run.clone(), args.detect.clone());
    let prepare: crate::engine::planning::Prepare<'_> = Box::new(move |hosts: &[String]| {
        let ctx = Arc::new(super::scan::detect_context(&detect_args)?);
        let mut target = target;
        target.limit = Some(hosts.join(","));
        Ok((super::exec::prepare_targets(&target, &run_args)?.hosts, ctx))
    });
    let job = PlanJob {
        engagement,
        inventory: &args.scope.target.inventory,
        hosts: names.clone(),
        rescan: true,
        playbook: &playbook,
        flags: &flags,
        output: &output,
        forks: args.scope.run.forks as usize,
        rare_percent: args.rare.rare_percent,
    };
    let cancel = crate::transport::interrupt::watch_ctrl_c();
    let (mut journal, planned) = make_plan(job, journal, run, prepare, Arc::clone(&emitter), cancel.clone()).await?;
    drop(ticker);
    emitter.finish();
    if planned.interrupted {
        journal.end_run(run, crate::exit::INTERRUPTED)?;
        eprintln!("interrupted during the scan: nothing was changed on any host; run `cauterize run` again");
        return Ok(crate::exit::INTERRUPTED);
    }
    let text = plan_view::render_text(&planned.plan);
    if !args.scope.run.json {
        crate::report::emit::stdout_text(&text);
    }
    eprintln!("plan {} written to {}", planned.plan_id, output.display());
    if args.plan_only {
        let code = crate::exit::for_outcome(names.len(), planned.plan.unscanned.len());
        journal.end_run(run, code)?;
        eprintln!("--plan-only: review it, then `cauterize apply {} -i {}`", output.display(), args.scope.target.inventory.display());
        return Ok(code);
    }
    if !args.operation.yes {
        let t = crate::plan::summary::totals(&planned.plan);
        let question = format!(
            "apply plan {} to {} host(s) ({})?",
            planned.plan_id,
            planned.plan.hosts.len(),
            t.line()
        );
        if !ask(&question) {
            journal.end_run(run, crate::exit::OK)?;
            eprintln!("nothing applied; the plan stays in {} for `cauterize apply`", output.display());
            return Ok(crate::exit::OK);
        }
    }
    journal.end_run(run, crate::exit::OK)?;
    let detect = super::scan::detect_context(&args.detect)?;
    operation(
        journal,
        "run",
        Source::Plan(output),
        &args.scope,
        args.operation.yes,
        (playbook, flags, detect),
        ALL_PHASES.to_vec(),
        ReleaseSelection::Policy,
        Accepting::default(),
        resume,
    )
    .await
}

/// `cauterize contain`.
pub async fn contain(args: &ContainArgs) -> anyhow::Result<i32> {
    let journal = Journal::open(&args.scope.engagement.engagement)?;
    let resume = format!(
        "cauterize contain -i {} --engagement {}",
        args.scope.target.inventory.display(),
        args.scope.engagement.engagement.display()
    );
    // The newest plan's playbook: its containment is what was reviewed.
    let newest = journal.latest_plan_id()?.map(|plan| plan_settings(&journal, plan)).transpose()?;
    let playbook = playbook_from(args.playbook.as_deref(), newest.as_ref())?;
    operation(
        journal,
        "contain",
        Source::Inventory,
        &args.scope,
        false,
        (playbook, crate::plan::Flags::default(), Default::default()),
        vec![Phase::Contain],
        ReleaseSelection::Policy,
        Accepting::default(),
        resume,
    )
    .await
}

/// `cauterize release`.
pub async fn release(args: &ReleaseArgs) -> anyhow::Result<i32> {
    let journal = Journal::open(&args.scope.engagement.engagement)?;
    let selection = if args.all {
        ReleaseSelection::All
    } else if !args.group.is_empty() {
        ReleaseSelection::Groups(args.group.clone())
    } else if !args.host.is_empty() {
        ReleaseSelection::Hosts(args.host.clone())
    } else {
        ReleaseSelection::Policy
    };
    let (playbook, flags) = playbook_for(&journal, None, &Source::Journal).unwrap_or((Playbook::builtin(), Default::default()));
    let resume = format!(
        "cauterize release -i {} --engagement {}",
        args.scope.target.inventory.display(),
        args.scope.engagement.engagement.display()
    );
    operation(
        journal,
        "release",
        Source::Journal,
        &args.scope,
        false,
        (playbook, flags, Default::default()),
        vec![Phase::Release],
        selection,
        Accepting {
            hosts: args.accept_unreached.clone(),
            sources: args.accept_source.clone(),
            reason: args.reason.clone(),
        },
        resume,
    )
    .await
}

/// What the operator accepts on `release`: set-aside hosts by name,
/// unlisted sources by address with a reason.
#[derive(Default)]
struct Accepting {
    hosts: Vec<String>,
    sources: Vec<String>,
    reason: Option<String>,
}

/// Prepare the hosts, run the operation, print its summary.
#[allow(clippy::too_many_arguments)]
async fn operation(
    journal: Journal,
    command: &str,
    source: Source,
    scope: &ScopeArgs,
    yes: bool,
    tools: (Playbook, crate::plan::Flags, crate::detect::DetectContext),
    phases: Vec<Phase>,
    release: ReleaseSelection,
    accept: Accepting,
    resume: String,
) -> anyhow::Result<i32> {
    let (request, hosts) = prepare(command, source, scope, tools, phases, release, accept, &resume)?;
    let cancel = crate::transport::interrupt::watch_ctrl_c();
    let outcome = operate(journal, request, hosts, sinks(&scope.run), Arc::new(OperatorAnswers { yes }), cancel).await?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    print_outcome(&outcome, scope, &resume);
    Ok(outcome.exit_code)
}

/// `cauterize watch`: poll the hosts the operation never reached; carry
/// each that answers through the operation.
pub async fn watch(args: &WatchArgs) -> anyhow::Result<i32> {
    let journal = Journal::open(&args.scope.engagement.engagement)?;
    let (playbook, flags) = playbook_for(&journal, args.playbook.as_deref(), &Source::Journal)?;
    drop(journal);
    let backoff = watch_backoff(args, &playbook)?;
    let detect = super::scan::detect_context(&args.detect)?;
    let resume = crate::engine::watch::resume_command(&args.scope.target.inventory, &args.scope.engagement.engagement);
    let (request, hosts) = prepare(
        "watch",
        Source::Journal,
        &args.scope,
        (playbook, flags, detect),
        ALL_PHASES.to_vec(),
        ReleaseSelection::Policy,
        Accepting::default(),
        &resume,
    )?;
    let run = args.scope.run.clone();
    let request = WatchRequest {
        request,
        hosts,
        backoff,
        sinks: Box::new(move || sinks(&run)),
    };
    let cancel = crate::transport::interrupt::watch_ctrl_c();
    let outcome = crate::engine::watch::watch(request, Arc::new(OperatorAnswers { yes: args.yes }), cancel).await?;
    match outcome.runs.last() {
        Some(last) => print_outcome(last, &args.scope, &resume),
        None if outcome.exit_code != crate::exit::INTERRUPTED => {
            eprintln!("nothing to watch: every host of operation {} was reached or accepted", outcome.operation)
        }
        None => {}
    }
    eprintln!(
        "watch: {} poll(s), {} host run(s) of operation {}",
        outcome.polls,
        outcome.runs.len(),
        outcome.operation
    );
    if outcome.exit_code == crate::exit::INTERRUPTED {
        eprintln!("interrupted: containment stays; the dead-man keeps its deadline. To continue: {resume}");
    }
    Ok(outcome.exit_code)
}

/// The poll pauses of a watch: the flags given, else the playbook's
/// `watch:` section (which checked its own pair).
fn watch_backoff(args: &WatchArgs, playbook: &Playbook) -> anyhow::Result<Backoff> {
    let first = args.poll_every.unwrap_or(playbook.watch.poll_every);
    let max = args.poll_max.unwrap_or(playbook.watch.poll_max);
    if max < first {
        let from = |flag: bool, name: &str| if flag { format!("--{name}") } else { format!("the playbook's watch.{}", name.replace('-', "_")) };
        bail!(
            "{} ({}) is shorter than {} ({}): the pause only grows; give --poll-max at least --poll-every",
            from(args.poll_max.is_some(), "poll-max"),
            crate::inventory::format_duration(max),
            from(args.poll_every.is_some(), "poll-every"),
            crate::inventory::format_duration(first)
        );
    }
    Ok(Backoff { first, max })
}

/// The hosts prepared (passwords asked once) and the operation's request.
#[allow(clippy::too_many_arguments)]
fn prepare(
    command: &str,
    source: Source,
    scope: &ScopeArgs,
    (playbook, flags, detect): (Playbook, crate::plan::Flags, crate::detect::DetectContext),
    phases: Vec<Phase>,
    release: ReleaseSelection,
    accept: Accepting,
    resume: &str,
) -> anyhow::Result<(OperationRequest, Hosts)> {
    let ScopeArgs { target, run, engagement } = scope;
    let (prepared, smb) = super::exec::prepare_with_smb(target, run)?;
    let inventory = crate::inventory::load(&target.inventory, target.limit.as_deref())?;
    let listed = crate::inventory::load(&target.inventory, None)?.hosts.into_iter().map(|h| (h.name, h.address)).collect();
    for w in &prepared.warnings {
        eprintln!("warning: {w}");
    }
    // The playbook the plan was made with (checked against the plan's
    // hash by `playbook_for`) says how the phases run.
    let settings = OperationSettings::from_playbook(&playbook.sections, run.forks as usize, inventory.hosts.len());
    let request = OperationRequest {
        command: command.to_string(),
        engagement: engagement.engagement.clone(),
        source,
        hosts: inventory.hosts,
        settings,
        phases,
        release,
        accept: accept.hosts,
        accept_sources: accept.sources,
        accept_reason: accept.reason,
        listed,
        resume_command: resume.to_string(),
        playbook,
        flags,
        detect,
        late: None,
    };
    Ok((
        request,
        Hosts {
            targets: prepared.hosts,
            smb,
        },
    ))
}

/// The views `--no-progress`, `--json` and the terminal ask for.
fn sinks(run: &RunArgs) -> Vec<Box<dyn Sink>> {
    let view = live::choose(run.no_progress, run.json, Duration::from_secs(run.progress_every));
    let mut sinks: Vec<Box<dyn Sink>> = live::sinks(view);
    if run.json {
        sinks.push(Box::new(live::JsonLines));
    }
    sinks
}

/// The operation's summary (text, or one JSON line), and where its journal is.
fn print_outcome(outcome: &crate::engine::apply::OperationOutcome, scope: &ScopeArgs, resume: &str) {
    if scope.run.json {
        crate::report::emit::stdout_line(&operation_view::json_summary(outcome.operation, &outcome.result, resume));
    } else {
        crate::report::emit::stdout_text(&operation_view::render_text(outcome.operation, &outcome.result, resume));
    }
    if outcome.exit_code == crate::exit::INTERRUPTED {
        eprintln!("interrupted: containment stays; the dead-man keeps its deadline. To continue: {resume}");
    }
    eprintln!(
        "journal: {} (operation {}, run {})",
        scope.engagement.engagement.join(journal::FILE_NAME).display(),
        outcome.operation,
        outcome.run
    );
}

/// The command that continues an operation.
fn resume_command(command: &str, scope: &ScopeArgs) -> String {
    let mut s = format!("cauterize {command} --resume -i {}", scope.target.inventory.display());
    if let Some(l) = &scope.target.limit {
        s.push_str(&format!(" -l '{l}'"));
    }
    s.push_str(&format!(" --engagement {}", scope.engagement.engagement.display()));
    s
}

/// The playbook (and planner flags) verifying scans are planned with: the
/// one given, else the one the plan was made with (by its path, refused if
/// the file changed since: re-plans must follow the reviewed rules).
fn playbook_for(journal: &Journal, given: Option<&Path>, source: &Source) -> anyhow::Result<(Playbook, crate::plan::Flags)> {
    let settings = match source {
        Source::Plan(path) => plan_settings_of_file(journal, path)?,
        Source::Journal => match journal.latest_operation()?.and_then(|o| o.plan_id) {
            Some(id) => Some(plan_settings(journal, id)?),
            None => None,
        },
        Source::Inventory => None,
    };
    let flags = crate::plan::Flags {
        activate: settings.as_ref().map(|s| s.effective.purge.activate),
    };
    Ok((playbook_from(given, settings.as_ref())?, flags))
}

/// The playbook given, else the one a plan was made with (`settings`; by
/// its path, refused if the file changed since), else the built-in one.
fn playbook_from(given: Option<&Path>, settings: Option<&crate::plan::Settings>) -> anyhow::Result<Playbook> {
    let playbook = match (given, settings) {
        (Some(p), _) => crate::playbook::load(p)?,
        (None, None) => Playbook::builtin(),
        (None, Some(s)) => {
            let pb = if s.playbook == Playbook::builtin().source {
                Playbook::builtin()
            } else {
                crate::playbook::load(Path::new(&s.playbook)).with_context(|| {
                    format!("the plan was made with the playbook {}; give it (or another) with -p", s.playbook)
                })?
            };
            if pb.sha256 != s.playbook_sha256 {
                bail!(
                    "the playbook {} changed since the plan was made (sha256 {} then, {} now); the operation must follow the reviewed rules: restore it, give one with -p, or plan again",
                    s.playbook,
                    &s.playbook_sha256[..16.min(s.playbook_sha256.len())],
                    &pb.sha256[..16]
                );
            }
            pb
        }
    };
    Ok(playbook)
}

fn plan_settings(journal: &Journal, plan: i64) -> anyhow::Result<crate::plan::Settings> {
    let stored = journal.plan(plan)?.with_context(|| format!("plan {plan} is not in the journal"))?;
    let head: crate::plan::PlanHead = serde_json::from_str(&stored.settings)?;
    Ok(head.settings)
}

/// The settings of the plan a file names (`plan_id:`), if it is a plan of
/// this journal (the full check comes when the plan is read for apply).
fn plan_settings_of_file(journal: &Journal, path: &Path) -> anyhow::Result<Option<crate::plan::Settings>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("plan_id:"))
        .and_then(|v| v.trim().parse::<i64>().ok());
    match id {
        Some(id) if journal.plan(id)?.is_some() => Ok(Some(plan_settings(journal, id)?)),
        _ => Ok(None),
    }
}

/// Ask a yes/no question on the terminal (no by default).
fn ask(question: &str) -> bool {
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// The operator's go-ahead: `--yes`, or a prompt when there is a terminal
/// to ask on, or no (the operation halts and says to resume with --yes).
struct OperatorAnswers {
    yes: bool,
}

impl Approver for OperatorAnswers {
    async fn go_ahead(&self, question: &str) -> bool {
        if self.yes {
            return true;
        }
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return false;
        }
        let q = question.to_string();
        tokio::task::spawn_blocking(move || ask(&q)).await.unwrap_or(false)
    }
}

/// Where `run` writes its plan (for tests of the default).
pub fn default_plan_path(engagement: &Path, run: i64) -> PathBuf {
    engagement.join(format!("plan-run{run}.yml"))
}
