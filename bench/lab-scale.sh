#!/usr/bin/env bash
# Benchmark (not a test): start the 10,000-host lab (examples/lab/scale.yml)
# with `cauterize lab serve` and report
#   - time to start (scenario, every host's Windows state, 10,000 listeners),
#   - the lab's peak memory (VmHWM) after start and at the end,
#   - the lab's CPU while idle (the outbreak stepping in the background),
#   - the lab's CPU per WinRM request: `cauterize exec -- hostname` over
#     HOSTS hosts, the lab's CPU during the run minus its idle rate (the
#     mean of before and after), divided by the HTTP requests its stats
#     counted (approximate: the outbreak's cost grows as it spreads).
# Usage: bench/lab-scale.sh [HOSTS (default 2000)]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts="${1:-2000}"
out=bench/out/lab-scale
mkdir -p "$out"
ulimit -n 65536 2>/dev/null || true

cargo build --release --ignore-rust-version --quiet
bin=target/release/cauterize
hz=$(getconf CLK_TCK)

rm -f "$out/lab.yml" "$out/lab.log"
t0=$(date +%s.%N)
"$bin" lab serve --scenario examples/lab/scale.yml --inventory-out "$out/lab.yml" 2>"$out/lab.log" &
lab=$!
trap 'kill -INT $lab 2>/dev/null; wait $lab 2>/dev/null || true' EXIT
until grep -q "started in" "$out/lab.log" 2>/dev/null; do
    kill -0 $lab 2>/dev/null || { echo "lab did not start"; cat "$out/lab.log"; exit 1; }
    sleep 0.05
done
t1=$(date +%s.%N)
cpu() { awk '{print $14 + $15}' "/proc/$lab/stat"; }
hwm() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$lab/status"; }
start_hwm=$(hwm)

# Idle: the outbreak steps, nobody talks WinRM.
c0=$(cpu); sleep 10; c1=$(cpu)
idle_rate=$(echo "($c1 - $c0) / $hz / 10" | bc -l)

# The names of the first HOSTS listening workstations, as one --limit.
limit=$(awk -v n="$hosts" '/^  WS-/ && c++ < n {sub(":", "", $1); print $1}' "$out/lab.yml" | paste -sd, -)
e0=$(date +%s.%N); c2=$(cpu)
"$bin" exec -i "$out/lab.yml" --limit "$limit" --forks 256 -- hostname >"$out/exec.out" 2>"$out/exec.err" || true
e1=$(date +%s.%N); c3=$(cpu)
end_hwm=$(hwm)
# Idle again: the outbreak has grown, and its steps cost more.
c4=$(cpu); sleep 10; c5=$(cpu)
idle_after=$(echo "($c5 - $c4) / $hz / 10" | bc -l)

kill -INT $lab; wait $lab 2>/dev/null || true
trap - EXIT
requests=$(sed -n 's/^lab: WinRM: [0-9]* connections, \([0-9]*\) requests.*/\1/p' "$out/lab.log")
exec_wall=$(echo "$e1 - $e0" | bc -l)
exec_cpu=$(echo "($c3 - $c2) / $hz" | bc -l)
per_req=$(echo "($exec_cpu - ($idle_rate + $idle_after) / 2 * $exec_wall) / $requests * 1000000" | bc -l)

printf 'hosts in the lab      %s\n' "$(sed -n 's/^lab: \([0-9]*\) hosts.*/\1/p' "$out/lab.log")"
printf 'time to start         %.1f s (lab says: %s)\n' "$(echo "$t1 - $t0" | bc -l)" "$(sed -n 's/^lab: started in \([0-9.]*s\).*/\1/p' "$out/lab.log")"
printf 'peak memory           %s MB after start, %s MB at the end\n' "$start_hwm" "$end_hwm"
printf 'idle CPU              %.2f cores before the run, %.2f after (outbreak steps)\n' "$idle_rate" "$idle_after"
printf 'exec over %s hosts    %.1f s wall, %s\n' "$hosts" "$exec_wall" "$(tail -n 1 "$out/exec.out")"
printf 'lab CPU per request   %.0f us (%s requests, %.2f s lab CPU in the run)\n' "$per_req" "$requests" "$exec_cpu"
grep "^lab: stopped\|^lab: outbreak" "$out/lab.log"
