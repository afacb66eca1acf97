//! Reads: the latest scan of each host, plans, runs.

use rusqlite::{OptionalExtension, Row, params};

use super::records::*;
use super::{Journal, JournalError};
use crate::runtime::snapshot::Snapshot;

/// A snapshot body: a BLOB (deflated) or TEXT (V1 rows).
fn body_bytes(r: &Row<'_>, index: usize) -> rusqlite::Result<Vec<u8>> {
    use rusqlite::types::ValueRef;
    match r.get_ref(index)? {
        ValueRef::Blob(b) => Ok(b.to_vec()),
        ValueRef::Text(t) => Ok(t.to_vec()),
        other => Err(rusqlite::Error::InvalidColumnType(
            index,
            "body".into(),
            other.data_type(),
        )),
    }
}

pub(crate) fn corrupt(what: impl Into<String>, e: impl std::fmt::Display) -> JournalError {
    JournalError::Corrupt {
        what: what.into(),
        detail: e.to_string(),
    }
}

impl Journal {
    /// The latest successful collection of each host (all hosts of the
    /// journal, or only `hosts` when given; names are case-insensitive), in
    /// host-name order, each with its findings.
    pub fn latest_scans(&self, hosts: Option<&[String]>) -> Result<Vec<LatestScan>, JournalError> {
        let mut out = Vec::new();
        self.each_latest_scan(hosts, |scan| {
            out.push(scan);
            Ok(())
        })?;
        Ok(out)
    }

