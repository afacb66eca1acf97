#!/usr/bin/env bash
# Benchmark (not a test): one command (`hostname`) on 1,000 lab hosts over
# NTLM with message encryption, by
#   (a) cauterize exec (forks 256),
#   (b) a pywinrm thread pool of 64 workers,
#   (c) ansible-core's `raw` module over WinRM with forks 50,
# all against the same lab, and prints wall time, CPU time and peak memory of
# each, with the ratios. Usage: bench/exec-1000.sh [HOSTS]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts="${1:-1000}"
out=bench/out
mkdir -p "$out"
ulimit -n 65536 2>/dev/null || true

cargo build --release --ignore-rust-version --quiet
bin=target/release/cauterize

# Peers in their own virtual environment: pywinrm and ansible-core.
if [ ! -x "$out/venv/bin/ansible" ]; then
    python3 -m venv "$out/venv"
    "$out/venv/bin/pip" install --quiet --disable-pip-version-check \
        pywinrm==0.5.0 requests-ntlm==1.3.0 ansible-core
fi

# The lab, in its own process so that its CPU is not counted for anyone.
rm -f "$out/lab.yml"
"$bin" lab serve --hosts "$hosts" --base-address 127.90.0.1 --inventory-out "$out/lab.yml" 2>"$out/lab.log" &
lab_pid=$!
trap 'kill -INT $lab_pid 2>/dev/null; wait $lab_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do [ -s "$out/lab.yml" ] && break; sleep 0.1; done
[ -s "$out/lab.yml" ] || { echo "lab did not start"; cat "$out/lab.log"; exit 1; }

# The same hosts for the peers.
"$bin" inventory -i "$out/lab.yml" --json > "$out/hosts.json"
export LAB_USER='LAB\cauterize'
export LAB_PASSWORD="$(sed -n 's/.*password: "\(.*\)".*/\1/p' "$out/lab.yml" | head -1)"
"$out/venv/bin/python" - "$out/hosts.json" > "$out/ansible-hosts.ini" <<'PY'
import json, os, sys
hosts = json.load(open(sys.argv[1]))
print("[lab]")
for h in hosts:
    print(f"{h['name']} ansible_host={h['address']} ansible_port={h['port']}")
print("[lab:vars]")
print("ansible_connection=winrm")
print("ansible_winrm_transport=ntlm")
print("ansible_winrm_scheme=http")
print("ansible_winrm_message_encryption=always")
print("ansible_winrm_server_cert_validation=ignore")
print("ansible_user=" + os.environ["LAB_USER"])
print("ansible_password=" + os.environ["LAB_PASSWORD"])
PY

measure() { "$out/venv/bin/python" bench/measure.py "$@"; }
{
    measure cauterize "$out" '"status":"ok"' -- "$bin" exec -i "$out/lab.yml" --forks 256 --no-progress --json -- hostname
    measure pywinrm-pool-64 "$out" 'ok=(\d+)' -- "$out/venv/bin/python" bench/pywinrm_pool.py "$out/hosts.json" 64 hostname
    ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_STDOUT_CALLBACK=oneline \
        measure ansible-raw-forks-50 "$out" '\| (?:SUCCESS|CHANGED)' -- "$out/venv/bin/ansible" all -i "$out/ansible-hosts.ini" \
        -m raw -a hostname -f 50
} | tee "$out/results.jsonl"

"$out/venv/bin/python" - "$out/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print()
print(f"{'tool':<24}{'hosts ok':>9}{'wall s':>9}{'cpu s':>9}{'peak MB':>9}{'wall vs cauterize':>20}{'cpu vs cauterize':>18}")
base = rows[0]["wall_s"] or 1
cpu = rows[0]["cpu_s"] or 1
for r in rows:
    print(f"{r['label']:<24}{r['hosts_ok']:>9}{r['wall_s']:>9}{r['cpu_s']:>9}{r['peak_mb']:>9}{r['wall_s']/base:>19.1f}x{r['cpu_s']/cpu:>17.1f}x")
PY
