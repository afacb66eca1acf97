//! Writes. Each public method is one write ([`Journal::write`]): a run
//! killed half-way leaves the journal as it was before the method, never
//! half a host.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::records::*;
use super::schema::NOW;
use super::{Journal, JournalError};

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut hex = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, JournalError> {
    serde_json::to_string(value).map_err(|e| JournalError::Corrupt {
        what: what.to_string(),
        detail: e.to_string(),
    })
}

/// Insert or refresh a host; returns its id.
pub(crate) fn upsert_host(
    tx: &Connection,
    run: RunId,
    name: &str,
    address: &str,
) -> Result<HostId, JournalError> {
    let existing: Option<HostId> = tx
        .query_row("SELECT id FROM hosts WHERE name = ?1", [name], |r| r.get(0))
        .optional()?;
    Ok(match existing {
        Some(id) => {
            tx.execute(
                "UPDATE hosts SET address = ?1, last_run = ?2 WHERE id = ?3",
                params![address, run, id],
            )?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO hosts (name, address, first_run, last_run) VALUES (?1, ?2, ?3, ?3)",
                params![name, address, run],
            )?;
            tx.last_insert_rowid()
        }
    })
}

pub(crate) fn host_id(tx: &Connection, name: &str) -> Result<HostId, JournalError> {
    tx.query_row("SELECT id FROM hosts WHERE name = ?1", [name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| JournalError::Corrupt {
            what: format!("host {name}"),
            detail: "not in the journal's hosts table".into(),
        })
}

/// A finding as its row in the `findings` table (without its snapshot and
/// host), encoded before a transaction so that the write lock is held for
/// the inserts only.
pub(crate) struct FindingRow {
    rule_id: &'static str,
    family: &'static str,
    confidence: String,
    certain: bool,
    description: String,
    allowlisted: Option<String>,
    /// The finding's JSON, deflated.
    body: Vec<u8>,
}

/// Encode `findings` as rows.
fn finding_rows(findings: &[crate::detect::Finding]) -> Result<Vec<FindingRow>, JournalError> {
    findings
        .iter()
        .map(|f| {
            Ok(FindingRow {
                rule_id: f.rule_id,
                family: f.family.name(),
                confidence: format!("{:?}", f.confidence()).to_ascii_lowercase(),
                certain: f.certain,
                description: f.artifact.describe(),
                allowlisted: f.allowlisted.clone(),
                body: super::snapshot_codec::encode(&to_json(&StoredFinding::from(f), "finding")?),
            })
        })
        .collect()
}

/// Insert `rows` as findings of snapshot `sid` of host `host_id`.
fn insert_findings(tx: &Connection, sid: SnapshotId, host_id: HostId, rows: &[FindingRow]) -> Result<(), JournalError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO findings (snapshot_id, host_id, rule_id, family, confidence, certain, description, allowlisted, body, encoding)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for r in rows {
        insert.execute(params![
            sid,
            host_id,
            r.rule_id,
            r.family,
            r.confidence,
            r.certain,
            r.description,
            r.allowlisted,
            r.body,
            super::snapshot_codec::ENCODING,
        ])?;
    }
    Ok(())
}

