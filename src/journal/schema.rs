//! The journal's schema and its migrations. The schema version is SQLite's
//! `user_version`; migration N brings a journal from version N-1 to N, in
//! one transaction. Migrations are append-only: a released one is never
//! edited, a change is a new migration.

use rusqlite::Connection;

use super::JournalError;

/// Current time in UTC, ISO 8601 with milliseconds, as SQL.
pub(crate) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/// Every migration, in order. Index 0 makes version 1.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// The schema version this build writes.
pub fn current_version() -> u32 {
    MIGRATIONS.len() as u32
}

const V1: &str = "
-- One invocation of cauterize that touched the journal.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT NOT NULL,              -- scan, plan, apply, ...
    argv        TEXT NOT NULL,              -- JSON array, secrets redacted
    operator    TEXT NOT NULL,              -- user@machine that ran it
    version     TEXT NOT NULL,              -- cauterize version
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    ended_at    TEXT,
    exit_code   INTEGER
);

-- Every host the engagement has touched, by inventory name.
CREATE TABLE hosts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    address     TEXT NOT NULL,
    first_run   INTEGER NOT NULL REFERENCES runs(id),
    last_run    INTEGER NOT NULL REFERENCES runs(id)
);

-- One collection attempt on one host (ok or not).
CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    host_id     INTEGER NOT NULL REFERENCES hosts(id),
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    status      TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error_kind  TEXT,
    error       TEXT,
    elapsed_ms  INTEGER NOT NULL
);
CREATE INDEX scans_host ON scans(host_id, id);

-- What a successful collection returned, as JSON (runtime::snapshot).
CREATE TABLE snapshots (
    id           INTEGER PRIMARY KEY,
    scan_id      INTEGER NOT NULL UNIQUE REFERENCES scans(id),
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    collected_at TEXT NOT NULL,            -- on the host's clock
    sha256       TEXT NOT NULL,            -- of body
    body         TEXT NOT NULL
);
CREATE INDEX snapshots_host ON snapshots(host_id, id);

-- What detection said about a snapshot.
CREATE TABLE findings (
    id           INTEGER PRIMARY KEY,
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    rule_id      TEXT NOT NULL,
    family       TEXT NOT NULL,
    confidence   TEXT NOT NULL,
    certain      INTEGER NOT NULL,
    description  TEXT NOT NULL,
    allowlisted  TEXT,
    body         TEXT NOT NULL             -- JSON of the whole finding
);
CREATE INDEX findings_snapshot ON findings(snapshot_id);

-- A plan as written to a file.
CREATE TABLE plans (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    path            TEXT NOT NULL,
    sha256          TEXT NOT NULL,         -- of the file as written
    playbook_sha256 TEXT NOT NULL,
    settings        TEXT NOT NULL          -- JSON: effective playbook and flags
);

-- The hosts of a plan and the snapshot each was planned from.
CREATE TABLE plan_hosts (
    plan_id      INTEGER NOT NULL REFERENCES plans(id),
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
    PRIMARY KEY (plan_id, host_id)
);

-- Every operation of a plan, active or listed inactive, in order.
CREATE TABLE plan_ops (
    id        INTEGER PRIMARY KEY,
    plan_id   INTEGER NOT NULL REFERENCES plans(id),
    host_id   INTEGER NOT NULL REFERENCES hosts(id),
    seq       INTEGER NOT NULL,
    active    INTEGER NOT NULL,
    op        TEXT NOT NULL,               -- JSON of plan::Op
    rules     TEXT NOT NULL,               -- JSON array of rule ids
    why       TEXT NOT NULL,               -- comment: reason, or why inactive
    UNIQUE (plan_id, host_id, seq)
);

-- Each time a (possibly edited) plan file was read and accepted.
CREATE TABLE plan_reviews (
    id        INTEGER PRIMARY KEY,
    plan_id   INTEGER NOT NULL REFERENCES plans(id),
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    sha256    TEXT NOT NULL,               -- of the file as read
    kept      INTEGER NOT NULL,
    removed   INTEGER NOT NULL
);

-- One operation carried out on a host, and how it ended.
CREATE TABLE actions (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    plan_id     INTEGER REFERENCES plans(id),
    plan_op_id  INTEGER REFERENCES plan_ops(id),
    host_id     INTEGER NOT NULL REFERENCES hosts(id),
    op          TEXT NOT NULL,             -- JSON of the operation sent
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    ended_at    TEXT,
    outcome     TEXT CHECK (outcome IN ('done', 'already_absent', 'drift', 'queued', 'failed')),
    detail      TEXT
);
CREATE INDEX actions_host ON actions(host_id, id);

-- Anything else worth an audit line.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER REFERENCES runs(id),
    host_id  INTEGER REFERENCES hosts(id),
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    level    TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    kind     TEXT NOT NULL,
    message  TEXT NOT NULL
);
";

/// The operation (apply, run, contain, release), its hosts' states, the
/// actions keyed so that a resumed run finds them, compact snapshots.
const V2: &str = "
-- The engagement's id (8 lower-case hex digits): names what cauterize
-- leaves on hosts (firewall rules, the dead-man task) so it is found and
-- removed exactly, and the report shows it. Journals made before it named
-- the host artifacts hold 12 digits here (see engine::planning::engagement).
CREATE TABLE engagement (id TEXT NOT NULL);
INSERT INTO engagement (id) VALUES (lower(hex(randomblob(4))));

