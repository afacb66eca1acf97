#!/usr/bin/env bash
# Measurement (not a test): the fleet's judgement on the lab's 500-host
# outbreak (examples/lab/outbreak.yml) after three lab hours of spreading,
# scanned through the real binary. Prints findings by source (rule, hash
# propagation, cluster lift), the host-family pairs the per-host rules miss
# and how many of those the fleet finds (against the lab's ground truth),
# the items the fleet lifted that are not malware (must be 0: the run fails
# otherwise), and the top of `cauterize stack`. A few minutes on 2 cores.
# The program is benches/fleet_outbreak.rs (harness = false).
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true
exec cargo bench --ignore-rust-version --bench fleet_outbreak
