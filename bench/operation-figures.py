"""Figures of one operation from its engagement's journal (bench/operation-scale.sh):
the containment skew (first to last host contained, from the journal's
host_state events), each phase's time (phase_started to phase_finished),
host states at the end, and the journal's size on disk in all and per host.
Usage: operation-figures.py ENGAGEMENT_DIR"""
import json
import os
import sqlite3
import sys
from collections import Counter
from datetime import datetime


def secs(at):
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def main():
    db = os.path.join(sys.argv[1], "cauterize.db")
    c = sqlite3.connect(db)
    # Fold the WAL into the database before measuring it.
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    op = c.execute("SELECT max(id) FROM operations").fetchone()[0]
    if op is None:
        print("no operation in the journal")
        return
    contained, started, phases = [], {}, []
    for at, kind, message in c.execute(
            "SELECT at, kind, message FROM events WHERE operation_id = ? AND kind IN "
            "('host_state', 'phase_started', 'phase_finished') ORDER BY id", (op,)):
        event = json.loads(message)
        if kind == "host_state" and event.get("state") == "contained":
            contained.append(secs(at))
        elif kind == "phase_started":
            started[event["phase"]] = secs(at)
        elif kind == "phase_finished" and event["phase"] in started:
            phases.append((event["phase"], secs(at) - started[event["phase"]]))
    hosts = c.execute("SELECT count(*) FROM operation_hosts WHERE operation_id = ?", (op,)).fetchone()[0]
    states = Counter(s for (s,) in c.execute("SELECT state FROM operation_hosts WHERE operation_id = ?", (op,)))
    c.close()
    if contained:
        print(f"containment skew      {max(contained) - min(contained):.2f} s (first to last of {len(contained)} hosts contained)")
    else:
        print("containment skew      - (no host contained)")
    for phase, s in phases:
        print(f"phase {phase:<15} {s:.1f} s")
    print("host states at end    " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    size = os.path.getsize(db)
    print(f"journal               {size / 1048576:.1f} MB, {size / 1024 / max(hosts, 1):.1f} KB per host ({hosts} hosts in the operation)")


if __name__ == "__main__":
    main()
