"""Run one command and print its wall time, CPU time (user + system, itself
and its children), peak memory (largest resident set of any one process of
the tree: for ansible, one of its forks) and how many hosts succeeded, as one
JSON line. Its stdout is kept in OUTDIR/LABEL.out.
Usage: measure.py LABEL OUTDIR OK_REGEX -- COMMAND..."""
import json
import os
import re
import resource
import subprocess
import sys
import time


def main():
    label, outdir, ok_regex = sys.argv[1], sys.argv[2], sys.argv[3]
    command = sys.argv[sys.argv.index("--") + 1:]
    started = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = done.stdout.decode("utf-8", "replace")
    with open(os.path.join(outdir, label + ".out"), "w") as f:
        f.write(text)
    ok = re.findall(ok_regex, text)
    # pywinrm prints a count ("ok=N"); the others print one line per host.
    hosts_ok = int(ok[-1]) if ok and ok[-1].isdigit() else len(ok)
    print(json.dumps({
        "label": label,
        "exit": done.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "hosts_ok": hosts_ok,
    }))
    if done.returncode not in (0, 2):
        sys.stderr.write(done.stderr.decode("utf-8", "replace")[-2000:])


if __name__ == "__main__":
    main()
