#!/usr/bin/env bash
# Benchmark (not a test): the whole operation (`cauterize run --yes`: scan,
# plan, contain, purge, reboot waves, verify, release) on the 10,000-host
# lab (examples/lab/scale.yml, spreading, lab time 60 times wall time), for
# each size given: the first N hosts of the inventory (domain controllers,
# file and print servers first, then workstations in order). For each:
#   - wall time, CPU time and cauterize's peak memory (largest resident set,
#     bench/measure.py) of `run`, then of `release --all` by hand (hosts
#     left for a person or unreached hold the release by policy),
#   - the containment skew (first to last host contained, from the
#     journal's timestamps) and each phase's time (bench/operation-figures.py),
#   - the journal's size on disk, per host.
# The lab runs in its own process (`cauterize lab serve`), started afresh
# for each size, so its memory is not counted. Heavy: a 10,000-host
# operation takes a long time on 2 cores; run it once.
# Usage: [CAUTERIZE_BIN=path] bench/operation-scale.sh [SIZES (default "5000 10000")] [FORKS (default 256)]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="${1:-5000 10000}"
forks="${2:-256}"
scenario=examples/lab/scale.yml
out=bench/out/operation-scale
mkdir -p "$out"
ulimit -n 65536 2>/dev/null || true

# CAUTERIZE_BIN: a binary already built (a `cargo test --release` build
# has other dependency features than `cargo build`, so building again can
# take minutes); otherwise it is built here.
if [ -n "${CAUTERIZE_BIN:-}" ]; then
    bin="$CAUTERIZE_BIN"
else
    cargo build --release --ignore-rust-version --quiet
    bin=target/release/cauterize
fi

# The built-in rules with reboots that fit the lab: waves of 1, 5, 10%
# and the rest, no pause, 200 down at once, a 5-second countdown, no
# settle. The dead-man is a week: the lab's clock runs 60 times faster
# than the tool's, and a 4-hour deadline would lift containment within 4
# minutes of wall time.
cat >"$out/playbook.yml" <<'YAML'
playbook: 1
contain:
  dead_man: 168h
reboot:
  waves: [1, 5, "10%", "100%"]
  pause: 0s
  max_down: 200
  countdown: 5s
  return_timeout: 10m
  failure_budget: "10%"
verify:
  settle: 0s
YAML

lab=""
stop_lab() { if [ -n "$lab" ]; then kill -INT "$lab" 2>/dev/null || true; wait "$lab" 2>/dev/null || true; lab=""; fi; }
trap stop_lab EXIT

for n in $sizes; do
    dir="$out/$n"
    rm -rf "$dir"
    mkdir -p "$dir"
    "$bin" lab serve --scenario "$scenario" --inventory-out "$dir/lab-all.yml" 2>"$dir/lab.log" &
    lab=$!
    until grep -q "started in" "$dir/lab.log" 2>/dev/null; do
        kill -0 "$lab" 2>/dev/null || { echo "lab did not start"; cat "$dir/lab.log"; exit 1; }
        sleep 0.2
    done
    # The first N hosts of the inventory.
    python3 - "$dir/lab-all.yml" "$dir/lab.yml" "$n" <<'PY'
import sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
out, kept, in_hosts = [], 0, False
for line in open(src):
    if line.rstrip() == "hosts:":
        in_hosts = True
    elif in_hosts and line.startswith("  "):
        kept += 1
        if kept > n:
            continue
    out.append(line)
open(dst, "w").write("".join(out))
PY
    hosts=$(grep -c '^  [^ ].*address:' "$dir/lab.yml" || true)
    echo "== $n hosts asked, $hosts in the inventory"
    python3 bench/measure.py run "$dir" '"state"' -- \
        "$bin" run -i "$dir/lab.yml" --engagement "$dir/engagement" -p "$out/playbook.yml" --yes --forks "$forks" --no-progress
    python3 bench/measure.py release "$dir" '"state"' -- \
        "$bin" release -i "$dir/lab.yml" --engagement "$dir/engagement" --all --forks "$forks" --no-progress
    python3 bench/operation-figures.py "$dir/engagement"
    stop_lab
done