-- One operation over an engagement's hosts (apply, run, contain,
-- release); resumed runs continue it.
CREATE TABLE operations (
    id              INTEGER PRIMARY KEY,
    command         TEXT NOT NULL,
    plan_id         INTEGER REFERENCES plans(id),
    plan_sha256     TEXT,                  -- the plan file as reviewed
    playbook_sha256 TEXT,
    settings        TEXT NOT NULL,         -- JSON of the engine's settings
    started_run     INTEGER NOT NULL REFERENCES runs(id),
    started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    ended_at        TEXT,
    status          TEXT NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'halted', 'interrupted', 'finished')),
    exit_code       INTEGER,
    next            TEXT                   -- what to run next, when halted
);

-- Which runs worked on which operation (the first, then resumes).
ALTER TABLE runs ADD COLUMN operation_id INTEGER REFERENCES operations(id);

-- Each host of an operation and where it is (engine::state).
CREATE TABLE operation_hosts (
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    role         TEXT NOT NULL,
    state        TEXT NOT NULL,
    reason       TEXT,
    round        INTEGER NOT NULL DEFAULT 0,
    contained    INTEGER NOT NULL DEFAULT 0,
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (operation_id, host_id)
);

-- The plan operations an operation carries out, per host and round (0:
-- the reviewed plan; 1..: re-purges after a verifying scan).
CREATE TABLE operation_ops (
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    plan_op_id   INTEGER NOT NULL REFERENCES plan_ops(id),
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    round        INTEGER NOT NULL,
    PRIMARY KEY (operation_id, plan_op_id)
);

-- Actions: the operation and a key that is the same for every attempt
-- of one action (a retry, a resumed run), the phase, more outcomes.
CREATE TABLE actions_v2 (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    operation_id INTEGER REFERENCES operations(id),
    plan_id      INTEGER REFERENCES plans(id),
    plan_op_id   INTEGER REFERENCES plan_ops(id),
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    phase        TEXT,
    key          TEXT,
    op           TEXT NOT NULL,
    started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    ended_at     TEXT,
    outcome      TEXT CHECK (outcome IN ('done', 'already_absent', 'drift', 'queued', 'failed', 'skipped')),
    detail       TEXT
);
INSERT INTO actions_v2 (id, run_id, plan_id, plan_op_id, host_id, op, started_at, ended_at, outcome, detail)
    SELECT id, run_id, plan_id, plan_op_id, host_id, op, started_at, ended_at, outcome, detail FROM actions;
DROP TABLE actions;
ALTER TABLE actions_v2 RENAME TO actions;
CREATE INDEX actions_host ON actions(host_id, id);
CREATE INDEX actions_key ON actions(operation_id, host_id, key, id);

ALTER TABLE events ADD COLUMN operation_id INTEGER REFERENCES operations(id);

-- What the host said it runs (the OS caption), for roles and reports.
ALTER TABLE hosts ADD COLUMN os TEXT;

-- Snapshots stored compressed: `json` (V1 rows) or `json.deflate`; the
-- sha256 is always of the JSON text.
ALTER TABLE snapshots ADD COLUMN encoding TEXT NOT NULL DEFAULT 'json';
";

/// Sources of lateral movement the inventory does not list, and what
/// became of each in an operation (`journal::sources`).
const V3: &str = "
-- Each change of an unlisted source's standing in an operation: held (it
-- holds the release), resolved (it is now a scanned inventory host with
-- nothing to act on), accepted (by the operator, with a reason). The
-- latest row of an address is its standing; the run says who and when.
CREATE TABLE source_holds (
    id           INTEGER PRIMARY KEY,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    address      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('held', 'resolved', 'accepted')),
    hosts        TEXT NOT NULL,            -- JSON array: the hosts it reached
    detail       TEXT NOT NULL             -- why held, how resolved, the reason given
);
CREATE INDEX source_holds_op ON source_holds(operation_id, address, id);
";

/// The operator's addresses as the hosts saw them.
const V4: &str = "
-- Every address a host's Security log showed cauterize's own WinRM logon
-- from (the operator's address as that host sees it: behind NAT or a jump
-- host, not this side's own). Kept for the whole engagement: after an
-- operation resumes from another address, the logons from the earlier
-- one are still in the hosts' logs and still cauterize's own.
CREATE TABLE operator_addresses (
    address      TEXT PRIMARY KEY,
    first_host   INTEGER NOT NULL REFERENCES hosts(id),
    first_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
";

/// Findings stored compressed.
const V5: &str = "
-- Findings' bodies stored like snapshots: `json` (rows written before) or
-- `json.deflate`.
ALTER TABLE findings ADD COLUMN encoding TEXT NOT NULL DEFAULT 'json';
";

/// Bring the database to the current version. The version is read and
/// every migration applied inside one IMMEDIATE transaction, so two
/// cauterize processes opening a fresh journal at once cannot both
/// migrate it. A journal written by a newer cauterize is refused (it could
/// hold tables this build does not know).
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, JournalError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = current_version();
    if found > known {
        return Err(JournalError::TooNew { found, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as u32)?;
    }
    tx.commit()?;
    Ok(found)
}
