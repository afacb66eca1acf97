//! The operation's records: one row per operation (apply, run, contain,
//! release) with the plan and playbook it ran with; each host's state in
//! it; the plan operations it carries out per round; every action keyed so
//! that a resumed run finds it; audit events. Written by the engine's
//! journal sink (`engine::record`), read back to resume and by `status`.
//! States and outcomes are the engine's words, stored as text.

use rusqlite::{OptionalExtension, params};

use super::read::corrupt;
use super::records::{ActionId, PlanOpId, RunId};
use super::schema::NOW;
use super::write::{host_id, insert_event, upsert_host};
use super::{Journal, JournalError, Level};

pub type OperationId = i64;

/// A host entering an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationHostSeed {
    pub host: String,
    pub address: String,
    /// `workstation`, `server`, `domain_controller`.
    pub role: String,
    /// Its first state (`pending`, or `refused` with why).
    pub state: String,
    pub reason: Option<String>,
}

/// An operation being started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOperation {
    pub command: String,
    pub plan_id: Option<i64>,
    /// SHA-256 of the plan file as reviewed.
    pub plan_sha256: Option<String>,
    pub playbook_sha256: Option<String>,
    /// JSON of the engine's settings.
    pub settings: String,
    pub run: RunId,
    pub hosts: Vec<OperationHostSeed>,
    /// `(host, plan_op_id)` of round 0, in execution order.
    pub ops: Vec<(String, PlanOpId)>,
}

/// An operation as the journal has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRecord {
    pub id: OperationId,
    pub command: String,
    pub plan_id: Option<i64>,
    pub plan_sha256: Option<String>,
    pub playbook_sha256: Option<String>,
    pub settings: String,
    pub started_run: RunId,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// `running`, `halted`, `interrupted`, `finished`.
    pub status: String,
    pub exit_code: Option<i32>,
    pub next: Option<String>,
}

/// One host of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationHostRow {
    pub host: String,
    pub address: String,
    pub role: String,
    pub state: String,
    pub reason: Option<String>,
    pub round: u32,
    pub contained: bool,
    pub updated_at: String,
}

/// One plan operation of an operation, with its op as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationOpRow {
    pub host: String,
    pub plan_op_id: PlanOpId,
    pub plan_id: i64,
    pub round: u32,
    /// JSON of the operation (`runtime::ops::Op`).
    pub op: String,
}

/// One action of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationActionRow {
    pub id: ActionId,
    pub run_id: RunId,
    pub host: String,
    pub phase: String,
    pub key: String,
    pub plan_op_id: Option<PlanOpId>,
    pub op: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub outcome: Option<String>,
    pub detail: Option<String>,
}

/// One audit line of an operation (host moves, decisions, messages), as
/// the journal has it: `message` is the event's JSON for the engine's
/// events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationEventRow {
    pub id: i64,
    pub run_id: Option<RunId>,
    pub host: Option<String>,
    pub at: String,
    pub level: String,
    pub kind: String,
    pub message: String,
}

/// A host's state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStateChange<'a> {
    pub host: &'a str,
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub round: u32,
    pub contained: bool,
    /// The audit line (JSON of the event).
    pub event: &'a str,
}

/// An action about to happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionStart<'a> {
    pub host: &'a str,
    pub phase: &'a str,
    pub key: &'a str,
    pub plan_op: Option<PlanOpId>,
    pub op: &'a str,
}

