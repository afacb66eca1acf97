//! Unlisted sources of lateral movement in an operation, over the journal:
//! the review the release runs before it lifts any containment (which
//! sources hold it: [`crate::fleet::holds`]), each change of a source's
//! standing recorded in the journal (held with its addresses, resolved,
//! accepted with who, when and why), and the operator's acceptance
//! (`cauterize release --accept-source ADDR --reason TEXT`).

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::fleet::holds::{self, SourceHold, Standing};
use crate::journal::operation::OperationId;
use crate::journal::{Journal, JournalError, JournalHandle, RunId};

/// What the release asks before it lifts containment: every source and its
/// standing now (an error holds the release: it fails closed).
pub trait SourceCheck: Send + Sync + 'static {
    fn review(&self) -> BoxFuture<'_, Result<Vec<SourceHold>, String>>;
}

/// No lateral evidence to review (operations with nothing to hold them).
pub struct NoSources;

impl SourceCheck for NoSources {
    fn review(&self) -> BoxFuture<'_, Result<Vec<SourceHold>, String>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// The standing of every source of `operation` now: what the journal
/// recorded, and what the latest scans' event logs link, against the
/// inventory's hosts (`inventory`: name and address).
pub fn review(journal: &Journal, operation: OperationId, inventory: &[(String, String)]) -> Result<Vec<SourceHold>, JournalError> {
    let known: Vec<SourceHold> = journal
        .sources(operation)?
        .into_iter()
        .map(|r| SourceHold {
            standing: Standing::parse(&r.state).unwrap_or(Standing::Held),
            address: r.address,
            hosts: r.hosts,
            detail: r.detail,
        })
        .collect();
    let (lateral, listed) = crate::fleet::pass::sources_of_journal(journal, inventory)?;
    Ok(holds::review(&lateral.unlisted, &known, &listed))
}

/// Record each source whose standing (or why) differs from the journal's.
pub fn record(journal: &mut Journal, operation: OperationId, run: RunId, sources: &[SourceHold]) -> Result<(), JournalError> {
    let known = journal.sources(operation)?;
    for s in sources {
        let same = known
            .iter()
            .any(|k| k.address == s.address && k.state == s.standing.as_str() && k.detail == s.detail && k.hosts == s.hosts);
        if !same {
            journal.record_source(operation, run, &s.address, s.standing.as_str(), &s.hosts, &s.detail)?;
        }
    }
    Ok(())
}

/// The operator accepts `addresses` (each must hold the release now),
/// with `reason`: recorded, and the sources' standing returned.
pub fn accept(
    journal: &mut Journal,
    operation: OperationId,
    run: RunId,
    inventory: &[(String, String)],
    addresses: &[String],
    reason: &str,
) -> anyhow::Result<Vec<SourceHold>> {
    let mut current = review(journal, operation, inventory)?;
    let chosen = holds::accepted_addresses(addresses, &current).map_err(anyhow::Error::msg)?;
    let reason = reason.trim();
    if reason.is_empty() {
        anyhow::bail!("--accept-source needs --reason TEXT: why this source may be left as it is (kept in the journal with who and when)");
    }
    for s in current.iter_mut().filter(|s| chosen.contains(&s.address)) {
        s.standing = Standing::Accepted;
        s.detail = format!("accepted by the operator: {reason}");
    }
    record(journal, operation, run, &current)?;
    Ok(current)
}

/// [`SourceCheck`] over the operation's journal: reviews and records.
pub struct JournalSources {
    pub journal: JournalHandle,
    pub operation: OperationId,
    pub run: RunId,
    pub inventory: Arc<Vec<(String, String)>>,
}

impl SourceCheck for JournalSources {
    fn review(&self) -> BoxFuture<'_, Result<Vec<SourceHold>, String>> {
        let (operation, run, inventory) = (self.operation, self.run, Arc::clone(&self.inventory));
        Box::pin(async move {
            self.journal
                .call(move |j| {
                    let current = review(j, operation, &inventory)?;
                    record(j, operation, run, &current)?;
                    Ok(current)
                })
                .await
                .map_err(|e| e.to_string())
        })
    }
}
