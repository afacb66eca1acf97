#!/usr/bin/env bash
# Measurement (not a test): the heap one clean lab host costs (1,000
# baseline workstations); prints bytes per host and fails above 50,000.
# Alone, so nothing else's allocations are counted. The program is
# benches/lab_world_memory.rs (harness = false).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --ignore-rust-version --bench lab_world_memory