impl Journal {
    /// Start a run. `argv` must already be redacted ([`super::argv::redact`]).
    pub fn begin_run(&mut self, command: &str, argv: &[String]) -> Result<RunId, JournalError> {
        let argv = to_json(&argv, "argv")?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO runs (command, argv, operator, version) VALUES (?1, ?2, ?3, ?4)",
                params![
                    command,
                    argv,
                    super::argv::operator(),
                    env!("CARGO_PKG_VERSION")
                ],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// End a run with its exit code.
    pub fn end_run(&mut self, run: RunId, exit_code: i32) -> Result<(), JournalError> {
        self.write(|tx| {
            tx.execute(
                &format!("UPDATE runs SET ended_at = {NOW}, exit_code = ?1 WHERE id = ?2"),
                params![exit_code, run],
            )?;
            Ok(())
        })
    }

    /// Record one collection attempt: the host, the attempt, and when it
    /// succeeded the snapshot and its findings.
    pub fn record_scan(
        &mut self,
        run: RunId,
        host: &str,
        address: &str,
        elapsed_ms: u64,
        result: ScanResult<'_>,
    ) -> Result<ScanIds, JournalError> {
        let elapsed = i64::try_from(elapsed_ms).unwrap_or(i64::MAX);
        // Encoded before the transaction: the write lock is held for the
        // inserts only.
        let encoded = match result {
            ScanResult::Collected { snapshot, findings } => {
                let json = to_json(snapshot, "snapshot")?;
                let sha = sha256_hex(json.as_bytes());
                let body = super::snapshot_codec::encode(&json);
                let rows = finding_rows(findings)?;
                Some((snapshot, sha, body, rows))
            }
            ScanResult::Failed { .. } => None,
        };
        self.write(|tx| {
            let host_id = upsert_host(tx, run, host, address)?;
            let (status, kind, error) = match result {
                ScanResult::Collected { .. } => ("ok", None, None),
                ScanResult::Failed { kind, error } => ("failed", Some(kind), Some(error)),
            };
            tx.execute(
                "INSERT INTO scans (run_id, host_id, status, error_kind, error, elapsed_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![run, host_id, status, kind, error, elapsed],
            )?;
            let scan_id = tx.last_insert_rowid();
            let mut snapshot_id = None;
            if let Some((snapshot, sha, body, rows)) = &encoded {
                tx.execute(
                    "UPDATE hosts SET os = ?1 WHERE id = ?2",
                    params![snapshot.os_caption, host_id],
                )?;
                tx.execute(
                    "INSERT INTO snapshots (scan_id, host_id, collected_at, sha256, body, encoding) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![scan_id, host_id, snapshot.collected_at, sha, body, super::snapshot_codec::ENCODING],
                )?;
                let sid = tx.last_insert_rowid();
                insert_findings(tx, sid, host_id, rows)?;
                if !snapshot.operator_address.is_empty() {
                    tx.execute(
                        "INSERT OR IGNORE INTO operator_addresses (address, first_host) VALUES (?1, ?2)",
                        params![snapshot.operator_address, host_id],
                    )?;
                }
                snapshot_id = Some(sid);
            }
            Ok(ScanIds {
                host_id,
                scan_id,
                snapshot_id,
            })
        })
    }

    /// Replace the findings whose rule id starts with `rule_prefix` on
    /// every host's latest snapshot by `found` (snapshot id and its new
    /// findings), in one transaction; returns how many were written.
    /// Findings derived from the whole network (the fleet's judgement) are
    /// recomputed whole after every scan: those of older snapshots stay as
    /// history, those of the latest ones are replaced.
    pub fn replace_latest_findings(
        &mut self,
        rule_prefix: &str,
        found: &[(SnapshotId, Vec<crate::detect::Finding>)],
    ) -> Result<usize, JournalError> {
        let encoded = found
            .iter()
            .map(|(sid, findings)| Ok((*sid, finding_rows(findings)?)))
            .collect::<Result<Vec<_>, JournalError>>()?;
        self.write(|tx| {
        tx.execute(
            "DELETE FROM findings WHERE substr(rule_id, 1, length(?1)) = ?1 AND snapshot_id IN
             (SELECT MAX(id) FROM snapshots GROUP BY host_id)",
            [rule_prefix],
        )?;
        let mut written = 0;
        for (sid, rows) in &encoded {
            let host_id: HostId = tx
                .query_row("SELECT host_id FROM snapshots WHERE id = ?1", [sid], |r| r.get(0))
                .optional()?
                .ok_or_else(|| JournalError::Corrupt {
                    what: format!("snapshot {sid}"),
                    detail: "not in the journal's snapshots table".into(),
                })?;
            insert_findings(tx, *sid, host_id, rows)?;
            written += rows.len();
        }
        Ok(written)
        })
    }

    /// Record a plan and every one of its operations. `render` gets the new
    /// plan's id and returns the file text; its SHA-256 is stored with the
    /// plan, in the same transaction. Returns the id and the text.
    pub fn record_plan(
        &mut self,
        plan: &NewPlan,
        render: impl FnOnce(PlanId) -> String,
    ) -> Result<(PlanId, String), JournalError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO plans (run_id, path, sha256, playbook_sha256, settings) VALUES (?1, ?2, '', ?3, ?4)",
                params![plan.run_id, plan.path, plan.playbook_sha256, plan.settings],
            )?;
            let plan_id = tx.last_insert_rowid();
            {
                let mut host_stmt = tx.prepare(
                    "INSERT INTO plan_hosts (plan_id, host_id, snapshot_id) VALUES (?1, ?2, ?3)",
                )?;
                let mut op_stmt = tx.prepare(
                    "INSERT INTO plan_ops (plan_id, host_id, seq, active, op, rules, why) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for h in &plan.hosts {
                    let hid = host_id(tx, &h.host)?;
                    host_stmt.execute(params![plan_id, hid, h.snapshot_id])?;
                    for (seq, op) in h.ops.iter().enumerate() {
                        op_stmt.execute(params![
                            plan_id,
                            hid,
                            seq as i64,
                            op.active,
                            op.op,
                            to_json(&op.rules, "rules")?,
                            op.why
                        ])?;
                    }
                }
            }
            let text = render(plan_id);
            tx.execute(
                "UPDATE plans SET sha256 = ?1 WHERE id = ?2",
                params![sha256_hex(text.as_bytes()), plan_id],
            )?;
            Ok((plan_id, text))
        })
    }

    /// Record that a plan file (maybe edited) was read and accepted.
    pub fn record_plan_review(
        &mut self,
        plan: PlanId,
        sha256: &str,
        kept: usize,
        removed: usize,
    ) -> Result<i64, JournalError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO plan_reviews (plan_id, sha256, kept, removed) VALUES (?1, ?2, ?3, ?4)",
                params![plan, sha256, kept as i64, removed as i64],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Record that an operation is about to be carried out on a host.
    pub fn begin_action(
        &mut self,
        run: RunId,
        plan: Option<PlanId>,
        plan_op: Option<PlanOpId>,
        host: &str,
        op_json: &str,
    ) -> Result<ActionId, JournalError> {
        self.write(|tx| {
            let hid = host_id(tx, host)?;
            tx.execute(
                "INSERT INTO actions (run_id, plan_id, plan_op_id, host_id, op) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run, plan, plan_op, hid, op_json],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Record how an action ended.
    pub fn finish_action(
        &mut self,
        action: ActionId,
        outcome: ActionOutcome,
        detail: &str,
    ) -> Result<(), JournalError> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "UPDATE actions SET ended_at = {NOW}, outcome = ?1, detail = ?2 WHERE id = ?3"
                ),
                params![outcome.as_str(), detail, action],
            )?;
            Ok(())
        })
    }

    /// An audit line, about a host or the whole run.
    pub fn event(
        &mut self,
        run: Option<RunId>,
        host: Option<&str>,
        level: Level,
        kind: &str,
        message: &str,
    ) -> Result<(), JournalError> {
        self.write(|tx| insert_event(tx, run, None, host, level, kind, message))
    }
}

/// One audit line, inside a write.
pub(crate) fn insert_event(
    tx: &Connection,
    run: Option<RunId>,
    operation: Option<i64>,
    host: Option<&str>,
    level: Level,
    kind: &str,
    message: &str,
) -> Result<(), JournalError> {
    let hid = match host {
        Some(h) => tx
            .query_row("SELECT id FROM hosts WHERE name = ?1", [h], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?,
        None => None,
    };
    tx.execute(
        "INSERT INTO events (run_id, operation_id, host_id, level, kind, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![run, operation, hid, level.as_str(), kind, message],
    )?;
    Ok(())
}
