#!/usr/bin/env bash
# Measurement (not a test): the acceptance run of the whole operation on
# the full outbreak, examples/lab/outbreak.yml (500 hosts, spreading on,
# lab time 60 times wall time): `cauterize run --yes` through the real
# binary, `release --accept-unreached` for the hosts it could not reach,
# then two lab hours more; judged by the lab's ground truth with the same
# assertions (tests/common/outbreak_run.rs; the program
# is benches/operation_outbreak.rs, harness = false, which `cargo test`
# does not build). Prints the outcome figures: hosts infected at
# start, reached and clean at the end, re-infected after cleaning and
# after the release, benign files removed, unreached hosts, reboots, most
# hosts down at once, containment skew, each phase's time, wall time.
# Several minutes on 2 cores. Output kept in bench/out/operation-outbreak.log.
# Usage: bench/operation-outbreak.sh [60]   (60: CI's 60-host outbreak,
# tests/data/outbreak-60.yml, instead of the 500 hosts)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true
mkdir -p bench/out
started=$(date +%s)
set +e
cargo bench --ignore-rust-version --bench operation_outbreak -- "$@" >bench/out/operation-outbreak.log 2>&1
code=$?
set -e
sed -n '/^== outcome/,/^wall:/p' bench/out/operation-outbreak.log
grep -E '^accepted|panicked|^thread' bench/out/operation-outbreak.log | head -20 || true
echo "whole command (build, lab, operation, two lab hours after release): $(( $(date +%s) - started )) s; exit $code"
exit $code
