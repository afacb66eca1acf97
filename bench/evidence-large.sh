#!/usr/bin/env bash
# Evidence of a large file: a 600 MB file (EVIDENCE_BIG_MB to change it)
# is pulled over SMB from a real Samba server into the password-protected
# ZIP, and the test asserts the process's peak memory stays far below the
# file's size (the file streams in chunks, never held whole). Alone, so no
# other test's memory is counted. Needs samba and smbclient (scripts/test
# installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --ignore-rust-version --release --test evidence_smb -- \
  --ignored --exact a_large_file_streams_with_bounded_memory --test-threads 1 --nocapture
