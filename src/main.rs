//! The `cauterize` binary: parse the command line, set up logging, run the
//! command, exit with its code.

// The operation commands nest deep async state machines (the engine over
// the runtime client); their layout needs more than the default 128.
#![recursion_limit = "256"]

use cauterize::cli::{Cli, Command, LabCommand};
use cauterize::commands;
use clap::Parser;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` print to stdout and succeed; a bad
            // command line is bad usage (exit 1, as documented), not clap's 2.
            let _ = err.print();
            std::process::exit(if err.use_stderr() {
                cauterize::exit::USAGE
            } else {
                0
            });
        }
    };
    init_logging(cli.verbose);
    // Before the async runtime starts its threads. Not for the lab, which
    // is the simulated network and keeps its own allocation figures.
    if !matches!(cli.command, Command::Lab(_)) {
        cauterize::memory::tune();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("cauterize: cannot start the async runtime: {err}");
            std::process::exit(cauterize::exit::USAGE);
        }
    };
    let result = runtime.block_on(dispatch(&cli));
    // `exit` runs no destructors: say the engagement lock is free now.
    cauterize::journal::lock::clear_on_exit();
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("cauterize: {err:#}");
            std::process::exit(cauterize::exit::USAGE);
        }
    }
}

async fn dispatch(cli: &Cli) -> anyhow::Result<i32> {
    match &cli.command {
        Command::Inventory(args) => commands::inventory::run(args),
        Command::Exec(args) => commands::exec::run(args).await,
        Command::Check(args) => commands::check::run(args).await,
        Command::Scan(args) => commands::scan::run(args).await,
        Command::Plan(args) => commands::plan::run(args).await,
        Command::Apply(args) => commands::operate::apply(args).await,
        Command::Run(args) => commands::operate::run(args).await,
        Command::Contain(args) => commands::operate::contain(args).await,
        Command::Release(args) => commands::operate::release(args).await,
        Command::Watch(args) => commands::operate::watch(args).await,
        Command::Status(args) => commands::status::run(args).await,
        Command::Report(args) => commands::report::run(args),
        Command::Stack(args) => commands::stack::run(args),
        Command::Lab(args) => match &args.command {
            LabCommand::Serve(serve) => commands::lab::serve(serve).await,
        },
        Command::Demo(args) => commands::demo::run(args).await,
    }
}

/// Logs go to stderr. By default only warnings of cauterize itself; winrm-rs's
/// own warnings (such as NTLM over plain HTTP) appear from `-v` on.
fn init_logging(verbose: u8) {
    let filter = match verbose {
        0 => "cauterize=warn,winrm_rs=error",
        1 => "cauterize=info,winrm_rs=warn",
        _ => "cauterize=debug,winrm_rs=debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