impl Journal {
    /// Start an operation: its row, its hosts (pending), its round-0
    /// operations, and the run attached to it.
    pub fn begin_operation(&mut self, new: &NewOperation) -> Result<OperationId, JournalError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO operations (command, plan_id, plan_sha256, playbook_sha256, settings, started_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![new.command, new.plan_id, new.plan_sha256, new.playbook_sha256, new.settings, new.run],
            )?;
            let op = tx.last_insert_rowid();
            tx.execute("UPDATE runs SET operation_id = ?1 WHERE id = ?2", params![op, new.run])?;
            {
                let mut stmt = tx.prepare(
                    "INSERT INTO operation_hosts (operation_id, host_id, role, state, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for h in &new.hosts {
                    let hid = upsert_host(tx, new.run, &h.host, &h.address)?;
                    stmt.execute(params![op, hid, h.role, h.state, h.reason])?;
                }
            }
            insert_ops(tx, op, 0, &new.ops)?;
            Ok(op)
        })
    }

    /// Attach a resumed run to its operation (and mark it running again).
    pub fn attach_run(&mut self, operation: OperationId, run: RunId) -> Result<(), JournalError> {
        self.write(|tx| {
            tx.execute("UPDATE runs SET operation_id = ?1 WHERE id = ?2", params![operation, run])?;
            tx.execute(
                "UPDATE operations SET status = 'running', ended_at = NULL, exit_code = NULL, next = NULL WHERE id = ?1",
                [operation],
            )?;
            Ok(())
        })
    }

    /// Plan operations of a later round (a re-purge) for one host.
    pub fn add_operation_ops(
        &mut self,
        operation: OperationId,
        round: u32,
        ops: &[(String, PlanOpId)],
    ) -> Result<(), JournalError> {
        self.write(|tx| insert_ops(tx, operation, round, ops))
    }

    /// End an operation (`halted`, `interrupted`, `finished`).
    pub fn end_operation(
        &mut self,
        operation: OperationId,
        status: &str,
        exit_code: i32,
        next: Option<&str>,
    ) -> Result<(), JournalError> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "UPDATE operations SET status = ?1, exit_code = ?2, next = ?3, ended_at = {NOW} WHERE id = ?4"
                ),
                params![status, exit_code, next, operation],
            )?;
            Ok(())
        })
    }

    /// Record that an action is about to be carried out.
    pub fn operation_action_begun(
        &mut self,
        operation: OperationId,
        run: RunId,
        action: &ActionStart<'_>,
    ) -> Result<ActionId, JournalError> {
        self.write(|tx| {
            let hid = host_id(tx, action.host)?;
            let plan_id: Option<i64> = match action.plan_op {
                Some(id) => tx
                    .query_row("SELECT plan_id FROM plan_ops WHERE id = ?1", [id], |r| r.get(0))
                    .optional()?,
                None => None,
            };
            tx.execute(
                "INSERT INTO actions (run_id, operation_id, plan_id, plan_op_id, host_id, phase, key, op)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![run, operation, plan_id, action.plan_op, hid, action.phase, action.key, action.op],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Record how the latest unfinished attempt of the action `key` on
    /// `host` ended.
    pub fn operation_action_ended(
        &mut self,
        operation: OperationId,
        host: &str,
        key: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<(), JournalError> {
        self.write(|tx| {
            let hid = host_id(tx, host)?;
            let changed = tx.execute(
                &format!(
                    "UPDATE actions SET ended_at = {NOW}, outcome = ?1, detail = ?2
                     WHERE id = (SELECT MAX(id) FROM actions
                                 WHERE operation_id = ?3 AND host_id = ?4 AND key = ?5 AND ended_at IS NULL)"
                ),
                params![outcome, detail, operation, hid, key],
            )?;
            if changed == 0 {
                return Err(corrupt(
                    format!("action {key} of operation {operation} on {host}"),
                    "it ended but was never begun",
                ));
            }
            Ok(())
        })
    }

    /// A host's new state, with its audit line.
    pub fn set_host_state(
        &mut self,
        operation: OperationId,
        run: RunId,
        change: &HostStateChange<'_>,
    ) -> Result<(), JournalError> {
        self.write(|tx| {
            let hid = host_id(tx, change.host)?;
            let n = tx.execute(
                &format!(
                    "UPDATE operation_hosts SET state = ?1, reason = ?2, round = ?3, contained = ?4, updated_at = {NOW}
                     WHERE operation_id = ?5 AND host_id = ?6"
                ),
                params![change.state, change.reason, change.round, change.contained, operation, hid],
            )?;
            if n == 0 {
                return Err(corrupt(
                    format!("host {} of operation {operation}", change.host),
                    "not one of the operation's hosts",
                ));
            }
            insert_event(tx, Some(run), Some(operation), Some(change.host), Level::Info, "host_state", change.event)
        })
    }

    /// An audit line of the operation.
    pub fn operation_event(
        &mut self,
        operation: OperationId,
        run: RunId,
        host: Option<&str>,
        level: Level,
        kind: &str,
        message: &str,
    ) -> Result<(), JournalError> {
        self.write(|tx| insert_event(tx, Some(run), Some(operation), host, level, kind, message))
    }

    /// The engagement's id (names the rules and tasks left on hosts).
    pub fn engagement_id(&self) -> Result<String, JournalError> {
        Ok(self.conn.query_row("SELECT id FROM engagement", [], |r| r.get(0))?)
    }

    /// Replace the engagement's id, as a journal made by an older version
    /// holds it (tests of the upgrade path only).
    #[cfg(test)]
    pub(crate) fn set_engagement_id_for_test(&mut self, id: &str) {
        self.conn.execute("UPDATE engagement SET id = ?1", [id]).unwrap();
    }

    /// Record that the operator accepts a set-aside host as handled (it no
    /// longer holds the release).
    pub fn accept_host(&mut self, operation: OperationId, run: RunId, host: &str) -> Result<(), JournalError> {
        self.write(|tx| {
            host_id(tx, host)?;
            insert_event(
                tx,
                Some(run),
                Some(operation),
                Some(host),
                Level::Warning,
                "accepted",
                &format!("{host} accepted by the operator: it no longer holds the release"),
            )
        })
    }

    /// Hosts the operator accepted in an operation.
    pub fn accepted_hosts(&self, operation: OperationId) -> Result<Vec<String>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT h.name FROM events e JOIN hosts h ON h.id = e.host_id
             WHERE e.operation_id = ?1 AND e.kind = 'accepted' ORDER BY h.name",
        )?;
        let rows = stmt.query_map([operation], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The address the journal has for a host.
    pub fn host_address(&self, host: &str) -> Result<Option<String>, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT address FROM hosts WHERE name = ?1", [host], |r| r.get(0))
            .optional()?)
    }

    /// The latest operation that carried out `plan`, if any.
    pub fn operation_of_plan(&self, plan: i64) -> Result<Option<OperationRecord>, JournalError> {
        self.operation_where("id = (SELECT MAX(id) FROM operations WHERE plan_id = ?1)", params![plan])
    }

    /// An operation by id.
    pub fn operation(&self, operation: OperationId) -> Result<Option<OperationRecord>, JournalError> {
        self.operation_where("id = ?1", params![operation])
    }

    /// The most recent operation of the engagement.
    pub fn latest_operation(&self) -> Result<Option<OperationRecord>, JournalError> {
        self.operation_where("id = (SELECT MAX(id) FROM operations)", params![])
    }

    fn operation_where(
        &self,
        clause: &str,
        args: impl rusqlite::Params,
    ) -> Result<Option<OperationRecord>, JournalError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT id, command, plan_id, plan_sha256, playbook_sha256, settings, started_run, started_at,
                            ended_at, status, exit_code, next FROM operations WHERE {clause}"
                ),
                args,
                |r| {
                    Ok(OperationRecord {
                        id: r.get(0)?,
                        command: r.get(1)?,
                        plan_id: r.get(2)?,
                        plan_sha256: r.get(3)?,
                        playbook_sha256: r.get(4)?,
                        settings: r.get(5)?,
                        started_run: r.get(6)?,
                        started_at: r.get(7)?,
                        ended_at: r.get(8)?,
                        status: r.get(9)?,
                        exit_code: r.get(10)?,
                        next: r.get(11)?,
                    })
                },
            )
            .optional()?)
    }

    /// The hosts of an operation, by name.
    pub fn operation_hosts(&self, operation: OperationId) -> Result<Vec<OperationHostRow>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT h.name, h.address, oh.role, oh.state, oh.reason, oh.round, oh.contained, oh.updated_at
             FROM operation_hosts oh JOIN hosts h ON h.id = oh.host_id
             WHERE oh.operation_id = ?1 ORDER BY h.name",
        )?;
        let rows = stmt.query_map([operation], |r| {
            Ok(OperationHostRow {
                host: r.get(0)?,
                address: r.get(1)?,
                role: r.get(2)?,
                state: r.get(3)?,
                reason: r.get(4)?,
                round: r.get(5)?,
                contained: r.get(6)?,
                updated_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The plan operations of an operation, in round and plan order.
    pub fn operation_ops(&self, operation: OperationId) -> Result<Vec<OperationOpRow>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT h.name, po.id, po.plan_id, oo.round, po.op
             FROM operation_ops oo JOIN plan_ops po ON po.id = oo.plan_op_id JOIN hosts h ON h.id = oo.host_id
             WHERE oo.operation_id = ?1 ORDER BY oo.round, po.plan_id, h.name, po.seq",
        )?;
        let rows = stmt.query_map([operation], |r| {
            Ok(OperationOpRow {
                host: r.get(0)?,
                plan_op_id: r.get(1)?,
                plan_id: r.get(2)?,
                round: r.get(3)?,
                op: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every audit line of an operation, oldest first.
    pub fn operation_events(&self, operation: OperationId) -> Result<Vec<OperationEventRow>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.id, e.run_id, h.name, e.at, e.level, e.kind, e.message
             FROM events e LEFT JOIN hosts h ON h.id = e.host_id
             WHERE e.operation_id = ?1 ORDER BY e.id",
        )?;
        let rows = stmt.query_map([operation], |r| {
            Ok(OperationEventRow {
                id: r.get(0)?,
                run_id: r.get(1)?,
                host: r.get(2)?,
                at: r.get(3)?,
                level: r.get(4)?,
                kind: r.get(5)?,
                message: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The runs that worked on an operation (the first, then resumes),
    /// oldest first.
    pub fn operation_runs(&self, operation: OperationId) -> Result<Vec<super::RunRecord>, JournalError> {
        Ok(self
            .runs()?
            .into_iter()
            .filter(|r| r.operation_id == Some(operation))
            .collect())
    }

    /// Every action of an operation, oldest first.
    pub fn operation_actions(&self, operation: OperationId) -> Result<Vec<OperationActionRow>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT a.id, a.run_id, h.name, COALESCE(a.phase, ''), COALESCE(a.key, ''), a.plan_op_id, a.op,
                    a.started_at, a.ended_at, a.outcome, a.detail
             FROM actions a JOIN hosts h ON h.id = a.host_id
             WHERE a.operation_id = ?1 ORDER BY a.id",
        )?;
        let rows = stmt.query_map([operation], |r| {
            Ok(OperationActionRow {
                id: r.get(0)?,
                run_id: r.get(1)?,
                host: r.get(2)?,
                phase: r.get(3)?,
                key: r.get(4)?,
                plan_op_id: r.get(5)?,
                op: r.get(6)?,
                started_at: r.get(7)?,
                ended_at: r.get(8)?,
                outcome: r.get(9)?,
                detail: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn insert_ops(
    tx: &rusqlite::Connection,
    operation: OperationId,
    round: u32,
    ops: &[(String, PlanOpId)],
) -> Result<(), JournalError> {
    let mut stmt = tx.prepare(
        "INSERT OR IGNORE INTO operation_ops (operation_id, plan_op_id, host_id, round) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (host, plan_op) in ops {
        let hid = host_id(tx, host)?;
        stmt.execute(params![operation, plan_op, hid, round])?;
    }
    Ok(())
}
