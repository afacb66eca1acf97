#!/usr/bin/env bash
# Measurement (not a test): the fleet's passes over a journal of 10,000
# hosts (a 40-host lab scanned through the binary, its snapshots recorded
# 250 times over): the judgement `scan` runs after its hosts (time, growth
# of the process's peak memory) and `cauterize stack` (time, peak memory).
# Needs /usr/bin/time. Several minutes on 2 cores. The program is
# benches/fleet_10k.rs (harness = false).
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true
exec cargo bench --ignore-rust-version --bench fleet_10k
