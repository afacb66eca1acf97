//! The lab's implementation of the host-side runtime: the same operations
//! as `runtime.ps1` (see [`crate::runtime::ops`]), with the same semantics,
//! carried out on a simulated host's [`HostState`], printing the same
//! framed results ([`crate::runtime::results`]).
//!
//! The job is read from the payload's data section exactly as the
//! PowerShell reads it ([`crate::runtime::job::decode`]); nothing in it is
//! interpreted as code. Parts: [`collect`] (pass one of collection, user
//! hives loaded under a temporary key and always unloaded), [`files`]
//! (file facts, listings, reading a file), [`sweep`] (the drop-folder
//! sweep), [`ops`] (compare-and-delete),
//! [`hives`] (mounting offline user hives), [`iso`] (times as .NET's
//! round-trip format prints them).

pub mod collect;
pub mod files;
pub mod fixture;
pub mod hives;
pub mod iso;
pub mod ops;
pub mod sweep;

#[cfg(test)]
mod tests;

use crate::lab::world::{HostState, LabTime};
use crate::runtime::job::{self, JobItem, RUNTIME_MARKER};
use crate::runtime::ops::{Bounds, Query};
use crate::runtime::results::{RUNTIME_MAX_TRUNCATIONS, Writer};

/// Whether a payload is the cauterize runtime.
pub fn is_runtime(payload: &str) -> bool {
    payload
        .trim_start_matches('\u{feff}')
        .starts_with(RUNTIME_MARKER)
}

/// The runtime's working state while it runs one job.
pub struct Run<'a> {
    pub host: &'a mut HostState,
    pub now: LabTime,
    pub out: Writer,
    /// Index of the item being carried out.
    pub item: usize,
    /// Bytes kept of one string field.
    pub max_field_bytes: usize,
    /// Cuts reported for the current item (at most
    /// [`RUNTIME_MAX_TRUNCATIONS`], the rest counted, as the runtime does).
    pub cuts: usize,
}

impl Run<'_> {
    /// Write one record of text fields for the current item, each value
    /// cut to the field bound (and the cut reported), as the runtime does.
    pub fn record(&mut self, kind: &str, fields: &[(&str, &str)]) {
        let mut cut: Vec<&str> = Vec::new();
        let bounded: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| {
                if v.len() > self.max_field_bytes {
                    cut.push(k);
                    let mut end = self.max_field_bytes;
                    while !v.is_char_boundary(end) {
                        end -= 1;
                    }
                    (*k, &v[..end])
                } else {
                    (*k, *v)
                }
            })
            .collect();
        self.out.record(self.item, kind, &bounded);
        for k in cut {
            let what = format!("field {k} of a {kind} record");
            let limit = format!("{} bytes", self.max_field_bytes);
            self.trunc(&what, &limit);
        }
    }

    /// Report a bound that was hit (at most [`RUNTIME_MAX_TRUNCATIONS`] an
    /// item; see [`Run::close_item`]).
    pub fn trunc(&mut self, what: &str, limit: &str) {
        self.cuts += 1;
        if self.cuts <= RUNTIME_MAX_TRUNCATIONS {
            self.out
                .record(self.item, "trunc", &[("what", what), ("limit", limit)]);
        }
    }

    /// The end of an item: the cuts past the cap, counted in one record.
    pub fn close_item(&mut self) {
        if self.cuts > RUNTIME_MAX_TRUNCATIONS {
            let what = format!("{} more cuts of this item, not listed", self.cuts - RUNTIME_MAX_TRUNCATIONS);
            let limit = format!("{RUNTIME_MAX_TRUNCATIONS} cuts listed an item");
            self.out
                .record(self.item, "trunc", &[("what", &what), ("limit", &limit)]);
        }
        self.cuts = 0;
    }

    /// The item could not run at all.
    pub fn error(&mut self, reason: &str) {
        self.out.record(self.item, "error", &[("reason", reason)]);
    }
}

/// The output budget of a job: the first bounds it carries, else the
/// default (the PowerShell runtime takes it the same way).
pub fn output_budget(items: &[JobItem]) -> (u64, usize) {
    let b = items
        .iter()
        .find_map(|i| match i {
            JobItem::Query(Query::Collect { bounds })
            | JobItem::Query(Query::FileFacts { bounds, .. })
            | JobItem::Query(Query::Sweep { bounds, .. }) => Some(bounds.clone()),
            _ => None,
        })
        .unwrap_or_default();
    (b.max_output_bytes, b.max_field_bytes as usize)
}

/// Run a runtime payload on the host: the framed stdout, as `runtime.ps1`
/// would print it.
pub fn run(payload: &str, host: &mut HostState, now: LabTime) -> String {
    let items = match job::data_section(payload)
        .ok_or_else(|| "the payload has no job data".to_string())
        .and_then(|d| job::decode(d).map_err(|e| e.to_string()))
    {
        Ok(items) => items,
        Err(reason) => {
            let mut w = Writer::new(Bounds::default().max_output_bytes);
            w.record(0, "error", &[("reason", &reason)]);
            return w.finish();
        }
    };
    let (budget, max_field_bytes) = output_budget(&items);
    let mut run = Run {
        host,
        now,
        out: Writer::new(budget),
        item: 0,
        max_field_bytes,
        cuts: 0,
    };
    for (i, item) in items.iter().enumerate() {
        run.item = i;
        match item {
            JobItem::Query(Query::Collect { bounds }) => collect::collect(&mut run, bounds),
            JobItem::Query(Query::FileFacts {
                paths,
                list_dirs,
                bounds,
            }) => files::file_facts(&mut run, paths, list_dirs, bounds),
            JobItem::Query(Query::Sweep {
                roots,
                skip,
                hash_extensions,
                max_entries,
                max_hash_bytes,
                bounds,
            }) => sweep::sweep(
                &mut run,
                roots,
                skip,
                hash_extensions,
                *max_entries,
                *max_hash_bytes,
                bounds,
            ),
            JobItem::Query(Query::ReadFile {
                path,
                offset,
                max_bytes,
            }) => files::read_file(&mut run, path, *offset, *max_bytes),
            JobItem::Op(op) => ops::apply(&mut run, op),
            // No twin: the real runtime.ps1 runs these in the lab's
            // PowerShell engine (emulate::bootstrap_host).
            JobItem::Contain(c) => run.record(
                "error",
                &[("reason", &format!("{}: the lab runs containment in its PowerShell engine, in a job of its own", c.kind()))],
            ),
            JobItem::PurgeStep(p) => run.record(
                "error",
                &[("reason", &format!("{}: the lab runs this in its PowerShell engine, in a job of its own", p.kind()))],
            ),
        }
        run.close_item();
    }
    run.out.finish()
}
