#!/usr/bin/env bash
# Benchmark (not a test): `cauterize scan` of the 10,000-host lab
# (examples/lab/scale.yml, or the scenario given) and what it costs the
# operator's machine:
#   - scan wall time and CPU time,
#   - cauterize's peak memory (VmHWM of the scan process),
#   - the journal's size on disk, in all and per host scanned.
# The lab runs in its own process (`cauterize lab serve`), so its memory is
# not counted. Heavy: run it once, not in a loop.
# Usage: bench/scan-scale.sh [SCENARIO] [FORKS (default 256)]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:-examples/lab/scale.yml}"
forks="${2:-256}"
out=bench/out/scan-scale
mkdir -p "$out"
ulimit -n 65536 2>/dev/null || true

cargo build --release --ignore-rust-version --quiet
bin=target/release/cauterize

rm -rf "$out/lab.yml" "$out/lab.log" "$out/engagement"
"$bin" lab serve --scenario "$scenario" --inventory-out "$out/lab.yml" 2>"$out/lab.log" &
lab=$!
trap 'kill -INT $lab 2>/dev/null; wait $lab 2>/dev/null || true' EXIT
until grep -q "started in" "$out/lab.log" 2>/dev/null; do
    kill -0 $lab 2>/dev/null || { echo "lab did not start"; cat "$out/lab.log"; exit 1; }
    sleep 0.1
done

python3 bench/measure.py scan "$out" '"status":"ok"' -- \
    "$bin" scan -i "$out/lab.yml" --engagement "$out/engagement" --forks "$forks" --json \
    | tee "$out/scan.json"
db="$out/engagement/cauterize.db"
# Fold the WAL into the database before measuring it.
python3 - "$db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.close()
EOF
bytes=$(stat -c %s "$db")
scanned=$(grep -c '"status":"ok"' "$out/scan.out" || true)
printf 'journal               %.1f MB, %.1f KB per scanned host (%s hosts)\n' \
    "$(echo "$bytes / 1048576" | bc -l)" "$(echo "$bytes / 1024 / ($scanned + ($scanned == 0))" | bc -l)" "$scanned"
