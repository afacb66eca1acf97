"""Benchmark peer: run one command on every host of a cauterize inventory
with pywinrm in a thread pool (NTLM with message encryption), the way an
admin would script it in Python. Prints one line: ok=N failed=M.

Usage: pywinrm_pool.py INVENTORY.json WORKERS COMMAND
INVENTORY.json is `cauterize inventory -i lab.yml --json`; the password
comes from the environment variable LAB_PASSWORD.
"""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import winrm


def run(host, user, password, command):
    session = winrm.Session(
        f"http://{host['address']}:{host['port']}/wsman",
        auth=(user, password),
        transport="ntlm",
        message_encryption="always",
        operation_timeout_sec=20,
        read_timeout_sec=30,
    )
    result = session.run_cmd(command)
    return result.status_code == 0 and result.std_out.strip().decode() != ""


def main():
    hosts = json.load(open(sys.argv[1]))
    workers = int(sys.argv[2])
    command = sys.argv[3]
    user = os.environ["LAB_USER"]
    password = os.environ["LAB_PASSWORD"]
    ok = failed = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, h, user, password, command) for h in hosts]
        for f in futures:
            try:
                if f.result():
                    ok += 1
                else:
                    failed += 1
            except Exception:  # a failed host is counted, not fatal
                failed += 1
    print(f"ok={ok} failed={failed}")


if __name__ == "__main__":
    main()
