#!/usr/bin/env bash
# Benchmark (not a test): the lab's cost of running what cauterize sends.
# Starts `cauterize lab serve --hosts HOSTS` (plain workstations with their
# baseline software) in its own process, then
#   - `cauterize exec -- hostname` over every host,
#   - `cauterize scan` (the whole host-side runtime: collection, file facts,
#     the drop-folder sweep) over every host,
# and prints each run's wall time and the lab's CPU per host: the lab's CPU
# during the run minus its idle rate (measured before), divided by HOSTS.
# This is the figure that tells what executing PowerShell costs the lab:
# every test and benchmark pays it once per host and command.
# Usage: bench/lab-scan.sh [HOSTS (default 1000)] [FORKS (default 64)]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts="${1:-1000}"
forks="${2:-64}"
out=bench/out/lab-scan
mkdir -p "$out"
ulimit -n 65536 2>/dev/null || true

cargo build --release --ignore-rust-version --quiet
bin=target/release/cauterize
hz=$(getconf CLK_TCK)

rm -rf "$out/lab.yml" "$out/lab.log" "$out/engagement"
"$bin" lab serve --hosts "$hosts" --base-address 127.95.0.1 --inventory-out "$out/lab.yml" 2>"$out/lab.log" &
lab=$!
trap 'kill -INT $lab 2>/dev/null; wait $lab 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do [ -s "$out/lab.yml" ] && break; sleep 0.1; done
[ -s "$out/lab.yml" ] || { echo "lab did not start"; cat "$out/lab.log"; exit 1; }
cpu() { awk '{print $14 + $15}' "/proc/$lab/stat"; }

c0=$(cpu); sleep 5; c1=$(cpu)
idle=$(echo "($c1 - $c0) / $hz / 5" | bc -l)

# One run: wall seconds and lab CPU microseconds per host, idle removed.
run() {
    local label=$1; shift
    local w0 w1 k0 k1 wall lab_cpu per_host
    w0=$(date +%s.%N); k0=$(cpu)
    "$@" >"$out/$label.out" 2>"$out/$label.err" || true
    w1=$(date +%s.%N); k1=$(cpu)
    wall=$(echo "$w1 - $w0" | bc -l)
    lab_cpu=$(echo "($k1 - $k0) / $hz" | bc -l)
    per_host=$(echo "($lab_cpu - $idle * $wall) / $hosts * 1000000" | bc -l)
    printf '%-10s %7.1f s wall  %8.2f s lab CPU  %9.0f us lab CPU per host  (%s)\n' \
        "$label" "$wall" "$lab_cpu" "$per_host" "$(tail -n 1 "$out/$label.out" | cut -c1-80)"
}

printf 'hosts %s, forks %s, idle lab CPU %.3f cores\n' "$hosts" "$forks" "$idle"
run hostname "$bin" exec -i "$out/lab.yml" --forks "$forks" --no-progress -- hostname
run scan "$bin" scan -i "$out/lab.yml" --forks "$forks" --no-progress --engagement "$out/engagement"
