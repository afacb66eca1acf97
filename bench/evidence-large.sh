#!/usr/bin/env bash
# Measurement (not a test): a 600 MB file (EVIDENCE_BIG_MB to change it)
# is pulled over SMB from a real Samba server into the password-protected
# ZIP; prints time and peak-memory growth and fails when the file does not
# arrive intact or memory grows by 128 MB or more (the file streams in
# chunks, never held whole). Alone, so nothing else's memory is counted.
# Needs samba and smbclient (scripts/test installs them). The program is
# benches/evidence_large.rs (harness = false).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --ignore-rust-version --bench evidence_large
