//! `cauterize stack`: the fleet's autostarts stacked from the engagement's
//! journal (every host's latest scan; no host is contacted), printed as
//! text or JSON lines.
//!
//! Exit code: 0, or 1 when the journal has no scan yet.

use crate::cli::StackArgs;
use crate::fleet::stack::By;
use crate::journal::{self, Journal};
use crate::report::stack_view;
use anyhow::bail;

/// Run `cauterize stack`; returns the process exit code.
pub fn run(args: &StackArgs) -> anyhow::Result<i32> {
    let by = By::parse(&args.by).unwrap_or(By::Autostart);
    let dir = &args.engagement.engagement;
    if !dir.join(journal::FILE_NAME).exists() {
        bail!(
            "no journal in {}: run `cauterize scan --engagement {}` first (or point --engagement at the engagement folder)",
            dir.display(),
            dir.display()
        );
    }
    let journal = Journal::open(dir)?;
    let stack = crate::fleet::pass::stack_journal(&journal, by, args.rare.rare_percent)?;
    if stack.scanned == 0 {
        bail!("the journal in {} holds no successful scan yet: run `cauterize scan` first", dir.display());
    }
    if args.json {
        for line in stack_view::json_lines(&stack, args.rare.rare_percent) {
            if !crate::report::emit::stdout_line(&line) {
                break;
            }
        }
    } else {
        crate::report::emit::stdout_text(&stack_view::render_text(&stack, args.top, args.rare.rare_percent));
    }
    Ok(crate::exit::OK)
}