    /// [`Journal::latest_scans`] one host at a time: `each` gets every
    /// host's latest scan in host-name order and may stop the walk with an
    /// error. Only one snapshot is in memory at a time, so a pass over
    /// 10,000 hosts (the fleet's judgement, stacking) stays small.
    pub fn each_latest_scan(
        &self,
        hosts: Option<&[String]>,
        mut each: impl FnMut(LatestScan) -> Result<(), JournalError>,
    ) -> Result<(), JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT h.id, h.name, h.address, s.run_id, s.id, s.at, sn.id
             FROM hosts h
             JOIN snapshots sn ON sn.id = (SELECT MAX(id) FROM snapshots WHERE host_id = h.id)
             JOIN scans s ON s.id = sn.scan_id
             ORDER BY h.name",
        )?;
        let mut rows = stmt.query([])?;
        let wanted: Option<std::collections::HashSet<String>> =
            hosts.map(|list| list.iter().map(|h| h.to_lowercase()).collect());
        let wanted = |name: &str| wanted.as_ref().is_none_or(|w| w.contains(&name.to_lowercase()));
        while let Some(r) = rows.next()? {
            let host: String = r.get(1)?;
            if !wanted(&host) {
                continue;
            }
            let snapshot_id: i64 = r.get(6)?;
            let snapshot = self.snapshot(snapshot_id, &host)?;
            let findings = self.findings_of(snapshot_id)?;
            each(LatestScan {
                host,
                address: r.get(2)?,
                host_id: r.get(0)?,
                run_id: r.get(3)?,
                scan_id: r.get(4)?,
                snapshot_id,
                scanned_at: r.get(5)?,
                snapshot,
                findings,
            })?;
        }
        Ok(())
    }

    /// Snapshot `id` of `host` (named in errors), decoded.
    pub fn snapshot(&self, id: SnapshotId, host: &str) -> Result<Snapshot, JournalError> {
        let (body, encoding) = self
            .conn
            .prepare_cached("SELECT body, encoding FROM snapshots WHERE id = ?1")?
            .query_row([id], |b| Ok((body_bytes(b, 0)?, b.get::<_, String>(1)?)))?;
        let what = || format!("snapshot {id} of {host}");
        let text = super::snapshot_codec::decode(&encoding, &body).map_err(|e| corrupt(what(), e))?;
        drop(body);
        serde_json::from_str(&text).map_err(|e| corrupt(what(), e))
    }

    /// The snapshots `host` was planned from in `operation`: its reviewed
    /// plan's, then each re-purge round's (a plan whose operations the
    /// operation carries out), oldest first.
    pub fn operation_snapshots(&self, operation: i64, host: &str) -> Result<Vec<SnapshotId>, JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT ph.snapshot_id FROM plan_hosts ph JOIN hosts h ON h.id = ph.host_id
             WHERE h.name = ?2 AND ph.plan_id IN (
                 SELECT plan_id FROM operations WHERE id = ?1 AND plan_id IS NOT NULL
                 UNION
                 SELECT po.plan_id FROM operation_ops oo JOIN plan_ops po ON po.id = oo.plan_op_id
                 WHERE oo.operation_id = ?1)
             ORDER BY ph.snapshot_id",
        )?;
        let rows = stmt.query_map(params![operation, host], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The OS caption each host last reported, by lower-case name.
    pub fn host_os(&self) -> Result<std::collections::HashMap<String, String>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, os FROM hosts WHERE os IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (name, os) = row?;
            out.insert(name.to_lowercase(), os);
        }
        Ok(out)
    }

    /// Every address a scan of this engagement found the operator at, as
    /// a host saw it (cauterize's own WinRM logons come from these).
    pub fn operator_addresses(&self) -> Result<Vec<String>, JournalError> {
        let mut stmt = self.conn.prepare("SELECT address FROM operator_addresses ORDER BY address")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The id of each host's latest snapshot, by lower-case host name.
    pub fn latest_snapshot_ids(
        &self,
    ) -> Result<std::collections::HashMap<String, SnapshotId>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT h.name, MAX(sn.id) FROM hosts h JOIN snapshots sn ON sn.host_id = h.id GROUP BY h.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (name, id) = row?;
            out.insert(name.to_lowercase(), id);
        }
        Ok(out)
    }

    /// The findings of one snapshot, in the order detection gave them.
    pub fn findings_of(&self, snapshot: SnapshotId) -> Result<Vec<StoredFinding>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, body, encoding FROM findings WHERE snapshot_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([snapshot], |r| {
            Ok((r.get::<_, i64>(0)?, body_bytes(r, 1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body, encoding) = row?;
            let what = || format!("finding {id}");
            let text = super::snapshot_codec::decode(&encoding, &body).map_err(|e| corrupt(what(), e))?;
            out.push(serde_json::from_str(&text).map_err(|e| corrupt(what(), e))?);
        }
        Ok(out)
    }

    /// Hosts whose most recent collection attempt failed, with why.
    pub fn last_failures(&self) -> Result<Vec<FailedScan>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT h.name, s.run_id, s.at, COALESCE(s.error_kind, ''), COALESCE(s.error, '')
             FROM hosts h JOIN scans s ON s.id = (SELECT MAX(id) FROM scans WHERE host_id = h.id)
             WHERE s.status = 'failed' ORDER BY h.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FailedScan {
                host: r.get(0)?,
                run_id: r.get(1)?,
                at: r.get(2)?,
                kind: r.get(3)?,
                error: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The id of the engagement's newest plan, if it has one.
    pub fn latest_plan_id(&self) -> Result<Option<PlanId>, JournalError> {
        Ok(self.conn.query_row("SELECT max(id) FROM plans", [], |r| r.get(0))?)
    }

    /// A plan with every host and operation, or `None` when no such plan.
    pub fn plan(&self, plan: PlanId) -> Result<Option<StoredPlan>, JournalError> {
        let head = self
            .conn
            .query_row(
                "SELECT run_id, created_at, path, sha256, playbook_sha256, settings FROM plans WHERE id = ?1",
                [plan],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((run_id, created_at, path, sha256, playbook_sha256, settings)) = head else {
            return Ok(None);
        };
        let mut hosts_stmt = self.conn.prepare(
            "SELECT h.id, h.name, ph.snapshot_id FROM plan_hosts ph JOIN hosts h ON h.id = ph.host_id
             WHERE ph.plan_id = ?1 ORDER BY h.name",
        )?;
        let host_rows: Vec<(i64, String, i64)> = hosts_stmt
            .query_map([plan], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut ops_stmt = self.conn.prepare(
            "SELECT id, seq, active, op, rules, why FROM plan_ops WHERE plan_id = ?1 AND host_id = ?2 ORDER BY seq",
        )?;
        let mut hosts = Vec::new();
        for (host_id, host, snapshot_id) in host_rows {
            let rows: Vec<(i64, i64, bool, String, String, String)> = ops_stmt
                .query_map(params![plan, host_id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<Result<_, _>>()?;
            let mut ops = Vec::new();
            for (id, seq, active, op, rules, why) in rows {
                let rules: Vec<String> = serde_json::from_str(&rules)
                    .map_err(|e| corrupt(format!("plan op {id}"), e))?;
                ops.push(StoredPlanOp {
                    id,
                    seq: seq as u32,
                    active,
                    op,
                    rules,
                    why,
                });
            }
            hosts.push(StoredPlanHost {
                host,
                host_id,
                snapshot_id,
                ops,
            });
        }
        Ok(Some(StoredPlan {
            plan_id: plan,
            run_id,
            created_at,
            path,
            sha256,
            playbook_sha256,
            settings,
            hosts,
        }))
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, command, argv, operator, version, started_at, ended_at, exit_code, operation_id FROM runs ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let argv: String = r.get(2)?;
            Ok((
                argv,
                RunRecord {
                    id: r.get(0)?,
                    command: r.get(1)?,
                    argv: Vec::new(),
                    operator: r.get(3)?,
                    version: r.get(4)?,
                    started_at: r.get(5)?,
                    ended_at: r.get(6)?,
                    exit_code: r.get(7)?,
                    operation_id: r.get(8)?,
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (argv, mut run) = row?;
            run.argv =
                serde_json::from_str(&argv).map_err(|e| corrupt(format!("run {}", run.id), e))?;
            out.push(run);
        }
        Ok(out)
    }

    /// Number of rows in a table of the journal (tests, reports).
    pub fn count(&self, table: &str) -> Result<i64, JournalError> {
        const TABLES: &[&str] = &[
            "runs",
            "hosts",
            "scans",
            "snapshots",
            "findings",
            "plans",
            "plan_hosts",
            "plan_ops",
            "plan_reviews",
            "actions",
            "events",
            "operations",
            "operation_hosts",
            "operation_ops",
        ];
        if !TABLES.contains(&table) {
            return Err(corrupt(table, "no such journal table"));
        }
        Ok(self
            .conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
    }

    /// `(outcome, detail)` of an action (`None` when there is no such
    /// action).
    pub fn action_outcome(&self, action: ActionId) -> Result<Option<ActionState>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT outcome, detail FROM actions WHERE id = ?1",
                [action],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}
