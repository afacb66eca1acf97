//! Unlisted sources of lateral movement in an operation: each change of an
//! address's standing (held, resolved, accepted) as one row, the latest
//! row of an address being its standing now. Who and when come from the
//! run that wrote it. Written by the operation's source review
//! (`engine::sources`), read back by it, by `status` and by the report.

use rusqlite::params;

use super::operation::OperationId;
use super::read::corrupt;
use super::records::RunId;
use super::{Journal, JournalError};

/// One address's latest standing in an operation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceRow {
    pub address: String,
    /// `held`, `resolved` or `accepted`.
    pub state: String,
    /// The hosts it reached.
    pub hosts: Vec<String>,
    /// Why it holds, how it was resolved, or the operator's reason.
    pub detail: String,
    /// When this standing was recorded (UTC).
    pub at: String,
    /// Who ran the command that recorded it (`user@machine`).
    pub operator: String,
    /// That command (`apply`, `run`, `release`, ...).
    pub command: String,
}

impl Journal {
    /// Record a new standing of `address` in `operation`.
    pub fn record_source(
        &mut self,
        operation: OperationId,
        run: RunId,
        address: &str,
        state: &str,
        hosts: &[String],
        detail: &str,
    ) -> Result<(), JournalError> {
        let hosts = serde_json::to_string(hosts).map_err(|e| corrupt("source hosts", e))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO source_holds (operation_id, run_id, address, state, hosts, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![operation, run, address, state, hosts, detail],
            )?;
            Ok(())
        })
    }

    /// Every address's latest standing in `operation`, by address.
    pub fn sources(&self, operation: OperationId) -> Result<Vec<SourceRow>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.address, s.state, s.hosts, s.detail, s.at, r.operator, r.command
             FROM source_holds s JOIN runs r ON r.id = s.run_id
             WHERE s.id IN (SELECT MAX(id) FROM source_holds WHERE operation_id = ?1 GROUP BY address)
             ORDER BY s.address",
        )?;
        let rows = stmt.query_map([operation], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (address, state, hosts, detail, at, operator, command) = row?;
            let hosts = serde_json::from_str(&hosts).map_err(|e| corrupt(format!("hosts of source {address}"), e))?;
            out.push(SourceRow { address, state, hosts, detail, at, operator, command });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_standing_of_each_address_is_read_back_with_who_wrote_it() {
        let mut j = Journal::open_in_memory().unwrap();
        let run = j.begin_run("run", &[]).unwrap();
        let op = j
            .begin_operation(&crate::journal::operation::NewOperation {
                command: "run".into(),
                plan_id: None,
                plan_sha256: None,
                playbook_sha256: None,
                settings: "{}".into(),
                run,
                hosts: vec![],
                ops: vec![],
            })
            .unwrap();
        let hosts = vec!["WS-004".to_string()];
        j.record_source(op, run, "10.9.9.9", "held", &hosts, "not in the inventory").unwrap();
        j.record_source(op, run, "10.9.9.8", "held", &hosts, "not in the inventory").unwrap();
        let later = j.begin_run("release", &[]).unwrap();
        j.record_source(op, later, "10.9.9.9", "accepted", &hosts, "the backup server, known").unwrap();
        let rows = j.sources(op).unwrap();
        let got: Vec<(&str, &str, &str, &str)> =
            rows.iter().map(|r| (r.address.as_str(), r.state.as_str(), r.detail.as_str(), r.command.as_str())).collect();
        assert_eq!(
            got,
            [("10.9.9.8", "held", "not in the inventory", "run"), ("10.9.9.9", "accepted", "the backup server, known", "release")]
        );
        assert_eq!(rows[1].hosts, hosts);
        assert!(!rows[1].operator.is_empty());
        assert!(j.sources(op + 1).unwrap().is_empty());
    }
}
